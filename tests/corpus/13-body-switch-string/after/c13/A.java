package c13;

public class A {
    public int code(String s) {
        switch (s) {
            case "red":
                return 1;
            case "green":
                return 3;
            default:
                return 2;
        }
    }
}
