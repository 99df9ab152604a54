//! A pair of class versions as HotSpot compares them: [`Ctx`], which the rules fill in and the
//! explanations read, and the members with the flags HotSpot's class-file parser keeps.

use super::{Reason, ReasonKind, Vm};
use crate::flags::{
    ACC_ABSTRACT, ACC_INTERFACE, ACC_STATIC, ACC_STRICT, ACC_SYNTHETIC, RECOGNIZED_CLASS, RECOGNIZED_FIELD,
    RECOGNIZED_METHOD,
};
use crate::reader::{AttrKind, Class, Member, R};

/// Nested classes that came or went, for explanations that need the sibling classes.
#[derive(Debug, Default, Clone)]
pub(crate) struct Nesting {
    /// Binary names.
    pub added: Vec<String>,
    pub removed: Vec<String>,
    /// Whether the outer class's NestMembers is checked (and so the change is structural).
    pub structural: bool,
}

impl Nesting {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// A field as HotSpot compares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FieldV<'a> {
    pub name: &'a [u8],
    pub desc: &'a [u8],
    /// Masked with JVM_RECOGNIZED_FIELD_MODIFIERS.
    pub flags: u16,
}

/// A method as HotSpot compares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct MethodV<'a> {
    pub name: &'a [u8],
    pub desc: &'a [u8],
    /// Masked with JVM_RECOGNIZED_METHOD_MODIFIERS and normalised as the class-file parser does.
    pub flags: u16,
    pub raw: Member,
}

/// Everything known about a pair of class versions; the explanations read it.
pub(crate) struct Ctx<'c, 'a> {
    pub vm: &'c Vm,
    pub a: &'c Class<'a>,
    pub b: &'c Class<'a>,
    /// Binary name.
    pub name: String,
    pub fa: Vec<FieldV<'a>>,
    pub fb: Vec<FieldV<'a>>,
    pub ma: Vec<MethodV<'a>>,
    pub mb: Vec<MethodV<'a>>,
    /// Indices into `mb` of methods only in b; into `ma` of methods only in a.
    pub added: Vec<usize>,
    pub deleted: Vec<usize>,
    /// (index in ma, index in mb) of methods in both; and their body deltas.
    pub matched: Vec<(usize, usize, u16)>,
    pub reasons: Vec<Reason>,
    pub explanations: Vec<String>,
    pub nesting: Nesting,
    /// Class-level attribute differences (delta bits).
    pub class_delta: u16,
    /// Field-level differences: (index in fa, index in fb, delta bits).
    pub field_deltas: Vec<(usize, usize, u16)>,
}

impl<'c, 'a> Ctx<'c, 'a> {
    /// The pair with its members read (nothing compared yet).
    pub fn new(vm: &'c Vm, a: &'c Class<'a>, b: &'c Class<'a>, name: String) -> R<Self> {
        Ok(Ctx {
            vm,
            a,
            b,
            name,
            fa: fields(a)?,
            fb: fields(b)?,
            ma: methods(a, vm)?,
            mb: methods(b, vm)?,
            added: vec![],
            deleted: vec![],
            matched: vec![],
            reasons: vec![],
            explanations: vec![],
            nesting: Nesting::default(),
            class_delta: 0,
            field_deltas: vec![],
        })
    }

    pub fn reason(&mut self, kind: ReasonKind, message: String) {
        self.reasons.push(Reason { kind, jvm_error: kind.jvm_message(self.vm).to_string(), message });
    }
    pub fn explain(&mut self, s: String) {
        if !self.explanations.contains(&s) {
            self.explanations.push(s);
        }
    }
}

/// HotSpot's class flags: JVM_RECOGNIZED_CLASS_MODIFIERS, plus ACC_ABSTRACT on interfaces of
/// class files before Java 6 (classFileParser.cpp, `parse_stream`), plus ACC_SYNTHETIC when a
/// `Synthetic` attribute is present (`apply_parsed_class_attributes`; fields and methods alike).
pub(crate) fn class_flags(c: &Class) -> u16 {
    let mut f = c.access & RECOGNIZED_CLASS;
    if f & ACC_INTERFACE != 0 && c.major < 50 {
        f |= ACC_ABSTRACT;
    }
    if c.class_attr(AttrKind::Synthetic).is_some() {
        f |= ACC_SYNTHETIC;
    }
    f
}

/// ACC_SYNTHETIC from a member's `Synthetic` attribute.
fn synthetic_attr(c: &Class, m: &Member) -> u16 {
    if c.member_attr(m, AttrKind::Synthetic).is_some() { ACC_SYNTHETIC } else { 0 }
}

/// HotSpot's method flags: JVM_RECOGNIZED_METHOD_MODIFIERS; `<clinit>` keeps only ACC_STATIC
/// (and ACC_STRICT before class-file 61 on JDK 17+, always on older JDKs; nothing but STATIC
/// before class-file 51) — classFileParser.cpp, `parse_method`.
pub(crate) fn method_flags(name: &[u8], raw: u16, major: u16, vm: &Vm) -> u16 {
    let f = raw & RECOGNIZED_METHOD;
    if name == b"<clinit>" {
        if major < 51 {
            return ACC_STATIC;
        }
        if f & ACC_STATIC != 0 {
            let strict = if vm.feature >= 17 && major > 60 { 0 } else { ACC_STRICT };
            return f & (ACC_STATIC | strict);
        }
    }
    f
}

fn fields<'a>(c: &Class<'a>) -> R<Vec<FieldV<'a>>> {
    c.fields
        .iter()
        .map(|m| {
            Ok(FieldV {
                name: c.member_name(m)?,
                desc: c.member_desc(m)?,
                flags: (m.access & RECOGNIZED_FIELD) | synthetic_attr(c, m),
            })
        })
        .collect()
}

fn methods<'a>(c: &Class<'a>, vm: &Vm) -> R<Vec<MethodV<'a>>> {
    c.methods
        .iter()
        .map(|m| {
            let name = c.member_name(m)?;
            let flags = method_flags(name, m.access, c.major, vm) | synthetic_attr(c, m);
            Ok(MethodV { name, desc: c.member_desc(m)?, flags, raw: *m })
        })
        .collect()
}
