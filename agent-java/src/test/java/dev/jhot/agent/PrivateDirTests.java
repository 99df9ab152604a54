package dev.jhot.agent;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static dev.jhot.agent.TestKit.*;

/** PrivateDir and the agent's arguments that name it. */
public final class PrivateDirTests {
    private PrivateDirTests() {
    }

    static void testPrivateDir() throws Exception {
        Path base = tempDir();
        int uid = PrivateDir.euid();
        Path fresh = base.resolve("fresh");
        eq(null, PrivateDir.check(fresh, uid));
        eq("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fresh)));
        eq(null, PrivateDir.check(fresh, uid));

        Path open = base.resolve("open");
        Files.createDirectory(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        String why = PrivateDir.check(open, uid);
        check(why != null && why.contains("mode"), "0755 accepted: " + why);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwx-----x"));
        check(PrivateDir.check(open, uid) != null, "0701 accepted");

        Path link = base.resolve("link");
        Files.createSymbolicLink(link, fresh);
        why = PrivateDir.check(link, uid);
        check(why != null && why.contains("symlink"), "symlink accepted: " + why);

        Path file = base.resolve("file");
        Files.write(file, new byte[0]);
        check(PrivateDir.check(file, uid) != null, "plain file accepted");

        why = PrivateDir.check(fresh, uid + 1);
        check(why != null && why.contains("owned"), "other owner accepted: " + why);
    }

    static void testAgentArguments() throws Exception {
        eq(Path.of("/x/y"), Agent.dir("dir=/x/y"));
        eq(Path.of("/x/y"), Agent.dir("future=1,dir=/x/y"));
        eq(PrivateDir.defaultDir(), Agent.dir(null));
        eq(PrivateDir.defaultDir(), Agent.dir(""));
        check(PrivateDir.defaultDir().toString().equals("/tmp/.jhot-" + PrivateDir.euid()), "default dir");
    }
}
