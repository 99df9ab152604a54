package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** Streaming and cancel over a real channel (docs/protocol.md, "Streaming"): threads with an
 *  interval is the op that waits, so it stands in for any cancellable request. */
public final class StreamTests {
    private StreamTests() {
    }

    /** A connection that has passed the token when the channel is TCP. */
    static SocketChannel open(Server s) throws Exception {
        SocketChannel c = ServerTests.connect(s);
        if (s.channel().equals("tcp")) {
            Wire.send(c, header("op", "hello", "id", 1000L, "token", s.token()));
            eq(true, Wire.read(c).get("ok"));
        }
        return c;
    }

    static Map<?, ?> error(Map<String, Object> reply) {
        eq(false, reply.get("ok"));
        return (Map<?, ?>) reply.get("error");
    }

    /** No jhot-agent-op thread within 5 s: a cancelled request leaves no worker behind. */
    static void noWorkerLeft() throws Exception {
        long deadline = System.currentTimeMillis() + 5000;
        while (Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("jhot-agent-op"))) {
            check(System.currentTimeMillis() < deadline, "a jhot-agent-op thread is still alive 5 s after its request ended");
            Thread.sleep(10);
        }
    }

    static void testHelloAnnouncesCancel() throws Exception {
        Map<String, Object> r = Wire.ask(new Ops(null), header("op", "hello", "id", 1L), null).header;
        check(((java.util.List<?>) r.get("ops")).contains("cancel"), "hello.ops lists cancel");
    }

    static void testCancelRunningRequest() throws Exception {
        Server s = ServerTests.startServer(tempDir().resolve("priv"), true, 60_000);
        try (SocketChannel c = open(s)) {
            Wire.send(c, header("op", "threads", "id", 1L, "interval_ms", 60_000L, "events", true));
            // a request sent while the stream runs is queued behind it, and still runs
            Wire.send(c, header("op", "history", "id", 2L));
            Wire.send(c, header("op", "cancel", "id", 3L, "request", 1L));
            Map<String, Object> r = Wire.read(c);
            eq(3L, r.get("id"));
            eq(true, r.get("cancelled"));
            r = Wire.read(c);
            eq(1L, r.get("id"));
            eq("cancelled", error(r).get("kind"));
            eq("cancelled by request 3", error(r).get("message"));
            eq(0L, r.get("events_sent"));
            eq(0L, r.get("events_dropped"));
            r = Wire.read(c);
            eq(2L, r.get("id"));
            eq(true, r.get("ok"));
            check(!r.containsKey("events_sent"), "a request that did not opt in has no events fields");
            noWorkerLeft();
        } finally {
            s.stop();
        }
    }

    static void testCancelFinishedUnknownAndNotOptedIn() throws Exception {
        Server s = ServerTests.startServer(tempDir().resolve("priv"), true, 60_000);
        try (SocketChannel c = open(s)) {
            Wire.send(c, header("op", "threads", "id", 1L, "events", true));
            Map<String, Object> r = Wire.read(c);
            eq(true, r.get("ok"));
            eq(0L, r.get("events_sent"));
            // finished
            Wire.send(c, header("op", "cancel", "id", 2L, "request", 1L));
            eq(false, Wire.read(c).get("cancelled"));
            // unknown id
            Wire.send(c, header("op", "cancel", "id", 3L, "request", 77L));
            eq(false, Wire.read(c).get("cancelled"));
            // not opted in: it runs to its end, and the cancel is read only after it
            Wire.send(c, header("op", "threads", "id", 4L, "interval_ms", 200L));
            Wire.send(c, header("op", "cancel", "id", 5L, "request", 4L));
            r = Wire.read(c);
            eq(4L, r.get("id"));
            eq(true, r.get("ok"));
            r = Wire.read(c);
            eq(5L, r.get("id"));
            eq(false, r.get("cancelled"));
            // a cancel whose request is not an integer is malformed
            Wire.send(c, header("op", "cancel", "id", 6L, "request", "1"));
            eq("protocol", error(Wire.read(c)).get("kind"));
            check(Wire.read(c) == null, "closed after a protocol error");
        } finally {
            s.stop();
        }
    }

    static void testCloseCancelsAndIdReuseCloses() throws Exception {
        Server s = ServerTests.startServer(tempDir().resolve("priv"), true, 60_000);
        try {
            try (SocketChannel c = open(s)) {
                Wire.send(c, header("op", "threads", "id", 1L, "interval_ms", 60_000L, "events", true));
                Thread.sleep(100);
            }
            noWorkerLeft();
            try (SocketChannel c = open(s)) {
                Wire.send(c, header("op", "threads", "id", 1L, "interval_ms", 60_000L, "events", true));
                Wire.send(c, header("op", "hello", "id", 1L));
                Map<String, Object> r = Wire.read(c);
                eq(1L, r.get("id"));
                eq("protocol", error(r).get("kind"));
                check(Wire.read(c) == null, "closed after an id reused in flight");
            }
            noWorkerLeft();
            // The server still serves.
            try (SocketChannel c = open(s)) {
                Wire.send(c, header("op", "history", "id", 9L));
                eq(true, Wire.read(c).get("ok"));
            }
        } finally {
            s.stop();
        }
    }

    static void testHeartbeatsAndInFlightLimit() throws Exception {
        long saved = Stream.heartbeatMs;
        Stream.heartbeatMs = 200;
        Server s = ServerTests.startServer(tempDir().resolve("priv"), true, 60_000);
        try (SocketChannel c = open(s)) {
            Wire.send(c, header("op", "threads", "id", 1L, "interval_ms", 60_000L, "events", true));
            Map<String, Object> r = Wire.read(c);
            eq(1L, r.get("id"));
            eq("heartbeat", r.get("event"));
            check(!r.containsKey("ok") && !r.containsKey("seq"), "a heartbeat has neither ok nor seq");
            for (long id = 2; id <= 9; id++) Wire.send(c, header("op", "history", "id", id));
            // the 9th in flight: refused, and the connection closes (which cancels the stream)
            while (true) {
                r = Wire.read(c);
                if (!"heartbeat".equals(r.get("event"))) break;
            }
            check(9L == (Long) r.get("id"), "refused the 9th: " + r);
            eq("protocol", error(r).get("kind"));
            eq("too many requests in flight", error(r).get("message"));
            check(Wire.read(c) == null, "closed after too many requests in flight");
            noWorkerLeft();
        } finally {
            Stream.heartbeatMs = saved;
            s.stop();
        }
    }
}
