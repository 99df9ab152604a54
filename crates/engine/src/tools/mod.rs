//! `jhot jad` and `jhot mc`: decompiling what a JVM runs and compiling against what one of its
//! class loaders sees, in a helper JVM (`helper-java/`) that jhot starts with the target's own
//! `java`, in the target's namespaces, as the target's user (see [`helper`]). Nothing of this runs
//! inside the target: the agent only serves bytes and package listings (`class_files`,
//! `list_package`, docs/protocol.md).
//!
//! The caller keeps a [`Tools`] value: the shell one for its lifetime (one helper JVM for every
//! `jad`, `mc` and `edit`), a one-shot command one for the command. While a request runs, the
//! helper asks for class files and package listings through a [`ClassPath`] the caller supplies:
//! [`AgentClassPath`] (one loader of the target) or [`DirClassPath`] (local directories, for
//! tests). Answers are kept for the `Tools` value's lifetime.

pub mod edit;
mod helper;
pub mod jad;
pub mod mc;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::agent::{self, AgentError, protocol::Request};
use crate::exit_code::ExitCode;
use jhot_attach::{AttachOptions, Target};

pub use helper::HelperInfo;
pub use jad::{Decompiled, NestedClass, decompile};
pub use mc::{Compiled, Diagnostic, compile};

/// The helper's jar and the third-party jars it runs with (build.rs, `scripts/fetch-tools.sh`).
static HELPER_JAR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jhot-helper.jar"));
static VINEFLOWER_17: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vineflower-1.12.0-slim.jar"));
static VINEFLOWER_11: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/vineflower-1.10.1.jar"));
static ECJ_17: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ecj-3.46.100.jar"));
static ECJ_11: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/ecj-3.33.0.jar"));

/// The jars for a target's JDK feature version: Vineflower >= 1.11 and ECJ >= 3.34 need Java 17
/// to run, and the helper runs on the target's own java.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JarSet {
    pub decompiler: &'static str,
    pub ecj: &'static str,
    pub(crate) jars: [&'static [u8]; 3],
}

pub fn jars_for(feature: u32) -> Result<JarSet, ToolsError> {
    match feature {
        17.. => Ok(JarSet {
            decompiler: "vineflower 1.12.0",
            ecj: "ecj 3.46.100",
            jars: [HELPER_JAR, VINEFLOWER_17, ECJ_17],
        }),
        11..=16 => {
            Ok(JarSet { decompiler: "vineflower 1.10.1", ecj: "ecj 3.33.0", jars: [HELPER_JAR, VINEFLOWER_11, ECJ_11] })
        }
        _ => Err(ToolsError::Unsupported { feature }),
    }
}

/// Which compiler built a class, or compiles one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compiler {
    Javac,
    Ecj,
}

impl Compiler {
    pub fn as_str(self) -> &'static str {
        match self {
            Compiler::Javac => "javac",
            Compiler::Ecj => "ecj",
        }
    }
}

/// Which compiler built these classes (an outer class and its nested ones): ECJ names lambda
/// bodies `lambda$N` (javac: `lambda$method$N`) and compiles an enum switch to a `$SWITCH_TABLE$`
/// field and method (javac: a `$SwitchMap$` class). Without either sign, javac, by far the most
/// common. It matters because recompiling with the other compiler changes synthetic members, which
/// a redefinition cannot.
pub fn detect_compiler<'a>(classes: impl IntoIterator<Item = &'a [u8]>) -> Compiler {
    let ecj = classes.into_iter().any(|bytes| {
        matches!(jhot_classfile::verdict::compiler(bytes), Ok(Some(jhot_classfile::verdict::Compiler::Ecj)))
    });
    if ecj { Compiler::Ecj } else { Compiler::Javac }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    #[error(
        "{class} is not loaded in JVM {pid}{}; `jhot sc {pid} <pattern>` lists the classes it has loaded",
        loader.as_ref().map(|l| format!(" by loader {l}")).unwrap_or_default()
    )]
    NotLoaded { pid: u32, class: String, loader: Option<String> },
    #[error(
        "{class} is defined by {} class loaders in JVM {pid}: {}; name one with --loader",
        loaders.len(),
        loaders.join(", ")
    )]
    SeveralLoaders { pid: u32, class: String, loaders: Vec<String> },
    #[error("jad and mc need a JDK 11 or newer target; this JVM is Java {feature}")]
    Unsupported { feature: u32 },
    #[error("cannot start the helper JVM ({what}): {source}")]
    Start { what: String, source: std::io::Error },
    #[error("the helper JVM (pid {pid}) {status} {doing}{}", stderr_tail(.stderr))]
    Died { pid: u32, status: String, doing: &'static str, stderr: String },
    #[error(
        "the helper JVM did not answer within {secs} s and was stopped; raise --timeout for a very large class{}",
        stderr_tail(.stderr)
    )]
    Timeout { secs: u64, stderr: String },
    #[error("{message}")]
    Helper { kind: String, message: String },
    #[error("{}", compile_message(.diagnostics))]
    Compile { compiler: Compiler, diagnostics: Vec<Diagnostic> },
    #[error("{0}")]
    Input(String),
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
    #[error("unexpected answer from the helper JVM: {0}")]
    Protocol(String),
    #[error(transparent)]
    Agent(#[from] AgentError),
    /// `edit`: the edited class differs in structure from what the JVM runs.
    #[error("{}", edit::structural_message(*.pid, .entries))]
    Structural { pid: u32, entries: Vec<crate::changes::Entry> },
}

fn stderr_tail(stderr: &str) -> String {
    let s = stderr.trim();
    if s.is_empty() { String::new() } else { format!("; its stderr ends with:\n{s}") }
}

fn compile_message(diagnostics: &[Diagnostic]) -> String {
    let errors: Vec<String> = diagnostics.iter().filter(|d| d.severity == "error").map(Diagnostic::to_string).collect();
    format!(
        "{}\n{} error{}; nothing was written",
        errors.join("\n"),
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    )
}

impl ToolsError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            ToolsError::NotLoaded { .. }
            | ToolsError::SeveralLoaders { .. }
            | ToolsError::Unsupported { .. }
            | ToolsError::Compile { .. }
            | ToolsError::Input(_) => ExitCode::Input,
            ToolsError::Structural { .. } => ExitCode::Rejected,
            ToolsError::Helper { kind, .. } if kind == "input" => ExitCode::Input,
            ToolsError::Agent(e) => e.exit_code(),
            ToolsError::Start { .. }
            | ToolsError::Died { .. }
            | ToolsError::Timeout { .. }
            | ToolsError::Helper { .. }
            | ToolsError::Io { .. }
            | ToolsError::Protocol(_) => ExitCode::Internal,
        }
    }

    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            ToolsError::SeveralLoaders { loaders, .. } => Some(serde_json::json!({ "loaders": loaders })),
            ToolsError::Compile { compiler, diagnostics } => {
                Some(serde_json::json!({ "compiler": compiler, "diagnostics": diagnostics }))
            }
            ToolsError::Agent(e) => e.details(),
            ToolsError::Structural { entries, .. } => {
                serde_json::to_value(entries).ok().map(|v| serde_json::json!({ "classes": v }))
            }
            _ => None,
        }
    }
}

/// What a class loader of the target sees, asked while the helper decompiles or compiles.
/// Implementations return `None` for a class the loader does not serve.
pub trait ClassPath {
    /// Names this view, so answers kept by [`Tools`] are never mixed between loaders.
    fn key(&self) -> String;
    /// Each name's class file (binary names, `a.b.C$D`), in order.
    fn class_files(&mut self, names: &[String]) -> impl Future<Output = Result<Vec<Option<Vec<u8>>>, ToolsError>>;
    /// The binary names of the classes in a package (javac lists packages; ECJ never does).
    fn package(&mut self, package: &str) -> impl Future<Output = Result<Vec<String>, ToolsError>>;
}

/// One class loader of a running JVM, through its agent (`class_files`, `list_package`).
pub struct AgentClassPath<'a> {
    pub target: &'a Target,
    pub attach_opts: &'a AttachOptions,
    pub timeout: Duration,
    /// A loader id as the agent names it (`0x1b6d3586`, `bootstrap`).
    pub loader: String,
}

impl AgentClassPath<'_> {
    /// `running`: the running bytes of loaded classes (a retransformation each), not their files.
    pub(crate) async fn fetch(
        &self,
        names: &[String],
        running: bool,
    ) -> Result<Vec<(agent::protocol::ClassFileEntry, Option<Vec<u8>>)>, ToolsError> {
        let request = Request::ClassFiles { loader: self.loader.clone(), names: names.to_vec(), running };
        let call = agent::call_or_load::<agent::protocol::ClassFiles>(
            self.target,
            self.attach_opts,
            self.timeout,
            &request,
            vec![],
        )
        .await?;
        let (answer, mut blobs) = call.answer?;
        let mut out = Vec::new();
        for entry in answer.classes {
            let bytes = match entry.blob {
                Some(i) => Some(std::mem::take(
                    blobs
                        .get_mut(i)
                        .ok_or_else(|| AgentError::Protocol(format!("blob {i} of {} is missing", entry.name)))?,
                )),
                None => None,
            };
            out.push((entry, bytes));
        }
        Ok(out)
    }
}

impl ClassPath for AgentClassPath<'_> {
    fn key(&self) -> String {
        format!("{}:{}:{}", self.target.pid, self.target.start_time, self.loader)
    }

    async fn class_files(&mut self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, ToolsError> {
        let got = self.fetch(names, false).await?;
        Ok(names.iter().map(|n| got.iter().find(|(e, _)| &e.name == n).and_then(|(_, b)| b.clone())).collect())
    }

    async fn package(&mut self, package: &str) -> Result<Vec<String>, ToolsError> {
        let request = Request::ListPackage { loader: self.loader.clone(), package: package.to_string() };
        let call = agent::call_or_load::<agent::protocol::PackageList>(
            self.target,
            self.attach_opts,
            self.timeout,
            &request,
            vec![],
        )
        .await?;
        let (answer, _) = call.answer?;
        for u in &answer.unread {
            tracing::debug!(package, "list_package could not read {u}");
        }
        Ok(answer.names)
    }
}

/// Local class directories, searched in order (`a/b/C.class`): for tests without a JVM, and for
/// compiling against a build.
pub struct DirClassPath {
    pub dirs: Vec<PathBuf>,
}

impl ClassPath for DirClassPath {
    fn key(&self) -> String {
        format!("dirs:{:?}", self.dirs)
    }

    async fn class_files(&mut self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, ToolsError> {
        Ok(names
            .iter()
            .map(|n| {
                let rel = format!("{}.class", n.replace('.', "/"));
                self.dirs.iter().find_map(|d| std::fs::read(d.join(&rel)).ok())
            })
            .collect())
    }

    async fn package(&mut self, package: &str) -> Result<Vec<String>, ToolsError> {
        let mut out = Vec::new();
        for d in &self.dirs {
            let Ok(entries) = std::fs::read_dir(d.join(package.replace('.', "/"))) else { continue };
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if let Some(stem) = name.strip_suffix(".class")
                    && stem != "module-info"
                    && stem != "package-info"
                {
                    let n = if package.is_empty() { stem.to_string() } else { format!("{package}.{stem}") };
                    if !out.contains(&n) {
                        out.push(n);
                    }
                }
            }
        }
        out.sort();
        Ok(out)
    }
}

/// A JDK on this machine, with javac: `JHOT_JDK` (a JDK's home, or `none` for no JDK), else
/// `JAVA_HOME`, else the `javac` on jhot's `PATH`.
#[derive(Debug, Clone)]
pub struct HostJdk {
    pub java: PathBuf,
    pub home: PathBuf,
    pub feature: u32,
}

impl HostJdk {
    fn find() -> Option<HostJdk> {
        if let Some(chosen) = std::env::var_os("JHOT_JDK") {
            return if chosen == "none" { None } else { HostJdk::at(PathBuf::from(chosen)) };
        }
        let from_home = std::env::var_os("JAVA_HOME").map(PathBuf::from);
        let from_path = std::env::var_os("PATH").and_then(|p| {
            std::env::split_paths(&p)
                .map(|d| d.join("javac"))
                .find(|j| j.is_file())
                .and_then(|j| std::fs::canonicalize(j).ok())
                .and_then(|j| j.parent()?.parent().map(PathBuf::from))
        });
        [from_home, from_path].into_iter().flatten().find_map(HostJdk::at)
    }

    fn at(home: PathBuf) -> Option<HostJdk> {
        let (java, javac) = (home.join("bin/java"), home.join("bin/javac"));
        if !java.is_file() || !javac.is_file() {
            return None;
        }
        let release = std::fs::read_to_string(home.join("release")).unwrap_or_default();
        let version = release
            .lines()
            .find_map(|l| l.strip_prefix("JAVA_VERSION="))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default();
        let feature = agent::java_feature(&version);
        tracing::debug!(home = %home.display(), feature, "a JDK on this machine");
        (feature >= 11).then_some(HostJdk { java, home, feature })
    }
}

/// The helper JVM of one target, started on first use and restarted after it died. Dropping it
/// kills and reaps the helper.
pub struct Tools {
    pid: u32,
    start_time: u64,
    uid: u32,
    gid: u32,
    feature: Option<u32>,
    helper: Option<helper::Helper>,
    /// The helper on this machine's JDK, for javac when the target's java has none.
    host: Option<helper::Helper>,
    /// This machine's JDK, once looked for (`Some(None)`: there is none).
    host_jdk: Option<Option<HostJdk>>,
    /// Callback answers, by (class path key, name).
    classes: HashMap<(String, String), Option<Vec<u8>>>,
    packages: HashMap<(String, String), Vec<String>>,
    /// Each request's limit; the shell's --timeout.
    pub timeout: Duration,
}

impl Tools {
    /// For the JVM `target`; nothing starts until the first request. `timeout` bounds each request.
    pub fn new(target: &Target, timeout: Duration) -> Tools {
        Tools {
            pid: target.pid,
            start_time: target.start_time,
            uid: target.euid,
            gid: target.egid,
            feature: target.java_version.as_deref().map(agent::java_feature).filter(|f| *f > 0),
            helper: None,
            host: None,
            host_jdk: None,
            classes: HashMap::new(),
            packages: HashMap::new(),
            timeout,
        }
    }

    /// The target's Java feature version, as the agent reported it (preferred to hsperfdata's).
    pub fn set_feature(&mut self, feature: u32) {
        if feature > 0 {
            self.feature = Some(feature);
        }
    }

    pub fn jars(&self) -> Result<JarSet, ToolsError> {
        jars_for(self.feature.ok_or_else(|| ToolsError::Input("the target's Java version is unknown".into()))?)
    }

    /// Whether this is the helper of `target` (the same process, not a later one with its pid).
    pub fn is_for(&self, target: &Target) -> bool {
        self.pid == target.pid && self.start_time == target.start_time
    }

    /// The helper's pid while it runs (tests check it is gone after a command).
    pub fn helper_pid(&self) -> Option<u32> {
        self.helper.as_ref().map(|h| h.pid)
    }

    /// Starts the helper (`on_host`: the one on this machine's JDK, [`Tools::host_jdk`]) unless it
    /// runs; one that has exited is replaced.
    async fn ensure_helper(&mut self, on_host: bool) -> Result<(), ToolsError> {
        let slot = if on_host { &mut self.host } else { &mut self.helper };
        if let Some(h) = slot
            && let Some(status) = h.exited()
        {
            tracing::warn!(pid = h.pid, on_host, "the helper JVM exited ({status}); starting a new one");
            *slot = None;
        }
        if slot.is_some() {
            return Ok(());
        }
        let (jars, java) = if on_host {
            let jdk =
                self.host_jdk.clone().flatten().ok_or_else(|| ToolsError::Input("no JDK on this machine".into()))?;
            (jars_for(jdk.feature)?, Some(jdk.java))
        } else {
            (self.jars()?, None)
        };
        let h = helper::Helper::start(self.pid, self.uid, self.gid, &jars, self.timeout, java.as_deref()).await?;
        *(if on_host { &mut self.host } else { &mut self.helper }) = Some(h);
        Ok(())
    }

    /// A JDK of this machine whose javac can compile for `release`, when the target's java has no
    /// javac: javac-built classes recompiled by ecj differ in structure (lambda names), so javac
    /// from here (with `--release`, against the target loader's classes) keeps an edit body-only.
    ///
    /// Never for a JVM in a container: the helper would run here, outside the container's
    /// namespaces, on class bytes the container's user controls (its root would be ours).
    pub fn host_jdk(&mut self, release: u32) -> Option<HostJdk> {
        if crate::replace::namespaces::has_other_root(self.pid) {
            return None;
        }
        let found = self.host_jdk.get_or_insert_with(HostJdk::find).clone();
        found.filter(|j| j.feature >= release && j.feature >= 11)
    }

    /// What the helper runs on (its `hello`): the java version and whether it has javac.
    pub async fn info(&mut self) -> Result<HelperInfo, ToolsError> {
        self.ensure_helper(false).await?;
        self.helper.as_ref().map(|h| h.info.clone()).ok_or_else(|| ToolsError::Protocol("no helper".into()))
    }

    /// Fetches, in one request to the agent, the class files of `names` that this value has not
    /// kept yet for `cp`: the decompiler and the compilers then ask for them one by one, and find
    /// them here instead of costing a round trip each.
    pub(crate) async fn prefetch<C: ClassPath>(&mut self, cp: &mut C, names: Vec<String>) {
        let key = cp.key();
        let wanted: Vec<String> =
            names.into_iter().filter(|n| !self.classes.contains_key(&(key.clone(), n.clone()))).collect();
        if wanted.is_empty() {
            return;
        }
        match cp.class_files(&wanted).await {
            Ok(found) => {
                for (name, bytes) in wanted.into_iter().zip(found) {
                    self.classes.insert((key.clone(), name), bytes);
                }
            }
            // Only a shortcut: the helper's callbacks ask again, one at a time.
            Err(e) => tracing::debug!(error = %e, "prefetching class files"),
        }
    }

    /// One request, answering the helper's callbacks through `cp`; a helper that fails or times
    /// out is stopped, and the next request starts a new one. `on_host`: the helper of this
    /// machine's JDK ([`Tools::host_jdk`]) instead of the target's.
    pub(crate) async fn call<C: ClassPath>(
        &mut self,
        header: serde_json::Value,
        blobs: Vec<Vec<u8>>,
        cp: &mut C,
        on_host: bool,
    ) -> Result<(serde_json::Value, Vec<Vec<u8>>), ToolsError> {
        self.ensure_helper(on_host).await?;
        // Answers are kept per helper too: the host's javac reads platform classes from its own
        // JDK, never from these callbacks, but a class-path answer is the same for both.
        let key = cp.key();
        let timeout = self.timeout;
        let mut cache = helper::Cache { key, classes: &mut self.classes, packages: &mut self.packages };
        let slot = if on_host { &mut self.host } else { &mut self.helper };
        let h = match slot {
            Some(h) => h,
            None => return Err(ToolsError::Protocol("no helper".into())),
        };
        let r = h.call(header, blobs, cp, &mut cache, timeout).await;
        if let Err(ToolsError::Died { .. } | ToolsError::Timeout { .. } | ToolsError::Protocol(_)) = &r {
            *slot = None;
        }
        r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A class `p/A` with native methods and fields of the given names (no code needed).
    fn class_with(methods: &[&str], fields: &[&str]) -> Vec<u8> {
        let utf8 = |s: &str| {
            let mut v = vec![1u8];
            v.extend((s.len() as u16).to_be_bytes());
            v.extend(s.as_bytes());
            v
        };
        let mut cp: Vec<Vec<u8>> =
            vec![utf8("p/A"), vec![7, 0, 1], utf8("java/lang/Object"), vec![7, 0, 3], utf8("()V"), utf8("I")];
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 55];
        let first = cp.len() as u16 + 1;
        for n in methods.iter().chain(fields) {
            cp.push(utf8(n));
        }
        b.extend(((cp.len() + 1) as u16).to_be_bytes());
        for e in &cp {
            b.extend(e);
        }
        b.extend(0x0021u16.to_be_bytes());
        b.extend(2u16.to_be_bytes());
        b.extend(4u16.to_be_bytes());
        b.extend(0u16.to_be_bytes());
        b.extend((fields.len() as u16).to_be_bytes());
        for i in 0..fields.len() {
            b.extend(0x000Au16.to_be_bytes()); // private static
            b.extend((first + (methods.len() + i) as u16).to_be_bytes());
            b.extend(6u16.to_be_bytes());
            b.extend(0u16.to_be_bytes());
        }
        b.extend((methods.len() as u16).to_be_bytes());
        for i in 0..methods.len() {
            b.extend(0x010Au16.to_be_bytes()); // private static native
            b.extend((first + i as u16).to_be_bytes());
            b.extend(5u16.to_be_bytes());
            b.extend(0u16.to_be_bytes());
        }
        b.extend(0u16.to_be_bytes());
        b
    }

    #[test]
    fn the_original_compiler_is_told_by_its_synthetic_members() {
        let javac = class_with(&["lambda$main$0", "run"], &[]);
        let ecj_lambda = class_with(&["lambda$0", "run"], &[]);
        let ecj_switch = class_with(&["run"], &["$SWITCH_TABLE$p$Color"]);
        assert!(jhot_classfile::read(&javac).is_ok(), "the test class parses");
        assert_eq!(detect_compiler([javac.as_slice()]), Compiler::Javac);
        assert_eq!(detect_compiler([ecj_lambda.as_slice()]), Compiler::Ecj);
        assert_eq!(detect_compiler([javac.as_slice(), ecj_switch.as_slice()]), Compiler::Ecj);
        // `lambda$` alone or with a name is javac's, and garbage is no evidence either way.
        assert_eq!(detect_compiler([class_with(&["lambda$"], &[]).as_slice(), b"junk".as_slice()]), Compiler::Javac);
    }

    #[test]
    fn the_targets_jdk_picks_the_jars() {
        assert_eq!(jars_for(11).expect("11").decompiler, "vineflower 1.10.1");
        assert_eq!(jars_for(16).expect("16").ecj, "ecj 3.33.0");
        assert_eq!(jars_for(17).expect("17").decompiler, "vineflower 1.12.0");
        assert_eq!(jars_for(25).expect("25").ecj, "ecj 3.46.100");
        let e = jars_for(8).expect_err("8");
        assert_eq!(e.exit_code(), ExitCode::Input);
        // Each jar is a zip (the helper's, Vineflower, ECJ), not an empty placeholder.
        for set in [jars_for(11).expect("11"), jars_for(21).expect("21")] {
            for jar in set.jars {
                assert!(jar.len() > 10_000 && jar.starts_with(b"PK\x03\x04"), "{}", jar.len());
            }
        }
    }

    #[test]
    fn a_directory_class_path_serves_files_and_lists_packages() {
        let dir = tempfile::tempdir().expect("tmp");
        let pkg = dir.path().join("p/q");
        std::fs::create_dir_all(&pkg).expect("mkdir");
        std::fs::write(pkg.join("A.class"), b"A").expect("write");
        std::fs::write(pkg.join("A$1.class"), b"A1").expect("write");
        std::fs::write(pkg.join("package-info.class"), b"x").expect("write");
        std::fs::write(pkg.join("notes.txt"), b"x").expect("write");
        let mut cp = DirClassPath { dirs: vec![dir.path().join("missing"), dir.path().to_path_buf()] };
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        let got = rt.block_on(cp.class_files(&["p.q.A".into(), "p.q.A$1".into(), "p.q.B".into()])).expect("files");
        assert_eq!(got, vec![Some(b"A".to_vec()), Some(b"A1".to_vec()), None]);
        assert_eq!(rt.block_on(cp.package("p.q")).expect("list"), vec!["p.q.A", "p.q.A$1"]);
        assert!(rt.block_on(cp.package("p.r")).expect("list").is_empty());
    }

    #[test]
    fn errors_say_what_to_do_and_exit_6() {
        let e = ToolsError::NotLoaded { pid: 42, class: "a.B".into(), loader: None };
        assert_eq!(
            e.to_string(),
            "a.B is not loaded in JVM 42; `jhot sc 42 <pattern>` lists the classes it has loaded"
        );
        assert_eq!(e.exit_code(), ExitCode::Input);
        let e = ToolsError::SeveralLoaders {
            pid: 42,
            class: "a.B".into(),
            loaders: vec!["0x1 (app)".into(), "0x2 (plugin)".into()],
        };
        assert_eq!(
            e.to_string(),
            "a.B is defined by 2 class loaders in JVM 42: 0x1 (app), 0x2 (plugin); name one with --loader"
        );
        assert_eq!(e.details(), Some(serde_json::json!({ "loaders": ["0x1 (app)", "0x2 (plugin)"] })));
        let e = ToolsError::Died {
            pid: 7,
            status: "killed by signal 9".into(),
            doing: "exited during the request",
            stderr: "OOM\n".into(),
        };
        assert_eq!(
            e.to_string(),
            "the helper JVM (pid 7) killed by signal 9 exited during the request; its stderr ends with:\nOOM"
        );
    }
}
