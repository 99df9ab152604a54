//! A class's declared methods and source file as a developer reads them (`jhot sm`, `jhot sc -d`):
//! Java-like signatures, descriptors, flags and the line range of each method. Read with the
//! zero-copy reader, so that listing the methods of many running classes stays cheap.

use serde::Serialize;

use crate::ClassFileError;
use crate::reader::{AttrKind, Class, Code, Cur, text};
use crate::syntax;

/// What `jhot sm` shows of a class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Members {
    /// Binary name (`a.B$C`).
    pub name: String,
    /// The `SourceFile` attribute (`Greeter.java`), if the class has one.
    pub source_file: Option<String>,
    /// In declaration order, constructors and the static initializer included.
    pub methods: Vec<Method>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Method {
    pub name: String,
    pub descriptor: String,
    /// The method's access flags as the class file has them.
    pub access_flags: u16,
    /// `public static void main(String[])`, with `[synthetic]`/`[bridge]`/`[varargs]` markers.
    pub signature: String,
    /// The smallest and largest source line of its `LineNumberTable`, if it has one.
    pub lines: Option<(u32, u32)>,
}

/// The methods and source file of a class file.
pub fn members(bytes: &[u8]) -> Result<Members, ClassFileError> {
    let c = Class::parse(bytes)?;
    let name = syntax::binary(c.name()?);
    let source_file = match c.class_attr(AttrKind::SourceFile) {
        Some(a) => Some(text(c.utf8(Cur::new(a.data).u2()?)?)),
        None => None,
    };
    let mut methods = Vec::with_capacity(c.methods.len());
    for m in &c.methods {
        let mname = c.member_name(m)?;
        let desc = c.member_desc(m)?;
        let lines = match c.member_attr(m, AttrKind::Code) {
            Some(a) => line_range(&c, a.data)?,
            None => None,
        };
        methods.push(Method {
            name: text(mname),
            descriptor: text(desc),
            access_flags: m.access,
            signature: syntax::method_full(&name, m.access, mname, desc),
            lines,
        });
    }
    Ok(Members { name, source_file, methods })
}

fn line_range(c: &Class<'_>, code: &[u8]) -> Result<Option<(u32, u32)>, ClassFileError> {
    let code = Code::parse(c, code)?;
    let mut range: Option<(u32, u32)> = None;
    for a in code.attr(AttrKind::LineNumberTable) {
        let mut r = Cur::new(a.data);
        let n = r.u2()?;
        for _ in 0..n {
            r.u2()?;
            let line = u32::from(r.u2()?);
            range = Some(range.map_or((line, line), |(lo, hi)| (lo.min(line), hi.max(line))));
        }
    }
    Ok(range)
}

/// Class modifiers as Java source shows them (`public final class`, `interface`, `enum`), from
/// `Class.getModifiers()`-style bits.
pub fn class_modifiers(flags: u16) -> String {
    use crate::flags::{
        ACC_ABSTRACT, ACC_ANNOTATION, ACC_ENUM, ACC_FINAL, ACC_INTERFACE, ACC_PRIVATE, ACC_PROTECTED, ACC_PUBLIC,
        ACC_STATIC,
    };
    let interface = flags & ACC_INTERFACE != 0;
    let mut words: Vec<&str> = [
        (ACC_PUBLIC, "public"),
        (ACC_PROTECTED, "protected"),
        (ACC_PRIVATE, "private"),
        (ACC_STATIC, "static"),
        (ACC_FINAL, "final"),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, w)| *w)
    .collect();
    // An interface is abstract by definition; Java source does not say it.
    if flags & ACC_ABSTRACT != 0 && !interface {
        words.insert(words.iter().position(|w| *w == "static" || *w == "final").unwrap_or(words.len()), "abstract");
    }
    words.push(if flags & ACC_ANNOTATION != 0 {
        "@interface"
    } else if interface {
        "interface"
    } else if flags & ACC_ENUM != 0 {
        "enum"
    } else {
        "class"
    });
    words.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny class file: `public class a.B { void f() { } }` with a LineNumberTable.
    fn class_file() -> Vec<u8> {
        let mut cp: Vec<Vec<u8>> = Vec::new();
        let utf8 = |s: &str| {
            let mut v = vec![1u8];
            v.extend((s.len() as u16).to_be_bytes());
            v.extend(s.as_bytes());
            v
        };
        cp.push(utf8("a/B")); // 1
        cp.push(vec![7, 0, 1]); // 2 Class a/B
        cp.push(utf8("java/lang/Object")); // 3
        cp.push(vec![7, 0, 3]); // 4
        cp.push(utf8("f")); // 5
        cp.push(utf8("(I[Ljava/lang/String;)V")); // 6
        cp.push(utf8("Code")); // 7
        cp.push(utf8("LineNumberTable")); // 8
        cp.push(utf8("SourceFile")); // 9
        cp.push(utf8("B.java")); // 10
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 55];
        b.extend(((cp.len() + 1) as u16).to_be_bytes());
        for e in &cp {
            b.extend(e);
        }
        b.extend([0x00, 0x21, 0, 2, 0, 4, 0, 0, 0, 0]); // public super, this, super, no interfaces, no fields
        b.extend([0, 1, 0x00, 0x09, 0, 5, 0, 6, 0, 1]); // one method: public static f, one attribute
        let lnt: Vec<u8> = [0u8, 8, 0, 0, 0, 10, 0, 2, 0, 0, 0, 12, 0, 0, 0, 10].to_vec();
        let mut code = vec![0, 0, 0, 2, 0, 0, 0, 1, 0xB1, 0, 0, 0, 1];
        code.extend(&lnt);
        b.extend([0, 7]);
        b.extend((code.len() as u32).to_be_bytes());
        b.extend(&code);
        b.extend([0, 1, 0, 9, 0, 0, 0, 2, 0, 10]); // SourceFile
        b
    }

    #[test]
    fn methods_signatures_lines_and_source_file() {
        let m = members(&class_file()).expect("parse");
        assert_eq!(m.name, "a.B");
        assert_eq!(m.source_file.as_deref(), Some("B.java"));
        assert_eq!(m.methods.len(), 1);
        let f = &m.methods[0];
        assert_eq!(f.signature, "public static void f(int, String[])");
        assert_eq!(f.descriptor, "(I[Ljava/lang/String;)V");
        assert_eq!(f.lines, Some((10, 12)));
        assert!(members(&class_file()[..40]).is_err());
    }

    #[test]
    fn class_modifiers_read_like_java() {
        assert_eq!(class_modifiers(0x0021), "public class");
        assert_eq!(class_modifiers(0x0601), "public interface");
        assert_eq!(class_modifiers(0x4011), "public final enum");
        assert_eq!(class_modifiers(0x040A), "private abstract static class");
    }
}
