package c65;

public enum E {
    RED, GREEN
}
