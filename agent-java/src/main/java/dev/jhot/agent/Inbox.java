package dev.jhot.agent;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;

/**
 * The first request of a cold load, carried in a file of the private directory instead of over the
 * channel. Opening the channel costs a fresh JVM 10-30 ms (the JDK's Unix-socket support starts
 * the security providers), so on a cold load the channel opens on a thread of its own while
 * agentmain answers this request: the two overlap instead of adding up.
 *
 * The request file is deleted before it is acted on, so jhot can tell "not taken" (still there)
 * from "taken but unanswered" (gone, no answer) and never sends a change twice.
 */
final class Inbox {
    private Inbox() {
    }

    /**
     * With {@code more=1} jhot has a second request that depends on the first answer (redefine
     * after its pre-flight): it writes {@code <stem>.2.req} once it has read the first answer, or
     * {@code <stem>.end} when it has nothing more to send. Waiting here for a few milliseconds is
     * cheaper than the channel's start-up, and jhot stops waiting when agentmain returns.
     */
    static void followUp(Path dir, String name, Dispatcher dispatcher) {
        try {
            if (PrivateDir.check(dir, PrivateDir.euid()) != null) return; // answer() said why
        } catch (IOException e) {
            return;
        }
        String stem = name.substring(0, name.length() - 4);
        Path next = dir.resolve(stem + ".2.req");
        Path end = dir.resolve(stem + ".end");
        long deadline = System.nanoTime() + FOLLOW_UP_WAIT_NANOS;
        while (System.nanoTime() < deadline) {
            if (Files.exists(next, LinkOption.NOFOLLOW_LINKS)) {
                answer(dir, stem + ".2.req", dispatcher);
                break;
            }
            if (Files.exists(end, LinkOption.NOFOLLOW_LINKS)) break;
            java.util.concurrent.locks.LockSupport.parkNanos(250_000);
        }
        try {
            Files.deleteIfExists(end);
        } catch (IOException e) {
            // jhot removes it too
        }
    }

    /** How long agentmain (and with it the JVM's attach listener) waits for a follow-up. */
    static final long FOLLOW_UP_WAIT_NANOS = 3_000_000_000L;

    /**
     * Answers {@code dir/name} (a whole frame, length prefix included) into {@code dir/<stem>.resp}.
     * Only in a directory that passes {@link PrivateDir#check}: where another user can write, that
     * user could have planted the request or could take the answer.
     */
    static void answer(Path dir, String name, Dispatcher dispatcher) {
        int euid;
        try {
            euid = PrivateDir.euid();
        } catch (IOException e) {
            Agent.log("not answering " + name + ": cannot read the JVM's uid: " + Failure.describe(e));
            return;
        }
        String unsafe = PrivateDir.check(dir, euid);
        if (unsafe != null) {
            Agent.log("not answering " + name + ": " + unsafe);
            return;
        }
        answerChecked(dir, name, dispatcher, euid);
    }

    /** {@link #answer} in a directory the caller has just checked, for this euid. */
    static void answerChecked(Path dir, String name, Dispatcher dispatcher, int euid) {
        if (!requestName(name)) {
            Agent.log("ignoring request file name " + name);
            return;
        }
        Path req = dir.resolve(name);
        Path resp = answerFile(dir, name);
        byte[] frame;
        try {
            frame = read(req, euid);
        } catch (IOException e) {
            Agent.log("cannot read " + req + ": " + Failure.describe(e));
            return;
        } finally {
            try {
                Files.deleteIfExists(req);
            } catch (IOException e) {
                Agent.log("cannot remove " + req + ": " + Failure.describe(e));
            }
        }
        if (frame == null) return;
        Dispatcher.Reply reply;
        if (frame.length < 4 || Frame.u32(frame, 0) != frame.length - 4L) {
            reply = Dispatcher.error(0, "protocol", "request file is not one whole frame", null, true);
        } else {
            byte[] body = new byte[frame.length - 4];
            System.arraycopy(frame, 4, body, 0, body.length);
            reply = dispatcher.handle(body, new Dispatcher.Session("file", null));
        }
        Path tmp = dir.resolve(resp.getFileName() + ".tmp");
        try {
            // Unlinks whatever has the name, a symlink included, never what a symlink points to;
            // CREATE_NEW (O_EXCL) then makes a file of our own or fails.
            Files.deleteIfExists(tmp);
            try (SeekableByteChannel out = Files.newByteChannel(tmp, Set.of(StandardOpenOption.WRITE,
                    StandardOpenOption.CREATE_NEW, LinkOption.NOFOLLOW_LINKS), OWNER_ONLY)) {
                ByteBuffer b = ByteBuffer.wrap(reply.frame);
                while (b.hasRemaining()) out.write(b);
            }
            // rename(2) through java.io: Files.move loads its copy machinery first, which a cold
            // agent would pay inside the command's time. Atomic all the same.
            if (!tmp.toFile().renameTo(resp.toFile())) throw new IOException("cannot rename " + tmp + " to " + resp);
        } catch (IOException e) {
            Agent.log("cannot write " + resp + ": " + Failure.describe(e));
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException ignored) {
                // jhot never reads a .tmp
            }
        }
    }

    /** Where the answer to request file {@code name} (one that passes requestName) goes. */
    static Path answerFile(Path dir, String name) {
        return dir.resolve(name.substring(0, name.length() - 4) + ".resp");
    }

    /** {@code [A-Za-z0-9_-]{1,64}(\.2)?\.req}, without a regex (its compilation, interpreted, is
     *  a cold agent's cost). */
    static boolean requestName(String name) {
        String stem = name.endsWith(".2.req") ? name.substring(0, name.length() - 6)
                : name.endsWith(".req") ? name.substring(0, name.length() - 4) : null;
        if (stem == null || stem.isEmpty() || stem.length() > 64) return false;
        for (int i = 0; i < stem.length(); i++) {
            char c = stem.charAt(i);
            boolean ok = c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-';
            if (!ok) return false;
        }
        return true;
    }

    private static final FileAttribute<Set<PosixFilePermission>> OWNER_ONLY =
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------"));

    /**
     * The request, or null (logged) when it is not jhot's: it must be a regular file of this JVM's
     * user, readable by nobody else, of at most one frame. It is opened without following a
     * symlink and read up to that bound, whatever size it claims. Java cannot fstat an open file,
     * so the checks are made on the name before and after opening it, and the file must be the
     * same one both times; only this user or root can swap a file in a checked directory.
     */
    private static byte[] read(Path req, int euid) throws IOException {
        long max = Frame.MAX_BODY + 4L;
        Map<String, Object> before = PrivateDir.stat(req);
        String bad = untrusted(req, before, euid, max);
        if (bad != null) {
            Agent.log(bad);
            return null;
        }
        try (SeekableByteChannel in = Files.newByteChannel(req, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS))) {
            Map<String, Object> after = PrivateDir.stat(req);
            if (!before.get("ino").equals(after.get("ino")) || !before.get("dev").equals(after.get("dev"))
                    || untrusted(req, after, euid, max) != null) {
                Agent.log(req + " changed while it was opened");
                return null;
            }
            // One byte more than the size checked: a file that fills it grew after the check.
            ByteBuffer b = ByteBuffer.allocate(((Long) after.get("size")).intValue() + 1);
            while (b.hasRemaining() && in.read(b) >= 0) {
                // until EOF, or one byte past the size checked
            }
            if (!b.hasRemaining()) {
                Agent.log(req + " grew while it was read");
                return null;
            }
            return Arrays.copyOf(b.array(), b.position());
        }
    }

    /** Why the file described by a (PrivateDir.stat) is not jhot's, or null. */
    private static String untrusted(Path req, Map<String, Object> a, int euid, long max) {
        int mode = PrivateDir.mode(a);
        if ((mode & PrivateDir.S_IFMT) != PrivateDir.S_IFREG) return req + " is not a regular file";
        int owner = PrivateDir.uid(a);
        if (owner != euid) return req + " is owned by uid " + owner;
        if ((mode & 077) != 0) return req + " is readable or writable by others";
        if ((Long) a.get("size") > max) return req + " is larger than a frame may be";
        return null;
    }
}
