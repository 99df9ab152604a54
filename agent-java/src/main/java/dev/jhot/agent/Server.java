package dev.jhot.agent;

import java.io.IOException;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.security.SecureRandom;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The control channel: a Unix domain socket on JDK 16+, else loopback TCP guarded by a token.
 *
 * One daemon thread accepts, and also holds every TCP connection that has not shown the token yet,
 * on one Selector: a local user who floods the port costs the JVM no thread. A connection that
 * authenticates (a TCP hello with the token, or any Unix-socket peer that passes the peer check)
 * gets a thread of its own for as long as it stays open. So an idle agent has one thread.
 */
final class Server {
    /** Before a TCP peer has shown its token, a frame only needs to hold a hello. */
    private static final int UNAUTHED_MAX = 64 << 10;

    final Path dir;
    private final Dispatcher dispatcher;
    long idleMillis = 60_000;
    /** Authenticated connections beyond this are refused, so that even clients holding the token
     *  cannot exhaust the JVM's threads. */
    int maxConnections = 16;
    /** Time a TCP peer has, from its connect, to show the token. A deadline rather than an idle
     *  timer: a peer that trickles bytes must not keep its place for longer. */
    long authMillis = 2_000;
    /** TCP peers that have not shown the token yet. Any local user can connect, so when these are
     *  all taken the oldest is dropped: a flood then cannot keep out a client that just connected. */
    int maxUnauthenticated = 32;

    private volatile ServerSocketChannel listener;
    private volatile Selector selector;
    private Path file;
    private String channel;
    private String token;
    /** Unix channel only: how peers are checked (see peerUid). */
    private Object peerCred;
    /** UnixDomainPrincipal.user(), as (Object) -> Object. A method handle rather than
     *  Method.invoke: on JDK 17 and older, the 16th reflective call makes the JDK define an
     *  accessor class (14 definitions in all), and after any definition LoadedByName walks the
     *  loaded classes again for a second. */
    private MethodHandle peerUser;
    private UserPrincipal self;
    private int euid;
    /** A selector for the next connection served on the accepting thread, the listener
     *  registered in it: one opened and closed per command cost the agent ~0.3 ms of CPU.
     *  The accepting thread's only. */
    private Selector spare;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
    /** TCP connections still to authenticate, oldest first; only the accepting thread uses it. */
    private final Set<Pending> pending = new LinkedHashSet<>();
    private boolean warnedPeer;

    Server(Path dir, Dispatcher dispatcher) {
        this.dir = dir;
        this.dispatcher = dispatcher;
    }

    /** Returns null once serving, else why not. */
    String start(boolean allowUnix) {
        ServerSocketChannel ch = null;
        try {
            String bad = PrivateDir.check(dir, PrivateDir.euid());
            if (bad != null) return bad;
            long pid = ProcessHandle.current().pid();
            Path sock = dir.resolve(pid + ".sock");
            Path port = dir.resolve(pid + ".port");
            // Without a way to check Unix-socket peers the token-guarded TCP channel is used
            // instead: a channel whose peers go unchecked is never opened.
            ch = allowUnix && canCheckPeers() ? openUnix(sock) : null;
            if (ch != null) {
                channel = "unix";
                file = sock;
                // A .port left by an earlier JVM with this pid would point clients at a dead port.
                Files.deleteIfExists(port);
            } else {
                ch = ServerSocketChannel.open();
                ch.bind(new InetSocketAddress(InetAddress.getByAddress(new byte[] {127, 0, 0, 1}), 0));
                byte[] secret = randomBytes(32);
                channel = "tcp";
                token = Sha256.hex(secret);
                file = port;
                writePrivately(port, ((InetSocketAddress) ch.getLocalAddress()).getPort() + " " + token + "\n");
                Files.deleteIfExists(sock);
            }
            Selector sel = Selector.open();
            try {
                ch.configureBlocking(false);
                ch.register(sel, SelectionKey.OP_ACCEPT);
            } catch (IOException | RuntimeException e) {
                sel.close();
                throw e;
            }
            selector = sel;
            listener = ch;
            // A class, not a method reference: a fresh JVM's first lambda bootstrap costs 10-20 ms of
            // CPU, which would delay the channel a command run right after a cold one waits for.
            Thread t = new Thread(new Runnable() {
                @Override
                public void run() {
                    acceptLoop();
                }
            }, "jhot-agent");
            t.setDaemon(true);
            // Created on the attach listener thread, it would otherwise inherit its high priority.
            t.setPriority(Thread.NORM_PRIORITY);
            t.start();
            return null;
        } catch (Throwable t) {
            listener = null;
            close(selector);
            close(ch);
            return "cannot open the control channel in " + dir + ": " + Failure.describe(t);
        }
    }

    /**
     * Loads what serving a connection needs (the selector machinery, the connection's classes), so
     * that the first command after a cold load does not pay for it. Runs on the thread that opened
     * the channel, never on a caller's.
     */
    void warmUp() {
        try {
            Selector.open().close();
            Class.forName(Connection.class.getName());
            if (peerUser != null) {
                try {
                    // Links the call site; the null receiver then throws.
                    Object unused = (Object) peerUser.invokeExact((Object) null);
                } catch (NullPointerException expected) {
                    // as intended
                }
            }
            new FrameReader();
        } catch (Throwable t) {
            // Only a head start; serving works without it.
        }
    }

    String channel() {
        return channel;
    }

    /** AF_UNIX, or null before JDK 16 (no Unix sockets in java.nio). */
    static ProtocolFamily unixFamily() {
        try {
            return StandardProtocolFamily.valueOf("UNIX");
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** UnixDomainSocketAddress.of(path), by reflection: the agent is compiled for Java 11. */
    static SocketAddress unixAddress(Path path) throws ReflectiveOperationException {
        return (SocketAddress) Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class).invoke(null, path);
    }

    /** Null when JDK < 16 (no AF_UNIX in java.nio): the caller falls back to TCP. */
    private static ServerSocketChannel openUnix(Path sock) throws Exception {
        ProtocolFamily unix = unixFamily();
        if (unix == null) return null;
        SocketAddress addr = unixAddress(sock);
        ServerSocketChannel ch = (ServerSocketChannel) ServerSocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
        try {
            Files.deleteIfExists(sock); // left by a killed JVM that had this pid
            ch.bind(addr);
            Files.setPosixFilePermissions(sock, PosixFilePermissions.fromString("rw-------"));
            return ch;
        } catch (Exception e) {
            ch.close();
            throw e;
        }
    }

    /** The file is 0600 from its creation and appears complete under its final name. */
    private void writePrivately(Path target, String content) throws IOException {
        Path tmp = Files.createTempFile(dir, target.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try {
            Files.write(tmp, content.getBytes(StandardCharsets.US_ASCII));
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The kernel's randomness, read directly: SecureRandom would first start the JDK's security
     *  providers (10-20 ms on a fresh JVM) only to read the same /dev/urandom. */
    static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        try (java.io.InputStream in = new java.io.FileInputStream("/dev/urandom")) {
            int off = 0;
            while (off < n) {
                int r = in.read(b, off, n - off);
                if (r < 0) throw new IOException("short read");
                off += r;
            }
            return b;
        } catch (IOException e) {
            new SecureRandom().nextBytes(b);
            return b;
        }
    }

    /**
     * Whether Unix-socket peers can be checked by uid, and if so, sets up the check. The uid comes
     * from SO_PEERCRED through jdk.net, which hands it over only inside a UserPrincipal: the JDK's
     * UnixUserPrincipals.User, the class Files.getOwner returns too. Its getName() is the passwd
     * name, or the number when there is none, so comparing names lets a uid without a passwd entry
     * pass for a user whose name is that number, and any uid named "root" pass for root. The uid
     * itself has no public accessor, but User.equals compares uids and User.hashCode is the uid.
     * Both are implementation details, so both are checked: here, that our own principal hashes
     * to our euid (read from /proc, not passwd); in peerUid, that a peer equals it exactly when it
     * hashes to our euid. A JDK where either differs gets the TCP channel, never a wrong yes.
     * (The JNI library cannot help: it is loaded only when jhot asks for send_fds.)
     */
    private boolean canCheckPeers() {
        try {
            peerCred = Class.forName("jdk.net.ExtendedSocketOptions").getField("SO_PEERCRED").get(null);
            peerUser = MethodHandles.publicLookup()
                    .findVirtual(Class.forName("jdk.net.UnixDomainPrincipal"), "user", MethodType.methodType(UserPrincipal.class))
                    .asType(MethodType.methodType(Object.class, Object.class));
            euid = PrivateDir.euid();
            self = Files.getOwner(Paths.get("/proc/self"));
            if (self.hashCode() == euid) return true;
            Agent.log("cannot read peer uids on this JDK; using the TCP channel");
        } catch (Throwable t) {
            // jdk.net absent (a jlinked runtime): nothing can tell who connects to a Unix socket
        }
        peerCred = null;
        peerUser = null;
        return false;
    }

    /** The uid of a Unix-socket peer, or -1 when it cannot be told (see canCheckPeers). */
    @SuppressWarnings("unchecked")
    private int peerUid(SocketChannel c) {
        try {
            Object cred = c.getOption((SocketOption<Object>) peerCred);
            Object user = (Object) peerUser.invokeExact(cred);
            if (user == null || user.getClass() != self.getClass()) return -1;
            int uid = user.hashCode();
            return user.equals(self) == (uid == euid) ? uid : -1;
        } catch (Throwable t) {
            return -1;
        }
    }

    /** Null when a Unix-socket peer may drive this JVM: its own user or root. */
    private String refusal(SocketChannel c) {
        int uid = peerUid(c);
        if (uid >= 0 && (uid == euid || uid == 0)) return null;
        String who = uid >= 0 ? "uid " + uid : "a peer whose uid cannot be read";
        if (!warnedPeer) {
            warnedPeer = true;
            Agent.log("refused a connection from " + who + " (only uid " + euid + " or root may connect)");
        }
        return who + " may not control this JVM";
    }

    /** A TCP connection that has not shown the token yet. */
    private static final class Pending {
        final SocketChannel ch;
        final long deadline;
        final FrameReader reader = new FrameReader();
        final Dispatcher.Session session;

        Pending(SocketChannel ch, long deadline, Dispatcher.Session session) {
            this.ch = ch;
            this.deadline = deadline;
            this.session = session;
            reader.max = UNAUTHED_MAX;
        }
    }

    private void acceptLoop() {
        Selector sel = selector;
        // Shared by every pending connection: a hello is a few hundred bytes.
        ByteBuffer buf = ByteBuffer.allocate(8 << 10);
        try {
            while (listener != null) {
                try {
                    long timeout = 0;
                    Iterator<Pending> oldest = pending.iterator();
                    if (oldest.hasNext()) timeout = Math.max(1, (oldest.next().deadline - System.nanoTime()) / 1_000_000L + 1);
                    sel.select(timeout);
                    for (SelectionKey k : sel.selectedKeys()) {
                        if (!k.isValid()) continue;
                        if (k.attachment() == null) {
                            acceptAll((ServerSocketChannel) k.channel());
                        } else {
                            read((Pending) k.attachment(), buf);
                        }
                    }
                    sel.selectedKeys().clear();
                    expire();
                } catch (ClosedSelectorException e) {
                    return;
                } catch (Throwable e) {
                    sel.selectedKeys().clear();
                    Thread.sleep(100); // e.g. out of file descriptors: do not spin
                }
            }
        } catch (InterruptedException e) {
            // stop serving
        } finally {
            for (Pending p : pending) close(p.ch);
            pending.clear();
            close(sel);
            close(spare);
            spare = null;
        }
    }

    private void acceptAll(ServerSocketChannel l) throws IOException {
        while (true) {
            SocketChannel c = null;
            try {
                c = l.accept();
                if (c == null) return;
                if (token == null) {
                    String refusal = refusal(c);
                    if (refusal != null) {
                        refuse(c, Dispatcher.error(0, "auth", refusal, null, true));
                    } else {
                        admit(c, new Dispatcher.Session(channel, null), null, null);
                    }
                } else {
                    if (pending.size() >= maxUnauthenticated) {
                        Pending p = pending.iterator().next();
                        pending.remove(p);
                        close(p.ch);
                    }
                    c.configureBlocking(false);
                    long deadline = System.nanoTime() + Math.min(authMillis, idleMillis) * 1_000_000L;
                    Pending p = new Pending(c, deadline, new Dispatcher.Session(channel, token));
                    c.register(selector, SelectionKey.OP_READ, p);
                    pending.add(p);
                }
            } catch (Throwable e) {
                close(c);
                throw e;
            }
        }
    }

    /** Reads what a pending connection sent; once its first frame is in, admits or refuses it. */
    private void read(Pending p, ByteBuffer buf) {
        byte[] body;
        buf.clear();
        try {
            if (p.ch.read(buf) < 0) {
                drop(p, p.reader.midFrame() ? Dispatcher.error(0, "protocol", "connection closed inside a frame", null, true) : null);
                return;
            }
            buf.flip();
            body = p.reader.feed(buf);
        } catch (Failure f) {
            drop(p, Dispatcher.error(0, f.kind, f.getMessage(), null, true));
            return;
        } catch (IOException | RuntimeException e) {
            drop(p, null);
            return;
        }
        if (body == null) return;
        Dispatcher.Reply refused = dispatcher.authenticate(body, p.session);
        if (refused != null) {
            drop(p, refused);
            return;
        }
        pending.remove(p);
        p.ch.keyFor(selector).cancel();
        // A client may send its next request right behind the hello.
        ByteBuffer rest = buf.hasRemaining() ? ByteBuffer.allocate(buf.remaining()).put(buf).flip() : null;
        admit(p.ch, p.session, body, rest);
    }

    /** Closes pending connections whose time to authenticate is up; the oldest come first. */
    private void expire() {
        long now = System.nanoTime();
        Iterator<Pending> it = pending.iterator();
        while (it.hasNext()) {
            Pending p = it.next();
            if (p.deadline - now > 0) return;
            it.remove();
            close(p.ch); // silently, as an idle connection is closed
        }
    }

    private void drop(Pending p, Dispatcher.Reply reply) {
        pending.remove(p);
        if (reply != null) {
            refuse(p.ch, reply);
        } else {
            close(p.ch);
        }
    }

    /** Serves an authenticated connection, if there is room for one: on this thread while it is
     *  the only client (see Connection), else on a thread of its own. */
    private void admit(SocketChannel c, Dispatcher.Session session, byte[] first, ByteBuffer rest) {
        if (live.size() >= maxConnections) {
            refuse(c, Dispatcher.error(0, "internal", "too many jhot connections", null, true));
            return;
        }
        Connection conn = new Connection(this, c, dispatcher, session, idleMillis, first, rest);
        live.add(conn);
        ServerSocketChannel l = listener;
        // TCP peers still to authenticate would wait meanwhile: only when there are none.
        if (l != null && live.size() == 1 && pending.isEmpty() && conn.serveInline(l)) return;
        Thread t = new Thread(conn, "jhot-agent-conn");
        t.setDaemon(true);
        try {
            t.start();
        } catch (Throwable e) {
            live.remove(conn);
            close(c);
        }
    }

    /** For a connection served on the accepting thread: the spare selector, else a new one. */
    Selector takeSelector() throws IOException {
        Selector s = spare;
        spare = null;
        return s != null ? s : Selector.open();
    }

    /** A selector whose connection ended on the accepting thread, to be the spare. The select
     *  deregisters the closed channel, which also completes its close. */
    void giveBack(Selector s) {
        try {
            s.selectNow();
            s.selectedKeys().clear();
            if (spare == null && listener != null && s.isOpen()) {
                spare = s;
                return;
            }
        } catch (IOException | RuntimeException e) {
            // a broken selector is closed, not kept
        }
        close(s);
    }

    /** Requests a connection may run on the accepting thread: quick ones that neither stream,
     *  wait on the application (drain, getstatic), nor hand out descriptors. */
    static boolean inlineOp(Frame f) {
        if (Boolean.TRUE.equals(f.header.get("events"))) return false;
        Object op = f.header.get("op");
        return "hello".equals(op) || "redefine".equals(op) || "bytes".equals(op) || "history".equals(op)
                || "rollback".equals(op) || "jvm".equals(op) || "class_info".equals(op);
    }

    /** Best effort: a fresh socket has room for a small error frame, so this does not block. */
    private static void refuse(SocketChannel c, Dispatcher.Reply reply) {
        try {
            c.write(ByteBuffer.wrap(reply.frame));
        } catch (IOException | RuntimeException ignored) {
            // the peer learns from the close
        }
        close(c);
    }

    void done(Connection c) {
        live.remove(c);
    }

    /** Removes the channel file; the shutdown hook calls this. */
    void removeFile() {
        try {
            if (file != null) Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // the JVM is going away; nothing better to do
        }
    }

    /** For tests and re-initialisation: stop listening and drop every connection. */
    void stop() {
        ServerSocketChannel l = listener;
        listener = null;
        close(l);
        Selector sel = selector;
        if (sel != null) sel.wakeup(); // the accepting thread then closes the pending connections
        for (Connection c : live) c.close();
        removeFile();
    }

    String token() {
        return token;
    }

    static void close(java.io.Closeable c) {
        try {
            if (c != null) c.close();
        } catch (IOException ignored) {
            // closing is best effort
        }
    }
}
