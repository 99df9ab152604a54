package dev.jhot.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Serves one authenticated client until it closes or stays silent for the idle time. A Selector
 * provides the timeouts, because Unix-domain SocketChannels ignore socket timeouts.
 *
 * Requests run on this thread, one at a time, except one that opted into events: that runs on a
 * thread of its own (Stream) while this one keeps reading, answers each cancel at once, queues
 * the other requests, sends heartbeats, and cancels it when the peer closes (docs/protocol.md,
 * "Streaming"). So an idle connection still has one thread.
 */
final class Connection implements Runnable {
    /** Requests read and not finally answered while a stream runs, the running one included. */
    static final int MAX_IN_FLIGHT = 8;
    private static final long WRITE_MS = 60_000;

    private final Server server;
    private final SocketChannel ch;
    final Dispatcher dispatcher;
    final Dispatcher.Session session;
    private final long idleMillis;
    /** The hello that authenticated a TCP peer, and whatever the peer sent right behind it. */
    private byte[] first;
    private final ByteBuffer rest;
    private volatile Selector selector;
    private SelectionKey key;
    /** Orders whole frames between this thread and a stream's. */
    private final Object writeLock = new Object();
    /** Guarded by writeLock. */
    private boolean closed;
    private volatile Stream running;
    private final ArrayDeque<Frame> queued = new ArrayDeque<>();

    Connection(Server server, SocketChannel ch, Dispatcher dispatcher, Dispatcher.Session session, long idleMillis,
            byte[] first, ByteBuffer rest) {
        this.server = server;
        this.ch = ch;
        this.dispatcher = dispatcher;
        this.session = session;
        this.idleMillis = idleMillis;
        this.first = first;
        this.rest = rest;
    }

    @Override
    public void run() {
        try (Selector sel = Selector.open()) {
            selector = sel;
            ch.configureBlocking(false);
            key = ch.register(sel, SelectionKey.OP_READ);
            FrameReader reader = new FrameReader();
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            if (rest != null) in.put(rest);
            while (true) {
                Stream s = running;
                if (s != null && finished(s)) {
                    running = null;
                    s = null;
                }
                if (s == null && !queued.isEmpty()) {
                    if (!serve(queued.poll())) return;
                    continue;
                }
                byte[] body = first;
                first = null;
                if (body == null) {
                    in.flip();
                    try {
                        body = reader.feed(in);
                    } catch (Failure f) {
                        refuse(Dispatcher.error(0, f.kind, f.getMessage(), null, true).frame);
                        return;
                    }
                    in.compact();
                }
                if (body != null) {
                    if (!take(body)) return;
                    continue;
                }
                if (s == null ? !await(SelectionKey.OP_READ) : !awaitStreaming(s)) return;
                if (ch.read(in) < 0) {
                    if (reader.midFrame()) refuse(Dispatcher.error(0, "protocol", "connection closed inside a frame", null, true).frame);
                    return;
                }
            }
        } catch (Throwable ignored) {
            // a broken connection concerns only its peer
        } finally {
            close();
            server.done(this);
        }
    }

    /** One request read from the peer; false when the connection is to close. */
    private boolean take(byte[] body) throws IOException {
        Frame f;
        try {
            f = Frame.decode(body);
        } catch (Failure e) {
            // the dispatcher words every malformed frame's reply
            Dispatcher.Reply r = dispatcher.handle(body, session);
            refuse(r.frame);
            return false;
        }
        Stream s = running;
        if (s == null) return serve(f);
        // A stream runs: answer a cancel now, queue anything else behind it.
        if (f.id == s.id || queued.stream().anyMatch(q -> q.id == f.id)) {
            refuse(Dispatcher.error(f.id, "protocol", "request id " + f.id + " is in flight", null, true).frame);
            return false;
        }
        if ("cancel".equals(f.header.get("op"))) {
            Object target = f.header.get("request");
            synchronized (writeLock) {
                Dispatcher.Reply r;
                if (target instanceof Long && (Long) target == s.id && !s.done) {
                    // Marked under the write lock, so the stream's final reply cannot come between.
                    s.cancel("cancelled by request " + f.id);
                    Map<String, Object> out = new LinkedHashMap<>();
                    out.put("id", f.id);
                    out.put("ok", true);
                    out.put("cancelled", true);
                    r = new Dispatcher.Reply(Frame.encode(out, null), false);
                } else {
                    r = dispatcher.handle(f, session, null);
                }
                if (!write(r.frame)) return false;
                if (r.close) {
                    s.cancel("the connection closed");
                    return false;
                }
            }
            return true;
        }
        if (1 + queued.size() >= MAX_IN_FLIGHT) {
            refuse(Dispatcher.error(f.id, "protocol", "too many requests in flight", null, true).frame);
            return false;
        }
        queued.add(f);
        return true;
    }

    /** Runs a request with nothing else running: here, or on a stream's thread if it opted in. */
    private boolean serve(Frame f) throws IOException {
        if (Boolean.TRUE.equals(f.header.get("events")) && !"cancel".equals(f.header.get("op"))) {
            Stream s = new Stream(f.id, f, this);
            running = s;
            Thread t = new Thread(s, "jhot-agent-op");
            t.setDaemon(true);
            try {
                t.start();
            } catch (Throwable e) {
                running = null;
                send(Dispatcher.error(f.id, "internal", Failure.describe(e), null, false).frame);
            }
            return true;
        }
        Dispatcher.Reply r = dispatcher.handle(f, session, null);
        send(r.frame);
        return !r.close;
    }

    private boolean finished(Stream s) {
        synchronized (writeLock) {
            return s.done;
        }
    }

    /** The stream's thread: its final reply, unless the peer is gone (nowhere to send it). */
    void finish(Stream s, Dispatcher.Reply r) {
        boolean close = r.close;
        synchronized (writeLock) {
            if (!closed && !write(r.frame)) close = true;
            s.done = true;
        }
        if (close) close();
        Selector sel = selector;
        if (sel != null) sel.wakeup(); // this thread may run what queued behind it
    }

    /** The stream's thread: one event frame; false when the connection is gone. */
    boolean sendEvent(Stream s, byte[] frame) {
        synchronized (writeLock) {
            if (closed || s.done) return false;
            if (write(frame)) {
                s.lastWrite = System.nanoTime();
                return true;
            }
        }
        close();
        return false;
    }

    /**
     * Waits for bytes while a stream runs: no idle limit (a stream may last hours), a heartbeat
     * after 10 s of the stream's silence, and a return when the stream finishes (so the queue runs).
     * False when the connection broke.
     */
    private boolean awaitStreaming(Stream s) throws IOException {
        key.interestOps(SelectionKey.OP_READ);
        while (true) {
            long wait;
            synchronized (writeLock) {
                if (s.done) return true;
                long quiet = (System.nanoTime() - s.lastWrite) / 1_000_000L;
                if (quiet >= Stream.heartbeatMs) {
                    if (!write(Stream.heartbeat(s.id))) return false;
                    s.lastWrite = System.nanoTime();
                    quiet = 0;
                }
                wait = Stream.heartbeatMs - quiet;
            }
            int n = selector.select(Math.max(1, wait));
            selector.selectedKeys().clear();
            if (n > 0) return true;
            if (!ch.isOpen()) return false;
        }
    }

    /** Waits until the channel is ready for op; false when the idle time passes first. */
    private boolean await(int op) throws IOException {
        key.interestOps(op);
        long deadline = System.nanoTime() + idleMillis * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) return false;
            int n = selector.select(left);
            selector.selectedKeys().clear();
            if (n > 0) return true;
            if (!ch.isOpen()) return false;
        }
    }

    /** Writes a reply with no stream running (this thread only). */
    private void send(byte[] frame) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(frame);
        while (b.hasRemaining()) {
            if (ch.write(b) == 0 && !await(SelectionKey.OP_WRITE)) throw new IOException("peer stopped reading");
        }
    }

    /** A last reply before closing, whoever else may be writing. */
    private void refuse(byte[] frame) {
        synchronized (writeLock) {
            if (!closed) write(frame);
        }
    }

    /**
     * Writes one whole frame; call with writeLock held. Two threads may write, and the selector is
     * this thread's, so a full socket buffer is waited out by polling (it only happens when the
     * peer stops reading). False when it cannot be written within 60 s, or the channel broke.
     */
    private boolean write(byte[] frame) {
        ByteBuffer b = ByteBuffer.wrap(frame);
        long deadline = System.nanoTime() + WRITE_MS * 1_000_000L;
        try {
            while (b.hasRemaining()) {
                if (ch.write(b) > 0) continue;
                if (System.nanoTime() > deadline) return false;
                writeLock.wait(1);
            }
            return true;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    void close() {
        synchronized (writeLock) {
            closed = true;
        }
        Stream s = running;
        // the peer is gone: the running request stops at its next check point, the queued ones never run
        if (s != null) s.cancel("the connection closed");
        Server.close(ch);
        Selector sel = selector;
        if (sel != null) sel.wakeup(); // a closed channel alone does not end a pending select
    }
}
