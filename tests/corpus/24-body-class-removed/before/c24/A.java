package c24;

public class A {
    public String name() {
        return "a";
    }
}
