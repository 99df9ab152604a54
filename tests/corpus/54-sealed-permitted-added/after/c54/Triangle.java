package c54;

public final class Triangle implements Shape {
}
