package c98;

public class Impl extends Base<String> {
    @Override
    public void accept(String s) {
    }
}
