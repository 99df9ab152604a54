package dev.jhot.agent.ops;

import dev.jhot.agent.Sha256;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The patches jhot applied, and the one transformer that keeps them in force: whenever the JVM
 * retransforms or redefines a patched class (another agent, a profiler), it gets the patch again.
 * Keys are (loader, internal name); loaders are held weakly so a patch never pins a loader.
 */
final class Registry implements ClassFileTransformer, LoadedByName.Definitions {
    static final class Patch {
        final String name;
        final Map<String, Object> loader;
        /** What the class ran before jhot first touched it; rollback restores this. */
        final byte[] original;
        final byte[] bytes;

        private final Sha256.Lazy bytesSha;
        private final Sha256.Lazy originalSha;

        Patch(String name, Map<String, Object> loader, byte[] original, byte[] bytes) {
            this.name = name;
            this.loader = loader;
            this.original = original;
            this.bytes = bytes;
            this.bytesSha = Sha256.lazy(bytes);
            this.originalSha = Sha256.lazy(original);
        }

        /** Hashes are kept: the agent's code runs mostly interpreted, where a digest costs
         *  about a millisecond, and every later change of the class needs them again. They are
         *  computed when first asked for (history entries hold them unwritten). */
        Sha256.Lazy bytesShaLazy() {
            return bytesSha;
        }

        Sha256.Lazy originalShaLazy() {
            return originalSha;
        }

        String bytesSha() {
            return bytesSha == null ? null : bytesSha.toString();
        }

        String originalSha() {
            return originalSha == null ? null : originalSha.toString();
        }
    }

    static final class Pending {
        final String name;
        /** Loader selector from the request; null = whichever loader loads the class first. */
        final String selector;
        final byte[] bytes;

        Pending(String name, String selector, byte[] bytes) {
            this.name = name;
            this.selector = selector;
            this.bytes = bytes;
        }
    }

    private final History history;
    // WeakHashMap keeps a null key (the boot loader) strongly, which is what we want.
    private final WeakHashMap<ClassLoader, HashMap<String, Patch>> patches = new WeakHashMap<>();
    private final HashMap<String, Pending> pending = new HashMap<>();
    /** Lets transform() return at once for the thousands of loads that are none of our business. */
    private volatile boolean active;
    /** Class definitions seen to begin, and when the last began (LoadedByName). */
    private final AtomicLong definitions = new AtomicLong();
    private volatile long lastDefinitionAt = System.nanoTime();

    Registry(History history) {
        this.history = history;
    }

    @Override
    public long count() {
        return definitions.get();
    }

    @Override
    public long lastAt() {
        return lastDefinitionAt;
    }

    @Override
    public byte[] transform(ClassLoader loader, String className, Class<?> redefined,
                            ProtectionDomain domain, byte[] buf) {
        if (redefined == null) {
            // The time first: whoever sees the new count sees it too.
            lastDefinitionAt = System.nanoTime();
            definitions.incrementAndGet();
        }
        if (!active || className == null) return null;
        try {
            Pending loaded;
            Patch applied;
            synchronized (this) {
                HashMap<String, Patch> m = patches.get(loader);
                Patch p = m == null ? null : m.get(className);
                if (p != null) {
                    // Unchanged bytes are not a change: HotSpot would otherwise cache them as the
                    // class's initial bytes (see restored()).
                    if (Arrays.equals(buf, p.bytes)) return null;
                    if (redefined != null) remember(cached, loader, className, buf.clone());
                    // A clone, because the next transformer in the chain may write into the array.
                    return p.bytes.clone();
                }
                if (redefined != null) {
                    HashMap<String, byte[][]> pm = pins.get(loader);
                    byte[][] pin = pm == null ? null : pm.get(className);
                    byte[] out = pin != null && Arrays.equals(buf, pin[0]) ? pin[1].clone() : null;
                    return out;
                }
                loaded = pending.get(className);
                if (loaded == null || !Loaders.matches(loaded.selector, loader)) return null;
                pending.remove(className);
                remember(cached, loader, className, buf.clone());
                // The patch shares the pending entry's byte array: a deploy rollback finds it by that.
                applied = new Patch(loaded.name, Loaders.json(loader), buf.clone(), loaded.bytes);
                put(loader, applied);
            }
            List<Map<String, Object>> classes = new ArrayList<>();
            classes.add(History.change(loaded.name, Loaders.json(loader), applied.originalShaLazy(), applied.bytesShaLazy()));
            history.add("load", classes);
            return loaded.bytes.clone();
        } catch (Throwable t) {
            // An exception here would be swallowed by the JVM anyway; never disturb a class load.
            return null;
        }
    }

    /**
     * The bytes the JVM runs for these classes, as the transformer chain produces them (null for a
     * class the JVM would not show). HotSpot has no call that only reads a class's bytes, so this
     * starts a retransformation, reads each class's bytes at the end of the chain, and makes the
     * JVM abandon it with bytes that are not a class file: the retransformation stops while the
     * new versions are parsed, before its safepoint. That matters: the first redefinition in a JVM
     * deoptimizes all compiled code, and it should be the one that changes something.
     */
    IdentityHashMap<Class<?>, byte[]> capture(Instrumentation inst, List<Class<?>> classes) {
        IdentityHashMap<Class<?>, byte[]> got = new IdentityHashMap<>();
        for (Class<?> c : classes) got.put(c, null);
        Recorder last = new Recorder(got);
        // Added now, so it is the last retransform-capable transformer: what it reads is what the
        // JVM would install.
        inst.addTransformer(last, true);
        try {
            retransform(inst, classes.toArray(new Class<?>[0]));
            // HotSpot parses a batch in order and stops at the first failure: a class missing
            // here came after one the chain could not transform. One at a time for those.
            for (Class<?> c : classes) if (got.get(c) == null) retransform(inst, new Class<?>[] {c});
        } finally {
            inst.removeTransformer(last);
        }
        return got;
    }

    private static void retransform(Instrumentation inst, Class<?>[] classes) {
        try {
            inst.retransformClasses(classes);
        } catch (Throwable expected) {
            // ClassFormatError from the abandon; any other failure leaves the class unread (null)
        }
    }

    /** Not a class file: HotSpot refuses it (ClassFormatError) before changing anything. */
    private static final byte[] ABANDON = {0, 0, 0, 0};

    /** Reads the bytes of the classes being captured; abandons the retransformation after the
     *  last of them. Runs on the thread that called retransformClasses. */
    private static final class Recorder implements ClassFileTransformer {
        private final IdentityHashMap<Class<?>, byte[]> got;
        /** Another agent retransforming the same class meanwhile, on its own thread, is left alone. */
        private final Thread owner = Thread.currentThread();
        private int left;

        Recorder(IdentityHashMap<Class<?>, byte[]> got) {
            this.got = got;
            this.left = got.size();
        }

        @Override
        public byte[] transform(ClassLoader loader, String className, Class<?> redefined,
                                ProtectionDomain domain, byte[] buf) {
            if (redefined == null || Thread.currentThread() != owner || !got.containsKey(redefined)) return null;
            if (got.put(redefined, buf.clone()) == null) left--;
            return left <= 0 ? ABANDON.clone() : null;
        }
    }

    /**
     * HotSpot starts every retransformation from a class's cached "initial" bytes: the input of
     * the first retransform-capable transformer that changed the class, cached once and never
     * updated, not even by a later RedefineClasses. So once this transformer has changed a class
     * (a patch applied on retransformation, or at load), a class that rollback restored would be
     * turned back into those cached bytes by the next retransformation (another agent's, or the
     * agent's own capture). `cached` remembers those bytes per class; after a restoration to other
     * bytes, `pins` maps them to the restored bytes, which transform() then hands back. Loaders
     * are held weakly; an entry per class that jhot patched, at most.
     */
    private final WeakHashMap<ClassLoader, HashMap<String, byte[]>> cached = new WeakHashMap<>();
    private final WeakHashMap<ClassLoader, HashMap<String, byte[][]>> pins = new WeakHashMap<>();

    private static <V> void remember(WeakHashMap<ClassLoader, HashMap<String, V>> map, ClassLoader l, String internalName, V v) {
        inner(map, l).putIfAbsent(internalName, v);
    }

    /** The class (loader, name), no longer patched, now runs these bytes: keep retransformations
     *  from reverting it to what the JVM cached. */
    synchronized void restored(ClassLoader loader, String name, byte[] bytes) {
        String n = internal(name);
        HashMap<String, byte[]> m = cached.get(loader);
        byte[] from = m == null ? null : m.get(n);
        HashMap<String, byte[][]> pm = pins.get(loader);
        if (pm != null) pm.remove(n);
        if (from != null && !Arrays.equals(from, bytes)) inner(pins, loader).put(n, new byte[][] {from, bytes});
        refresh();
    }

    synchronized Patch get(ClassLoader loader, String name) {
        HashMap<String, Patch> m = patches.get(loader);
        return m == null ? null : m.get(internal(name));
    }

    /** Sets or (patch == null) removes the entry for (loader, name); returns the previous one,
     *  which undoes the change when passed back in. */
    synchronized Patch set(ClassLoader loader, String name, Patch patch) {
        Patch prev;
        if (patch != null) {
            prev = put(loader, patch);
        } else {
            HashMap<String, Patch> m = patches.get(loader);
            prev = m == null ? null : m.remove(internal(name));
            if (m != null && m.isEmpty()) patches.remove(loader);
        }
        refresh();
        return prev;
    }

    private Patch put(ClassLoader loader, Patch patch) {
        Patch prev = inner(patches, loader).put(internal(patch.name), patch);
        refresh();
        return prev;
    }

    synchronized Pending setPending(String name, Pending p) {
        Pending prev = p != null ? pending.put(internal(name), p) : pending.remove(internal(name));
        refresh();
        return prev;
    }

    synchronized List<Map.Entry<ClassLoader, Patch>> allPatches() {
        List<Map.Entry<ClassLoader, Patch>> out = new ArrayList<>();
        for (Map.Entry<ClassLoader, HashMap<String, Patch>> e : patches.entrySet()) {
            for (Patch p : e.getValue().values()) out.add(new AbstractMap.SimpleEntry<>(e.getKey(), p));
        }
        return out;
    }

    synchronized Pending getPending(String name) {
        return pending.get(internal(name));
    }

    synchronized List<Pending> allPending() {
        return new ArrayList<>(pending.values());
    }

    synchronized int patchedCount() {
        int n = 0;
        for (HashMap<String, Patch> m : patches.values()) n += m.size();
        return n;
    }

    synchronized int pendingCount() {
        return pending.size();
    }

    private void refresh() {
        active = !patches.isEmpty() || !pending.isEmpty() || !pins.isEmpty();
    }

    /**
     * Runs every path of transform() once on a throwaway registry, so that the classes it needs
     * (ours, SHA-256, the lambda machinery) are loaded before it is registered. Loading them
     * later, from inside a transform() that runs for some application class, would nest loads.
     */
    static void warmUp() {
        Registry r = new Registry(new History());
        ClassLoader l = Registry.class.getClassLoader();
        r.setPending("jhot.WarmUp", new Pending("jhot.WarmUp", "jhot-no-such-loader", new byte[0]));
        r.transform(l, "jhot/WarmUp", null, null, new byte[0]);
        r.setPending("jhot.WarmUp", new Pending("jhot.WarmUp", null, new byte[0]));
        r.transform(l, "jhot/WarmUp", null, null, new byte[0]);
        r.transform(l, "jhot/WarmUp", Registry.class, null, new byte[0]);
        r.set(l, "jhot.WarmUp", null);
    }

    /** computeIfAbsent without a lambda: the first lambda of a class costs a cold agent a few
     *  milliseconds of interpreted bootstrap. */
    private static <V> HashMap<String, V> inner(WeakHashMap<ClassLoader, HashMap<String, V>> map, ClassLoader l) {
        HashMap<String, V> m = map.get(l);
        if (m == null) {
            m = new HashMap<>();
            map.put(l, m);
        }
        return m;
    }

    static String internal(String name) {
        return name.replace('.', '/');
    }
}
