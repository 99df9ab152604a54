package c62;

public class A {
    int a;
    int b;
}
