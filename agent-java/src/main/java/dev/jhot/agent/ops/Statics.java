package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.instrument.Instrumentation;
import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code getstatic}: the value of a static field, rendered without running application code. No
 * toString, equals or hashCode of the application's objects is called: values are read
 * reflectively (Field.get runs nothing for an initialized class), strings, boxes and enum names
 * are the JDK's final code, and other objects show as ClassName@identityHash with their fields.
 * A class not yet initialized is not read at all: reading would run its static initializer.
 */
final class Statics {
    static final int MAX_STRING = 4096;
    static final int MAX_ELEMENTS = 100;
    static final int MAX_FIELDS = 200;
    /** Values in one answer, so that a wide graph stays a bounded reply. */
    static final int MAX_VALUES = 5000;
    static final int MAX_DEPTH = 8;

    private static Object unsafe;
    private static Method shouldBeInitialized;

    private Statics() {
    }

    static void getstatic(Ops ops, Req req, Map<String, Object> out) throws Failure {
        String name = req.string("class", "a class name");
        String field = req.string("field", "a field name");
        String selector = req.optLoader();
        int depth = req.has("depth") ? (int) req.longValue("depth", 0, MAX_DEPTH) : 1;
        Instrumentation inst = ops.inst();
        req.check();
        List<Class<?>> found = new ArrayList<>();
        for (Class<?> c : inst.getAllLoadedClasses()) {
            if (c.getName().equals(name) && Loaders.matches(selector, c.getClassLoader())) found.add(c);
        }
        if (found.isEmpty()) {
            throw new Failure("input", name + " is not loaded" + (selector == null ? "" : " by loader " + selector), List.of(name));
        }
        if (found.size() > 1) {
            StringBuilder b = new StringBuilder(name + " is defined by " + found.size() + " class loaders; name one:");
            for (Class<?> c : found) b.append(' ').append(Loaders.id(c.getClassLoader())).append(" (").append(Loaders.name(c.getClassLoader())).append(')');
            throw new Failure("input", b.toString(), List.of(name));
        }
        Class<?> c = found.get(0);
        Field f;
        try {
            f = find(c, field);
        } catch (LinkageError e) {
            throw new Failure("internal", "cannot list the fields of " + name + ": " + Failure.describe(e), List.of(name));
        }
        if (f == null) throw new Failure("input", name + " has no static field " + field, List.of(name));
        out.put("class", name);
        out.put("loader", Loaders.json(c.getClassLoader()));
        out.put("field", field);
        out.put("declared_in", f.getDeclaringClass().getName());
        out.put("declared_type", f.getType().getTypeName());
        boolean init = initialized(inst, f.getDeclaringClass());
        out.put("initialized", init);
        if (!init) {
            out.put("value", null);
            return;
        }
        Object v;
        try {
            f.setAccessible(true);
            v = f.get(null);
        } catch (RuntimeException | IllegalAccessException e) {
            // InaccessibleObjectException: a package of a named module not open to the agent
            throw new Failure("input", name + "." + field + " cannot be read: " + Failure.describe(e), List.of(name));
        }
        out.put("value", render(v, f.getType(), depth, new IdentityHashMap<>(), new int[] {MAX_VALUES}));
    }

    /** The static field of that name, declared by c, a superclass or an interface of them. */
    private static Field find(Class<?> c, String name) {
        for (Class<?> k = c; k != null; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) if (f.getName().equals(name) && Modifier.isStatic(f.getModifiers())) return f;
            for (Class<?> i : k.getInterfaces()) {
                Field f = find(i, name);
                if (f != null) return f;
            }
        }
        return null;
    }

    /**
     * Whether c's static initializer has run, from the JDK's internal Unsafe (the only API that
     * tells without initializing). Its package is exported to the agent for that, the way Define
     * opens java.lang; an export lets the agent (and class-path code) call its public methods.
     */
    private static synchronized boolean initialized(Instrumentation inst, Class<?> c) throws Failure {
        try {
            if (shouldBeInitialized == null) {
                Module base = Object.class.getModule();
                Module me = Statics.class.getModule();
                if (!base.isExported("jdk.internal.misc", me)) {
                    inst.redefineModule(base, Set.of(), Map.of("jdk.internal.misc", Set.of(me)), Map.of(), Set.of(), Map.of());
                }
                Class<?> u = Class.forName("jdk.internal.misc.Unsafe");
                unsafe = u.getMethod("getUnsafe").invoke(null);
                shouldBeInitialized = u.getMethod("shouldBeInitialized", Class.class);
            }
            return !(Boolean) shouldBeInitialized.invoke(unsafe, c);
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            throw new Failure("internal", "cannot tell whether " + c.getName()
                    + " is initialized, so it is not read (reading would run its static initializer): " + Failure.describe(e), null);
        }
    }

    /** A value as JSON: always an object with its type; see docs/protocol.md, "getstatic". */
    static Map<String, Object> render(Object v, Class<?> declared, int depth, IdentityHashMap<Object, Boolean> path, int[] budget) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (v == null) {
            m.put("type", declared.getTypeName());
            m.put("value", null);
            return m;
        }
        Class<?> t = v.getClass();
        m.put("type", declared.isPrimitive() ? declared.getName() : t.getTypeName());
        if (--budget[0] < 0) {
            m.put("omitted", true);
            return m;
        }
        if (t == String.class) {
            String s = (String) v;
            m.put("value", s.length() > MAX_STRING ? s.substring(0, MAX_STRING) : s);
            if (s.length() > MAX_STRING) {
                m.put("truncated", true);
                m.put("length", s.length());
            }
        } else if (t == Integer.class || t == Long.class || t == Short.class || t == Byte.class || t == Boolean.class) {
            m.put("value", v);
        } else if (t == Character.class) {
            m.put("value", v.toString());
        } else if (t == Double.class || t == Float.class) {
            double d = ((Number) v).doubleValue();
            m.put("value", Double.isNaN(d) || Double.isInfinite(d) ? v.toString() : (Object) d);
        } else if (v instanceof Enum) {
            Enum<?> e = (Enum<?>) v;
            m.put("type", e.getDeclaringClass().getName()); // not the constant's own body class
            m.put("enum", e.name());
        } else if (t.isArray()) {
            int n = Array.getLength(v);
            m.put("ref", ref(v));
            m.put("length", n);
            if (t.getComponentType().isPrimitive() || depth > 0) {
                List<Object> elements = new ArrayList<>();
                for (int k = 0; k < Math.min(n, MAX_ELEMENTS) && budget[0] > 0; k++) {
                    elements.add(render(Array.get(v, k), t.getComponentType(), depth - 1, path, budget));
                }
                m.put("elements", elements);
                if (elements.size() < n) m.put("truncated", true);
            }
        } else {
            m.put("ref", ref(v));
            if (path.containsKey(v)) {
                m.put("cycle", true);
            } else if (depth > 0) {
                path.put(v, Boolean.TRUE);
                m.put("fields", fields(v, t, depth, path, budget, m));
                path.remove(v);
            }
        }
        return m;
    }

    private static List<Map<String, Object>> fields(Object v, Class<?> t, int depth, IdentityHashMap<Object, Boolean> path, int[] budget,
            Map<String, Object> owner) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Class<?> k = t; k != null && k != Object.class; k = k.getSuperclass()) {
            Field[] declared;
            try {
                declared = k.getDeclaredFields();
            } catch (LinkageError e) {
                owner.put("fields_error", Failure.describe(e));
                break;
            }
            for (Field f : declared) {
                if (Modifier.isStatic(f.getModifiers())) continue;
                if (out.size() >= MAX_FIELDS || budget[0] <= 0) {
                    owner.put("truncated", true);
                    return out;
                }
                Map<String, Object> e = new LinkedHashMap<>();
                e.put("name", f.getName());
                if (k != t) e.put("declared_in", k.getName());
                try {
                    f.setAccessible(true);
                    e.put("value", render(f.get(v), f.getType(), depth - 1, path, budget));
                } catch (RuntimeException | IllegalAccessException x) {
                    // a JDK class's package is not open to the agent: shown, not forced open
                    e.put("type", f.getType().getTypeName());
                    e.put("inaccessible", true);
                }
                out.add(e);
            }
        }
        return out;
    }

    private static String ref(Object v) {
        return v.getClass().getTypeName() + "@" + Integer.toHexString(System.identityHashCode(v));
    }
}
