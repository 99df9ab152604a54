package c57;

public class A {
    int a;
}
