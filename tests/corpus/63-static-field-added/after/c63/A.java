package c63;

public class A {
    static int created;
    int a;
}
