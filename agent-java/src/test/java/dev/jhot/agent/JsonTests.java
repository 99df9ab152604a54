package dev.jhot.agent;

import java.util.Arrays;
import java.util.Map;

import static dev.jhot.agent.TestKit.*;

/** Json: strict RFC 8259 both ways. */
public final class JsonTests {
    private JsonTests() {
    }

    static void testJsonRoundTrip() {
        String text = "{\"a\":1,\"b\":[true,false,null,\"x\"],\"c\":{\"d\":-2.5,\"e\":[]},\"f\":{}}";
        Object v = Json.parse(text);
        eq(text, Json.write(v));
        Map<?, ?> m = (Map<?, ?>) v;
        eq(1L, m.get("a"));
        eq(-2.5, ((Map<?, ?>) m.get("c")).get("d"));
        eq(v, Json.parse(Json.write(v)));
        eq(Arrays.asList(1L, 2L), Json.parse(" [ 1 ,\n2\t] "));
    }

    static void testJsonStrings() {
        eq("a\"b\\c/d\b\f\n\r\t", Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""));
        eq("\u00e9", Json.parse("\"\\u00E9\""));
        eq("\u00e9", Json.parse("\"\u00e9\""));
        String smile = new String(Character.toChars(0x1F600));
        eq(smile, Json.parse("\"\\ud83d\\ude00\""));
        eq(smile, Json.parse("\"" + smile + "\""));
        // The writer emits ASCII only, and what it writes reads back the same.
        String nasty = "q\"\\\u0001\u007f\u00e9" + smile + "\ud800";
        String w = Json.write(nasty);
        for (char c : w.toCharArray()) check(c >= 0x20 && c < 0x7f, "non-ASCII output " + w);
        eq(nasty, Json.parse(w));
    }

    static void testJsonNumbers() {
        eq(0L, Json.parse("0"));
        eq(0L, Json.parse("-0"));
        eq(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        eq(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        eq(9.223372036854776E18, Json.parse("9223372036854775808"));
        eq(1500.0, Json.parse("1.5e3"));
        eq(0.25, Json.parse("25E-2"));
        eq("null", Json.write(Double.POSITIVE_INFINITY));
        eq("[1,2]", Json.write(Arrays.asList(1, 2L)));
    }

    static void testJsonErrors() {
        String[] bad = {"", " ", "{", "}", "[1,]", "[,1]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "-", "1.",
            ".5", "1e", "+1", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "tru", "nul", "True", "1 2",
            "{\"a\":1}x", "[1 2]", "\"tab\there\"", "{\"a\":1,\"a\":2}", "\"\\", "{\"a\":"};
        for (String s : bad) {
            try {
                Object v = Json.parse(s);
                throw new AssertionError("parsed " + s + " as " + v);
            } catch (IllegalArgumentException expected) {
                // right
            }
        }
    }

    static void testJsonUnicodeEscapesTakeAsciiHexOnly() {
        eq("\u00e9\u00e9\u00e9", Json.parse("\"\\u00e9\\u00E9\\u00e9\""));
        eq("\uabcd\uABCD\u0f9F", Json.parse("\"\\uabcd\\uABCD\\u0f9F\""));
        // Other Unicode digits and letters are refused, as serde refuses them: fullwidth 0 and A,
        // Arabic-Indic 9, Devanagari 1.
        for (String digit : new String[] {"\uff10", "\uff21", "\u0669", "\u0967"}) {
            String text = "\"\\u00" + digit + "9\"";
            try {
                Object v = Json.parse(text);
                throw new AssertionError("parsed " + text + " as " + v);
            } catch (IllegalArgumentException expected) {
                check(expected.getMessage().contains("\\u"), expected.getMessage());
            }
        }
    }

    static void testJsonDeepNestingIsAnErrorNotAStackOverflow() {
        StringBuilder b = new StringBuilder();
        for (int k = 0; k < 100_000; k++) b.append('[');
        try {
            Json.parse(b.toString());
            throw new AssertionError("accepted deep nesting");
        } catch (IllegalArgumentException expected) {
            check(expected.getMessage().contains("nested"), expected.getMessage());
        }
        Json.parse("[[[[[[[[[[1]]]]]]]]]]");
    }
}
