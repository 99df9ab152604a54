package hello;

/**
 * A tiny static method that {@link HotLoop} calls millions of times, so C2 compiles the loop
 * with {@code value()} inlined. {@code patches/hot} makes it return 2: the compiled code that
 * inlined it must be thrown away for {@code GET /hot} to change.
 */
public final class Hot {
    private Hot() {}

    public static int value() {
        return 1;
    }
}
