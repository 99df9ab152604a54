package dev.jhot.agent;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;

/**
 * One protocol message: a JSON header plus raw blobs (docs/protocol.md, "Framing").
 * body := version:u8 header_len:u32 header blob_count:u32 (blob_len:u32 bytes)*
 * Public for jhot's helper JVM (helper-java/), which speaks the same frames on its stdin/stdout.
 */
public final class Frame {
    static final int VERSION = 1;
    public static final int MAX_BODY = 256 << 20;
    static final int MAX_HEADER = 16 << 20;
    /** Bounds the per-blob object overhead (an empty blob is 4 bytes on the wire, ~20 in the heap). */
    static final int MAX_BLOBS = 1 << 20;

    public final long id;
    public final Map<String, Object> header;
    public final List<byte[]> blobs;

    private Frame(long id, Map<String, Object> header, List<byte[]> blobs) {
        this.id = id;
        this.header = header;
        this.blobs = blobs;
    }

    /** Decodes a body (without its length prefix). Every length is checked against the bytes
     *  that remain before anything is allocated for it. */
    @SuppressWarnings("unchecked")
    public static Frame decode(byte[] b) throws Failure {
        int n = b.length;
        if (n < 9) throw Failure.protocol("frame body of " + n + " bytes is too short");
        if ((b[0] & 0xff) != VERSION) throw Failure.protocol("unsupported frame version " + (b[0] & 0xff));
        long hlen = u32(b, 1);
        if (hlen > MAX_HEADER) throw Failure.protocol("header_len " + hlen + " exceeds 16 MiB");
        if (hlen > n - 9) throw Failure.protocol("header_len " + hlen + " runs past the body");
        int pos = 5 + (int) hlen;
        Object parsed;
        try {
            String text = ascii(b, 5, (int) hlen) ? new String(b, 5, (int) hlen, StandardCharsets.ISO_8859_1)
                    : StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(b, 5, (int) hlen)).toString();
            parsed = Json.parse(text);
        } catch (CharacterCodingException e) {
            throw Failure.protocol("header is not valid UTF-8");
        } catch (IllegalArgumentException e) {
            throw Failure.protocol("header is not valid JSON: " + e.getMessage());
        }
        if (!(parsed instanceof Map)) throw Failure.protocol("header is not a JSON object");
        Map<String, Object> header = (Map<String, Object>) parsed;
        Object rawId = header.get("id");
        long id = rawId instanceof Long ? (Long) rawId : 0;
        long count = u32(b, pos);
        pos += 4;
        // Each blob needs at least its 4-byte length, which bounds the count by the body size.
        if (count > (n - pos) / 4) throw new Failure("protocol", "blob_count " + count + " runs past the body", null, id);
        if (count > MAX_BLOBS) throw new Failure("protocol", "blob_count " + count + " exceeds " + MAX_BLOBS, null, id);
        List<byte[]> blobs = new ArrayList<>((int) Math.min(count, 1024));
        for (long k = 0; k < count; k++) {
            if (n - pos < 4) throw new Failure("protocol", "blob " + k + " length runs past the body", null, id);
            long len = u32(b, pos);
            pos += 4;
            if (len > n - pos) throw new Failure("protocol", "blob " + k + " of " + len + " bytes runs past the body", null, id);
            byte[] blob = new byte[(int) len];
            System.arraycopy(b, pos, blob, 0, (int) len);
            blobs.add(blob);
            pos += (int) len;
        }
        if (pos != n) throw new Failure("protocol", (n - pos) + " trailing bytes after the last blob", null, id);
        if (!(rawId instanceof Long)) throw Failure.protocol("header has no integer \"id\"");
        return new Frame(id, header, blobs);
    }

    /** Encodes a whole frame, length prefix included. */
    public static byte[] encode(Map<String, ?> header, List<byte[]> blobs) {
        if (blobs == null) blobs = Collections.emptyList();
        byte[] h = Json.write(header).getBytes(StandardCharsets.UTF_8);
        long body = 1 + 4 + (long) h.length + 4;
        for (byte[] blob : blobs) body += 4 + blob.length;
        if (body > MAX_BODY) throw new IllegalStateException("response of " + body + " bytes exceeds 256 MiB");
        ByteBuffer out = ByteBuffer.allocate(4 + (int) body);
        out.putInt((int) body).put((byte) VERSION).putInt(h.length).put(h).putInt(blobs.size());
        for (byte[] blob : blobs) out.putInt(blob.length).put(blob);
        return out.array();
    }

    /** Whether b[off, off+len) is ASCII, which decodes alike in every charset: a header almost
     *  always is, and then needs no CharsetDecoder (classes a cold agent would load first). */
    private static boolean ascii(byte[] b, int off, int len) {
        for (int i = off; i < off + len; i++) if (b[i] < 0) return false;
        return true;
    }

    static long u32(byte[] b, int off) {
        return ((b[off] & 0xffL) << 24) | ((b[off + 1] & 0xffL) << 16) | ((b[off + 2] & 0xffL) << 8) | (b[off + 3] & 0xffL);
    }
}
