//! Rendering class-file names, descriptors and flags the way a Java developer writes them.

use crate::flags::{
    ACC_ABSTRACT, ACC_ANNOTATION, ACC_BRIDGE, ACC_ENUM, ACC_FINAL, ACC_INTERFACE, ACC_NATIVE, ACC_PRIVATE,
    ACC_PROTECTED, ACC_PUBLIC, ACC_STATIC, ACC_STRICT, ACC_SUPER, ACC_SYNCHRONIZED, ACC_SYNTHETIC, ACC_TRANSIENT,
    ACC_VARARGS, ACC_VOLATILE,
};
use crate::reader::text;

/// `java/lang/String` → `String`, `java/util/List` → `java.util.List`, `a/B$C` → `a.B$C`.
pub(crate) fn class(internal: &[u8]) -> String {
    let s = text(internal);
    if let Some(rest) = s.strip_prefix("java/lang/")
        && !rest.contains('/')
    {
        return rest.to_string();
    }
    s.replace('/', ".")
}

/// A binary class name with dots (`a.B$C`), as `Class.forName` takes it.
pub(crate) fn binary(internal: &[u8]) -> String {
    text(internal).replace('/', ".")
}

/// The simple name of a binary name: `a.b.Outer$Inner` → `Outer$Inner`.
pub(crate) fn simple(binary: &str) -> &str {
    binary.rsplit('.').next().unwrap_or(binary)
}

/// One field type from a descriptor, advancing `pos`; `None` if malformed.
fn one_type(d: &[u8], pos: &mut usize) -> Option<String> {
    let mut dims = 0;
    while d.get(*pos) == Some(&b'[') {
        dims += 1;
        *pos += 1;
    }
    let base = match *d.get(*pos)? {
        b'B' => "byte".to_string(),
        b'C' => "char".to_string(),
        b'D' => "double".to_string(),
        b'F' => "float".to_string(),
        b'I' => "int".to_string(),
        b'J' => "long".to_string(),
        b'S' => "short".to_string(),
        b'Z' => "boolean".to_string(),
        b'V' => "void".to_string(),
        b'L' => {
            let end = d[*pos..].iter().position(|&b| b == b';')? + *pos;
            let name = class(&d[*pos + 1..end]);
            *pos = end;
            name
        }
        _ => return None,
    };
    *pos += 1;
    Some(base + &"[]".repeat(dims))
}

/// A field descriptor as a Java type (`[Ljava/lang/String;` → `String[]`).
pub(crate) fn field_type(desc: &[u8]) -> String {
    let mut pos = 0;
    match one_type(desc, &mut pos) {
        Some(t) if pos == desc.len() => t,
        _ => text(desc),
    }
}

/// A method descriptor's parameter types and return type.
pub(crate) fn method_types(desc: &[u8]) -> Option<(Vec<String>, String)> {
    if desc.first() != Some(&b'(') {
        return None;
    }
    let mut pos = 1;
    let mut params = Vec::new();
    while *desc.get(pos)? != b')' {
        params.push(one_type(desc, &mut pos)?);
    }
    pos += 1;
    let ret = one_type(desc, &mut pos)?;
    (pos == desc.len()).then_some((params, ret))
}

/// `greet(String, int)`; constructors as `Greeter(int)`, `<clinit>` as `static initializer`.
pub(crate) fn method_short(class_binary: &str, name: &[u8], desc: &[u8]) -> String {
    let params = method_types(desc).map(|(p, _)| p.join(", ")).unwrap_or_else(|| text(desc));
    match name {
        b"<clinit>" => "static initializer".to_string(),
        b"<init>" => format!("{}({params})", ctor_name(class_binary)),
        _ => format!("{}({params})", text(name)),
    }
}

fn ctor_name(class_binary: &str) -> &str {
    let s = simple(class_binary);
    s.rsplit('$').next().filter(|t| !t.is_empty()).unwrap_or(s)
}

/// `private static int helper(int)` (with `[synthetic]`/`[bridge]` markers javac's source has no
/// words for).
pub(crate) fn method_full(class_binary: &str, flags: u16, name: &[u8], desc: &[u8]) -> String {
    let mods = method_modifiers(flags);
    let (params, ret) = method_types(desc).unwrap_or_else(|| (vec![text(desc)], String::new()));
    let sig = match name {
        b"<clinit>" => "static {}".to_string(),
        b"<init>" => format!("{}({})", ctor_name(class_binary), params.join(", ")),
        _ => format!("{ret} {}({})", text(name), params.join(", ")),
    };
    let mut s = String::new();
    if !mods.is_empty() && name != b"<clinit>" {
        s.push_str(&mods);
        s.push(' ');
    }
    s.push_str(&sig);
    let markers = method_markers(flags);
    if !markers.is_empty() {
        s.push_str(&format!(" [{markers}]"));
    }
    s
}

/// `private int count`.
pub(crate) fn field_full(flags: u16, name: &[u8], desc: &[u8]) -> String {
    let mods = field_modifiers(flags);
    let mut s = String::new();
    if !mods.is_empty() {
        s.push_str(&mods);
        s.push(' ');
    }
    s.push_str(&format!("{} {}", field_type(desc), text(name)));
    let mut markers = Vec::new();
    if flags & ACC_SYNTHETIC != 0 {
        markers.push("synthetic");
    }
    if flags & ACC_ENUM != 0 {
        markers.push("enum constant");
    }
    if !markers.is_empty() {
        s.push_str(&format!(" [{}]", markers.join(", ")));
    }
    s
}

fn words(flags: u16, table: &[(u16, &str)]) -> String {
    table.iter().filter(|(bit, _)| flags & bit != 0).map(|(_, w)| *w).collect::<Vec<_>>().join(" ")
}

/// Java modifiers of a method, in the JLS's order.
pub(crate) fn method_modifiers(flags: u16) -> String {
    words(
        flags,
        &[
            (ACC_PUBLIC, "public"),
            (ACC_PROTECTED, "protected"),
            (ACC_PRIVATE, "private"),
            (ACC_ABSTRACT, "abstract"),
            (ACC_STATIC, "static"),
            (ACC_FINAL, "final"),
            (ACC_SYNCHRONIZED, "synchronized"),
            (ACC_NATIVE, "native"),
            (ACC_STRICT, "strictfp"),
        ],
    )
}

fn method_markers(flags: u16) -> String {
    words(flags, &[(ACC_SYNTHETIC, "synthetic"), (ACC_BRIDGE, "bridge"), (ACC_VARARGS, "varargs")]).replace(' ', ", ")
}

/// Method modifiers including the markers, for "modifiers changed from X to Y".
pub(crate) fn method_modifiers_all(flags: u16) -> String {
    let mut s = method_modifiers(flags);
    let m = words(flags, &[(ACC_SYNTHETIC, "synthetic"), (ACC_BRIDGE, "bridge"), (ACC_VARARGS, "varargs")]);
    if !m.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&m);
    }
    if s.is_empty() { "package-private".into() } else { s }
}

pub(crate) fn field_modifiers(flags: u16) -> String {
    words(
        flags,
        &[
            (ACC_PUBLIC, "public"),
            (ACC_PROTECTED, "protected"),
            (ACC_PRIVATE, "private"),
            (ACC_STATIC, "static"),
            (ACC_FINAL, "final"),
            (ACC_TRANSIENT, "transient"),
            (ACC_VOLATILE, "volatile"),
        ],
    )
}

pub(crate) fn field_modifiers_all(flags: u16) -> String {
    let mut s = field_modifiers(flags);
    let m = words(flags, &[(ACC_SYNTHETIC, "synthetic"), (ACC_ENUM, "enum")]);
    if !m.is_empty() {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&m);
    }
    if s.is_empty() { "package-private".into() } else { s }
}

/// Class modifiers as HotSpot compares them, with the class-file-only bits named.
pub(crate) fn class_modifiers(flags: u16) -> String {
    let kind = if flags & ACC_ANNOTATION != 0 {
        "@interface"
    } else if flags & ACC_INTERFACE != 0 {
        "interface"
    } else if flags & ACC_ENUM != 0 {
        "enum"
    } else {
        "class"
    };
    let mut parts: Vec<&str> = Vec::new();
    if flags & ACC_PUBLIC != 0 {
        parts.push("public");
    }
    if flags & ACC_ABSTRACT != 0 && flags & ACC_INTERFACE == 0 {
        parts.push("abstract");
    }
    if flags & ACC_FINAL != 0 {
        parts.push("final");
    }
    parts.push(kind);
    let mut extra = Vec::new();
    if flags & ACC_SUPER != 0 {
        extra.push("ACC_SUPER");
    }
    if flags & ACC_SYNTHETIC != 0 {
        extra.push("synthetic");
    }
    if flags & ACC_ABSTRACT != 0 && flags & ACC_INTERFACE != 0 {
        extra.push("abstract");
    }
    let mut s = parts.join(" ");
    if !extra.is_empty() {
        s.push_str(&format!(" [{}]", extra.join(", ")));
    }
    s
}

/// `lambda$greet$0` → (`greet`, 0). javac's names for lambda bodies.
pub(crate) fn lambda_name(name: &[u8]) -> Option<(&[u8], u32)> {
    let rest = name.strip_prefix(b"lambda$")?;
    let dollar = rest.iter().rposition(|&b| b == b'$')?;
    let num = std::str::from_utf8(&rest[dollar + 1..]).ok()?.parse().ok()?;
    Some((&rest[..dollar], num))
}

/// `greet` / `new` / `static` (javac's enclosing-method part of a lambda name) for messages.
pub(crate) fn enclosing(enc: &[u8]) -> String {
    match enc {
        b"new" => "a constructor".to_string(),
        b"static" => "the static initializer".to_string(),
        _ => format!("{}()", text(enc)),
    }
}

/// `access$000`, `access$lambda$0` … (javac's and ecj's synthetic accessors).
pub(crate) fn is_accessor(name: &[u8]) -> bool {
    name.strip_prefix(b"access$").is_some_and(|r| !r.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_java_syntax() {
        assert_eq!(field_type(b"[[Ljava/lang/String;"), "String[][]");
        assert_eq!(field_type(b"Ljava/util/Map$Entry;"), "java.util.Map$Entry");
        assert_eq!(method_full("p.Foo", 0x000a, b"helper", b"(I)I"), "private static int helper(int)");
        assert_eq!(method_full("p.Foo$Bar", 0x0001, b"<init>", b"(J)V"), "public Bar(long)");
        assert_eq!(method_short("p.Foo", b"greet", b"(Ljava/lang/String;I)V"), "greet(String, int)");
        assert_eq!(
            method_full("p.Foo", 0x1041, b"apply", b"(Ljava/lang/Object;)Ljava/lang/Object;"),
            "public Object apply(Object) [synthetic, bridge]"
        );
        assert_eq!(lambda_name(b"lambda$greet$12"), Some((&b"greet"[..], 12)));
        assert_eq!(lambda_name(b"lambda$new$0"), Some((&b"new"[..], 0)));
        assert_eq!(lambda_name(b"greet"), None);
        assert_eq!(class_modifiers(0x0031), "public final class [ACC_SUPER]");
        assert_eq!(field_full(0x0002, b"count", b"I"), "private int count");
        // Malformed descriptors are shown as they are, never panic.
        assert_eq!(field_type(b"[L"), "[L");
        assert_eq!(method_types(b"(I"), None);
    }
}
