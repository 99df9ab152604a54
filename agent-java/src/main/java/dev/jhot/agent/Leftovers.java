package dev.jhot.agent;

import java.io.IOException;
import java.net.ConnectException;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Channel files that JVMs which are gone left in the private directory: a JVM killed (kill -9, the
 * OOM killer, a crash) removes neither its {@code <pid>.sock} nor, if it dies while its channel
 * opens, its {@code <pid>.opening}. jhot reads past them (a refused socket is no agent, a marker
 * older than 30 s is no opening), but they pile up: hundreds after a day of test runs. HotSpot
 * clears the perf-data files of dead JVMs from {@code hsperfdata_<user>} the same way, at start.
 *
 * <p>A file is removed only when it is shown to be dead, whichever pid namespace its JVM lived in
 * (containers may share one /tmp): a socket that refuses a connection, and a marker, each at least
 * STALE_MILLIS old. A live agent's socket accepts (that connection closes at once, before a
 * hello); a JVM between binding its socket and listening on it refuses for microseconds, not a
 * minute. Only names of the form {@code <digits>.sock} and {@code <digits>.opening} are looked at,
 * never this JVM's own. Runs once per agent, on the thread that opened the channel, after it.
 */
final class Leftovers {
    static final long STALE_MILLIS = 60_000;

    private Leftovers() {
    }

    /** Removes what is shown to be left over; returns how many files were removed. */
    static int sweep(Path dir, long ownPid) {
        int removed = 0;
        long now = System.currentTimeMillis();
        String own = Long.toString(ownPid);
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path p : files) {
                String name = p.getFileName().toString();
                int dot = name.indexOf('.');
                if (dot <= 0 || dot > 10 || !digits(name, dot) || name.substring(0, dot).equals(own)) continue;
                String kind = name.substring(dot + 1);
                if (!kind.equals("sock") && !kind.equals("opening")) continue;
                try {
                    BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    if (now - a.lastModifiedTime().toMillis() < STALE_MILLIS) continue;
                    boolean dead = kind.equals("opening") ? a.isRegularFile() : a.isOther() && refused(p) && same(p, a);
                    if (dead && Files.deleteIfExists(p)) removed++;
                } catch (IOException | RuntimeException e) {
                    // gone meanwhile, or not ours to judge: left as it is
                }
            }
        } catch (IOException | RuntimeException e) {
            // a directory that cannot be listed keeps its files
        }
        return removed;
    }

    /** Still the file that refused: a JVM that reused the pid meanwhile binds a new socket there
     *  (and removes the old file first). What remains is the instant between this and the
     *  unlink; losing that race costs that JVM its channel file, and jhot then reaches its agent
     *  through the attach socket (Agent.start answers a load's request), cold every time. */
    private static boolean same(Path p, BasicFileAttributes before) throws IOException {
        Object key = before.fileKey();
        return key != null && key.equals(Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).fileKey());
    }

    private static boolean digits(String s, int end) {
        for (int i = 0; i < end; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '9') return false;
        }
        return true;
    }

    /** True only when connecting is refused: nobody listens on that socket any more. */
    private static boolean refused(Path sock) {
        ProtocolFamily unix = Server.unixFamily();
        if (unix == null) return false; // JDK 11-15: no Unix sockets to test with, so none is judged
        try {
            SocketAddress addr = Server.unixAddress(sock);
            SocketChannel ch = (SocketChannel) SocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
            try {
                // Not blocking: a live agent whose backlog is full must not hold this thread.
                ch.configureBlocking(false);
                ch.connect(addr);
                return false;
            } catch (ConnectException e) {
                return true;
            } finally {
                ch.close();
            }
        } catch (Exception e) {
            return false;
        }
    }
}
