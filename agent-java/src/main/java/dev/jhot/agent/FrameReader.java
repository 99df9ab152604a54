package dev.jhot.agent;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * Splits a byte stream into frame bodies. The body buffer grows with the bytes that actually
 * arrive, so a peer that announces 256 MiB and sends nothing costs 64 KiB, not 256 MiB.
 */
final class FrameReader {
    private static final int FIRST_CHUNK = 64 << 10;

    private final byte[] len = new byte[4];
    /** Lowered before a TCP peer has shown its token: an unauthenticated peer must not make the
     *  JVM buffer 256 MiB. */
    int max = Frame.MAX_BODY;
    private int lenPos;
    private byte[] body;
    private int bodyLen;
    private int bodyPos;

    /** Consumes bytes from src; returns a complete body, or null when more bytes are needed.
     *  Bytes after a complete body stay in src for the next call. */
    byte[] feed(ByteBuffer src) throws Failure {
        if (body == null) {
            while (lenPos < 4 && src.hasRemaining()) len[lenPos++] = src.get();
            if (lenPos < 4) return null;
            long n = Frame.u32(len, 0);
            if (n > max) throw Failure.protocol("frame length " + n + " exceeds " + max + " bytes");
            bodyLen = (int) n;
            body = new byte[Math.min(bodyLen, FIRST_CHUNK)];
            bodyPos = 0;
        }
        while (bodyPos < bodyLen && src.hasRemaining()) {
            if (bodyPos == body.length) body = Arrays.copyOf(body, (int) Math.min(bodyLen, body.length * 2L));
            int k = Math.min(src.remaining(), body.length - bodyPos);
            src.get(body, bodyPos, k);
            bodyPos += k;
        }
        if (bodyPos < bodyLen) return null;
        byte[] done = body;
        body = null;
        lenPos = 0;
        return done;
    }

    /** True when part of a frame has arrived: EOF now means a truncated frame. */
    boolean midFrame() {
        return lenPos > 0;
    }
}
