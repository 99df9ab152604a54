package dev.jhot.agent.ops;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** What jhot changed in this JVM, oldest first, kept as JSON-ready maps. */
final class History {
    /** Bounds memory in a JVM patched in a loop for months; seq still counts every entry, so a
     *  client can see that old ones were dropped. */
    static final int MAX_ENTRIES = 10_000;

    private final ArrayDeque<Map<String, Object>> entries = new ArrayDeque<>();
    private long seq;

    synchronized void add(String action, List<Map<String, Object>> classes) {
        if (classes.isEmpty()) return;
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("seq", ++seq);
        e.put("time_ms", System.currentTimeMillis());
        e.put("action", action);
        e.put("classes", classes);
        entries.addLast(e);
        if (entries.size() > MAX_ENTRIES) entries.removeFirst();
    }

    synchronized List<Object> snapshot() {
        return new ArrayList<>(entries);
    }

    /** One element of an entry's or a response's `classes` list; the hashes are Strings or
     *  Sha256.Lazy (written as strings). */
    static Map<String, Object> change(String name, Object loader, Object from, Object to) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("loader", loader);
        m.put("from_sha256", from);
        m.put("to_sha256", to);
        return m;
    }
}
