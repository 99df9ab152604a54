package c18;

public class A {
    public int one() {
        return 1;
    }
}
