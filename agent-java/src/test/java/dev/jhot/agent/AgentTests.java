package dev.jhot.agent;

import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Stream;

/**
 * Self-running tests (no JUnit, so they run with nothing but a JDK):
 * javac --release 11 -d /tmp/x $(find agent-java/src -name '*.java') && java -cp /tmp/x dev.jhot.agent.AgentTests
 * Every method whose name starts with "test" runs; a test fails by throwing.
 */
public final class AgentTests {
    private static final List<Path> cleanup = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        int passed = 0;
        int failed = 0;
        int skipped = 0;
        Method[] methods = AgentTests.class.getDeclaredMethods();
        Arrays.sort(methods, Comparator.comparing(Method::getName));
        for (Method m : methods) {
            if (!m.getName().startsWith("test") || !Modifier.isStatic(m.getModifiers())) continue;
            long t0 = System.nanoTime();
            try {
                m.invoke(null);
                passed++;
                System.out.printf("ok    %s (%d ms)%n", m.getName(), (System.nanoTime() - t0) / 1_000_000);
            } catch (java.lang.reflect.InvocationTargetException e) {
                if (e.getCause() instanceof Skip) {
                    skipped++;
                    System.out.printf("skip  %s: %s%n", m.getName(), e.getCause().getMessage());
                    continue;
                }
                failed++;
                System.out.printf("FAIL  %s: %s%n", m.getName(), e.getCause());
                e.getCause().printStackTrace(System.out);
            }
        }
        for (Path p : cleanup) deleteTree(p);
        // The runner looks for a last line that ends in " 0 failed".
        System.out.println(passed + " passed, " + skipped + " skipped, " + failed + " failed");
        System.exit(failed == 0 ? 0 : 1);
    }

    // ---------------------------------------------------------------- assertions

    static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    static void eq(Object want, Object got) {
        if (want == null ? got != null : !want.equals(got)) throw new AssertionError("want <" + want + "> got <" + got + ">");
    }

    /** Thrown by a test that cannot run on this JDK or without an optional input; reported as skipped. */
    static final class Skip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Skip(String why) {
            super(why, null, false, false);
        }
    }

    // ---------------------------------------------------------------- JSON

    static void testJsonRoundTrip() {
        String text = "{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{\"d\":-2.5,\"e\":[]},\"f\":{}}";
        Object v = Json.parse(text);
        eq(text, Json.write(v));
        Map<?, ?> m = (Map<?, ?>) v;
        eq(1L, m.get("a"));
        eq(-2.5, ((Map<?, ?>) m.get("c")).get("d"));
        eq(v, Json.parse(Json.write(v)));
        eq(Arrays.asList(1L, 2L), Json.parse(" [ 1 ,\n2\t] "));
    }

    static void testJsonStrings() {
        eq("a\"b\\c/d\b\f\n\r\t", Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""));
        eq("\u00e9", Json.parse("\"\\u00E9\""));
        eq("\u00e9", Json.parse("\"\u00e9\""));
        String smile = new String(Character.toChars(0x1F600));
        eq(smile, Json.parse("\"\\ud83d\\ude00\""));
        eq(smile, Json.parse("\"" + smile + "\""));
        // The writer emits ASCII only, and what it writes reads back the same.
        String nasty = "q\"\\\u0001\u007f\u00e9" + smile + "\ud800";
        String w = Json.write(nasty);
        for (char c : w.toCharArray()) check(c >= 0x20 && c < 0x7f, "non-ASCII output " + w);
        eq(nasty, Json.parse(w));
    }

    static void testJsonNumbers() {
        eq(0L, Json.parse("0"));
        eq(0L, Json.parse("-0"));
        eq(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        eq(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        eq(9.223372036854776E18, Json.parse("9223372036854775808"));
        eq(1500.0, Json.parse("1.5e3"));
        eq(0.25, Json.parse("25E-2"));
        eq("null", Json.write(Double.POSITIVE_INFINITY));
        eq("[1,2]", Json.write(Arrays.asList(1, 2L)));
    }

    static void testJsonErrors() {
        String[] bad = {"", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "-", "1.",
            ".5", "1e", "+1", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "tru", "nul", "True", "1 2",
            "{\"a\":1}x", "[1 2]", "\"tab\there\"", "{\"a\":1,\"a\":2}", "\"\\", "{\"a\":"};
        for (String s : bad) {
            try {
                Object v = Json.parse(s);
                throw new AssertionError("parsed " + s + " as " + v);
            } catch (IllegalArgumentException expected) {
                // right
            }
        }
    }

    static void testJsonUnicodeEscapesTakeAsciiHexOnly() {
        eq("\u00e9\u00e9\u00e9", Json.parse("\"\\u00e9\\u00E9\\u00e9\""));
        eq("\uabcd\uABCD\u0f9F", Json.parse("\"\\uabcd\\uABCD\\u0f9F\""));
        // Other Unicode digits and letters are refused, as serde refuses them: fullwidth 0 and A,
        // Arabic-Indic 9, Devanagari 1.
        for (String digit : new String[] {"\uff10", "\uff21", "\u0669", "\u0967"}) {
            String text = "\"\\u00" + digit + "9\"";
            try {
                Object v = Json.parse(text);
                throw new AssertionError("parsed " + text + " as " + v);
            } catch (IllegalArgumentException expected) {
                check(expected.getMessage().contains("\\u"), expected.getMessage());
            }
        }
    }

    static void testJsonDeepNestingIsAnErrorNotAStackOverflow() {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < 100_000; k++) b.append('[');
        try {
            Json.parse(b.toString());
            throw new AssertionError("accepted deep nesting");
        } catch (IllegalArgumentException expected) {
            check(expected.getMessage().contains("nested"), expected.getMessage());
        }
        Json.parse("[[[[[[[[[[1]]]]]]]]]]");
    }

    // ---------------------------------------------------------------- frames

    static Map<String, Object> header(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < kv.length; k += 2) m.put((String) kv[k], kv[k + 1]);
        return m;
    }

    static byte[] body(byte[] frame) {
        return Arrays.copyOfRange(frame, 4, frame.length);
    }

    static void testInboxAnswersARequestFileOnce() throws Exception {
        Path dir = tempDir();
        History h = new History();
        Dispatcher d = new Dispatcher(new Ops(null, new Registry(h), h));
        Path req = dir.resolve("42-abc.req");
        Files.write(req, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(req, PosixFilePermissions.fromString("rw-------"));
        Inbox.answer(dir, "42-abc.req", d);
        check(!Files.exists(req), "request file left behind");
        byte[] resp = Files.readAllBytes(dir.resolve("42-abc.resp"));
        check(Frame.u32(resp, 0) == resp.length - 4, "answer is one whole frame");
        byte[] body = Arrays.copyOfRange(resp, 4, resp.length);
        eq(true, Frame.decode(body).header.get("ok"));
        eq(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(dir.resolve("42-abc.resp")));

        // Readable by others: not jhot's; consumed (deleted) but never answered.
        Path open = dir.resolve("43-abc.req");
        Files.write(open, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        Inbox.answer(dir, "43-abc.req", d);
        check(!Files.exists(dir.resolve("43-abc.resp")), "answered a file others could write");

        // A name that could leave the directory is not even looked at.
        Path inner = Files.createDirectory(dir.resolve("inner"));
        Path outside = dir.resolve("x.req");
        Files.write(outside, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-------"));
        Inbox.answer(inner, "../x.req", d);
        check(Files.exists(outside) && !Files.exists(dir.resolve("x.resp")), "followed a path out of the directory");

        // Garbage in the file: a protocol error answer, and the agent carries on.
        Path junk = dir.resolve("44-abc.req");
        Files.write(junk, new byte[] {0, 0, 0, 99, 1, 2});
        Files.setPosixFilePermissions(junk, PosixFilePermissions.fromString("rw-------"));
        Inbox.answer(dir, "44-abc.req", d);
        byte[] err = Files.readAllBytes(dir.resolve("44-abc.resp"));
        Map<?, ?> e = (Map<?, ?>) Frame.decode(Arrays.copyOfRange(err, 4, err.length)).header.get("error");
        eq("protocol", e.get("kind"));
    }

    static Path request(Path dir, String name, String mode) throws IOException {
        Path req = dir.resolve(name);
        Files.write(req, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(req, PosixFilePermissions.fromString(mode));
        return req;
    }

    static void testInboxAnswersNothingItCannotTrust() throws Exception {
        Path base = tempDir();
        History h = new History();
        Dispatcher d = new Dispatcher(new Ops(null, new Registry(h), h));

        // A directory others may write in: the request is neither answered nor even taken.
        Path open = Files.createDirectory(base.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path req = request(open, "1-abc.req", "rw-------");
        Inbox.answer(open, "1-abc.req", d);
        check(Files.exists(req) && !Files.exists(open.resolve("1-abc.resp")), "answered in a 0777 directory");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwx------"));
        Inbox.answer(open, "1-abc.req", d);
        check(Files.exists(open.resolve("1-abc.resp")), "the same request in a private directory was not answered");

        // A symlink named like a request: not followed, not answered; its target is untouched.
        Path dir = Files.createDirectory(base.resolve("priv"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path target = request(base, "target.req", "rw-------");
        byte[] before = Files.readAllBytes(target);
        Files.createSymbolicLink(dir.resolve("2-abc.req"), target);
        Inbox.answer(dir, "2-abc.req", d);
        check(!Files.exists(dir.resolve("2-abc.resp")), "answered through a symlink");
        check(Arrays.equals(before, Files.readAllBytes(target)), "the symlink's target changed");

        // A FIFO is not opened (that would block agentmain), and a file bigger than a frame is
        // not read.
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", dir.resolve("3-abc.req").toString()).start();
        if (mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0) {
            Inbox.answer(dir, "3-abc.req", d);
            check(!Files.exists(dir.resolve("3-abc.resp")), "answered a FIFO");
        }
        Path big = request(dir, "4-abc.req", "rw-------");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), Frame.MAX_BODY + 4L); // sparse
        }
        Inbox.answer(dir, "4-abc.req", d);
        check(!Files.exists(dir.resolve("4-abc.resp")), "answered a file larger than a frame");

        // A symlink planted where the answer is first written: the answer replaces the link and
        // the link's target is never written.
        Path victim = base.resolve("victim");
        Files.write(victim, new byte[] {42});
        Files.createSymbolicLink(dir.resolve("5-abc.resp.tmp"), victim);
        Files.createSymbolicLink(dir.resolve("5-abc.resp"), victim);
        request(dir, "5-abc.req", "rw-------");
        Inbox.answer(dir, "5-abc.req", d);
        check(Arrays.equals(new byte[] {42}, Files.readAllBytes(victim)), "wrote through a planted symlink");
        Path resp = dir.resolve("5-abc.resp");
        check(Files.isRegularFile(resp, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the answer is not a file of its own");
        eq(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(resp));
        eq(true, Frame.decode(body(Files.readAllBytes(resp))).header.get("ok"));
        check(!Files.exists(dir.resolve("5-abc.resp.tmp"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "temporary answer left behind");
    }

    static void testSha256MatchesTheJdk() throws Exception {
        eq("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ClassBytes.sha256("abc".getBytes("US-ASCII")));
        eq("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ClassBytes.sha256(new byte[0]));
        java.util.Random r = new java.util.Random(42);
        // Every length around the padding boundaries (55/56/64 bytes) and a few large ones.
        for (int len = 0; len < 300; len++) {
            byte[] b = new byte[len == 299 ? 100_003 : len];
            r.nextBytes(b);
            String want = ClassBytes.hex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
            eq(want, ClassBytes.sha256(b));
        }
    }

    static void testFrameRoundTrip() throws Exception {
        byte[] a = {1, 2, 3};
        byte[] big = new byte[100_000];
        big[99_999] = 7;
        byte[] frame = Frame.encode(header("op", "redefine", "id", 42L, "s", "h\u00e9"), Arrays.asList(a, new byte[0], big));
        eq((long) frame.length - 4, Frame.u32(frame, 0));
        Frame f = Frame.decode(body(frame));
        eq(42L, f.id);
        eq("redefine", f.header.get("op"));
        eq("h\u00e9", f.header.get("s"));
        eq(3, f.blobs.size());
        check(Arrays.equals(a, f.blobs.get(0)), "blob 0");
        eq(0, f.blobs.get(1).length);
        check(Arrays.equals(big, f.blobs.get(2)), "blob 2");
        // Split into arbitrary pieces, two frames back to back, the reader gives both bodies.
        byte[] two = new byte[frame.length * 2];
        System.arraycopy(frame, 0, two, 0, frame.length);
        System.arraycopy(frame, 0, two, frame.length, frame.length);
        FrameReader r = new FrameReader();
        List<byte[]> bodies = new ArrayList<>();
        for (int off = 0; off < two.length; off += 777) {
            ByteBuffer src = ByteBuffer.wrap(two, off, Math.min(777, two.length - off));
            byte[] got;
            while ((got = r.feed(src)) != null) bodies.add(got);
            check(!src.hasRemaining(), "reader left bytes");
        }
        eq(2, bodies.size());
        check(Arrays.equals(body(frame), bodies.get(1)), "second body");
        check(!r.midFrame(), "reader idle after full frames");
    }

    static void testFrameReaderRefusesOversizedLength() throws Exception {
        FrameReader r = new FrameReader();
        try {
            r.feed(ByteBuffer.wrap(new byte[] {0x10, 0, 0, 1}));
            throw new AssertionError("accepted 256 MiB + 1");
        } catch (Failure f) {
            eq("protocol", f.kind);
        }
        // Exactly 256 MiB is allowed, and announcing it costs no more than the bytes that came.
        r = new FrameReader();
        check(r.feed(ByteBuffer.wrap(new byte[] {0x10, 0, 0, 0, 1, 2, 3})) == null, "incomplete frame");
        check(r.midFrame(), "mid frame");
        Field f = FrameReader.class.getDeclaredField("body");
        f.setAccessible(true);
        check(((byte[]) f.get(r)).length <= 64 << 10, "allocated " + ((byte[]) f.get(r)).length);
    }

    /** Body with given parts; ints are u32, byte[]/String are raw. */
    static byte[] raw(Object... parts) {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        for (Object p : parts) {
            if (p instanceof Integer) b.putInt((Integer) p);
            else if (p instanceof Byte) b.put((Byte) p);
            else if (p instanceof String) b.put(((String) p).getBytes(StandardCharsets.UTF_8));
            else b.put((byte[]) p);
        }
        return Arrays.copyOf(b.array(), b.position());
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
        return Frame.decode(body(r.frame)).header;
    }

    static Dispatcher dispatcher() {
        History h = new History();
        return new Dispatcher(new Ops(null, new Registry(h), h));
    }

    static Map<?, ?> expectError(Dispatcher.Reply r, String kind, boolean close) throws Failure {
        Map<String, Object> h = reply(r);
        eq(false, h.get("ok"));
        Map<?, ?> err = (Map<?, ?>) h.get("error");
        eq(kind, err.get("kind"));
        check(err.get("message") instanceof String, "message");
        eq(close, r.close);
        return err;
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

    // ---------------------------------------------------------------- registry and class bytes

    static byte[] classBytes(Class<?> c) throws IOException {
        try (InputStream in = c.getResourceAsStream(c.getSimpleName() + ".class")) {
            return in.readAllBytes();
        }
    }

    static void testClassBytesProblem() throws Exception {
        byte[] b = classBytes(Json.class);
        check(ClassBytes.problem(b, "dev.jhot.agent.Json") == null, ClassBytes.problem(b, "dev.jhot.agent.Json"));
        check(ClassBytes.problem(b, "dev.jhot.agent.Other").contains("define dev.jhot.agent.Json"), "name mismatch");
        check(ClassBytes.problem(new byte[] {1, 2, 3, 4, 5}, "x").contains("not a class"), "magic");
        check(ClassBytes.problem(Arrays.copyOf(b, 40), "x").contains("truncated"), "truncated");
        byte[] future = b.clone();
        future[6] = 0;
        future[7] = (byte) 200;
        check(ClassBytes.problem(future, "dev.jhot.agent.Json").contains("newer"), "version");
        eq("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ClassBytes.sha256(new byte[0]));
    }

    static void testRegistryPendingLoadAndRedefine() throws Exception {
        Registry.warmUp();
        History h = new History();
        Registry r = new Registry(h);
        byte[] orig = {1, 1, 1};
        byte[] patch = {2, 2, 2};
        ClassLoader app = ClassLoader.getSystemClassLoader();
        check(r.transform(app, "a/B", null, null, orig) == null, "inactive registry changed a class");
        r.setPending("a.B", new Registry.Pending("a.B", "no-such-loader", patch));
        check(r.transform(app, "a/B", null, null, orig) == null, "pending applied to a loader it did not select");
        r.setPending("a.B", new Registry.Pending("a.B", "app", patch));
        check(r.transform(app, "a/C", null, null, orig) == null, "other class changed");
        check(Arrays.equals(patch, r.transform(app, "a/B", null, null, orig)), "pending not applied at load");
        eq(0, r.pendingCount());
        eq(1, r.patchedCount());
        Registry.Patch p = r.get(app, "a.B");
        check(Arrays.equals(orig, p.original), "original kept");
        // From now on every retransformation gets the patch back, and only for that loader.
        byte[] again = r.transform(app, "a/B", Registry.class, null, orig);
        check(Arrays.equals(patch, again), "patch not reapplied");
        again[0] = 9;
        check(Arrays.equals(patch, r.transform(app, "a/B", Registry.class, null, orig)), "caller could change the registry");
        check(r.transform(null, "a/B", null, null, orig) == null, "patch leaked to the boot loader");
        List<Object> entries = h.snapshot();
        eq(1, entries.size());
        Map<?, ?> e = (Map<?, ?>) entries.get(0);
        eq("load", e.get("action"));
        eq(1L, e.get("seq"));
        Map<?, ?> c = (Map<?, ?>) ((List<?>) e.get("classes")).get(0);
        eq("a.B", c.get("name"));
        eq(ClassBytes.sha256(orig), c.get("from_sha256"));
        eq(ClassBytes.sha256(patch), c.get("to_sha256"));
        eq("app", ((Map<?, ?>) c.get("loader")).get("name"));
        // Undo by passing the previous entry back.
        Registry.Patch prev = r.set(app, "a.B", null);
        eq(0, r.patchedCount());
        r.set(app, "a.B", prev);
        check(r.get(app, "a.B") == p, "restored");
        check(r.transform(app, "a/B", null, null, null) != null, "restored patch active");
        // A transform that blows up (null buffer for a pending class) must not throw.
        r.setPending("z.Z", new Registry.Pending("z.Z", null, patch));
        check(r.transform(app, "z/Z", null, null, null) == null, "null buffer");
    }

    static void testLoaderSelectors() {
        ClassLoader app = ClassLoader.getSystemClassLoader();
        check(Loaders.matches(null, app) && Loaders.matches(null, null), "null selects all");
        check(Loaders.matches("bootstrap", null) && !Loaders.matches("bootstrap", app), "bootstrap");
        check(Loaders.matches("app", app), "by name");
        check(Loaders.matches(app.getClass().getName(), app), "by class name");
        check(Loaders.matches(Loaders.id(app), app), "by id");
        check(Loaders.id(app).startsWith("0x"), "id format");
        check(!Loaders.matches("platform", app), "other name");
    }

    static void testAgentArguments() throws Exception {
        eq(Path.of("/x/y"), Agent.dir("dir=/x/y"));
        eq(Path.of("/x/y"), Agent.dir("future=1,dir=/x/y"));
        eq(PrivateDir.defaultDir(), Agent.dir(null));
        eq(PrivateDir.defaultDir(), Agent.dir(""));
        check(PrivateDir.defaultDir().toString().equals("/tmp/.jhot-" + PrivateDir.euid()), "default dir");
    }

    // ---------------------------------------------------------------- drain

    static Map<String, Object> drain(Dispatcher d, long id, long seconds) throws Failure {
        return reply(d.handle(body(Frame.encode(header("op", "drain", "id", id, "seconds", seconds), null)), new Dispatcher.Session("unix", null)));
    }

    static void testDrainWithoutServersAnswersAnEmptyList() throws Exception {
        Dispatcher d = dispatcher();
        Map<String, Object> r = drain(d, 1L, 5L);
        eq(true, r.get("ok"));
        eq(new ArrayList<>(), r.get("servers"));
        for (Object bad : new Object[] {-1L, 3601L, 1.5, "5", null}) {
            Dispatcher.Reply e = d.handle(body(Frame.encode(header("op", "drain", "id", 2L, "seconds", bad), null)), new Dispatcher.Session("unix", null));
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
                "-javaagent:" + jar, "-cp", System.getProperty("java.class.path"), "dev.jhot.agent.AgentTests$DrainChild", dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log);
        check(done && p.exitValue() == 0, "drain child " + (done ? "failed" : "hung") + ":\n" + out);
        for (String line : out.split("\n")) if (line.startsWith("drain:")) System.out.println("      " + line);
    }

    /** Gives DrainChild the Instrumentation of a -javaagent load. */
    public static final class Probe {
        static volatile Instrumentation inst;

        private Probe() {
        }

        public static void premain(String args, Instrumentation i) {
            inst = i;
        }
    }

    /** Its own class so that AgentTests never links against jdk.httpserver (absent on some runtimes). */
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
            History h = new History();
            Dispatcher d = new Dispatcher(new Ops(Probe.inst, new Registry(h), h));
            Server channel = new Server(Path.of(args[0]).resolve("priv"), d);
            check(channel.start(true) == null, "channel did not start");
            Frame[] drained = new Frame[1];
            long t0 = System.nanoTime();
            Thread drainer = new Thread(() -> {
                try (SocketChannel c = connect(channel)) {
                    send(c, Frame.encode(header("op", "drain", "id", 7L, "seconds", 5L), null));
                    drained[0] = readFrame(c);
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            drainer.start();
            Thread.sleep(100);
            long helloMs;
            try (SocketChannel c = connect(channel)) {
                long t1 = System.nanoTime();
                send(c, Frame.encode(header("op", "hello", "id", 1L), null));
                eq(true, readFrame(c).header.get("ok"));
                helloMs = (System.nanoTime() - t1) / 1_000_000;
            }
            check(drainer.isAlive(), "the drain ended before the other connection was served");
            drainer.join(15_000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            channel.stop();
            check(drained[0] != null, "no answer to the drain");
            Map<String, Object> r = drained[0].header;
            eq(true, r.get("ok"));
            eq(7L, r.get("id"));
            List<?> servers = (List<?>) r.get("servers");
            eq(2, servers.size());
            List<String> want = new ArrayList<>(Arrays.asList(plain.getAddress().toString(), pooled.getAddress().toString()));
            for (Object o : servers) {
                Map<?, ?> m = (Map<?, ?>) o;
                eq("jdk.httpserver", m.get("kind"));
                check(want.remove(m.get("address")), "unexpected address " + m.get("address") + " in " + Json.write(r));
                check(m.get("stopped_ms") instanceof Long && (Long) m.get("stopped_ms") >= 0, "stopped_ms in " + Json.write(r));
                check(!m.containsKey("error"), "error in " + Json.write(r));
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
            eq(new ArrayList<>(), drain(d, 8L, 5L).get("servers"));
            pool.shutdown();
            System.out.println("drain: 2 servers on JDK " + System.getProperty("java.version") + " stopped in " + ms + " ms: "
                    + Json.write(servers) + "; a hello on another connection meanwhile took " + helloMs + " ms");
        }

        private static com.sun.net.httpserver.HttpServer server(java.util.concurrent.Executor executor) throws IOException {
            com.sun.net.httpserver.HttpServer s = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
            s.setExecutor(executor);
            return s;
        }
    }

    // ---------------------------------------------------------------- inventory, resources, define, deploy

    static void testInventoryAndResourcesNeedInstrumentationOrALoader() throws Exception {
        Dispatcher d = dispatcher();
        expectError(d.handle(body(Frame.encode(header("op", "inventory", "id", 1L), null)), new Dispatcher.Session("unix", null)), "internal", false);
        expectError(d.handle(body(Frame.encode(header("op", "resources", "id", 2L, "names", new ArrayList<>()), null)),
                new Dispatcher.Session("unix", null)), "protocol", true);
        expectError(d.handle(body(Frame.encode(header("op", "rollback", "id", 3L, "deploy", 5L), null)), new Dispatcher.Session("unix", null)), "protocol", true);
        eq(new ArrayList<>(), reply(d.handle(body(Frame.encode(header("op", "history", "id", 4L), null)), new Dispatcher.Session("unix", null))).get("deploys"));
    }

    static void testOuterJarOfResourceUrls() {
        eq("/a/app.jar", Inventory.Freshness.outerJar("jar:file:/a/app.jar!/x/Y.class"));
        eq("/a/app.jar", Inventory.Freshness.outerJar("jar:file:/a/app.jar!/BOOT-INF/lib/b.jar!/x/Y.class"));
        eq("/a/my app.jar", Inventory.Freshness.outerJar("jar:file:/a/my%20app.jar!/x/Y.class"));
        eq("/a/app.jar", Inventory.Freshness.outerJar("jar:nested:/a/app.jar/!BOOT-INF/classes/!/x/Y.class"));
        eq(null, Inventory.Freshness.outerJar("file:/a/classes/x/Y.class"));
        eq(null, Inventory.Freshness.outerJar("vfs:/a/x/Y.class"));
    }

    /** Runs DeployChild in a JVM with an Instrumentation that may redefine and retransform. */
    static void testDeployOpsInAChildJvm() throws Exception {
        Path dir = tempDir();
        Path jar = dir.resolve("probe.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Premain-Class", Probe.class.getName());
        mf.getMainAttributes().putValue("Can-Redefine-Classes", "true");
        mf.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        new JarOutputStream(Files.newOutputStream(jar), mf).close();
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:auto",
                "-javaagent:" + jar, "-cp", System.getProperty("java.class.path"), "dev.jhot.agent.AgentTests$DeployChild", dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log);
        check(done && p.exitValue() == 0, "deploy child " + (done ? "failed" : "hung") + ":\n" + out);
        for (String line : out.split("\n")) if (line.startsWith("deploy:")) System.out.println("      " + line);
    }

    /** Rewrites every CONSTANT_Utf8 of a class file, replacing `from` by `to`: how the tests get
     *  a second version of a class without a compiler at run time (GreeterV2 → Greeter). */
    static byte[] rename(byte[] b, String from, String to) throws IOException {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(b));
        java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bo);
        out.writeLong(in.readLong()); // magic, versions
        int count = in.readUnsignedShort();
        out.writeShort(count);
        for (int k = 1; k < count; k++) {
            int tag = in.readUnsignedByte();
            out.writeByte(tag);
            switch (tag) {
                case 1: out.writeUTF(in.readUTF().replace(from, to)); break;
                case 7: case 8: case 16: case 19: case 20: out.writeShort(in.readUnsignedShort()); break;
                case 15: out.writeByte(in.readUnsignedByte()); out.writeShort(in.readUnsignedShort()); break;
                case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18: out.writeInt(in.readInt()); break;
                case 5: case 6: out.writeLong(in.readLong()); k++; break;
                default: throw new IOException("tag " + tag);
            }
        }
        out.write(in.readAllBytes());
        return bo.toByteArray();
    }

    static String sha(byte[] b) throws Exception {
        return ClassBytes.hex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    public static final class DeployChild {
        private DeployChild() {
        }

        static Dispatcher d;

        static Map<String, Object> ask(Map<String, Object> req, List<byte[]> blobs) throws Failure {
            return reply(d.handle(body(Frame.encode(req, blobs)), new Dispatcher.Session("unix", null)));
        }

        static Map<String, Object> ok(Map<String, Object> req, List<byte[]> blobs) throws Failure {
            Map<String, Object> r = ask(req, blobs);
            check(Boolean.TRUE.equals(r.get("ok")), req.get("op") + " failed: " + Json.write(r));
            return r;
        }

        static Map<?, ?> fails(String kind, Map<String, Object> req, List<byte[]> blobs) throws Failure {
            Map<String, Object> r = ask(req, blobs);
            check(Boolean.FALSE.equals(r.get("ok")), req.get("op") + " succeeded: " + Json.write(r));
            Map<?, ?> e = (Map<?, ?>) r.get("error");
            eq(kind, e.get("kind"));
            return e;
        }

        static byte[] fixture(String internal) throws IOException {
            try (InputStream in = AgentTests.class.getClassLoader().getResourceAsStream(internal + ".class")) {
                return in.readAllBytes();
            }
        }

        static Path jar(Path p, Map<String, byte[]> entries) throws IOException {
            try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(p))) {
                for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                    z.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                    z.write(e.getValue());
                    z.closeEntry();
                }
            }
            // As a jar built before the JVM started: inventory trusts only such jars' resources.
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            return p;
        }

        static Object call(ClassLoader l, String cls, String method) throws Exception {
            return Class.forName(cls, true, l).getMethod(method).invoke(null);
        }

        /** inventory's entries of classes whose name starts with prefix, by name. */
        static Map<String, Map<?, ?>> inventory(String prefix, long[] ms) throws Failure {
            long t0 = System.nanoTime();
            Map<String, Object> r = ok(header("op", "inventory", "id", 1L), null);
            if (ms != null) ms[0] = (System.nanoTime() - t0) / 1_000_000;
            Map<String, Map<?, ?>> out = new LinkedHashMap<>();
            for (Object o : (List<?>) r.get("classes")) {
                Map<?, ?> m = (Map<?, ?>) o;
                String n = (String) m.get("name");
                check(!n.startsWith("dev.jhot.agent."), "inventory lists the agent's " + n);
                if (n.startsWith(prefix)) check(out.put(n, m) == null, n + " listed twice in one loader");
            }
            check((Long) r.get("skipped") > 0, "nothing skipped");
            out.put("", r);
            return out;
        }

        public static void main(String[] args) throws Exception {
            Instrumentation inst = Probe.inst;
            check(inst != null && inst.isRetransformClassesSupported(), "no Instrumentation: start with -javaagent");
            Path dir = Path.of(args[0]);
            History h = new History();
            Registry.warmUp();
            Registry registry = new Registry(h);
            inst.addTransformer(registry, true);
            Ops ops = new Ops(inst, registry, h);
            d = new Dispatcher(ops);
            ClassLoader platform = ClassLoader.getPlatformClassLoader();

            byte[] greeter = fixture("jhotfx/Greeter");
            byte[] greeterV2 = rename(fixture("jhotfx/GreeterV2"), "jhotfx/GreeterV2", "jhotfx/Greeter");
            byte[] lazy = fixture("jhotfx/Lazy");
            byte[] lazyV2 = rename(fixture("jhotfx/LazyV2"), "jhotfx/LazyV2", "jhotfx/Lazy");
            byte[] props = "greeting=hi\n".getBytes(StandardCharsets.UTF_8);
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("jhotfx/Greeter.class", greeter);
            entries.put("jhotfx/Lazy.class", lazy);
            entries.put("app.properties", props);
            entries.put("templates/a.html", new byte[] {'<', 'p', '>'});
            Path appJar = jar(dir.resolve("app.jar"), entries);
            java.net.URLClassLoader app = new java.net.URLClassLoader("fx-jar", new java.net.URL[] {appJar.toUri().toURL()}, platform);
            String appId = Loaders.id(app);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            // A class directory, rewritten after the class loaded from it.
            byte[] boxed = fixture("jhotfx/dir/Boxed");
            Path classes = dir.resolve("classes");
            Path boxedFile = classes.resolve("jhotfx/dir/Boxed.class");
            Files.createDirectories(boxedFile.getParent());
            Files.write(boxedFile, boxed);
            java.net.URLClassLoader dirLoader = new java.net.URLClassLoader("fx-dir", new java.net.URL[] {classes.toUri().toURL()}, platform);
            eq("boxed", call(dirLoader, "jhotfx.dir.Boxed", "v"));
            byte[] rebuilt = rename(boxed, "boxed", "BOXED");
            Files.write(boxedFile, rebuilt);

            // A jar replaced (by rename, as builds do) after its class loaded, keeping an old mtime.
            Map<String, byte[]> one = new LinkedHashMap<>();
            byte[] staleBytes = rename(fixture("jhotfx/Helper"), "jhotfx/Helper", "jhotfx/Stale");
            one.put("jhotfx/Stale.class", staleBytes);
            Path staleJar = jar(dir.resolve("stale.jar"), one);
            java.net.URLClassLoader stale = new java.net.URLClassLoader("fx-stale", new java.net.URL[] {staleJar.toUri().toURL()}, platform);
            eq("helper", call(stale, "jhotfx.Stale", "hi"));
            one.put("jhotfx/Stale.class", rename(staleBytes, "helper", "HELPER"));
            Path next = jar(dir.resolve("stale.jar.new"), one);
            Files.move(next, staleJar, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

            // ---- inventory
            Map<String, Map<?, ?>> inv = inventory("jhotfx.", null);
            Map<?, ?> g = inv.get("jhotfx.Greeter");
            check(g != null, "jhotfx.Greeter not in the inventory");
            eq(appId, g.get("loader"));
            eq("resource", g.get("source"));
            eq(sha(greeter), g.get("sha256"));
            Map<?, ?> b = inv.get("jhotfx.dir.Boxed");
            eq("captured", b.get("source"));
            Map<String, Object> running = ok(header("op", "bytes", "id", 2L, "classes", Arrays.asList("jhotfx.dir.Boxed"), "loader", null), new ArrayList<>());
            check(!sha(rebuilt).equals(b.get("sha256")), "the rewritten class file was hashed, not the loaded class");
            check(b.get("sha256") != null && ((String) b.get("sha256")).length() == 64, "captured hash " + b.get("sha256"));
            Map<?, ?> s = inv.get("jhotfx.Stale");
            eq(Loaders.id(stale), s.get("loader"));
            eq("captured", s.get("source"));
            Map<?, ?> loader = null;
            for (Object o : (List<?>) inv.get("").get("loaders")) if (appId.equals(((Map<?, ?>) o).get("id"))) loader = (Map<?, ?>) o;
            check(loader != null, "loader " + appId + " not listed");
            eq("fx-jar", loader.get("name"));
            eq("java.net.URLClassLoader", loader.get("class"));
            eq(Loaders.id(platform), loader.get("parent"));
            eq(1L, loader.get("classes"));
            eq(1, ((List<?>) running.get("classes")).size());
            System.out.println("deploy: the captured bytes of a rewritten class-dir entry " + (sha(boxed).equals(b.get("sha256")) ? "equal" : "differ from")
                    + " its original class file");

            // ---- resources
            Map<String, Object> rs = ok(header("op", "resources", "id", 3L, "loader", appId,
                    "names", Arrays.asList("app.properties", "templates/a.html", "absent.txt")), null);
            List<?> list = (List<?>) rs.get("resources");
            eq(3, list.size());
            eq(sha(props), ((Map<?, ?>) list.get(0)).get("sha256"));
            check(String.valueOf(((Map<?, ?>) list.get(0)).get("url")).startsWith("jar:file:"), "url " + list.get(0));
            eq(sha(new byte[] {'<', 'p', '>'}), ((Map<?, ?>) list.get(1)).get("sha256"));
            eq(null, ((Map<?, ?>) list.get(2)).get("sha256"));
            eq(null, ((Map<?, ?>) list.get(2)).get("url"));
            eq("absent.txt", ((Map<?, ?>) list.get(2)).get("name"));
            fails("input", header("op", "resources", "id", 4L, "loader", "0x0", "names", Arrays.asList("a")), null);

            // ---- a deploy: Greeter v2 needs Helper (package jhotfx, Lookup) and Util (new package,
            // ClassLoader.defineClass) whose superclass Base comes after it; Lazy is pending.
            List<byte[]> blobs = Arrays.asList(greeterV2, fixture("jhotfx/fresh/Util"), fixture("jhotfx/fresh/Base"), fixture("jhotfx/Helper"), lazyV2);
            Map<String, Object> deploy1 = header("op", "redefine", "id", 5L, "loader", appId, "pending", true,
                    "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L), header("name", "jhotfx.Lazy", "blob", 4L)),
                    "define", Arrays.asList(header("name", "jhotfx.fresh.Util", "blob", 1L, "loader", appId),
                            header("name", "jhotfx.fresh.Base", "blob", 2L, "loader", appId),
                            header("name", "jhotfx.Helper", "blob", 3L, "loader", appId)),
                    "deploy", header("id", "d1", "build", "/b/app-v2.jar", "sha256", "aa"));
            Map<String, Object> r = ok(deploy1, blobs);
            eq(new java.util.HashSet<>(Arrays.asList("jhotfx.fresh.Util", "jhotfx.fresh.Base", "jhotfx.Helper")), new java.util.HashSet<>((List<?>) r.get("defined")));
            eq(Arrays.asList("jhotfx.Lazy"), r.get("pending"));
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));
            for (String n : new String[] {"jhotfx.Helper", "jhotfx.fresh.Util", "jhotfx.fresh.Base"}) {
                Class<?> c = Class.forName(n, false, app);
                check(c.getClassLoader() == app, n + " defined into " + c.getClassLoader());
                eq(app.loadClass("jhotfx.Greeter").getProtectionDomain().getCodeSource(), c.getProtectionDomain().getCodeSource());
            }
            inv = inventory("jhotfx.", null);
            eq("patched", inv.get("jhotfx.Greeter").get("source"));
            eq(sha(greeterV2), inv.get("jhotfx.Greeter").get("sha256"));
            // No class file in the jar: listed without a hash (the client asks for its bytes).
            eq("generated", inv.get("jhotfx.fresh.Util").get("source"));
            eq(null, inv.get("jhotfx.fresh.Util").get("sha256"));
            check(!inv.containsKey("jhotfx.Lazy"), "Lazy is not loaded yet");

            // Already loaded in that loader: refused before anything changes.
            Map<?, ?> e = fails("input", header("op", "redefine", "id", 6L, "loader", appId,
                    "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L)),
                    "define", Arrays.asList(header("name", "jhotfx.Helper", "blob", 1L, "loader", appId))), Arrays.asList(greeter, fixture("jhotfx/Helper")));
            check(String.valueOf(e.get("message")).contains("already loaded"), "message " + e);
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));

            // A second deploy, then: only the newest can be undone.
            r = ok(header("op", "redefine", "id", 7L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L)),
                    "deploy", header("id", "d2", "build", "/b/app-v3.jar", "sha256", "bb")), Arrays.asList(greeter));
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            List<?> deploys = (List<?>) ok(header("op", "history", "id", 8L), null).get("deploys");
            eq(2, deploys.size());
            Map<?, ?> d1 = (Map<?, ?>) deploys.get(0);
            eq("d1", d1.get("id"));
            eq("/b/app-v2.jar", d1.get("build"));
            eq("aa", d1.get("sha256"));
            eq(false, d1.get("rolled_back"));
            eq(Arrays.asList("jhotfx.Lazy"), d1.get("pending"));
            eq("jhotfx.Greeter", ((Map<?, ?>) ((List<?>) d1.get("redefined")).get(0)).get("name"));
            eq(3, ((List<?>) d1.get("defined")).size());
            e = fails("input", header("op", "rollback", "id", 9L, "deploy", "d1"), null);
            check(String.valueOf(e.get("message")).contains("newest"), "message " + e);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            r = ok(header("op", "rollback", "id", 10L, "deploy", "last"), null);
            eq("d2", r.get("deploy"));
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));
            r = ok(header("op", "rollback", "id", 11L, "deploy", "d1"), null);
            eq("d1", r.get("deploy"));
            eq(Arrays.asList("jhotfx.Lazy"), r.get("unpending"));
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            eq(null, registry.getPending("jhotfx.Lazy"));
            eq(0, registry.patchedCount());
            inv = inventory("jhotfx.", null);
            eq("resource", inv.get("jhotfx.Greeter").get("source"));
            eq(sha(greeter), inv.get("jhotfx.Greeter").get("sha256"));
            e = fails("input", header("op", "rollback", "id", 12L, "deploy", "last"), null);
            deploys = (List<?>) ok(header("op", "history", "id", 13L), null).get("deploys");
            for (Object o : deploys) eq(true, ((Map<?, ?>) o).get("rolled_back"));

            // A pending class that loads after the deploy is restored to what it loaded from.
            ok(header("op", "redefine", "id", 14L, "loader", appId, "pending", true, "classes", Arrays.asList(header("name", "jhotfx.Lazy", "blob", 0L)),
                    "deploy", header("id", "d3", "build", "/b/app-v4.jar", "sha256", "cc")), Arrays.asList(lazyV2));
            eq("lazy2", call(app, "jhotfx.Lazy", "v"));
            r = ok(header("op", "rollback", "id", 15L, "deploy", "last"), null);
            eq("jhotfx.Lazy", ((Map<?, ?>) ((List<?>) r.get("rolled_back")).get(0)).get("name"));
            eq("lazy1", call(app, "jhotfx.Lazy", "v"));

            // A later plain redefine of a deployed class makes the deploy's undo ambiguous: refused.
            ok(header("op", "redefine", "id", 16L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L)),
                    "deploy", header("id", "d4", "build", "/b/app-v5.jar", "sha256", "dd")), Arrays.asList(greeterV2));
            ok(header("op", "redefine", "id", 17L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L))), Arrays.asList(greeter));
            e = fails("input", header("op", "rollback", "id", 18L, "deploy", "d4"), null);
            check(String.valueOf(e.get("message")).contains("changed after"), "message " + e);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            // A retransformation while patched makes HotSpot cache "initial" bytes that it would
            // later retransform a rolled-back class back into; the registry pins the rollback.
            Class<?> greeterClass = app.loadClass("jhotfx.Greeter");
            ok(header("op", "redefine", "id", 19L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L))), Arrays.asList(greeterV2));
            inst.retransformClasses(greeterClass);
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));
            ok(header("op", "rollback", "id", 20L, "classes", new ArrayList<>()), null);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            inst.retransformClasses(greeterClass);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            ok(header("op", "bytes", "id", 21L, "classes", Arrays.asList("jhotfx.Greeter"), "loader", appId), null);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            // ---- timing on many classes: from a jar (resources) and from a class directory (captured).
            int n = 5000;
            byte[] helper = fixture("jhotfx/Helper");
            Map<String, byte[]> many = new LinkedHashMap<>();
            for (int k = 0; k < n; k++) many.put(String.format("jhotfx/many/H%04d.class", k), rename(helper, "jhotfx/Helper", String.format("jhotfx/many/H%04d", k)));
            java.net.URLClassLoader manyJar = new java.net.URLClassLoader("fx-many", new java.net.URL[] {jar(dir.resolve("many.jar"), many).toUri().toURL()}, platform);
            for (int k = 0; k < n; k++) Class.forName(String.format("jhotfx.many.H%04d", k), false, manyJar);
            long[] ms = new long[1];
            long[] first = new long[1];
            inventory("jhotfx.many.", first);
            inv = inventory("jhotfx.many.", ms);
            eq(n + 1, inv.size());
            for (Map.Entry<String, Map<?, ?>> en : inv.entrySet()) {
                if (en.getKey().isEmpty()) continue;
                eq("resource", en.getValue().get("source"));
                eq(sha(many.get(en.getKey().replace('.', '/') + ".class")), en.getValue().get("sha256"));
            }
            int total = ((List<?>) inv.get("").get("classes")).size();
            int nd = 2000;
            Path manyDir = dir.resolve("many-classes");
            int fresh = 100; // rebuilt since the JVM started: captured (on JDK 11 ~10 ms each)
            for (int k = 0; k < nd; k++) {
                Path f = manyDir.resolve(String.format("jhotfx/dirs/D%04d.class", k));
                Files.createDirectories(f.getParent());
                Files.write(f, rename(helper, "jhotfx/Helper", String.format("jhotfx/dirs/D%04d", k)));
                if (k >= fresh) Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            }
            java.net.URLClassLoader manyDirs = new java.net.URLClassLoader("fx-many-dir", new java.net.URL[] {manyDir.toUri().toURL()}, platform);
            for (int k = 0; k < nd; k++) Class.forName(String.format("jhotfx.dirs.D%04d", k), false, manyDirs);
            long[] ms2 = new long[1];
            inv = inventory("jhotfx.dirs.", ms2);
            eq(nd + 1, inv.size());
            int captured = 0;
            for (Map.Entry<String, Map<?, ?>> en : inv.entrySet()) {
                if (en.getKey().isEmpty()) continue;
                eq(Integer.parseInt(en.getKey().substring("jhotfx.dirs.D".length())) < fresh ? "captured" : "resource", en.getValue().get("source"));
                if ("captured".equals(en.getValue().get("source"))) {
                    captured++;
                    check(en.getValue().get("sha256") != null, "no hash for " + en.getKey());
                } else {
                    eq(sha(rename(helper, "jhotfx/Helper", en.getKey().replace('.', '/'))), en.getValue().get("sha256"));
                }
            }
            System.out.println("deploy: inventory of " + total + " classes (" + n + " from one jar): " + ms[0] + " ms (first call " + first[0]
                    + " ms); with " + nd + " more from a class directory (" + captured + " captured): " + ms2[0] + " ms, on JDK " + System.getProperty("java.version"));
        }
    }

    // ---------------------------------------------------------------- send_fds

    static Dispatcher.Reply sendFds(Dispatcher d, Object lib, Object socket, Object fds) {
        return d.handle(body(Frame.encode(header("op", "send_fds", "id", 11L, "lib", lib, "socket", socket, "fds", fds), null)),
                new Dispatcher.Session("unix", null));
    }

    static Ops opsIn(Path dir) {
        History h = new History();
        Ops ops = new Ops(null, new Registry(h), h);
        ops.privateDir = dir;
        return ops;
    }

    static void testSendFdsRefusesPathsOutsideThePrivateDir() throws Exception {
        Path dir = tempDir().resolve("priv");
        eq(null, PrivateDir.check(dir, PrivateDir.euid()));
        Path elsewhere = tempDir();
        Dispatcher d = new Dispatcher(opsIn(dir));
        String lib = dir.resolve("libjhot_jni-0123.so").toString();
        String sock = dir.resolve("fds.sock").toString();
        List<Long> fds = Arrays.asList(1L, 2L);
        Files.createSymbolicLink(dir.resolve("link.so"), elsewhere.resolve("libjhot_jni.so"));
        Object[][] refused = {
            {elsewhere.resolve("libjhot_jni.so").toString(), sock},
            {lib, "/tmp/fds.sock"},
            {lib, dir + "/../fds.sock"},
            {dir + "/./libjhot_jni.so", sock},
            {"libjhot_jni.so", sock},
            {lib, dir.resolve("sub/fds.sock").toString()},
            {lib, dir.toString()},
            {dir.resolve("link.so").toString(), sock},
        };
        for (Object[] c : refused) {
            Map<?, ?> err = expectError(sendFds(d, c[0], c[1], fds), "refused", false);
            check(((String) err.get("message")).contains(c[0].equals(lib) ? (String) c[1] : (String) c[0]), "message names the path: " + err);
        }
        // A directory others may write to is no private directory.
        Path open = tempDir().resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Map<?, ?> err = expectError(sendFds(new Dispatcher(opsIn(open)), open.resolve("l.so").toString(), open.resolve("s.sock").toString(), fds), "refused", false);
        check(((String) err.get("message")).contains("mode"), "unsafe dir: " + err);
        expectError(sendFds(new Dispatcher(opsIn(null)), lib, sock, fds), "refused", false);
        // Malformed requests.
        expectError(sendFds(d, lib, sock, new ArrayList<>()), "protocol", true);
        expectError(sendFds(d, lib, sock, Arrays.asList(-1L)), "protocol", true);
        expectError(sendFds(d, lib, sock, Arrays.asList("1")), "protocol", true);
        expectError(sendFds(d, lib, sock, java.util.Collections.nCopies(33, 1L)), "protocol", true);
        expectError(sendFds(d, null, sock, fds), "protocol", true);
        expectError(sendFds(d, lib, 5L, fds), "protocol", true);
    }

    static void testSendFdsReportsAMissingLibrary() throws Exception {
        Path dir = tempDir().resolve("priv");
        eq(null, PrivateDir.check(dir, PrivateDir.euid()));
        Dispatcher d = new Dispatcher(opsIn(dir));
        String missing = dir.resolve("libjhot_jni-missing.so").toString();
        Map<?, ?> err = expectError(sendFds(d, missing, dir.resolve("fds.sock").toString(), Arrays.asList(1L)), "native", false);
        String m = (String) err.get("message");
        check(m.contains("UnsatisfiedLinkError") && m.contains(missing), "message: " + m);
        // Not remembered as loaded: the right library still loads afterwards (testSendFdsWithTheNativeLibrary).
    }

    /** With a built library (JHOT_JNI_LIB or -Djhot.jni.lib): the whole op, over a real socket.
     *  Java cannot receive SCM_RIGHTS; native/jni/tests checks that the descriptors arrive. */
    static void testSendFdsWithTheNativeLibrary() throws Exception {
        String built = System.getProperty("jhot.jni.lib", System.getenv("JHOT_JNI_LIB"));
        if (built == null || built.isEmpty()) throw new Skip("set JHOT_JNI_LIB to a built libjhot_jni.so to run it");
        if (!unixAvailable()) throw new Skip("JDK " + System.getProperty("java.version") + " has no Unix domain sockets in java.nio");
        Path dir = tempDir().resolve("priv");
        eq(null, PrivateDir.check(dir, PrivateDir.euid()));
        Path lib = dir.resolve("libjhot_jni-test.so");
        Files.copy(Path.of(built), lib);
        Path sock = dir.resolve("fds.sock");
        ProtocolFamily unix = StandardProtocolFamily.valueOf("UNIX");
        Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class).invoke(null, sock);
        Dispatcher d = new Dispatcher(opsIn(dir));
        try (ServerSocketChannel l = (ServerSocketChannel) ServerSocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix)) {
            l.bind((SocketAddress) addr);
            // The kernel queues the connection and the message: the op completes before the accept.
            Map<String, Object> r = reply(sendFds(d, lib.toString(), sock.toString(), Arrays.asList(1L, 2L)));
            eq(true, r.get("ok"));
            eq(2L, r.get("sent"));
            try (SocketChannel c = l.accept()) {
                ByteBuffer b = ByteBuffer.allocate(8);
                while (c.read(b) >= 0) {
                    // until the sender closes
                }
                eq(4, b.position());
                eq(2, b.flip().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
            }
            eq(true, reply(sendFds(d, lib.toString(), sock.toString(), Arrays.asList(0L))).get("ok"));
            l.accept().close();
            Map<?, ?> err = expectError(sendFds(d, lib.toString(), sock.toString(), Arrays.asList(1L, 100000L)), "io", false);
            check(((String) err.get("message")).contains("fd 100000"), "bad fd: " + err);
        }
        Map<?, ?> err = expectError(sendFds(d, lib.toString(), dir.resolve("gone.sock").toString(), Arrays.asList(1L)), "io", false);
        check(((String) err.get("message")).contains("connecting to " + dir.resolve("gone.sock")), "no listener: " + err);
        Path other = dir.resolve("libjhot_jni-other.so");
        Files.copy(lib, other);
        err = expectError(sendFds(d, other.toString(), sock.toString(), Arrays.asList(1L)), "native", false);
        check(((String) err.get("message")).contains("already loaded"), "second library: " + err);
    }

    // ---------------------------------------------------------------- private directory

    static Path tempDir() throws IOException {
        Path d = Files.createTempDirectory("jhot-test");
        cleanup.add(d);
        return d;
    }

    static void testPrivateDir() throws Exception {
        Path base = tempDir();
        int uid = PrivateDir.euid();
        Path fresh = base.resolve("fresh");
        eq(null, PrivateDir.check(fresh, uid));
        eq("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
        eq(null, PrivateDir.check(fresh, uid));

        Path open = base.resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        String why = PrivateDir.check(open, uid);
        check(why != null && why.contains("mode"), "0755 accepted: " + why);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwx-----x"));
        check(PrivateDir.check(open, uid) != null, "0701 accepted");

        Path link = base.resolve("link");
        Files.createSymbolicLink(link, fresh);
        why = PrivateDir.check(link, uid);
        check(why != null && why.contains("symlink"), "symlink accepted: " + why);

        Path file = base.resolve("file");
        Files.write(file, new byte[0]);
        check(PrivateDir.check(file, uid) != null, "plain file accepted");

        why = PrivateDir.check(fresh, uid + 1);
        check(why != null && why.contains("owned"), "other owner accepted: " + why);
    }

    // ---------------------------------------------------------------- server over real sockets

    static boolean unixAvailable() {
        try {
            StandardProtocolFamily.valueOf("UNIX");
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    static Server startServer(Path dir, boolean allowUnix, long idleMillis) {
        History h = new History();
        Server s = new Server(dir, new Dispatcher(new Ops(null, new Registry(h), h)));
        s.idleMillis = idleMillis;
        String problem = s.start(allowUnix);
        check(problem == null, "server did not start: " + problem);
        return s;
    }

    static SocketChannel connect(Server s) throws Exception {
        long pid = ProcessHandle.current().pid();
        if (s.channel().equals("unix")) {
            ProtocolFamily unix = StandardProtocolFamily.valueOf("UNIX");
            Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class)
                    .invoke(null, s.dir.resolve(pid + ".sock"));
            SocketChannel ch = (SocketChannel) SocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
            ch.connect((SocketAddress) addr);
            return ch;
        }
        String[] line = Files.readString(s.dir.resolve(pid + ".port")).trim().split(" ");
        return SocketChannel.open(new InetSocketAddress("127.0.0.1", Integer.parseInt(line[0])));
    }

    /** Reads one whole frame, or returns null at EOF; fails after 5 s so a bug cannot hang the run. */
    static Frame readFrame(SocketChannel ch) throws Exception {
        ch.configureBlocking(false);
        try (Selector sel = Selector.open()) {
            ch.register(sel, SelectionKey.OP_READ);
            FrameReader r = new FrameReader();
            ByteBuffer buf = ByteBuffer.allocate(1);
            long deadline = System.currentTimeMillis() + 5000;
            while (true) {
                long left = deadline - System.currentTimeMillis();
                check(left > 0, "no reply within 5 s");
                sel.select(left);
                sel.selectedKeys().clear();
                int n = ch.read(buf);
                if (n < 0) return null;
                if (n == 0) continue;
                buf.flip();
                byte[] body = r.feed(buf);
                buf.clear();
                if (body != null) return Frame.decode(body);
            }
        }
    }

    static void send(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) ch.write(b);
    }

    static void testServerSurvivesGarbage() throws Exception {
        Path dir = tempDir().resolve("priv");
        Server s = startServer(dir, true, 60_000);
        try {
            eq(unixAvailable() ? "unix" : "tcp", s.channel());
            long pid = ProcessHandle.current().pid();
            Path chan = dir.resolve(pid + (unixAvailable() ? ".sock" : ".port"));
            check(Files.exists(chan), "channel file " + chan);
            eq("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(chan)));
            String token = s.token();
            byte[] helloFrame = Frame.encode(header("op", "hello", "id", 7L, "protocol", 1L, "token", token), null);

            // 1: a bad version byte inside a well-formed length.
            try (SocketChannel c = connect(s)) {
                send(c, raw(12, (byte) 9, new byte[11]));
                Frame f = readFrame(c);
                eq("protocol", ((Map<?, ?>) f.header.get("error")).get("kind"));
                eq(0L, f.id);
                check(readFrame(c) == null, "connection not closed after a protocol error");
            }
            // 2: an oversized length.
            try (SocketChannel c = connect(s)) {
                send(c, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3});
                Frame f = readFrame(c);
                eq("protocol", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "connection not closed after an oversized frame");
            }
            // 3: a frame cut short by the peer.
            try (SocketChannel c = connect(s)) {
                send(c, Arrays.copyOf(helloFrame, helloFrame.length - 3));
                c.shutdownOutput();
                Frame f = readFrame(c);
                eq("protocol", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "connection not closed after a truncated frame");
            }
            // 4: random bytes, then the peer vanishes.
            try (SocketChannel c = connect(s)) {
                byte[] junk = new byte[5000];
                new java.util.Random(1).nextBytes(junk);
                junk[0] = 0;
                junk[1] = 0;
                send(c, junk);
            }
            // The server still answers, and several requests share one connection.
            try (SocketChannel c = connect(s)) {
                byte[] history = Frame.encode(header("op", "history", "id", 8L), null);
                byte[] both = Arrays.copyOf(helloFrame, helloFrame.length + history.length);
                System.arraycopy(history, 0, both, helloFrame.length, history.length);
                send(c, both);
                Frame f = readFrame(c);
                eq(7L, f.id);
                eq(true, f.header.get("ok"));
                eq(pid, f.header.get("pid"));
                eq(s.channel(), f.header.get("channel"));
                f = readFrame(c);
                eq(8L, f.id);
                eq(true, f.header.get("ok"));
            }
        } finally {
            s.stop();
        }
        check(!Files.exists(dir.resolve(ProcessHandle.current().pid() + ".sock")), "socket file left behind");
        check(!Files.exists(dir.resolve(ProcessHandle.current().pid() + ".port")), "port file left behind");
    }

    static void testTcpChannelNeedsToken() throws Exception {
        Path dir = tempDir().resolve("priv");
        Server s = startServer(dir, false, 60_000);
        try {
            eq("tcp", s.channel());
            Path port = dir.resolve(ProcessHandle.current().pid() + ".port");
            eq("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(port)));
            String line = Files.readString(port);
            check(line.matches("[0-9]+ [0-9a-f]{64}\n"), "port file " + line);
            String token = line.trim().split(" ")[1];
            eq(token, s.token());
            try (Stream<Path> files = Files.list(dir)) {
                eq(1L, files.count()); // no temp file left next to it
            }
            try (SocketChannel c = connect(s)) {
                send(c, Frame.encode(header("op", "history", "id", 1L), null));
                Frame f = readFrame(c);
                eq("auth", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "unauthenticated connection kept");
            }
            try (SocketChannel c = connect(s)) {
                // Differs from the token in its first digit whatever that digit is.
                String wrong = (token.charAt(0) == '0' ? "1" : "0") + token.substring(1);
                send(c, Frame.encode(header("op", "hello", "id", 1L, "token", wrong), null));
                eq("auth", ((Map<?, ?>) readFrame(c).header.get("error")).get("kind"));
            }
            // Before authenticating, a peer cannot make the agent buffer a large frame.
            try (SocketChannel c = connect(s)) {
                send(c, new byte[] {0, 0x10, 0, 0});
                eq("protocol", ((Map<?, ?>) readFrame(c).header.get("error")).get("kind"));
            }
            try (SocketChannel c = connect(s)) {
                send(c, Frame.encode(header("op", "hello", "id", 2L, "token", token), null));
                Frame f = readFrame(c);
                eq(true, f.header.get("ok"));
                eq("tcp", f.header.get("channel"));
                send(c, Frame.encode(header("op", "history", "id", 3L), null));
                eq(true, readFrame(c).header.get("ok"));
            }
        } finally {
            s.stop();
        }
    }

    static void testIdleConnectionIsClosed() throws Exception {
        Server s = startServer(tempDir().resolve("priv"), true, 300);
        try (SocketChannel c = connect(s)) {
            long t0 = System.nanoTime();
            send(c, new byte[] {0, 0}); // half a length, then silence
            check(readFrame(c) == null, "idle connection got a frame");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check(ms >= 250 && ms < 4000, "closed after " + ms + " ms");
        } finally {
            s.stop();
        }
    }

    static void testConnectionLimit() throws Exception {
        Path dir = tempDir().resolve("priv");
        History h = new History();
        Server s = new Server(dir, new Dispatcher(new Ops(null, new Registry(h), h)));
        s.maxConnections = 2;
        check(s.start(true) == null, "start");
        try {
            String token = s.token();
            try (SocketChannel a = connect(s); SocketChannel b = connect(s); SocketChannel c = connect(s)) {
                if (token != null) {
                    // Over TCP only connections that showed the token take a slot (the others
                    // have a pool of their own: testTcpPeersThatDoNotAuthenticate).
                    for (SocketChannel x : Arrays.asList(a, b)) {
                        send(x, Frame.encode(header("op", "hello", "id", 1L, "token", token), null));
                        eq(true, readFrame(x).header.get("ok"));
                    }
                    send(c, Frame.encode(header("op", "hello", "id", 1L, "token", token), null));
                }
                Frame f = readFrame(c);
                eq("internal", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "third connection kept");
                check(b.isOpen(), "second connection");
                send(a, Frame.encode(header("op", "hello", "id", 1L, "token", token), null));
                eq(true, readFrame(a).header.get("ok"));
            }
            // Closed connections free their slots (the server notices the close asynchronously).
            for (int k = 0; k < 50; k++) {
                try (SocketChannel c = connect(s)) {
                    send(c, Frame.encode(header("op", "hello", "id", 2L, "token", token), null));
                    Frame f = readFrame(c);
                    if (f != null && Boolean.TRUE.equals(f.header.get("ok"))) return;
                } catch (java.io.IOException stillFull) {
                    // Refused and closed before our hello was written: the slots are not free yet.
                }
                Thread.sleep(20);
            }
            throw new AssertionError("slots not freed");
        } finally {
            s.stop();
        }
    }

    /** True once the agent has closed ch (EOF, or a reset after our writes); never blocks. */
    static boolean closedByPeer(SocketChannel ch) {
        try {
            ch.configureBlocking(false);
            ByteBuffer b = ByteBuffer.allocate(256);
            int n;
            while ((n = ch.read(b)) > 0) b.clear();
            return n < 0;
        } catch (IOException e) {
            return true;
        }
    }

    static int agentConnectionThreads() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.getName().equals("jhot-agent-conn")) n++;
        return n;
    }

    static void testTcpPeersThatDoNotAuthenticate() throws Exception {
        Path dir = tempDir().resolve("priv");
        History h = new History();
        Server s = new Server(dir, new Dispatcher(new Ops(null, new Registry(h), h)));
        s.maxConnections = 1;
        s.maxUnauthenticated = 4;
        s.authMillis = 600;
        check(s.start(false) == null, "start");
        List<SocketChannel> held = new ArrayList<>();
        try {
            byte[] hello = Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null);
            int threadsBefore = agentConnectionThreads();
            // A full pool of peers that trickle bytes (a frame header, then its body a byte at a
            // time) gets no thread of its own and is closed at the deadline, however busy it is.
            long t0 = System.nanoTime();
            for (int k = 0; k < 4; k++) held.add(connect(s));
            long closedAfter = -1;
            for (int tick = 0; tick < 40 && closedAfter < 0; tick++) {
                for (SocketChannel c : held) {
                    try {
                        send(c, new byte[] {tick < 2 ? 0 : (byte) 'x'});
                    } catch (IOException closed) {
                        // the agent is done with it
                    }
                }
                check(agentConnectionThreads() <= threadsBefore, "a thread for a peer that has not authenticated");
                boolean all = true;
                for (SocketChannel c : held) all &= closedByPeer(c);
                if (all) closedAfter = (System.nanoTime() - t0) / 1_000_000;
                Thread.sleep(50);
            }
            check(closedAfter >= 500 && closedAfter < 1800, "trickling peers closed after " + closedAfter + " ms (deadline 600 ms)");
            for (SocketChannel c : held) c.close();
            held.clear();

            // A new peer pushes the oldest unauthenticated one out, so a client that just
            // connected gets through a full pool; peers that have not authenticated do not take
            // the one authenticated slot either.
            for (int k = 0; k < 6; k++) held.add(connect(s));
            SocketChannel client = connect(s);
            held.add(client);
            send(client, hello);
            eq(true, readFrame(client).header.get("ok"));
            check(waitUntil(2000, () -> closedByPeer(held.get(0)) && closedByPeer(held.get(1)) && closedByPeer(held.get(2))),
                    "the oldest unauthenticated peers were kept");
            check(!closedByPeer(held.get(3)) && !closedByPeer(held.get(6)), "a newer peer was closed");
            // An authenticated connection outlives the deadline (its limit is the idle time).
            Thread.sleep(800);
            send(client, Frame.encode(header("op", "history", "id", 2L), null));
            eq(true, readFrame(client).header.get("ok"));
            for (SocketChannel c : held.subList(3, 6)) check(closedByPeer(c), "a silent peer outlived the deadline");
        } finally {
            for (SocketChannel c : held) c.close();
            s.stop();
        }
    }

    /** Polls for a condition another thread makes true. */
    static boolean waitUntil(long millis, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(10);
        }
        return true;
    }

    /**
     * The Unix socket admits its own user and root, compared by uid. Needs root (to play another
     * user with setpriv) and python3 (a client that is not a JVM); the socket is reached through a
     * hard link in a directory that user can search, since the private directory keeps it out.
     */
    static void testUnixPeersAreCheckedByUid() throws Exception {
        if (!unixAvailable()) throw new Skip("no Unix domain sockets before JDK 16");
        if (PrivateDir.euid() != 0) throw new Skip("needs root to connect as another user");
        Path base = tempDir();
        Server s = startServer(base.resolve("priv"), true, 60_000);
        try {
            eq("unix", s.channel());
            Path pub = Files.createDirectory(base.resolve("pub"));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rwx--x--x"));
            Path link = pub.resolve("agent.sock");
            Files.createLink(link, base.resolve("priv").resolve(ProcessHandle.current().pid() + ".sock"));
            Files.setPosixFilePermissions(link, PosixFilePermissions.fromString("rw-rw-rw-"));
            String history = ClassBytes.hex(Frame.encode(header("op", "history", "id", 5L), null));
            String client = "import socket,sys\n"
                    + "s=socket.socket(socket.AF_UNIX);s.settimeout(10);s.connect(sys.argv[1])\n"
                    // A refused peer may be answered and closed before it has finished writing.
                    + "try: s.sendall(bytes.fromhex(sys.argv[2]))\n"
                    + "except (BrokenPipeError, ConnectionResetError): pass\n"
                    + "b=b''\n"
                    + "while len(b)<4 or len(b)<4+int.from_bytes(b[:4],'big'):\n"
                    + "  c=s.recv(65536)\n"
                    + "  if not c: break\n"
                    + "  b+=c\n"
                    + "print(b.hex())\n";
            // The system's python3: one on root's PATH (pyenv) may not be usable by another user.
            String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
            List<String> py = Arrays.asList(python, "-c", client, link.toString(), history);
            List<String> nobody = new ArrayList<>(Arrays.asList("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
            nobody.addAll(py);
            Frame asRoot = answerOf(py);
            eq(true, asRoot.header.get("ok"));
            Frame asNobody = answerOf(nobody);
            Map<?, ?> e = (Map<?, ?>) asNobody.header.get("error");
            eq("auth", e.get("kind"));
            check(String.valueOf(e.get("message")).contains("uid 65534"), "refusal names the uid: " + e.get("message"));
        } finally {
            s.stop();
        }
    }

    static Frame answerOf(List<String> cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new Skip(cmd.get(0) + " is not available: " + e.getMessage());
        }
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        check(done && p.exitValue() == 0 && out.matches("([0-9a-f]{2})+"), cmd.get(0) + " client: " + out);
        byte[] b = new byte[out.length() / 2];
        for (int k = 0; k < b.length; k++) b[k] = (byte) Integer.parseInt(out.substring(2 * k, 2 * k + 2), 16);
        return Frame.decode(body(b));
    }

    /** A JVM without jdk.net cannot tell who connects to a Unix socket: it gets the TCP channel. */
    static void testNoUnixChannelWithoutJdkNet() throws Exception {
        if (!unixAvailable()) throw new Skip("no Unix domain sockets before JDK 16");
        Path dir = tempDir();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--limit-modules", "java.base,java.instrument", "-cp", System.getProperty("java.class.path"),
                "dev.jhot.agent.AgentTests$ChannelChild", dir.resolve("priv").toString())
                .redirectErrorStream(true).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        check(done && p.exitValue() == 0, "child: " + out);
        eq("tcp", out);
    }

    /** Opens the channel in args[0] the way the agent does (Unix allowed) and prints its kind. */
    public static final class ChannelChild {
        public static void main(String[] args) {
            History h = new History();
            Server s = new Server(Path.of(args[0]), new Dispatcher(new Ops(null, new Registry(h), h)));
            String problem = s.start(true);
            System.out.println(problem != null ? problem : s.channel());
            s.stop();
        }
    }

    static void testServerRefusesUnsafeDir() throws Exception {
        Path dir = tempDir().resolve("open");
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        History h = new History();
        Server s = new Server(dir, new Dispatcher(new Ops(null, new Registry(h), h)));
        String problem = s.start(true);
        check(problem != null && problem.contains("mode"), "started in a 0755 dir: " + problem);
        try (Stream<Path> files = Files.list(dir)) {
            eq(0L, files.count());
        }
    }

    static void deleteTree(Path p) {
        try (Stream<Path> walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException ignored) {
                    // best effort
                }
            });
        } catch (IOException ignored) {
            // best effort
        }
    }
}
