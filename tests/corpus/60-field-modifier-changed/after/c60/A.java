package c60;

public class A {
    volatile int count;
}
