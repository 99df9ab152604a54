package c97;

public enum E {
    RED, GREEN
}
