//! Will HotSpot's `redefineClasses` accept a new version of a class? The verdict, every reason,
//! and explanations of the usual traps in a developer's words.
//!
//! The rules are HotSpot's `VM_RedefineClasses::compare_and_normalize_class_versions` for the
//! JDK in [`Vm`]; see the module documentation of [`crate`] for the facts and their
//! sources. Everything here works on the bytes alone: no JVM is needed.
//!
//! Cost: identical bytes are `Unchanged` without parsing. Otherwise both versions are indexed (no
//! constant is decoded until asked for), the structure is compared, and a method's bytecode is
//! decoded only when its Code attribute differs byte for byte or the constant pools differ.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ClassFileError;
use crate::body::{self, delta};
use crate::consts::ConstCmp;
use crate::explain;
use crate::flags::{
    ACC_ABSTRACT, ACC_FINAL, ACC_INTERFACE, ACC_NATIVE, ACC_PRIVATE, ACC_STATIC, ACC_STRICT, ACC_SYNTHETIC,
    RECOGNIZED_CLASS, RECOGNIZED_FIELD, RECOGNIZED_METHOD,
};
use crate::reader::{AttrKind, Class, Cur, Member, R, bad, nested_attrs, text};
use crate::syntax;

/// The JVM a verdict is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Vm {
    /// Java feature release: 11, 17, 21, 25, …
    pub feature: u32,
    /// `-XX:+AllowRedefinitionToAddDeleteMethods` (JDK 13–25).
    pub allow_add_delete_methods: bool,
}

impl Vm {
    /// HotSpot lets a redefinition add or delete a method that is private and static or final:
    /// always before JDK 13, and with `-XX:+AllowRedefinitionToAddDeleteMethods` from 13 on.
    /// The flag is obsolete (ignored) from JDK 26.
    pub fn may_add_delete_private(&self) -> bool {
        self.feature <= 12 || (self.allow_add_delete_methods && self.feature <= 25)
    }

    /// NestHost/NestMembers are checked from JDK 11 (JEP 181).
    pub(crate) fn checks_nest(&self) -> bool {
        self.feature >= 11
    }

    /// The Record attribute is checked from JDK 16 (JEP 395).
    pub(crate) fn checks_record(&self) -> bool {
        self.feature >= 16
    }

    /// PermittedSubclasses is checked from JDK 17 (JEP 409).
    pub(crate) fn checks_permitted(&self) -> bool {
        self.feature >= 17
    }

    /// The newest class-file major version this JVM loads (44 + feature).
    pub fn max_major(&self) -> u32 {
        44 + self.feature
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Semantically identical (constant-pool layout aside).
    Unchanged,
    /// Differs, and HotSpot would redefine it.
    BodyOnly,
    /// HotSpot would refuse it; `reasons` says why.
    Structural,
    /// Only in the new set.
    New,
    /// Only in the old set.
    Removed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonKind {
    HierarchyChanged,
    NestChanged,
    RecordChanged,
    PermittedSubclassesChanged,
    ClassModifiersChanged,
    SchemaChanged,
    MethodAdded,
    MethodDeleted,
    MethodModifiersChanged,
}

impl ReasonKind {
    /// The text after `class redefinition failed: ` in the `UnsupportedOperationException` the
    /// JVM throws (libinstrument's `JavaExceptions.c`, `createThrowableFromJVMTIErrorCode`).
    pub fn jvm_message(self, vm: &Vm) -> &'static str {
        match self {
            ReasonKind::HierarchyChanged => "attempted to change superclass or interfaces",
            ReasonKind::NestChanged | ReasonKind::RecordChanged | ReasonKind::PermittedSubclassesChanged => {
                // JDK 11's text predates records and sealed classes (verified on 11, 17, 21, 25;
                // the switch at 15, when PermittedSubclasses came, is inferred).
                if vm.feature < 15 {
                    "attempted to change the class NestHost or NestMembers attribute"
                } else {
                    "attempted to change the class NestHost, NestMembers, Record, or PermittedSubclasses attribute"
                }
            }
            ReasonKind::ClassModifiersChanged => "attempted to change the class modifiers",
            ReasonKind::SchemaChanged => "attempted to change the schema (add/remove fields)",
            ReasonKind::MethodAdded => "attempted to add a method",
            ReasonKind::MethodDeleted => "attempted to delete a method",
            ReasonKind::MethodModifiersChanged => "attempted to change method modifiers",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Reason {
    pub kind: ReasonKind,
    /// `kind.jvm_message(vm)`: what the JVM would say.
    pub jvm_error: String,
    /// What changed, in Java terms (`method added: private static int helper(int)`).
    pub message: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClassDiff {
    /// Binary name (`a.b.C$D`).
    pub name: String,
    pub verdict: Verdict,
    /// Every difference HotSpot would refuse, in HotSpot's order of checks.
    pub reasons: Vec<Reason>,
    /// Why it happened and what to do, for the traps jhot recognises; notes on body-only changes.
    pub explanations: Vec<String>,
    /// Methods whose bodies differ (`greet(String)`), with a note when only debug information,
    /// annotations or the like differ.
    pub changed_methods: Vec<String>,
}

/// Compares two versions of one class.
pub fn diff_class(old: &[u8], new: &[u8], vm: &Vm) -> Result<ClassDiff, ClassFileError> {
    if old == new {
        let c = Class::parse(new)?;
        return Ok(unchanged(syntax::binary(c.name()?)));
    }
    let a = Class::parse(old)?;
    let b = Class::parse(new)?;
    let (diff, _) = compare(&a, &b, vm)?;
    Ok(diff)
}

/// Compares two sets of classes keyed by binary name. Classes in one set only are `New` or
/// `Removed`. Explanations that need sibling classes (a new synthetic `Foo$1` switch-map class, a
/// new nested or anonymous class) are added here. Uses every core the machine offers for sets of
/// more than a few hundred classes; the result does not depend on it.
pub fn diff_sets(
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
    vm: &Vm,
) -> Result<Vec<ClassDiff>, (String, ClassFileError)> {
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    diff_sets_on(old, new, vm, threads)
}

/// [`diff_sets`] on at most `threads` threads (1: on the calling thread only, as the benchmark
/// measures it).
pub fn diff_sets_on(
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
    vm: &Vm,
    threads: usize,
) -> Result<Vec<ClassDiff>, (String, ClassFileError)> {
    let mut out: Vec<ClassDiff> = Vec::with_capacity(old.len().max(new.len()));
    // Pairs whose bytes differ: (index in out, name, old, new), compared below.
    let mut work: Vec<(usize, &String, &[u8], &[u8])> = Vec::new();
    let mut o = old.iter().peekable();
    let mut n = new.iter().peekable();
    loop {
        let step = match (o.peek(), n.peek()) {
            (None, None) => break,
            (Some((ko, _)), Some((kn, _))) => ko.cmp(kn),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
        };
        match step {
            std::cmp::Ordering::Less => {
                let Some((name, _)) = o.next() else { break };
                out.push(only(name, Verdict::Removed));
            }
            std::cmp::Ordering::Greater => {
                let Some((name, bytes)) = n.next() else { break };
                // A class about to be loaded must at least be a class file.
                Class::parse(bytes).map_err(|e| (name.clone(), e))?;
                out.push(only(name, Verdict::New));
            }
            std::cmp::Ordering::Equal => {
                let (Some((name, ob)), Some((_, nb))) = (o.next(), n.next()) else { break };
                if ob != nb {
                    work.push((out.len(), name, ob, nb));
                }
                out.push(unchanged(name.clone()));
            }
        }
    }
    let run = |ob: &[u8], nb: &[u8]| -> R<(ClassDiff, Nesting)> {
        let a = Class::parse(ob)?;
        let b = Class::parse(nb)?;
        compare(&a, &b, vm)
    };
    let threads = threads.clamp(1, 16).min(work.len() / 128 + 1);
    let results: Vec<R<(ClassDiff, Nesting)>> = if threads <= 1 {
        work.iter().map(|w| run(w.2, w.3)).collect()
    } else {
        let chunk = work.len().div_ceil(threads);
        std::thread::scope(|scope| {
            let handles: Vec<_> = work
                .chunks(chunk)
                .map(|part| scope.spawn(move || part.iter().map(|w| run(w.2, w.3)).collect::<Vec<_>>()))
                .collect();
            handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
        })
    };
    let mut nesting: Vec<(usize, Nesting)> = Vec::new();
    for (w, r) in work.iter().zip(results) {
        let (mut diff, facts) = r.map_err(|e| (w.1.clone(), e))?;
        diff.name = w.1.clone();
        if !facts.is_empty() {
            nesting.push((w.0, facts));
        }
        out[w.0] = diff;
    }
    for (i, facts) in nesting {
        explain::siblings(&mut out, i, &facts, old, new, vm);
    }
    explain::new_and_removed(&mut out, old, new);
    Ok(out)
}

fn unchanged(name: String) -> ClassDiff {
    ClassDiff { name, verdict: Verdict::Unchanged, reasons: vec![], explanations: vec![], changed_methods: vec![] }
}

fn only(name: &str, verdict: Verdict) -> ClassDiff {
    ClassDiff { name: name.to_string(), verdict, reasons: vec![], explanations: vec![], changed_methods: vec![] }
}

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
    fn is_empty(&self) -> bool {
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

impl Ctx<'_, '_> {
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

fn class_list<'a>(c: &Class<'a>, data: &'a [u8]) -> R<Vec<&'a [u8]>> {
    let mut cur = Cur::new(data);
    let n = cur.u2()? as usize;
    let mut v = Vec::with_capacity(n.min(data.len() / 2));
    for _ in 0..n {
        v.push(c.class_name(cur.u2()?)?);
    }
    Ok(v)
}

fn nest_host<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<&'a [u8]>> {
    if !vm.checks_nest() || c.major < 55 {
        return Ok(None);
    }
    match c.class_attr(AttrKind::NestHost) {
        Some(at) => Ok(Some(c.class_name(Cur::new(at.data).u2()?)?)),
        None => Ok(None),
    }
}

fn nest_members<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<Vec<&'a [u8]>>> {
    if !vm.checks_nest() || c.major < 55 {
        return Ok(None);
    }
    c.class_attr(AttrKind::NestMembers).map(|at| class_list(c, at.data)).transpose()
}

fn permitted<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<Vec<&'a [u8]>>> {
    if !vm.checks_permitted() || c.major < 61 {
        return Ok(None);
    }
    c.class_attr(AttrKind::PermittedSubclasses).map(|at| class_list(c, at.data)).transpose()
}

/// A record component as HotSpot compares it: name, descriptor, generic signature.
#[derive(PartialEq, Eq)]
struct Component<'a> {
    name: &'a [u8],
    desc: &'a [u8],
    signature: Option<&'a [u8]>,
}

fn record<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<Vec<Component<'a>>>> {
    if !vm.checks_record() || c.major < 60 {
        return Ok(None);
    }
    let Some(at) = c.class_attr(AttrKind::Record) else { return Ok(None) };
    let mut cur = Cur::new(at.data);
    let n = cur.u2()? as usize;
    let mut v = Vec::with_capacity(n.min(at.data.len() / 6));
    for _ in 0..n {
        let name = c.utf8(cur.u2()?)?;
        let desc = c.utf8(cur.u2()?)?;
        let attrs = nested_attrs(c, &mut cur)?;
        let signature = match attrs.iter().find(|x| x.kind == AttrKind::Signature) {
            Some(s) => Some(c.utf8(Cur::new(s.data).u2()?)?),
            None => None,
        };
        v.push(Component { name, desc, signature });
    }
    Ok(Some(v))
}

fn names(v: &[&[u8]]) -> String {
    v.iter().map(|n| syntax::binary(n)).collect::<Vec<_>>().join(", ")
}

/// Elements of `x` not in `y` (as multisets).
fn minus<'a>(x: &[&'a [u8]], y: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut y: Vec<&[u8]> = y.to_vec();
    let mut out = Vec::new();
    for e in x {
        match y.iter().position(|z| z == e) {
            Some(i) => {
                y.swap_remove(i);
            }
            None => out.push(*e),
        }
    }
    out
}

/// The whole comparison of two parsed versions.
pub(crate) fn compare(a: &Class, b: &Class, vm: &Vm) -> R<(ClassDiff, Nesting)> {
    let name_a = a.name()?;
    let name_b = b.name()?;
    if name_a != name_b {
        return Err(bad(format!(
            "class names don't match: {} and {} (the JVM refuses this with NoClassDefFoundError)",
            syntax::binary(name_a),
            syntax::binary(name_b)
        )));
    }
    let mut cx = Ctx {
        vm,
        a,
        b,
        name: syntax::binary(name_a),
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
    };
    let mut k = ConstCmp::new(a, b);
    hierarchy(&mut cx)?;
    nest(&mut cx)?;
    record_check(&mut cx)?;
    permitted_check(&mut cx)?;
    let (fa, fb) = (class_flags(a), class_flags(b));
    if fa != fb {
        cx.reason(
            ReasonKind::ClassModifiersChanged,
            format!(
                "class modifiers changed from `{}` to `{}`",
                syntax::class_modifiers(fa),
                syntax::class_modifiers(fb)
            ),
        );
    }
    schema(&mut cx, &mut k)?;
    methods_check(&mut cx)?;
    bodies(&mut cx, &mut k)?;
    explain::traps(&mut cx, &mut k)?;
    explain::body_notes(&mut cx)?;

    let verdict = if !cx.reasons.is_empty() {
        Verdict::Structural
    } else if cx.class_delta & delta::ANY != 0
        || cx.field_deltas.iter().any(|f| f.2 & delta::ANY != 0)
        || !cx.added.is_empty()
        || !cx.deleted.is_empty()
        || cx.matched.iter().any(|m| m.2 & delta::ANY != 0)
        || a.major != b.major
        || a.minor != b.minor
    {
        Verdict::BodyOnly
    } else {
        Verdict::Unchanged
    };
    let changed_methods = changed_methods(&cx);
    let diff = ClassDiff {
        name: cx.name.clone(),
        verdict,
        reasons: cx.reasons,
        explanations: cx.explanations,
        changed_methods,
    };
    Ok((diff, cx.nesting))
}

fn hierarchy(cx: &mut Ctx) -> R<()> {
    let sa = cx.a.class_name_opt(cx.a.super_class)?;
    let sb = cx.b.class_name_opt(cx.b.super_class)?;
    if sa != sb {
        let show = |s: Option<&[u8]>| s.map(syntax::binary).unwrap_or_else(|| "none".into());
        cx.reason(ReasonKind::HierarchyChanged, format!("superclass changed from {} to {}", show(sa), show(sb)));
    }
    let ia = cx.a.interfaces.iter().map(|&i| cx.a.class_name(i)).collect::<R<Vec<_>>>()?;
    let ib = cx.b.interfaces.iter().map(|&i| cx.b.class_name(i)).collect::<R<Vec<_>>>()?;
    if ia != ib {
        let added = minus(&ib, &ia);
        let removed = minus(&ia, &ib);
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("interface added: {}", names(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("interface removed: {}", names(&removed)));
        }
        if parts.is_empty() {
            parts.push(format!(
                "interfaces reordered: [{}] → [{}] (HotSpot compares them in order)",
                names(&ia),
                names(&ib)
            ));
        }
        for p in parts {
            cx.reason(ReasonKind::HierarchyChanged, p);
        }
    }
    Ok(())
}

fn nest(cx: &mut Ctx) -> R<()> {
    let vm = cx.vm;
    let (ha, hb) = (nest_host(cx.a, vm)?, nest_host(cx.b, vm)?);
    match (ha, hb) {
        (Some(x), Some(y)) if x != y => cx.reason(
            ReasonKind::NestChanged,
            format!("nest host changed from {} to {}", syntax::binary(x), syntax::binary(y)),
        ),
        (None, Some(y)) => cx.reason(
            ReasonKind::NestChanged,
            format!("NestHost attribute added: the class became a nested class of {}", syntax::binary(y)),
        ),
        (Some(x), None) => cx.reason(
            ReasonKind::NestChanged,
            format!("NestHost attribute removed: the class is no longer nested in {}", syntax::binary(x)),
        ),
        _ => {}
    }
    let (na, nb) = (nest_members(cx.a, vm)?, nest_members(cx.b, vm)?);
    let structural = na.is_some() || nb.is_some();
    match (&na, &nb) {
        (Some(x), Some(y)) => {
            let mut xs = x.clone();
            let mut ys = y.clone();
            xs.sort_unstable();
            ys.sort_unstable();
            if xs != ys {
                let added = minus(&ys, &xs);
                let removed = minus(&xs, &ys);
                for m in &added {
                    cx.reason(
                        ReasonKind::NestChanged,
                        format!("nested class added: {} (NestMembers)", syntax::binary(m)),
                    );
                }
                for m in &removed {
                    cx.reason(
                        ReasonKind::NestChanged,
                        format!("nested class removed: {} (NestMembers)", syntax::binary(m)),
                    );
                }
                if added.is_empty() && removed.is_empty() {
                    cx.reason(
                        ReasonKind::NestChanged,
                        format!("NestMembers changed ({} → {} entries)", x.len(), y.len()),
                    );
                }
            }
        }
        (None, Some(y)) => {
            cx.reason(
                ReasonKind::NestChanged,
                format!(
                    "NestMembers attribute added: first nested class{} {}",
                    if y.len() == 1 { "" } else { "es" },
                    names(y)
                ),
            );
        }
        (Some(x), None) => {
            cx.reason(
                ReasonKind::NestChanged,
                format!("NestMembers attribute removed: no nested classes any more (was {})", names(x)),
            );
        }
        (None, None) => {}
    }
    // Which nested classes came and went (from InnerClasses when the class file has no nests).
    let inner = |c: &Class, own: &[u8]| -> R<Vec<String>> {
        let mut v = Vec::new();
        if let Some(at) = c.class_attr(AttrKind::InnerClasses) {
            let mut cur = Cur::new(at.data);
            let n = cur.u2()?;
            for _ in 0..n {
                let inner = cur.u2()?;
                let outer = cur.u2()?;
                cur.u2()?;
                cur.u2()?;
                let iname = c.class_name(inner)?;
                // Nested in this class: declared members, or local/anonymous ones named Own$…
                let direct = outer != 0 && c.class_name(outer)? == own;
                let local =
                    outer == 0 && iname.len() > own.len() + 1 && iname.starts_with(own) && iname[own.len()] == b'$';
                if direct || local {
                    v.push(syntax::binary(iname));
                }
            }
        }
        Ok(v)
    };
    let own = cx.a.name()?;
    let (ia, ib) = match (&na, &nb) {
        (Some(_), _) | (_, Some(_)) => (
            na.as_deref().unwrap_or(&[]).iter().map(|n| syntax::binary(n)).collect(),
            nb.as_deref().unwrap_or(&[]).iter().map(|n| syntax::binary(n)).collect(),
        ),
        _ => (inner(cx.a, own)?, inner(cx.b, own)?),
    };
    let ia: Vec<String> = ia;
    let ib: Vec<String> = ib;
    cx.nesting = Nesting {
        added: ib.iter().filter(|n| !ia.contains(n)).cloned().collect(),
        removed: ia.iter().filter(|n| !ib.contains(n)).cloned().collect(),
        structural,
    };
    Ok(())
}

fn record_check(cx: &mut Ctx) -> R<()> {
    let (ra, rb) = (record(cx.a, cx.vm)?, record(cx.b, cx.vm)?);
    let show = |c: &Component| format!("{} {}", syntax::field_type(c.desc), text(c.name));
    let list = |v: &[Component]| v.iter().map(show).collect::<Vec<_>>().join(", ");
    match (&ra, &rb) {
        (Some(x), Some(y)) if x != y => {
            let same_shape =
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| p.name == q.name && p.desc == q.desc);
            if same_shape {
                for (p, q) in x.iter().zip(y.iter()).filter(|(p, q)| p.signature != q.signature) {
                    cx.reason(
                        ReasonKind::RecordChanged,
                        format!(
                            "generic type of record component {} changed ({} → {})",
                            text(q.name),
                            p.signature.map(text).unwrap_or_else(|| "none".into()),
                            q.signature.map(text).unwrap_or_else(|| "none".into())
                        ),
                    );
                }
            } else {
                cx.reason(
                    ReasonKind::RecordChanged,
                    format!("record components changed: ({}) → ({})", list(x), list(y)),
                );
            }
        }
        (None, Some(_)) => {
            cx.reason(ReasonKind::RecordChanged, "the class became a record (Record attribute added)".into())
        }
        (Some(_), None) => {
            cx.reason(ReasonKind::RecordChanged, "the class is no longer a record (Record attribute removed)".into())
        }
        _ => {}
    }
    Ok(())
}

fn permitted_check(cx: &mut Ctx) -> R<()> {
    let (pa, pb) = (permitted(cx.a, cx.vm)?, permitted(cx.b, cx.vm)?);
    match (&pa, &pb) {
        (Some(x), Some(y)) => {
            let mut xs = x.clone();
            let mut ys = y.clone();
            xs.sort_unstable();
            ys.sort_unstable();
            if xs != ys {
                let added = minus(&ys, &xs);
                let removed = minus(&xs, &ys);
                if !added.is_empty() {
                    cx.reason(
                        ReasonKind::PermittedSubclassesChanged,
                        format!("permitted subclass added: {}", names(&added)),
                    );
                }
                if !removed.is_empty() {
                    cx.reason(
                        ReasonKind::PermittedSubclassesChanged,
                        format!("permitted subclass removed: {}", names(&removed)),
                    );
                }
                if added.is_empty() && removed.is_empty() {
                    cx.reason(
                        ReasonKind::PermittedSubclassesChanged,
                        format!("PermittedSubclasses changed ({} → {} entries)", x.len(), y.len()),
                    );
                }
            }
        }
        (None, Some(y)) => {
            cx.reason(ReasonKind::PermittedSubclassesChanged, format!("the class became sealed (permits {})", names(y)))
        }
        (Some(_), None) => cx.reason(ReasonKind::PermittedSubclassesChanged, "the class is no longer sealed".into()),
        (None, None) => {}
    }
    Ok(())
}

/// Fields: HotSpot walks both lists pairwise, in declaration order, comparing name, signature,
/// modifiers (and offsets, which follow from those), then requires equal counts.
fn schema<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    let same = cx.fa.len() == cx.fb.len()
        && cx.fa.iter().zip(&cx.fb).all(|(x, y)| x.name == y.name && x.desc == y.desc && x.flags == y.flags);
    // Which new field each old one corresponds to: same name and type, else same name.
    let mut pair: Vec<Option<usize>> = vec![None; cx.fa.len()];
    let mut taken = vec![false; cx.fb.len()];
    for (i, x) in cx.fa.iter().enumerate() {
        if let Some(j) = (0..cx.fb.len()).find(|&j| !taken[j] && cx.fb[j].name == x.name && cx.fb[j].desc == x.desc) {
            pair[i] = Some(j);
            taken[j] = true;
        }
    }
    for (i, x) in cx.fa.iter().enumerate() {
        if pair[i].is_none()
            && let Some(j) = (0..cx.fb.len()).find(|&j| !taken[j] && cx.fb[j].name == x.name)
        {
            pair[i] = Some(j);
            taken[j] = true;
        }
    }
    if !same {
        let mut msgs = Vec::new();
        for (i, x) in cx.fa.iter().enumerate() {
            match pair[i] {
                None => msgs.push(format!("field removed: {}", syntax::field_full(x.flags, x.name, x.desc))),
                Some(j) => {
                    let y = &cx.fb[j];
                    if y.desc != x.desc {
                        msgs.push(format!(
                            "field type changed: {} {} → {} {}",
                            syntax::field_type(x.desc),
                            text(x.name),
                            syntax::field_type(y.desc),
                            text(y.name)
                        ));
                    } else if y.flags != x.flags {
                        msgs.push(format!(
                            "field modifiers changed: {} from `{}` to `{}`",
                            text(x.name),
                            syntax::field_modifiers_all(x.flags),
                            syntax::field_modifiers_all(y.flags)
                        ));
                    }
                }
            }
        }
        for (j, y) in cx.fb.iter().enumerate() {
            if !taken[j] {
                msgs.push(format!("field added: {}", syntax::field_full(y.flags, y.name, y.desc)));
            }
        }
        // Same fields in another order (relative order of the fields in both versions).
        let order_a: Vec<usize> = pair.iter().flatten().copied().collect();
        let mut sorted = order_a.clone();
        sorted.sort_unstable();
        if order_a != sorted {
            let mut in_b: Vec<(usize, &[u8])> =
                pair.iter().enumerate().filter_map(|(i, j)| j.map(|j| (j, cx.fa[i].name))).collect();
            let in_a: Vec<String> = in_b.iter().map(|(_, n)| text(n)).collect();
            in_b.sort_unstable();
            let in_b: Vec<String> = in_b.iter().map(|(_, n)| text(n)).collect();
            msgs.push(format!(
                "fields reordered: {} → {} (HotSpot compares fields in declaration order)",
                in_a.join(", "),
                in_b.join(", ")
            ));
        }
        if msgs.is_empty() {
            msgs.push("fields changed".into());
        }
        for m in msgs {
            cx.reason(ReasonKind::SchemaChanged, m);
        }
    }
    // Non-structural field differences: constant values, generic signatures, annotations.
    for (i, j) in pair.iter().enumerate().filter_map(|(i, j)| j.map(|j| (i, j))) {
        let (ma, mb) = (&cx.a.fields[i], &cx.b.fields[j]);
        let d = body::attrs(k, cx.a.attrs_of(ma.attrs), cx.b.attrs_of(mb.attrs), &[])?;
        if d != 0 {
            cx.field_deltas.push((i, j, d));
        }
    }
    Ok(())
}

/// Methods: matched by name and descriptor (HotSpot's parallel walk over name-sorted lists
/// amounts to this); a matched method's modifiers may differ only in ACC_NATIVE.
fn methods_check(cx: &mut Ctx) -> R<()> {
    let mut index: Vec<usize> = (0..cx.mb.len()).collect();
    index.sort_unstable_by(|&x, &y| (cx.mb[x].name, cx.mb[x].desc).cmp(&(cx.mb[y].name, cx.mb[y].desc)));
    let mut seen = vec![false; cx.mb.len()];
    let may = cx.vm.may_add_delete_private();
    let allowed = |f: u16| may && f & ACC_PRIVATE != 0 && f & (ACC_STATIC | ACC_FINAL) != 0;
    let mut deleted_msgs = Vec::new();
    let mut modifier_msgs = Vec::new();
    for (i, m) in cx.ma.iter().enumerate() {
        match index.binary_search_by(|&j| (cx.mb[j].name, cx.mb[j].desc).cmp(&(m.name, m.desc))) {
            Ok(p) => {
                let j = index[p];
                seen[j] = true;
                cx.matched.push((i, j, 0));
                let n = &cx.mb[j];
                if (m.flags ^ n.flags) & !ACC_NATIVE != 0 {
                    modifier_msgs.push(format!(
                        "method modifiers changed: {} from `{}` to `{}`",
                        syntax::method_short(&cx.name, m.name, m.desc),
                        syntax::method_modifiers_all(m.flags),
                        syntax::method_modifiers_all(n.flags)
                    ));
                }
            }
            Err(_) => {
                cx.deleted.push(i);
                if !allowed(m.flags) {
                    deleted_msgs
                        .push(format!("method deleted: {}", syntax::method_full(&cx.name, m.flags, m.name, m.desc)));
                }
            }
        }
    }
    let mut added_msgs = Vec::new();
    for (j, n) in cx.mb.iter().enumerate() {
        if !seen[j] {
            cx.added.push(j);
            if !allowed(n.flags) {
                added_msgs.push(format!("method added: {}", syntax::method_full(&cx.name, n.flags, n.name, n.desc)));
            }
        }
    }
    for m in added_msgs {
        cx.reason(ReasonKind::MethodAdded, m);
    }
    for m in deleted_msgs {
        cx.reason(ReasonKind::MethodDeleted, m);
    }
    for m in modifier_msgs {
        cx.reason(ReasonKind::MethodModifiersChanged, m);
    }
    Ok(())
}

/// Bodies of matched methods, and the class's own attributes.
fn bodies<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    for idx in 0..cx.matched.len() {
        let (i, j, _) = cx.matched[idx];
        let d = body::method(k, &cx.ma[i].raw, &cx.mb[j].raw)?;
        cx.matched[idx].2 = d;
    }
    // Structural attributes are reported as reasons when HotSpot checks them; as attributes they
    // still count as a (body-only) difference when it does not (e.g. class files before 55).
    let mut skip = vec![AttrKind::BootstrapMethods];
    if cx.vm.checks_nest() && cx.a.major >= 55 && cx.b.major >= 55 {
        skip.push(AttrKind::NestHost);
        skip.push(AttrKind::NestMembers);
    }
    cx.class_delta = body::attrs(k, cx.a.class_attrs(), cx.b.class_attrs(), &skip)?;
    Ok(())
}

fn changed_methods(cx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    for &(i, _, d) in &cx.matched {
        let d = d & delta::ANY;
        if d == 0 {
            continue;
        }
        let m = &cx.ma[i];
        let short = syntax::method_short(&cx.name, m.name, m.desc);
        if d & delta::CODE != 0 {
            out.push(short);
            continue;
        }
        const PARTS: [(u16, &str); 7] = [
            (delta::LINES, "line numbers"),
            (delta::LOCALS, "local variable names"),
            (delta::ANNOTATIONS, "annotations"),
            (delta::THROWS, "throws clause"),
            (delta::SIGNATURE, "generic signature"),
            (delta::PARAMS, "parameter names"),
            (delta::OTHER, "other attributes"),
        ];
        let what: Vec<&str> = PARTS.iter().filter(|(bit, _)| d & *bit != 0).map(|(_, label)| *label).collect();
        out.push(format!("{short} ({} only)", what.join(", ")));
    }
    // Methods added or deleted without a reason (JDK 11 / the flag allow private static/final).
    for &j in &cx.added {
        let m = &cx.mb[j];
        if !cx.reasons.iter().any(|r| {
            r.kind == ReasonKind::MethodAdded
                && r.message.ends_with(&syntax::method_full(&cx.name, m.flags, m.name, m.desc))
        }) {
            out.push(format!("{} (added)", syntax::method_short(&cx.name, m.name, m.desc)));
        }
    }
    for &i in &cx.deleted {
        let m = &cx.ma[i];
        if !cx.reasons.iter().any(|r| {
            r.kind == ReasonKind::MethodDeleted
                && r.message.ends_with(&syntax::method_full(&cx.name, m.flags, m.name, m.desc))
        }) {
            out.push(format!("{} (deleted)", syntax::method_short(&cx.name, m.name, m.desc)));
        }
    }
    out
}
