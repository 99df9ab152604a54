package c11;

public class A {
    public int parse(String s) {
        return Integer.parseInt(s);
    }
}
