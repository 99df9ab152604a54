//! What a change needs: the classes of a build compared, by HotSpot's rules
//! ([`jhot_classfile::diff`]), with the classes they replace — other files (`jhot diff OLD NEW`) or what
//! a running JVM runs (`jhot diff PID NEW`, and the pre-flight of `jhot redefine`).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::agent::protocol::{ClassBytes, Loader, Request};
use crate::agent::{self, AgentError, Connection, Session};
use crate::archive::{self, ArchiveError, ClassSource};
use crate::exit_code::ExitCode;
use jhot_attach::{AttachOptions, Target};
use jhot_classfile::ClassFileError;
use jhot_classfile::verdict::{self, ClassDiff, Verdict, Vm};

/// The JDK an offline verdict is for when none is named: the newest LTS jhot is tested on whose
/// rules every later JDK shares.
pub const DEFAULT_JDK: u32 = 21;

/// Why classes could not be compared.
#[derive(Debug, thiserror::Error)]
pub enum ChangesError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    /// A class of the files compared does not parse.
    #[error("{class}: {source}")]
    Class { class: String, source: ClassFileError },
    /// The bytes a JVM runs for a class do not parse.
    #[error("{class} as the JVM runs it: {source}")]
    Running { class: String, source: ClassFileError },
}

impl ChangesError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ChangesError::Agent(e) => e.exit_code(),
            ChangesError::Archive(_) | ChangesError::Class { .. } | ChangesError::Running { .. } => ExitCode::Input,
        }
    }

    /// Machine-readable particulars for `--json`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            ChangesError::Agent(e) => e.details(),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    #[serde(flatten)]
    pub diff: ClassDiff,
    /// The class loader of the running copy (`jhot diff PID`); a class loaded by several loaders
    /// has one entry per loader.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loader: Option<Loader>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub unchanged: usize,
    pub body_only: usize,
    pub structural: usize,
    pub new: usize,
    pub removed: usize,
    /// True when every class can be hot-redefined (no structural change).
    pub redefinable: bool,
}

impl Summary {
    pub fn of(entries: &[Entry]) -> Summary {
        let mut s = Summary::default();
        for e in entries {
            match e.diff.verdict {
                Verdict::Unchanged => s.unchanged += 1,
                Verdict::BodyOnly => s.body_only += 1,
                Verdict::Structural => s.structural += 1,
                Verdict::New => s.new += 1,
                Verdict::Removed => s.removed += 1,
            }
        }
        s.redefinable = s.structural == 0;
        s
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Duplicate {
    pub class: String,
    pub kept: String,
    pub ignored: String,
}

#[derive(Debug, Serialize)]
pub struct Report {
    /// The JVM the verdicts are for.
    pub jdk: u32,
    pub allow_add_delete_methods: bool,
    pub old: String,
    pub new: String,
    pub summary: Summary,
    pub classes: Vec<Entry>,
    /// Classes found more than once on one side (fat jars); the first was compared.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub duplicates: Vec<Duplicate>,
}

/// `jhot diff OLD NEW` between files, directories or jars (Spring Boot's nested jars included).
pub fn offline(old: &[PathBuf], new: &[PathBuf], vm: Vm) -> Result<Report, ChangesError> {
    let old_set = archive::collect_set(old)?;
    let new_set = archive::collect_set(new)?;
    let mut duplicates = Vec::new();
    for (side, set) in [("old", &old_set), ("new", &new_set)] {
        for (class, (kept, ignored)) in &set.duplicates {
            tracing::debug!(side, class, "class found twice");
            duplicates.push(Duplicate { class: class.clone(), kept: kept.clone(), ignored: ignored.clone() });
        }
    }
    let bytes = |set: &archive::ClassSet| -> BTreeMap<String, Vec<u8>> {
        set.classes.iter().map(|(name, c)| (name.clone(), c.bytes.clone())).collect()
    };
    let diffs = verdict::diff_sets(&bytes(&old_set), &bytes(&new_set), &vm)
        .map_err(|(class, source)| ChangesError::Class { class, source })?;
    let classes: Vec<Entry> = diffs.into_iter().map(|diff| Entry { diff, loader: None }).collect();
    Ok(Report {
        jdk: vm.feature,
        allow_add_delete_methods: vm.allow_add_delete_methods,
        old: describe(old),
        new: describe(new),
        summary: Summary::of(&classes),
        classes,
        duplicates,
    })
}

fn describe(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")
}

/// The bytes a running JVM runs for some classes, fetched through jhot's agent (loaded if it is
/// not resident), and the rules that JVM applies.
pub struct Running {
    pub vm: Vm,
    pub classes: Vec<(String, Option<Loader>, Vec<u8>)>,
    pub session: Option<Session>,
    pub connection: Connection,
}

pub async fn running(
    target: &Target,
    names: Vec<String>,
    loader: Option<String>,
    attach_opts: &AttachOptions,
    timeout: Duration,
) -> Result<Running, ChangesError> {
    let request = Request::Bytes { classes: names, loader };
    let call = agent::call_or_load::<ClassBytes>(target, attach_opts, timeout, &request, vec![]).await?;
    let (answer, blobs) = call.answer?;
    let (vm, classes) = unpack(target, &answer, &blobs)?;
    Ok(Running { vm, classes, session: call.session, connection: call.connection })
}

/// One class as the JVM runs it: its name, its loader, its bytes.
pub type RunningClass = (String, Option<Loader>, Vec<u8>);

/// The JVM's rules and its classes' bytes from a `bytes` answer.
pub fn unpack(target: &Target, answer: &ClassBytes, blobs: &[Vec<u8>]) -> Result<(Vm, Vec<RunningClass>), AgentError> {
    let version = answer.java_version.clone().unwrap_or_default();
    let vm =
        Vm { feature: agent::java_feature(&version), allow_add_delete_methods: target.flags.allow_add_delete_methods };
    let mut classes = Vec::new();
    for entry in &answer.classes {
        let bytes = blobs
            .get(entry.blob)
            .cloned()
            .ok_or_else(|| AgentError::Protocol(format!("blob {} of {} is missing", entry.blob, entry.name)))?;
        classes.push((entry.name.clone(), entry.loader.clone(), bytes));
    }
    Ok((vm, classes))
}

/// Compares new classes with what the JVM runs: one entry per running copy, and `New` for a class
/// the JVM has not loaded (redefine would apply it when it loads).
pub fn against_running(running: &Running, new: &[ClassSource]) -> Result<Vec<Entry>, ChangesError> {
    against(&running.vm, &running.classes, new)
}

/// [`against_running`] over unpacked bytes (see [`unpack`]).
pub fn against(
    vm: &Vm,
    running: &[(String, Option<Loader>, Vec<u8>)],
    new: &[ClassSource],
) -> Result<Vec<Entry>, ChangesError> {
    let mut out = Vec::new();
    for class in new {
        let copies: Vec<_> = running.iter().filter(|(name, _, _)| *name == class.info.name).collect();
        if copies.is_empty() {
            out.push(Entry {
                diff: ClassDiff {
                    name: class.info.name.clone(),
                    verdict: Verdict::New,
                    reasons: Vec::new(),
                    explanations: vec![
                        "not loaded in the JVM: redefine would register it and apply it when it loads".into(),
                    ],
                    changed_methods: Vec::new(),
                },
                loader: None,
            });
            continue;
        }
        for (_, loader, bytes) in copies {
            let diff = verdict::diff_class(bytes, &class.bytes, vm)
                .map_err(|source| ChangesError::Running { class: class.info.name.clone(), source })?;
            out.push(Entry { diff, loader: loader.clone() });
        }
    }
    Ok(out)
}

pub fn report_against_running(
    target: &Target,
    running: &Running,
    new_paths: &[PathBuf],
    entries: Vec<Entry>,
) -> Report {
    Report {
        jdk: running.vm.feature,
        allow_add_delete_methods: running.vm.allow_add_delete_methods,
        old: format!("JVM {}", target.pid),
        new: describe(new_paths),
        summary: Summary::of(&entries),
        classes: entries,
        duplicates: Vec::new(),
    }
}
