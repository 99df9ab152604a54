package dev.jhot.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;

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
        String stem = name.substring(0, name.length() - 4);
        Path next = dir.resolve(stem + ".2.req");
        Path end = dir.resolve(stem + ".end");
        long deadline = System.nanoTime() + FOLLOW_UP_WAIT_NANOS;
        while (System.nanoTime() < deadline) {
            if (Files.exists(next)) {
                answer(dir, stem + ".2.req", dispatcher);
                break;
            }
            if (Files.exists(end)) break;
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

    /** Answers {@code dir/name} (a whole frame, length prefix included) into {@code dir/<stem>.resp}. */
    static void answer(Path dir, String name, Dispatcher dispatcher) {
        if (!name.matches("[A-Za-z0-9_-]{1,64}(\\.2)?\\.req")) {
            Agent.log("ignoring request file name " + name);
            return;
        }
        Path req = dir.resolve(name);
        Path resp = dir.resolve(name.substring(0, name.length() - 4) + ".resp");
        byte[] frame;
        try {
            String bad = untrusted(req);
            if (bad != null) {
                Agent.log(bad);
                return;
            }
            frame = Files.readAllBytes(req);
        } catch (IOException e) {
            Agent.log("cannot read " + req + ": " + Ops.describe(e));
            return;
        } finally {
            try {
                Files.deleteIfExists(req);
            } catch (IOException e) {
                Agent.log("cannot remove " + req + ": " + Ops.describe(e));
            }
        }
        Dispatcher.Reply reply;
        if (frame.length < 4 || Frame.u32(frame, 0) != frame.length - 4L) {
            reply = Dispatcher.error(0, "protocol", "request file is not one whole frame", null, true);
        } else {
            byte[] body = new byte[frame.length - 4];
            System.arraycopy(frame, 4, body, 0, body.length);
            reply = dispatcher.handle(body, new Dispatcher.Session("file", null));
        }
        try {
            Path tmp = dir.resolve(resp.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.write(tmp, reply.frame);
            Files.move(tmp, resp, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            Agent.log("cannot write " + resp + ": " + Ops.describe(e));
        }
    }

    /** The file must be jhot's: a regular file of this JVM's user, readable by nobody else. */
    private static String untrusted(Path req) throws IOException {
        PosixFileAttributes a = Files.readAttributes(req, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        if (!a.isRegularFile()) return req + " is not a regular file";
        int owner = (Integer) Files.getAttribute(req, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        if (owner != PrivateDir.euid()) return req + " is owned by uid " + owner;
        for (PosixFilePermission p : a.permissions()) {
            if (!p.name().startsWith("OWNER_")) return req + " is readable or writable by others";
        }
        if (a.size() > Frame.MAX_BODY + 4L) return req + " is larger than a frame may be";
        return null;
    }
}
