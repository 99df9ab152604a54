package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import dev.jhot.agent.PrivateDir;
import dev.jhot.agent.Native;
import java.io.IOException;
import java.lang.instrument.ClassDefinition;
import java.lang.instrument.Instrumentation;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The protocol's operations on this JVM (docs/protocol.md). Mutating operations run one at a time.
 * The channel (dev.jhot.agent) uses only the public members: install or the constructor, loaded,
 * setPrivateDir, serve and OPS.
 */
public final class Ops {
    static final int PROTOCOL = 1;

    private final Instrumentation inst;
    final Registry registry;
    final History history;
    /** Guarded by lock. */
    final Deploys deploys = new Deploys();
    private final AtomicInteger loads = new AtomicInteger();
    private volatile String mode = "dynamic";
    private final Object lock = new Object();
    private long startMs = -1;
    /** Running bytes captured by the last request; see capture(). Guarded by lock. */
    private final java.util.WeakHashMap<Class<?>, byte[]> recentCaptures = new java.util.WeakHashMap<>();
    private long recentCapturedAt;
    /** The private directory this agent serves in; send_fds only touches files inside it. */
    volatile Path privateDir;
    private static final Object nativeLock = new Object();
    /** The native library this JVM loaded, if any: a class loader can hold only one copy of it. */
    private static String nativeLib;

    /** The operations over inst, whose transformer is not registered yet (install does that). inst
     *  may be null (tests): hello and history still work, class operations fail cleanly. */
    public Ops(Instrumentation inst) {
        this.inst = inst;
        this.history = new History();
        this.registry = new Registry(history);
    }

    /** The agent's operations, loaded by premain or agentmain (mode "premain" or "dynamic"), with
     *  the transformer that keeps patches in force registered. */
    public static Ops install(Instrumentation inst, String mode) {
        Ops ops = new Ops(inst);
        Registry.warmUp();
        ops.mode = mode;
        inst.addTransformer(ops.registry, true);
        return ops;
    }

    /** Counts one more load of the agent (hello's {@code loads}). */
    public void loaded() {
        loads.incrementAndGet();
    }

    /** The private directory the agent serves in; send_fds touches files of it only. */
    public void setPrivateDir(Path dir) {
        privateDir = dir;
    }

    /** Answers one request into out (and blobs, which only bytes fills), or throws the failure
     *  to answer instead. */
    public void serve(String op, Req req, Map<String, Object> out, List<byte[]> blobs, String channel) throws Failure {
        switch (op) {
            case "hello": hello(req, out, channel); break;
            case "redefine": redefine(req, out); break;
            case "rollback": rollback(req, out); break;
            case "history": history(out); break;
            case "bytes": bytes(req, out, blobs); break;
            case "send_fds": sendFds(req, out); break;
            case "drain": drain(req, out); break;
            case "inventory": inventory(req, out); break;
            case "resources": resources(req, out); break;
            default: throw Failure.protocol("unknown op \"" + op + "\"");
        }
    }

    void hello(Req req, Map<String, Object> out, String channel) throws Failure {
        Object p = req.get("protocol");
        if (p != null && !Long.valueOf(PROTOCOL).equals(p)) {
            throw new Failure("version", "the agent speaks protocol " + PROTOCOL + ", the client asked for " + p, null);
        }
        out.put("protocol", PROTOCOL);
        String v = Ops.class.getPackage() == null ? null : Ops.class.getPackage().getImplementationVersion();
        out.put("agent", v != null ? v : "0.1.0");
        out.put("pid", ProcessHandle.current().pid());
        out.put("start_ms", startMs());
        out.put("java_version", System.getProperty("java.version"));
        out.put("vm_name", System.getProperty("java.vm.name"));
        out.put("vm_vendor", System.getProperty("java.vm.vendor"));
        out.put("mode", mode);
        out.put("loads", loads.get());
        out.put("patched", registry.patchedCount());
        out.put("pending", registry.pendingCount());
        out.put("channel", channel);
        // Ops added after protocol 1 shipped (send_fds, drain) are announced rather than versioned:
        // an agent without them still speaks protocol 1 for everything else.
        out.put("ops", OPS);
    }

    /** `inventory` also announces the deploy fields of `redefine` (`define`, `deploy`) and of
     *  `rollback` (`deploy`): they came together, and an older agent would ignore the former. */
    public static final List<String> OPS = List.of("hello", "redefine", "rollback", "history", "bytes", "send_fds", "drain",
            "inventory", "resources");

    private synchronized long startMs() {
        if (startMs < 0) {
            // From /proc (clock-tick precision, enough to tell a recycled pid). Not the
            // RuntimeMXBean: java.management's first use costs a fresh JVM 10-20 ms.
            startMs = ProcessHandle.current().info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        }
        return startMs;
    }

    void history(Map<String, Object> out) {
        out.put("entries", history.snapshot());
        synchronized (lock) {
            out.put("deploys", deploys.json());
        }
    }

    void inventory(Req req, Map<String, Object> out) throws Failure {
        boolean codeSources = req.bool("code_sources");
        Instrumentation inst = inst();
        synchronized (lock) {
            Inventory.inventory(inst, registry, startMs(), codeSources, this::captureLenient, out);
        }
    }

    void resources(Req req, Map<String, Object> out) throws Failure {
        String selector = req.loader();
        List<String> names = req.strings("names", "resource names");
        Inventory.resources(inst(), selector, names, out);
    }

    /** For inventory: one retransformation for all; if the batch fails, each half again, so that
     *  a few classes that cannot be captured cost a few retransformations more, not one per
     *  class (each walks every loaded class); those are reported without a hash rather than
     *  failing all. */
    private IdentityHashMap<Class<?>, byte[]> captureLenient(List<Class<?>> classes) {
        try {
            return registry.capture(inst, classes);
        } catch (Throwable batch) {
            IdentityHashMap<Class<?>, byte[]> got = new IdentityHashMap<>();
            if (classes.size() == 1) {
                got.put(classes.get(0), null);
                return got;
            }
            int half = classes.size() / 2;
            got.putAll(captureLenient(classes.subList(0, half)));
            got.putAll(captureLenient(classes.subList(half, classes.size())));
            return got;
        }
    }

    void redefine(Req req, Map<String, Object> out) throws Failure {
        long t0 = System.nanoTime();
        Map<String, byte[]> want = new LinkedHashMap<>();
        for (Req c : req.objects("classes")) {
            String name = c.name("class");
            if (want.put(name, c.blob("class " + name)) != null) throw Failure.protocol("class " + name + " named twice");
        }
        String selector = req.optLoader();
        boolean allowPending = req.bool("pending");
        // Classes the client planned as not loaded (a deploy): if one has loaded since, the plan
        // is stale (its running bytes may differ in shape from the new ones) and nothing is done.
        Set<String> unloaded = new LinkedHashSet<>();
        if (req.has("unloaded")) {
            for (Object o : req.list("unloaded")) {
                if (!(o instanceof String) || !want.containsKey(o)) throw Failure.protocol("\"unloaded\" must name classes of the request");
                unloaded.add((String) o);
            }
        }
        List<Define.Entry> defines = Define.parse(req);
        Deploys.Record deploy = Deploys.parse(req);
        Instrumentation inst = inst();

        synchronized (lock) {
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
                    if (Arrays.equals(current, bytes)) {
                        unchanged.add(e.getKey());
                        continue;
                    }
                    Map<String, Object> loader = Loaders.json(c.getClassLoader());
                    defs.add(new ClassDefinition(c, bytes));
                    classes.add(c);
                    Registry.Patch patch = new Registry.Patch(e.getKey(), loader, prev != null ? prev.original : current, bytes);
                    next.add(patch);
                    String from = prev != null ? prev.bytesSha() : ClassBytes.sha256(current);
                    changes.add(History.change(e.getKey(), loader, from, patch.bytesSha()));
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
                pendingChanges.add(History.change(n, null, null, ClassBytes.sha256(want.get(n))));
            }
            List<Map<String, Object>> definedJson = new ArrayList<>();
            for (Class<?> c : defined) definedJson.add(Define.json(c));
            history.add("define", definedJson);
            if (deploy != null) {
                deploy.defined.addAll(definedJson);
                deploys.add(deploy);
                out.put("deploy", deploy.id);
            }
            history.add("redefine", changes);
            history.add("pending", pendingChanges);
            out.put("elapsed_us", (System.nanoTime() - t0) / 1000);
            out.put("redefined", changes);
            out.put("pending", missing);
            out.put("unchanged", new ArrayList<>(unchanged));
            out.put("defined", Define.names(defined));
        }
    }

    void rollback(Req req, Map<String, Object> out) throws Failure {
        String deploy = req.optString("deploy", "\"last\" or a deploy id");
        if (deploy != null) {
            if (!req.absentOrEmpty("classes")) throw Failure.protocol("a deploy rollback takes no \"classes\"");
            rollbackDeploy(deploy, out);
            return;
        }
        Set<String> names = new LinkedHashSet<>(req.strings("classes", "class names"));
        boolean all = names.isEmpty();
        Instrumentation inst = inst();
        synchronized (lock) {
            Set<String> unknown = new LinkedHashSet<>(names);
            for (Map.Entry<ClassLoader, Registry.Patch> e : registry.allPatches()) unknown.remove(e.getValue().name);
            for (Registry.Pending p : registry.allPending()) unknown.remove(p.name);
            if (!unknown.isEmpty()) {
                List<String> u = new ArrayList<>(unknown);
                throw new Failure("not_patched", "jhot has not changed " + String.join(", ", u), u);
            }
            // Pending entries go first: after that no class load can turn one into a patch behind
            // our back, and one that a load already consumed is among the patches collected next.
            List<Registry.Pending> unpended = new ArrayList<>();
            for (Registry.Pending p : registry.allPending()) {
                if ((all || names.contains(p.name)) && registry.setPending(p.name, null) != null) unpended.add(p);
            }
            List<Map.Entry<ClassLoader, Registry.Patch>> patched = new ArrayList<>();
            Set<String> patchedNames = new LinkedHashSet<>();
            for (Map.Entry<ClassLoader, Registry.Patch> e : registry.allPatches()) {
                if (all || names.contains(e.getValue().name)) {
                    patched.add(e);
                    patchedNames.add(e.getValue().name);
                }
            }
            IdentityHashMap<Registry.Patch, Class<?>> running = new IdentityHashMap<>();
            if (!patched.isEmpty()) {
                for (Class<?> c : inst.getAllLoadedClasses()) {
                    if (!patchedNames.contains(c.getName())) continue;
                    Registry.Patch p = registry.get(c.getClassLoader(), c.getName());
                    if (p != null) running.put(p, c);
                }
            }
            List<ClassDefinition> defs = new ArrayList<>();
            List<Map<String, Object>> changes = new ArrayList<>();
            Set<String> batch = new LinkedHashSet<>();
            for (Map.Entry<ClassLoader, Registry.Patch> e : patched) {
                Registry.Patch p = e.getValue();
                Class<?> c = running.get(p);
                // A patch whose class never finished loading has nothing to restore; it is just dropped.
                if (c != null) {
                    defs.add(new ClassDefinition(c, p.original));
                    changes.add(History.change(p.name, p.loader, p.bytesSha(), p.originalSha()));
                    batch.add(p.name);
                }
            }
            // Registry entries go before the redefinition: the transformer must not hand the
            // patch back while the JVM installs the originals.
            for (Map.Entry<ClassLoader, Registry.Patch> e : patched) registry.set(e.getKey(), e.getValue().name, null);
            try {
                if (!defs.isEmpty()) inst.redefineClasses(defs.toArray(new ClassDefinition[0]));
            } catch (Throwable t) {
                for (Map.Entry<ClassLoader, Registry.Patch> e : patched) registry.set(e.getKey(), e.getValue().name, e.getValue());
                for (Registry.Pending p : unpended) registry.setPending(p.name, p);
                throw new Failure("rejected", Failure.describe(t), new ArrayList<>(batch));
            }
            for (Map.Entry<ClassLoader, Registry.Patch> e : patched) registry.restored(e.getKey(), e.getValue().name, e.getValue().original);
            List<Map<String, Object>> rolledBack = new ArrayList<>(changes);
            List<String> unpending = new ArrayList<>();
            for (Registry.Pending p : unpended) {
                unpending.add(p.name);
                changes.add(History.change(p.name, null, ClassBytes.sha256(p.bytes), null));
            }
            history.add("rollback", changes);
            out.put("rolled_back", rolledBack);
            out.put("unpending", unpending);
        }
    }

    /**
     * Undoes the newest live deploy: every class it redefined gets the bytes it ran before, in one
     * redefineClasses call, and its pending registrations go (a pending class that has loaded since
     * gets the bytes it loaded with). Refused, changing nothing, when a later redefine or rollback
     * changed one of those classes since: the state to return to would be a guess.
     */
    private void rollbackDeploy(String which, Map<String, Object> out) throws Failure {
        Instrumentation inst = inst();
        synchronized (lock) {
            Deploys.Record r = deploys.undoable(which);
            List<ClassDefinition> defs = new ArrayList<>();
            List<Map<String, Object>> changes = new ArrayList<>();
            Set<String> batch = new LinkedHashSet<>();
            // Registry changes: (loader, name, entry to set), applied before the redefinition and
            // reverted with the entries they replaced if the JVM refuses it.
            List<ClassLoader> keyLoaders = new ArrayList<>();
            List<String> keyNames = new ArrayList<>();
            List<Registry.Patch> setTo = new ArrayList<>();
            List<String> changed = new ArrayList<>();
            for (Deploys.Redefined d : r.redefined) {
                Class<?> c = d.cls.get();
                if (c == null) continue; // unloaded since: nothing runs it
                Registry.Patch now = registry.get(c.getClassLoader(), d.name);
                if (now != d.installed) {
                    changed.add(d.name);
                    continue;
                }
                byte[] back = d.before != null ? d.before.bytes : d.installed.original;
                defs.add(new ClassDefinition(c, back));
                keyLoaders.add(c.getClassLoader());
                keyNames.add(d.name);
                setTo.add(d.before);
                changes.add(History.change(d.name, d.loader, d.installed.bytesSha(), d.before != null ? d.before.bytesSha() : d.installed.originalSha()));
                batch.add(d.name);
            }
            List<Deploys.Pended> unpend = new ArrayList<>();
            List<Map.Entry<ClassLoader, Registry.Patch>> patches = null;
            for (Deploys.Pended p : r.pending) {
                Registry.Pending now = registry.getPending(p.name);
                if (now == p.registered) {
                    unpend.add(p);
                    continue;
                }
                // Loaded since: the registry made a patch from the pending entry, sharing its byte
                // array (Registry.transform), which is how that patch is told from any other.
                if (patches == null) patches = registry.allPatches();
                boolean found = false;
                boolean other = false;
                for (Map.Entry<ClassLoader, Registry.Patch> e : patches) {
                    if (e.getValue().bytes != p.registered.bytes) {
                        other |= e.getValue().name.equals(p.name);
                        continue;
                    }
                    found = true;
                    Class<?> c = loaded(inst, e.getKey(), p.name);
                    if (c == null) continue;
                    defs.add(new ClassDefinition(c, e.getValue().original));
                    keyLoaders.add(e.getKey());
                    keyNames.add(p.name);
                    setTo.add(null);
                    changes.add(History.change(p.name, e.getValue().loader, e.getValue().bytesSha(), e.getValue().originalSha()));
                    batch.add(p.name);
                }
                // Neither pending nor loaded: replaced by a later request (changed), or undone by a
                // plain rollback (nothing left to undo).
                if (!found && (now != null || other)) changed.add(p.name);
            }
            if (!changed.isEmpty()) {
                throw new Failure("input", "cannot roll back deploy " + r.id + ": " + String.join(", ", changed)
                        + " changed after it (a later redefine or rollback); nothing was changed", changed);
            }
            List<Registry.Patch> prev = new ArrayList<>();
            for (int k = 0; k < setTo.size(); k++) prev.add(registry.set(keyLoaders.get(k), keyNames.get(k), setTo.get(k)));
            for (Deploys.Pended p : unpend) registry.setPending(p.name, p.before);
            try {
                if (!defs.isEmpty()) inst.redefineClasses(defs.toArray(new ClassDefinition[0]));
            } catch (Throwable t) {
                for (int k = setTo.size() - 1; k >= 0; k--) registry.set(keyLoaders.get(k), keyNames.get(k), prev.get(k));
                for (Deploys.Pended p : unpend) registry.setPending(p.name, p.registered);
                throw new Failure("rejected", Failure.describe(t), new ArrayList<>(batch));
            }
            for (int k = 0; k < setTo.size(); k++) {
                if (setTo.get(k) == null) registry.restored(keyLoaders.get(k), keyNames.get(k), defs.get(k).getDefinitionClassFile());
            }
            List<Map<String, Object>> rolledBack = new ArrayList<>(changes);
            List<String> unpending = new ArrayList<>();
            for (Deploys.Pended p : unpend) {
                unpending.add(p.name);
                changes.add(History.change(p.name, null, ClassBytes.sha256(p.registered.bytes), p.before == null ? null : ClassBytes.sha256(p.before.bytes)));
            }
            history.add("rollback", changes);
            r.rolledBack = true;
            r.forget();
            out.put("rolled_back", rolledBack);
            out.put("unpending", unpending);
            out.put("deploy", r.id);
        }
    }

    private static Class<?> loaded(Instrumentation inst, ClassLoader l, String name) {
        for (Class<?> c : inst.getAllLoadedClasses()) if (c.getClassLoader() == l && c.getName().equals(name)) return c;
        return null;
    }

    void bytes(Req req, Map<String, Object> out, List<byte[]> blobs) throws Failure {
        Set<String> names = new LinkedHashSet<>(req.strings("classes", "class names"));
        String selector = req.optLoader();
        Instrumentation inst = inst();
        synchronized (lock) {
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

    void drain(Req req, Map<String, Object> out) throws Failure {
        int seconds = (int) req.longValue("seconds", 0, 3600);
        out.put("servers", Drain.run(inst, seconds));
    }

    void sendFds(Req req, Map<String, Object> out) throws Failure {
        int count = req.list("fds").size();
        if (count == 0 || count > 32) throw Failure.protocol("\"fds\" must hold 1 to 32 descriptors, not " + count);
        long[] numbers = req.longs("fds", 0, Integer.MAX_VALUE, "descriptor numbers");
        int[] fds = new int[numbers.length];
        for (int k = 0; k < fds.length; k++) fds[k] = (int) numbers[k];
        Path lib = inPrivateDir(req, "lib");
        Path socket = inPrivateDir(req, "socket");
        loadNative(lib);
        int sent;
        try {
            sent = Native.sendFds(socket.toString(), fds);
        } catch (IOException e) {
            throw new Failure("io", e.getMessage() != null ? e.getMessage() : Failure.describe(e), null);
        } catch (LinkageError | RuntimeException e) {
            // UnsatisfiedLinkError (a library without sendFds), or a Rust panic turned into a RuntimeException.
            throw new Failure("native", Failure.describe(e), null);
        }
        out.put("sent", sent);
    }

    /** The agent connects to, and loads, only files of its own private directory: nobody but its
     *  user (or root) can have put them there. */
    private Path inPrivateDir(Req req, String key) throws Failure {
        String v = req.string(key, "a path");
        Path dir = privateDir;
        if (dir == null) throw new Failure("refused", "the agent has no private directory", null);
        Path p;
        try {
            p = Paths.get(v);
        } catch (InvalidPathException e) {
            throw new Failure("refused", key + " is not a valid path: " + e.getMessage(), null);
        }
        if (!p.isAbsolute() || !p.normalize().equals(p) || !dir.equals(p.getParent())) {
            throw new Failure("refused", key + " " + v + " is not a file of the agent's private directory " + dir, null);
        }
        String bad;
        try {
            bad = PrivateDir.check(dir, PrivateDir.euid());
        } catch (IOException e) {
            bad = Failure.describe(e);
        }
        if (bad != null) throw new Failure("refused", bad, null);
        if (Files.isSymbolicLink(p)) throw new Failure("refused", key + " " + p + " is a symlink", null);
        return p;
    }

    private static void loadNative(Path lib) throws Failure {
        String path = lib.toString();
        synchronized (nativeLock) {
            if (path.equals(nativeLib)) return;
            if (nativeLib != null) {
                throw new Failure("native", "this JVM already loaded the native library " + nativeLib + "; it cannot load " + path + " beside it", null);
            }
            try {
                System.load(path);
            } catch (Throwable t) {
                throw new Failure("native", "cannot load " + path + ": " + Failure.describe(t), null);
            }
            nativeLib = path;
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

    /** The last scan, for the request right after it: jhot's pre-flight (`bytes`) and the
     *  `redefine` that follows name the same classes, and walking every loaded class is the bulk
     *  of a warm redefinition's own cost. Used once, and only within a second; a class loaded in
     *  between is then treated as if it had loaded just after the redefinition. Guarded by lock. */
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
        Map<String, List<Class<?>>> found = scanAll(names, selector);
        if (keep) {
            lastScan = found;
            lastScanNames = new java.util.HashSet<>(names);
            lastScanSelector = selector;
            lastScanAt = System.nanoTime();
        }
        return found;
    }

    private Map<String, List<Class<?>>> scanAll(Set<String> names, String selector) {
        Map<String, List<Class<?>>> found = new LinkedHashMap<>();
        if (names.isEmpty()) return found;
        for (Class<?> c : inst.getAllLoadedClasses()) {
            String n = c.getName();
            if (names.contains(n) && Loaders.matches(selector, c.getClassLoader())) {
                found.computeIfAbsent(n, k -> new ArrayList<>()).add(c);
            }
        }
        return found;
    }

    private void requireModifiable(Map<String, List<Class<?>>> found) throws Failure {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, List<Class<?>>> e : found.entrySet()) {
            for (Class<?> c : e.getValue()) {
                if (!inst.isModifiableClass(c) && !bad.contains(e.getKey())) bad.add(e.getKey());
            }
        }
        if (!bad.isEmpty()) throw new Failure("unmodifiable", "the JVM cannot modify " + String.join(", ", bad), bad);
    }

    private Instrumentation inst() throws Failure {
        if (inst == null) throw new Failure("internal", "the agent has no Instrumentation", null);
        return inst;
    }

    private static List<String> names(List<Class<?>> classes) {
        Set<String> s = new LinkedHashSet<>();
        for (Class<?> c : classes) s.add(c.getName());
        return new ArrayList<>(s);
    }

}
