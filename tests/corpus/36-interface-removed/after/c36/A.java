package c36;

public class A implements Runnable {
    public void run() {
    }
}
