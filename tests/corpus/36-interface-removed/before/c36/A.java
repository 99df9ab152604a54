package c36;

import java.io.Serializable;

public class A implements Runnable, Serializable {
    public void run() {
    }
}
