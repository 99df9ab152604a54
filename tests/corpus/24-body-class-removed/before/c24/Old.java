package c24;

class Old {
    static int x() {
        return 1;
    }
}
