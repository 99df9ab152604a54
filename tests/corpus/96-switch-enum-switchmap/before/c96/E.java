package c96;

public enum E {
    RED, GREEN
}
