package c23;

public class A {
    public String name() {
        return Extra.prefix() + "a";
    }
}
