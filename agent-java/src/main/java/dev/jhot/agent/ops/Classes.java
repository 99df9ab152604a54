package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.instrument.Instrumentation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code classes}, {@code class_info} and {@code loaders}: what is loaded and by whom, for
 * {@code jhot sc}, {@code sm}, {@code classloader}, {@code dump} and the shell's completion. The
 * agent only reports facts; patterns, trees and completion are the client's work.
 */
final class Classes {
    private Classes() {
    }

    /**
     * {@code classes}: every loaded class name, grouped by defining loader. Names travel as one
     * blob per loader (newline-separated UTF-8) rather than as JSON strings: 30,000 names are
     * ~1.5 MB of JSON the agent (mostly interpreted) would have to escape and the client parse.
     */
    static void classes(Ops ops, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        long t0 = System.nanoTime();
        Instrumentation inst = ops.inst();
        Table t = new Table();
        IdentityHashMap<ClassLoader, StringBuilder> names = new IdentityHashMap<>();
        StringBuilder boot = new StringBuilder();
        int hidden = 0;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.isArray() || c.isPrimitive()) continue;
            String n = c.getName();
            // Hidden classes and lambdas ("Foo$$Lambda$1/0x…") cannot be named by a client:
            // counted, not listed.
            if (n.indexOf('/') >= 0) {
                hidden++;
                continue;
            }
            ClassLoader l = c.getClassLoader();
            t.count(l);
            StringBuilder b = l == null ? boot : names.computeIfAbsent(l, k -> new StringBuilder());
            b.append(n).append('\n');
        }
        List<Object> loaders = t.json(false);
        for (ClassLoader l : t.order) {
            StringBuilder b = l == null ? boot : names.get(l);
            blobs.add(b == null ? new byte[0] : b.toString().getBytes(StandardCharsets.UTF_8));
        }
        out.put("elapsed_us", (System.nanoTime() - t0) / 1000);
        out.put("loaders", loaders);
        out.put("hidden", hidden);
    }

    /** {@code loaders}: every class loader that defined a class, its ancestors, and the boot loader. */
    static void loaders(Ops ops, Map<String, Object> out) throws Failure {
        Instrumentation inst = ops.inst();
        Table t = new Table();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.isArray() || c.isPrimitive() || c.getName().indexOf('/') >= 0) continue;
            t.count(c.getClassLoader());
        }
        out.put("loaders", t.json(true));
    }

    /** {@code class_info}: the facts of each named class, per defining loader. */
    static void classInfo(Ops ops, Req req, Map<String, Object> out) throws Failure {
        Set<String> names = new LinkedHashSet<>(req.strings("names", "class names"));
        String selector = req.optLoader();
        Instrumentation inst = ops.inst();
        Map<String, List<Class<?>>> found = new LinkedHashMap<>();
        for (String n : names) found.put(n, new ArrayList<>());
        for (Class<?> c : inst.getAllLoadedClasses()) {
            List<Class<?>> l = found.get(c.getName());
            if (l != null && !c.isArray() && Loaders.matches(selector, c.getClassLoader())) l.add(c);
        }
        List<Object> classes = new ArrayList<>();
        List<Object> notLoaded = new ArrayList<>();
        List<Object> history = ops.history.snapshot();
        // The Ops lock guards the deploy records; held only to read them.
        synchronized (ops.lock) {
            Deploys deploys = ops.deploysIfAny();
            for (Map.Entry<String, List<Class<?>>> e : found.entrySet()) {
                if (e.getValue().isEmpty()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", e.getKey());
                    m.put("pending", ops.registry.getPending(e.getKey()) != null);
                    notLoaded.add(m);
                    continue;
                }
                for (Class<?> c : e.getValue()) classes.add(info(inst, ops.registry, deploys, history, c));
            }
        }
        out.put("classes", classes);
        out.put("not_loaded", notLoaded);
    }

    private static Map<String, Object> info(Instrumentation inst, Registry registry, Deploys deploys, List<Object> history, Class<?> c) {
        ClassLoader l = c.getClassLoader();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.getName());
        Map<String, Object> loader = Loaders.json(l);
        loader.put("class", l == null ? null : l.getClass().getName());
        m.put("loader", loader);
        m.put("location", Inventory.location(c));
        m.put("modifiers", (long) c.getModifiers());
        Class<?> sup = c.getSuperclass();
        m.put("super", sup == null ? null : sup.getName());
        List<Object> interfaces = new ArrayList<>();
        for (Class<?> i : c.getInterfaces()) interfaces.add(i.getName());
        m.put("interfaces", interfaces);
        m.put("modifiable", inst.isModifiableClass(c));
        Registry.Patch p = registry.get(l, c.getName());
        if (p == null) {
            m.put("patched", null);
        } else {
            Map<String, Object> pm = new LinkedHashMap<>();
            pm.put("sha256", p.bytesSha());
            pm.put("original_sha256", p.originalSha());
            pm.put("deploy", deploys == null ? null : deploys.idOf(p));
            Map<String, Object> last = lastChange(history, c.getName(), Loaders.id(l));
            pm.put("seq", last == null ? null : last.get("seq"));
            pm.put("action", last == null ? null : last.get("action"));
            pm.put("time_ms", last == null ? null : last.get("time_ms"));
            m.put("patched", pm);
        }
        return m;
    }

    /** The newest history entry that changed the class (name, loader id) to a patch. */
    @SuppressWarnings("unchecked")
    private static Map<String, Object> lastChange(List<Object> history, String name, String loaderId) {
        for (int k = history.size() - 1; k >= 0; k--) {
            Map<String, Object> e = (Map<String, Object>) history.get(k);
            Object action = e.get("action");
            if (!"redefine".equals(action) && !"load".equals(action)) continue;
            for (Object o : (List<Object>) e.get("classes")) {
                Map<String, Object> c = (Map<String, Object>) o;
                Object l = c.get("loader");
                if (name.equals(c.get("name")) && l instanceof Map && loaderId.equals(((Map<String, Object>) l).get("id"))) return e;
            }
        }
        return null;
    }

    /** Loaders in the order first met, with their ancestors, and how many classes each defined. */
    private static final class Table {
        final List<ClassLoader> order = new ArrayList<>();
        private final IdentityHashMap<ClassLoader, int[]> counts = new IdentityHashMap<>();
        private final int[] bootCount = new int[1];
        private boolean bootSeen;

        void count(ClassLoader l) {
            add(l)[0]++;
        }

        private int[] add(ClassLoader l) {
            if (l == null) {
                if (!bootSeen) {
                    bootSeen = true;
                    order.add(null);
                }
                return bootCount;
            }
            int[] n = counts.get(l);
            if (n == null) {
                n = new int[1];
                counts.put(l, n);
                order.add(l);
                add(parent(l)); // so that every parent id resolves
            }
            return n;
        }

        List<Object> json(boolean urls) {
            add(null);
            List<Object> out = new ArrayList<>();
            for (ClassLoader l : order) {
                Map<String, Object> m = Loaders.json(l);
                m.put("class", l == null ? null : l.getClass().getName());
                ClassLoader p = l == null ? null : parent(l);
                m.put("parent", l == null ? null : Loaders.id(p));
                m.put("classes", (long) (l == null ? bootCount[0] : counts.get(l)[0]));
                if (urls) {
                    Object n = null;
                    if (l instanceof java.net.URLClassLoader) {
                        try {
                            n = (long) ((java.net.URLClassLoader) l).getURLs().length;
                        } catch (RuntimeException e) {
                            n = null; // a loader's override may throw
                        }
                    }
                    m.put("urls", n);
                }
                out.add(m);
            }
            return out;
        }
    }

    private static ClassLoader parent(ClassLoader l) {
        try {
            return l.getParent();
        } catch (RuntimeException e) {
            return null; // a SecurityManager may refuse
        }
    }
}
