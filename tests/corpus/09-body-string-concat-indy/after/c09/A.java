package c09;

public class A {
    public String label(int n) {
        return "item-" + n + "/" + (n * 2);
    }
}
