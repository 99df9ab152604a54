package jhot.sample.grpc;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;

import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Implements {@link Hello} (v1). {@code Slow} completes its call from a scheduler after the delay:
 * no thread sleeps, so any number of slow calls can be in flight.
 */
final class HelloService implements BindableService {
    private static final String VERSION = "v1";
    private final long pid = ProcessHandle.current().pid();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "slow-timer");
        t.setDaemon(true);
        return t;
    });

    static String version() {
        return VERSION;
    }

    private String answer() {
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
