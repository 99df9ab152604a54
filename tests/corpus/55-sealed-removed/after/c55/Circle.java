package c55;

public final class Circle implements Shape {
}
