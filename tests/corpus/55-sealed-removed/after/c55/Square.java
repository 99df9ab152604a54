package c55;

public final class Square implements Shape {
}
