package dev.jhot.agent;

import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.jhot.agent.TestKit.*;

/** Frame and FrameReader: the framing of docs/protocol.md. */
public final class FrameTests {
    private FrameTests() {
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
}
