package dev.jhot.agent.ops;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The loaded classes that have a given name, remembered between requests. Finding them means
 * walking every loaded class (Instrumentation.getAllLoadedClasses, which builds an array of them
 * all): the largest part of the agent's own time in a warm redefinition, 0.74 of 3.3 ms for a small
 * application (1,350 classes; async-profiler, which adds its own), and it grows with the
 * application.
 *
 * What a walk found for the names asked about is kept, and answers later requests as long as no
 * class has been defined since. The agent's transformer sees every definition (Definitions), but
 * at its start: HotSpot counts a class, and JVMTI lists it, only once it has been parsed. So a
 * walk is remembered only when the last definition began SETTLE_NANOS before the walk did; a
 * definition that takes longer is the one case this could miss until the next class loads.
 * Classes are held weakly, so a loader can still be collected; an unloaded class makes the next
 * request walk again. Not thread-safe: Patches calls it under the Ops lock.
 */
final class LoadedByName {
    /** Class definitions the agent's transformer has seen begin, and when the last began. */
    interface Definitions {
        long count();

        long lastAt();
    }

    /** Every loaded class; getAllLoadedClasses in the agent. */
    interface Walk {
        Class<?>[] all();
    }

    static final long SETTLE_NANOS = 1_000_000_000L;
    /** Beyond this many names the memory is cleared: a deploy names at most a few thousand. */
    static final int MAX_NAMES = 20_000;

    private final Definitions definitions;
    private final HashMap<String, List<WeakReference<Class<?>>>> known = new HashMap<>();
    /** Definitions.count() when `known` was filled; -1: nothing is known. */
    private long knownAt = -1;
    /** Walks done, for tests. */
    int walks;

    LoadedByName(Definitions definitions) {
        this.definitions = definitions;
    }

    /**
     * The loaded classes named in `names` that `selector` accepts, by name in the order of
     * `names`; a name with no such class is absent.
     */
    Map<String, List<Class<?>>> find(Set<String> names, String selector, Walk walk) {
        Map<String, List<Class<?>>> found = new LinkedHashMap<>();
        if (names.isEmpty()) return found;
        long count = definitions.count();
        boolean settled = System.nanoTime() - definitions.lastAt() > SETTLE_NANOS;
        if (settled && count == knownAt && remembered(names, selector, found)) return found;
        found.clear();

        Map<String, List<Class<?>>> all = new HashMap<>();
        walks++;
        for (Class<?> c : walk.all()) {
            String n = c.getName();
            if (names.contains(n)) {
                List<Class<?>> same = all.get(n);
                if (same == null) all.put(n, same = new ArrayList<>());
                same.add(c);
            }
        }
        // Kept only if no definition began during the walk either.
        if (settled && definitions.count() == count) {
            if (knownAt != count || known.size() + names.size() > MAX_NAMES) known.clear();
            knownAt = count;
            for (String n : names) {
                List<Class<?>> cs = all.get(n);
                List<WeakReference<Class<?>>> refs = new ArrayList<>(cs == null ? 0 : cs.size());
                if (cs != null) for (Class<?> c : cs) refs.add(new WeakReference<Class<?>>(c));
                known.put(n, refs);
            }
        } else {
            known.clear();
            knownAt = -1;
        }
        for (String n : names) add(found, n, all.get(n), selector);
        return found;
    }

    /** Fills `found` from memory; false if a name was never walked for or a class was unloaded. */
    private boolean remembered(Set<String> names, String selector, Map<String, List<Class<?>>> found) {
        for (String n : names) {
            List<WeakReference<Class<?>>> refs = known.get(n);
            if (refs == null) return false;
            List<Class<?>> cs = new ArrayList<>(refs.size());
            for (WeakReference<Class<?>> r : refs) {
                Class<?> c = r.get();
                if (c == null) return false;
                cs.add(c);
            }
            add(found, n, cs, selector);
        }
        return true;
    }

    private static void add(Map<String, List<Class<?>>> found, String name, List<Class<?>> cs, String selector) {
        if (cs == null) return;
        List<Class<?>> picked = null;
        for (Class<?> c : cs) {
            if (!Loaders.matches(selector, c.getClassLoader())) continue;
            if (picked == null) picked = new ArrayList<>();
            picked.add(c);
        }
        if (picked != null) found.put(name, picked);
    }
}
