package dev.jhot.agent.ops;

import dev.jhot.agent.Wire;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** threads, jvm and getstatic's rendering, in this JVM (no Instrumentation needed for these). */
public final class VmTests {
    private VmTests() {
    }

    /** Its toString, equals and hashCode must never run. */
    static final class Trap {
        final int n = 7;
        final String s = "x";
        final Trap self = this;
        final Object[] more = {1L, null, 'c'};
        final java.util.concurrent.TimeUnit unit = java.util.concurrent.TimeUnit.SECONDS;

        @Override
        public String toString() {
            throw new AssertionError("toString ran");
        }

        @Override
        public int hashCode() {
            throw new AssertionError("hashCode ran");
        }

        @Override
        public boolean equals(Object o) {
            throw new AssertionError("equals ran");
        }
    }

    static void testThreadsListsThisThread() throws Exception {
        Ops ops = new Ops(null);
        long me = Thread.currentThread().getId();
        Map<String, Object> r = Wire.ask(ops, header("op", "threads", "id", 1L, "ids", List.of(me), "stacks", true, "depth", 3L), null).header;
        eq(true, r.get("ok"));
        List<?> threads = (List<?>) r.get("threads");
        eq(1, threads.size());
        Map<?, ?> t = (Map<?, ?>) threads.get(0);
        eq(me, t.get("id"));
        eq("RUNNABLE", t.get("state"));
        check(((List<?>) t.get("stack")).size() <= 3, "depth bounds the stack");
        r = Wire.ask(ops, header("op", "threads", "id", 2L, "top", 2L, "interval_ms", 50L), null).header;
        eq(2, ((List<?>) r.get("threads")).size());
        eq(50L, r.get("interval_ms"));
        Wire.expectError(Wire.ask(ops, header("op", "threads", "id", 3L, "top", 0L), null), "protocol", true);
    }

    static void testJvmReportsEverySection() throws Exception {
        Map<String, Object> r = Wire.ask(new Ops(null), header("op", "jvm", "id", 1L), null).header;
        for (String k : new String[] {"runtime", "memory", "gc", "threads", "classes", "compilation", "os"}) check(r.containsKey(k), k);
        eq(ProcessHandle.current().pid(), ((Map<?, ?>) r.get("runtime")).get("pid"));
    }

    static void testRenderRunsNoApplicationCode() throws Exception {
        Map<String, Object> v = Statics.render(new Trap(), Object.class, 2, new IdentityHashMap<>(), new int[] {100});
        String json = Wire.json(v);
        check(json.contains("\"cycle\":true"), "self reference marked as a cycle: " + json);
        check(json.contains("\"enum\":\"SECONDS\""), "enum by name: " + json);
        check(json.contains("\"type\":\"int\",\"value\":7"), "primitive field: " + json);
        String big = "y".repeat(Statics.MAX_STRING + 5);
        Map<String, Object> s = Statics.render(big, String.class, 1, new IdentityHashMap<>(), new int[] {100});
        eq(true, s.get("truncated"));
        eq((long) big.length(), ((Number) s.get("length")).longValue());
        Map<String, Object> a = Statics.render(new int[500], int[].class, 0, new IdentityHashMap<>(), new int[] {1000});
        eq(Statics.MAX_ELEMENTS, ((List<?>) a.get("elements")).size());
        eq(true, a.get("truncated"));
    }

    static void testGetstaticNeedsInstrumentation() throws Exception {
        Wire.expectError(Wire.ask(new Ops(null), header("op", "getstatic", "id", 1L, "class", "a.B", "field", "x"), null), "internal", false);
        Wire.expectError(Wire.ask(new Ops(null), header("op", "getstatic", "id", 1L, "class", "a.B"), null), "protocol", true);
    }
}
