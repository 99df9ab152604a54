package c32;

public sealed interface Shape permits Square, Circle {
}
