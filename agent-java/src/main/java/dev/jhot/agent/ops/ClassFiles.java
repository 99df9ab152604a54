package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.JarURLConnection;
import java.net.URL;
import java.net.URLConnection;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

/**
 * `class_files` and `list_package`: what one class loader sees, for the decompiler and the
 * compilers of `jhot jad` and `jhot mc` (they run in a helper JVM, never here). The agent only
 * reads: bytes and names; nothing is loaded, defined or initialised by these ops.
 */
final class ClassFiles {
    private ClassFiles() {
    }

    /**
     * Each name's bytes as the loader gives them: jhot's patched bytes, else, with {@code running},
     * the running bytes of a class the loader or an ancestor defined (captured as {@code bytes}
     * does, one retransformation), else {@code getResourceAsStream}, else the running bytes of a
     * class that has no class file (generated at run time). Without {@code running} a loaded class
     * is read from its class file when it has one: resolving a compiler's types must not make the
     * JVM retransform (a safepoint each) hundreds of JDK classes whose bytes nobody changed.
     */
    static void classFiles(Ops ops, Req req, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        List<String> names = req.strings("names", "class names");
        boolean running = req.bool("running");
        ClassLoader loader = loader(ops.inst(), req.loader());
        Instrumentation inst = ops.inst();
        Map<String, Class<?>> loaded = new LinkedHashMap<>();
        java.util.Set<String> wanted = new java.util.HashSet<>(names);
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (wanted.contains(c.getName()) && sees(loader, c.getClassLoader())) {
                Class<?> prev = loaded.get(c.getName());
                // The nearest defining loader wins, as delegation would find it.
                if (prev == null || depth(loader, c.getClassLoader()) < depth(loader, prev.getClassLoader())) loaded.put(c.getName(), c);
            }
        }
        List<Object> list = new ArrayList<>();
        Patches patches = ops.patches();
        synchronized (ops.lock) {
            List<Class<?>> toCapture = new ArrayList<>();
            Map<String, byte[]> got = new LinkedHashMap<>();
            Map<String, String> source = new LinkedHashMap<>();
            for (String n : names) {
                Class<?> c = loaded.get(n);
                Registry.Patch p = c == null ? null : ops.registry.get(c.getClassLoader(), n);
                if (p != null) {
                    got.put(n, p.bytes);
                    source.put(n, "patched");
                    continue;
                }
                byte[] file = running && c != null && inst.isModifiableClass(c) ? null : resource(loader, n);
                if (file != null) {
                    got.put(n, file);
                    source.put(n, "class_file");
                } else if (c != null && inst.isModifiableClass(c)) {
                    toCapture.add(c);
                }
            }
            if (!toCapture.isEmpty()) {
                IdentityHashMap<Class<?>, byte[]> captured = patches.captureForRead(inst, toCapture);
                for (Class<?> c : toCapture) {
                    byte[] b = captured.get(c);
                    if (b == null) b = resource(loader, c.getName());
                    if (b != null) {
                        got.put(c.getName(), b);
                        source.put(c.getName(), captured.get(c) != null ? "running" : "class_file");
                    }
                }
            }
            for (String n : names) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", n);
                byte[] b = got.get(n);
                if (b != null) {
                    m.put("blob", blobs.size());
                    m.put("source", source.get(n));
                    Class<?> c = loaded.get(n);
                    if (c != null) m.put("loader", Loaders.json(c.getClassLoader()));
                    blobs.add(b);
                }
                list.add(m);
            }
        }
        out.put("classes", list);
    }

    /**
     * The binary names in a package the loader can see: classes it or an ancestor (not the boot or
     * platform loader: javac takes those from the JDK itself) has defined, and the class files of
     * its resources in that directory, from {@code file:} directories and jars (nested jars too,
     * through their own JarURLConnection).
     */
    static void listPackage(Ops ops, Req req, Map<String, Object> out) throws Failure {
        String pkg = req.string("package", "a package name");
        ClassLoader loader = loader(ops.inst(), req.loader());
        ClassLoader platform = ClassLoader.getPlatformClassLoader();
        TreeSet<String> names = new TreeSet<>();
        for (Class<?> c : ops.inst().getAllLoadedClasses()) {
            ClassLoader l = c.getClassLoader();
            if (l == null || l == platform || c.isArray() || c.isPrimitive() || !pkg.equals(c.getPackageName())) continue;
            if (c.getName().indexOf('/') >= 0) continue; // hidden classes have no name to refer to
            if (sees(loader, l)) names.add(c.getName());
        }
        String dir = pkg.replace('.', '/');
        List<String> unread = new ArrayList<>();
        if (loader != null) {
            try {
                Enumeration<URL> urls = loader.getResources(dir);
                int seen = 0;
                while (urls.hasMoreElements() && seen++ < 10_000) {
                    URL u = urls.nextElement();
                    try {
                        list(u, dir, pkg, names);
                    } catch (IOException | RuntimeException e) {
                        unread.add(u + ": " + Failure.describe(e));
                    }
                }
            } catch (IOException e) {
                unread.add(dir + ": " + Failure.describe(e));
            }
        }
        out.put("names", new ArrayList<>(names));
        out.put("unread", unread);
    }

    static void list(URL u, String dir, String pkg, TreeSet<String> names) throws IOException {
        String proto = u.getProtocol();
        if (proto.equals("jrt")) return; // the JDK's own: javac has them
        if (proto.equals("file")) {
            File[] files = new File(u.getPath()).listFiles();
            if (files == null) return;
            for (File f : files) {
                String n = f.getName();
                if (f.isFile() && n.endsWith(".class") && !n.equals("module-info.class") && !n.equals("package-info.class")) names.add(pkg + "." + n.substring(0, n.length() - 6));
            }
            return;
        }
        URLConnection conn = u.openConnection();
        if (!(conn instanceof JarURLConnection)) return;
        JarURLConnection jc = (JarURLConnection) conn;
        // Caches of the loader's own connections are not ours to close.
        jc.setUseCaches(true);
        JarFile jar = jc.getJarFile();
        String prefix = dir + "/";
        Enumeration<JarEntry> entries = jar.entries();
        while (entries.hasMoreElements()) {
            String n = entries.nextElement().getName();
            if (!n.startsWith(prefix) || !n.endsWith(".class") || n.indexOf('/', prefix.length()) >= 0) continue;
            String simple = n.substring(prefix.length(), n.length() - 6);
            if (!simple.equals("module-info") && !simple.equals("package-info")) names.add(pkg + "." + simple);
        }
    }

    /** The class file of binary name n that the loader serves, or null. */
    static byte[] resource(ClassLoader loader, String n) {
        String path = n.replace('.', '/') + ".class";
        // ClassLoader.getResource exempts ".class" names from module encapsulation: platform
        // classes come this way too.
        ClassLoader l = loader != null ? loader : ClassLoader.getPlatformClassLoader();
        try (InputStream in = l.getResourceAsStream(path)) {
            return in == null ? null : in.readAllBytes();
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** The loader a selector names; null for "bootstrap". */
    private static ClassLoader loader(Instrumentation inst, String selector) throws Failure {
        if ("bootstrap".equals(selector)) return null;
        return Inventory.find(inst, selector);
    }

    /** Whether `defining` is `loader` or one of its ancestors (the boot loader is everyone's). */
    static boolean sees(ClassLoader loader, ClassLoader defining) {
        return depth(loader, defining) >= 0;
    }

    private static int depth(ClassLoader loader, ClassLoader defining) {
        int d = 0;
        for (ClassLoader l = loader; l != null && d < 1000; l = l.getParent(), d++) {
            if (l == defining) return d;
        }
        return defining == null ? d : -1;
    }
}
