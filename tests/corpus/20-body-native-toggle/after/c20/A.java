package c20;

public class A {
    public native int helper();
}
