package c98;

public class Base<T> {
    public void accept(T t) {
    }
}
