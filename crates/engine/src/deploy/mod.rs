//! `jhot deploy PID BUILD`: compares a new build with what the JVM runs and takes the least
//! disruptive path — nothing, one atomic redefinition, or a process replacement.
//!
//! What the JVM runs comes from its agent: `inventory` hashes the bytes in effect for every loaded
//! application class (jhot's own patches included), and `resources` hashes what the application's
//! class loader would serve for everything else in the build (classes not loaded yet, resources) —
//! from the jars the JVM has open, so a build rebuilt in place is still compared with the code that
//! runs. Only classes whose hashes differ are fetched and diffed by HotSpot's rules.
//!
//! This module does the talking: it reads the builds, asks the agent for its inventory and for what
//! the plan needs, and applies the plan (through [`crate::patch`]) or replaces the process. The
//! rest is pure:
//!
//! * [`plan`]: what differs, from the inventory, the builds and the agent's answers to what the
//!   plan asked (two steps: a survey that says what it needs, then the plan);
//! * [`decide`]: nothing, a redefinition or a replacement, and what `--mode` allows;
//! * `source`: what the JVM was started from, and where a new build goes in its command line;
//! * `report`: the plan and report types; `error`: [`DeployError`].

pub(crate) mod decide;
mod error;
pub(crate) mod plan;
mod report;
mod source;
#[cfg(test)]
mod testing;

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::agent::protocol::{ClassBytes, DeployMark, Inventory, Request, ResourceHashes};
use crate::agent::{self, AgentError, FailureKind, Session};
use crate::archive::{self, ArchiveError, ClassSource};
use crate::changes::{self, RunningClass};
use crate::error::Error;
use crate::events::Events;
use crate::ms;
use crate::patch::{self, Batch, PatchError};
use crate::replace::command::ProcessImage;
use crate::replace::{self, ReplaceOptions};
use jhot_attach::{AttachOptions, Target};
use jhot_classfile::verdict::Vm;
use serde_json::json;

pub use decide::Mode;
use decide::{allowed, decide, replan_loaded};
pub use error::DeployError;
use plan::{Answers, Build, Jar, Jvm, Needs};
pub use report::{
    Applied, Change, Changed, Counts, Decision, DeployReport, Plan, ResourceChange, ResourceChangeKind,
    RewrittenInPlace, Timings,
};
use source::{disk_warning, old_build, old_jars, replacement_build, served_from, started_from, unit_of_location};

#[derive(Clone)]
pub struct DeployOptions {
    pub mode: Mode,
    pub dry_run: bool,
    pub timeout: Duration,
    pub attach_opts: AttachOptions,
    /// For the replacement path; its `build` is decided here.
    pub replace: ReplaceOptions,
    /// What the deploy is doing, as it goes: `planning`, `planned` {decision, classes},
    /// `redefining` {classes}, `replanning` {classes}, `replacing` {pid}.
    pub events: Events,
}

/// Plans `build` against what JVM `pid` runs, and does what the plan decides (unless a dry run).
pub async fn deploy(pid: u32, build: &[PathBuf], opts: &DeployOptions) -> Result<DeployReport, Error> {
    let t0 = Instant::now();
    let build: Vec<PathBuf> = build.iter().map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone())).collect();
    for p in &build {
        if !p.exists() {
            return Err(archive::ArchiveError::Missing { path: p.clone() }.into());
        }
    }
    let target = Target::open(pid)?;
    opts.events.event("planning", &json!({ "pid": pid }));
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
    let (snap, old) = local.map_err(DeployError::from)??;
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
        let build = build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
        return Err(DeployError::NoClass { build }.into());
    }
    let mut session = match call.session {
        Some(s) => s,
        None => agent::wait_for_channel(&target, opts.timeout).await?,
    };
    let jvm = Jvm { pid, feature, inventory: &inventory };
    let survey = plan::survey(jvm, Build { paths: &build, snap: &snap, old: old.as_ref() })?;
    let answers = ask(&mut session, &target, survey.needs(), &started).await?;
    let mut plan = survey.plan(&answers)?;
    let rewritten = source::rewritten_in_place(&image, target.start_time);
    if !rewritten.is_empty() {
        let loaded: HashSet<&str> = inventory.classes.iter().map(|c| c.name.as_str()).collect();
        plan.rewritten_in_place = Some(RewrittenInPlace {
            jars: rewritten.iter().map(|p| p.display().to_string()).collect(),
            not_loaded: snap.classes.keys().filter(|n| !loaded.contains(n.as_str())).count(),
        });
    }
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
    let (mut new, old, digest) = local.map_err(DeployError::from)??;
    let call = call?;
    let Some(mut old) = old else { return Ok(None) };
    let (inventory, _) = call.answer?;
    if new.classes.is_empty() && new.versioned.is_empty() {
        return Err(DeployError::NoClass { build: build.display().to_string() }.into());
    }
    let mut session = match call.session {
        Some(s) => s,
        None => agent::wait_for_channel(target, opts.timeout).await?,
    };
    // Which part of the JVM's jar each code source is (a name of the jar as the JVM has it open).
    let units: Vec<Option<String>> = inventory.code_sources.iter().map(|l| unit_of_location(l, &old.path)).collect();
    let jvm = Jvm { pid: target.pid, feature, inventory: &inventory };
    let survey = plan::survey_jar(jvm, &units, Jar { path: build, new: &mut new, old: &mut old, digest: &digest })?;
    let answers = ask(&mut session, target, survey.needs(), &[]).await?;
    let (mut plan, snap) = survey.plan(&answers)?;
    decide(&mut plan, opts.mode);
    finish(target, image, &[build.to_path_buf()], plan, &snap, session, opts, t0).await.map(Some)
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

/// Asks the agent what a plan [`Needs`]: what the application's loader serves by some names
/// (`resources`; for the class files among `needs.origins`, also whether it serves them from the
/// jars or directories the JVM was `started` with), then the bytes the JVM runs (`bytes`).
async fn ask(session: &mut Session, target: &Target, needs: &Needs, started: &[PathBuf]) -> Result<Answers, Error> {
    let mut answers = Answers::default();
    if !needs.resources.is_empty() {
        let request = Request::Resources { loader: needs.loader.clone(), names: needs.resources.clone() };
        let (served, _) = session.call::<ResourceHashes>(&request, vec![]).await?;
        let origins: HashSet<&str> = needs.origins.iter().map(String::as_str).collect();
        for r in served.resources {
            if let Some(url) = &r.url
                && origins.contains(r.name.as_str())
                && served_from(url, started)
            {
                answers.from_start.insert(r.name.clone());
            }
            answers.served.insert(r.name, r.sha256);
        }
    }
    if !needs.bytes.is_empty() {
        answers.running = Some(running_bytes(session, target, needs.bytes.clone()).await?);
    }
    Ok(answers)
}

/// The bytes the JVM runs for `classes` (every loader's copy), and the rules it applies.
async fn running_bytes(
    session: &mut Session,
    target: &Target,
    classes: Vec<String>,
) -> Result<(Vm, Vec<RunningClass>), Error> {
    let (answer, blobs) = session.call::<ClassBytes>(&Request::Bytes { classes, loader: None }, vec![]).await?;
    Ok(changes::unpack(target, &answer, &blobs)?)
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
    opts.events.event("planned", &json!({ "decision": plan.decision, "classes": plan.classes.len() }));

    let mut report = DeployReport {
        decision: plan.decision,
        dry_run: opts.dry_run,
        plan,
        redefinition: None,
        replacement: None,
        warnings: Vec::new(),
        timings_ms: Timings { plan: plan_ms, ..Timings::default() },
    };
    allowed(&report.plan, opts.mode)?;
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
        let id = deploy_id();
        let batch = batch(&report.plan, snap, &build, &id)?;
        opts.events.event("redefining", &json!({ "classes": report.plan.classes.len() }));
        let t = Instant::now();
        match patch::apply(&mut session, batch).await {
            Ok(result) => {
                report.redefinition = Some(Applied {
                    redefined: result.redefined.len(),
                    pending: result.pending.len(),
                    defined: result.defined.len(),
                    deploy_id: id,
                    jvm_ms: ms(t.elapsed()),
                });
                report.warnings.extend(disk_warning(&image, &build));
                break;
            }
            Err(PatchError::Agent(AgentError::Refused(f)))
                if f.kind == FailureKind::LoadedSincePlan && attempts < 4 =>
            {
                let names = f.classes.clone();
                tracing::debug!(?names, "classes loaded since the plan; planning them again");
                opts.events.event("replanning", &json!({ "classes": names }));
                let mut loaded = Vec::new();
                for n in &names {
                    if let Some(c) = snap.class(n) {
                        loaded.push(c?);
                    }
                }
                let running =
                    running_bytes(&mut session, &target, loaded.iter().map(|c| c.info.name.clone()).collect());
                let verdicts = plan::verdicts(&running.await?, &loaded)?;
                replan_loaded(&mut report.plan, &names, &verdicts, opts.mode);
                report.decision = report.plan.decision;
                allowed(&report.plan, opts.mode)?;
            }
            // In auto mode the JVM's refusal is never the answer: the build goes in by replacement.
            Err(PatchError::Rejected { jvm_message, .. }) if opts.mode == Mode::Auto => {
                report.plan.reasons.insert(0, format!("the JVM refused the redefinition ({jvm_message}); nothing was changed, so the build goes in by replacement"));
                report.plan.decision = Decision::Replace;
                report.decision = Decision::Replace;
            }
            Err(e) => return Err(e.into()),
        }
    }
    match report.plan.decision {
        Decision::Replace => {
            drop(session);
            let mut r = opts.replace.clone();
            r.build = replacement_build(&image, &build)?;
            opts.events.event("replacing", &json!({ "pid": pid }));
            let replaced = replace::replace(pid, &r).await?;
            report.replacement = Some(replaced);
        }
        Decision::Redefine | Decision::Nothing => {}
    }
    report.timings_ms.apply = ms(t1.elapsed());
    report.timings_ms.total = ms(t0.elapsed());
    Ok(report)
}

/// The plan as one batch: its new classes defined first (supertypes first, so each can be
/// defined), then its body-only and not-yet-loaded classes, marked as deploy `id` of `build`.
fn batch(plan: &Plan, snap: &archive::Snapshot, build: &[PathBuf], id: &str) -> Result<Batch, ArchiveError> {
    let loader = plan.loader.as_ref().map(|l| l.id.clone()).unwrap_or_default();
    let mut new: BTreeMap<String, ClassSource> = BTreeMap::new();
    for c in plan.classes.iter().filter(|c| c.change == Change::New) {
        if let Some(parsed) = snap.class(&c.name) {
            new.insert(c.name.clone(), parsed?);
        }
    }
    let mut order: Vec<&ClassSource> = new.values().collect();
    order.sort_by_key(|c| depth(c, &new));
    let define = order.into_iter().map(|c| (c.info.name.clone(), c.bytes.clone(), loader.clone())).collect();
    let classes = plan
        .classes
        .iter()
        .filter(|c| matches!(c.change, Change::BodyOnly | Change::Pending))
        .filter_map(|c| snap.bytes.get(&c.name).map(|(bytes, _)| (c.name.clone(), bytes.clone())))
        .collect();
    let deploy = DeployMark {
        build: build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
        sha256: plan.build_sha256.clone(),
        id: id.to_string(),
    };
    // Planned as not loaded: the agent refuses the batch if one of them has loaded since.
    let unloaded = plan.classes.iter().filter(|c| c.change == Change::Pending).map(|c| c.name.clone()).collect();
    Ok(Batch { classes, define, loader: None, pending: true, deploy: Some(deploy), unloaded, before: false })
}

/// A deploy's id in the agent's records: the time it was applied.
fn deploy_id() -> String {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    format!("d{ms}")
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
