package jhot.sample.netty;

import io.netty.channel.ChannelFuture;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * The worker pool {@code /slow} sleeps on, and the count of its requests in flight (from the
 * request until its answer is written), which the graceful stop waits for.
 */
final class Slow {
    private final ExecutorService pool;
    private final AtomicInteger inFlight = new AtomicInteger();

    Slow(int threads) {
        AtomicInteger n = new AtomicInteger();
        pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "slow-worker-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** Sleeps {@code ms} on a worker, then writes the answer {@code write} makes. */
    void run(long ms, Supplier<ChannelFuture> write) {
        inFlight.incrementAndGet();
        Runnable task = () -> {
            ChannelFuture written = null;
            try {
                Thread.sleep(ms);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                written = write.get();
            } finally {
                if (written == null) inFlight.decrementAndGet();
                else written.addListener(f -> inFlight.decrementAndGet());
            }
        };
        try {
            pool.execute(task);
        } catch (RejectedExecutionException e) {
            inFlight.decrementAndGet();
            write.get();
        }
    }

    /** Waits until no request is in flight or until {@code deadlineNanos} ({@link System#nanoTime}). */
    void awaitIdle(long deadlineNanos) {
        while (inFlight.get() > 0 && System.nanoTime() - deadlineNanos < 0) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    void shutdownNow() {
        pool.shutdownNow();
    }
}
