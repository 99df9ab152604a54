package jhot.sample.vertx;

import java.util.concurrent.atomic.AtomicInteger;

/** The {@code /slow} requests waiting on their timer, which the graceful stop waits for. */
final class InFlight {
    private final AtomicInteger n = new AtomicInteger();

    void begin() {
        n.incrementAndGet();
    }

    void end() {
        n.decrementAndGet();
    }

    /** Waits until none is in flight or until {@code deadlineNanos} ({@link System#nanoTime}). */
    void awaitIdle(long deadlineNanos) {
        while (n.get() > 0 && System.nanoTime() - deadlineNanos < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
