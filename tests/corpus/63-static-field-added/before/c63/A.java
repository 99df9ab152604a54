package c63;

public class A {
    int a;
}
