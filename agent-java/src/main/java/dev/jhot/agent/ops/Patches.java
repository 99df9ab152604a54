package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import dev.jhot.agent.Sha256;
import java.lang.instrument.ClassDefinition;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * {@code bytes} and {@code redefine}: the bytes classes run, and new bytes for them. jhot's pre-flight
 * ({@code bytes}) is normally followed at once by a {@code redefine} of the same classes, so what the
 * pre-flight found and captured is kept for it (see scan and capture). One per Ops, made by the first
 * of these requests; its state is guarded by the Ops lock.
 */
final class Patches implements LoadedByName.Walk {
    private final Ops ops;
    private final Registry registry;
    /** Guarded by the Ops lock. */
    private final LoadedByName loaded;
    /** Running bytes captured by the last request; see capture(). Guarded by lock. */
    private final WeakHashMap<Class<?>, byte[]> recentCaptures = new WeakHashMap<>();
    private long recentCapturedAt;

    Patches(Ops ops) {
        this.ops = ops;
        this.registry = ops.registry;
        this.loaded = new LoadedByName(ops.registry);
    }

    void bytes(Req req, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        Set<String> names = new LinkedHashSet<>(req.strings("classes", "class names"));
        String selector = req.optLoader();
        Instrumentation inst = ops.inst();
        synchronized (ops.lock) {
            req.check(); // a request that waited for the lock stops as soon as it has it
            Map<String, List<Class<?>>> found = scan(names, selector, true);
            requireModifiable(found);
            List<Class<?>> fresh = new ArrayList<>();
            for (List<Class<?>> cs : found.values()) {
                for (Class<?> c : cs) if (registry.get(c.getClassLoader(), c.getName()) == null) fresh.add(c);
            }
            IdentityHashMap<Class<?>, byte[]> captured = capture(inst, fresh, true);
            List<Object> classes = new ArrayList<>();
            for (List<Class<?>> cs : found.values()) {
                for (Class<?> c : cs) {
                    Registry.Patch p = registry.get(c.getClassLoader(), c.getName());
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", c.getName());
                    m.put("loader", Loaders.json(c.getClassLoader()));
                    m.put("blob", blobs.size());
                    blobs.add(p != null ? p.bytes : captured.get(c));
                    classes.add(m);
                }
            }
            out.put("classes", classes);
            out.put("java_version", System.getProperty("java.version"));
        }
    }

    void redefine(Req req, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        long t0 = System.nanoTime();
        Map<String, byte[]> want = new LinkedHashMap<>();
        for (Req c : req.objects("classes")) {
            String name = c.name("class");
            if (want.put(name, c.blob("class " + name)) != null) throw Failure.protocol("class " + name + " named twice");
        }
        String selector = req.optLoader();
        boolean allowPending = req.bool("pending");
        // The client judges the change after the JVM did, from what each class ran before.
        boolean sendBefore = req.bool("before");
        List<Object> ranBefore = new ArrayList<>();
        // Classes the client planned as not loaded (a deploy): if one has loaded since, the plan
        // is stale (its running bytes may differ in shape from the new ones) and nothing is done.
        Set<String> unloaded = new LinkedHashSet<>();
        if (req.has("unloaded")) {
            for (Object o : req.list("unloaded")) {
                if (!(o instanceof String) || !want.containsKey(o)) throw Failure.protocol("\"unloaded\" must name classes of the request");
                unloaded.add((String) o);
            }
        }
        // Define and Deploys load only for a request that uses them (see Ops).
        List<Define.Entry> defines = req.has("define") ? Define.parse(req) : new ArrayList<>();
        Deploys.Record deploy = req.has("deploy") ? Deploys.parse(req) : null;
        Instrumentation inst = ops.inst();

        synchronized (ops.lock) {
            req.check(); // a request that waited for the lock stops as soon as it has it
            Map<String, List<Class<?>>> found = scan(want.keySet(), selector, false);
            List<String> loadedSince = new ArrayList<>();
            for (String n : unloaded) if (found.containsKey(n)) loadedSince.add(n);
            if (!loadedSince.isEmpty()) {
                throw new Failure("loaded_since_plan", "loaded since the plan was made: " + String.join(", ", loadedSince), loadedSince);
            }
            List<String> missing = new ArrayList<>();
            for (String n : want.keySet()) if (!found.containsKey(n)) missing.add(n);
            if (!missing.isEmpty() && !allowPending) {
                throw new Failure("not_loaded", "not loaded" + (selector == null ? "" : " by loader " + selector) + ": " + String.join(", ", missing), missing);
            }
            requireModifiable(found);
            for (Map.Entry<String, byte[]> e : want.entrySet()) {
                String problem = ClassBytes.problem(e.getValue(), e.getKey());
                if (problem != null) throw new Failure("rejected", problem, List.of(e.getKey()));
            }
            Class<?>[] all = defines.isEmpty() ? null : inst.getAllLoadedClasses();
            if (all != null) Define.check(inst, defines, all);

            List<Class<?>> fresh = new ArrayList<>();
            for (List<Class<?>> cs : found.values()) {
                for (Class<?> c : cs) if (registry.get(c.getClassLoader(), c.getName()) == null) fresh.add(c);
            }
            IdentityHashMap<Class<?>, byte[]> captured = capture(inst, fresh, false);

            List<ClassDefinition> defs = new ArrayList<>();
            List<Class<?>> classes = new ArrayList<>();
            List<Registry.Patch> next = new ArrayList<>();
            List<Map<String, Object>> changes = new ArrayList<>();
            Set<String> unchanged = new LinkedHashSet<>();
            Set<String> batch = new LinkedHashSet<>();
            for (Map.Entry<String, List<Class<?>>> e : found.entrySet()) {
                byte[] bytes = want.get(e.getKey());
                for (Class<?> c : e.getValue()) {
                    Registry.Patch prev = registry.get(c.getClassLoader(), c.getName());
                    byte[] current = prev != null ? prev.bytes : captured.get(c);
                    if (sendBefore) {
                        Map<String, Object> m = new LinkedHashMap<>();
                        m.put("name", c.getName());
                        m.put("loader", Loaders.json(c.getClassLoader()));
                        m.put("blob", blobs.size());
                        blobs.add(current);
                        ranBefore.add(m);
                    }
                    if (Arrays.equals(current, bytes)) {
                        unchanged.add(e.getKey());
                        continue;
                    }
                    Map<String, Object> loader = Loaders.json(c.getClassLoader());
                    defs.add(new ClassDefinition(c, bytes));
                    classes.add(c);
                    Registry.Patch patch = new Registry.Patch(e.getKey(), loader, prev != null ? prev.original : current, bytes);
                    next.add(patch);
                    Object from = prev != null ? prev.bytesShaLazy() : Sha256.lazy(current);
                    changes.add(History.change(e.getKey(), loader, from, patch.bytesShaLazy()));
                    batch.add(e.getKey());
                    if (deploy != null) deploy.redefined.add(new Deploys.Redefined(c, loader, prev, patch));
                }
            }
            // New classes go in before the redefinition that refers to them, and only once
            // everything above has been checked: they cannot be taken back.
            List<Class<?>> defined = all == null ? new ArrayList<>() : Define.run(inst, defines, all);
            try {
                apply(inst, classes, next, defs, batch);
            } catch (Failure f) {
                if (defined.isEmpty()) throw f;
                throw new Failure(f.kind, f.getMessage() + "; the new classes " + String.join(", ", Define.names(defined))
                        + " were defined and stay defined (a JVM cannot undefine a class)", f.classes);
            }

            List<Map<String, Object>> pendingChanges = new ArrayList<>();
            for (String n : missing) {
                Registry.Pending p = new Registry.Pending(n, selector, want.get(n));
                Registry.Pending before = registry.setPending(n, p);
                if (deploy != null) deploy.pending.add(new Deploys.Pended(n, before, p));
                pendingChanges.add(History.change(n, null, null, Sha256.lazy(want.get(n))));
            }
            List<Map<String, Object>> definedJson = new ArrayList<>();
            for (Class<?> c : defined) definedJson.add(Define.json(c));
            ops.history.add("define", definedJson);
            if (deploy != null) {
                deploy.defined.addAll(definedJson);
                ops.deploys().add(deploy);
                out.put("deploy", deploy.id);
            }
            ops.history.add("redefine", changes);
            ops.history.add("pending", pendingChanges);
            out.put("elapsed_us", (System.nanoTime() - t0) / 1000);
            if (sendBefore) {
                // jhot hashes the bytes it sent and those it gets back (before) itself, so the
                // digests wait for whoever reads the history.
                List<Map<String, Object>> named = new ArrayList<>();
                for (Map<String, Object> c : changes) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("name", c.get("name"));
                    m.put("loader", c.get("loader"));
                    named.add(m);
                }
                out.put("redefined", named);
            } else {
                out.put("redefined", changes);
            }
            out.put("pending", missing);
            out.put("unchanged", new ArrayList<>(unchanged));
            out.put("defined", defined.isEmpty() ? new ArrayList<>() : Define.names(defined));
            if (sendBefore) {
                out.put("before", ranBefore);
                out.put("java_version", System.getProperty("java.version"));
            }
        }
    }

    /** Registers the new bytes, then redefines everything in one call; on refusal the registry
     *  gets its previous entries back, so nothing is half-applied. */
    private void apply(Instrumentation inst, List<Class<?>> classes, List<Registry.Patch> next,
                       List<ClassDefinition> defs, Set<String> batch) throws Failure {
        if (defs.isEmpty()) return;
        List<Registry.Patch> prev = new ArrayList<>();
        for (int k = 0; k < classes.size(); k++) prev.add(registry.set(classes.get(k).getClassLoader(), next.get(k).name, next.get(k)));
        try {
            inst.redefineClasses(defs.toArray(new ClassDefinition[0]));
        } catch (Throwable t) {
            for (int k = classes.size() - 1; k >= 0; k--) registry.set(classes.get(k).getClassLoader(), next.get(k).name, prev.get(k));
            throw new Failure("rejected", Failure.describe(t), new ArrayList<>(batch));
        }
    }

    /** Captures the running bytes of classes jhot has not patched. A `bytes` request (jhot's
     *  pre-flight) is normally followed at once by a `redefine` of the same classes: what it
     *  captured is kept until then, so the JVM does one retransformation, not two. Held weakly, so
     *  a class that is unloaded meanwhile is not pinned. */
    private IdentityHashMap<Class<?>, byte[]> capture(Instrumentation inst, List<Class<?>> classes, boolean keep) throws Failure {
        IdentityHashMap<Class<?>, byte[]> got = new IdentityHashMap<>();
        List<Class<?>> missing = new ArrayList<>();
        // Only the request right after the pre-flight may use its capture: later, another agent
        // may have retransformed the class.
        if (System.nanoTime() - recentCapturedAt > 5_000_000_000L) recentCaptures.clear();
        for (Class<?> c : classes) {
            byte[] kept = recentCaptures.remove(c);
            if (kept != null) got.put(c, kept);
            else missing.add(c);
        }
        if (missing.isEmpty()) return got;
        IdentityHashMap<Class<?>, byte[]> fresh;
        try {
            fresh = registry.capture(inst, missing);
        } catch (Throwable t) {
            throw new Failure("internal", "capturing the running bytes failed: " + Failure.describe(t), names(missing));
        }
        List<Class<?>> lost = new ArrayList<>();
        for (Class<?> c : missing) if (fresh.get(c) == null) lost.add(c);
        if (!lost.isEmpty()) throw new Failure("internal", "the JVM did not show the running bytes", names(lost));
        got.putAll(fresh);
        recentCaptures.clear();
        if (keep) {
            recentCaptures.putAll(fresh);
            recentCapturedAt = System.nanoTime();
        }
        return got;
    }

    /** The running bytes for class_files: what a `bytes` request just captured (jad asks for the
     *  class again with its nested classes) is used instead of retransforming it twice. Call with
     *  the lock held. */
    IdentityHashMap<Class<?>, byte[]> captureForRead(Instrumentation inst, List<Class<?>> classes) throws Failure {
        return capture(inst, classes, false);
    }

    /** The last scan, for the request right after it: jhot's pre-flight (`bytes`) and the
     *  `redefine` that follows name the same classes, and walking every loaded class is the bulk
     *  of a request's own cost when LoadedByName cannot answer. Used once, and only within a
     *  second; a class loaded in between is then treated as if it had loaded just after the
     *  redefinition. Guarded by lock. */
    private Map<String, List<Class<?>>> lastScan;
    private Set<String> lastScanNames;
    private String lastScanSelector;
    private long lastScanAt;

    /** {@code keep}: this is a pre-flight, whose scan the next request may use. */
    private Map<String, List<Class<?>>> scan(Set<String> names, String selector, boolean keep) {
        Map<String, List<Class<?>>> reuse = lastScan;
        boolean fresh = reuse != null && System.nanoTime() - lastScanAt < 1_000_000_000L
                && names.equals(lastScanNames) && java.util.Objects.equals(selector, lastScanSelector);
        lastScan = null;
        if (fresh && !keep) return reuse;
        Map<String, List<Class<?>>> found = loaded.find(names, selector, this);
        if (keep) {
            lastScan = found;
            lastScanNames = new java.util.HashSet<>(names);
            lastScanSelector = selector;
            lastScanAt = System.nanoTime();
        }
        return found;
    }

    @Override
    public Class<?>[] all() {
        return ops.inst.getAllLoadedClasses();
    }

    private void requireModifiable(Map<String, List<Class<?>>> found) throws Failure {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, List<Class<?>>> e : found.entrySet()) {
            for (Class<?> c : e.getValue()) {
                if (!ops.inst.isModifiableClass(c) && !bad.contains(e.getKey())) bad.add(e.getKey());
            }
        }
        if (!bad.isEmpty()) throw new Failure("unmodifiable", "the JVM cannot modify " + String.join(", ", bad), bad);
    }

    private static List<String> names(List<Class<?>> classes) {
        Set<String> s = new LinkedHashSet<>();
        for (Class<?> c : classes) s.add(c.getName());
        return new ArrayList<>(s);
    }
}
