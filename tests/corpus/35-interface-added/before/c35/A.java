package c35;

public class A implements Runnable {
    public void run() {
    }
}
