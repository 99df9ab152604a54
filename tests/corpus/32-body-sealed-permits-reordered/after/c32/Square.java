package c32;

public final class Square implements Shape {
}
