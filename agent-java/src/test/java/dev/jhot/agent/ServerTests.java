package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static dev.jhot.agent.TestKit.*;

/** Server and Connection over real sockets: garbage, tokens, limits, peers. */
public final class ServerTests {
    private ServerTests() {
    }

    static Server startServer(Path dir, boolean allowUnix, long idleMillis) {
        Server s = new Server(dir, new Dispatcher(new Ops(null)));
        s.idleMillis = idleMillis;
        String problem = s.start(allowUnix);
        check(problem == null, "server did not start: " + problem);
        return s;
    }

    static SocketChannel connect(Server s) throws Exception {
        long pid = ProcessHandle.current().pid();
        if (s.channel().equals("unix")) {
            ProtocolFamily unix = StandardProtocolFamily.valueOf("UNIX");
            Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class)
                    .invoke(null, s.dir.resolve(pid + ".sock"));
            SocketChannel ch = (SocketChannel) SocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
            ch.connect((SocketAddress) addr);
            return ch;
        }
        String[] line = Files.readString(s.dir.resolve(pid + ".port")).trim().split(" ");
        return SocketChannel.open(new InetSocketAddress("127.0.0.1", Integer.parseInt(line[0])));
    }

    /** Reads one whole frame, or returns null at EOF; fails after 5 s so a bug cannot hang the run. */
    static Frame readFrame(SocketChannel ch) throws Exception {
        ch.configureBlocking(false);
        try (Selector sel = Selector.open()) {
            ch.register(sel, SelectionKey.OP_READ);
            FrameReader r = new FrameReader();
            ByteBuffer buf = ByteBuffer.allocate(1);
            long deadline = System.currentTimeMillis() + 5000;
            while (true) {
                long left = deadline - System.currentTimeMillis();
                check(left > 0, "no reply within 5 s");
                sel.select(left);
                sel.selectedKeys().clear();
                int n = ch.read(buf);
                if (n < 0) return null;
                if (n == 0) continue;
                buf.flip();
                byte[] body = r.feed(buf);
                buf.clear();
                if (body != null) return Frame.decode(body);
            }
        }
    }

    static void send(SocketChannel ch, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) ch.write(b);
    }

    static void testServerSurvivesGarbage() throws Exception {
        Path dir = tempDir().resolve("priv");
        Server s = startServer(dir, true, 60_000);
        try {
            eq(unixAvailable() ? "unix" : "tcp", s.channel());
            long pid = ProcessHandle.current().pid();
            Path chan = dir.resolve(pid + (unixAvailable() ? ".sock" : ".port"));
            check(Files.exists(chan), "channel file " + chan);
            eq("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(chan)));
            String token = s.token();
            byte[] helloFrame = Frame.encode(header("op", "hello", "id", 7L, "protocol", 1L, "token", token), null);

            // 1: a bad version byte inside a well-formed length.
            try (SocketChannel c = connect(s)) {
                send(c, raw(12, (byte) 9, new byte[11]));
                Frame f = readFrame(c);
                eq("protocol", ((Map<?, ?>) f.header.get("error")).get("kind"));
                eq(0L, f.id);
                check(readFrame(c) == null, "connection not closed after a protocol error");
            }
            // 2: an oversized length.
            try (SocketChannel c = connect(s)) {
                send(c, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 1, 2, 3});
                Frame f = readFrame(c);
                eq("protocol", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "connection not closed after an oversized frame");
            }
            // 3: a frame cut short by the peer.
            try (SocketChannel c = connect(s)) {
                send(c, Arrays.copyOf(helloFrame, helloFrame.length - 3));
                c.shutdownOutput();
                Frame f = readFrame(c);
                eq("protocol", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "connection not closed after a truncated frame");
            }
            // 4: random bytes, then the peer vanishes.
            try (SocketChannel c = connect(s)) {
                byte[] junk = new byte[5000];
                new java.util.Random(1).nextBytes(junk);
                junk[0] = 0;
                junk[1] = 0;
                send(c, junk);
            }
            // The server still answers, and several requests share one connection.
            try (SocketChannel c = connect(s)) {
                byte[] history = Frame.encode(header("op", "history", "id", 8L), null);
                byte[] both = Arrays.copyOf(helloFrame, helloFrame.length + history.length);
                System.arraycopy(history, 0, both, helloFrame.length, history.length);
                send(c, both);
                Frame f = readFrame(c);
                eq(7L, f.id);
                eq(true, f.header.get("ok"));
                eq(pid, f.header.get("pid"));
                eq(s.channel(), f.header.get("channel"));
                f = readFrame(c);
                eq(8L, f.id);
                eq(true, f.header.get("ok"));
            }
        } finally {
            s.stop();
        }
        check(!Files.exists(dir.resolve(ProcessHandle.current().pid() + ".sock")), "socket file left behind");
        check(!Files.exists(dir.resolve(ProcessHandle.current().pid() + ".port")), "port file left behind");
    }

    static void testTcpChannelNeedsToken() throws Exception {
        Path dir = tempDir().resolve("priv");
        Server s = startServer(dir, false, 60_000);
        try {
            eq("tcp", s.channel());
            Path port = dir.resolve(ProcessHandle.current().pid() + ".port");
            eq("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(port)));
            String line = Files.readString(port);
            check(line.matches("[0-9]+ [0-9a-f]{64}\n"), "port file " + line);
            String token = line.trim().split(" ")[1];
            eq(token, s.token());
            try (Stream<Path> files = Files.list(dir)) {
                eq(1L, files.count()); // no temp file left next to it
            }
            try (SocketChannel c = connect(s)) {
                send(c, Frame.encode(header("op", "history", "id", 1L), null));
                Frame f = readFrame(c);
                eq("auth", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "unauthenticated connection kept");
            }
            try (SocketChannel c = connect(s)) {
                // Differs from the token in its first digit whatever that digit is.
                String wrong = (token.charAt(0) == '0' ? "1" : "0") + token.substring(1);
                send(c, Frame.encode(header("op", "hello", "id", 1L, "token", wrong), null));
                eq("auth", ((Map<?, ?>) readFrame(c).header.get("error")).get("kind"));
            }
            // Before authenticating, a peer cannot make the agent buffer a large frame.
            try (SocketChannel c = connect(s)) {
                send(c, new byte[] {0, 0x10, 0, 0});
                eq("protocol", ((Map<?, ?>) readFrame(c).header.get("error")).get("kind"));
            }
            try (SocketChannel c = connect(s)) {
                send(c, Frame.encode(header("op", "hello", "id", 2L, "token", token), null));
                Frame f = readFrame(c);
                eq(true, f.header.get("ok"));
                eq("tcp", f.header.get("channel"));
                send(c, Frame.encode(header("op", "history", "id", 3L), null));
                eq(true, readFrame(c).header.get("ok"));
            }
        } finally {
            s.stop();
        }
    }

    static void testIdleConnectionIsClosed() throws Exception {
        Server s = startServer(tempDir().resolve("priv"), true, 300);
        try (SocketChannel c = connect(s)) {
            long t0 = System.nanoTime();
            send(c, new byte[] {0, 0}); // half a length, then silence
            check(readFrame(c) == null, "idle connection got a frame");
            long ms = (System.nanoTime() - t0) / 1_000_000;
            check(ms >= 250 && ms < 4000, "closed after " + ms + " ms");
        } finally {
            s.stop();
        }
    }

    /** A lone client is served on the accepting thread. Another client, or a request that may take
     *  long, moves it to a thread of its own first, and its conversation goes on there. */
    static void testLoneClientIsServedInlineAndMovesWhenNeeded() throws Exception {
        for (boolean unix : new boolean[] {false, true}) {
            Server s = startServer(tempDir().resolve("priv"), unix, 10_000);
            try {
                if (unix && !s.channel().equals("unix")) continue; // JDK 11-15: TCP only
                int before = agentConnectionThreads();
                try (SocketChannel a = connect(s)) {
                    send(a, Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null));
                    eq(true, readFrame(a).header.get("ok"));
                    send(a, Frame.encode(header("op", "history", "id", 2L), null));
                    eq(true, readFrame(a).header.get("ok"));
                    check(agentConnectionThreads() == before, "a lone client got a thread of its own");
                    try (SocketChannel b = connect(s)) {
                        send(b, Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null));
                        eq(true, readFrame(b).header.get("ok"));
                        send(a, Frame.encode(header("op", "history", "id", 3L), null));
                        Frame f = readFrame(a);
                        eq(3L, f.id);
                        eq(true, f.header.get("ok"));
                        check(agentConnectionThreads() == before + 2, "two clients, " + (agentConnectionThreads() - before) + " threads");
                    }
                }
                // Lone connections one after another leave no descriptor behind: they share one
                // selector, which the first of them opens (the last one moved away with a).
                waitFor(() -> agentConnectionThreads() == before, "threads of closed connections ended");
                try (SocketChannel c = connect(s)) {
                    send(c, Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null));
                    eq(true, readFrame(c).header.get("ok"));
                }
                Thread.sleep(50);
                long fds = openFds();
                for (int k = 0; k < 20; k++) {
                    try (SocketChannel c = connect(s)) {
                        send(c, Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null));
                        eq(true, readFrame(c).header.get("ok"));
                    }
                }
                waitFor(() -> openFds() <= fds + 2, "descriptors left by 20 closed connections: " + (openFds() - fds));
                // "threads" is not served inline: the connection moves before it runs.
                waitFor(() -> agentConnectionThreads() == before, "threads of closed connections ended");
                try (SocketChannel c = connect(s)) {
                    send(c, Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null));
                    eq(true, readFrame(c).header.get("ok"));
                    check(agentConnectionThreads() == before, "a lone client got a thread of its own");
                    send(c, Frame.encode(header("op", "threads", "id", 2L), null));
                    Frame f = readFrame(c);
                    eq(2L, f.id);
                    check(agentConnectionThreads() == before + 1, "moved for a request that may take long");
                }
            } finally {
                s.stop();
            }
        }
    }

    static long openFds() {
        String[] fds = new java.io.File("/proc/self/fd").list();
        return fds == null ? 0 : fds.length;
    }

    static void waitFor(java.util.function.BooleanSupplier cond, String what) throws InterruptedException {
        for (int k = 0; k < 250 && !cond.getAsBoolean(); k++) Thread.sleep(20);
        check(cond.getAsBoolean(), what);
    }

    static void testConnectionLimit() throws Exception {
        Path dir = tempDir().resolve("priv");
        Server s = new Server(dir, new Dispatcher(new Ops(null)));
        s.maxConnections = 2;
        check(s.start(true) == null, "start");
        try {
            String token = s.token();
            try (SocketChannel a = connect(s); SocketChannel b = connect(s); SocketChannel c = connect(s)) {
                if (token != null) {
                    // Over TCP only connections that showed the token take a slot (the others
                    // have a pool of their own: testTcpPeersThatDoNotAuthenticate).
                    for (SocketChannel x : Arrays.asList(a, b)) {
                        send(x, Frame.encode(header("op", "hello", "id", 1L, "token", token), null));
                        eq(true, readFrame(x).header.get("ok"));
                    }
                    send(c, Frame.encode(header("op", "hello", "id", 1L, "token", token), null));
                }
                Frame f = readFrame(c);
                eq("internal", ((Map<?, ?>) f.header.get("error")).get("kind"));
                check(readFrame(c) == null, "third connection kept");
                check(b.isOpen(), "second connection");
                send(a, Frame.encode(header("op", "hello", "id", 1L, "token", token), null));
                eq(true, readFrame(a).header.get("ok"));
            }
            // Closed connections free their slots (the server notices the close asynchronously).
            for (int k = 0; k < 50; k++) {
                try (SocketChannel c = connect(s)) {
                    send(c, Frame.encode(header("op", "hello", "id", 2L, "token", token), null));
                    Frame f = readFrame(c);
                    if (f != null && Boolean.TRUE.equals(f.header.get("ok"))) return;
                } catch (java.io.IOException stillFull) {
                    // Refused and closed before our hello was written: the slots are not free yet.
                }
                Thread.sleep(20);
            }
            throw new AssertionError("slots not freed");
        } finally {
            s.stop();
        }
    }

    /** True once the agent has closed ch (EOF, or a reset after our writes); never blocks. */
    static boolean closedByPeer(SocketChannel ch) {
        try {
            ch.configureBlocking(false);
            ByteBuffer b = ByteBuffer.allocate(256);
            int n;
            while ((n = ch.read(b)) > 0) b.clear();
            return n < 0;
        } catch (IOException e) {
            return true;
        }
    }

    static int agentConnectionThreads() {
        int n = 0;
        for (Thread t : Thread.getAllStackTraces().keySet()) if (t.getName().equals("jhot-agent-conn")) n++;
        return n;
    }

    static void testTcpPeersThatDoNotAuthenticate() throws Exception {
        Path dir = tempDir().resolve("priv");
        Server s = new Server(dir, new Dispatcher(new Ops(null)));
        s.maxConnections = 1;
        s.maxUnauthenticated = 4;
        s.authMillis = 600;
        check(s.start(false) == null, "start");
        List<SocketChannel> held = new ArrayList<>();
        try {
            byte[] hello = Frame.encode(header("op", "hello", "id", 1L, "token", s.token()), null);
            int threadsBefore = agentConnectionThreads();
            // A full pool of peers that trickle bytes (a frame header, then its body a byte at a
            // time) gets no thread of its own and is closed at the deadline, however busy it is.
            long t0 = System.nanoTime();
            for (int k = 0; k < 4; k++) held.add(connect(s));
            long closedAfter = -1;
            for (int tick = 0; tick < 40 && closedAfter < 0; tick++) {
                for (SocketChannel c : held) {
                    try {
                        send(c, new byte[] {tick < 2 ? 0 : (byte) 'x'});
                    } catch (IOException closed) {
                        // the agent is done with it
                    }
                }
                check(agentConnectionThreads() <= threadsBefore, "a thread for a peer that has not authenticated");
                boolean all = true;
                for (SocketChannel c : held) all &= closedByPeer(c);
                if (all) closedAfter = (System.nanoTime() - t0) / 1_000_000;
                Thread.sleep(50);
            }
            check(closedAfter >= 500 && closedAfter < 1800, "trickling peers closed after " + closedAfter + " ms (deadline 600 ms)");
            for (SocketChannel c : held) c.close();
            held.clear();

            // A new peer pushes the oldest unauthenticated one out, so a client that just
            // connected gets through a full pool; peers that have not authenticated do not take
            // the one authenticated slot either.
            for (int k = 0; k < 6; k++) held.add(connect(s));
            SocketChannel client = connect(s);
            held.add(client);
            send(client, hello);
            eq(true, readFrame(client).header.get("ok"));
            check(waitUntil(2000, () -> closedByPeer(held.get(0)) && closedByPeer(held.get(1)) && closedByPeer(held.get(2))),
                    "the oldest unauthenticated peers were kept");
            check(!closedByPeer(held.get(3)) && !closedByPeer(held.get(6)), "a newer peer was closed");
            // An authenticated connection outlives the deadline (its limit is the idle time).
            Thread.sleep(800);
            send(client, Frame.encode(header("op", "history", "id", 2L), null));
            eq(true, readFrame(client).header.get("ok"));
            for (SocketChannel c : held.subList(3, 6)) check(closedByPeer(c), "a silent peer outlived the deadline");
        } finally {
            for (SocketChannel c : held) c.close();
            s.stop();
        }
    }

    /** Polls for a condition another thread makes true. */
    static boolean waitUntil(long millis, java.util.function.BooleanSupplier cond) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000L;
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(10);
        }
        return true;
    }

    /**
     * The Unix socket admits its own user and root, compared by uid. Needs root (to play another
     * user with setpriv) and python3 (a client that is not a JVM); the socket is reached through a
     * hard link in a directory that user can search, since the private directory keeps it out.
     */
    static void testUnixPeersAreCheckedByUid() throws Exception {
        if (!unixAvailable()) throw new Skip("no Unix domain sockets before JDK 16");
        if (PrivateDir.euid() != 0) throw new Skip("needs root to connect as another user");
        Path base = tempDir();
        Server s = startServer(base.resolve("priv"), true, 60_000);
        try {
            eq("unix", s.channel());
            Path pub = Files.createDirectory(base.resolve("pub"));
            Files.setPosixFilePermissions(base, PosixFilePermissions.fromString("rwx--x--x"));
            Files.setPosixFilePermissions(pub, PosixFilePermissions.fromString("rwx--x--x"));
            Path link = pub.resolve("agent.sock");
            Files.createLink(link, base.resolve("priv").resolve(ProcessHandle.current().pid() + ".sock"));
            Files.setPosixFilePermissions(link, PosixFilePermissions.fromString("rw-rw-rw-"));
            String history = Sha256.hex(Frame.encode(header("op", "history", "id", 5L), null));
            String client = "import socket,sys\n"
                    + "s=socket.socket(socket.AF_UNIX);s.settimeout(10);s.connect(sys.argv[1])\n"
                    // A refused peer may be answered and closed before it has finished writing.
                    + "try: s.sendall(bytes.fromhex(sys.argv[2]))\n"
                    + "except (BrokenPipeError, ConnectionResetError): pass\n"
                    + "b=b''\n"
                    + "while len(b)<4 or len(b)<4+int.from_bytes(b[:4],'big'):\n"
                    + "  c=s.recv(65536)\n"
                    + "  if not c: break\n"
                    + "  b+=c\n"
                    + "print(b.hex())\n";
            // The system's python3: one on root's PATH (pyenv) may not be usable by another user.
            String python = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3" : "python3";
            List<String> py = Arrays.asList(python, "-c", client, link.toString(), history);
            List<String> nobody = new ArrayList<>(Arrays.asList("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"));
            nobody.addAll(py);
            Frame asRoot = answerOf(py);
            eq(true, asRoot.header.get("ok"));
            Frame asNobody = answerOf(nobody);
            Map<?, ?> e = (Map<?, ?>) asNobody.header.get("error");
            eq("auth", e.get("kind"));
            check(String.valueOf(e.get("message")).contains("uid 65534"), "refusal names the uid: " + e.get("message"));
        } finally {
            s.stop();
        }
    }

    static Frame answerOf(List<String> cmd) throws Exception {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new Skip(cmd.get(0) + " is not available: " + e.getMessage());
        }
        boolean done = p.waitFor(30, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        check(done && p.exitValue() == 0 && out.matches("([0-9a-f]{2})+"), cmd.get(0) + " client: " + out);
        byte[] b = new byte[out.length() / 2];
        for (int k = 0; k < b.length; k++) b[k] = (byte) Integer.parseInt(out.substring(2 * k, 2 * k + 2), 16);
        return Frame.decode(body(b));
    }

    /** A JVM without jdk.net cannot tell who connects to a Unix socket: it gets the TCP channel. */
    static void testNoUnixChannelWithoutJdkNet() throws Exception {
        if (!unixAvailable()) throw new Skip("no Unix domain sockets before JDK 16");
        Path dir = tempDir();
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--limit-modules", "java.base,java.instrument", "-cp", System.getProperty("java.class.path"),
                ChannelChild.class.getName(), dir.resolve("priv").toString())
                .redirectErrorStream(true).start();
        boolean done = p.waitFor(60, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        check(done && p.exitValue() == 0, "child: " + out);
        eq("tcp", out);
    }

    /** Opens the channel in args[0] the way the agent does (Unix allowed) and prints its kind. */
    public static final class ChannelChild {
        public static void main(String[] args) {
            Server s = new Server(Path.of(args[0]), new Dispatcher(new Ops(null)));
            String problem = s.start(true);
            System.out.println(problem != null ? problem : s.channel());
            s.stop();
        }
    }

    static void testServerRefusesUnsafeDir() throws Exception {
        Path dir = tempDir().resolve("open");
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Server s = new Server(dir, new Dispatcher(new Ops(null)));
        String problem = s.start(true);
        check(problem != null && problem.contains("mode"), "started in a 0755 dir: " + problem);
        try (Stream<Path> files = Files.list(dir)) {
            eq(0L, files.count());
        }
    }
}
