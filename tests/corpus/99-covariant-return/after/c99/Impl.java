package c99;

public class Impl extends Base {
    @Override
    public String value() {
        return "x";
    }
}
