package c54;

public sealed interface Shape permits Circle, Square, Triangle {
}
