package dev.jhot.agent;

import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static dev.jhot.agent.TestKit.*;

/** Leftovers: what a sweep of the private directory removes, and everything it leaves alone. */
public final class LeftoversTests {
    private LeftoversTests() {
    }

    static final long OLD = System.currentTimeMillis() - 2 * Leftovers.STALE_MILLIS;

    static Path file(Path dir, String name, long mtime) throws Exception {
        Path p = Files.createFile(dir.resolve(name));
        Files.setLastModifiedTime(p, FileTime.fromMillis(mtime));
        return p;
    }

    /** A Unix socket file: listening (returned open) or left by a closed listener. */
    static ServerSocketChannel socket(Path dir, String name, long mtime, boolean listening) throws Exception {
        ProtocolFamily unix = StandardProtocolFamily.valueOf("UNIX");
        Path p = dir.resolve(name);
        Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class).invoke(null, p);
        ServerSocketChannel ch = (ServerSocketChannel) ServerSocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix);
        ch.bind((SocketAddress) addr);
        Files.setLastModifiedTime(p, FileTime.fromMillis(mtime));
        if (listening) return ch;
        ch.close(); // the file stays, as a killed JVM leaves it
        check(Files.exists(p), "a closed Unix listener leaves its file");
        return null;
    }

    static void testOldMarkersGoFreshOnesAndOtherNamesStay() throws Exception {
        Path dir = tempDir();
        Path old = file(dir, "101.opening", OLD);
        Path fresh = file(dir, "102.opening", System.currentTimeMillis());
        Path own = file(dir, "103.opening", OLD);
        Path notPid = file(dir, "x101.opening", OLD);
        Path jar = file(dir, "104.jar", OLD);
        Path port = file(dir, "105.port", OLD);
        eq(1, Leftovers.sweep(dir, 103));
        check(!Files.exists(old), "a marker a minute old is gone");
        for (Path p : new Path[] {fresh, own, notPid, jar, port}) check(Files.exists(p), p + " stays");
    }

    static void testAnOldSocketNobodyListensOnGoesALiveOneStays() throws Exception {
        if (!unixAvailable()) throw new Skip("no Unix sockets in java.nio before JDK 16");
        Path dir = tempDir();
        socket(dir, "201.sock", OLD, false);
        socket(dir, "202.sock", System.currentTimeMillis(), false);
        ServerSocketChannel live = socket(dir, "203.sock", OLD, true);
        try {
            Path notSocket = file(dir, "204.sock", OLD);
            eq(1, Leftovers.sweep(dir, 1));
            check(!Files.exists(dir.resolve("201.sock")), "an old socket that refuses is gone");
            check(Files.exists(dir.resolve("202.sock")), "a fresh one stays: its JVM may be about to listen");
            check(Files.exists(dir.resolve("203.sock")), "a socket someone listens on stays, however old");
            check(Files.exists(notSocket), "a regular file named .sock is not judged");
        } finally {
            live.close();
        }
    }

    static void testAMissingDirectoryIsNothingToDo() throws Exception {
        eq(0, Leftovers.sweep(tempDir().resolve("absent"), 1));
    }
}
