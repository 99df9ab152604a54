package hello;

import java.util.concurrent.locks.LockSupport;

/**
 * A daemon thread ("hello-hot") that calls {@link Hot#value()} in batches of 200,000 calls and
 * publishes the last result to a volatile field ({@code GET /hot}). C2 compiles {@link #batch()}
 * (and OSR-compiles the first call) within the first second, inlining {@code Hot.value()}.
 * Between batches it parks for 1 ms, so once compiled it uses a few percent of one core rather
 * than all of it (this runs on small CI machines next to the tests). With {@code -Dhello.busy=true}
 * it never parks: one core stays busy with compiled code, like a loaded service (the benchmark's
 * busy target).
 */
final class HotLoop {
    private static final int BATCH = 200_000;
    private static final boolean BUSY = Boolean.getBoolean("hello.busy");

    private static volatile int latest;
    /** Keeps the loop's work observable so C2 cannot drop it. */
    private static volatile long sink;

    private HotLoop() {}

    static int latest() {
        return latest;
    }

    static void start() {
        latest = Hot.value();
        Thread t = new Thread(HotLoop::run, "hello-hot");
        t.setDaemon(true);
        t.start();
    }

    private static void run() {
        for (;;) {
            latest = batch();
            if (!BUSY) LockSupport.parkNanos(1_000_000L);
        }
    }

    private static int batch() {
        int last = 0;
        long sum = 0;
        for (int i = 0; i < BATCH; i++) {
            last = Hot.value();
            sum += last;
        }
        sink += sum;
        return last;
    }
}
