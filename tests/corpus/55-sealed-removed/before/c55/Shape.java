package c55;

public sealed interface Shape permits Circle, Square {
}
