package dev.jhot.agent;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Java half of bench/protocol (run by bench/protocol/run.sh): decodes one `redefine` request
 * of ~1,000 classes with the agent's OWN code, as the agent would inside the target JVM.
 *
 *   a  one JSON document with base64 class bytes: FrameReader, strict UTF-8 decode, Json.parse,
 *      java.util.Base64 per class;
 *   b  the protocol frame (JSON header + raw blobs): FrameReader, Frame.decode, blob lookup.
 *
 * Lives in dev.jhot.agent because FrameReader, Frame and Json are package-private; compiled
 * against agent-java/src/main/java with --release 11.
 *
 * Usage: ProtocolBench a|b wire-file rust.txt warmup runs out-file
 * Writes the raw per-run samples (ms per phase, allocated bytes) to out-file as key=value lines.
 */
public final class ProtocolBench {
    /** The per-connection read buffer of Connection.run (allocated once per connection). */
    private static final int READ_BUFFER = 64 << 10;

    /** A decoded request: what the agent needs to go on with a redefinition. */
    static final class Decoded {
        final String[] names;
        final byte[][] bytes;

        Decoded(int n) {
            names = new String[n];
            bytes = new byte[n][];
        }
    }

    private static long readNs, parseNs, extractNs, readAlloc;
    private static com.sun.management.ThreadMXBean tmx;
    private static long self;

    public static void main(String[] args) throws Exception {
        if (args.length != 6) throw new IllegalArgumentException("usage: ProtocolBench a|b wire rust.txt warmup runs out");
        boolean base64 = args[0].equals("a");
        if (!base64 && !args[0].equals("b")) throw new IllegalArgumentException("encoding must be a or b");
        byte[] wire = Files.readAllBytes(Paths.get(args[1]));
        Map<String, String> rust = readKv(args[2]);
        int warmup = Integer.parseInt(args[3]);
        int runs = Integer.parseInt(args[4]);

        java.lang.management.ThreadMXBean plain = ManagementFactory.getThreadMXBean();
        tmx = plain instanceof com.sun.management.ThreadMXBean
                ? (com.sun.management.ThreadMXBean) plain : null;
        if (tmx != null && !tmx.isThreadAllocatedMemoryEnabled()) tmx.setThreadAllocatedMemoryEnabled(true);
        self = Thread.currentThread().getId();
        ByteBuffer in = ByteBuffer.allocate(READ_BUFFER);

        // Correctness first: both encodings must give back exactly the classes Rust encoded.
        Decoded check = decode(base64, wire, in);
        String fp = String.format(Locale.ROOT, "%016x", fingerprint(check));
        if (check.names.length != Integer.parseInt(rust.get("count")) || !fp.equals(rust.get("fingerprint"))) {
            throw new AssertionError("decoded " + check.names.length + " classes, fingerprint " + fp
                    + "; expected " + rust.get("count") + ", " + rust.get("fingerprint"));
        }
        check = null;

        for (int k = 0; k < warmup; k++) decode(base64, wire, in);

        double[] ms = new double[runs], read = new double[runs], parse = new double[runs], extract = new double[runs];
        double[] alloc = new double[runs], allocRead = new double[runs];
        for (int k = 0; k < runs; k++) {
            System.gc();
            long a0 = tmx != null ? tmx.getThreadAllocatedBytes(self) : 0;
            long t0 = System.nanoTime();
            Decoded d = decode(base64, wire, in);
            long t1 = System.nanoTime();
            long a1 = tmx != null ? tmx.getThreadAllocatedBytes(self) : 0;
            if (d.names.length == 0) throw new AssertionError(); // keeps d alive up to here
            ms[k] = (t1 - t0) / 1e6;
            read[k] = readNs / 1e6;
            parse[k] = parseNs / 1e6;
            extract[k] = extractNs / 1e6;
            alloc[k] = a1 - a0;
            allocRead[k] = readAlloc;
        }

        StringBuilder out = new StringBuilder();
        kv(out, "encoding", args[0]);
        kv(out, "java_version", System.getProperty("java.version"));
        kv(out, "runtime_version", System.getProperty("java.runtime.version"));
        kv(out, "vm_name", System.getProperty("java.vm.name"));
        kv(out, "vm_vendor", System.getProperty("java.vm.vendor"));
        kv(out, "jvm_flags", String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
        kv(out, "gc", gcNames());
        kv(out, "wire_bytes", Integer.toString(wire.length));
        kv(out, "warmup", Integer.toString(warmup));
        kv(out, "runs", Integer.toString(runs));
        // Raw samples: the report pools them over the JVMs (forks) run.sh starts per configuration.
        kv(out, "ms", join(ms, "%.4f"));
        kv(out, "read_ms", join(read, "%.4f"));
        kv(out, "parse_ms", join(parse, "%.4f"));
        kv(out, "extract_ms", join(extract, "%.4f"));
        kv(out, "alloc_bytes", tmx != null ? join(alloc, "%.0f") : "");
        kv(out, "read_alloc_bytes", tmx != null ? join(allocRead, "%.0f") : "");
        Files.write(Paths.get(args[5]), out.toString().getBytes(StandardCharsets.UTF_8));
    }

    /** One whole request, from the bytes arriving on the channel to names + class bytes. */
    @SuppressWarnings("unchecked")
    static Decoded decode(boolean base64, byte[] wire, ByteBuffer in) throws Exception {
        long a0 = tmx != null ? tmx.getThreadAllocatedBytes(self) : 0;
        long t0 = System.nanoTime();
        byte[] body = readFrame(wire, in);
        long t1 = System.nanoTime();
        readAlloc = tmx != null ? tmx.getThreadAllocatedBytes(self) - a0 : 0;
        Decoded d;
        long t2;
        if (base64) {
            String text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(body)).toString();
            Map<String, Object> header = (Map<String, Object>) Json.parse(text);
            if (!"redefine".equals(header.get("op")) || !(header.get("id") instanceof Long)) throw new AssertionError("header");
            List<Object> classes = (List<Object>) header.get("classes");
            t2 = System.nanoTime();
            Base64.Decoder dec = Base64.getDecoder();
            d = new Decoded(classes.size());
            for (int i = 0; i < d.names.length; i++) {
                Map<String, Object> c = (Map<String, Object>) classes.get(i);
                d.names[i] = (String) c.get("name");
                d.bytes[i] = dec.decode((String) c.get("bytes"));
            }
        } else {
            Frame f = Frame.decode(body);
            if (!"redefine".equals(f.header.get("op"))) throw new AssertionError("header");
            List<Object> classes = (List<Object>) f.header.get("classes");
            t2 = System.nanoTime();
            d = new Decoded(classes.size());
            for (int i = 0; i < d.names.length; i++) {
                Map<String, Object> c = (Map<String, Object>) classes.get(i);
                d.names[i] = (String) c.get("name");
                d.bytes[i] = f.blobs.get((int) (long) (Long) c.get("blob"));
            }
        }
        long t3 = System.nanoTime();
        readNs = t1 - t0;
        parseNs = t2 - t1;
        extractNs = t3 - t2;
        return d;
    }

    /** Connection.run's loop with the socket read replaced by a copy from `wire` into `in`. */
    static byte[] readFrame(byte[] wire, ByteBuffer in) throws Failure {
        FrameReader reader = new FrameReader();
        in.clear();
        int pos = 0;
        while (true) {
            in.flip();
            byte[] body = reader.feed(in);
            in.compact();
            if (body != null) {
                if (pos != wire.length || in.position() != 0) throw new AssertionError("bytes after the frame");
                return body;
            }
            int k = Math.min(in.remaining(), wire.length - pos);
            if (k == 0) throw new AssertionError("truncated frame");
            in.put(wire, pos, k); // ch.read(in)
            pos += k;
        }
    }

    /** FNV-1a 64 over (name, 0, bytes) per class: the same as the Rust side's. */
    static long fingerprint(Decoded d) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < d.names.length; i++) {
            for (byte b : d.names[i].getBytes(StandardCharsets.UTF_8)) h = (h ^ (b & 0xff)) * 0x100000001b3L;
            h = (h ^ 0) * 0x100000001b3L;
            for (byte b : d.bytes[i]) h = (h ^ (b & 0xff)) * 0x100000001b3L;
        }
        return h;
    }

    private static String gcNames() {
        StringBuilder b = new StringBuilder();
        for (java.lang.management.GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            if (b.length() > 0) b.append(", ");
            b.append(gc.getName());
        }
        return b.toString();
    }

    private static Map<String, String> readKv(String path) throws IOException {
        Map<String, String> m = new HashMap<>();
        for (String line : Files.readAllLines(Paths.get(path))) {
            int eq = line.indexOf('=');
            if (eq > 0) m.put(line.substring(0, eq), line.substring(eq + 1));
        }
        return m;
    }

    private static void kv(StringBuilder b, String k, String v) {
        b.append(k).append('=').append(v).append('\n');
    }

    private static String join(double[] v, String format) {
        StringBuilder b = new StringBuilder();
        for (double x : v) {
            if (b.length() > 0) b.append(',');
            b.append(String.format(Locale.ROOT, format, x));
        }
        return b.toString();
    }
}
