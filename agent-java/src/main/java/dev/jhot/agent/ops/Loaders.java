package dev.jhot.agent.ops;

import java.util.LinkedHashMap;
import java.util.Map;

/** How the protocol names class loaders. */
final class Loaders {
    private Loaders() {
    }

    static String id(ClassLoader l) {
        return l == null ? "bootstrap" : "0x" + Integer.toHexString(System.identityHashCode(l));
    }

    static String name(ClassLoader l) {
        if (l == null) return "bootstrap";
        String n = l.getName();
        return n != null ? n : l.getClass().getName();
    }

    /** A snapshot, so that history entries keep no reference that would pin the loader. */
    static Map<String, Object> json(ClassLoader l) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id(l));
        m.put("name", name(l));
        return m;
    }

    /** Null selects every loader; otherwise exact match on id, name or class name. */
    static boolean matches(String selector, ClassLoader l) {
        if (selector == null) return true;
        if (l == null) return selector.equals("bootstrap");
        return selector.equals(id(l)) || selector.equals(l.getName()) || selector.equals(l.getClass().getName());
    }
}
