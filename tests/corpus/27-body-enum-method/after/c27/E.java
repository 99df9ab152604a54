package c27;

public enum E {
    ONE, TWO;

    public String label() {
        return "#" + ordinal() + " " + name();
    }
}
