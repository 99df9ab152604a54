package c66;

public enum E {
    RED, GREEN
}
