package jhot.sample.grpc;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Implements {@link Hello} (v2). {@code Slow} completes its call from a scheduler after the delay:
 * no thread sleeps, so any number of slow calls can be in flight.
 *
 * STRUCTURAL CHANGE from v1 (not redefinable by Instrumentation.redefineClasses): adds the field
 * {@code served} and the method {@code served()}, and answers "hello from v2". Everything else is
 * identical to v1.
 */
final class HelloService implements BindableService {
    private static final String VERSION = "v2";
    private final long pid = ProcessHandle.current().pid();
    /** Calls answered so far (new in v2). */
    private final AtomicLong served = new AtomicLong();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "slow-timer");
        t.setDaemon(true);
        return t;
    });

    static String version() {
        return VERSION;
    }

    /** New in v2. */
    long served() {
        return served.get();
    }

    private String answer() {
        served.incrementAndGet();
        return "hello from " + VERSION + " pid=" + pid;
    }

    void say(String request, StreamObserver<String> out) {
        out.onNext(answer());
        out.onCompleted();
    }

    void slow(String request, StreamObserver<String> out) {
        long ms;
        try {
            ms = Long.parseLong(request.trim());
        } catch (NumberFormatException e) {
            ms = -1;
        }
        if (ms < 0 || ms > Hello.MAX_SLOW_MS) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("ms must be 0.." + Hello.MAX_SLOW_MS).asRuntimeException());
            return;
        }
        timer.schedule(() -> say(request, out), ms, TimeUnit.MILLISECONDS);
    }

    void close() {
        timer.shutdownNow();
    }

    @Override
    public ServerServiceDefinition bindService() {
        return ServerServiceDefinition.builder(Hello.SERVICE)
                .addMethod(Hello.SAY, ServerCalls.asyncUnaryCall(this::say))
                .addMethod(Hello.SLOW, ServerCalls.asyncUnaryCall(this::slow))
                .build();
    }
}
