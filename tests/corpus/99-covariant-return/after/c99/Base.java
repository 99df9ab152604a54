package c99;

public class Base {
    public Object value() {
        return null;
    }
}
