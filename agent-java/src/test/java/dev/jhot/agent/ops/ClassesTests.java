package dev.jhot.agent.ops;

import dev.jhot.agent.Failure;
import dev.jhot.agent.Req;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** classes: when the agent answers "unchanged" instead of listing every class again. */
public final class ClassesTests {
    private ClassesTests() {
    }

    static Req since(String token) {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("op", "classes");
        h.put("unless_defined_since", token);
        return new Req(h, new ArrayList<>());
    }

    /** The list itself needs Instrumentation, which an Ops made here has not: asking for it fails. */
    static boolean listed(Ops ops, String token) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        List<byte[]> blobs = new ArrayList<>();
        try {
            Classes.classes(ops, since(token), out, blobs);
        } catch (Failure f) {
            check(f.getMessage().contains("Instrumentation"), f.getMessage());
            return true;
        }
        eq(true, out.get("unchanged"));
        eq(token, out.get("defined"));
        eq(0, blobs.size());
        return false;
    }

    static void testUnchangedUntilAClassDefinitionBegins() throws Exception {
        Ops ops = new Ops(null);
        String token = Classes.definedToken(ops, ops.registry.count());
        check(!listed(ops, token), "no definition since the token: unchanged");
        check(!listed(ops, token), "and again");
        // A redefinition is not a definition: the class keeps its name.
        ops.registry.transform(ClassesTests.class.getClassLoader(), "a/Old", ClassesTests.class, null, new byte[0]);
        check(!listed(ops, token), "a redefinition adds no name");
        ops.registry.transform(ClassesTests.class.getClassLoader(), "a/New", null, null, new byte[0]);
        check(listed(ops, token), "a class defined since: the list again");
        check(listed(ops, "not-a-token"), "a token of nothing: the list");
    }

    static void testAnotherAgentsTokenIsNotThisOnes() throws Exception {
        Ops one = new Ops(null);
        Ops two = new Ops(null);
        check(!Classes.definedToken(one, 0).equals(Classes.definedToken(two, 0)), "two agents, one token");
        check(listed(two, Classes.definedToken(one, two.registry.count())), "another agent's token: the list");
    }
}
