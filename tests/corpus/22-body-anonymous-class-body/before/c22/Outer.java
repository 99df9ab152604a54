package c22;

public class Outer {
    Runnable task() {
        return new Runnable() {
            @Override
            public void run() {
                System.out.print("");
            }
        };
    }
}
