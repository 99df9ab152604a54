package dev.jhot.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;

/**
 * Serves one client until it closes or stays silent for the idle time. A Selector provides the
 * timeouts, because Unix-domain SocketChannels ignore socket timeouts.
 */
final class Connection implements Runnable {
    /** Before a TCP peer has shown its token, a frame only needs to hold a hello. */
    private static final int UNAUTHED_MAX = 64 << 10;

    private final Server server;
    private final SocketChannel ch;
    private final Dispatcher dispatcher;
    private final Dispatcher.Session session;
    private final long idleMillis;
    private volatile Selector selector;
    private SelectionKey key;

    Connection(Server server, SocketChannel ch, Dispatcher dispatcher, Dispatcher.Session session, long idleMillis) {
        this.server = server;
        this.ch = ch;
        this.dispatcher = dispatcher;
        this.session = session;
        this.idleMillis = idleMillis;
    }

    @Override
    public void run() {
        try (Selector sel = Selector.open()) {
            selector = sel;
            ch.configureBlocking(false);
            key = ch.register(sel, SelectionKey.OP_READ);
            FrameReader reader = new FrameReader();
            ByteBuffer in = ByteBuffer.allocate(64 << 10);
            while (true) {
                reader.max = session.authed ? Frame.MAX_BODY : UNAUTHED_MAX;
                in.flip();
                byte[] body;
                try {
                    body = reader.feed(in);
                } catch (Failure f) {
                    send(Dispatcher.error(0, f.kind, f.getMessage(), null, true).frame);
                    return;
                }
                in.compact();
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
