package c62;

public class A {
    int b;
    int a;
}
