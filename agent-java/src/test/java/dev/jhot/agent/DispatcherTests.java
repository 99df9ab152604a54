package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** Dispatcher: malformed frames, the token, and every op answered without an Instrumentation. */
public final class DispatcherTests {
    private DispatcherTests() {
    }

    /** A version-1 body with this header, then the given tail (blob_count etc.). */
    static byte[] h(Object header, Object... tail) {
        byte[] hb = header instanceof String ? ((String) header).getBytes(StandardCharsets.UTF_8) : (byte[]) header;
        Object[] parts = new Object[tail.length + 3];
        parts[0] = (byte) 1;
        parts[1] = hb.length;
        parts[2] = hb;
        System.arraycopy(tail, 0, parts, 3, tail.length);
        return raw(parts);
    }

    static Map<String, Object> reply(Dispatcher.Reply r) throws Failure {
        return new Wire.Reply(r).header;
    }

    static Dispatcher dispatcher() {
        return new Dispatcher(new Ops(null));
    }

    static Map<?, ?> expectError(Dispatcher.Reply r, String kind, boolean close) throws Failure {
        return Wire.expectError(new Wire.Reply(r), kind, close);
    }

    static void testMalformedFramesGiveProtocolErrors() throws Exception {
        String hello = "{\"op\":\"hello\",\"id\":9}";
        int hl = hello.length();
        byte one = 1;
        Object[][] cases = {
            {"empty body", new byte[0]},
            {"short body", new byte[] {1, 0, 0}},
            {"bad version", raw((byte) 2, hl, hello, 0)},
            {"version 0", raw((byte) 0, hl, hello, 0)},
            {"header_len beyond body", raw(one, hl + 1, hello, 0)},
            {"header_len huge", raw(one, 0xffffffff, hello, 0)},
            {"blob_count missing", raw(one, hl, hello)},
            {"blob_count beyond body", raw(one, hl, hello, 2, 1, new byte[] {5})},
            {"blob_count huge", raw(one, hl, hello, 0x7fffffff)},
            {"blob length beyond body", raw(one, hl, hello, 1, 10, new byte[] {1, 2, 3})},
            {"blob length huge", raw(one, hl, hello, 1, 0xfffffff0)},
            {"blob length cut", raw(one, hl, hello, 1, new byte[] {0, 0})},
            {"trailing bytes", raw(one, hl, hello, 0, new byte[] {0})},
            {"trailing after blob", raw(one, hl, hello, 1, 1, new byte[] {7, 8})},
            {"non-JSON header", h("hello", 0)},
            {"JSON array header", h("[1,2,3]", 0)},
            {"JSON string header", h("\"op\"", 0)},
            {"empty header", h("", 0)},
            {"invalid UTF-8", h(raw("{\"op\":\"", new byte[] {(byte) 0xc3, 0x28}, "\",\"id\":1}"), 0)},
            {"JSON without op", h("{\"id\":3}", 0)},
            {"op not a string", h("{\"id\":3,\"op\":1}", 0)},
            {"JSON without id", h("{\"op\":\"hello\"}", 0)},
            {"fractional id", h("{\"op\":\"hello\",\"id\":1.5}", 0)},
            {"unknown op", h("{\"op\":\"nope\",\"id\":4}", 0)},
            {"redefine without classes", h("{\"op\":\"redefine\",\"id\":5}", 0)},
            {"redefine blob index out of range", h("{\"op\":\"redefine\",\"id\":6,\"classes\":[{\"name\":\"a.B\",\"blob\":0}]}", 0)},
            {"redefine class named twice", h("{\"op\":\"redefine\",\"id\":6,\"classes\":[{\"name\":\"a.B\",\"blob\":0},{\"name\":\"a.B\",\"blob\":0}]}", 1, 1, new byte[] {0})},
            {"rollback classes not strings", h("{\"op\":\"rollback\",\"id\":7,\"classes\":[1]}", 0)},
        };
        Dispatcher d = dispatcher();
        for (Object[] c : cases) {
            Dispatcher.Reply r;
            try {
                r = d.handle((byte[]) c[1], new Dispatcher.Session("unix", null));
            } catch (Throwable t) {
                throw new AssertionError(c[0] + ": exception escaped: " + t, t);
            }
            try {
                expectError(r, "protocol", true);
            } catch (AssertionError e) {
                throw new AssertionError(c[0] + ": " + e.getMessage() + " in " + reply(r));
            }
        }
        // Where the header was readable, the error echoes its id.
        eq(4L, reply(d.handle(h("{\"op\":\"nope\",\"id\":4}", 0), new Dispatcher.Session("unix", null))).get("id"));
        eq(9L, reply(d.handle(raw(one, hl, hello, 0, new byte[] {0}), new Dispatcher.Session("unix", null))).get("id"));
    }

    static void testDispatcherWithoutInstrumentation() throws Exception {
        Dispatcher d = dispatcher();
        Dispatcher.Session s = new Dispatcher.Session("unix", null);
        Map<String, Object> h = reply(d.handle(body(Frame.encode(header("op", "hello", "id", 1L, "protocol", 1L, "client", "t"), null)), s));
        eq(1L, h.get("id"));
        eq(true, h.get("ok"));
        eq(1L, h.get("protocol"));
        eq(ProcessHandle.current().pid(), h.get("pid"));
        eq("unix", h.get("channel"));
        eq(System.getProperty("java.version"), h.get("java_version"));
        check(h.get("start_ms") instanceof Long && (Long) h.get("start_ms") > 0, "start_ms " + h.get("start_ms"));
        for (String k : new String[] {"agent", "vm_name", "vm_vendor", "mode", "loads", "patched", "pending"}) check(h.containsKey(k), k);
        check(((List<?>) h.get("ops")).containsAll(Arrays.asList("send_fds", "drain")), "ops " + h.get("ops"));
        for (String op : Ops.OPS) {
            Map<String, Object> r = reply(d.handle(body(Frame.encode(header("op", op, "id", 9L), null)), new Dispatcher.Session("unix", null)));
            Object err = r.get("error");
            check(err == null || !String.valueOf(((Map<?, ?>) err).get("message")).startsWith("unknown op"), op + " is announced but not served");
        }

        h = reply(d.handle(body(Frame.encode(header("op", "history", "id", 2L), null)), s));
        eq(true, h.get("ok"));
        eq(new ArrayList<>(), h.get("entries"));

        Dispatcher.Reply r = d.handle(body(Frame.encode(header("op", "hello", "id", 3L, "protocol", 2L), null)), s);
        expectError(r, "version", false);
        eq(3L, reply(r).get("id"));

        // Without an Instrumentation the class operations fail cleanly, and the connection stays.
        r = d.handle(body(Frame.encode(header("op", "rollback", "id", 4L, "classes", new ArrayList<>()), null)), s);
        expectError(r, "internal", false);
        r = d.handle(body(Frame.encode(header("op", "redefine", "id", 5L, "classes",
                Arrays.asList(header("name", "a.B", "blob", 0L))), Arrays.asList(new byte[] {1}))), s);
        expectError(r, "internal", false);
    }

    static void testTokenAuth() throws Exception {
        Dispatcher d = dispatcher();
        Dispatcher.Session s = new Dispatcher.Session("tcp", "abcd");
        expectError(d.handle(body(Frame.encode(header("op", "history", "id", 1L), null)), s), "auth", true);
        expectError(d.handle(body(Frame.encode(header("op", "hello", "id", 1L), null)), s), "auth", true);
        expectError(d.handle(body(Frame.encode(header("op", "hello", "id", 1L, "token", "abce"), null)), s), "auth", true);
        check(!s.authed, "authed by a bad token");
        Map<String, Object> h = reply(d.handle(body(Frame.encode(header("op", "hello", "id", 2L, "token", "abcd"), null)), s));
        eq(true, h.get("ok"));
        eq("tcp", h.get("channel"));
        eq(true, reply(d.handle(body(Frame.encode(header("op", "history", "id", 3L), null)), s)).get("ok"));
    }
}
