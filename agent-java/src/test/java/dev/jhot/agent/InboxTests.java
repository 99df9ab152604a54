package dev.jhot.agent;

import dev.jhot.agent.ops.Ops;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static dev.jhot.agent.TestKit.*;

/** Inbox: the request file that rides with a cold load. */
public final class InboxTests {
    private InboxTests() {
    }

    static void testInboxAnswersARequestFileOnce() throws Exception {
        Path dir = tempDir();
        Dispatcher d = new Dispatcher(new Ops(null));
        Path req = dir.resolve("42-abc.req");
        Files.write(req, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(req, PosixFilePermissions.fromString("rw-------"));
        Inbox.answer(dir, "42-abc.req", d);
        check(!Files.exists(req), "request file left behind");
        byte[] resp = Files.readAllBytes(dir.resolve("42-abc.resp"));
        check(Frame.u32(resp, 0) == resp.length - 4, "answer is one whole frame");
        byte[] body = Arrays.copyOfRange(resp, 4, resp.length);
        eq(true, Frame.decode(body).header.get("ok"));
        eq(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(dir.resolve("42-abc.resp")));

        // Readable by others: not jhot's; consumed (deleted) but never answered.
        Path open = dir.resolve("43-abc.req");
        Files.write(open, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rw-r--r--"));
        Inbox.answer(dir, "43-abc.req", d);
        check(!Files.exists(dir.resolve("43-abc.resp")), "answered a file others could write");

        // A name that could leave the directory is not even looked at.
        Path inner = Files.createDirectory(dir.resolve("inner"));
        Path outside = dir.resolve("x.req");
        Files.write(outside, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(outside, PosixFilePermissions.fromString("rw-------"));
        Inbox.answer(inner, "../x.req", d);
        check(Files.exists(outside) && !Files.exists(dir.resolve("x.resp")), "followed a path out of the directory");

        // Garbage in the file: a protocol error answer, and the agent carries on.
        Path junk = dir.resolve("44-abc.req");
        Files.write(junk, new byte[] {0, 0, 0, 99, 1, 2});
        Files.setPosixFilePermissions(junk, PosixFilePermissions.fromString("rw-------"));
        Inbox.answer(dir, "44-abc.req", d);
        byte[] err = Files.readAllBytes(dir.resolve("44-abc.resp"));
        Map<?, ?> e = (Map<?, ?>) Frame.decode(Arrays.copyOfRange(err, 4, err.length)).header.get("error");
        eq("protocol", e.get("kind"));
    }

    static Path request(Path dir, String name, String mode) throws IOException {
        Path req = dir.resolve(name);
        Files.write(req, Frame.encode(header("op", "history", "id", 1L), null));
        Files.setPosixFilePermissions(req, PosixFilePermissions.fromString(mode));
        return req;
    }

    static void testRequestNamesAreThoseJhotWrites() {
        for (String ok : new String[] {"42-0123abcd.req", "42-abc.2.req", "A_z-9.req", "x".repeat(64) + ".req"}) {
            check(Inbox.requestName(ok), ok + " refused");
            check(ok.matches("[A-Za-z0-9_-]{1,64}(\\.2)?\\.req"), ok + ": not what the pattern took");
        }
        for (String bad : new String[] {".req", ".2.req", "a.b.req", "../x.req", "x".repeat(65) + ".req", "a.resp",
                "a.3.req", "a b.req", "a/b.req", "a.req.tmp", "ä.req"}) {
            check(!Inbox.requestName(bad), bad + " taken");
        }
    }

    static void testOpeningMarkerIsNamedAfterTheRequestsPid() throws Exception {
        Path dir = tempDir();
        Path marker = Opening.mark(dir, "4242-00ab.req");
        check(marker != null && marker.equals(dir.resolve("4242.opening")), "marker " + marker);
        check(Files.isRegularFile(marker, LinkOption.NOFOLLOW_LINKS), "no marker file");
        check(PosixFilePermissions.toString(Files.getPosixFilePermissions(marker)).equals("rw-------"), "marker mode");
        Opening.clear(marker);
        check(!Files.exists(marker), "marker left after clear");
        // A name without a pid in front: the JVM's own pid.
        Path own = Opening.mark(dir, "abc-1.req");
        check(own != null && own.equals(dir.resolve(ProcessHandle.current().pid() + ".opening")), "own " + own);
        Opening.clear(own);
        for (String bad : new String[] {"-1.req", "12345678901-x.req", "12a-x.req", "x.req"}) {
            check(Opening.pidOf(bad) == null, bad + " gave a pid");
        }
        check("7".equals(Opening.pidOf("7-ff.2.req")), "7-ff.2.req");
    }

    static void testInboxAnswersNothingItCannotTrust() throws Exception {
        Path base = tempDir();
        Dispatcher d = new Dispatcher(new Ops(null));

        // A directory others may write in: the request is neither answered nor even taken.
        Path open = Files.createDirectory(base.resolve("open"));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Path req = request(open, "1-abc.req", "rw-------");
        Inbox.answer(open, "1-abc.req", d);
        check(Files.exists(req) && !Files.exists(open.resolve("1-abc.resp")), "answered in a 0777 directory");
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwx------"));
        Inbox.answer(open, "1-abc.req", d);
        check(Files.exists(open.resolve("1-abc.resp")), "the same request in a private directory was not answered");

        // A symlink named like a request: not followed, not answered; its target is untouched.
        Path dir = Files.createDirectory(base.resolve("priv"), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path target = request(base, "target.req", "rw-------");
        byte[] before = Files.readAllBytes(target);
        Files.createSymbolicLink(dir.resolve("2-abc.req"), target);
        Inbox.answer(dir, "2-abc.req", d);
        check(!Files.exists(dir.resolve("2-abc.resp")), "answered through a symlink");
        check(Arrays.equals(before, Files.readAllBytes(target)), "the symlink's target changed");

        // A FIFO is not opened (that would block agentmain), and a file bigger than a frame is
        // not read.
        Process mkfifo = new ProcessBuilder("mkfifo", "-m", "600", dir.resolve("3-abc.req").toString()).start();
        if (mkfifo.waitFor(10, TimeUnit.SECONDS) && mkfifo.exitValue() == 0) {
            Inbox.answer(dir, "3-abc.req", d);
            check(!Files.exists(dir.resolve("3-abc.resp")), "answered a FIFO");
        }
        Path big = request(dir, "4-abc.req", "rw-------");
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(big, java.nio.file.StandardOpenOption.WRITE)) {
            ch.write(ByteBuffer.wrap(new byte[] {1}), Frame.MAX_BODY + 4L); // sparse
        }
        Inbox.answer(dir, "4-abc.req", d);
        check(!Files.exists(dir.resolve("4-abc.resp")), "answered a file larger than a frame");

        // A symlink planted where the answer is first written: the answer replaces the link and
        // the link's target is never written.
        Path victim = base.resolve("victim");
        Files.write(victim, new byte[] {42});
        Files.createSymbolicLink(dir.resolve("5-abc.resp.tmp"), victim);
        Files.createSymbolicLink(dir.resolve("5-abc.resp"), victim);
        request(dir, "5-abc.req", "rw-------");
        Inbox.answer(dir, "5-abc.req", d);
        check(Arrays.equals(new byte[] {42}, Files.readAllBytes(victim)), "wrote through a planted symlink");
        Path resp = dir.resolve("5-abc.resp");
        check(Files.isRegularFile(resp, java.nio.file.LinkOption.NOFOLLOW_LINKS), "the answer is not a file of its own");
        eq(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(resp));
        eq(true, Frame.decode(body(Files.readAllBytes(resp))).header.get("ok"));
        check(!Files.exists(dir.resolve("5-abc.resp.tmp"), java.nio.file.LinkOption.NOFOLLOW_LINKS), "temporary answer left behind");
    }
}
