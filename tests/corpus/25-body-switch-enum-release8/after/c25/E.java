package c25;

public enum E {
    RED, GREEN
}
