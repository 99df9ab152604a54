package c40;

class A {
    public int f() {
        return 1;
    }
}
