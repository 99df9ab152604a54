package c14;

/** A class. */
public class A {


    // Adds.
    public int sum(int a, int b) {

        return a
            + b;
    }
}
