package c59;

public class A {
    long count;
}
