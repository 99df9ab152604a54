package c13;

public class A {
    public int code(String s) {
        return s.equals("red") ? 1 : 2;
    }
}
