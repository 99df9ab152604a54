package c56;

public class A {
    int a;
    int b;
}
