package dev.jhot.agent;

import java.io.InputStream;
import java.lang.instrument.Instrumentation;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.CodeSource;
import java.security.ProtectionDomain;
import java.util.HashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * The one class the JVM loads from the agent jar (its Agent-Class and Premain-Class; with its
 * nested Loader, the jar's only class entries). The agent's other classes are one entry of the jar,
 * {@value #CLASSES}, which this defines in a class loader of their own ("jhot-agent", under the
 * platform loader), and Agent takes over. It uses no other agent class.
 *
 * Why not let the application class loader load them from the jar, as it does this class: it would
 * look each one up on the application's whole class path first (a file system probe per directory,
 * an index lookup per jar), then read it through the JDK's zip code, run interpreted in a JVM that
 * may never have read a jar, and define it with the jar's code source and package checks. Defining
 * the 21 classes a first redefinition needs took 5-10 ms that way in fresh JDK 17 JVMs (idle), and
 * 1.4-2.3 ms from one entry, which itself takes 2-4 ms to read; a cold redefinition became 8 ms
 * faster (paired runs). And nothing on the application's class path can stand in for an agent
 * class.
 *
 * The entry holds, for each class: its name's length (u2), its binary name (UTF-8), its length
 * (u4) and its bytes (crates/engine/build.rs writes it).
 */
public final class Boot {
    static final String CLASSES = "dev/jhot/agent/classes.bin";
    /** The Agent class, defined by the first load; later loads call it again (see Agent). */
    private static Class<?> agent;

    private Boot() {
    }

    public static void premain(String args, Instrumentation inst) {
        enter("premain", args, inst);
    }

    public static void agentmain(String args, Instrumentation inst) {
        enter("agentmain", args, inst);
    }

    /** Never throws: a throwing agentmain makes the JVM print an assertion block on the
     *  application's stderr. */
    private static synchronized void enter(String method, String args, Instrumentation inst) {
        try {
            if (agent == null) {
                ProtectionDomain pd = Boot.class.getProtectionDomain();
                Package p = Boot.class.getPackage();
                agent = Class.forName("dev.jhot.agent.Agent", true,
                        new Loader(read(pd.getCodeSource()), pd, p == null ? null : p.getImplementationVersion()));
            }
            agent.getMethod(method, String.class, Instrumentation.class).invoke(null, args, inst);
        } catch (Throwable t) {
            // Only JDK classes here: the agent's own may be what could not be had.
            Throwable cause = t instanceof java.lang.reflect.InvocationTargetException && t.getCause() != null ? t.getCause() : t;
            System.err.println("[jhot-agent] cannot start: " + cause);
        }
    }

    /** The classes entry of the jar this class came from. */
    private static byte[] read(CodeSource source) throws Exception {
        URL url = source == null ? null : source.getLocation();
        if (url == null) throw new IllegalStateException("the agent's jar is unknown (no code source)");
        Path jar = Paths.get(url.toURI());
        // The JVM has this jar open already; ZipFile shares what it read of it.
        try (ZipFile z = new ZipFile(jar.toFile())) {
            ZipEntry e = z.getEntry(CLASSES);
            if (e == null) throw new IllegalStateException(jar + " has no " + CLASSES);
            try (InputStream in = z.getInputStream(e)) {
                return in.readAllBytes();
            }
        }
    }

    /** Defines the agent's classes from the entry, each when it is first asked for; every other
     *  class comes from the platform loader (the agent uses only the JDK's). */
    static final class Loader extends ClassLoader {
        private final byte[] blob;
        /** name -> {offset, length} in blob; only read after the constructor. */
        private final Map<String, int[]> where = new HashMap<>();
        private final ProtectionDomain pd;

        Loader(byte[] blob, ProtectionDomain pd, String version) {
            super("jhot-agent", ClassLoader.getPlatformClassLoader());
            this.blob = blob;
            this.pd = pd;
            int at = 0;
            while (at < blob.length) {
                int n = ((blob[at] & 0xff) << 8) | (blob[at + 1] & 0xff);
                String name = new String(blob, at + 2, n, StandardCharsets.UTF_8);
                at += 2 + n;
                int len = ((blob[at] & 0xff) << 24) | ((blob[at + 1] & 0xff) << 16) | ((blob[at + 2] & 0xff) << 8) | (blob[at + 3] & 0xff);
                at += 4;
                if (len < 0 || len > blob.length - at) throw new IllegalArgumentException("truncated classes entry at " + name);
                where.put(name, new int[] {at, len});
                at += len;
                int dot = name.lastIndexOf('.');
                String pkg = dot < 0 ? "" : name.substring(0, dot);
                // The hello reports the agent's version from its package, as it did from the jar.
                if (getDefinedPackage(pkg) == null) definePackage(pkg, null, null, null, "jhot-agent", version, null, null);
            }
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            int[] at = where.get(name);
            if (at == null) return super.loadClass(name, resolve);
            synchronized (getClassLoadingLock(name)) {
                Class<?> c = findLoadedClass(name);
                return c != null ? c : defineClass(name, blob, at[0], at[1], pd);
            }
        }
    }
}
