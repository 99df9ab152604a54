package c48;

import java.util.Comparator;

public class Outer {
    Object first() {
        return new Comparator<String>() {
            @Override
            public int compare(String a, String b) {
                return a.length() - b.length();
            }
        };
    }

    Runnable second() {
        return new Runnable() {
            @Override
            public void run() {
            }
        };
    }
}
