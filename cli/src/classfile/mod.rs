//! Reading class files: the class name jhot must use (from the bytes, never the file name), a full
//! format check before anything is sent to a JVM, and the class's *shape* — the parts HotSpot
//! refuses to change in a redefinition (superclass, interfaces, fields, methods and modifiers).
//!
//! Parsing is cafebabe's: it resolves the constant pool while parsing, so comparisons are by
//! resolved names, never by constant-pool indices.

use std::fmt;

use cafebabe::{ClassAccessFlags, FieldAccessFlags, MethodAccessFlags, ParseOptions};
use serde::Serialize;

/// A class file that parsed completely (including every method's bytecode).
#[derive(Debug, Clone)]
pub struct ClassInfo {
    /// Binary name with dots, as `Class.forName` takes it (`hello.Greeter`, `a.B$C`).
    pub name: String,
    pub major_version: u16,
    pub shape: Shape,
}

/// The members and hierarchy HotSpot compares when it redefines a class
/// (`VM_RedefineClasses::compare_and_normalize_class_versions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub access_flags: u16,
    pub super_class: Option<String>,
    pub interfaces: Vec<String>,
    /// In declaration order: HotSpot compares fields pairwise, so order matters.
    pub fields: Vec<Member>,
    /// Sorted by (name, descriptor): method order does not matter to HotSpot.
    pub methods: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Member {
    pub name: String,
    pub descriptor: String,
    pub access_flags: u16,
}

#[derive(Debug, thiserror::Error)]
#[error("not a valid class file: {reason}")]
pub struct ClassFileError {
    pub reason: String,
}

/// Parses and checks `bytes` as a class file.
pub fn read(bytes: &[u8]) -> Result<ClassInfo, ClassFileError> {
    if bytes.len() < 10 {
        return Err(ClassFileError { reason: format!("only {} bytes (truncated?)", bytes.len()) });
    }
    if bytes[..4] != [0xCA, 0xFE, 0xBA, 0xBE] {
        return Err(ClassFileError { reason: "it does not start with the class-file magic 0xCAFEBABE".into() });
    }
    let mut opts = ParseOptions::default();
    opts.parse_bytecode(true);
    let class = cafebabe::parse_class_with_options(bytes, &opts)
        .map_err(|e| ClassFileError { reason: format!("{e} (truncated or corrupt?)") })?;
    if class.access_flags.contains(ClassAccessFlags::MODULE) {
        return Err(ClassFileError { reason: "it is a module-info class, which cannot be redefined".into() });
    }
    let name = class.this_class.replace('/', ".");
    // Synthetic members emitted by some compilers are still members: HotSpot counts them.
    let mut methods: Vec<Member> = class
        .methods
        .iter()
        .map(|m| Member {
            name: m.name.to_string(),
            descriptor: m.descriptor.to_string(),
            access_flags: method_flags(m.access_flags),
        })
        .collect();
    methods.sort();
    let fields = class
        .fields
        .iter()
        .map(|f| Member {
            name: f.name.to_string(),
            descriptor: f.descriptor.to_string(),
            access_flags: field_flags(f.access_flags),
        })
        .collect();
    let shape = Shape {
        access_flags: class_flags(class.access_flags),
        super_class: class.super_class.as_ref().map(|s| s.replace('/', ".")),
        interfaces: class.interfaces.iter().map(|i| i.replace('/', ".")).collect(),
        fields,
        methods,
    };
    Ok(ClassInfo { name, major_version: class.major_version, shape })
}

// HotSpot ignores the flags javac sets for its own bookkeeping (ACC_SUPER on classes, ACC_SYNCHRONIZED
// is part of method modifiers and does count); these masks keep what `compare_and_normalize` checks.
fn class_flags(f: ClassAccessFlags) -> u16 {
    f.bits() & !ClassAccessFlags::SUPER.bits()
}

fn field_flags(f: FieldAccessFlags) -> u16 {
    f.bits()
}

fn method_flags(f: MethodAccessFlags) -> u16 {
    f.bits()
}

/// One way in which a new class version differs structurally from the one a JVM runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference(pub String);

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Lists what makes `new` structurally different from `old` in the order HotSpot checks it. Empty
/// means the change touches method bodies only. (This is the coarse check the first slice needs to
/// name the class a JVM rejected; the version-aware verdict with its explanations is `jhot diff`'s.)
pub fn differences(old: &Shape, new: &Shape) -> Vec<Difference> {
    let mut out = Vec::new();
    if old.super_class != new.super_class {
        out.push(Difference(format!(
            "superclass changed from {} to {}",
            old.super_class.as_deref().unwrap_or("none"),
            new.super_class.as_deref().unwrap_or("none")
        )));
    }
    if old.interfaces != new.interfaces {
        out.push(Difference(format!(
            "interfaces changed from [{}] to [{}]",
            old.interfaces.join(", "),
            new.interfaces.join(", ")
        )));
    }
    if old.access_flags != new.access_flags {
        out.push(Difference(format!(
            "class modifiers changed from 0x{:04x} to 0x{:04x}",
            old.access_flags, new.access_flags
        )));
    }
    if old.fields != new.fields {
        for f in new.fields.iter().filter(|f| !old.fields.iter().any(|o| o.name == f.name)) {
            out.push(Difference(format!("field added: {} {}", f.descriptor, f.name)));
        }
        for f in old.fields.iter().filter(|o| !new.fields.iter().any(|f| f.name == o.name)) {
            out.push(Difference(format!("field removed: {} {}", f.descriptor, f.name)));
        }
        for (o, n) in old.fields.iter().zip(&new.fields).filter(|(o, n)| o.name == n.name && o != n) {
            out.push(Difference(format!("field {} changed type or modifiers", o.name)));
            let _ = n;
        }
        if out.is_empty() {
            out.push(Difference("fields were reordered (HotSpot compares fields in order)".into()));
        }
    }
    let key = |m: &Member| (m.name.clone(), m.descriptor.clone());
    for m in &new.methods {
        match old.methods.iter().find(|o| key(o) == key(m)) {
            None => out.push(Difference(format!("method added: {}{}", m.name, m.descriptor))),
            Some(o) if o.access_flags != m.access_flags => out.push(Difference(format!(
                "method modifiers changed: {}{} (0x{:04x} to 0x{:04x})",
                m.name, m.descriptor, o.access_flags, m.access_flags
            ))),
            Some(_) => {}
        }
    }
    for o in &old.methods {
        if !new.methods.iter().any(|m| key(m) == key(o)) {
            out.push(Difference(format!("method removed: {}{}", o.name, o.descriptor)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid class `p/A extends java/lang/Object` with one field `int x` and no methods,
    /// assembled by hand so the test needs no compiler.
    fn tiny_class(field: Option<&str>) -> Vec<u8> {
        let mut cp: Vec<Vec<u8>> = Vec::new();
        let utf8 = |s: &str| {
            let mut v = vec![1u8];
            v.extend((s.len() as u16).to_be_bytes());
            v.extend(s.as_bytes());
            v
        };
        cp.push(utf8("p/A")); // 1
        cp.push(vec![7, 0, 1]); // 2 Class p/A
        cp.push(utf8("java/lang/Object")); // 3
        cp.push(vec![7, 0, 3]); // 4 Class Object
        cp.push(utf8(field.unwrap_or("unused"))); // 5
        cp.push(utf8("I")); // 6
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 55];
        b.extend(((cp.len() + 1) as u16).to_be_bytes());
        for e in &cp {
            b.extend(e);
        }
        b.extend(0x0021u16.to_be_bytes()); // public super
        b.extend(2u16.to_be_bytes());
        b.extend(4u16.to_be_bytes());
        b.extend(0u16.to_be_bytes()); // interfaces
        if field.is_some() {
            b.extend(1u16.to_be_bytes());
            b.extend([0, 0, 0, 5, 0, 6, 0, 0]);
        } else {
            b.extend(0u16.to_be_bytes());
        }
        b.extend(0u16.to_be_bytes()); // methods
        b.extend(0u16.to_be_bytes()); // attributes
        b
    }

    #[test]
    fn reads_name_from_bytes() {
        let info = read(&tiny_class(Some("x"))).expect("valid class");
        assert_eq!(info.name, "p.A");
        assert_eq!(info.shape.super_class.as_deref(), Some("java.lang.Object"));
        assert_eq!(info.shape.fields.len(), 1);
    }

    #[test]
    fn rejects_garbage_and_every_truncation() {
        assert!(read(b"hello world, not a class").is_err());
        let good = tiny_class(Some("x"));
        for len in 0..good.len() {
            assert!(read(&good[..len]).is_err(), "truncated at {len} must fail");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert!(read(&extra).is_err(), "trailing bytes must fail");
    }

    #[test]
    fn added_field_is_a_difference() {
        let a = read(&tiny_class(None)).expect("valid").shape;
        let b = read(&tiny_class(Some("x"))).expect("valid").shape;
        let d = differences(&a, &b);
        assert_eq!(d, vec![Difference("field added: I x".into())]);
        assert!(differences(&b, &b).is_empty());
    }
}
