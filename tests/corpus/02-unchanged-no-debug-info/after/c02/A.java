package c02;

public class A {
    private int count;

    public String greet(String who) {
        count++;
        return "hello " + who;
    }

    public int count() {
        return count;
    }
}
