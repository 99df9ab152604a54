package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.PrivateDir;
import dev.jhot.agent.Wire;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;
import static dev.jhot.agent.Wire.*;

/** send_fds: paths inside the private directory only, and the native library. */
public final class FdsTests {
    private FdsTests() {
    }

    static Wire.Reply sendFds(Ops ops, Object lib, Object socket, Object fds) throws Failure {
        return ask(ops, header("op", "send_fds", "id", 11L, "lib", lib, "socket", socket, "fds", fds), null);
    }

    static Ops opsIn(Path dir) {
        Ops ops = new Ops(null);
        ops.privateDir = dir;
        return ops;
    }

    static void testSendFdsRefusesPathsOutsideThePrivateDir() throws Exception {
        Path dir = tempDir().resolve("priv");
        eq(null, PrivateDir.check(dir, PrivateDir.euid()));
        Path elsewhere = tempDir();
        Ops ops = opsIn(dir);
        String lib = dir.resolve("libjhot_jni-0123.so").toString();
        String sock = dir.resolve("fds.sock").toString();
        List<Long> fds = Arrays.asList(1L, 2L);
        Files.createSymbolicLink(dir.resolve("link.so"), elsewhere.resolve("libjhot_jni.so"));
        Object[][] refused = {
            {elsewhere.resolve("libjhot_jni.so").toString(), sock},
            {lib, "/tmp/fds.sock"},
            {lib, dir + "/../fds.sock"},
            {dir + "/./libjhot_jni.so", sock},
            {"libjhot_jni.so", sock},
            {lib, dir.resolve("sub/fds.sock").toString()},
            {lib, dir.toString()},
            {dir.resolve("link.so").toString(), sock},
        };
        for (Object[] c : refused) {
            Map<?, ?> err = expectError(sendFds(ops, c[0], c[1], fds), "refused", false);
            check(((String) err.get("message")).contains(c[0].equals(lib) ? (String) c[1] : (String) c[0]), "message names the path: " + err);
        }
        // A directory others may write to is no private directory.
        Path open = tempDir().resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Map<?, ?> err = expectError(sendFds(opsIn(open), open.resolve("l.so").toString(), open.resolve("s.sock").toString(), fds), "refused", false);
        check(((String) err.get("message")).contains("mode"), "unsafe dir: " + err);
        expectError(sendFds(opsIn(null), lib, sock, fds), "refused", false);
        // Malformed requests.
        expectError(sendFds(ops, lib, sock, new ArrayList<>()), "protocol", true);
        expectError(sendFds(ops, lib, sock, Arrays.asList(-1L)), "protocol", true);
        expectError(sendFds(ops, lib, sock, Arrays.asList("1")), "protocol", true);
        expectError(sendFds(ops, lib, sock, java.util.Collections.nCopies(33, 1L)), "protocol", true);
        expectError(sendFds(ops, null, sock, fds), "protocol", true);
        expectError(sendFds(ops, lib, 5L, fds), "protocol", true);
    }

    static void testSendFdsReportsAMissingLibrary() throws Exception {
        Path dir = tempDir().resolve("priv");
        eq(null, PrivateDir.check(dir, PrivateDir.euid()));
        Ops ops = opsIn(dir);
        String missing = dir.resolve("libjhot_jni-missing.so").toString();
        Map<?, ?> err = expectError(sendFds(ops, missing, dir.resolve("fds.sock").toString(), Arrays.asList(1L)), "native", false);
        String m = (String) err.get("message");
        check(m.contains("UnsatisfiedLinkError") && m.contains(missing), "message: " + m);
        // Not remembered as loaded: the right library still loads afterwards (testSendFdsWithTheNativeLibrary).
    }

    /** With a built library (JHOT_JNI_LIB or -Djhot.jni.lib): the whole op, over a real socket.
     *  Java cannot receive SCM_RIGHTS; native/jni/tests checks that the descriptors arrive. */
    static void testSendFdsWithTheNativeLibrary() throws Exception {
        String built = System.getProperty("jhot.jni.lib", System.getenv("JHOT_JNI_LIB"));
        if (built == null || built.isEmpty()) throw new Skip("set JHOT_JNI_LIB to a built libjhot_jni.so to run it");
        if (!unixAvailable()) throw new Skip("JDK " + System.getProperty("java.version") + " has no Unix domain sockets in java.nio");
        Path dir = tempDir().resolve("priv");
        eq(null, PrivateDir.check(dir, PrivateDir.euid()));
        Path lib = dir.resolve("libjhot_jni-test.so");
        Files.copy(Path.of(built), lib);
        Path sock = dir.resolve("fds.sock");
        ProtocolFamily unix = StandardProtocolFamily.valueOf("UNIX");
        Object addr = Class.forName("java.net.UnixDomainSocketAddress").getMethod("of", Path.class).invoke(null, sock);
        Ops ops = opsIn(dir);
        try (ServerSocketChannel l = (ServerSocketChannel) ServerSocketChannel.class.getMethod("open", ProtocolFamily.class).invoke(null, unix)) {
            l.bind((SocketAddress) addr);
            // The kernel queues the connection and the message: the op completes before the accept.
            Map<String, Object> r = sendFds(ops, lib.toString(), sock.toString(), Arrays.asList(1L, 2L)).header;
            eq(true, r.get("ok"));
            eq(2L, r.get("sent"));
            try (SocketChannel c = l.accept()) {
                ByteBuffer b = ByteBuffer.allocate(8);
                while (c.read(b) >= 0) {
                    // until the sender closes
                }
                eq(4, b.position());
                eq(2, b.flip().order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
            }
            eq(true, sendFds(ops, lib.toString(), sock.toString(), Arrays.asList(0L)).header.get("ok"));
            l.accept().close();
            Map<?, ?> err = expectError(sendFds(ops, lib.toString(), sock.toString(), Arrays.asList(1L, 100000L)), "io", false);
            check(((String) err.get("message")).contains("fd 100000"), "bad fd: " + err);
        }
        Map<?, ?> err = expectError(sendFds(ops, lib.toString(), dir.resolve("gone.sock").toString(), Arrays.asList(1L)), "io", false);
        check(((String) err.get("message")).contains("connecting to " + dir.resolve("gone.sock")), "no listener: " + err);
        Path other = dir.resolve("libjhot_jni-other.so");
        Files.copy(lib, other);
        err = expectError(sendFds(ops, other.toString(), sock.toString(), Arrays.asList(1L)), "native", false);
        check(((String) err.get("message")).contains("already loaded"), "second library: " + err);
    }
}
