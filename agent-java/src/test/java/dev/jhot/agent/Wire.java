package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.io.IOException;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.body;
import static dev.jhot.agent.TestKit.check;
import static dev.jhot.agent.TestKit.eq;

/**
 * The channel as the tests of the operations use it: requests through the Dispatcher, a real
 * Server, and JSON. The channel's classes stay package-private; only these test-side entry points
 * are public, so that the operations' tests can live in their own package.
 */
public final class Wire {
    private Wire() {
    }

    /** A reply: its header, and whether the agent closes the connection after it. */
    public static final class Reply {
        public final Map<String, Object> header;
        public final List<byte[]> blobs;
        public final boolean close;

        Reply(Dispatcher.Reply r) throws Failure {
            Frame f = Frame.decode(body(r.frame));
            this.header = f.header;
            this.blobs = f.blobs;
            this.close = r.close;
        }
    }

    /** One request, handled as a connection of the Unix socket (no token) hands it over. */
    public static Reply ask(Ops ops, Map<String, Object> header, List<byte[]> blobs) throws Failure {
        return new Reply(new Dispatcher(ops).handle(body(Frame.encode(header, blobs)), new Dispatcher.Session("unix", null)));
    }

    /** Checks that r is a failure of this kind that does (or does not) close the connection, with
     *  a message; returns its error object. */
    public static Map<?, ?> expectError(Reply r, String kind, boolean close) {
        eq(false, r.header.get("ok"));
        Map<?, ?> err = (Map<?, ?>) r.header.get("error");
        eq(kind, err.get("kind"));
        check(err.get("message") instanceof String, "message");
        eq(close, r.close);
        return err;
    }

    public static String json(Object value) {
        return Json.write(value);
    }

    /** A control channel serving ops, as the agent opens it (Unix socket if it can). */
    public static final class Channel {
        private final Server server;

        public Channel(Path dir, Ops ops) {
            server = new Server(dir, new Dispatcher(ops));
        }

        /** Null once serving, else why not. */
        public String start() {
            return server.start(true);
        }

        public SocketChannel connect() throws Exception {
            return ServerTests.connect(server);
        }

        public void stop() {
            server.stop();
        }
    }

    /** Sends one request. */
    public static void send(SocketChannel ch, Map<String, Object> header) throws IOException {
        ServerTests.send(ch, Frame.encode(header, null));
    }

    /** The header of the next reply, or null at EOF; fails after 5 s. */
    public static Map<String, Object> read(SocketChannel ch) throws Exception {
        Frame f = ServerTests.readFrame(ch);
        return f == null ? null : f.header;
    }
}
