package c99;

public class Impl extends Base {
    @Override
    public Object value() {
        return "x";
    }
}
