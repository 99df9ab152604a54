package c06;

public class A {
    public long limit() {
        return 41 + 1000000000000L;
    }

    public String name() {
        return "v1";
    }
}
