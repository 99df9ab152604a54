package c54;

public final class Square implements Shape {
}
