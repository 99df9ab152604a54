package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Turns one request body into one response frame. Never throws: every failure is a reply. */
final class Dispatcher {
    /** Per-connection state. */
    static final class Session {
        final String channel;
        /** Required in the first hello (TCP); null when the channel itself is trusted (UDS). */
        final String token;
        boolean authed;

        Session(String channel, String token) {
            this.channel = channel;
            this.token = token;
            this.authed = token == null;
        }
    }

    static final class Reply {
        final byte[] frame;
        final boolean close;

        Reply(byte[] frame, boolean close) {
            this.frame = frame;
            this.close = close;
        }
    }

    private final Ops ops;

    Dispatcher(Ops ops) {
        this.ops = ops;
    }

    Reply handle(byte[] body, Session s) {
        return handle(body, s, true);
    }

    /**
     * For a peer that has not shown the token: null when body is a hello that carries it (the
     * session is then authenticated, and body still to be handled), else the reply that refuses
     * it. Runs no operation, so the thread that accepts connections may call it.
     */
    Reply authenticate(byte[] body, Session s) {
        Reply r = handle(body, s, false);
        return s.authed ? null : r;
    }

    private Reply handle(byte[] body, Session s, boolean serve) {
        Frame f;
        try {
            f = Frame.decode(body);
        } catch (Failure e) {
            return error(e.id, e.kind, e.getMessage(), e.classes, e.closes());
        } catch (Throwable t) {
            return error(0, "internal", Failure.describe(t), null, false);
        }
        return handle(f, s, serve, null);
    }

    /** A decoded request; stream is set when it opted into events and runs on its own thread. */
    Reply handle(Frame f, Session s, Stream stream) {
        return handle(f, s, true, stream);
    }

    private Reply handle(Frame f, Session s, boolean serve, Stream stream) {
        long id = f.id;
        Map<String, Object> out = new LinkedHashMap<>();
        try {
            Object op = f.header.get("op");
            if (!(op instanceof String)) throw Failure.protocol("header has no \"op\"");
            if (!s.authed) {
                Object t = f.header.get("token");
                if (!op.equals("hello") || !(t instanceof String) || !MessageDigest.isEqual(
                        ((String) t).getBytes(StandardCharsets.UTF_8), s.token.getBytes(StandardCharsets.UTF_8))) {
                    throw new Failure("auth", "the first request must be a hello with the token from the .port file", null);
                }
                s.authed = true;
            }
            if (!serve) return null;
            out.put("id", id);
            out.put("ok", true);
            List<byte[]> blobs = new ArrayList<>();
            ops.serve((String) op, new Req(f.header, f.blobs, stream), out, blobs, s.channel);
            if (stream != null) stream.counts(out);
            return new Reply(Frame.encode(out, blobs), false);
        } catch (Failure e) {
            return error(e.id != 0 ? e.id : id, e.kind, e.getMessage(), e.classes, e.closes(), stream);
        } catch (Throwable t) {
            return error(id, "internal", Failure.describe(t), null, false, stream);
        }
    }

    static Reply error(long id, String kind, String message, List<String> classes, boolean close) {
        return error(id, kind, message, classes, close, null);
    }

    private static Reply error(long id, String kind, String message, List<String> classes, boolean close, Stream stream) {
        Map<String, Object> err = new LinkedHashMap<>();
        err.put("kind", kind);
        err.put("message", message);
        if (classes != null) err.put("classes", classes);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("id", id);
        out.put("ok", false);
        out.put("error", err);
        if (stream != null) stream.counts(out);
        return new Reply(Frame.encode(out, null), close);
    }
}
