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
 *
 * A connection starts on the accepting thread when it is the only client (serveInline): a jhot
 * command is one or two quick requests, and a thread of its own would cost it ~0.3 ms, more on a
 * busy JVM. It moves to a thread of its own (run) when another client connects or when it asks
 * for something that may take long or stream (Server.inlineOp), before that request runs.
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
    private FrameReader reader;
    private ByteBuffer in;
    /** While served on the accepting thread: the listener, whose readiness means another client
     *  waits, so this connection moves to a thread of its own. */
    private SelectionKey listenerKey;
    /** A request that made the connection move, to run first on its own thread. */
    private Frame movedWith;

    /** What await saw. */
    private static final int IDLE = 0;
    private static final int READY = 1;
    private static final int MOVE = 2;

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

    /** On a thread of its own: from the start, or where serveInline left off. */
    @Override
    public void run() {
        try {
            if (selector == null) open(null);
            serve();
        } catch (Throwable ignored) {
            // a broken connection concerns only its peer
        } finally {
            end(false);
        }
    }

    /**
     * Serves on the calling (accepting) thread until the connection ends, or until it should move
     * to a thread of its own: false, and the caller then starts one with this as its Runnable.
     */
    boolean serveInline(java.nio.channels.ServerSocketChannel listener) {
        boolean ended = true;
        try {
            open(server.takeSelector());
            listenerKey = listener.register(selector, 0);
            ended = serve();
        } catch (Throwable ignored) {
            // a broken connection concerns only its peer
        } finally {
            if (ended) {
                end(true);
            } else {
                // Deregistered at the next select, which the connection's own thread makes; the
                // selector is this connection's from now on.
                listenerKey.cancel();
                listenerKey = null;
            }
        }
        return ended;
    }

    /** The connection is over: the channel is closed, and so is its selector, unless it ended on
     *  the accepting thread (inline), which keeps it for the next connection served there. */
    private void end(boolean inline) {
        close();
        server.done(this);
        if (inline) {
            server.giveBack(selector);
        } else {
            Server.close(selector);
        }
    }

    /** given: a selector to use, null for a new one. */
    private void open(Selector given) throws IOException {
        selector = given != null ? given : Selector.open();
        ch.configureBlocking(false);
        key = ch.register(selector, SelectionKey.OP_READ);
        reader = new FrameReader();
        in = ByteBuffer.allocate(64 << 10);
        if (rest != null) in.put(rest);
    }

    /** The request loop; true when the connection is done, false when it is to move (inline). */
    private boolean serve() throws IOException {
        while (true) {
            if (movedWith != null && listenerKey == null) {
                Frame f = movedWith;
                movedWith = null;
                if (!serve(f)) return true;
                continue;
            }
            Stream s = running;
            if (s != null && finished(s)) {
                running = null;
                s = null;
            }
            if (s == null && !queued.isEmpty()) {
                if (!serve(queued.poll())) return true;
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
                    return true;
                }
                in.compact();
            }
            if (body != null) {
                if (!take(body)) return true;
                if (movedWith != null) return false;
                continue;
            }
            int seen = s == null ? await(SelectionKey.OP_READ) : awaitStreaming(s) ? READY : IDLE;
            if (seen == MOVE) return false;
            if (seen != READY) return true;
            if (ch.read(in) < 0) {
                if (reader.midFrame()) refuse(Dispatcher.error(0, "protocol", "connection closed inside a frame", null, true).frame);
                return true;
            }
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

    /** Runs a request with nothing else running: here, or on a stream's thread if it opted in.
     *  On the accepting thread, one that may take long or stream is left for the connection's
     *  own thread (movedWith). */
    private boolean serve(Frame f) throws IOException {
        if (listenerKey != null && !Server.inlineOp(f)) {
            movedWith = f;
            return true;
        }
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
        REPLYING.incrementAndGet();
        try {
            Dispatcher.Reply r = dispatcher.handle(f, session, null);
            send(r.frame);
            return !r.close;
        } finally {
            REPLYING.decrementAndGet();
        }
    }

    /** Requests being answered (streams aside), so that the JVM's exit can wait for their replies:
     *  a drain that stops the application's only server lets its main thread return, and the
     *  JVM's exit then raced the drain's answer to jhot (seen in CI, gRPC without a graceful stop). */
    private static final java.util.concurrent.atomic.AtomicInteger REPLYING = new java.util.concurrent.atomic.AtomicInteger();

    /** Waits, at most {@code millis}, until no reply is being written; for the shutdown hook. */
    static void awaitReplies(long millis) {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        try {
            while (REPLYING.get() > 0 && System.nanoTime() < deadline) Thread.sleep(1);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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

    /** Waits until the channel is ready for op: READY, IDLE when the idle time passes first or the
     *  channel closed, MOVE when another client connects while this one is served inline and
     *  waits for its next request (never in the middle of a reply). */
    private int await(int op) throws IOException {
        key.interestOps(op);
        boolean watch = listenerKey != null && op == SelectionKey.OP_READ;
        if (listenerKey != null) listenerKey.interestOps(watch ? SelectionKey.OP_ACCEPT : 0);
        long deadline = System.nanoTime() + idleMillis * 1_000_000L;
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000L;
            if (left <= 0) return IDLE;
            selector.select(left);
            boolean mine = selector.selectedKeys().contains(key);
            boolean other = watch && selector.selectedKeys().contains(listenerKey);
            selector.selectedKeys().clear();
            // This client's bytes first: a newcomer waits at most for one request.
            if (mine) return READY;
            if (other) return MOVE;
            if (!ch.isOpen()) return IDLE;
        }
    }

    /** Writes a reply with no stream running (this thread only). */
    private void send(byte[] frame) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(frame);
        while (b.hasRemaining()) {
            if (ch.write(b) == 0 && await(SelectionKey.OP_WRITE) != READY) throw new IOException("peer stopped reading");
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
