package dev.jhot.agent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A request as the operations read it: the frame's JSON header, with typed accessors, and its
 * blobs. An accessor that finds a field of the wrong type fails with kind {@code protocol} and a
 * message naming the field, always in the same words (docs/protocol.md lists what each op takes).
 * Absent and {@code null} are the same. Public: the operations, in their own package, read every
 * request through it.
 */
public final class Req {
    /** A JSON object (a Map), except for an entry of objects() that turns out not to be one. */
    private final Object value;
    private final List<byte[]> blobs;
    /** The field this came from: the array of an entry, or the field of a nested object. */
    private final String parent;
    /** Set when the request opted into events: cancellable, and it may send events. */
    private final Stream stream;

    public Req(Map<String, Object> header, List<byte[]> blobs) {
        this(header, blobs, null, null);
    }

    Req(Map<String, Object> header, List<byte[]> blobs, Stream stream) {
        this(header, blobs, null, stream);
    }

    private Req(Object value, List<byte[]> blobs, String parent, Stream stream) {
        this.value = value;
        this.blobs = blobs;
        this.parent = parent;
        this.stream = stream;
    }

    /** A check point (docs/protocol.md, "cancel"): fails with kind cancelled once the request was
     *  cancelled. A request that did not opt into events is never cancelled. */
    public void check() throws Failure {
        if (stream != null) stream.check();
    }

    /** Waits ms; a check point, ended early by a cancel. */
    public void pause(long ms) throws Failure {
        if (stream != null) {
            stream.pause(ms);
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Failure("internal", "interrupted", null);
        }
    }

    /** Whether events reach the client (the request opted in, over a connection). */
    public boolean streams() {
        return stream != null;
    }

    /** Sends an event of this request now (only when streams()); a check point too. */
    public void event(String type, Map<String, Object> fields, List<byte[]> blobs) throws Failure {
        if (stream != null) stream.event(type, fields, blobs);
    }

    private Map<?, ?> map() throws Failure {
        if (!(value instanceof Map)) throw Failure.protocol("\"" + parent + "\" entries must be objects");
        return (Map<?, ?>) value;
    }

    /** The raw value, for a field whose check is not about its type (hello's {@code protocol}). */
    public Object get(String key) throws Failure {
        return map().get(key);
    }

    public boolean has(String key) throws Failure {
        return get(key) != null;
    }

    /** Whether the field is absent or an empty array. */
    public boolean absentOrEmpty(String key) throws Failure {
        Object v = get(key);
        return v == null || v instanceof List && ((List<?>) v).isEmpty();
    }

    /** A non-empty string, else {@code "key" must be <must>}. */
    public String string(String key, String must) throws Failure {
        String s = optString(key, must);
        if (s == null) throw mustBe(key, must);
        return s;
    }

    /** As string(), but null when absent. */
    public String optString(String key, String must) throws Failure {
        Object v = get(key);
        if (v == null) return null;
        if (!(v instanceof String) || ((String) v).isEmpty()) throw mustBe(key, must);
        return (String) v;
    }

    /** False when absent, else a boolean: {@code "key" must be a boolean}. */
    public boolean bool(String key) throws Failure {
        Object v = get(key);
        if (v != null && !(v instanceof Boolean)) throw mustBe(key, "a boolean");
        return Boolean.TRUE.equals(v);
    }

    /** An integer from min to max: {@code "key" must be an integer from <min> to <max>}. */
    public long longValue(String key, long min, long max) throws Failure {
        Object v = get(key);
        if (!(v instanceof Long) || (Long) v < min || (Long) v > max) throw mustBe(key, "an integer from " + min + " to " + max);
        return (Long) v;
    }

    /** An array: {@code "key" must be an array}. */
    public List<?> list(String key) throws Failure {
        Object v = get(key);
        if (!(v instanceof List)) throw mustBe(key, "an array");
        return (List<?>) v;
    }

    /** An array of non-empty strings: {@code "key" must hold <what>} (e.g. "class names"). */
    public List<String> strings(String key, String what) throws Failure {
        List<String> out = new ArrayList<>();
        for (Object o : list(key)) {
            if (!(o instanceof String) || ((String) o).isEmpty()) throw mustHold(key, what);
            out.add((String) o);
        }
        return out;
    }

    /** An array of integers from min to max: {@code "key" must hold <what>}. */
    public long[] longs(String key, long min, long max, String what) throws Failure {
        List<?> list = list(key);
        long[] out = new long[list.size()];
        for (int k = 0; k < out.length; k++) {
            Object o = list.get(k);
            if (!(o instanceof Long) || (Long) o < min || (Long) o > max) throw mustHold(key, what);
            out[k] = (Long) o;
        }
        return out;
    }

    /**
     * An array of objects, each read as a Req with this request's blobs (see name, blob, selector).
     * An entry that is not an object fails ({@code "key" entries must be objects}) when it is
     * first read, so a loop over the entries meets the problems in the order they come.
     */
    public List<Req> objects(String key) throws Failure {
        List<Req> out = new ArrayList<>();
        for (Object o : list(key)) out.add(new Req(o, blobs, key, stream));
        return out;
    }

    /** Null when absent, else an object ({@code "key" must be an object}), read with member(). */
    public Req optObject(String key) throws Failure {
        Object v = get(key);
        if (v == null) return null;
        if (!(v instanceof Map)) throw mustBe(key, "an object");
        return new Req(v, blobs, key, stream);
    }

    /** A string field of an object from optObject: {@code "object" needs a string "key"}. */
    public String member(String key) throws Failure {
        Object v = get(key);
        if (!(v instanceof String) || ((String) v).isEmpty()) throw Failure.protocol("\"" + parent + "\" needs a string \"" + key + "\"");
        return (String) v;
    }

    /** The {@code loader} selector; null selects every loader. Else {@code "loader" must be a string or null}. */
    public String optLoader() throws Failure {
        Object l = get("loader");
        if (l != null && !(l instanceof String)) throw mustBe("loader", "a string or null");
        return (String) l;
    }

    /** A {@code loader} selector that must be there: as optLoader, then {@code "loader" must be a loader id}. */
    public String loader() throws Failure {
        String l = optLoader();
        if (l == null) throw mustBe("loader", "a loader id");
        return l;
    }

    /** An entry's {@code name}, non-empty: {@code <what> entry without "name"} (what: "class"). */
    public String name(String what) throws Failure {
        Object n = get("name");
        if (!(n instanceof String) || ((String) n).isEmpty()) throw Failure.protocol(what + " entry without \"name\"");
        return (String) n;
    }

    /** The blob an entry's {@code blob} index names: {@code <label>: "blob" is not an index into the <n> blobs}. */
    public byte[] blob(String label) throws Failure {
        Object b = get("blob");
        if (!(b instanceof Long) || (Long) b < 0 || (Long) b >= blobs.size()) {
            throw Failure.protocol(label + ": \"blob\" is not an index into the " + blobs.size() + " blobs");
        }
        return blobs.get((int) (long) (Long) b);
    }

    /** An entry's {@code loader}, which it must have: {@code <label>: "loader" must be a loader id}. */
    public String selector(String label) throws Failure {
        Object l = get("loader");
        if (!(l instanceof String)) throw Failure.protocol(label + ": \"loader\" must be a loader id");
        return (String) l;
    }

    private static Failure mustBe(String key, String what) {
        return Failure.protocol("\"" + key + "\" must be " + what);
    }

    private static Failure mustHold(String key, String what) {
        return Failure.protocol("\"" + key + "\" must hold " + what);
    }
}
