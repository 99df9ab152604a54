package dev.jhot.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * Serves one authenticated client until it closes or stays silent for the idle time. A Selector
 * provides the timeouts, because Unix-domain SocketChannels ignore socket timeouts.
 */
final class Connection implements Runnable {
    private final Server server;
    private final SocketChannel ch;
    private final Dispatcher dispatcher;
    private final Dispatcher.Session session;
    private final long idleMillis;
    /** The hello that authenticated a TCP peer, and whatever the peer sent right behind it. */
    private byte[] first;
    private final ByteBuffer rest;
    private volatile Selector selector;
    private SelectionKey key;

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
                byte[] body = first;
                first = null;
                if (body == null) {
                    in.flip();
                    try {
                        body = reader.feed(in);
                    } catch (Failure f) {
                        send(Dispatcher.error(0, f.kind, f.getMessage(), null, true).frame);
                        return;
                    }
                    in.compact();
                }
                if (body != null) {
                    Dispatcher.Reply r = dispatcher.handle(body, session);
                    send(r.frame);
                    if (r.close) return;
                    continue;
                }
                if (!await(SelectionKey.OP_READ)) return; // idle
                if (ch.read(in) < 0) {
                    if (reader.midFrame()) send(Dispatcher.error(0, "protocol", "connection closed inside a frame", null, true).frame);
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

    private void send(byte[] frame) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(frame);
        while (b.hasRemaining()) {
            if (ch.write(b) == 0 && !await(SelectionKey.OP_WRITE)) throw new IOException("peer stopped reading");
        }
    }

    void close() {
        Server.close(ch);
        Selector s = selector;
        if (s != null) s.wakeup(); // a closed channel alone does not end a pending select
    }
}
