package dev.jhot.agent;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** Req: what each accessor returns, and the protocol failure it gives, word for word. */
public final class ReqTests {
    private ReqTests() {
    }

    interface Read {
        Object from(Req r) throws Failure;
    }

    @SuppressWarnings("unchecked")
    static Req req(String json) {
        return new Req((Map<String, Object>) Json.parse(json), Arrays.asList(new byte[] {7}, new byte[] {8}));
    }

    static void fails(String json, Read read, String message) {
        try {
            Object v = read.from(req(json));
            throw new AssertionError(json + ": read " + v + ", want the failure " + message);
        } catch (Failure f) {
            eq("protocol", f.kind);
            eq(message, f.getMessage());
        }
    }

    static void testReqReadsWellFormedFields() throws Exception {
        Req r = req("{\"s\":\"x\",\"b\":true,\"n\":5,\"l\":[\"a\",\"b\"],\"fds\":[3,4],\"loader\":\"app\",\"nul\":null,\"e\":[],"
                + "\"o\":{\"id\":\"d1\"},\"cs\":[{\"name\":\"a.B\",\"blob\":1,\"loader\":\"\"}]}");
        eq("x", r.string("s", "a path"));
        eq("x", r.optString("s", "a path"));
        eq(null, r.optString("absent", "a path"));
        eq(true, r.bool("b"));
        eq(false, r.bool("absent"));
        eq(false, r.bool("nul"));
        eq(5L, r.longValue("n", 0, 5));
        eq(Arrays.asList("a", "b"), r.strings("l", "class names"));
        check(Arrays.equals(new long[] {3, 4}, r.longs("fds", 0, 4, "descriptor numbers")), "longs");
        eq("app", r.optLoader());
        eq("app", r.loader());
        eq(null, req("{}").optLoader());
        check(r.has("s") && !r.has("nul") && !r.has("absent"), "has");
        check(r.absentOrEmpty("absent") && r.absentOrEmpty("nul") && r.absentOrEmpty("e") && !r.absentOrEmpty("l"), "absentOrEmpty");
        eq(null, r.optObject("absent"));
        eq("d1", r.optObject("o").member("id"));
        List<Req> entries = r.objects("cs");
        eq(1, entries.size());
        Req c = entries.get(0);
        eq("a.B", c.name("class"));
        check(Arrays.equals(new byte[] {8}, c.blob("class a.B")), "blob 1");
        eq("", c.selector("define a.B"));
    }

    static void testReqFailuresNameTheField() {
        fails("{}", r -> r.string("lib", "a path"), "\"lib\" must be a path");
        fails("{\"lib\":\"\"}", r -> r.string("lib", "a path"), "\"lib\" must be a path");
        fails("{\"deploy\":5}", r -> r.optString("deploy", "\"last\" or a deploy id"), "\"deploy\" must be \"last\" or a deploy id");
        fails("{\"pending\":\"yes\"}", r -> r.bool("pending"), "\"pending\" must be a boolean");
        fails("{\"seconds\":3601}", r -> r.longValue("seconds", 0, 3600), "\"seconds\" must be an integer from 0 to 3600");
        fails("{\"seconds\":1.5}", r -> r.longValue("seconds", 0, 3600), "\"seconds\" must be an integer from 0 to 3600");
        fails("{\"classes\":{}}", r -> r.list("classes"), "\"classes\" must be an array");
        fails("{\"classes\":[\"a\",\"\"]}", r -> r.strings("classes", "class names"), "\"classes\" must hold class names");
        fails("{\"fds\":[1,-1]}", r -> r.longs("fds", 0, 9, "descriptor numbers"), "\"fds\" must hold descriptor numbers");
        fails("{\"deploy\":[]}", r -> r.optObject("deploy"), "\"deploy\" must be an object");
        fails("{\"deploy\":{\"id\":\"\"}}", r -> r.optObject("deploy").member("id"), "\"deploy\" needs a string \"id\"");
        fails("{\"loader\":5}", Req::optLoader, "\"loader\" must be a string or null");
        fails("{\"loader\":5}", Req::loader, "\"loader\" must be a string or null");
        fails("{}", Req::loader, "\"loader\" must be a loader id");
        fails("{\"classes\":[1]}", r -> r.objects("classes").get(0).name("class"), "\"classes\" entries must be objects");
        fails("{\"classes\":[{\"name\":5}]}", r -> r.objects("classes").get(0).name("class"), "class entry without \"name\"");
        fails("{\"classes\":[{\"blob\":2}]}", r -> r.objects("classes").get(0).blob("class a.B"), "class a.B: \"blob\" is not an index into the 2 blobs");
        fails("{\"define\":[{}]}", r -> r.objects("define").get(0).selector("define a.B"), "define a.B: \"loader\" must be a loader id");
    }
}
