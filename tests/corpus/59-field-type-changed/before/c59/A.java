package c59;

public class A {
    int count;
}
