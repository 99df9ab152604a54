package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Sha256;
import dev.jhot.agent.Wire;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

import static dev.jhot.agent.TestKit.*;
import static dev.jhot.agent.Wire.*;

/** inventory, resources, define and deploy records, in a JVM that may redefine. */
public final class DeployTests {
    private DeployTests() {
    }

    static void testInventoryAndResourcesNeedInstrumentationOrALoader() throws Exception {
        Ops ops = new Ops(null);
        expectError(ask(ops, header("op", "inventory", "id", 1L), null), "internal", false);
        expectError(ask(ops, header("op", "resources", "id", 2L, "names", new ArrayList<>()), null), "protocol", true);
        expectError(ask(ops, header("op", "rollback", "id", 3L, "deploy", 5L), null), "protocol", true);
        eq(new ArrayList<>(), ask(ops, header("op", "history", "id", 4L), null).header.get("deploys"));
    }

    static void testOuterJarOfResourceUrls() {
        eq("/a/app.jar", Inventory.Freshness.outerJar("jar:file:/a/app.jar!/x/Y.class"));
        eq("/a/app.jar", Inventory.Freshness.outerJar("jar:file:/a/app.jar!/BOOT-INF/lib/b.jar!/x/Y.class"));
        eq("/a/my app.jar", Inventory.Freshness.outerJar("jar:file:/a/my%20app.jar!/x/Y.class"));
        eq("/a/app.jar", Inventory.Freshness.outerJar("jar:nested:/a/app.jar/!BOOT-INF/classes/!/x/Y.class"));
        eq(null, Inventory.Freshness.outerJar("file:/a/classes/x/Y.class"));
        eq(null, Inventory.Freshness.outerJar("vfs:/a/x/Y.class"));
    }

    /** Runs DeployChild in a JVM with an Instrumentation that may redefine and retransform. */
    static void testDeployOpsInAChildJvm() throws Exception {
        Path dir = tempDir();
        Path jar = dir.resolve("probe.jar");
        Manifest mf = new Manifest();
        mf.getMainAttributes().put(Attributes.Name.MANIFEST_VERSION, "1.0");
        mf.getMainAttributes().putValue("Premain-Class", Probe.class.getName());
        mf.getMainAttributes().putValue("Can-Redefine-Classes", "true");
        mf.getMainAttributes().putValue("Can-Retransform-Classes", "true");
        new JarOutputStream(Files.newOutputStream(jar), mf).close();
        Path log = dir.resolve("child.log");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xshare:auto",
                "-javaagent:" + jar, "-cp", System.getProperty("java.class.path"), DeployChild.class.getName(), dir.toString())
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        boolean done = p.waitFor(120, TimeUnit.SECONDS);
        if (!done) p.destroyForcibly().waitFor();
        String out = Files.readString(log);
        check(done && p.exitValue() == 0, "deploy child " + (done ? "failed" : "hung") + ":\n" + out);
        for (String line : out.split("\n")) if (line.startsWith("deploy:")) System.out.println("      " + line);
    }

    /** Rewrites every CONSTANT_Utf8 of a class file, replacing `from` by `to`: how the tests get
     *  a second version of a class without a compiler at run time (GreeterV2 → Greeter). */
    static byte[] rename(byte[] b, String from, String to) throws IOException {
        java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(b));
        java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream out = new java.io.DataOutputStream(bo);
        out.writeLong(in.readLong()); // magic, versions
        int count = in.readUnsignedShort();
        out.writeShort(count);
        for (int k = 1; k < count; k++) {
            int tag = in.readUnsignedByte();
            out.writeByte(tag);
            switch (tag) {
                case 1: out.writeUTF(in.readUTF().replace(from, to)); break;
                case 7: case 8: case 16: case 19: case 20: out.writeShort(in.readUnsignedShort()); break;
                case 15: out.writeByte(in.readUnsignedByte()); out.writeShort(in.readUnsignedShort()); break;
                case 3: case 4: case 9: case 10: case 11: case 12: case 17: case 18: out.writeInt(in.readInt()); break;
                case 5: case 6: out.writeLong(in.readLong()); k++; break;
                default: throw new IOException("tag " + tag);
            }
        }
        out.write(in.readAllBytes());
        return bo.toByteArray();
    }

    static String sha(byte[] b) throws Exception {
        return Sha256.hex(java.security.MessageDigest.getInstance("SHA-256").digest(b));
    }

    public static final class DeployChild {
        private DeployChild() {
        }

        static Ops ops;

        static Map<String, Object> ask(Map<String, Object> req, List<byte[]> blobs) throws Failure {
            return Wire.ask(ops, req, blobs).header;
        }

        static Map<String, Object> ok(Map<String, Object> req, List<byte[]> blobs) throws Failure {
            Map<String, Object> r = ask(req, blobs);
            check(Boolean.TRUE.equals(r.get("ok")), req.get("op") + " failed: " + json(r));
            return r;
        }

        static Map<?, ?> fails(String kind, Map<String, Object> req, List<byte[]> blobs) throws Failure {
            Map<String, Object> r = ask(req, blobs);
            check(Boolean.FALSE.equals(r.get("ok")), req.get("op") + " succeeded: " + json(r));
            Map<?, ?> e = (Map<?, ?>) r.get("error");
            eq(kind, e.get("kind"));
            return e;
        }

        static byte[] fixture(String internal) throws IOException {
            try (InputStream in = DeployTests.class.getClassLoader().getResourceAsStream(internal + ".class")) {
                return in.readAllBytes();
            }
        }

        static Path jar(Path p, Map<String, byte[]> entries) throws IOException {
            try (java.util.zip.ZipOutputStream z = new java.util.zip.ZipOutputStream(Files.newOutputStream(p))) {
                for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                    z.putNextEntry(new java.util.zip.ZipEntry(e.getKey()));
                    z.write(e.getValue());
                    z.closeEntry();
                }
            }
            // As a jar built before the JVM started: inventory trusts only such jars' resources.
            Files.setLastModifiedTime(p, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            return p;
        }

        static Object call(ClassLoader l, String cls, String method) throws Exception {
            return Class.forName(cls, true, l).getMethod(method).invoke(null);
        }

        /** inventory's entries of classes whose name starts with prefix, by name. */
        static Map<String, Map<?, ?>> inventory(String prefix, long[] ms) throws Failure {
            long t0 = System.nanoTime();
            Map<String, Object> r = ok(header("op", "inventory", "id", 1L), null);
            if (ms != null) ms[0] = (System.nanoTime() - t0) / 1_000_000;
            Map<String, Map<?, ?>> out = new LinkedHashMap<>();
            for (Object o : (List<?>) r.get("classes")) {
                Map<?, ?> m = (Map<?, ?>) o;
                String n = (String) m.get("name");
                check(!n.startsWith("dev.jhot.agent."), "inventory lists the agent's " + n);
                if (n.startsWith(prefix)) check(out.put(n, m) == null, n + " listed twice in one loader");
            }
            check((Long) r.get("skipped") > 0, "nothing skipped");
            out.put("", r);
            return out;
        }

        /** classes, class_info and loaders right after deploy d1 (Greeter patched, Lazy pending). */
        static void classesOps(ClassLoader app, String appId, ClassLoader platform) throws Failure {
            Wire.Reply all = Wire.ask(ops, header("op", "classes", "id", 20L), null);
            check(Boolean.TRUE.equals(all.header.get("ok")), "classes: " + json(all.header));
            List<?> table = (List<?>) all.header.get("loaders");
            eq(table.size(), all.blobs.size());
            Map<String, String> names = new LinkedHashMap<>();
            for (int k = 0; k < table.size(); k++) {
                Map<?, ?> l = (Map<?, ?>) table.get(k);
                String text = new String(all.blobs.get(k), StandardCharsets.UTF_8);
                eq(((Long) l.get("classes")).intValue(), text.isEmpty() ? 0 : text.split("\n").length);
                check(!text.contains("/"), "a hidden class is listed in " + l.get("id"));
                names.put((String) l.get("id"), text);
                if ("bootstrap".equals(l.get("id"))) eq(null, l.get("parent"));
                else check(l.get("parent") != null, "parent of " + l.get("id"));
            }
            check(names.get("bootstrap").contains("java.lang.String\n"), "the boot loader's classes");
            check(names.get(appId).contains("jhotfx.Greeter\n") && names.get(appId).contains("jhotfx.Helper\n"), "fx-jar's classes: " + names.get(appId));

            Map<String, Object> info = ok(header("op", "class_info", "id", 21L, "names", Arrays.asList("jhotfx.Greeter", "jhotfx.Lazy", "jhotfx.Nope"), "loader", appId), null);
            List<?> cs = (List<?>) info.get("classes");
            eq(1, cs.size());
            Map<?, ?> g = (Map<?, ?>) cs.get(0);
            eq("jhotfx.Greeter", g.get("name"));
            eq("fx-jar", ((Map<?, ?>) g.get("loader")).get("name"));
            eq("java.net.URLClassLoader", ((Map<?, ?>) g.get("loader")).get("class"));
            check(String.valueOf(g.get("location")).startsWith("file:") && String.valueOf(g.get("location")).endsWith("app.jar"), "location " + g.get("location"));
            eq("java.lang.Object", g.get("super"));
            eq(true, g.get("modifiable"));
            Map<?, ?> p = (Map<?, ?>) g.get("patched");
            eq("d1", p.get("deploy"));
            check(p.get("sha256") instanceof String && p.get("original_sha256") instanceof String, "patched " + p);
            List<?> missing = (List<?>) info.get("not_loaded");
            eq(2, missing.size());
            eq(true, ((Map<?, ?>) missing.get(0)).get("pending"));
            eq(false, ((Map<?, ?>) missing.get(1)).get("pending"));
            Map<String, Object> plain = ok(header("op", "class_info", "id", 22L, "names", Arrays.asList("java.lang.String")), null);
            Map<?, ?> str = (Map<?, ?>) ((List<?>) plain.get("classes")).get(0);
            eq(null, str.get("patched"));
            eq("bootstrap", ((Map<?, ?>) str.get("loader")).get("id"));
            fails("protocol", header("op", "class_info", "id", 23L, "names", Arrays.asList("")), null);

            Map<String, Object> ls = ok(header("op", "loaders", "id", 24L), null);
            Map<?, ?> fx = null;
            for (Object o : (List<?>) ls.get("loaders")) if (appId.equals(((Map<?, ?>) o).get("id"))) fx = (Map<?, ?>) o;
            check(fx != null, "fx-jar in loaders: " + json(ls));
            eq(1L, fx.get("urls"));
            eq(Loaders.id(platform), fx.get("parent"));
            check((Long) fx.get("classes") >= 4, "fx-jar defined Greeter, Helper, Util, Base: " + fx);
        }

        public static void main(String[] args) throws Exception {
            Instrumentation inst = Probe.inst;
            check(inst != null && inst.isRetransformClassesSupported(), "no Instrumentation: start with -javaagent");
            Path dir = Path.of(args[0]);
            ops = Ops.install(inst, "dynamic");
            Registry registry = ops.registry;
            ClassLoader platform = ClassLoader.getPlatformClassLoader();

            byte[] greeter = fixture("jhotfx/Greeter");
            byte[] greeterV2 = rename(fixture("jhotfx/GreeterV2"), "jhotfx/GreeterV2", "jhotfx/Greeter");
            byte[] lazy = fixture("jhotfx/Lazy");
            byte[] lazyV2 = rename(fixture("jhotfx/LazyV2"), "jhotfx/LazyV2", "jhotfx/Lazy");
            byte[] props = "greeting=hi\n".getBytes(StandardCharsets.UTF_8);
            Map<String, byte[]> entries = new LinkedHashMap<>();
            entries.put("jhotfx/Greeter.class", greeter);
            entries.put("jhotfx/Lazy.class", lazy);
            entries.put("app.properties", props);
            entries.put("templates/a.html", new byte[] {'<', 'p', '>'});
            Path appJar = jar(dir.resolve("app.jar"), entries);
            java.net.URLClassLoader app = new java.net.URLClassLoader("fx-jar", new java.net.URL[] {appJar.toUri().toURL()}, platform);
            String appId = Loaders.id(app);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            // A class directory, rewritten after the class loaded from it.
            byte[] boxed = fixture("jhotfx/dir/Boxed");
            Path classes = dir.resolve("classes");
            Path boxedFile = classes.resolve("jhotfx/dir/Boxed.class");
            Files.createDirectories(boxedFile.getParent());
            Files.write(boxedFile, boxed);
            java.net.URLClassLoader dirLoader = new java.net.URLClassLoader("fx-dir", new java.net.URL[] {classes.toUri().toURL()}, platform);
            eq("boxed", call(dirLoader, "jhotfx.dir.Boxed", "v"));
            byte[] rebuilt = rename(boxed, "boxed", "BOXED");
            Files.write(boxedFile, rebuilt);

            // A jar replaced (by rename, as builds do) after its class loaded, keeping an old mtime.
            Map<String, byte[]> one = new LinkedHashMap<>();
            byte[] staleBytes = rename(fixture("jhotfx/Helper"), "jhotfx/Helper", "jhotfx/Stale");
            one.put("jhotfx/Stale.class", staleBytes);
            Path staleJar = jar(dir.resolve("stale.jar"), one);
            java.net.URLClassLoader stale = new java.net.URLClassLoader("fx-stale", new java.net.URL[] {staleJar.toUri().toURL()}, platform);
            eq("helper", call(stale, "jhotfx.Stale", "hi"));
            one.put("jhotfx/Stale.class", rename(staleBytes, "helper", "HELPER"));
            Path next = jar(dir.resolve("stale.jar.new"), one);
            Files.move(next, staleJar, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);

            // ---- inventory
            Map<String, Map<?, ?>> inv = inventory("jhotfx.", null);
            Map<?, ?> g = inv.get("jhotfx.Greeter");
            check(g != null, "jhotfx.Greeter not in the inventory");
            eq(appId, g.get("loader"));
            eq("resource", g.get("source"));
            eq(sha(greeter), g.get("sha256"));
            Map<?, ?> b = inv.get("jhotfx.dir.Boxed");
            eq("captured", b.get("source"));
            Map<String, Object> running = ok(header("op", "bytes", "id", 2L, "classes", Arrays.asList("jhotfx.dir.Boxed"), "loader", null), new ArrayList<>());
            check(!sha(rebuilt).equals(b.get("sha256")), "the rewritten class file was hashed, not the loaded class");
            check(b.get("sha256") != null && ((String) b.get("sha256")).length() == 64, "captured hash " + b.get("sha256"));
            Map<?, ?> s = inv.get("jhotfx.Stale");
            eq(Loaders.id(stale), s.get("loader"));
            eq("captured", s.get("source"));
            Map<?, ?> loader = null;
            for (Object o : (List<?>) inv.get("").get("loaders")) if (appId.equals(((Map<?, ?>) o).get("id"))) loader = (Map<?, ?>) o;
            check(loader != null, "loader " + appId + " not listed");
            eq("fx-jar", loader.get("name"));
            eq("java.net.URLClassLoader", loader.get("class"));
            eq(Loaders.id(platform), loader.get("parent"));
            eq(1L, loader.get("classes"));
            eq(1, ((List<?>) running.get("classes")).size());
            System.out.println("deploy: the captured bytes of a rewritten class-dir entry " + (sha(boxed).equals(b.get("sha256")) ? "equal" : "differ from")
                    + " its original class file");

            // ---- resources
            Map<String, Object> rs = ok(header("op", "resources", "id", 3L, "loader", appId,
                    "names", Arrays.asList("app.properties", "templates/a.html", "absent.txt")), null);
            List<?> list = (List<?>) rs.get("resources");
            eq(3, list.size());
            eq(sha(props), ((Map<?, ?>) list.get(0)).get("sha256"));
            check(String.valueOf(((Map<?, ?>) list.get(0)).get("url")).startsWith("jar:file:"), "url " + list.get(0));
            eq(sha(new byte[] {'<', 'p', '>'}), ((Map<?, ?>) list.get(1)).get("sha256"));
            eq(null, ((Map<?, ?>) list.get(2)).get("sha256"));
            eq(null, ((Map<?, ?>) list.get(2)).get("url"));
            eq("absent.txt", ((Map<?, ?>) list.get(2)).get("name"));
            fails("input", header("op", "resources", "id", 4L, "loader", "0x0", "names", Arrays.asList("a")), null);

            // ---- a deploy: Greeter v2 needs Helper (package jhotfx, Lookup) and Util (new package,
            // ClassLoader.defineClass) whose superclass Base comes after it; Lazy is pending.
            List<byte[]> blobs = Arrays.asList(greeterV2, fixture("jhotfx/fresh/Util"), fixture("jhotfx/fresh/Base"), fixture("jhotfx/Helper"), lazyV2);
            Map<String, Object> deploy1 = header("op", "redefine", "id", 5L, "loader", appId, "pending", true,
                    "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L), header("name", "jhotfx.Lazy", "blob", 4L)),
                    "define", Arrays.asList(header("name", "jhotfx.fresh.Util", "blob", 1L, "loader", appId),
                            header("name", "jhotfx.fresh.Base", "blob", 2L, "loader", appId),
                            header("name", "jhotfx.Helper", "blob", 3L, "loader", appId)),
                    "deploy", header("id", "d1", "build", "/b/app-v2.jar", "sha256", "aa"));
            Map<String, Object> r = ok(deploy1, blobs);
            eq(new java.util.HashSet<>(Arrays.asList("jhotfx.fresh.Util", "jhotfx.fresh.Base", "jhotfx.Helper")), new java.util.HashSet<>((List<?>) r.get("defined")));
            eq(Arrays.asList("jhotfx.Lazy"), r.get("pending"));
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));
            for (String n : new String[] {"jhotfx.Helper", "jhotfx.fresh.Util", "jhotfx.fresh.Base"}) {
                Class<?> c = Class.forName(n, false, app);
                check(c.getClassLoader() == app, n + " defined into " + c.getClassLoader());
                eq(app.loadClass("jhotfx.Greeter").getProtectionDomain().getCodeSource(), c.getProtectionDomain().getCodeSource());
            }
            inv = inventory("jhotfx.", null);
            eq("patched", inv.get("jhotfx.Greeter").get("source"));
            eq(sha(greeterV2), inv.get("jhotfx.Greeter").get("sha256"));
            // No class file in the jar: listed without a hash (the client asks for its bytes).
            eq("generated", inv.get("jhotfx.fresh.Util").get("source"));
            eq(null, inv.get("jhotfx.fresh.Util").get("sha256"));
            check(!inv.containsKey("jhotfx.Lazy"), "Lazy is not loaded yet");
            classesOps(app, appId, platform);

            // Already loaded in that loader: refused before anything changes.
            Map<?, ?> e = fails("input", header("op", "redefine", "id", 6L, "loader", appId,
                    "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L)),
                    "define", Arrays.asList(header("name", "jhotfx.Helper", "blob", 1L, "loader", appId))), Arrays.asList(greeter, fixture("jhotfx/Helper")));
            check(String.valueOf(e.get("message")).contains("already loaded"), "message " + e);
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));

            // A second deploy, then: only the newest can be undone.
            r = ok(header("op", "redefine", "id", 7L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L)),
                    "deploy", header("id", "d2", "build", "/b/app-v3.jar", "sha256", "bb")), Arrays.asList(greeter));
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            List<?> deploys = (List<?>) ok(header("op", "history", "id", 8L), null).get("deploys");
            eq(2, deploys.size());
            Map<?, ?> d1 = (Map<?, ?>) deploys.get(0);
            eq("d1", d1.get("id"));
            eq("/b/app-v2.jar", d1.get("build"));
            eq("aa", d1.get("sha256"));
            eq(false, d1.get("rolled_back"));
            eq(Arrays.asList("jhotfx.Lazy"), d1.get("pending"));
            eq("jhotfx.Greeter", ((Map<?, ?>) ((List<?>) d1.get("redefined")).get(0)).get("name"));
            eq(3, ((List<?>) d1.get("defined")).size());
            e = fails("input", header("op", "rollback", "id", 9L, "deploy", "d1"), null);
            check(String.valueOf(e.get("message")).contains("newest"), "message " + e);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            r = ok(header("op", "rollback", "id", 10L, "deploy", "last"), null);
            eq("d2", r.get("deploy"));
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));
            r = ok(header("op", "rollback", "id", 11L, "deploy", "d1"), null);
            eq("d1", r.get("deploy"));
            eq(Arrays.asList("jhotfx.Lazy"), r.get("unpending"));
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            eq(null, registry.getPending("jhotfx.Lazy"));
            eq(0, registry.patchedCount());
            inv = inventory("jhotfx.", null);
            eq("resource", inv.get("jhotfx.Greeter").get("source"));
            eq(sha(greeter), inv.get("jhotfx.Greeter").get("sha256"));
            e = fails("input", header("op", "rollback", "id", 12L, "deploy", "last"), null);
            deploys = (List<?>) ok(header("op", "history", "id", 13L), null).get("deploys");
            for (Object o : deploys) eq(true, ((Map<?, ?>) o).get("rolled_back"));

            // A pending class that loads after the deploy is restored to what it loaded from.
            ok(header("op", "redefine", "id", 14L, "loader", appId, "pending", true, "classes", Arrays.asList(header("name", "jhotfx.Lazy", "blob", 0L)),
                    "deploy", header("id", "d3", "build", "/b/app-v4.jar", "sha256", "cc")), Arrays.asList(lazyV2));
            eq("lazy2", call(app, "jhotfx.Lazy", "v"));
            r = ok(header("op", "rollback", "id", 15L, "deploy", "last"), null);
            eq("jhotfx.Lazy", ((Map<?, ?>) ((List<?>) r.get("rolled_back")).get(0)).get("name"));
            eq("lazy1", call(app, "jhotfx.Lazy", "v"));

            // A later plain redefine of a deployed class makes the deploy's undo ambiguous: refused.
            ok(header("op", "redefine", "id", 16L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L)),
                    "deploy", header("id", "d4", "build", "/b/app-v5.jar", "sha256", "dd")), Arrays.asList(greeterV2));
            ok(header("op", "redefine", "id", 17L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L))), Arrays.asList(greeter));
            e = fails("input", header("op", "rollback", "id", 18L, "deploy", "d4"), null);
            check(String.valueOf(e.get("message")).contains("changed after"), "message " + e);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            // A retransformation while patched makes HotSpot cache "initial" bytes that it would
            // later retransform a rolled-back class back into; the registry pins the rollback.
            Class<?> greeterClass = app.loadClass("jhotfx.Greeter");
            ok(header("op", "redefine", "id", 19L, "loader", appId, "classes", Arrays.asList(header("name", "jhotfx.Greeter", "blob", 0L))), Arrays.asList(greeterV2));
            inst.retransformClasses(greeterClass);
            eq("helper+util", call(app, "jhotfx.Greeter", "greet"));
            ok(header("op", "rollback", "id", 20L, "classes", new ArrayList<>()), null);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            inst.retransformClasses(greeterClass);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));
            ok(header("op", "bytes", "id", 21L, "classes", Arrays.asList("jhotfx.Greeter"), "loader", appId), null);
            eq("v1", call(app, "jhotfx.Greeter", "greet"));

            // ---- timing on many classes: from a jar (resources) and from a class directory (captured).
            int n = 5000;
            byte[] helper = fixture("jhotfx/Helper");
            Map<String, byte[]> many = new LinkedHashMap<>();
            for (int k = 0; k < n; k++) many.put(String.format("jhotfx/many/H%04d.class", k), rename(helper, "jhotfx/Helper", String.format("jhotfx/many/H%04d", k)));
            java.net.URLClassLoader manyJar = new java.net.URLClassLoader("fx-many", new java.net.URL[] {jar(dir.resolve("many.jar"), many).toUri().toURL()}, platform);
            for (int k = 0; k < n; k++) Class.forName(String.format("jhotfx.many.H%04d", k), false, manyJar);
            long[] ms = new long[1];
            long[] first = new long[1];
            inventory("jhotfx.many.", first);
            inv = inventory("jhotfx.many.", ms);
            eq(n + 1, inv.size());
            for (Map.Entry<String, Map<?, ?>> en : inv.entrySet()) {
                if (en.getKey().isEmpty()) continue;
                eq("resource", en.getValue().get("source"));
                eq(sha(many.get(en.getKey().replace('.', '/') + ".class")), en.getValue().get("sha256"));
            }
            int total = ((List<?>) inv.get("").get("classes")).size();
            int nd = 2000;
            Path manyDir = dir.resolve("many-classes");
            int fresh = 100; // rebuilt since the JVM started: captured (on JDK 11 ~10 ms each)
            for (int k = 0; k < nd; k++) {
                Path f = manyDir.resolve(String.format("jhotfx/dirs/D%04d.class", k));
                Files.createDirectories(f.getParent());
                Files.write(f, rename(helper, "jhotfx/Helper", String.format("jhotfx/dirs/D%04d", k)));
                if (k >= fresh) Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 3_600_000));
            }
            java.net.URLClassLoader manyDirs = new java.net.URLClassLoader("fx-many-dir", new java.net.URL[] {manyDir.toUri().toURL()}, platform);
            for (int k = 0; k < nd; k++) Class.forName(String.format("jhotfx.dirs.D%04d", k), false, manyDirs);
            long[] ms2 = new long[1];
            inv = inventory("jhotfx.dirs.", ms2);
            eq(nd + 1, inv.size());
            int captured = 0;
            for (Map.Entry<String, Map<?, ?>> en : inv.entrySet()) {
                if (en.getKey().isEmpty()) continue;
                eq(Integer.parseInt(en.getKey().substring("jhotfx.dirs.D".length())) < fresh ? "captured" : "resource", en.getValue().get("source"));
                if ("captured".equals(en.getValue().get("source"))) {
                    captured++;
                    check(en.getValue().get("sha256") != null, "no hash for " + en.getKey());
                } else {
                    eq(sha(rename(helper, "jhotfx/Helper", en.getKey().replace('.', '/'))), en.getValue().get("sha256"));
                }
            }
            System.out.println("deploy: inventory of " + total + " classes (" + n + " from one jar): " + ms[0] + " ms (first call " + first[0]
                    + " ms); with " + nd + " more from a class directory (" + captured + " captured): " + ms2[0] + " ms, on JDK " + System.getProperty("java.version"));
        }
    }
}
