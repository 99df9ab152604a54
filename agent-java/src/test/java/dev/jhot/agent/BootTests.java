package dev.jhot.agent;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.InputStream;

import static dev.jhot.agent.TestKit.*;

/** Boot.Loader: the agent's classes defined from the jar's one classes entry. */
public final class BootTests {
    private BootTests() {
    }

    /** An entry as crates/engine/build.rs writes it, of classes on this test's class path. */
    private static byte[] entry(String... names) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        DataOutputStream d = new DataOutputStream(out);
        for (String n : names) {
            byte[] b;
            try (InputStream in = BootTests.class.getClassLoader().getResourceAsStream(n.replace('.', '/') + ".class")) {
                b = in.readAllBytes();
            }
            byte[] name = n.getBytes(java.nio.charset.StandardCharsets.UTF_8);
            d.writeShort(name.length);
            d.write(name);
            d.writeInt(b.length);
            d.write(b);
        }
        return out.toByteArray();
    }

    static void testClassesComeFromTheEntryInALoaderOfTheirOwn() throws Exception {
        Boot.Loader l = new Boot.Loader(entry("dev.jhot.agent.Json", "dev.jhot.agent.Failure"), BootTests.class.getProtectionDomain(), "9.9.9");
        Class<?> json = Class.forName("dev.jhot.agent.Json", true, l);
        check(json != Json.class, "defined again, not the class path's");
        eq(l, json.getClassLoader());
        eq("jhot-agent", l.getName());
        // What Json refers to comes from the same entry, the JDK's from the platform loader.
        Class<?> failure = Class.forName("dev.jhot.agent.Failure", false, l);
        eq(l, failure.getClassLoader());
        eq(String.class, Class.forName("java.lang.String", false, l));
        eq("9.9.9", json.getPackage().getImplementationVersion());
        eq(json, Class.forName("dev.jhot.agent.Json", true, l));
        // Not in the entry: not the agent's, so the application's class path is not looked at.
        try {
            Class.forName("dev.jhot.agent.Frame", false, l);
            throw new AssertionError("a class missing from the entry came from elsewhere");
        } catch (ClassNotFoundException expected) {
            // the platform loader does not see the class path
        }
    }

    static void testATruncatedEntryIsRefused() throws Exception {
        byte[] e = entry("dev.jhot.agent.Json");
        byte[] cut = java.util.Arrays.copyOf(e, e.length - 1);
        try {
            new Boot.Loader(cut, null, null);
            throw new AssertionError("accepted a truncated entry");
        } catch (IllegalArgumentException expected) {
            check(expected.getMessage().contains("dev.jhot.agent.Json"), expected.getMessage());
        }
    }
}
