package c55;

public interface Shape {
}
