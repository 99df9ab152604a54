package c06;

public class A {
    public long limit() {
        return 42 + 2000000000000L;
    }

    public String name() {
        return "v2";
    }
}
