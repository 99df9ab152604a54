package c82;

public class A {
    public int count(String[] items) {
        return items.length;
    }
}
