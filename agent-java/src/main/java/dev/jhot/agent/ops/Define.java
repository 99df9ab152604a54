package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.instrument.Instrumentation;
import java.lang.invoke.MethodHandles;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.security.ProtectionDomain;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The new classes of a build (`redefine`'s `define`): a redefinition cannot add classes, so the
 * ones the new bytes refer to are defined into the loader that will resolve them, first.
 */
final class Define {
    private Define() {
    }

    static final class Entry {
        final String name;
        final byte[] bytes;
        final String selector;
        ClassLoader loader;

        Entry(String name, byte[] bytes, String selector) {
            this.name = name;
            this.bytes = bytes;
            this.selector = selector;
        }
    }

    /** Reads `define` (absent = none); only checks the request's shape. */
    static List<Entry> parse(Req req) throws Failure {
        List<Entry> out = new ArrayList<>();
        if (!req.has("define")) return out;
        Set<String> seen = new HashSet<>();
        for (Req e : req.objects("define")) {
            String name = e.name("define");
            String loader = e.selector("define " + name);
            byte[] bytes = e.blob("define " + name);
            if (!seen.add(loader + " " + name)) throw Failure.protocol("define " + name + " named twice");
            out.add(new Entry(name, bytes, loader));
        }
        return out;
    }

    /** Finds each entry's loader and refuses names that loader already has; changes nothing. */
    static void check(Instrumentation inst, List<Entry> entries, Class<?>[] all) throws Failure {
        Map<String, ClassLoader> bySelector = new HashMap<>();
        for (Entry e : entries) {
            String problem = ClassBytes.problem(e.bytes, e.name);
            if (problem != null) throw new Failure("rejected", problem, List.of(e.name));
            ClassLoader l = bySelector.get(e.selector);
            if (l == null) {
                l = Inventory.find(inst, e.selector);
                bySelector.put(e.selector, l);
            }
            e.loader = l;
        }
        List<String> loaded = new ArrayList<>();
        for (Class<?> c : all) {
            for (Entry e : entries) {
                if (c.getClassLoader() == e.loader && c.getName().equals(e.name)) loaded.add(e.name);
            }
        }
        if (!loaded.isEmpty()) {
            throw new Failure("input", "already loaded by its loader, so it cannot be defined: " + String.join(", ", loaded), loaded);
        }
    }

    /**
     * Defines the entries in order. One that fails with NoClassDefFoundError (it needs another new
     * class not defined yet, e.g. its superclass) is retried after the others, pass after pass,
     * while a pass makes progress. Returns the classes defined; on failure throws naming the class,
     * and the classes defined before it stay defined (a JVM cannot undefine a class).
     */
    static List<Class<?>> run(Instrumentation inst, List<Entry> entries, Class<?>[] all) throws Failure {
        // Per (loader, package): a class there, for a Lookup into that package.
        IdentityHashMap<ClassLoader, Map<String, Class<?>>> hosts = new IdentityHashMap<>();
        Set<ClassLoader> loaders = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        for (Entry e : entries) loaders.add(e.loader);
        for (Class<?> c : all) {
            ClassLoader l = c.getClassLoader();
            if (l == null || !loaders.contains(l) || c.isArray() || c.isPrimitive() || c.getName().indexOf('/') >= 0) continue;
            hosts.computeIfAbsent(l, k -> new HashMap<>()).putIfAbsent(pkg(c.getName()), c);
        }
        List<Class<?>> defined = new ArrayList<>();
        List<Entry> todo = entries;
        while (!todo.isEmpty()) {
            List<Entry> later = new ArrayList<>();
            Throwable firstMissing = null;
            for (Entry e : todo) {
                try {
                    Class<?> c = defineOne(inst, e, hosts.computeIfAbsent(e.loader, k -> new HashMap<>()));
                    defined.add(c);
                } catch (NoClassDefFoundError t) {
                    later.add(e);
                    if (firstMissing == null) firstMissing = t;
                } catch (Throwable t) {
                    throw failure(e, t, defined);
                }
            }
            if (later.size() == todo.size()) throw failure(later.get(0), firstMissing, defined);
            todo = later;
        }
        return defined;
    }

    private static Failure failure(Entry e, Throwable t, List<Class<?>> defined) {
        String msg = "defining " + e.name + " failed: " + Failure.describe(t);
        if (!defined.isEmpty()) {
            msg += "; nothing was redefined, but " + String.join(", ", names(defined))
                    + " stay defined (a JVM cannot undefine a class)";
        } else {
            msg += "; nothing was defined or redefined";
        }
        boolean dup = t instanceof LinkageError && String.valueOf(t.getMessage()).contains("duplicate");
        return new Failure(dup ? "input" : "rejected", msg, List.of(e.name));
    }

    static List<String> names(List<Class<?>> classes) {
        List<String> out = new ArrayList<>();
        for (Class<?> c : classes) out.add(c.getName());
        return out;
    }

    private static Class<?> defineOne(Instrumentation inst, Entry e, Map<String, Class<?>> hosts) throws Throwable {
        String pkg = pkg(e.name);
        Class<?> host = hosts.get(pkg);
        Module me = Define.class.getModule();
        Class<?> c;
        if (host != null) {
            // Preferred: a Lookup with private access in a class of the same package defines into
            // the same loader, runtime package and protection domain, through public API.
            Module m = host.getModule();
            if (!m.isOpen(pkg, me)) open(inst, m, pkg, me);
            c = MethodHandles.privateLookupIn(host, MethodHandles.lookup()).defineClass(e.bytes);
        } else {
            // A package this loader has no class in yet: ClassLoader.defineClass, reached by opening
            // java.base/java.lang to the agent at run time (no --add-opens on the JVM's command line).
            // The protection domain of another class of that loader (usually the same code source)
            // rather than the loader's default one, so code that asks where a class came from
            // (getProtectionDomain().getCodeSource()) sees the application's jar.
            if (!Object.class.getModule().isOpen("java.lang", me)) open(inst, Object.class.getModule(), "java.lang", me);
            Method dc = ClassLoader.class.getDeclaredMethod("defineClass", String.class, byte[].class, int.class, int.class, ProtectionDomain.class);
            dc.setAccessible(true);
            ProtectionDomain pd = null;
            for (Class<?> any : hosts.values()) {
                pd = any.getProtectionDomain();
                break;
            }
            try {
                c = (Class<?>) dc.invoke(e.loader, e.name, e.bytes, 0, e.bytes.length, pd);
            } catch (InvocationTargetException ite) {
                throw ite.getCause();
            }
        }
        hosts.putIfAbsent(pkg, c);
        return c;
    }

    private static void open(Instrumentation inst, Module m, String pkg, Module to) {
        inst.redefineModule(m, Set.of(), Map.of(), Map.of(pkg, Set.of(to)), Set.of(), Map.of());
    }

    private static String pkg(String name) {
        int dot = name.lastIndexOf('.');
        return dot < 0 ? "" : name.substring(0, dot);
    }

    static Map<String, Object> json(Class<?> c) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", c.getName());
        m.put("loader", Loaders.json(c.getClassLoader()));
        return m;
    }
}
