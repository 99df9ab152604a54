//! What a JVM has loaded, and by whom (`jhot sc`, `sm`, `classloader`, `dump`, and the shell's
//! completion). The agent sends facts (`classes`, `class_info`, `loaders`, `bytes` in
//! docs/protocol.md); patterns, the completion index, method listings and the loader tree are
//! worked out here.
//!
//! * [`pattern`]: Arthas-style class globs.
//! * [`index`]: the class-name index the shell completes from (no I/O).
//! * [`counter`]: "did classes load since?" from the JVM's perf data, at no cost to the JVM.
//! * [`dump`]: writing class files under a directory without following a planted link.

pub mod counter;
pub mod dump;
pub mod index;
pub mod pattern;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use jhot_attach::{AttachOptions, Target};
use jhot_classfile::members::{self, Method};
use serde::Serialize;

use crate::agent::protocol::{
    ClassBytes, ClassFacts, ClassInfoList, ClassList, History, LoaderList, LoaderRef, LoaderRow, PatchFacts, Request,
};
use crate::agent::{self, AgentError, FailureKind};
use crate::exit_code::ExitCode;
pub use counter::{ClassCounts, LoadCounter};
pub use index::{Candidate, CandidateKind, ClassIndex};
pub use pattern::ClassPattern;

/// `sc -d` reads the source file of at most this many classes from their running bytes: each read
/// is a retransformation in the JVM.
pub const MAX_SOURCE_FILES: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum ClassesError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Pattern(#[from] pattern::EmptyPattern),
    #[error("no loaded class matches {pattern} in JVM {pid}{}", loader_note(.loader))]
    NoMatch { pattern: String, pid: u32, loader: Option<String> },
    #[error("no method of {classes} matches {method} in JVM {pid}")]
    NoMethod { classes: String, method: String, pid: u32 },
    #[error("{name} (loader {loader}): {reason}")]
    BadClass { name: String, loader: String, reason: String },
    #[error(transparent)]
    Dump(#[from] dump::DumpError),
    #[error(
        "the jhot agent resident in JVM {pid} predates the `{op}` operation this command needs; it stays until \
         the JVM restarts (the jhot that loaded it still works with it)"
    )]
    OldAgent { pid: u32, op: &'static str },
}

fn loader_note(loader: &Option<String>) -> String {
    loader.as_ref().map(|l| format!(" (loader {l})")).unwrap_or_default()
}

impl ClassesError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ClassesError::Agent(e) => e.exit_code(),
            ClassesError::Pattern(_) | ClassesError::NoMatch { .. } | ClassesError::NoMethod { .. } => ExitCode::Input,
            // Bytes the JVM runs that jhot cannot read: a bug on one side or the other.
            ClassesError::BadClass { .. } => ExitCode::Internal,
            ClassesError::Dump(e) => e.exit_code(),
            // As for a resident agent of another protocol version (AgentError::Version).
            ClassesError::OldAgent { .. } => ExitCode::Attach,
        }
    }

    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            ClassesError::Agent(e) => e.details(),
            ClassesError::Dump(e) => e.details(),
            _ => None,
        }
    }
}

/// Every loaded class (the `classes` answer, unpacked).
#[derive(Debug, Clone, Serialize)]
pub struct LoadedClasses {
    pub loaders: Vec<LoaderRow>,
    pub classes: Vec<LoadedClass>,
    /// Hidden classes and lambdas, counted and not listed.
    pub hidden: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoadedClass {
    pub name: String,
    /// Index into [`LoadedClasses::loaders`].
    pub loader: usize,
}

impl LoadedClasses {
    /// Unpacks a `classes` answer: blob `k` holds the names `loaders[k]` defined, one per line.
    pub fn from_answer(answer: ClassList, blobs: &[Vec<u8>]) -> Result<LoadedClasses, AgentError> {
        if blobs.len() != answer.loaders.len() {
            return Err(AgentError::Protocol(format!(
                "classes: {} loaders but {} blobs",
                answer.loaders.len(),
                blobs.len()
            )));
        }
        let mut classes = Vec::new();
        for (k, blob) in blobs.iter().enumerate() {
            let text = std::str::from_utf8(blob)
                .map_err(|_| AgentError::Protocol(format!("classes: blob {k} is not UTF-8")))?;
            classes
                .extend(text.lines().filter(|n| !n.is_empty()).map(|n| LoadedClass { name: n.to_string(), loader: k }));
        }
        Ok(LoadedClasses { loaders: answer.loaders, classes, hidden: answer.hidden })
    }

    /// The completion index over these names.
    pub fn index(&self) -> ClassIndex {
        ClassIndex::new(self.classes.iter().map(|c| c.name.as_str()))
    }

    /// The classes matching `pattern`, defined by a loader `selector` names (id, name or class
    /// name, as the agent's selectors), sorted by name then loader id.
    pub fn matching(&self, pattern: &ClassPattern, selector: Option<&str>) -> Vec<(&str, &LoaderRow)> {
        let mut out: Vec<(&str, &LoaderRow)> = self
            .classes
            .iter()
            .filter(|c| pattern.matches(&c.name))
            .filter_map(|c| self.loaders.get(c.loader).map(|l| (c.name.as_str(), l)))
            .filter(|(_, l)| selector.is_none_or(|s| selects(s, l)))
            .collect();
        out.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        out
    }
}

/// Whether a loader selector (docs/protocol.md: exact id, name or class name) names this loader.
pub fn selects(selector: &str, l: &LoaderRow) -> bool {
    selector == l.id || selector == l.name || l.class.as_deref() == Some(selector)
}

/// An agent loaded by an older jhot answers an op it does not know with a protocol error.
fn op_error(target: &Target, op: &'static str) -> impl Fn(AgentError) -> ClassesError {
    let pid = target.pid;
    move |e| match &e {
        AgentError::Refused(f) if f.kind == FailureKind::Protocol && f.message.contains("unknown op") => {
            ClassesError::OldAgent { pid, op }
        }
        _ => ClassesError::Agent(e),
    }
}

/// Every loaded class of `target` (the `classes` op).
pub async fn loaded(target: &Target, opts: &AttachOptions, timeout: Duration) -> Result<LoadedClasses, ClassesError> {
    let (answer, blobs) = ask_classes(target, opts, timeout, None).await?;
    Ok(LoadedClasses::from_answer(answer, &blobs)?)
}

/// The loaded classes, or [`Listing::Unchanged`] when `since` (the token of an earlier listing)
/// shows that no class has been defined since (the agent then walks nothing and sends no names).
pub async fn loaded_unless(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    since: Option<&str>,
) -> Result<Listing, ClassesError> {
    let (answer, blobs) = ask_classes(target, opts, timeout, since).await?;
    if answer.unchanged && since.is_some() {
        return Ok(Listing::Unchanged);
    }
    let defined = answer.defined.clone();
    Ok(Listing::Fresh { classes: LoadedClasses::from_answer(answer, &blobs)?, defined })
}

/// The `classes` op's answer and its blobs.
async fn ask_classes(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    since: Option<&str>,
) -> Result<(ClassList, Vec<Vec<u8>>), ClassesError> {
    let request = Request::Classes { unless_defined_since: since.map(str::to_string) };
    let call = agent::call_or_load::<ClassList>(target, opts, timeout, &request, vec![]).await?;
    let (answer, blobs) = call.answer.map_err(op_error(target, "classes"))?;
    tracing::debug!(
        agent_ms = answer.elapsed_us as f64 / 1000.0,
        blobs = blobs.len(),
        unchanged = answer.unchanged,
        "classes"
    );
    Ok((answer, blobs))
}

/// What [`loaded_unless`] found.
#[derive(Debug)]
pub enum Listing {
    Unchanged,
    /// `defined`: the token to ask with next time, when the agent could give one.
    Fresh {
        classes: LoadedClasses,
        defined: Option<String>,
    },
}

/// The facts of the named classes (the `class_info` op).
pub async fn class_info(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    names: Vec<String>,
    loader: Option<String>,
) -> Result<ClassInfoList, ClassesError> {
    let request = Request::ClassInfo { names, loader };
    let call = agent::call_or_load::<ClassInfoList>(target, opts, timeout, &request, vec![]).await?;
    Ok(call.answer.map_err(op_error(target, "class_info"))?.0)
}

/// Every class loader of `target` (the `loaders` op).
pub async fn loaders(target: &Target, opts: &AttachOptions, timeout: Duration) -> Result<Vec<LoaderRow>, ClassesError> {
    let call = agent::call_or_load::<LoaderList>(target, opts, timeout, &Request::Loaders {}, vec![]).await?;
    Ok(call.answer.map_err(op_error(target, "loaders"))?.0.loaders)
}

/// One class as the JVM runs it.
#[derive(Debug, Clone)]
pub struct RunningBytes {
    pub name: String,
    pub loader: LoaderRef,
    pub bytes: Vec<u8>,
}

/// The bytes the JVM runs for these classes (the `bytes` op).
pub async fn running_bytes(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    names: Vec<String>,
    loader: Option<String>,
) -> Result<Vec<RunningBytes>, ClassesError> {
    let request = Request::Bytes { classes: names, loader };
    let call = agent::call_or_load::<ClassBytes>(target, opts, timeout, &request, vec![]).await?;
    let (answer, mut blobs) = call.answer?;
    let mut out = Vec::with_capacity(answer.classes.len());
    for e in answer.classes {
        let bytes = blobs
            .get_mut(e.blob)
            .map(std::mem::take)
            .ok_or_else(|| AgentError::Protocol(format!("blob {} of {} is missing", e.blob, e.name)))?;
        let loader = e.loader.map(|l| LoaderRef { id: l.id, name: l.name, class: None }).unwrap_or_else(|| LoaderRef {
            id: "bootstrap".into(),
            name: "bootstrap".into(),
            class: None,
        });
        out.push(RunningBytes { name: e.name, loader, bytes });
    }
    Ok(out)
}

// ---- sc ----------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct ScReport {
    pub pid: u32,
    pub pattern: String,
    pub classes: Vec<ScClass>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ScClass {
    pub name: String,
    pub loader: LoaderRef,
    /// With `-d`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub details: Option<ScDetails>,
}

/// `sc -d`: what the JVM says of a class, and what jhot did to it.
#[derive(Debug, Clone, Serialize)]
pub struct ScDetails {
    /// Code source location; null for the boot loader's classes and classes made at run time.
    pub location: Option<String>,
    /// `public final class`, `interface`, … (from `Class.getModifiers()`).
    pub modifiers: String,
    /// `Class.getModifiers()`.
    pub modifier_bits: u32,
    #[serde(rename = "super")]
    pub super_class: Option<String>,
    pub interfaces: Vec<String>,
    /// The `SourceFile` attribute of the running bytes; null when the class has none, cannot be
    /// read (unmodifiable classes), or beyond the first [`MAX_SOURCE_FILES`] matches.
    pub source_file: Option<String>,
    pub modifiable: bool,
    /// jhot's patch in force, with the deploy and history entry that put it there.
    pub patched: Option<PatchFacts>,
}

/// `jhot sc`: the loaded classes matching `pattern`; with `details`, their facts.
pub async fn sc(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    pattern: &str,
    loader: Option<&str>,
    details: bool,
) -> Result<ScReport, ClassesError> {
    let pattern = ClassPattern::parse(pattern)?;
    let all = loaded(target, opts, timeout).await?;
    let matched = all.matching(&pattern, loader);
    if matched.is_empty() {
        return Err(no_match(&pattern, target, loader));
    }
    let mut classes: Vec<ScClass> = matched
        .iter()
        .map(|(name, l)| ScClass {
            name: name.to_string(),
            loader: LoaderRef { id: l.id.clone(), name: l.name.clone(), class: l.class.clone() },
            details: None,
        })
        .collect();
    if !details {
        return Ok(ScReport { pid: target.pid, pattern: pattern.to_string(), classes });
    }
    let mut names: Vec<String> = classes.iter().map(|c| c.name.clone()).collect();
    names.dedup();
    let mut info = class_info(target, opts, timeout, names, None).await?;
    if info.classes.iter().any(|f| f.patched.is_some()) {
        let call = agent::call_or_load::<History>(target, opts, timeout, &Request::History {}, vec![]).await?;
        let (history, _) = call.answer?;
        for f in &mut info.classes {
            if let Some(p) = &mut f.patched {
                last_change(&history, &f.name, &f.loader.id, p);
            }
        }
    }
    let sources = source_files(target, opts, timeout, &info.classes).await;
    let mut facts: HashMap<(String, String), ClassFacts> =
        info.classes.into_iter().map(|f| ((f.name.clone(), f.loader.id.clone()), f)).collect();
    for c in &mut classes {
        // A class unloaded between the two questions keeps its line without details.
        let Some(f) = facts.remove(&(c.name.clone(), c.loader.id.clone())) else { continue };
        let source_file = sources.get(&(c.name.clone(), c.loader.id.clone())).cloned().flatten();
        c.details = Some(ScDetails {
            location: f.location,
            modifiers: members::class_modifiers(f.modifiers as u16),
            modifier_bits: f.modifiers,
            super_class: f.super_class,
            interfaces: f.interfaces,
            source_file,
            modifiable: f.modifiable,
            patched: f.patched,
        });
    }
    Ok(ScReport { pid: target.pid, pattern: pattern.to_string(), classes })
}

/// Fills in the newest history entry that put a patch into the class (name, loader): a
/// `redefine`, or a `load` for a pending patch applied when the class loaded.
fn last_change(history: &History, name: &str, loader: &str, patch: &mut PatchFacts) {
    let entry = history.entries.iter().rev().find(|e| {
        (e.action == "redefine" || e.action == "load")
            && e.classes.iter().any(|c| c.name == name && c.loader.as_ref().is_some_and(|l| l.id == loader))
    });
    if let Some(e) = entry {
        patch.seq = Some(e.seq);
        patch.action = Some(e.action.clone());
        patch.time_ms = Some(e.time_ms);
    }
}

/// The source file of each class, read from its running bytes: Java has no API for it. Best
/// effort: a class the JVM cannot show (unmodifiable, unloaded meanwhile) has none.
async fn source_files(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    facts: &[ClassFacts],
) -> HashMap<(String, String), Option<String>> {
    let mut names: Vec<String> =
        facts.iter().filter(|f| f.modifiable).map(|f| f.name.clone()).take(MAX_SOURCE_FILES).collect();
    names.sort();
    names.dedup();
    if names.is_empty() {
        return HashMap::new();
    }
    match running_bytes(target, opts, timeout, names, None).await {
        Ok(list) => list
            .into_iter()
            .map(|r| ((r.name, r.loader.id), members::members(&r.bytes).ok().and_then(|m| m.source_file)))
            .collect(),
        Err(e) => {
            tracing::debug!(error = %e, "source files not read");
            HashMap::new()
        }
    }
}

fn no_match(pattern: &ClassPattern, target: &Target, loader: Option<&str>) -> ClassesError {
    ClassesError::NoMatch { pattern: pattern.to_string(), pid: target.pid, loader: loader.map(str::to_string) }
}

/// The distinct names of the matching classes, or [`ClassesError::NoMatch`].
async fn matching_names(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    pattern: &ClassPattern,
    loader: Option<&str>,
) -> Result<Vec<String>, ClassesError> {
    // An exact name needs no list of every class: `bytes` says whether it is loaded.
    if pattern.is_exact() {
        return Ok(vec![pattern.to_string()]);
    }
    let all = loaded(target, opts, timeout).await?;
    let mut names: Vec<String> = all.matching(pattern, loader).into_iter().map(|(n, _)| n.to_string()).collect();
    names.dedup();
    if names.is_empty() {
        return Err(no_match(pattern, target, loader));
    }
    Ok(names)
}

// ---- sm ----------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct SmReport {
    pub pid: u32,
    pub classes: Vec<SmClass>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SmClass {
    pub name: String,
    pub loader: LoaderRef,
    pub source_file: Option<String>,
    /// Declared methods, in class-file order, constructors and the static initializer included.
    pub methods: Vec<Method>,
}

/// `jhot sm`: the declared methods of the running bytes of the classes `class` matches, those
/// whose name `method` matches (a glob too) when given.
pub async fn sm(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    class: &str,
    method: Option<&str>,
    loader: Option<&str>,
) -> Result<SmReport, ClassesError> {
    let pattern = ClassPattern::parse(class)?;
    let method_pattern = method.map(ClassPattern::parse).transpose()?;
    let names = matching_names(target, opts, timeout, &pattern, loader).await?;
    let running = running_bytes(target, opts, timeout, names, loader.map(str::to_string)).await?;
    if running.is_empty() {
        return Err(no_match(&pattern, target, loader));
    }
    let mut classes = Vec::new();
    for r in running {
        let m = members::members(&r.bytes).map_err(|e| ClassesError::BadClass {
            name: r.name.clone(),
            loader: r.loader.id.clone(),
            reason: e.to_string(),
        })?;
        let methods: Vec<Method> =
            m.methods.into_iter().filter(|x| method_pattern.as_ref().is_none_or(|p| p.matches(&x.name))).collect();
        if methods.is_empty() && method_pattern.is_some() {
            continue;
        }
        classes.push(SmClass { name: r.name, loader: r.loader, source_file: m.source_file, methods });
    }
    if classes.is_empty() {
        return Err(ClassesError::NoMethod {
            classes: pattern.to_string(),
            method: method.unwrap_or("*").to_string(),
            pid: target.pid,
        });
    }
    classes.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.loader.id.cmp(&b.loader.id)));
    Ok(SmReport { pid: target.pid, classes })
}

// ---- classloader -------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct LoadersReport {
    pub pid: u32,
    /// The boot loader first, then parents before their children.
    pub loaders: Vec<LoaderRow>,
}

/// `jhot classloader`: every class loader, parents before children.
pub async fn classloader(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
) -> Result<LoadersReport, ClassesError> {
    let rows = loaders(target, opts, timeout).await?;
    Ok(LoadersReport { pid: target.pid, loaders: tree_order(rows) })
}

/// One loader in [`tree`] order.
#[derive(Debug, Clone, Copy)]
pub struct TreeNode<'a> {
    /// 0 for a root.
    pub depth: usize,
    /// The last child of its parent (a tree drawing ends its branch there).
    pub last: bool,
    pub loader: &'a LoaderRow,
}

/// Loaders in depth-first order from the roots (the boot loader, and any loader whose parent is
/// not listed), children by name then id.
pub fn tree(rows: &[LoaderRow]) -> Vec<TreeNode<'_>> {
    let ids: HashMap<&str, usize> = rows.iter().enumerate().map(|(i, l)| (l.id.as_str(), i)).collect();
    let mut children: BTreeMap<Option<usize>, Vec<usize>> = BTreeMap::new();
    for (i, l) in rows.iter().enumerate() {
        let parent = l.parent.as_deref().and_then(|p| ids.get(p).copied()).filter(|&p| p != i);
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by(|&a, &b| {
            let key = |i: usize| (rows[i].id != "bootstrap", rows[i].name.clone(), rows[i].id.clone());
            key(a).cmp(&key(b))
        });
    }
    let mut out = Vec::with_capacity(rows.len());
    let mut seen = vec![false; rows.len()];
    let with_last = |list: &[usize], depth: usize| -> Vec<(usize, usize, bool)> {
        list.iter().enumerate().rev().map(|(k, &i)| (i, depth, k + 1 == list.len())).collect()
    };
    let mut stack = children.get(&None).map(|r| with_last(r, 0)).unwrap_or_default();
    // Bounded: each loader is visited once, so a parent cycle a hostile JVM reports cannot loop.
    while let Some((i, depth, last)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        out.push(TreeNode { depth, last, loader: &rows[i] });
        if let Some(kids) = children.get(&Some(i)) {
            stack.extend(with_last(kids, depth + 1));
        }
    }
    // Loaders only reachable through a cycle: listed at the top rather than lost.
    for (i, l) in rows.iter().enumerate() {
        if !seen[i] {
            out.push(TreeNode { depth: 0, last: true, loader: l });
        }
    }
    out
}

fn tree_order(rows: Vec<LoaderRow>) -> Vec<LoaderRow> {
    let order: Vec<LoaderRow> = tree(&rows).into_iter().map(|n| n.loader.clone()).collect();
    order
}

// ---- dump --------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct DumpReport {
    pub pid: u32,
    pub dir: PathBuf,
    pub files: Vec<DumpedFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct DumpedFile {
    pub name: String,
    pub loader: LoaderRef,
    /// Where the bytes were written (under `dir`).
    pub path: PathBuf,
    pub size: usize,
    pub sha256: String,
}

/// `jhot dump`: the running bytes of every class `pattern` matches, written as
/// `dir/pkg/Name.class`, or `dir/<loader>/pkg/Name.class` for a name several loaders define.
pub async fn dump(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    pattern: &str,
    loader: Option<&str>,
    dir: &Path,
) -> Result<DumpReport, ClassesError> {
    let pattern = ClassPattern::parse(pattern)?;
    let names = matching_names(target, opts, timeout, &pattern, loader).await?;
    let running = running_bytes(target, opts, timeout, names, loader.map(str::to_string)).await?;
    if running.is_empty() {
        return Err(no_match(&pattern, target, loader));
    }
    let mut copies: HashMap<&str, usize> = HashMap::new();
    for r in &running {
        *copies.entry(r.name.as_str()).or_default() += 1;
    }
    let mut planned = Vec::with_capacity(running.len());
    for r in &running {
        let mut rel = PathBuf::new();
        if copies[r.name.as_str()] > 1 {
            rel.push(dump::loader_dir(&r.loader.name, &r.loader.id));
        }
        rel.push(dump::class_path(&r.name)?);
        planned.push(rel);
    }
    let files: Vec<(PathBuf, &[u8])> =
        planned.iter().cloned().zip(running.iter().map(|r| r.bytes.as_slice())).collect();
    dump::write_all(dir, &files)?;
    let mut out: Vec<DumpedFile> = running
        .iter()
        .zip(planned)
        .map(|(r, rel)| DumpedFile {
            name: r.name.clone(),
            loader: r.loader.clone(),
            path: dir.join(rel),
            size: r.bytes.len(),
            sha256: sha256_hex(&r.bytes),
        })
        .collect();
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(DumpReport { pid: target.pid, dir: dir.to_path_buf(), files: out })
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, parent: Option<&str>, name: &str) -> LoaderRow {
        LoaderRow {
            id: id.into(),
            name: name.into(),
            class: Some(format!("x.{name}")),
            parent: parent.map(str::to_string),
            classes: 1,
            urls: None,
        }
    }

    #[test]
    fn a_classes_answer_unpacks_per_loader() {
        let answer: ClassList = serde_json::from_value(serde_json::json!({
            "loaders": [
                {"id": "bootstrap", "name": "bootstrap", "class": null, "parent": null, "classes": 2},
                {"id": "0x1", "name": "app", "class": "x.App", "parent": "bootstrap", "classes": 2}
            ],
            "hidden": 3
        }))
        .expect("parse");
        let blobs = vec![b"java.lang.String\njava.lang.Object\n".to_vec(), b"a.B\na.C\n".to_vec()];
        let all = LoadedClasses::from_answer(answer.clone(), &blobs).expect("unpack");
        assert_eq!(all.classes.len(), 4);
        assert_eq!(all.hidden, 3);
        let p = ClassPattern::parse("a.*").expect("p");
        let m = all.matching(&p, None);
        assert_eq!(m.iter().map(|(n, l)| (*n, l.id.as_str())).collect::<Vec<_>>(), [("a.B", "0x1"), ("a.C", "0x1")]);
        assert!(all.matching(&p, Some("bootstrap")).is_empty());
        assert_eq!(all.matching(&p, Some("x.App")).len(), 2, "a loader by its class name");
        assert_eq!(all.index().complete("a.").len(), 2);
        assert!(LoadedClasses::from_answer(answer, &blobs[..1]).is_err(), "a blob per loader");
    }

    #[test]
    fn the_loader_tree_puts_parents_first_and_survives_cycles() {
        let rows = vec![
            row("0x3", Some("0x2"), "app"),
            row("0x2", Some("bootstrap"), "platform"),
            row("bootstrap", None, "bootstrap"),
            row("0x4", Some("0x2"), "isolated"),
            row("0x9", Some("0x8"), "orphan"),
        ];
        let t: Vec<(usize, &str, bool)> =
            tree(&rows).into_iter().map(|n| (n.depth, n.loader.name.as_str(), n.last)).collect();
        assert_eq!(
            t,
            [
                (0, "bootstrap", false),
                (1, "platform", true),
                (2, "app", false),
                (2, "isolated", true),
                (0, "orphan", true)
            ]
        );
        let cycle = vec![row("0x1", Some("0x2"), "a"), row("0x2", Some("0x1"), "b")];
        assert_eq!(tree(&cycle).len(), 2);
    }
}
