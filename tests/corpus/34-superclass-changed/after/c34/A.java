package c34;

public class A extends Base {
    public int f() {
        return 1;
    }
}
