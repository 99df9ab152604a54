package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.lang.ref.WeakReference;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The deploys `jhot deploy` made (a `redefine` with `deploy`), newest last, and what each needs
 * to be undone. Guarded by Ops's lock.
 *
 * Memory is bounded twice: only the newest {@link #KEEP_UNDO} records keep their undo state
 * (the patches before and after, i.e. class bytes); older ones are cut down to metadata and can
 * no longer be rolled back (only the newest live deploy can be, anyway). At most
 * {@link #MAX_RECORDS} records are kept at all.
 */
final class Deploys {
    static final int KEEP_UNDO = 16;
    static final int MAX_RECORDS = 256;

    /** One class a deploy redefined. */
    static final class Redefined {
        final String name;
        final Map<String, Object> loader;
        /** Weak: a record must not keep a loader (and its classes) alive. */
        final WeakReference<Class<?>> cls;
        /** The registry entry before the deploy (null: the class was unpatched, and its bytes
         *  then are {@code installed.original}), and the one the deploy put in. */
        Registry.Patch before;
        Registry.Patch installed;

        Redefined(Class<?> c, Map<String, Object> loader, Registry.Patch before, Registry.Patch installed) {
            this.name = c.getName();
            this.loader = loader;
            this.cls = new WeakReference<>(c);
            this.before = before;
            this.installed = installed;
        }
    }

    /** One pending registration a deploy made, and the one it replaced (usually none). */
    static final class Pended {
        final String name;
        Registry.Pending before;
        Registry.Pending registered;

        Pended(String name, Registry.Pending before, Registry.Pending registered) {
            this.name = name;
            this.before = before;
            this.registered = registered;
        }
    }

    static final class Record {
        final String id;
        final String build;
        final String sha256;
        final long timeMs = System.currentTimeMillis();
        final List<Redefined> redefined = new ArrayList<>();
        final List<Pended> pending = new ArrayList<>();
        final List<Map<String, Object>> defined = new ArrayList<>();
        boolean rolledBack;
        boolean undoable = true;

        Record(String id, String build, String sha256) {
            this.id = id;
            this.build = build;
            this.sha256 = sha256;
        }

        /** Drops the class bytes; what is left is metadata. */
        void forget() {
            undoable = false;
            for (Redefined r : redefined) {
                r.before = null;
                r.installed = null;
            }
            for (Pended p : pending) {
                p.before = null;
                p.registered = null;
            }
        }

        Map<String, Object> json() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("build", build);
            m.put("sha256", sha256);
            m.put("time_ms", timeMs);
            List<Object> rs = new ArrayList<>();
            for (Redefined r : redefined) {
                Map<String, Object> c = new LinkedHashMap<>();
                c.put("name", r.name);
                c.put("loader", r.loader);
                rs.add(c);
            }
            m.put("redefined", rs);
            List<Object> ps = new ArrayList<>();
            for (Pended p : pending) ps.add(p.name);
            m.put("pending", ps);
            m.put("defined", defined);
            m.put("rolled_back", rolledBack);
            m.put("undoable", undoable && !rolledBack);
            return m;
        }
    }

    private final ArrayDeque<Record> records = new ArrayDeque<>();

    /** Parses `deploy` (absent = null). */
    static Record parse(Req req) throws Failure {
        Req d = req.optObject("deploy");
        if (d == null) return null;
        return new Record(d.member("id"), d.member("build"), d.member("sha256"));
    }

    void add(Record r) {
        records.addLast(r);
        int k = records.size();
        for (Iterator<Record> it = records.iterator(); it.hasNext(); k--) {
            Record old = it.next();
            if (k > KEEP_UNDO && old.undoable) old.forget();
        }
        while (records.size() > MAX_RECORDS) records.removeFirst();
    }

    /** The record a rollback names ("last" = the newest not rolled back), and checks that it is
     *  the one that may be undone. */
    Record undoable(String which) throws Failure {
        Record newestLive = null;
        for (Iterator<Record> it = records.descendingIterator(); it.hasNext(); ) {
            Record r = it.next();
            if (!r.rolledBack) {
                newestLive = r;
                break;
            }
        }
        Record r = null;
        if (which.equals("last")) {
            r = newestLive;
            if (r == null) throw new Failure("input", "no deploy to roll back", null);
        } else {
            for (Iterator<Record> it = records.descendingIterator(); it.hasNext() && r == null; ) {
                Record x = it.next();
                if (x.id.equals(which)) r = x;
            }
            if (r == null) throw new Failure("input", "no deploy " + which + " in this JVM's history", null);
            if (r.rolledBack) throw new Failure("input", "deploy " + which + " is already rolled back", null);
            if (r != newestLive) {
                throw new Failure("input", "deploy " + which + " is not the newest live deploy: roll back " + newestLive.id
                        + " (and any deploy after it) first; undoing an older deploy under a newer one would be ambiguous", null);
            }
        }
        if (!r.undoable) throw new Failure("input", "deploy " + r.id + " is too old: its previous class bytes are no longer kept", null);
        return r;
    }

    /** The deploy that put this registry entry in (redefined, or pending and applied at load),
     *  newest first; null if none did or its record no longer keeps the entry. */
    String idOf(Registry.Patch patch) {
        for (Iterator<Record> it = records.descendingIterator(); it.hasNext(); ) {
            Record r = it.next();
            for (Redefined x : r.redefined) if (x.installed == patch) return r.id;
            // A pending patch applied at load shares the pending entry's byte array (Registry).
            for (Pended x : r.pending) if (x.registered != null && x.registered.bytes == patch.bytes) return r.id;
        }
        return null;
    }

    List<Object> json() {
        List<Object> out = new ArrayList<>();
        for (Record r : records) out.add(r.json());
        return out;
    }
}
