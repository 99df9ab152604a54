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
     * {@code classes}, which the shell asks again whenever the JVM's loaded-class counter moves.
     * That counter moves with every redefinition too (HotSpot counts the new version as a class
     * loaded), so after each {@code redefine} the shell re-listed every class: a walk of all of
     * them and every name sent, 30,000 of them in a large application. {@code defined} in the
     * answer is a token for "no class defined since this list"; asked with it as
     * {@code unless_defined_since}, the agent answers {@code unchanged} without a walk while its
     * transformer has seen no definition begin. A token is given only for a walk no definition
     * began during, nor in the SETTLE_NANOS before (LoadedByName: a class is listed only once it
     * is parsed, after the transformer saw it). Unloaded classes are the client's to notice.
     */
    static void classes(Ops ops, Req req, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        String since = req.optString("unless_defined_since", "the token of an earlier answer");
        long count = ops.registry.count();
        long lastAt = ops.registry.lastAt();
        String token = definedToken(ops, count);
        if (token.equals(since)) {
            out.put("unchanged", true);
            out.put("defined", token);
            return;
        }
        long t0 = System.nanoTime();
        list(ops, out, blobs, true);
        boolean settled = t0 - lastAt > LoadedByName.SETTLE_NANOS && ops.registry.count() == count;
        out.put("defined", settled ? token : null);
    }

    /** The agent instance and its definition count: equal tokens mean no definition in between. */
    static String definedToken(Ops ops, long count) {
        return ops.instance + ":" + count;
    }

    /**
     * {@code classes} (names and the loader table) and {@code loaders} (the table with URL counts):
     * every loaded class name, grouped by defining loader. Names travel as one blob per loader
     * (newline-separated UTF-8) rather than as JSON strings: 30,000 names are ~1.5 MB of JSON the
     * agent (mostly interpreted) would have to escape and the client parse.
     */
    static void list(Ops ops, Map<String, Object> out, List<byte[]> blobs, boolean names) throws Failure {
        long t0 = System.nanoTime();
        Instrumentation inst = ops.inst();
        // Loaders in the order first met, each with its class count and names; the boot loader is
        // the null key (IdentityHashMap takes one).
        List<ClassLoader> order = new ArrayList<>();
        IdentityHashMap<ClassLoader, int[]> counts = new IdentityHashMap<>();
        IdentityHashMap<ClassLoader, StringBuilder> text = new IdentityHashMap<>();
        int hidden = 0;
        // The agent's own loader (Boot's, named jhot-agent) is not the application's: it and its
        // classes are left out. Loaded from a class path (the agent's tests), there is none.
        ClassLoader self = Classes.class.getClassLoader();
        ClassLoader own = self != null && "jhot-agent".equals(self.getName()) ? self : null;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.isArray() || c.isPrimitive()) continue;
            if (own != null && c.getClassLoader() == own) continue;
            String n = c.getName();
            // Hidden classes and lambdas ("Foo$$Lambda$1/0x…") cannot be named by a client:
            // counted, not listed.
            if (n.indexOf('/') >= 0) {
                hidden++;
                continue;
            }
            ClassLoader l = c.getClassLoader();
            add(order, counts, l)[0]++;
            if (names) {
                StringBuilder b = text.get(l);
                if (b == null) text.put(l, b = new StringBuilder());
                b.append(n).append('\n');
            }
        }
        add(order, counts, null);
        List<Object> loaders = new ArrayList<>();
        for (ClassLoader l : order) {
            Map<String, Object> m = Loaders.json(l);
            m.put("class", l == null ? null : l.getClass().getName());
            m.put("parent", l == null ? null : Loaders.id(parent(l)));
            m.put("classes", (long) counts.get(l)[0]);
            if (names) {
                StringBuilder b = text.get(l);
                blobs.add(b == null ? new byte[0] : b.toString().getBytes(StandardCharsets.UTF_8));
            } else if (l instanceof java.net.URLClassLoader) {
                try {
                    m.put("urls", (long) ((java.net.URLClassLoader) l).getURLs().length);
                } catch (RuntimeException e) {
                    // a loader's override may throw: no count
                }
            }
            loaders.add(m);
        }
        out.put("elapsed_us", (System.nanoTime() - t0) / 1000);
        out.put("loaders", loaders);
        if (names) out.put("hidden", hidden);
    }

    /** The count of l, added (with its ancestors, so that every parent id resolves) if new. */
    private static int[] add(List<ClassLoader> order, IdentityHashMap<ClassLoader, int[]> counts, ClassLoader l) {
        int[] n = counts.get(l);
        if (n == null) {
            counts.put(l, n = new int[1]);
            order.add(l);
            if (l != null) add(order, counts, parent(l));
        }
        return n;
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
                for (Class<?> c : e.getValue()) classes.add(info(inst, ops.registry, deploys, c));
            }
        }
        out.put("classes", classes);
        out.put("not_loaded", notLoaded);
    }

    private static Map<String, Object> info(Instrumentation inst, Registry registry, Deploys deploys, Class<?> c) {
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
            m.put("patched", pm);
        }
        return m;
    }

    private static ClassLoader parent(ClassLoader l) {
        try {
            return l.getParent();
        } catch (RuntimeException e) {
            return null; // a SecurityManager may refuse
        }
    }
}
