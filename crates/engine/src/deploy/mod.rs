//! `jhot deploy PID BUILD`: compares a new build with what the JVM runs and takes the least
//! disruptive path — nothing, one atomic redefinition, or a process replacement.
//!
//! What the JVM runs comes from its agent: `inventory` hashes the bytes in effect for every loaded
//! application class (jhot's own patches included), and `resources` hashes what the application's
//! class loader would serve for everything else in the build (classes not loaded yet, resources) —
//! from the jars the JVM has open, so a build rebuilt in place is still compared with the code that
//! runs. Only classes whose hashes differ are fetched and diffed by HotSpot's rules.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agent::protocol::{
    ClassRef, DefineRef, DeployMark, Inventory, InventoryLoader, Redefined, Request, ResourceHashes,
};
use crate::agent::{self, AgentError, Session};
use crate::archive::{self, ClassSource};
use crate::changes;
use crate::error::Error;
use crate::replace::command::{NewBuild, ProcessImage};
use crate::replace::{self, ReplaceOptions, ReplaceReport};
use jhot_attach::{AttachOptions, Target};
use jhot_classfile::verdict::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// nothing, a redefinition, or a replacement: whatever the change needs
    Auto,
    /// only ever redefine; refuse (exit 7) what needs a replacement
    Redefine,
    /// replace the process whatever changed
    Replace,
}

#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub mode: Mode,
    pub dry_run: bool,
    pub timeout: Duration,
    pub attach_opts: AttachOptions,
    /// For the replacement path; its `build` is decided here.
    pub replace: ReplaceOptions,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Nothing,
    Redefine,
    Replace,
}

/// One class that differs from what the JVM runs.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    pub name: String,
    /// `body_only`, `structural`, `new` (not in the JVM: defined before the redefinition),
    /// `pending` (in the JVM's class path but not loaded yet: its new bytes are used when it loads),
    /// `removed` (loaded, but not in the build).
    pub change: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Where the new bytes come from (a dependency jar inside the build shows here).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub origin: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub unchanged: usize,
    pub body_only: usize,
    pub structural: usize,
    pub new: usize,
    pub pending: usize,
    pub removed: usize,
    /// Loaded classes the running build never had (generated at run time: proxies, Hibernate's
    /// and ByteBuddy's classes in the application's packages; or from another code source): not
    /// "removed", and left alone.
    pub left_alone: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceChange {
    pub name: String,
    /// `changed` or `new`.
    pub change: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub pid: u32,
    pub build: String,
    pub build_sha256: String,
    /// The class loader the build's classes live in (the one holding most of them).
    pub loader: Option<InventoryLoader>,
    /// Classes of the build, and loaded application classes the JVM has.
    pub build_classes: usize,
    pub loaded_classes: usize,
    pub counts: Counts,
    /// Every class that is not unchanged.
    pub classes: Vec<Changed>,
    pub resources: Vec<ResourceChange>,
    /// Dependency jars of the build whose classes changed.
    pub dependencies: Vec<String>,
    pub decision: Decision,
    /// Why the decision is what it is, in words.
    pub reasons: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct Applied {
    pub redefined: usize,
    pub pending: usize,
    pub defined: usize,
    pub deploy_id: String,
    pub jvm_ms: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Timings {
    pub plan: f64,
    pub apply: f64,
    pub total: f64,
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub decision: Decision,
    pub dry_run: bool,
    pub plan: Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redefinition: Option<Applied>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<ReplaceReport>,
    /// Disk and memory disagreeing, and what would bring stale code back.
    pub warnings: Vec<String>,
    pub timings_ms: Timings,
}

/// Classes made at run time (proxies, CGLIB/ByteBuddy subclasses) are loaded but were never in any
/// build: not "removed".
fn generated(name: &str) -> bool {
    name.contains("$$")
        || name.contains("$Proxy")
        || name.contains("$HibernateProxy")
        || name.contains("$ByteBuddy")
        || name.starts_with("jdk.proxy")
        || name.starts_with("com.sun.proxy")
}

/// Which classes the application's loader has loaded that the new build no longer has, and how
/// many loaded classes are left alone. A class is removed only if the build the JVM runs had it:
/// `old` (that build, when jhot could read it as the JVM has it) says so, else the URL its loader
/// serves the class file from (`urls`, by resource name) must point into what the JVM was started
/// with. Classes made at run time (no class file, or a generated name) and classes from other
/// code sources are never reasons to replace a process.
fn removed_classes<'a>(
    loaded: &[&'a str],
    in_build: &std::collections::HashSet<&str>,
    old: Option<&dyn Fn(&str) -> bool>,
    urls: &HashMap<String, String>,
    started: &[PathBuf],
) -> (Vec<&'a str>, usize) {
    let mut removed = Vec::new();
    let mut left_alone = 0;
    for &name in loaded.iter().filter(|n| !in_build.contains(*n)) {
        let had = !generated(name)
            && match old {
                Some(had) => had(name),
                None => urls.get(&format!("{}.class", name.replace('.', "/"))).is_some_and(|u| served_from(u, started)),
            };
        if had {
            removed.push(name);
        } else {
            left_alone += 1;
        }
    }
    (removed, left_alone)
}

/// Whether a class-file URL the application's loader serves points into one of the jars or
/// directories the JVM was started with: `file:/dir/a/B.class`, `jar:file:/x.jar!/…`, Spring
/// Boot's `jar:nested:/x.jar/!BOOT-INF/classes/!/…`.
fn served_from(url: &str, started: &[PathBuf]) -> bool {
    let path = if let Some(rest) = url.strip_prefix("jar:file:") {
        rest.split("!/").next().unwrap_or(rest)
    } else if let Some(rest) = url.strip_prefix("jar:nested:") {
        rest.split("/!").next().unwrap_or(rest)
    } else if let Some(rest) = url.strip_prefix("file:") {
        rest
    } else {
        return false;
    };
    let path = PathBuf::from(percent_decode(path));
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let path = canon(&path);
    started.iter().map(|s| canon(s)).any(|s| path == s || path.starts_with(&s) && s.is_dir())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn lib_of(origin: &str) -> Option<String> {
    for marker in ["!/BOOT-INF/lib/", "!/WEB-INF/lib/"] {
        if let Some(i) = origin.find(marker) {
            let rest = &origin[i + marker.len()..];
            return Some(rest.split("!/").next().unwrap_or(rest).to_string());
        }
    }
    None
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

pub async fn deploy(pid: u32, build: &[PathBuf], opts: &DeployOptions) -> Result<DeployReport, Error> {
    let t0 = Instant::now();
    let build: Vec<PathBuf> = build.iter().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())).collect();
    for p in &build {
        if !p.exists() {
            return Err(archive::ArchiveError::Missing { path: p.clone() }.into());
        }
    }
    let target = Target::open(pid)?;
    // Read once: what the JVM was started from decides how the old build is read, where a
    // replacement puts the new one, and whether disk and memory will disagree.
    let image = ProcessImage::read(pid)?;
    let feature = target.java_version.as_deref().map(agent::java_feature).unwrap_or(17);

    let started = started_from(&image);
    // One jar started, one jar deployed (the common case, Spring Boot's fat jars included): both
    // are indexed, not read whole, and the agent names code sources instead of hashing.
    if let ([one], [jar]) = (build.as_slice(), started.as_slice())
        && one.is_file()
        && !jar.is_dir()
        && let Some(report) = deploy_jar(&target, &image, one, feature, opts, t0).await?
    {
        return Ok(report);
    }

    // The JVM's inventory and the reading of both builds overlap: one runs in the JVM, the other
    // on a blocking thread here.
    let local = {
        let build = build.clone();
        let start = target.start_time;
        let image = image.clone();
        tokio::task::spawn_blocking(move || -> Result<_, archive::ArchiveError> {
            let t = Instant::now();
            let snap = archive::snapshot_keeping_bytes(&build)?;
            let snap_ms = ms(t.elapsed());
            let old = old_build(&image, start);
            tracing::debug!(snap_ms, old_ms = ms(t.elapsed()) - snap_ms, "builds read");
            Ok((snap, old))
        })
    };
    let inventory = inventory(&target, opts, false);
    let (local, call) = tokio::join!(local, inventory);
    let (snap, old) = local.map_err(|e| Error::Input(format!("reading the build failed: {e}")))??;
    let call = call?;
    let (inventory, _) = call.answer?;
    tracing::debug!(
        ms = ms(t0.elapsed()),
        classes = inventory.classes.len(),
        build = snap.classes.len(),
        old = old.is_some(),
        "inventory and builds read"
    );
    if snap.classes.is_empty() && snap.versioned.is_empty() {
        return Err(Error::Input(format!(
            "{}: no class in this build",
            build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ")
        )));
    }
    let mut session = match call.session {
        Some(s) => s,
        None => agent::wait_for_channel(&target, opts.timeout).await?,
    };
    let inputs = Inputs { target: &target, build: &build, snap: &snap, old: old.as_ref(), feature, started: &started };
    let mut plan = plan(&inputs, &inventory, &mut session).await?;
    decide(&mut plan, opts.mode);
    finish(&target, &image, &build, plan, &snap, session, opts, t0).await
}

/// `jhot deploy` of one jar into a JVM started from one jar: both are indexed rather than read
/// whole, and the agent lists classes loaded from the unchanged jar by code source instead of
/// hashing them; entries are compared by bytes, nested jar by nested jar. `Ok(None)`: the JVM's
/// jar cannot be read as the JVM has it (replaced on disk and closed), so the general path plans.
async fn deploy_jar(
    target: &Target,
    image: &ProcessImage,
    build: &Path,
    feature: u32,
    opts: &DeployOptions,
    t0: Instant,
) -> Result<Option<DeployReport>, Error> {
    let local = {
        let build = build.to_path_buf();
        let (start, image) = (target.start_time, image.clone());
        // The two jars on two threads: the machine's other core is mostly the JVM's inventory's,
        // which is short with code sources.
        tokio::task::spawn_blocking(move || -> Result<_, archive::ArchiveError> {
            let t = Instant::now();
            std::thread::scope(|s| {
                let old = s.spawn(|| match old_jars(&image, start) {
                    Some(mut jars) if jars.len() == 1 => {
                        let (path, bytes) = jars.remove(0);
                        archive::index::Index::read(&path, bytes).ok()
                    }
                    _ => None,
                });
                let bytes = std::fs::read(&build)
                    .map_err(|e| archive::ArchiveError::Read { path: build.clone(), source: e })?;
                let digest = archive::sha_hex(&bytes);
                let new = archive::index::Index::read(&build, bytes)?;
                let new_ms = ms(t.elapsed());
                let old = old.join().unwrap_or(None);
                tracing::debug!(new_ms, both_ms = ms(t.elapsed()), "jars indexed");
                Ok((new, old, digest))
            })
        })
    };
    let inventory = inventory(target, opts, true);
    let (local, call) = tokio::join!(local, inventory);
    let (mut new, old, digest) = local.map_err(|e| Error::Input(format!("reading the build failed: {e}")))??;
    let call = call?;
    let Some(mut old) = old else { return Ok(None) };
    let (inventory, _) = call.answer?;
    if new.classes.is_empty() && new.versioned.is_empty() {
        return Err(Error::Input(format!("{}: no class in this build", build.display())));
    }
    let mut session = match call.session {
        Some(s) => s,
        None => agent::wait_for_channel(target, opts.timeout).await?,
    };
    let (mut plan, snap) =
        plan_jar(target, build, &mut new, &mut old, &digest, feature, &inventory, &mut session).await?;
    decide(&mut plan, opts.mode);
    finish(target, image, &[build.to_path_buf()], plan, &snap, session, opts, t0).await.map(Some)
}

/// Where in the JVM's jar a code source is: `jar:nested:/app.jar/!BOOT-INF/lib/x.jar!/` →
/// `BOOT-INF/lib/x.jar`, `…/!BOOT-INF/classes/!/` → `BOOT-INF/classes/`, `file:/app.jar` → `""`
/// (Spring Boot before 3.2 writes `jar:file:/app.jar!/BOOT-INF/lib/x.jar!/`). None for another jar.
fn unit_of_location(location: &str, jar: &Path) -> Option<String> {
    let (outer, inner) = if let Some(rest) = location.strip_prefix("jar:nested:") {
        let (o, i) = rest.split_once("/!")?;
        (o, i.trim_end_matches("!/").trim_end_matches('!'))
    } else if let Some(rest) = location.strip_prefix("jar:file:") {
        let (o, i) = rest.split_once("!/")?;
        (o, i.trim_end_matches("!/").trim_end_matches('!'))
    } else if let Some(rest) = location.strip_prefix("file:") {
        (rest, "")
    } else {
        return None;
    };
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if canon(Path::new(&percent_decode(outer))) != canon(jar) {
        return None;
    }
    let inner =
        if inner == "BOOT-INF/classes" || inner == "WEB-INF/classes" { format!("{inner}/") } else { inner.to_string() };
    Some(inner)
}

/// What the JVM runs of one loaded class, as the inventory says.
enum Running<'a> {
    /// The hash of the bytes it runs (jhot's patch, or its class file read by the agent).
    Hash(&'a str),
    /// The bytes of this entry of the JVM's jar (unit key), unchanged since the JVM started.
    Entry(String),
    /// Not known here: ask the JVM for them when the build has the class.
    Unknown,
}

/// [`plan`] for one jar against the one jar the JVM runs.
#[allow(clippy::too_many_arguments)]
async fn plan_jar(
    target: &Target,
    build: &Path,
    new: &mut archive::index::Index,
    old: &mut archive::index::Index,
    digest: &str,
    feature: u32,
    inventory: &Inventory,
    session: &mut Session,
) -> Result<(Plan, archive::Snapshot), Error> {
    let pid = target.pid;
    let old_path = old.path.clone();
    let units: Vec<Option<String>> = inventory.code_sources.iter().map(|l| unit_of_location(l, &old_path)).collect();
    let names: Vec<String> = new
        .classes
        .keys()
        .chain(new.versioned.keys())
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut running: HashMap<&str, Vec<(&str, Running)>> = HashMap::new();
    for c in &inventory.classes {
        let state = match (c.cs.and_then(|i| units.get(i).cloned().flatten()), c.sha256.as_deref()) {
            (Some(unit), _) => Running::Entry(unit),
            (None, Some(h)) => Running::Hash(h),
            (None, None) => Running::Unknown,
        };
        running.entry(c.name.as_str()).or_default().push((c.loader.as_str(), state));
    }
    let Some(main) = main_loader(inventory, |n| new.classes.contains_key(n) || new.versioned.contains_key(n)) else {
        return Err(Error::Input(format!(
            "pid {pid} does not run this build: none of its {} classes is loaded there (another application, or a \
             build of something else?); nothing was changed",
            names.len()
        )));
    };
    let loader = inventory.loaders.iter().find(|l| l.id == main).cloned();

    let mut counts = Counts::default();
    let mut changed: Vec<Changed> = Vec::new();
    let mut differs_loaded: Vec<ClassSource> = Vec::new();
    let mut pair = archive::index::Pair::new(old, new);
    let mut hashes: HashMap<archive::index::Loc, String> = HashMap::new();
    for name in &names {
        let Some(nloc) = pair.new.effective(name, feature) else { continue };
        let origin = pair.new.origin(nloc);
        match running.get(name.as_str()) {
            Some(copies) => {
                let mut same = true;
                for (_, state) in copies {
                    let equal = match state {
                        Running::Entry(unit) => match pair.old.in_unit(unit, name, feature) {
                            Some(oloc) => pair.equal(oloc, nloc)?,
                            None => false,
                        },
                        Running::Hash(h) => {
                            let sha = match hashes.get(&nloc) {
                                Some(s) => s.clone(),
                                None => {
                                    let s = pair.new.sha(nloc)?;
                                    hashes.insert(nloc, s.clone());
                                    s
                                }
                            };
                            *h == sha
                        }
                        Running::Unknown => false,
                    };
                    same &= equal;
                }
                if same {
                    counts.unchanged += 1;
                } else if pair.new.versioned.contains_key(name) {
                    counts.structural += 1;
                    changed.push(Changed {
                        name: name.clone(),
                        change: "structural".into(),
                        reasons: vec![format!(
                            "a Java {feature} variant of a multi-release jar changed; jhot does not redefine those"
                        )],
                        origin,
                    });
                } else {
                    differs_loaded.push(pair.new.class(nloc)?);
                }
            }
            None => match pair.old.effective(name, feature) {
                Some(oloc) if pair.equal(oloc, nloc)? => counts.unchanged += 1,
                Some(_) => {
                    counts.pending += 1;
                    changed.push(Changed { name: name.clone(), change: "pending".into(), reasons: vec![], origin });
                }
                None => {
                    counts.new += 1;
                    changed.push(Changed { name: name.clone(), change: "new".into(), reasons: vec![], origin });
                }
            },
        }
    }

    let mut resource_changes = Vec::new();
    let new_resources: Vec<(String, archive::index::Loc)> =
        pair.new.resources.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for (name, nloc) in &new_resources {
        match pair.old.resources.get(name).copied() {
            Some(oloc) if pair.equal(oloc, *nloc)? => {}
            Some(_) => resource_changes.push(ResourceChange { name: name.clone(), change: "changed".into() }),
            None => resource_changes.push(ResourceChange { name: name.clone(), change: "new".into() }),
        }
    }
    for name in pair.old.resources.keys().filter(|n| !pair.new.resources.contains_key(*n)) {
        resource_changes.push(ResourceChange { name: name.clone(), change: "removed".into() });
    }
    let file = |key: &str| key.rsplit('/').next().unwrap_or(key).to_string();
    let new_libs: Vec<String> = pair.new.libs().map(str::to_string).collect();
    let old_libs: Vec<String> = pair.old.libs().map(str::to_string).collect();
    let mut dependencies: Vec<String> = new_libs.iter().filter(|l| pair.lib_changed(l)).map(|l| file(l)).collect();
    dependencies.extend(old_libs.iter().filter(|l| !new_libs.contains(l)).map(|l| format!("{} (removed)", file(l))));
    dependencies.sort();
    dependencies.dedup();

    if !differs_loaded.is_empty() {
        judge(session, target, &differs_loaded, &mut counts, &mut changed).await?;
    }

    let in_build: std::collections::HashSet<&str> = names.iter().map(String::as_str).collect();
    let loaded_by_main: Vec<&str> =
        inventory.classes.iter().filter(|c| c.loader == main).map(|c| c.name.as_str()).collect();
    let had = |n: &str| pair.old.classes.contains_key(n) || pair.old.versioned.contains_key(n);
    let (removed, left_alone) = removed_classes(&loaded_by_main, &in_build, Some(&had), &HashMap::new(), &[]);
    record_removed(removed, left_alone, &mut counts, &mut changed);
    changed.sort_by(|a, b| a.change.cmp(&b.change).then(a.name.cmp(&b.name)));
    // Only the classes a redefinition or a definition would send are read whole.
    let wanted: Vec<&str> = changed.iter().filter(|c| c.change != "removed").map(|c| c.name.as_str()).collect();
    let snap = pair.new.snapshot_of(wanted, feature, digest)?;
    let plan = Plan {
        pid,
        build: build.display().to_string(),
        build_sha256: digest.to_string(),
        loader,
        build_classes: names.len(),
        loaded_classes: inventory.classes.len(),
        counts,
        classes: changed,
        resources: resource_changes,
        dependencies,
        decision: Decision::Nothing,
        reasons: Vec::new(),
    };
    Ok((plan, snap))
}

/// What the JVM runs (see [`Request::Inventory`]), loading the agent if needed; its timing goes
/// to the debug log.
async fn inventory(
    target: &Target,
    opts: &DeployOptions,
    code_sources: bool,
) -> Result<agent::Call<Inventory>, AgentError> {
    let t = Instant::now();
    let r = agent::call_or_load::<Inventory>(
        target,
        &opts.attach_opts,
        opts.timeout,
        &Request::Inventory { code_sources },
        vec![],
    )
    .await;
    if let Ok(Ok((inv, _))) = r.as_ref().map(|c| c.answer.as_ref()) {
        tracing::debug!(
            ms = ms(t.elapsed()),
            agent_ms = inv.elapsed_us as f64 / 1000.0,
            classes = inv.classes.len(),
            "inventory"
        );
    }
    r
}

/// From a plan to what was done: nothing (a dry run), a redefinition, or a replacement.
#[allow(clippy::too_many_arguments)]
async fn finish(
    target: &Target,
    image: &ProcessImage,
    build: &[PathBuf],
    plan: Plan,
    snap: &archive::Snapshot,
    mut session: Session,
    opts: &DeployOptions,
    t0: Instant,
) -> Result<DeployReport, Error> {
    let (target, image, build) = (target.clone(), image.clone(), build.to_vec());
    let pid = target.pid;
    let plan_ms = ms(t0.elapsed());
    tracing::debug!(ms = plan_ms, "planned");

    let mut report = DeployReport {
        decision: plan.decision,
        dry_run: opts.dry_run,
        plan,
        redefinition: None,
        replacement: None,
        warnings: Vec::new(),
        timings_ms: Timings { plan: plan_ms, ..Timings::default() },
    };
    if report.plan.decision == Decision::Replace && opts.mode == Mode::Redefine {
        return Err(Error::NeedsReplace { reasons: report.plan.reasons.clone() });
    }
    if opts.dry_run || report.plan.decision == Decision::Nothing {
        report.timings_ms.total = ms(t0.elapsed());
        return Ok(report);
    }
    let t1 = Instant::now();
    // The end-to-end tests force the race between planning and applying (a class loading in
    // between) with a command run here; it runs as the invoking user, from their environment.
    if let Some(hook) = std::env::var_os("JHOT_TEST_BEFORE_APPLY") {
        let _ = tokio::task::spawn_blocking(move || std::process::Command::new("/bin/sh").arg("-c").arg(hook).status())
            .await;
    }
    // The plan is checked again where it is applied (in the agent, under its lock): a class that
    // loaded since it was made is judged again and the plan decided again, a few times at most.
    let mut attempts = 0;
    while report.plan.decision == Decision::Redefine {
        attempts += 1;
        match redefine(&mut session, &report.plan, snap, &build).await {
            Ok(applied) => {
                report.redefinition = Some(applied);
                report.warnings.extend(disk_warning(&image, &build));
                break;
            }
            Err(Error::Agent(AgentError::Refused(f))) if f.kind == "loaded_since_plan" && attempts < 4 => {
                let names = f.classes.clone();
                tracing::debug!(?names, "classes loaded since the plan; planning them again");
                replan_loaded(&mut report.plan, &names, snap, &mut session, &target, opts.mode).await?;
                report.decision = report.plan.decision;
                if report.plan.decision == Decision::Replace && opts.mode == Mode::Redefine {
                    return Err(Error::NeedsReplace { reasons: report.plan.reasons.clone() });
                }
            }
            // In auto mode the JVM's refusal is never the answer: the build goes in by replacement.
            Err(Error::Rejected { jvm_message, .. }) if opts.mode == Mode::Auto => {
                report.plan.reasons.insert(0, format!("the JVM refused the redefinition ({jvm_message}); nothing was changed, so the build goes in by replacement"));
                report.plan.decision = Decision::Replace;
                report.decision = Decision::Replace;
            }
            Err(e) => return Err(e),
        }
    }
    match report.plan.decision {
        Decision::Replace => {
            drop(session);
            let mut r = opts.replace.clone();
            r.build = replacement_build(&image, &build)?;
            let replaced = replace::replace(pid, &r).await?;
            report.replacement = Some(replaced);
        }
        Decision::Redefine | Decision::Nothing => {}
    }
    report.timings_ms.apply = ms(t1.elapsed());
    report.timings_ms.total = ms(t0.elapsed());
    Ok(report)
}

/// What the plan compares.
struct Inputs<'a> {
    target: &'a Target,
    build: &'a [PathBuf],
    /// The build: names and hashes of everything, bytes of every class.
    snap: &'a archive::Snapshot,
    /// The build the JVM was started from, as the JVM has it open (None: class directories, or a
    /// jar changed on disk since the JVM started and no longer open).
    old: Option<&'a archive::Snapshot>,
    /// The JVM's Java feature release (multi-release jars serve per release).
    feature: u32,
    /// The jars and directories the JVM was started with (its class path or `-jar`).
    started: &'a [PathBuf],
}

async fn plan(inputs: &Inputs<'_>, inventory: &Inventory, session: &mut Session) -> Result<Plan, Error> {
    let Inputs { target, build, snap, old, feature, started } = *inputs;
    let pid = target.pid;
    // A parsed class only where one is needed: diffs, and definitions of new classes.
    let parse = |name: &str| -> Result<ClassSource, Error> {
        snap.class(name).ok_or_else(|| Error::Input(format!("{name}: not in the build")))?.map_err(Error::from)
    };
    let origin = |name: &str| snap.bytes.get(name).map(|(_, o)| o.clone()).unwrap_or_default();
    let names: Vec<&str> = snap
        .classes
        .keys()
        .chain(snap.versioned.keys())
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut running: HashMap<&str, Vec<(&str, &str)>> = HashMap::new();
    for c in &inventory.classes {
        running.entry(c.name.as_str()).or_default().push((c.loader.as_str(), c.sha256.as_deref().unwrap_or("")));
    }
    let Some(main) = main_loader(inventory, |n| snap.classes.contains_key(n) || snap.versioned.contains_key(n)) else {
        return Err(Error::Input(format!(
            "pid {pid} does not run this build: none of its {} classes is loaded there (another application, or a \
             build of something else?); nothing was changed",
            names.len()
        )));
    };
    let loader = inventory.loaders.iter().find(|l| l.id == main).cloned();

    let mut counts = Counts::default();
    let mut changed: Vec<Changed> = Vec::new();
    let mut differs_loaded: Vec<ClassSource> = Vec::new();
    let mut probe: Vec<&str> = Vec::new();
    let mut multi_release: Vec<Changed> = Vec::new();
    for &name in &names {
        let Some(new) = snap.effective(name, feature).cloned() else { continue };
        match running.get(name) {
            Some(copies) if copies.iter().all(|(_, sha)| *sha == new) => counts.unchanged += 1,
            // A multi-release variant: jhot redefines plain class files only.
            Some(_) if snap.versioned.contains_key(name) => multi_release.push(Changed {
                name: name.to_string(),
                change: "structural".into(),
                reasons: vec![format!(
                    "a Java {feature} variant of a multi-release jar changed; jhot does not redefine those"
                )],
                origin: origin(name),
            }),
            Some(_) => differs_loaded.push(parse(name)?),
            None => match old.map(|o| o.effective(name, feature)) {
                // Not loaded: compared with the build the JVM was started from.
                Some(Some(sha)) if *sha == new => counts.unchanged += 1,
                Some(Some(_)) => {
                    counts.pending += 1;
                    changed.push(Changed {
                        name: name.to_string(),
                        change: "pending".into(),
                        reasons: vec![],
                        origin: origin(name),
                    });
                }
                Some(None) => {
                    counts.new += 1;
                    changed.push(Changed {
                        name: name.to_string(),
                        change: "new".into(),
                        reasons: vec![],
                        origin: origin(name),
                    });
                }
                None => probe.push(name),
            },
        }
    }
    counts.structural += multi_release.len();
    changed.extend(multi_release);

    // Loaded by the application's loader, yet not in the new build. "Removed" only if the build
    // the JVM runs had it: the old build says so when jhot can read it, else where the loader
    // serves the class file from. A class with no class file (generated at run time) or from
    // another code source is left alone.
    let in_build: std::collections::HashSet<&str> = names.iter().copied().collect();
    let loaded_by_main: Vec<&str> =
        inventory.classes.iter().filter(|c| c.loader == main).map(|c| c.name.as_str()).collect();
    let gone: Vec<&str> = loaded_by_main.iter().copied().filter(|n| !in_build.contains(n) && !generated(n)).collect();

    // Classes not loaded and the build's resources, as the application's loader serves them now.
    let mut asked: Vec<String> = probe.iter().map(|n| format!("{}.class", n.replace('.', "/"))).collect();
    if old.is_none() {
        asked.extend(snap.resources.keys().cloned());
        asked.extend(gone.iter().map(|n| format!("{}.class", n.replace('.', "/"))));
    }
    let mut urls: HashMap<String, String> = HashMap::new();
    let served: HashMap<String, Option<String>> = if asked.is_empty() {
        HashMap::new()
    } else {
        let (answer, _) = session
            .call::<ResourceHashes>(&Request::Resources { loader: main.to_string(), names: asked }, vec![])
            .await?;
        answer
            .resources
            .into_iter()
            .map(|r| {
                if let Some(u) = r.url {
                    urls.insert(r.name.clone(), u);
                }
                (r.name, r.sha256)
            })
            .collect()
    };
    for &name in &probe {
        let key = format!("{}.class", name.replace('.', "/"));
        match served.get(&key).cloned().flatten() {
            Some(sha) if Some(&sha) == snap.effective(name, feature) => counts.unchanged += 1,
            Some(_) => {
                counts.pending += 1;
                changed.push(Changed {
                    name: name.to_string(),
                    change: "pending".into(),
                    reasons: vec![],
                    origin: origin(name),
                });
            }
            None => {
                counts.new += 1;
                changed.push(Changed {
                    name: name.to_string(),
                    change: "new".into(),
                    reasons: vec![],
                    origin: origin(name),
                });
            }
        }
    }
    let mut resource_changes = Vec::new();
    for (name, sha) in &snap.resources {
        let before = match old {
            Some(o) => o.resources.get(name).cloned(),
            None => served.get(name).cloned().flatten(),
        };
        match before {
            Some(b) if b == *sha => {}
            Some(_) => resource_changes.push(ResourceChange { name: name.clone(), change: "changed".into() }),
            None => resource_changes.push(ResourceChange { name: name.clone(), change: "new".into() }),
        }
    }
    if let Some(o) = old {
        for name in o.resources.keys().filter(|n| !snap.resources.contains_key(*n)) {
            resource_changes.push(ResourceChange { name: name.clone(), change: "removed".into() });
        }
    }

    // Loaded classes that differ: their bytes in effect, diffed by the JVM's own rules.
    if !differs_loaded.is_empty() {
        judge(session, target, &differs_loaded, &mut counts, &mut changed).await?;
    }

    let had = |n: &str| old.is_some_and(|o| o.classes.contains_key(n) || o.versioned.contains_key(n));
    let (removed, left_alone) =
        removed_classes(&loaded_by_main, &in_build, old.map(|_| &had as &dyn Fn(&str) -> bool), &urls, started);
    record_removed(removed, left_alone, &mut counts, &mut changed);
    let mut dependencies: Vec<String> = changed.iter().filter_map(|c| lib_of(&c.origin)).collect();
    if let Some(o) = old {
        // Jars compared whole: a new version, a rebuilt SNAPSHOT, an added or removed library.
        for (lib, sha) in &snap.libs {
            if o.libs.get(lib) != Some(sha) {
                dependencies.push(lib.clone());
            }
        }
        dependencies.extend(o.libs.keys().filter(|l| !snap.libs.contains_key(*l)).map(|l| format!("{l} (removed)")));
    }
    dependencies.sort();
    dependencies.dedup();
    changed.sort_by(|a, b| a.change.cmp(&b.change).then(a.name.cmp(&b.name)));

    Ok(Plan {
        pid,
        build: build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
        build_sha256: snap.digest.clone(),
        loader,
        build_classes: names.len(),
        loaded_classes: inventory.classes.len(),
        counts,
        classes: changed,
        resources: resource_changes,
        dependencies,
        decision: Decision::Nothing,
        reasons: Vec::new(),
    })
}

impl Counts {
    /// Counts a loaded class by its verdict and names the change (`unchanged` for anything but a
    /// structural or body-only one).
    fn count(&mut self, verdict: Verdict) -> &'static str {
        match verdict {
            Verdict::Structural => {
                self.structural += 1;
                "structural"
            }
            Verdict::BodyOnly => {
                self.body_only += 1;
                "body_only"
            }
            _ => {
                self.unchanged += 1;
                "unchanged"
            }
        }
    }
}

/// The application's loader: the one that loaded most of the build's classes.
fn main_loader(inventory: &Inventory, in_build: impl Fn(&str) -> bool) -> Option<&str> {
    let mut per_loader: BTreeMap<&str, usize> = BTreeMap::new();
    for c in inventory.classes.iter().filter(|c| in_build(&c.name)) {
        *per_loader.entry(c.loader.as_str()).or_default() += 1;
    }
    per_loader.into_iter().max_by_key(|(_, n)| *n).map(|(l, _)| l)
}

/// Loaded classes of the build whose bytes differ from the JVM's, judged by the JVM's rules and
/// counted; the changed ones are added to `changed`.
async fn judge(
    session: &mut Session,
    target: &Target,
    differs: &[ClassSource],
    counts: &mut Counts,
    changed: &mut Vec<Changed>,
) -> Result<(), Error> {
    let mut worst = verdicts(session, target, differs).await?;
    for c in differs {
        let (verdict, reasons) = worst.remove(&c.info.name).unwrap_or((Verdict::Unchanged, Vec::new()));
        let change = counts.count(verdict);
        if change != "unchanged" {
            changed.push(Changed {
                name: c.info.name.clone(),
                change: change.into(),
                reasons,
                origin: c.origin.clone(),
            });
        }
    }
    Ok(())
}

/// Adds what [`removed_classes`] found to the plan's counts and changes.
fn record_removed(removed: Vec<&str>, left_alone: usize, counts: &mut Counts, changed: &mut Vec<Changed>) {
    counts.left_alone += left_alone;
    for name in removed {
        counts.removed += 1;
        changed.push(Changed {
            name: name.to_string(),
            change: "removed".into(),
            reasons: vec![],
            origin: String::new(),
        });
    }
}

/// The verdict of each class against the bytes the JVM runs now, by the JVM's own rules; a class
/// with several copies (loaders) gets the worst verdict of them.
async fn verdicts(
    session: &mut Session,
    target: &Target,
    classes: &[ClassSource],
) -> Result<BTreeMap<String, (Verdict, Vec<String>)>, Error> {
    let wanted: Vec<String> = classes.iter().map(|c| c.info.name.clone()).collect();
    let (answer, blobs) = session
        .call::<crate::agent::protocol::ClassBytes>(&Request::Bytes { classes: wanted, loader: None }, vec![])
        .await?;
    let (vm, running_bytes) = changes::unpack(target, &answer, &blobs)?;
    let entries = changes::against(&vm, &running_bytes, classes)?;
    let mut worst: BTreeMap<String, (Verdict, Vec<String>)> = BTreeMap::new();
    for e in entries {
        let reasons: Vec<String> = e.diff.reasons.iter().map(|r| r.message.clone()).collect();
        let slot = worst.entry(e.diff.name.clone()).or_insert((Verdict::Unchanged, Vec::new()));
        let rank = |v: Verdict| match v {
            Verdict::Structural => 3,
            Verdict::BodyOnly => 2,
            Verdict::New | Verdict::Removed => 1,
            Verdict::Unchanged => 0,
        };
        if rank(e.diff.verdict) > rank(slot.0) {
            *slot = (e.diff.verdict, reasons);
        }
    }
    Ok(worst)
}

/// Classes planned as "not loaded yet" that the JVM loaded before the redefinition reached it:
/// judged again, now against the bytes they loaded with, and the plan decided again.
async fn replan_loaded(
    plan: &mut Plan,
    names: &[String],
    snap: &archive::Snapshot,
    session: &mut Session,
    target: &Target,
    mode: Mode,
) -> Result<(), Error> {
    let mut parsed = Vec::new();
    for n in names {
        if let Some(c) = snap.class(n) {
            parsed.push(c?);
        }
    }
    let worst = verdicts(session, target, &parsed).await?;
    for c in plan.classes.iter_mut().filter(|c| c.change == "pending" && names.contains(&c.name)) {
        plan.counts.pending -= 1;
        let (verdict, reasons) = worst.get(&c.name).cloned().unwrap_or((Verdict::Unchanged, Vec::new()));
        c.reasons = reasons;
        c.change = plan.counts.count(verdict).into();
    }
    plan.classes.retain(|c| c.change != "unchanged");
    decide(plan, mode);
    plan.reasons.insert(
        0,
        format!(
            "{} class(es) loaded while jhot was planning ({}); judged again against what they loaded",
            names.len(),
            names.join(", ")
        ),
    );
    Ok(())
}

/// The least disruptive path that takes the whole build.
fn decide(plan: &mut Plan, mode: Mode) {
    let c = &plan.counts;
    let mut why = Vec::new();
    if c.structural > 0 {
        let names: Vec<&str> =
            plan.classes.iter().filter(|x| x.change == "structural").map(|x| x.name.as_str()).take(5).collect();
        why.push(format!(
            "{} class(es) changed structurally ({}{})",
            c.structural,
            names.join(", "),
            if c.structural > 5 { ", …" } else { "" }
        ));
    }
    if c.removed > 0 {
        let names: Vec<&str> =
            plan.classes.iter().filter(|x| x.change == "removed").map(|x| x.name.as_str()).take(5).collect();
        why.push(format!(
            "{} loaded class(es) are not in the build ({}{}); a running JVM cannot unload them",
            c.removed,
            names.join(", "),
            if c.removed > 5 { ", …" } else { "" }
        ));
    }
    if !plan.resources.is_empty() {
        let names: Vec<&str> = plan.resources.iter().map(|r| r.name.as_str()).take(5).collect();
        why.push(format!(
            "{} resource(s) changed ({}{}); an application reads them at start",
            plan.resources.len(),
            names.join(", "),
            if plan.resources.len() > 5 { ", …" } else { "" }
        ));
    }
    if !plan.dependencies.is_empty() {
        why.push(format!("dependency jar(s) changed: {}", plan.dependencies.join(", ")));
    }
    let any_change = c.body_only + c.structural + c.new + c.pending + c.removed > 0 || !plan.resources.is_empty();
    plan.decision = match mode {
        Mode::Replace => {
            why.insert(0, "--mode replace".into());
            Decision::Replace
        }
        _ if !why.is_empty() => Decision::Replace,
        _ if any_change => {
            why.push(format!(
                "{} class(es) changed in method bodies only{}{}: one atomic redefinition",
                c.body_only,
                if c.new > 0 { format!(", {} new class(es) defined first", c.new) } else { String::new() },
                if c.pending > 0 {
                    format!(", {} not loaded yet (used when they load)", c.pending)
                } else {
                    String::new()
                },
            ));
            Decision::Redefine
        }
        _ => {
            why.push("the JVM already runs exactly this build".into());
            Decision::Nothing
        }
    };
    plan.reasons = why;
}

async fn redefine(
    session: &mut Session,
    plan: &Plan,
    snap: &archive::Snapshot,
    build: &[PathBuf],
) -> Result<Applied, Error> {
    let loader = plan.loader.as_ref().map(|l| l.id.clone()).unwrap_or_default();
    let mut blobs: Vec<Vec<u8>> = Vec::new();
    let mut refs = Vec::new();
    let mut define = Vec::new();
    // New classes go in supertypes-first order where the build says so, so each can be defined.
    let mut new: BTreeMap<String, ClassSource> = BTreeMap::new();
    for c in plan.classes.iter().filter(|c| c.change == "new") {
        if let Some(parsed) = snap.class(&c.name) {
            new.insert(c.name.clone(), parsed?);
        }
    }
    let mut order: Vec<&ClassSource> = new.values().collect();
    order.sort_by_key(|c| depth(c, &new));
    for c in order {
        define.push(DefineRef { name: c.info.name.clone(), blob: blobs.len(), loader: loader.clone() });
        blobs.push(c.bytes.clone());
    }
    for c in plan.classes.iter().filter(|c| c.change == "body_only" || c.change == "pending") {
        if let Some((bytes, _)) = snap.bytes.get(&c.name) {
            refs.push(ClassRef { name: c.name.clone(), blob: blobs.len() });
            blobs.push(bytes.clone());
        }
    }
    let id = format!(
        "d{}",
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
    );
    let mark = DeployMark {
        build: build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
        sha256: plan.build_sha256.clone(),
        id: id.clone(),
    };
    // Planned as not loaded: the agent refuses the batch if one of them has loaded since.
    let unloaded: Vec<String> = plan.classes.iter().filter(|c| c.change == "pending").map(|c| c.name.clone()).collect();
    let request =
        Request::Redefine { classes: refs, loader: None, pending: true, define, deploy: Some(mark), unloaded };
    let t = Instant::now();
    let (result, _) = session.call::<Redefined>(&request, blobs).await.map_err(|e| match e {
        AgentError::Refused(f) if f.kind == "rejected" => Error::Rejected {
            jvm_message: f.message,
            culprits: vec![],
            connection: crate::agent::Connection { loaded_now: false, load_ms: None, jep451_warning: false },
        },
        e => Error::Agent(e),
    })?;
    Ok(Applied {
        redefined: result.redefined.len(),
        pending: result.pending.len(),
        defined: result.defined.len(),
        deploy_id: id,
        jvm_ms: ms(t.elapsed()),
    })
}

/// How many of a class's superclasses are also in the build (defining those first).
fn depth(c: &ClassSource, classes: &BTreeMap<String, ClassSource>) -> usize {
    let mut d = 0;
    let mut cur = c.info.shape.super_class.clone();
    while let Some(s) = cur {
        match classes.get(&s.replace('/', ".")) {
            Some(p) if d < 64 => {
                d += 1;
                cur = p.info.shape.super_class.clone();
            }
            _ => break,
        }
    }
    d
}

/// The build the JVM was started from (`-jar X`, or the jars of its class path), read as the JVM
/// has it: through its open descriptor when the file was replaced on disk since (a rebuild in
/// place), else from disk if it has not changed since the JVM started. None when any entry cannot
/// be read that way, or is a directory.
fn old_build(image: &ProcessImage, jvm_start_ticks: u64) -> Option<archive::Snapshot> {
    let mut snap = archive::Snapshot::default();
    for (entry, bytes) in old_jars(image, jvm_start_ticks)? {
        archive::snapshot_zip(&entry, bytes, &mut snap).ok()?;
    }
    Some(snap)
}

/// The jars the JVM was started with, read as the JVM has them (see [`old_build`]).
fn old_jars(image: &ProcessImage, jvm_start_ticks: u64) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let pid = image.pid;
    let entries = started_from(image);
    if entries.is_empty() {
        return None;
    }
    let started = jhot_attach::procfs::start_ms(jvm_start_ticks)?;
    let open: Vec<(String, PathBuf)> = jhot_attach::procfs::read_fds(pid)
        .ok()?
        .into_iter()
        .map(|f| (f.target.to_string_lossy().into_owned(), f.path))
        .collect();
    let mut jars = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            return None;
        }
        let shown = entry.display().to_string();
        let held = open.iter().find(|(l, _)| *l == shown || *l == format!("{shown} (deleted)")).map(|(_, p)| p.clone());
        let unchanged_on_disk = std::fs::metadata(&entry)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .is_some_and(|t| (t.as_millis() as u64) <= started);
        // The JVM's user controls what these paths are: a FIFO or a device must not hang or
        // exhaust root's jhot.
        let bytes = match held {
            Some(fd) => jhot_attach::safe_fs::read_regular(&fd, MAX_JAR).ok()?,
            None if unchanged_on_disk => jhot_attach::safe_fs::read_regular(&entry, MAX_JAR).ok()?,
            None => return None,
        };
        jars.push((entry, bytes));
    }
    Some(jars)
}

/// The largest jar jhot reads from what a JVM was started with.
const MAX_JAR: u64 = 4 * 1024 * 1024 * 1024;

/// Where the build goes in the old command line: the same path (rebuilt in place) runs again as is;
/// a jar elsewhere replaces `-jar X` or the class-path entry of the same artifact.
fn replacement_build(image: &ProcessImage, build: &[PathBuf]) -> Result<NewBuild, Error> {
    let pid = image.pid;
    let [one] = build else {
        return Err(Error::Input("a replacement takes one build (a jar or a directory); pass one path".into()));
    };
    if started_from(image).iter().any(|p| same_file(p, one)) {
        return Ok(NewBuild::Same);
    }
    if one.is_dir() {
        return Err(Error::Input(format!(
            "pid {pid} does not run {} and jhot cannot tell which class-path entry it replaces; use `jhot replace {pid} -- <command>`",
            one.display()
        )));
    }
    Ok(NewBuild::Jar(one.clone()))
}

/// The jar or class-path entries the process was started from, absolute.
fn started_from(image: &ProcessImage) -> Vec<PathBuf> {
    let args: Vec<String> = image.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut out = Vec::new();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "-jar" if i + 1 < args.len() => {
                out.push(image.cwd.join(&args[i + 1]));
                break;
            }
            "-cp" | "-classpath" | "--class-path" if i + 1 < args.len() => {
                out.extend(args[i + 1].split(':').map(|e| image.cwd.join(e)));
                i += 2;
                continue;
            }
            a if !a.starts_with('-') => break,
            _ => {}
        }
        i += 1;
    }
    out
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// After a redefinition, the JVM runs the build; if its command line starts something else, a
/// restart would bring that back.
fn disk_warning(image: &ProcessImage, build: &[PathBuf]) -> Option<String> {
    let pid = image.pid;
    let started = started_from(image);
    if build.iter().all(|b| started.iter().any(|s| same_file(s, b))) {
        return None;
    }
    let shown: Vec<String> = started.iter().map(|p| p.display().to_string()).collect();
    Some(format!(
        "pid {pid} now runs {}, but its command line starts {}: a restart, or `jhot replace {pid}` without --jar, would bring \
         back that code. Copy the build there, or deploy it with `jhot replace {pid} --jar …`",
        build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
        if shown.is_empty() { "something else".to_string() } else { shown.join(":") }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn snapshot(classes: &[&str]) -> archive::Snapshot {
        let mut s = archive::Snapshot::default();
        for c in classes {
            s.classes.insert(c.to_string(), "00".into());
        }
        s
    }

    #[test]
    fn removed_means_the_running_build_had_it() {
        // What a Spring Boot + Hibernate JVM has loaded by its application loader.
        let loaded = [
            "com.acme.Owner",
            "com.acme.OldController",
            "com.acme.package-info",
            "com.acme.Owner$HibernateInstantiator$abc",
            "com.acme.Owner$$SpringCGLIB$$0",
            "com.acme.OwnerRepository$$Lambda/0x1234",
            "org.springframework.web.package-info",
            "com.other.FromAnotherJar",
        ];
        // The new build: OldController deleted; package-info classes indexed like any class.
        let new: HashSet<&str> =
            ["com.acme.Owner", "com.acme.package-info", "org.springframework.web.package-info"].into_iter().collect();
        let old = snapshot(&[
            "com.acme.Owner",
            "com.acme.OldController",
            "com.acme.package-info",
            "org.springframework.web.package-info",
        ]);
        let had = |n: &str| old.classes.contains_key(n);
        let (removed, left) = removed_classes(&loaded, &new, Some(&had), &HashMap::new(), &[]);
        assert_eq!(removed, vec!["com.acme.OldController"]);
        assert_eq!(left, 4, "Hibernate's, CGLIB's, the lambda and another jar's class are left alone");

        // Deploying the very build the JVM runs: nothing is removed.
        let same: HashSet<&str> = old.classes.keys().map(String::as_str).collect();
        assert!(removed_classes(&loaded, &same, Some(&had), &HashMap::new(), &[]).0.is_empty());
    }

    #[test]
    fn without_the_old_build_the_code_source_decides() {
        let dir = tempfile::tempdir().expect("tmp");
        let classes = dir.path().join("classes");
        std::fs::create_dir_all(&classes).expect("mkdir");
        let other = dir.path().join("lib.jar");
        std::fs::write(&other, b"").expect("jar");
        let loaded = ["a.Gone", "a.Generated", "b.Elsewhere", "a.Nested"];
        let mut urls = HashMap::new();
        urls.insert("a/Gone.class".to_string(), format!("file:{}/a/Gone.class", classes.display()));
        urls.insert("b/Elsewhere.class".to_string(), format!("jar:file:{}!/b/Elsewhere.class", other.display()));
        let (removed, left) = removed_classes(&loaded, &HashSet::new(), None, &urls, std::slice::from_ref(&classes));
        assert_eq!(removed, vec!["a.Gone"]);
        assert_eq!(left, 3);
        // Spring Boot's nested URLs point into the fat jar the JVM was started with.
        let fat = dir.path().join("app with space.jar");
        std::fs::write(&fat, b"").expect("jar");
        let url =
            format!("jar:nested:{}/!BOOT-INF/classes/!/a/Nested.class", fat.display().to_string().replace(' ', "%20"));
        assert!(served_from(&url, std::slice::from_ref(&fat)));
        assert!(!served_from(&url, &[other]));
        assert!(!served_from("jrt:/java.base/java/lang/Object.class", &[fat]));
    }
}

#[cfg(test)]
mod code_source_tests {
    use super::unit_of_location;

    #[test]
    fn code_sources_name_units_of_the_jvms_jar() {
        let dir = tempfile::tempdir().expect("tmp");
        let jar = dir.path().join("app 1.jar");
        std::fs::write(&jar, b"").expect("jar");
        let j = jar.display().to_string().replace(' ', "%20");
        assert_eq!(
            unit_of_location(&format!("jar:nested:{j}/!BOOT-INF/lib/x.jar!/"), &jar).as_deref(),
            Some("BOOT-INF/lib/x.jar")
        );
        assert_eq!(
            unit_of_location(&format!("jar:nested:{j}/!BOOT-INF/classes/!/"), &jar).as_deref(),
            Some("BOOT-INF/classes/")
        );
        assert_eq!(
            unit_of_location(&format!("jar:file:{j}!/BOOT-INF/lib/x.jar!/"), &jar).as_deref(),
            Some("BOOT-INF/lib/x.jar")
        );
        assert_eq!(
            unit_of_location(&format!("jar:file:{j}!/BOOT-INF/classes!/"), &jar).as_deref(),
            Some("BOOT-INF/classes/")
        );
        assert_eq!(unit_of_location(&format!("file:{j}"), &jar).as_deref(), Some(""));
        // Another jar, or no jar at all: not the JVM's build.
        assert_eq!(unit_of_location("file:/elsewhere/lib.jar", &jar), None);
        assert_eq!(unit_of_location("jrt:/java.base", &jar), None);
    }
}
