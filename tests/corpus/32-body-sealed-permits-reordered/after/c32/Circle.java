package c32;

public final class Circle implements Shape {
}
