package c66;

public enum E {
    GREEN, RED
}
