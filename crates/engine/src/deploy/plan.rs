//! What differs between a build and what the JVM runs: a pure function of the two, in two steps.
//!
//! [`survey`] compares hashes: the agent's inventory (the bytes in effect for every loaded class)
//! with the build, and classes not loaded with the build the JVM was started from. What hashes
//! cannot settle it lists as [`Needs`]: the bytes the JVM runs of loaded classes that differ (to
//! judge them by HotSpot's rules), and what the application's loader serves for names the old
//! build cannot answer. The caller asks the agent exactly that, and [`Survey::plan`] finishes the
//! plan from the [`Answers`]. Neither step talks to the JVM or reads a file, so both are tested on
//! literal inventories, and a watch mode can plan the same way on every rebuild.
//!
//! [`survey_jar`] does the same for one jar deployed into a JVM started from one jar: both jars
//! are indexed (inflated entry by entry, only where needed), and the inventory names the code
//! source of a class loaded from the unchanged jar instead of hashing it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};

use crate::agent::protocol::Inventory;
use crate::archive::index::{Index, Loc, Pair};
use crate::archive::{ClassSource, Snapshot};
use crate::changes::{self, ChangesError, RunningClass};
use jhot_classfile::verdict::{Verdict, Vm};

use super::error::DeployError;
use super::report::{Change, Changed, Counts, Decision, Plan, ResourceChange, ResourceChangeKind};

/// What the JVM runs, as its agent's `inventory` says.
#[derive(Debug, Clone, Copy)]
pub struct Jvm<'a> {
    pub pid: u32,
    /// Its Java feature release: a multi-release jar serves it the newest variant up to it.
    pub feature: u32,
    pub inventory: &'a Inventory,
}

/// The build to deploy, and the one the JVM was started from.
#[derive(Debug, Clone, Copy)]
pub struct Build<'a> {
    /// The paths given, for the report.
    pub paths: &'a [PathBuf],
    /// Names and hashes of everything, bytes of every class.
    pub snap: &'a Snapshot,
    /// The build the JVM was started from, as the JVM has it open (None: class directories, or a
    /// jar changed on disk since the JVM started and no longer open).
    pub old: Option<&'a Snapshot>,
}

/// One jar deployed into a JVM started from one jar, both indexed.
pub struct Jar<'a> {
    /// The jar deployed, as given.
    pub path: &'a Path,
    pub new: &'a mut Index,
    /// The jar the JVM was started from, as the JVM has it.
    pub old: &'a mut Index,
    /// The SHA-256 of the jar deployed.
    pub digest: &'a str,
}

/// What a plan must learn from the JVM beyond its inventory. Empty lists: nothing to ask.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Needs {
    /// The application's class loader (its id), which `resources` asks.
    pub loader: String,
    /// Names (`a/B.class`, `app.properties`) whose served bytes `resources` hashes: class files of
    /// classes not loaded that the old build cannot answer for, and, without an old build, the
    /// build's resources and the class files of loaded classes the build no longer has.
    pub resources: Vec<String>,
    /// Of `resources`, the class files whose URL says whether the build the JVM runs had them.
    pub origins: Vec<String>,
    /// Loaded classes whose bytes differ from the build's: `bytes` fetches what the JVM runs.
    pub bytes: Vec<String>,
}

/// The agent's answers to [`Needs`].
#[derive(Debug, Default)]
pub struct Answers {
    /// `resources`: the hash of what the loader serves by each name asked (None: nothing).
    pub served: HashMap<String, Option<String>>,
    /// Of [`Needs::origins`], the class files the loader serves from what the JVM was started with.
    pub from_start: HashSet<String>,
    /// `bytes`: the JVM's rules, and the bytes it runs (one entry per loader that has the class).
    pub running: Option<(Vm, Vec<RunningClass>)>,
}

/// Each class's verdict against the bytes the JVM runs, with its reasons: the worst over the
/// loaders that have it.
pub type Verdicts = BTreeMap<String, (Verdict, Vec<String>)>;

/// Step one of planning `build` into `jvm`: everything hashes decide, and what to ask the JVM.
pub fn survey<'a>(jvm: Jvm<'a>, build: Build<'a>) -> Result<Survey<'a>, DeployError> {
    let Build { snap, old, .. } = build;
    let feature = jvm.feature;
    let origin = |name: &str| snap.bytes.get(name).map(|(_, o)| o.clone()).unwrap_or_default();
    let names: Vec<&'a str> = snap
        .classes
        .keys()
        .chain(snap.versioned.keys())
        .map(String::as_str)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut running: HashMap<&str, Vec<&str>> = HashMap::new();
    for c in &jvm.inventory.classes {
        running.entry(c.name.as_str()).or_default().push(c.sha256.as_deref().unwrap_or(""));
    }
    let main = main_loader(jvm.inventory, |n| snap.classes.contains_key(n) || snap.versioned.contains_key(n))
        .ok_or(DeployError::NotThisBuild { pid: jvm.pid, classes: names.len() })?;

    let mut counts = Counts::default();
    let mut changed: Vec<Changed> = Vec::new();
    let mut differs: Vec<ClassSource> = Vec::new();
    let mut probe: Vec<&'a str> = Vec::new();
    let mut multi_release: Vec<Changed> = Vec::new();
    for &name in &names {
        let Some(new) = snap.effective(name, feature) else { continue };
        match running.get(name) {
            Some(copies) if copies.iter().all(|sha| *sha == new) => counts.unchanged += 1,
            // A multi-release variant: jhot redefines plain class files only.
            Some(_) if snap.versioned.contains_key(name) => multi_release.push(Changed {
                name: name.to_string(),
                change: Change::Structural,
                reasons: vec![multi_release_reason(feature)],
                origin: origin(name),
            }),
            Some(_) => differs.push(parse(snap, name)?),
            None => match old.map(|o| o.effective(name, feature)) {
                // Not loaded: compared with the build the JVM was started from.
                Some(Some(sha)) if sha == new => counts.unchanged += 1,
                Some(Some(_)) => not_loaded(Change::Pending, name, origin(name), &mut counts, &mut changed),
                Some(None) => not_loaded(Change::New, name, origin(name), &mut counts, &mut changed),
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
    let in_build: HashSet<&'a str> = names.iter().copied().collect();
    let loaded_by_main: Vec<&'a str> =
        jvm.inventory.classes.iter().filter(|c| c.loader == main).map(|c| c.name.as_str()).collect();
    let gone: Vec<String> =
        loaded_by_main.iter().filter(|n| !in_build.contains(*n) && !generated(n)).map(|n| class_file(n)).collect();

    // Classes not loaded, and the build's resources, as the application's loader serves them now.
    let mut resources: Vec<String> = probe.iter().map(|n| class_file(n)).collect();
    let mut origins = Vec::new();
    if old.is_none() {
        resources.extend(snap.resources.keys().cloned());
        resources.extend(gone.iter().cloned());
        origins = gone;
    }
    let needs = Needs {
        loader: main.to_string(),
        resources,
        origins,
        bytes: differs.iter().map(|c| c.info.name.clone()).collect(),
    };
    Ok(Survey { jvm, build, names, main, counts, changed, differs, probe, in_build, loaded_by_main, needs })
}

/// What [`survey`] found, until the JVM has answered its [`Needs`].
#[derive(Debug)]
pub struct Survey<'a> {
    jvm: Jvm<'a>,
    build: Build<'a>,
    /// Every class of the build, sorted.
    names: Vec<&'a str>,
    /// The application's loader.
    main: &'a str,
    counts: Counts,
    changed: Vec<Changed>,
    /// Loaded, and their bytes differ: judged on the bytes the JVM runs.
    differs: Vec<ClassSource>,
    /// Not loaded, and the old build cannot tell: compared with what the loader serves.
    probe: Vec<&'a str>,
    in_build: HashSet<&'a str>,
    loaded_by_main: Vec<&'a str>,
    needs: Needs,
}

impl Survey<'_> {
    /// What to ask the agent before [`Survey::plan`].
    pub fn needs(&self) -> &Needs {
        &self.needs
    }

    /// Step two: the plan, from what the survey found and the agent's answers to its needs. The
    /// decision is left to [`super::decide::decide`].
    pub fn plan(self, answers: &Answers) -> Result<Plan, DeployError> {
        let Survey {
            jvm, build, names, main, mut counts, mut changed, differs, probe, in_build, loaded_by_main, ..
        } = self;
        let Build { snap, old, .. } = build;
        let origin = |name: &str| snap.bytes.get(name).map(|(_, o)| o.clone()).unwrap_or_default();
        let served = |key: &str| answers.served.get(key).cloned().flatten();
        for name in probe {
            match served(&class_file(name)) {
                Some(sha) if Some(&sha) == snap.effective(name, jvm.feature) => counts.unchanged += 1,
                Some(_) => not_loaded(Change::Pending, name, origin(name), &mut counts, &mut changed),
                None => not_loaded(Change::New, name, origin(name), &mut counts, &mut changed),
            }
        }
        let mut resources = Vec::new();
        for (name, sha) in &snap.resources {
            let before = match old {
                Some(o) => o.resources.get(name).cloned(),
                None => served(name),
            };
            match before {
                Some(b) if b == *sha => {}
                Some(_) => resources.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Changed }),
                None => resources.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::New }),
            }
        }
        if let Some(o) = old {
            for name in o.resources.keys().filter(|n| !snap.resources.contains_key(*n)) {
                resources.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Removed });
            }
        }

        // Loaded classes that differ: their bytes in effect, diffed by the JVM's own rules.
        judge(&differs, answers, &mut counts, &mut changed)?;

        let had = |n: &str| match old {
            Some(o) => o.classes.contains_key(n) || o.versioned.contains_key(n),
            None => answers.from_start.contains(&class_file(n)),
        };
        record_removed(&loaded_by_main, &in_build, had, &mut counts, &mut changed);
        let mut dependencies: Vec<String> = changed.iter().filter_map(|c| lib_of(&c.origin)).collect();
        if let Some(o) = old {
            // Jars compared whole: a new version, a rebuilt SNAPSHOT, an added or removed library.
            for (lib, sha) in &snap.libs {
                if o.libs.get(lib) != Some(sha) {
                    dependencies.push(lib.clone());
                }
            }
            dependencies
                .extend(o.libs.keys().filter(|l| !snap.libs.contains_key(*l)).map(|l| format!("{l} (removed)")));
        }
        let build_name = build.paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" ");
        Ok(assemble(jvm, main, build_name, snap.digest.clone(), names.len(), counts, changed, resources, dependencies))
    }
}

/// Step one of planning one jar into a JVM started from one jar. `units` names, for each of the
/// inventory's code sources, the part of the JVM's jar it is (`""`, `BOOT-INF/classes/`,
/// `BOOT-INF/lib/x.jar`; see `source::unit_of_location`), None for a code source elsewhere.
pub fn survey_jar<'a>(jvm: Jvm<'a>, units: &[Option<String>], jar: Jar<'a>) -> Result<JarSurvey<'a>, DeployError> {
    let Jar { path, new, old, digest } = jar;
    let feature = jvm.feature;
    let names: Vec<String> =
        new.classes.keys().chain(new.versioned.keys()).cloned().collect::<BTreeSet<_>>().into_iter().collect();
    let mut running: HashMap<&str, Vec<Running>> = HashMap::new();
    for c in &jvm.inventory.classes {
        let state = match (c.cs.and_then(|i| units.get(i).cloned().flatten()), c.sha256.as_deref()) {
            (Some(unit), _) => Running::Entry(unit),
            (None, Some(h)) => Running::Hash(h),
            (None, None) => Running::Unknown,
        };
        running.entry(c.name.as_str()).or_default().push(state);
    }
    let main = main_loader(jvm.inventory, |n| new.classes.contains_key(n) || new.versioned.contains_key(n))
        .ok_or(DeployError::NotThisBuild { pid: jvm.pid, classes: names.len() })?;

    let mut counts = Counts::default();
    let mut changed: Vec<Changed> = Vec::new();
    let mut differs: Vec<ClassSource> = Vec::new();
    let mut pair = Pair::new(old, new);
    let mut hashes: HashMap<Loc, String> = HashMap::new();
    for name in &names {
        let Some(nloc) = pair.new.effective(name, feature) else { continue };
        let origin = pair.new.origin(nloc);
        match running.get(name.as_str()) {
            Some(copies) => {
                let mut same = true;
                for state in copies {
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
                        change: Change::Structural,
                        reasons: vec![multi_release_reason(feature)],
                        origin,
                    });
                } else {
                    differs.push(pair.new.class(nloc)?);
                }
            }
            None => match pair.old.effective(name, feature) {
                Some(oloc) if pair.equal(oloc, nloc)? => counts.unchanged += 1,
                Some(_) => not_loaded(Change::Pending, name, origin, &mut counts, &mut changed),
                None => not_loaded(Change::New, name, origin, &mut counts, &mut changed),
            },
        }
    }

    let mut resources = Vec::new();
    let new_resources: Vec<(String, Loc)> = pair.new.resources.iter().map(|(k, v)| (k.clone(), *v)).collect();
    for (name, nloc) in &new_resources {
        match pair.old.resources.get(name).copied() {
            Some(oloc) if pair.equal(oloc, *nloc)? => {}
            Some(_) => resources.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Changed }),
            None => resources.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::New }),
        }
    }
    for name in pair.old.resources.keys().filter(|n| !pair.new.resources.contains_key(*n)) {
        resources.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Removed });
    }
    let file = |key: &str| key.rsplit('/').next().unwrap_or(key).to_string();
    let new_libs: Vec<String> = pair.new.libs().map(str::to_string).collect();
    let old_libs: Vec<String> = pair.old.libs().map(str::to_string).collect();
    let mut dependencies: Vec<String> = new_libs.iter().filter(|l| pair.lib_changed(l)).map(|l| file(l)).collect();
    dependencies.extend(old_libs.iter().filter(|l| !new_libs.contains(l)).map(|l| format!("{} (removed)", file(l))));

    let needs = Needs {
        loader: main.to_string(),
        bytes: differs.iter().map(|c| c.info.name.clone()).collect(),
        ..Needs::default()
    };
    Ok(JarSurvey { jvm, path, digest, pair, names, main, counts, changed, differs, resources, dependencies, needs })
}

/// What the JVM runs of one loaded class, as an inventory with code sources says.
enum Running<'a> {
    /// The hash of the bytes it runs (jhot's patch, or its class file read by the agent).
    Hash(&'a str),
    /// The bytes of this entry of the JVM's jar (unit key), unchanged since the JVM started.
    Entry(String),
    /// Not known here: ask the JVM for them when the build has the class.
    Unknown,
}

/// What [`survey_jar`] found, until the JVM has answered its [`Needs`].
pub struct JarSurvey<'a> {
    jvm: Jvm<'a>,
    path: &'a Path,
    digest: &'a str,
    pair: Pair<'a>,
    names: Vec<String>,
    main: &'a str,
    counts: Counts,
    changed: Vec<Changed>,
    differs: Vec<ClassSource>,
    resources: Vec<ResourceChange>,
    dependencies: Vec<String>,
    needs: Needs,
}

impl JarSurvey<'_> {
    /// What to ask the agent before [`JarSurvey::plan`]: at most the bytes of classes that differ.
    pub fn needs(&self) -> &Needs {
        &self.needs
    }

    /// Step two: the plan, and the bytes of the classes it would send (read from the jar only for
    /// those).
    pub fn plan(self, answers: &Answers) -> Result<(Plan, Snapshot), DeployError> {
        let JarSurvey {
            jvm,
            path,
            digest,
            pair,
            names,
            main,
            mut counts,
            mut changed,
            differs,
            resources,
            dependencies,
            ..
        } = self;
        judge(&differs, answers, &mut counts, &mut changed)?;
        let in_build: HashSet<&str> = names.iter().map(String::as_str).collect();
        let loaded_by_main: Vec<&str> =
            jvm.inventory.classes.iter().filter(|c| c.loader == main).map(|c| c.name.as_str()).collect();
        let had = |n: &str| pair.old.classes.contains_key(n) || pair.old.versioned.contains_key(n);
        record_removed(&loaded_by_main, &in_build, had, &mut counts, &mut changed);
        let plan = assemble(
            jvm,
            main,
            path.display().to_string(),
            digest.to_string(),
            names.len(),
            counts,
            changed,
            resources,
            dependencies,
        );
        // Only the classes a redefinition or a definition would send are read whole.
        let wanted = plan.classes.iter().filter(|c| c.change != Change::Removed).map(|c| c.name.as_str());
        let snap = pair.new.snapshot_of(wanted, jvm.feature, digest)?;
        Ok((plan, snap))
    }
}

/// The plan both planners end with, its classes in the report's order and no decision yet.
#[allow(clippy::too_many_arguments)]
fn assemble(
    jvm: Jvm<'_>,
    main: &str,
    build: String,
    build_sha256: String,
    build_classes: usize,
    counts: Counts,
    mut classes: Vec<Changed>,
    resources: Vec<ResourceChange>,
    mut dependencies: Vec<String>,
) -> Plan {
    dependencies.sort();
    dependencies.dedup();
    // By the change's word, then the class: the order the report has always had.
    classes.sort_by(|a, b| a.change.as_str().cmp(b.change.as_str()).then(a.name.cmp(&b.name)));
    Plan {
        pid: jvm.pid,
        build,
        build_sha256,
        loader: jvm.inventory.loaders.iter().find(|l| l.id == main).cloned(),
        build_classes,
        loaded_classes: jvm.inventory.classes.len(),
        counts,
        classes,
        resources,
        dependencies,
        rewritten_in_place: None,
        decision: Decision::Nothing,
        reasons: Vec::new(),
    }
}

/// The verdict of each class against the bytes the JVM runs (`running`, from the agent's
/// `bytes`), by the JVM's own rules; a class with several copies (loaders) gets the worst.
pub fn verdicts(running: &(Vm, Vec<RunningClass>), classes: &[ClassSource]) -> Result<Verdicts, ChangesError> {
    let (vm, running) = running;
    let mut worst = Verdicts::new();
    for e in changes::against(vm, running, classes)? {
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

/// Loaded classes of the build whose bytes differ from the JVM's, judged on the bytes it runs and
/// counted; the changed ones are added to `changed`.
fn judge(
    differs: &[ClassSource],
    answers: &Answers,
    counts: &mut Counts,
    changed: &mut Vec<Changed>,
) -> Result<(), DeployError> {
    if differs.is_empty() {
        return Ok(());
    }
    let running = answers.running.as_ref().ok_or(DeployError::Unanswered { classes: differs.len() })?;
    let mut worst = verdicts(running, differs)?;
    for c in differs {
        let (verdict, reasons) = worst.remove(&c.info.name).unwrap_or((Verdict::Unchanged, Vec::new()));
        if let Some(change) = counts.count(verdict) {
            changed.push(Changed { name: c.info.name.clone(), change, reasons, origin: c.origin.clone() });
        }
    }
    Ok(())
}

/// A class of the build that the JVM has not loaded: `Pending` (its old version is there, the new
/// bytes are used when it loads) or `New` (defined before the redefinition).
fn not_loaded(change: Change, name: &str, origin: String, counts: &mut Counts, changed: &mut Vec<Changed>) {
    match change {
        Change::Pending => counts.pending += 1,
        _ => counts.new += 1,
    }
    changed.push(Changed { name: name.to_string(), change, reasons: vec![], origin });
}

fn multi_release_reason(feature: u32) -> String {
    format!("a Java {feature} variant of a multi-release jar changed; jhot does not redefine those")
}

/// One class of the build, parsed: for a diff, or a definition.
fn parse(snap: &Snapshot, name: &str) -> Result<ClassSource, DeployError> {
    Ok(snap.class(name).ok_or_else(|| DeployError::NotInBuild { class: name.to_string() })??)
}

/// `a.b.C` → `a/b/C.class`: the name a class loader serves a class file by.
fn class_file(name: &str) -> String {
    format!("{}.class", name.replace('.', "/"))
}

/// The application's loader: the one that loaded most of the build's classes.
fn main_loader(inventory: &Inventory, in_build: impl Fn(&str) -> bool) -> Option<&str> {
    let mut per_loader: BTreeMap<&str, usize> = BTreeMap::new();
    for c in inventory.classes.iter().filter(|c| in_build(&c.name)) {
        *per_loader.entry(c.loader.as_str()).or_default() += 1;
    }
    per_loader.into_iter().max_by_key(|(_, n)| *n).map(|(l, _)| l)
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

/// Counts and records the classes the application's loader has loaded that the new build no
/// longer has. A class is removed only if the build the JVM runs `had` it (the old build, or the
/// URL its loader serves it from, says so); classes made at run time (a generated name) and
/// classes from other code sources are left alone, and are never reasons to replace a process.
fn record_removed(
    loaded: &[&str],
    in_build: &HashSet<&str>,
    had: impl Fn(&str) -> bool,
    counts: &mut Counts,
    changed: &mut Vec<Changed>,
) {
    for &name in loaded.iter().filter(|n| !in_build.contains(*n)) {
        if !generated(name) && had(name) {
            counts.removed += 1;
            changed.push(Changed {
                name: name.to_string(),
                change: Change::Removed,
                reasons: vec![],
                origin: String::new(),
            });
        } else {
            counts.left_alone += 1;
        }
    }
}

/// The dependency jar a class came from (`…!/BOOT-INF/lib/x.jar!/…` → `x.jar`), if any.
fn lib_of(origin: &str) -> Option<String> {
    for marker in ["!/BOOT-INF/lib/", "!/WEB-INF/lib/"] {
        if let Some(i) = origin.find(marker) {
            let rest = &origin[i + marker.len()..];
            return Some(rest.split("!/").next().unwrap_or(rest).to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests;
