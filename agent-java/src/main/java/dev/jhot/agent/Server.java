package dev.jhot.agent;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.SocketOption;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
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
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The control channel: a Unix domain socket on JDK 16+, else loopback TCP guarded by a token.
 * One daemon thread accepts; each connection gets its own short-lived thread.
 */
final class Server {
    final Path dir;
    private final Dispatcher dispatcher;
    long idleMillis = 60_000;
    /** Connections beyond this are refused, so a local flood cannot exhaust the JVM's threads. */
    int maxConnections = 16;

    private volatile ServerSocketChannel listener;
    private Path file;
    private String channel;
    private String token;
    /** Unix channel only: how peers are checked (see peerUid). */
    private Object peerCred;
    private UserPrincipal self;
    private int euid;
    private final Set<Connection> live = ConcurrentHashMap.newKeySet();
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
                token = ClassBytes.hex(secret);
                file = port;
                writePrivately(port, ((InetSocketAddress) ch.getLocalAddress()).getPort() + " " + token + "\n");
                Files.deleteIfExists(sock);
            }
            listener = ch;
            Thread t = new Thread(this::acceptLoop, "jhot-agent");
            t.setDaemon(true);
            // Created on the attach listener thread, it would otherwise inherit its high priority.
            t.setPriority(Thread.NORM_PRIORITY);
            t.start();
            return null;
        } catch (Throwable t) {
            listener = null;
            close(ch);
            return "cannot open the control channel in " + dir + ": " + Ops.describe(t);
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
            new FrameReader();
        } catch (Throwable t) {
            // Only a head start; serving works without it.
        }
    }

    String channel() {
        return channel;
    }

    /** Null when JDK < 16 (no AF_UNIX in java.nio): the caller falls back to TCP. */
    private static ServerSocketChannel openUnix(Path sock) throws Exception {
        ProtocolFamily unix;
        try {
            unix = StandardProtocolFamily.valueOf("UNIX");
        } catch (IllegalArgumentException e) {
            return null;
        }
        Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class).invoke(null, sock);
        ServerSocketChannel ch = (ServerSocketChannel) ServerSocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
        try {
            Files.deleteIfExists(sock); // left by a killed JVM that had this pid
            ch.bind((SocketAddress) addr);
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
            euid = PrivateDir.euid();
            self = Files.getOwner(Paths.get("/proc/self"));
            if (self.hashCode() == euid) return true;
            Agent.log("cannot read peer uids on this JDK; using the TCP channel");
        } catch (Throwable t) {
            // jdk.net absent (a jlinked runtime): nothing can tell who connects to a Unix socket
        }
        peerCred = null;
        return false;
    }

    /** The uid of a Unix-socket peer, or -1 when it cannot be told (see canCheckPeers). */
    @SuppressWarnings("unchecked")
    private int peerUid(SocketChannel c) {
        try {
            Object cred = c.getOption((SocketOption<Object>) peerCred);
            Object user = cred.getClass().getMethod("user").invoke(cred);
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

    private void acceptLoop() {
        while (true) {
            ServerSocketChannel l = listener;
            if (l == null) return;
            SocketChannel c = null;
            try {
                c = l.accept();
                String refusal = token == null ? refusal(c) : null; // the token guards TCP
                String kind = "auth";
                if (refusal == null && live.size() >= maxConnections) {
                    refusal = "too many jhot connections";
                    kind = "internal";
                }
                if (refusal != null) {
                    // Best effort: the socket is fresh, so this small write does not block.
                    c.write(ByteBuffer.wrap(Dispatcher.error(0, kind, refusal, null, true).frame));
                    c.close();
                    continue;
                }
                Connection conn = new Connection(this, c, dispatcher, new Dispatcher.Session(channel, token), idleMillis);
                live.add(conn);
                Thread t = new Thread(conn, "jhot-agent-conn");
                t.setDaemon(true);
                try {
                    t.start();
                } catch (Throwable e) {
                    live.remove(conn);
                    throw e;
                }
            } catch (ClosedChannelException e) {
                return;
            } catch (Throwable e) {
                close(c);
                if (!l.isOpen()) return;
                try {
                    Thread.sleep(100); // e.g. out of file descriptors: do not spin
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
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
