package c08;

public class A {
    int count = 1;
    String label;

    {
        label = "one";
    }
}
