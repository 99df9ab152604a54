package c60;

public class A {
    int count;
}
