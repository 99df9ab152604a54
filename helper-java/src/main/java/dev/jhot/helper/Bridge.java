package dev.jhot.helper;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Frame;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The callbacks of one request: class files and package listings as the target's loader sees
 * them, asked of jhot over the channel. Answers are kept for the request (a compiler asks for
 * java.lang.Object many times); jhot keeps them for the helper's lifetime. Synchronized: a
 * decompiler may ask from a thread of its own.
 */
final class Bridge {
    private final Channel channel;
    private final long id;
    private final Map<String, byte[]> classes = new HashMap<>();
    private final Map<String, List<String>> packages = new HashMap<>();
    private static final byte[] ABSENT = new byte[0];

    Bridge(Channel channel, long id) {
        this.channel = channel;
        this.id = id;
    }

    /** The class file of binary name `name` (a.b.C$D) as the loader serves it, or null. */
    synchronized byte[] classFile(String name) {
        byte[] b = classes.get(name);
        if (b == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("callback", "class_file");
            m.put("name", name);
            Frame answer = ask(m);
            b = Boolean.TRUE.equals(answer.header.get("found")) && !answer.blobs.isEmpty() ? answer.blobs.get(0) : ABSENT;
            classes.put(name, b);
        }
        return b == ABSENT ? null : b;
    }

    /** The binary names of the classes in package `pkg` (a.b) the loader can see. */
    synchronized List<String> listPackage(String pkg) {
        List<String> names = packages.get(pkg);
        if (names == null) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("id", id);
            m.put("callback", "list_package");
            m.put("package", pkg);
            Frame answer = ask(m);
            names = new ArrayList<>();
            Object v = answer.header.get("names");
            if (v instanceof List) for (Object o : (List<?>) v) if (o instanceof String) names.add((String) o);
            names = Collections.unmodifiableList(names);
            packages.put(pkg, names);
        }
        return names;
    }

    private Frame ask(Map<String, Object> m) {
        channel.write(m, null);
        try {
            Frame f = channel.read();
            if (f.id != id) throw new Channel.Lost("callback answer for request " + f.id + ", expected " + id);
            return f;
        } catch (IOException | Failure e) {
            throw new Channel.Lost("no answer to a callback: " + e.getMessage());
        }
    }
}
