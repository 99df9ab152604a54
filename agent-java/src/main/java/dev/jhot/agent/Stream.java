package dev.jhot.agent;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One request that opted into events (docs/protocol.md, "Streaming"): it runs on a thread of its
 * own (jhot-agent-op) while its connection's thread keeps reading, so that a cancel, or the peer
 * closing, reaches it. Its op sees it through Req (check, pause, event). Loaded only by a request
 * that opts in, so a plain request costs no extra class.
 */
final class Stream implements Runnable {
    /** 10 s (docs/protocol.md); tests shorten it. */
    static long heartbeatMs = 10_000;

    final long id;
    private final Frame frame;
    private final Connection conn;
    /** Why it was cancelled; null while it may go on. Guarded by this. */
    private String cancelled;
    /** The final reply was written (or will never be): guarded by the connection's write lock. */
    boolean done;
    /** Guarded by the connection's write lock. */
    long lastWrite = System.nanoTime();
    private long seq;
    private long sent;

    Stream(long id, Frame frame, Connection conn) {
        this.id = id;
        this.frame = frame;
        this.conn = conn;
    }

    @Override
    public void run() {
        Dispatcher.Reply r = null;
        try {
            r = conn.dispatcher.handle(frame, conn.session, this);
        } finally {
            // an Error thrown past the dispatcher still ends the request, so the queue behind it runs
            conn.finish(this, r != null ? r : Dispatcher.error(id, "internal", "the operation failed", null, false));
        }
    }

    /** Marks it cancelled (a cancel request, or the peer went away); wakes a pause. */
    synchronized void cancel(String why) {
        if (cancelled == null) cancelled = why;
        notifyAll();
    }

    /** A check point: throws the cancelled failure once cancelled. */
    synchronized void check() throws Failure {
        if (cancelled != null) throw new Failure("cancelled", cancelled, null);
    }

    /** Waits ms, ending early (with the failure) when cancelled. */
    synchronized void pause(long ms) throws Failure {
        long end = System.nanoTime() + ms * 1_000_000L;
        try {
            for (long left = ms; left > 0 && cancelled == null; left = (end - System.nanoTime()) / 1_000_000L) wait(left);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("cancelled", "interrupted", null);
        }
        check();
    }

    /**
     * Sends one event now, from the op's own thread: such an op waits for room rather than
     * dropping (the protocol allows it), so nothing is queued or dropped here. Events produced on
     * other threads need the bounded queue the protocol describes; no op has them yet.
     */
    void event(String type, Map<String, Object> fields, List<byte[]> blobs) throws Failure {
        check();
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("id", id);
        h.put("event", type);
        synchronized (this) {
            h.put("seq", ++seq);
        }
        if (fields != null) h.putAll(fields);
        if (!conn.sendEvent(this, Frame.encode(h, blobs))) throw new Failure("cancelled", "the connection closed", null);
        synchronized (this) {
            sent++;
        }
    }

    /** events_sent and events_dropped of the final reply. */
    synchronized void counts(Map<String, Object> out) {
        out.put("events_sent", sent);
        out.put("events_dropped", seq - sent);
    }

    static byte[] heartbeat(long id) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("id", id);
        h.put("event", "heartbeat");
        return Frame.encode(h, null);
    }
}
