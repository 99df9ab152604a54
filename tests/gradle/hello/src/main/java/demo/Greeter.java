package demo;

public class Greeter {
    public static String greet() {
        return "hello v1";
    }
}
