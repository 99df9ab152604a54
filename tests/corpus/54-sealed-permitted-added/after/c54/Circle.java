package c54;

public final class Circle implements Shape {
}
