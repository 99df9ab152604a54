package dev.jhot.helper;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Frame;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** A request's fields, checked: a wrong type fails with kind protocol naming the field. */
final class Args {
    final Map<String, Object> header;
    final List<byte[]> blobs;

    Args(Frame f) {
        this.header = f.header;
        this.blobs = f.blobs;
    }

    String string(String key) throws Failure {
        Object v = header.get(key);
        if (!(v instanceof String) || ((String) v).isEmpty()) throw Failure.protocol("\"" + key + "\" must be a non-empty string");
        return (String) v;
    }

    String optString(String key) throws Failure {
        return header.get(key) == null ? null : string(key);
    }

    int integer(String key, int min, int max) throws Failure {
        Object v = header.get(key);
        if (!(v instanceof Long) || (Long) v < min || (Long) v > max) throw Failure.protocol("\"" + key + "\" must be an integer from " + min + " to " + max);
        return (int) (long) (Long) v;
    }

    /** An array of {name-or-path, blob} objects, as (key, bytes) in order. */
    Map<String, byte[]> named(String key, String field) throws Failure {
        Object v = header.get(key);
        if (!(v instanceof List)) throw Failure.protocol("\"" + key + "\" must be an array");
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (Object o : (List<?>) v) {
            if (!(o instanceof Map)) throw Failure.protocol("\"" + key + "\" entries must be objects");
            Object n = ((Map<?, ?>) o).get(field);
            Object b = ((Map<?, ?>) o).get("blob");
            if (!(n instanceof String) || ((String) n).isEmpty()) throw Failure.protocol("\"" + key + "\" entry without \"" + field + "\"");
            if (!(b instanceof Long) || (Long) b < 0 || (Long) b >= blobs.size()) throw Failure.protocol(n + ": \"blob\" is not an index into the " + blobs.size() + " blobs");
            out.put((String) n, blobs.get((int) (long) (Long) b));
        }
        return out;
    }

    static List<Object> list() {
        return new ArrayList<>();
    }
}
