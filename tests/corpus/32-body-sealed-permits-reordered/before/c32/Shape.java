package c32;

public sealed interface Shape permits Circle, Square {
}
