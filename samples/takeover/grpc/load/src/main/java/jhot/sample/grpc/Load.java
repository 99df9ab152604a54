package jhot.sample.grpc;

import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC load client of jhot's takeover tests and benchmark: {@code --channels} channels, each
 * with {@code --concurrency} unary calls of {@code jhot.Hello/Say} (or {@code Slow}) always in
 * flight, each call with a deadline. At the end, one JSON line on stdout (and in
 * {@code --json-out}): every call counted as ok or failed by its status code, ok answers per
 * server generation and pid, latencies, and a timeline in buckets.
 *
 * <pre>
 * java -jar grpc-load.jar --target=127.0.0.1:P [--channels=4] [--concurrency=8]
 *      [--duration-ms=10000] [--method=say|slow] [--slow-ms=300] [--deadline-ms=5000]
 *      [--stop-file=F] [--json-out=F] [--window-file=F] [--bucket-ms=100] [--fail-pause-ms=10]
 * </pre>
 *
 * The channels are plain grpc-java channels with their defaults, as a real client has them: a
 * GOAWAY makes the channel open a new connection for new calls, calls the server never processed
 * are retried transparently (grpc-java's built-in transparent retry), and calls are fail-fast (a
 * refused connection fails them with UNAVAILABLE). No service config and no retry policy: a retry
 * policy would hide exactly the failures this client exists to count. After a failed call a slot
 * waits {@code --fail-pause-ms} before its next one, so that an outage counts at most
 * 1000/pause failures a second per slot instead of the client's spin rate.
 *
 * Bounded: the load runs for {@code --duration-ms} (at most 600000), or until {@code --stop-file}
 * exists; calls still in flight then get their deadline plus 2 s, after which they are counted as
 * failed with the code {@code ABANDONED} and the process exits anyway. Prints
 * {@code GRPC-LOAD started} on stderr once every call slot has had an answer (or after 5 s).
 */
public final class Load {
    static final long MAX_DURATION_MS = 600_000;

    private Load() {}

    // ---- the service's two methods (the same descriptors as the server's common/.../Hello.java) ----

    static final class Utf8 implements MethodDescriptor.Marshaller<String> {
        @Override
        public InputStream stream(String value) {
            return new ByteArrayInputStream(value.getBytes(StandardCharsets.UTF_8));
        }

        @Override
        public String parse(InputStream stream) {
            try {
                return new String(stream.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static MethodDescriptor<String, String> method(String name) {
        Utf8 m = new Utf8();
        return MethodDescriptor.<String, String>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName("jhot.Hello", name))
                .setRequestMarshaller(m)
                .setResponseMarshaller(m)
                .build();
    }

    // ---- options ----

    static String target;
    static int channels = 4;
    static int concurrency = 8;
    static long durationMs = 10_000;
    static String methodName = "say";
    static long slowMs = 300;
    static long deadlineMs = 5_000;
    static Path stopFile;
    static Path jsonOut;
    static Path windowFile;
    static long bucketMs = 100;
    static long failPauseMs = 10;

    static final ScheduledExecutorService PAUSE = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "fail-pause");
        t.setDaemon(true);
        return t;
    });

    // ---- one call slot: one call in flight at a time, the next started when it ends ----

    static final class Slot {
        final ManagedChannel channel;
        final MethodDescriptor<String, String> method;
        final String request;
        final CountDownLatch firstAnswer;
        volatile boolean running = true;
        /** One record per finished call: start ms since t0 (31 bits) | failed (1 bit) | latency µs (32 bits). */
        long[] recs = new long[1024];
        int n;
        long ok;
        final Map<String, Long> failedByCode = new TreeMap<>();
        final Map<String, Long> gens = new TreeMap<>();
        final Map<String, Long> pids = new TreeMap<>();
        final List<String> errors = new ArrayList<>();
        boolean inFlight;
        boolean answered;
        final CountDownLatch done = new CountDownLatch(1);

        Slot(ManagedChannel channel, MethodDescriptor<String, String> method, String request, CountDownLatch firstAnswer) {
            this.channel = channel;
            this.method = method;
            this.request = request;
            this.firstAnswer = firstAnswer;
        }

        void next() {
            if (!running) {
                synchronized (this) {
                    inFlight = false;
                }
                done.countDown();
                return;
            }
            final long start = System.nanoTime();
            synchronized (this) {
                inFlight = true;
            }
            CallOptions opts = CallOptions.DEFAULT.withDeadlineAfter(deadlineMs, TimeUnit.MILLISECONDS);
            try {
                ClientCalls.asyncUnaryCall(channel.newCall(method, opts), request, new StreamObserver<String>() {
                    String answer;

                    @Override
                    public void onNext(String value) {
                        answer = value;
                    }

                    @Override
                    public void onError(Throwable t) {
                        Status s = Status.fromThrowable(t);
                        record(start, s.getCode().name(), null, describe(s));
                        // A client does not spin on a server that is down: without this pause a
                        // refused connection fails thousands of calls a second per slot, and the
                        // count would measure the spin rate rather than the outage.
                        if (failPauseMs > 0 && running) {
                            PAUSE.schedule(Slot.this::next, failPauseMs, TimeUnit.MILLISECONDS);
                        } else {
                            next();
                        }
                    }

                    @Override
                    public void onCompleted() {
                        record(start, null, answer, null);
                        next();
                    }
                });
            } catch (RuntimeException e) {
                record(start, "CLIENT_EXCEPTION", null, e.toString());
                done.countDown();
            }
        }

        synchronized void record(long startNanos, String code, String answer, String error) {
            long latUs = Math.min(0xffff_ffffL, Math.max(0, (System.nanoTime() - startNanos) / 1000));
            long startMs = Math.max(0, (startNanos - T0_NANOS) / 1_000_000);
            boolean failed = code != null;
            if (n == recs.length) recs = Arrays.copyOf(recs, n * 2);
            recs[n++] = (startMs << 33) | ((failed ? 1L : 0L) << 32) | latUs;
            if (failed) {
                failedByCode.merge(code, 1L, Long::sum);
                if (errors.size() < 5 && errors.stream().noneMatch(e -> e.endsWith(" " + error))) {
                    errors.add("t=" + startMs + "ms " + error);
                }
            } else {
                ok++;
                // "hello from v1 pid=123"
                String gen = "-", pid = "-";
                if (answer != null) {
                    for (String w : answer.trim().split(" ")) {
                        if (w.startsWith("pid=")) pid = w.substring(4);
                        else if (w.startsWith("v")) gen = w;
                    }
                }
                gens.merge(gen, 1L, Long::sum);
                pids.merge(pid, 1L, Long::sum);
                if (!answered) {
                    answered = true;
                    firstAnswer.countDown();
                }
            }
        }
    }

    static final long T0_NANOS = System.nanoTime();

    /** The status on one line: code, description, and the innermost cause's class and message. */
    static String describe(Status s) {
        StringBuilder b = new StringBuilder(s.getCode().name());
        if (s.getDescription() != null) b.append(": ").append(s.getDescription());
        Throwable c = s.getCause();
        while (c != null && c.getCause() != null && c.getCause() != c) c = c.getCause();
        if (c != null) b.append(" (").append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append(')');
        return b.toString();
    }

    public static void main(String[] args) throws Exception {
        for (String a : args) {
            int eq = a.indexOf('=');
            String k = eq < 0 ? a : a.substring(0, eq);
            String v = eq < 0 ? null : a.substring(eq + 1);
            switch (k) {
                case "--target": target = need(k, v); break;
                case "--channels": channels = Integer.parseInt(need(k, v)); break;
                case "--concurrency": concurrency = Integer.parseInt(need(k, v)); break;
                case "--duration-ms": durationMs = Long.parseLong(need(k, v)); break;
                case "--method": methodName = need(k, v); break;
                case "--slow-ms": slowMs = Long.parseLong(need(k, v)); break;
                case "--deadline-ms": deadlineMs = Long.parseLong(need(k, v)); break;
                case "--stop-file": stopFile = Path.of(need(k, v)); break;
                case "--json-out": jsonOut = Path.of(need(k, v)); break;
                case "--window-file": windowFile = Path.of(need(k, v)); break;
                case "--bucket-ms": bucketMs = Long.parseLong(need(k, v)); break;
                case "--fail-pause-ms": failPauseMs = Long.parseLong(need(k, v)); break;
                default: usage("unknown argument: " + a);
            }
        }
        if (target == null) usage("--target=HOST:PORT is required");
        if (channels < 1 || channels > 256) usage("--channels must be 1..256");
        if (concurrency < 1 || concurrency > 1024) usage("--concurrency must be 1..1024");
        if (durationMs < 1 || durationMs > MAX_DURATION_MS) usage("--duration-ms must be 1.." + MAX_DURATION_MS);
        if (!methodName.equals("say") && !methodName.equals("slow")) usage("--method must be say or slow");
        if (deadlineMs < 1 || bucketMs < 1 || slowMs < 0 || failPauseMs < 0) {
            usage("--deadline-ms and --bucket-ms must be positive, --slow-ms and --fail-pause-ms not negative");
        }

        MethodDescriptor<String, String> method = method(methodName.equals("say") ? "Say" : "Slow");
        String request = methodName.equals("say") ? "load" : Long.toString(slowMs);
        long startUnix = System.currentTimeMillis() - (System.nanoTime() - T0_NANOS) / 1_000_000;

        List<ManagedChannel> chans = new ArrayList<>();
        List<Slot> slots = new ArrayList<>();
        CountDownLatch firstAnswers = new CountDownLatch(channels * concurrency);
        for (int c = 0; c < channels; c++) {
            ManagedChannel ch = NettyChannelBuilder.forTarget(target).usePlaintext().build();
            chans.add(ch);
            for (int i = 0; i < concurrency; i++) slots.add(new Slot(ch, method, request, firstAnswers));
        }
        for (Slot s : slots) s.next();
        Thread started = new Thread(() -> {
            try {
                firstAnswers.await(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                return;
            }
            System.err.println("GRPC-LOAD started");
            System.err.flush();
        }, "started");
        started.setDaemon(true);
        started.start();

        long endNanos = T0_NANOS + TimeUnit.MILLISECONDS.toNanos(durationMs);
        while (System.nanoTime() < endNanos) {
            if (stopFile != null && Files.exists(stopFile)) break;
            Thread.sleep(20);
        }
        long stopNanos = System.nanoTime();
        for (Slot s : slots) s.running = false;
        // Calls in flight end by their deadline; give them that and 2 s more.
        long waitUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(deadlineMs + 2_000);
        for (Slot s : slots) s.done.await(Math.max(0, waitUntil - System.nanoTime()), TimeUnit.NANOSECONDS);
        long endUnix = System.currentTimeMillis();
        long elapsedMs = (System.nanoTime() - T0_NANOS) / 1_000_000;

        String json = report(slots, startUnix, endUnix, elapsedMs, (stopNanos - T0_NANOS) / 1_000_000);
        System.out.println(json);
        System.out.flush();
        if (jsonOut != null) Files.writeString(jsonOut, json + "\n");
        for (ManagedChannel ch : chans) ch.shutdownNow();
        System.exit(0); // abandoned calls must not keep the JVM
    }

    static String report(List<Slot> slots, long startUnix, long endUnix, long elapsedMs, long loadMs) throws IOException {
        long ok = 0, failed = 0, abandoned = 0;
        Map<String, Long> byCode = new TreeMap<>();
        Map<String, Long> gens = new TreeMap<>();
        Map<String, Long> pids = new TreeMap<>();
        List<String> errors = new ArrayList<>();
        int total = 0;
        for (Slot s : slots) {
            synchronized (s) {
                total += s.n;
            }
        }
        long[] all = new long[total];
        int k = 0;
        for (Slot s : slots) {
            synchronized (s) {
                System.arraycopy(s.recs, 0, all, k, s.n);
                k += s.n;
                ok += s.ok;
                s.failedByCode.forEach((c, v) -> byCode.merge(c, v, Long::sum));
                s.gens.forEach((c, v) -> gens.merge(c, v, Long::sum));
                s.pids.forEach((c, v) -> pids.merge(c, v, Long::sum));
                for (String e : s.errors) {
                    String msg = e.substring(e.indexOf(' ') + 1);
                    if (errors.size() < 20 && errors.stream().noneMatch(x -> x.endsWith(" " + msg))) errors.add(e);
                }
                if (s.inFlight) abandoned++;
            }
        }
        if (abandoned > 0) byCode.merge("ABANDONED", abandoned, Long::sum);
        for (long v : byCode.values()) failed += v;

        // timeline: per bucket of start time
        int nb = (int) (elapsedMs / bucketMs) + 1;
        List<List<Long>> okLat = new ArrayList<>();
        long[] bOk = new long[nb], bFailed = new long[nb];
        for (int i = 0; i < nb; i++) okLat.add(new ArrayList<>());
        long[] okAll = new long[total];
        int nOk = 0;
        for (long r : all) {
            long startMs = r >>> 33;
            boolean f = ((r >>> 32) & 1) == 1;
            long lat = r & 0xffff_ffffL;
            int b = (int) Math.min(nb - 1, startMs / bucketMs);
            if (f) {
                bFailed[b]++;
            } else {
                bOk[b]++;
                okLat.get(b).add(lat);
                okAll[nOk++] = lat;
            }
        }
        long[] sorted = Arrays.copyOf(okAll, nOk);
        Arrays.sort(sorted);

        StringBuilder j = new StringBuilder(4096);
        j.append('{');
        field(j, "tool", "grpc-load").append(',');
        j.append("\"config\":{");
        field(j, "target", target).append(',');
        field(j, "method", methodName).append(',');
        j.append("\"channels\":").append(channels).append(",\"concurrency\":").append(concurrency)
                .append(",\"duration_ms\":").append(durationMs).append(",\"slow_ms\":").append(slowMs)
                .append(",\"deadline_ms\":").append(deadlineMs).append(",\"fail_pause_ms\":").append(failPauseMs)
                .append(",\"retry_policy\":null},");
        j.append("\"start_unix_ms\":").append(startUnix).append(",\"end_unix_ms\":").append(endUnix)
                .append(",\"elapsed_ms\":").append(elapsedMs).append(",\"load_ms\":").append(loadMs).append(',');
        j.append("\"total\":").append(ok + failed).append(",\"ok\":").append(ok).append(",\"failed\":").append(failed)
                .append(",\"non2xx\":0,");
        j.append("\"failed_by_code\":");
        map(j, byCode).append(',');
        j.append("\"rps\":").append(String.format("%.1f", loadMs > 0 ? ok * 1000.0 / loadMs : 0.0)).append(',');
        j.append("\"gens\":");
        map(j, gens).append(',');
        j.append("\"pids\":");
        map(j, pids).append(',');
        j.append("\"latency_ms\":");
        latency(j, sorted).append(',');
        j.append("\"bucket_ms\":").append(bucketMs).append(",\"timeline\":[");
        for (int i = 0; i < nb; i++) {
            if (i > 0) j.append(',');
            long[] l = okLat.get(i).stream().mapToLong(Long::longValue).sorted().toArray();
            j.append("{\"t\":").append(startUnix + i * bucketMs).append(",\"ok\":").append(bOk[i])
                    .append(",\"failed\":").append(bFailed[i]).append(",\"non2xx\":0");
            if (l.length > 0) {
                j.append(",\"p50\":").append(ms(q(l, 0.5))).append(",\"p99\":").append(ms(q(l, 0.99)))
                        .append(",\"max\":").append(ms(l[l.length - 1]));
            } else {
                j.append(",\"p50\":null,\"p99\":null,\"max\":null");
            }
            j.append('}');
        }
        j.append("],");
        long[] w = window();
        if (w != null) {
            long wOk = 0, wFailed = 0;
            List<Long> wl = new ArrayList<>();
            for (int i = 0; i < nb; i++) {
                long t = startUnix + i * bucketMs;
                if (t + bucketMs > w[0] && t <= w[1]) {
                    wOk += bOk[i];
                    wFailed += bFailed[i];
                    wl.addAll(okLat.get(i));
                }
            }
            long[] l = wl.stream().mapToLong(Long::longValue).sorted().toArray();
            j.append("\"window\":{\"from_unix_ms\":").append(w[0]).append(",\"to_unix_ms\":").append(w[1])
                    .append(",\"ok\":").append(wOk).append(",\"failed\":").append(wFailed).append(",\"latency_ms\":");
            latency(j, l).append("},");
        }
        j.append("\"error_samples\":[");
        for (int i = 0; i < errors.size(); i++) {
            if (i > 0) j.append(',');
            str(j, errors.get(i));
        }
        j.append("]}");
        return j.toString();
    }

    static long[] window() throws IOException {
        if (windowFile == null || !Files.exists(windowFile)) return null;
        String[] p = Files.readString(windowFile).trim().split("\\s+");
        if (p.length != 2) return null;
        try {
            return new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    static long q(long[] sorted, double q) {
        return sorted[(int) Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    }

    static String ms(long us) {
        return String.format("%.3f", us / 1000.0);
    }

    static StringBuilder latency(StringBuilder j, long[] sorted) {
        if (sorted.length == 0) return j.append("{\"p50\":null,\"p99\":null,\"max\":null}");
        return j.append("{\"p50\":").append(ms(q(sorted, 0.5))).append(",\"p99\":").append(ms(q(sorted, 0.99)))
                .append(",\"max\":").append(ms(sorted[sorted.length - 1])).append('}');
    }

    static StringBuilder map(StringBuilder j, Map<String, Long> m) {
        j.append('{');
        boolean first = true;
        for (Map.Entry<String, Long> e : m.entrySet()) {
            if (!first) j.append(',');
            first = false;
            str(j, e.getKey()).append(':').append(e.getValue());
        }
        return j.append('}');
    }

    static StringBuilder field(StringBuilder j, String k, String v) {
        return str(str(j, k).append(':'), v);
    }

    static StringBuilder str(StringBuilder j, String s) {
        j.append('"');
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') j.append('\\').append(c);
            else if (c < 0x20) j.append(String.format("\\u%04x", (int) c));
            else j.append(c);
        }
        return j.append('"');
    }

    private static String need(String k, String v) {
        if (v == null || v.isEmpty()) usage(k + " needs a value (" + k + "=...)");
        return v;
    }

    private static void usage(String why) {
        System.err.println("grpc-load: " + why);
        System.err.println("usage: java -jar grpc-load.jar --target=HOST:PORT [--channels=N] [--concurrency=M]"
                + " [--duration-ms=D] [--method=say|slow] [--slow-ms=MS] [--deadline-ms=MS]"
                + " [--stop-file=F] [--json-out=F] [--window-file=F] [--bucket-ms=MS] [--fail-pause-ms=MS]");
        System.exit(2);
    }
}
