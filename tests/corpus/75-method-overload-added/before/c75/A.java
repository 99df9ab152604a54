package c75;

public class A {
    public int size(String s) {
        return s.length();
    }
}
