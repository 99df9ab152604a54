package c08;

public class A {
    int count = 2;
    String label;

    {
        label = "two".toUpperCase();
        count += label.length();
    }
}
