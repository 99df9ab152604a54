package c37;

import java.io.Serializable;

public class A implements Serializable, Runnable {
    public void run() {
    }
}
