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
//!
//! The modules: `ctx` (the pair of versions as HotSpot sees them: `Ctx`, the members with
//! HotSpot's flags), `rules` (HotSpot's checks, each adding its reasons), `body`, `code` and
//! `consts` (what may differ without a reason: attributes, bytecode, constants, compared by
//! meaning), and `explain` (the traps, read from what the rules found).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ClassFileError;
use crate::reader::{Class, R, bad};
use crate::syntax;
use body::delta;
use ctx::{Ctx, Nesting};

mod body;
mod code;
mod consts;
mod ctx;
mod explain;
mod rules;

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
    let mut cx = Ctx::new(vm, a, b, syntax::binary(name_a))?;
    let mut k = consts::ConstCmp::new(a, b);
    // HotSpot's checks, in its order (see the crate documentation); each adds its reasons.
    rules::hierarchy(&mut cx)?;
    rules::nest(&mut cx)?;
    rules::record_check(&mut cx)?;
    rules::permitted_check(&mut cx)?;
    rules::class_modifiers(&mut cx);
    rules::schema(&mut cx, &mut k)?;
    rules::methods_check(&mut cx)?;
    rules::bodies(&mut cx, &mut k)?;
    // Then the explanations, from what the rules found.
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
    let changed_methods = rules::changed_methods(&cx);
    let diff = ClassDiff {
        name: cx.name.clone(),
        verdict,
        reasons: cx.reasons,
        explanations: cx.explanations,
        changed_methods,
    };
    Ok((diff, cx.nesting))
}

#[cfg(test)]
mod tests;

pub use explain::compilers::Compiler;

/// Which compiler made a class (javac or Eclipse's ecj), from the names it gave what it generated;
/// `None` when the class has nothing that tells (no lambda, no enum switch). Pick the same one to
/// recompile it, or the recompiled class differs in structure.
pub fn compiler(bytes: &[u8]) -> Result<Option<Compiler>, ClassFileError> {
    let c = Class::parse(bytes)?;
    let mut methods = Vec::new();
    for m in &c.methods {
        methods.push(c.member_name(m)?);
    }
    let mut fields = Vec::new();
    for f in &c.fields {
        fields.push(c.member_name(f)?);
    }
    Ok(explain::compilers::compiler_of(methods, fields))
}
