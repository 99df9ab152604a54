package dev.jhot.agent;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** What every test class uses: assertions, skipping, request headers and temporary directories. */
public final class TestKit {
    private static final List<Path> cleanup = new ArrayList<>();

    private TestKit() {
    }

    public static void check(boolean cond, String what) {
        if (!cond) throw new AssertionError(what);
    }

    public static void eq(Object want, Object got) {
        if (want == null ? got != null : !want.equals(got)) throw new AssertionError("want <" + want + "> got <" + got + ">");
    }

    /** Thrown by a test that cannot run on this JDK or without an optional input; reported as skipped. */
    public static final class Skip extends RuntimeException {
        private static final long serialVersionUID = 1L;

        public Skip(String why) {
            super(why, null, false, false);
        }
    }

    public static Map<String, Object> header(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < kv.length; k += 2) m.put((String) kv[k], kv[k + 1]);
        return m;
    }

    public static byte[] body(byte[] frame) {
        return Arrays.copyOfRange(frame, 4, frame.length);
    }

    /** Body with given parts; ints are u32, byte[]/String are raw. */
    public static byte[] raw(Object... parts) {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        for (Object p : parts) {
            if (p instanceof Integer) b.putInt((Integer) p);
            else if (p instanceof Byte) b.put((Byte) p);
            else if (p instanceof String) b.put(((String) p).getBytes(StandardCharsets.UTF_8));
            else b.put((byte[]) p);
        }
        return Arrays.copyOf(b.array(), b.position());
    }

    /** A fresh directory, removed when the run ends. */
    public static Path tempDir() throws IOException {
        Path d = Files.createTempDirectory("jhot-test");
        cleanup.add(d);
        return d;
    }

    /** Removes every directory tempDir made; the runner calls it once all tests ran. */
    static void cleanUp() {
        for (Path p : cleanup) deleteTree(p);
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

    public static boolean unixAvailable() {
        try {
            StandardProtocolFamily.valueOf("UNIX");
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
