package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import dev.jhot.agent.Sha256;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the JVM runs (`inventory`) and what its loaders serve (`resources`), as hashes, so that
 * `jhot deploy` can tell which classes of a new build differ from the running ones.
 */
final class Inventory {
    private Inventory() {
    }

    /** {@code inventory}. It holds the Ops lock throughout (docs/protocol.md, "Limits"). */
    static void inventory(Ops ops, Req req, Map<String, Object> out) throws Failure {
        boolean codeSources = req.bool("code_sources");
        Instrumentation inst = ops.inst();
        synchronized (ops.lock) {
            req.check();
            inventory(req, inst, ops.registry, ops.startMs(), codeSources, out);
        }
    }

    /** {@code resources}. */
    static void resources(Ops ops, Req req, Map<String, Object> out) throws Failure {
        String selector = req.loader();
        List<String> names = req.strings("names", "resource names");
        resources(ops.inst(), selector, names, out);
    }

    /**
     * With {@code codeSources}, a class whose code source is a jar unchanged since the JVM started
     * is listed with that code source instead of a hash: the client has the jar and compares the
     * entry itself, so the agent reads and hashes no class file (on a Spring Boot application of
     * 14,000 classes that is most of a second of the JVM's time, in its nested-jar URL handling).
     */
    private static void inventory(Req req, Instrumentation inst, Registry registry, long jvmStartMs, boolean codeSources, Map<String, Object> out) throws Failure {
        long t0 = System.nanoTime();
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        IdentityHashMap<ClassLoader, int[]> counts = new IdentityHashMap<>();
        IdentityHashMap<ClassLoader, String> ids = new IdentityHashMap<>();
        List<Class<?>> kept = new ArrayList<>();
        int skipped = 0;
        int seen = 0;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (++seen % 1000 == 0) req.check();
            ClassLoader l = c.getClassLoader();
            String n = c.getName();
            // JDK classes (boot, platform) are not the application's to deploy; hidden classes
            // and lambdas ("Foo$$Lambda$1/0x…"), JDK proxies and reflection accessors (JDK <= 17)
            // are made at run time, not part of any build; the agent is not the app.
            if (l == null || l == platform || c.isArray() || c.isPrimitive() || n.indexOf('/') >= 0
                    || n.startsWith("dev.jhot.agent.") || java.lang.reflect.Proxy.isProxyClass(c)
                    || l.getClass().getName().equals("jdk.internal.reflect.DelegatingClassLoader") || !inst.isModifiableClass(c)) {
                skipped++;
                continue;
            }
            kept.add(c);
            counts.computeIfAbsent(l, k -> new int[1])[0]++;
        }

        MessageDigest md = sha256();
        Freshness fresh = new Freshness(jvmStartMs);
        String[] hash = new String[kept.size()];
        String[] source = new String[kept.size()];
        int[] cs = new int[kept.size()];
        List<String> sources = new ArrayList<>();
        Map<String, Integer> sourceIds = new HashMap<>();
        List<Class<?>> toCapture = new ArrayList<>();
        List<Integer> toCaptureAt = new ArrayList<>();
        for (int k = 0; k < kept.size(); k++) {
            Class<?> c = kept.get(k);
            ClassLoader l = c.getClassLoader();
            Registry.Patch p = registry.get(l, c.getName());
            cs[k] = -1;
            if (p != null) {
                hash[k] = p.bytesSha();
                source[k] = "patched";
                continue;
            }
            if (codeSources) {
                String loc = location(c);
                if (loc != null && fresh.trustedJar(loc)) {
                    Integer id = sourceIds.get(loc);
                    if (id == null) {
                        id = sources.size();
                        sources.add(loc);
                        sourceIds.put(loc, id);
                    }
                    cs[k] = id;
                    source[k] = "code_source";
                    continue;
                }
            }
            byte[] b = null;
            boolean noFile = false;
            try {
                URL u = l.getResource(c.getName().replace('.', '/') + ".class");
                noFile = u == null;
                // A loader serves a resource from the file at its path *now* (URLClassLoader opens
                // jar: URLs afresh through the JDK's jar cache), not from the file it loaded the class
                // from. So the resource counts only when that file is unchanged since the JVM
                // started; otherwise the JVM is asked for the bytes it runs.
                if (u != null && fresh.trusted(u)) {
                    try (InputStream in = u.openStream()) {
                        b = in.readAllBytes();
                    }
                }
            } catch (IOException | RuntimeException e) {
                b = null;
            }
            if (b != null) {
                hash[k] = Sha256.hex(md.digest(b));
                source[k] = "resource";
            } else if (noFile) {
                // No class file behind it: made at run time (CGLIB, ByteBuddy, Hibernate, Spring
                // AOT), in no build. Capturing costs a retransformation per batch, and one bad
                // class among thousands turns it into thousands; a client that needs the bytes of
                // such a class asks `bytes` for it.
                hash[k] = null;
                source[k] = "generated";
            } else {
                toCapture.add(c);
                toCaptureAt.add(k);
            }
        }
        if (!toCapture.isEmpty()) {
            IdentityHashMap<Class<?>, byte[]> got = registry.capture(inst, toCapture);
            for (int j = 0; j < toCapture.size(); j++) {
                byte[] b = got.get(toCapture.get(j));
                int k = toCaptureAt.get(j);
                hash[k] = b == null ? null : Sha256.hex(md.digest(b));
                source[k] = "captured";
            }
        }

        List<Object> classes = new ArrayList<>(kept.size());
        for (int k = 0; k < kept.size(); k++) {
            Class<?> c = kept.get(k);
            Map<String, Object> m = new LinkedHashMap<>(6);
            m.put("name", c.getName());
            m.put("loader", id(ids, c.getClassLoader()));
            if (cs[k] >= 0) {
                m.put("cs", (long) cs[k]);
            } else {
                m.put("sha256", hash[k]);
            }
            m.put("source", source[k]);
            classes.add(m);
        }
        // Every loader with a class listed, and its ancestors, so that each parent id resolves.
        List<Object> loaders = new ArrayList<>();
        Set<ClassLoader> listed = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (ClassLoader l : new ArrayList<>(counts.keySet())) {
            for (ClassLoader a = l; a != null && listed.add(a); a = parent(a)) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("id", id(ids, a));
                m.put("name", Loaders.name(a));
                m.put("class", a.getClass().getName());
                ClassLoader p = parent(a);
                m.put("parent", p == null ? null : id(ids, p));
                int[] n = counts.get(a);
                m.put("classes", n == null ? 0 : n[0]);
                loaders.add(m);
            }
        }
        out.put("elapsed_us", (System.nanoTime() - t0) / 1000);
        if (codeSources) out.put("code_sources", sources);
        out.put("loaders", loaders);
        out.put("classes", classes);
        out.put("skipped", skipped);
    }

    private static void resources(Instrumentation inst, String selector, List<String> names, Map<String, Object> out) throws Failure {
        ClassLoader l = find(inst, selector);
        MessageDigest md = sha256();
        List<Object> list = new ArrayList<>();
        for (String n : names) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", n);
            URL u = l.getResource(n);
            String sha = null;
            if (u != null) {
                try (InputStream in = u.openStream()) {
                    sha = Sha256.hex(md.digest(in.readAllBytes()));
                } catch (IOException | RuntimeException e) {
                    u = null; // listed but unreadable (a directory entry, a vanished file): absent
                }
            }
            m.put("sha256", sha);
            m.put("url", u == null ? null : u.toString());
            list.add(m);
        }
        out.put("resources", list);
    }

    /** The one class loader a selector (id, name or class name, as in `redefine`) names, among
     *  the loaders that have defined a class. Not the boot loader: it has no ClassLoader object. */
    static ClassLoader find(Instrumentation inst, String selector) throws Failure {
        if (selector == null) throw Failure.protocol("\"loader\" must be a loader id");
        if (selector.equals("bootstrap")) throw new Failure("input", "the boot loader cannot be used here", null);
        Set<ClassLoader> found = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        IdentityHashMap<ClassLoader, Boolean> seen = new IdentityHashMap<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            ClassLoader l = c.getClassLoader();
            if (l != null && seen.put(l, Boolean.TRUE) == null && Loaders.matches(selector, l)) found.add(l);
        }
        if (found.isEmpty()) throw new Failure("input", "no class loader " + selector + " in this JVM", null);
        if (found.size() > 1) throw new Failure("input", "loader " + selector + " matches " + found.size() + " class loaders; name one by its id", null);
        return found.iterator().next();
    }

    /** JCA's SHA-256 (with the CPU's SHA intrinsics) hashes ~1 GB/s, 4-5x the agent's own
     *  Sha256; an inventory hashes tens of MB. Its 15-30 ms first use is paid by the first
     *  inventory, never by agent startup. */
    static MessageDigest sha256() throws Failure {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new Failure("internal", Failure.describe(e), null);
        }
    }

    /** Where a class was loaded from, as its loader said when it defined it; null if unknown. */
    static String location(Class<?> c) {
        try {
            java.security.CodeSource s = c.getProtectionDomain().getCodeSource();
            URL u = s == null ? null : s.getLocation();
            return u == null ? null : u.toString();
        } catch (RuntimeException e) {
            return null; // a SecurityManager may refuse
        }
    }

    private static String id(IdentityHashMap<ClassLoader, String> ids, ClassLoader l) {
        return ids.computeIfAbsent(l, Loaders::id);
    }

    private static ClassLoader parent(ClassLoader l) {
        try {
            return l.getParent();
        } catch (RuntimeException e) {
            return null; // a SecurityManager may refuse
        }
    }

    /**
     * Whether a resource URL serves the bytes the class was loaded from. jar: URLs are trusted
     * when the outermost jar file on disk is the one the JVM has open and unchanged since the JVM
     * started: modified no later than the start, and (if the JVM holds it open) the same inode.
     * A jar replaced by rename (how builds write) or rewritten is then asked of the JVM instead.
     * file: URLs (class directories, rebuilt in place) are trusted when the class file is not
     * modified since the JVM started; unknown schemes never.
     */
    static final class Freshness {
        private final long startMs;
        private final Map<String, Boolean> jars = new HashMap<>();
        /** Path → file keys of the descriptors this JVM holds open, from /proc/self/fd; lazy. */
        private Map<String, Set<Object>> open;

        Freshness(long startMs) {
            this.startMs = startMs;
        }

        boolean trusted(URL u) {
            String s = u.toString();
            if (s.startsWith("file:")) {
                // A class file not modified since the JVM started is the one it loaded. Capturing
                // instead costs a retransformation, which on JDK 11 runs ~10 ms per class.
                try {
                    return Files.getLastModifiedTime(Paths.get(u.toURI())).toMillis() <= startMs;
                } catch (IOException | RuntimeException | java.net.URISyntaxException e) {
                    return false;
                }
            }
            String jar = outerJar(s);
            return jar != null && jars.computeIfAbsent(jar, this::unchanged);
        }

        /** Whether a code source is a jar (or a jar in a jar) unchanged since the JVM started;
         *  never a directory, whose files each have their own time. */
        boolean trustedJar(String location) {
            if (location.startsWith("file:")) {
                if (!location.endsWith(".jar")) return false;
                try {
                    String path = Paths.get(java.net.URI.create(location)).toString();
                    return jars.computeIfAbsent(path, this::unchanged);
                } catch (RuntimeException e) {
                    return false;
                }
            }
            String jar = outerJar(location);
            return jar != null && jars.computeIfAbsent(jar, this::unchanged);
        }

        /** The path of the outermost jar of jar:file:/a.jar!/… (also Spring Boot's nested
         *  jar:file:/a.jar!/BOOT-INF/lib/b.jar!/…) and jar:nested:/a.jar/!BOOT-INF/…!/… (Spring Boot
         *  3.2+); null for anything else. */
        static String outerJar(String s) {
            int end;
            String path;
            if (s.startsWith("jar:file:")) {
                end = s.indexOf("!/");
                if (end < 0) return null;
                path = s.substring("jar:file:".length(), end);
            } else if (s.startsWith("jar:nested:")) {
                end = s.indexOf("/!");
                if (end < 0) return null;
                path = s.substring("jar:nested:".length(), end);
            } else {
                return null;
            }
            try {
                return Paths.get(java.net.URI.create("file:" + path)).toString();
            } catch (RuntimeException e) {
                return null;
            }
        }

        private boolean unchanged(String jar) {
            try {
                BasicFileAttributes a = Files.readAttributes(Paths.get(jar), BasicFileAttributes.class);
                if (a.lastModifiedTime().toMillis() > startMs) return false;
                Set<Object> keys = openKeys().get(jar);
                return keys == null || a.fileKey() == null || keys.contains(a.fileKey());
            } catch (IOException | RuntimeException e) {
                return false;
            }
        }

        private Map<String, Set<Object>> openKeys() {
            if (open != null) return open;
            open = new HashMap<>();
            try (DirectoryStream<Path> fds = Files.newDirectoryStream(Paths.get("/proc/self/fd"))) {
                for (Path fd : fds) {
                    try {
                        String target = Files.readSymbolicLink(fd).toString();
                        if (!target.startsWith("/")) continue; // socket:[…], pipe:[…], anon_inode:…
                        if (target.endsWith(" (deleted)")) target = target.substring(0, target.length() - 10);
                        // Following /proc/self/fd/N stats the open file itself, even when replaced.
                        Object key = Files.readAttributes(fd, BasicFileAttributes.class).fileKey();
                        if (key != null) open.computeIfAbsent(target, k -> new HashSet<>()).add(key);
                    } catch (IOException | RuntimeException e) {
                        // closed meanwhile
                    }
                }
            } catch (IOException | RuntimeException e) {
                // no /proc: mtime alone decides
            }
            return open;
        }
    }
}
