package c23;

class Extra {
    static String prefix() {
        return ">";
    }
}
