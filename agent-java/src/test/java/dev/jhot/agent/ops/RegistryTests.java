package dev.jhot.agent.ops;

import dev.jhot.agent.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** Registry, ClassBytes and Loaders: the patches and how classes and loaders are named. */
public final class RegistryTests {
    private RegistryTests() {
    }

    static void testSha256MatchesTheJdk() throws Exception {
        eq("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ClassBytes.sha256("abc".getBytes("US-ASCII")));
        eq("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ClassBytes.sha256(new byte[0]));
        java.util.Random r = new java.util.Random(42);
        // Every length around the padding boundaries (55/56/64 bytes) and a few large ones.
        for (int len = 0; len < 300; len++) {
            byte[] b = new byte[len == 299 ? 100_003 : len];
            r.nextBytes(b);
            String want = Sha256.hex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
            eq(want, ClassBytes.sha256(b));
        }
    }

    /** A class file of the agent, by resource name (the channel's classes are package-private). */
    static byte[] classBytes(String resource) throws IOException {
        try (InputStream in = RegistryTests.class.getClassLoader().getResourceAsStream(resource)) {
            return in.readAllBytes();
        }
    }

    static void testClassBytesProblem() throws Exception {
        byte[] b = classBytes("dev/jhot/agent/Json.class");
        check(ClassBytes.problem(b, "dev.jhot.agent.Json") == null, ClassBytes.problem(b, "dev.jhot.agent.Json"));
        check(ClassBytes.problem(b, "dev.jhot.agent.Other").contains("define dev.jhot.agent.Json"), "name mismatch");
        check(ClassBytes.problem(new byte[] {1, 2, 3, 4, 5}, "x").contains("not a class"), "magic");
        check(ClassBytes.problem(Arrays.copyOf(b, 40), "x").contains("truncated"), "truncated");
        byte[] future = b.clone();
        future[6] = 0;
        future[7] = (byte) 200;
        check(ClassBytes.problem(future, "dev.jhot.agent.Json").contains("newer"), "version");
        eq("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ClassBytes.sha256(new byte[0]));
    }

    static void testRegistryPendingLoadAndRedefine() throws Exception {
        Registry.warmUp();
        History h = new History();
        Registry r = new Registry(h);
        byte[] orig = {1, 1, 1};
        byte[] patch = {2, 2, 2};
        ClassLoader app = ClassLoader.getSystemClassLoader();
        check(r.transform(app, "a/B", null, null, orig) == null, "inactive registry changed a class");
        r.setPending("a.B", new Registry.Pending("a.B", "no-such-loader", patch));
        check(r.transform(app, "a/B", null, null, orig) == null, "pending applied to a loader it did not select");
        r.setPending("a.B", new Registry.Pending("a.B", "app", patch));
        check(r.transform(app, "a/C", null, null, orig) == null, "other class changed");
        check(Arrays.equals(patch, r.transform(app, "a/B", null, null, orig)), "pending not applied at load");
        eq(0, r.pendingCount());
        eq(1, r.patchedCount());
        Registry.Patch p = r.get(app, "a.B");
        check(Arrays.equals(orig, p.original), "original kept");
        // From now on every retransformation gets the patch back, and only for that loader.
        byte[] again = r.transform(app, "a/B", Registry.class, null, orig);
        check(Arrays.equals(patch, again), "patch not reapplied");
        again[0] = 9;
        check(Arrays.equals(patch, r.transform(app, "a/B", Registry.class, null, orig)), "caller could change the registry");
        check(r.transform(null, "a/B", null, null, orig) == null, "patch leaked to the boot loader");
        List<Object> entries = h.snapshot();
        eq(1, entries.size());
        Map<?, ?> e = (Map<?, ?>) entries.get(0);
        eq("load", e.get("action"));
        eq(1L, e.get("seq"));
        Map<?, ?> c = (Map<?, ?>) ((List<?>) e.get("classes")).get(0);
        eq("a.B", c.get("name"));
        eq(ClassBytes.sha256(orig), String.valueOf(c.get("from_sha256"))); // a Sha256.Lazy, written as its string
        eq(ClassBytes.sha256(patch), String.valueOf(c.get("to_sha256")));
        eq("app", ((Map<?, ?>) c.get("loader")).get("name"));
        // Undo by passing the previous entry back.
        Registry.Patch prev = r.set(app, "a.B", null);
        eq(0, r.patchedCount());
        r.set(app, "a.B", prev);
        check(r.get(app, "a.B") == p, "restored");
        check(r.transform(app, "a/B", null, null, null) != null, "restored patch active");
        // A transform that blows up (null buffer for a pending class) must not throw.
        r.setPending("z.Z", new Registry.Pending("z.Z", null, patch));
        check(r.transform(app, "z/Z", null, null, null) == null, "null buffer");
    }

    static void testLoaderSelectors() {
        ClassLoader app = ClassLoader.getSystemClassLoader();
        check(Loaders.matches(null, app) && Loaders.matches(null, null), "null selects all");
        check(Loaders.matches("bootstrap", null) && !Loaders.matches("bootstrap", app), "bootstrap");
        check(Loaders.matches("app", app), "by name");
        check(Loaders.matches(app.getClass().getName(), app), "by class name");
        check(Loaders.matches(Loaders.id(app), app), "by id");
        check(Loaders.id(app).startsWith("0x"), "id format");
        check(!Loaders.matches("platform", app), "other name");
    }
}
