package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Wire;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static dev.jhot.agent.TestKit.*;
import static dev.jhot.agent.Wire.*;

/** drain: with no server to stop, and two JDK HttpServers with requests in flight (in a child JVM). */
public final class DrainTests {
    private DrainTests() {
    }

    static Map<String, Object> drain(Ops ops, long id, long seconds) throws Failure {
        return ask(ops, header("op", "drain", "id", id, "seconds", seconds), null).header;
    }

    static void testDrainWithoutServersAnswersAnEmptyList() throws Exception {
        Ops ops = new Ops(null);
        Map<String, Object> r = drain(ops, 1L, 5L);
        eq(true, r.get("ok"));
        eq(new ArrayList<>(), r.get("servers"));
        for (Object bad : new Object[] {-1L, 3601L, 1.5, "5", null}) {
            Wire.Reply e = ask(ops, header("op", "drain", "id", 2L, "seconds", bad), null);
            expectError(e, "protocol", true);
        }
    }

    /**
     * Runs DrainChild in a JVM of its own, started with -javaagent so that it has an
     * Instrumentation (the drain opens JDK packages with it, as the agent does in a target JVM).
     */
    static void testDrainStopsJdkHttpServersGracefully() throws Exception {
        if (!ModuleLayer.boot().findModule("jdk.httpserver").isPresent()) {
            throw new Skip("this runtime (" + System.getProperty("java.version") + ") has no jdk.httpserver module");
        }
        Path dir = tempDir();
        Path jar = dir.resolve("probe.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Premain-Class", Probe.class.getName());
        // The manifest is all: the probe class comes from the class path.
        new JarOutputStream(Files.newOutputStream(jar), mf).close();
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-javaagent:" + jar, "-cp", System.getProperty("java.class.path"), DrainChild.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log);
        check(done && p.exitValue() == 0, "drain child " + (done ? "failed" : "hung") + ":\n" + out);
        for (String line : out.split("\n")) if (line.startsWith("drain:")) System.out.println("      " + line);
    }

    /** Its own class so that DrainTests never links against jdk.httpserver (absent on some runtimes). */
    public static final class DrainChild {
        private DrainChild() {
        }

        public static void main(String[] args) throws Exception {
            check(Probe.inst != null, "no Instrumentation: start with -javaagent");
            // One server runs its handlers on its dispatcher thread (the default), one on an executor.
            java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newCachedThreadPool();
            com.sun.net.httpserver.HttpServer plain = server(null);
            com.sun.net.httpserver.HttpServer pooled = server(pool);
            CountDownLatch inHandlers = new CountDownLatch(2);
            Map<String, String> responses = new java.util.concurrent.ConcurrentHashMap<>();
            for (com.sun.net.httpserver.HttpServer s : Arrays.asList(plain, pooled)) {
                s.createContext("/", ex -> {
                    inHandlers.countDown();
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                    byte[] b = "done".getBytes(StandardCharsets.US_ASCII);
                    ex.sendResponseHeaders(200, b.length);
                    try (java.io.OutputStream o = ex.getResponseBody()) {
                        o.write(b);
                    }
                });
                s.start();
                InetSocketAddress a = s.getAddress();
                Thread client = new Thread(() -> {
                    String got;
                    try (java.net.Socket c = new java.net.Socket(a.getAddress(), a.getPort())) {
                        c.getOutputStream().write("GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                        got = new String(c.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                    } catch (IOException e) {
                        got = e.toString();
                    }
                    responses.put(a.toString(), got);
                });
                client.setDaemon(true);
                client.start();
            }
            check(inHandlers.await(10, TimeUnit.SECONDS), "the requests did not reach the handlers");

            // The drain goes over a real channel; meanwhile another connection is served at once.
            Ops ops = new Ops(Probe.inst);
            Wire.Channel channel = new Wire.Channel(Path.of(args[0]).resolve("priv"), ops);
            check(channel.start() == null, "channel did not start");
            Map<?, ?>[] drained = new Map<?, ?>[1];
            long t0 = System.nanoTime();
            Thread drainer = new Thread(() -> {
                try (SocketChannel c = channel.connect()) {
                    send(c, header("op", "drain", "id", 7L, "seconds", 5L));
                    drained[0] = read(c);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            drainer.start();
            Thread.sleep(100);
            long helloMs;
            try (SocketChannel c = channel.connect()) {
                long t1 = System.nanoTime();
                send(c, header("op", "hello", "id", 1L));
                eq(true, read(c).get("ok"));
                helloMs = (System.nanoTime() - t1) / 1_000_000;
            }
            check(drainer.isAlive(), "the drain ended before the other connection was served");
            drainer.join(15_000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            channel.stop();
            check(drained[0] != null, "no answer to the drain");
            Map<?, ?> r = drained[0];
            eq(true, r.get("ok"));
            eq(7L, r.get("id"));
            List<?> servers = (List<?>) r.get("servers");
            eq(2, servers.size());
            List<String> want = new ArrayList<>(Arrays.asList(plain.getAddress().toString(), pooled.getAddress().toString()));
            for (Object o : servers) {
                Map<?, ?> m = (Map<?, ?>) o;
                eq("jdk.httpserver", m.get("kind"));
                check(want.remove(m.get("address")), "unexpected address " + m.get("address") + " in " + json(r));
                check(m.get("stopped_ms") instanceof Long && (Long) m.get("stopped_ms") >= 0, "stopped_ms in " + json(r));
                check(!m.containsKey("error"), "error in " + json(r));
            }
            // Every in-flight request completed, and the drain answered only after that.
            for (com.sun.net.httpserver.HttpServer s : Arrays.asList(plain, pooled)) {
                String addr = s.getAddress().toString();
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (!responses.containsKey(addr) && System.nanoTime() < deadline) Thread.sleep(10);
                String resp = responses.get(addr);
                check(resp != null && resp.startsWith("HTTP/1.1 200") && resp.endsWith("done"), addr + ": in-flight request got " + resp);
                try {
                    new java.net.Socket(s.getAddress().getAddress(), s.getAddress().getPort()).close();
                    throw new AssertionError(addr + " still accepts after the drain");
                } catch (ConnectException expected) {
                    // the listener is closed
                }
            }
            for (Thread t : Drain.liveThreads()) check(!t.getName().equals("jhot-agent-drain"), "a drain thread outlived the drain");
            eq(new ArrayList<>(), drain(ops, 8L, 5L).get("servers"));
            pool.shutdown();
            System.out.println("drain: 2 servers on JDK " + System.getProperty("java.version") + " stopped in " + ms + " ms: "
                    + json(servers) + "; a hello on another connection meanwhile took " + helloMs + " ms");
        }

        private static com.sun.net.httpserver.HttpServer server(java.util.concurrent.Executor executor) throws IOException {
            com.sun.net.httpserver.HttpServer s = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            s.setExecutor(executor);
            return s;
        }
    }
}
