package c98;

public class Impl extends Base<String> {
}
