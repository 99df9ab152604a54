package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.instrument.ClassDefinition;
import java.lang.instrument.Instrumentation;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** {@code rollback}: of classes jhot changed (all of them, or those named), or of a deploy. */
final class Rollbacks {
    private Rollbacks() {
    }

    static void rollback(Ops ops, Req req, Map<String, Object> out) throws Failure {
        String deploy = req.optString("deploy", "\"last\" or a deploy id");
        if (deploy != null) {
            if (!req.absentOrEmpty("classes")) throw Failure.protocol("a deploy rollback takes no \"classes\"");
            rollbackDeploy(ops, req, deploy, out);
            return;
        }
        Set<String> names = new LinkedHashSet<>(req.strings("classes", "class names"));
        boolean all = names.isEmpty();
        Instrumentation inst = ops.inst();
        Registry registry = ops.registry;
        synchronized (ops.lock) {
            req.check(); // a request that waited for the lock stops as soon as it has it
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
            ops.history.add("rollback", changes);
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
    private static void rollbackDeploy(Ops ops, Req req, String which, Map<String, Object> out) throws Failure {
        Instrumentation inst = ops.inst();
        Registry registry = ops.registry;
        synchronized (ops.lock) {
            req.check(); // a request that waited for the lock stops as soon as it has it
            Deploys.Record r = ops.deploys().undoable(which);
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
            ops.history.add("rollback", changes);
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
}
