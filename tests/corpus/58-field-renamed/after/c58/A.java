package c58;

public class A {
    int total;
}
