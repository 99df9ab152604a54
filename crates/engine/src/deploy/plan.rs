//! What differs between the build and what the JVM runs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::agent::Session;
use crate::agent::protocol::{Inventory, Request, ResourceHashes};
use crate::archive::{self, ClassSource};
use crate::changes;
use crate::error::Error;

use super::error::DeployError;
use jhot_attach::Target;
use jhot_classfile::verdict::Verdict;

use super::decide::{Mode, decide};
use super::report::{Change, Changed, Counts, Decision, Plan, ResourceChange, ResourceChangeKind};
use super::source::{served_from, unit_of_location};

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

fn lib_of(origin: &str) -> Option<String> {
    for marker in ["!/BOOT-INF/lib/", "!/WEB-INF/lib/"] {
        if let Some(i) = origin.find(marker) {
            let rest = &origin[i + marker.len()..];
            return Some(rest.split("!/").next().unwrap_or(rest).to_string());
        }
    }
    None
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
pub(super) async fn plan_jar(
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
        return Err(DeployError::NotThisBuild { pid, classes: names.len() }.into());
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
                        change: Change::Structural,
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
                    changed.push(Changed { name: name.clone(), change: Change::Pending, reasons: vec![], origin });
                }
                None => {
                    counts.new += 1;
                    changed.push(Changed { name: name.clone(), change: Change::New, reasons: vec![], origin });
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
            Some(_) => {
                resource_changes.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Changed })
            }
            None => resource_changes.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::New }),
        }
    }
    for name in pair.old.resources.keys().filter(|n| !pair.new.resources.contains_key(*n)) {
        resource_changes.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Removed });
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
    // By the change's word, then the class: the order the report has always had.
    changed.sort_by(|a, b| a.change.as_str().cmp(b.change.as_str()).then(a.name.cmp(&b.name)));
    // Only the classes a redefinition or a definition would send are read whole.
    let wanted: Vec<&str> = changed.iter().filter(|c| c.change != Change::Removed).map(|c| c.name.as_str()).collect();
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

/// What the plan compares.
pub(super) struct Inputs<'a> {
    pub(super) target: &'a Target,
    pub(super) build: &'a [PathBuf],
    /// The build: names and hashes of everything, bytes of every class.
    pub(super) snap: &'a archive::Snapshot,
    /// The build the JVM was started from, as the JVM has it open (None: class directories, or a
    /// jar changed on disk since the JVM started and no longer open).
    pub(super) old: Option<&'a archive::Snapshot>,
    /// The JVM's Java feature release (multi-release jars serve per release).
    pub(super) feature: u32,
    /// The jars and directories the JVM was started with (its class path or `-jar`).
    pub(super) started: &'a [PathBuf],
}

pub(super) async fn plan(inputs: &Inputs<'_>, inventory: &Inventory, session: &mut Session) -> Result<Plan, Error> {
    let Inputs { target, build, snap, old, feature, started } = *inputs;
    let pid = target.pid;
    // A parsed class only where one is needed: diffs, and definitions of new classes.
    let parse = |name: &str| -> Result<ClassSource, DeployError> {
        Ok(snap.class(name).ok_or_else(|| DeployError::NotInBuild { class: name.to_string() })??)
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
        return Err(DeployError::NotThisBuild { pid, classes: names.len() }.into());
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
                change: Change::Structural,
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
                        change: Change::Pending,
                        reasons: vec![],
                        origin: origin(name),
                    });
                }
                Some(None) => {
                    counts.new += 1;
                    changed.push(Changed {
                        name: name.to_string(),
                        change: Change::New,
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
                    change: Change::Pending,
                    reasons: vec![],
                    origin: origin(name),
                });
            }
            None => {
                counts.new += 1;
                changed.push(Changed {
                    name: name.to_string(),
                    change: Change::New,
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
            Some(_) => {
                resource_changes.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Changed })
            }
            None => resource_changes.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::New }),
        }
    }
    if let Some(o) = old {
        for name in o.resources.keys().filter(|n| !snap.resources.contains_key(*n)) {
            resource_changes.push(ResourceChange { name: name.clone(), change: ResourceChangeKind::Removed });
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
    // By the change's word, then the class: the order the report has always had.
    changed.sort_by(|a, b| a.change.as_str().cmp(b.change.as_str()).then(a.name.cmp(&b.name)));

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
    /// Counts a loaded class by its verdict and names the change (`None`: unchanged, for anything
    /// but a structural or body-only one).
    fn count(&mut self, verdict: Verdict) -> Option<Change> {
        match verdict {
            Verdict::Structural => {
                self.structural += 1;
                Some(Change::Structural)
            }
            Verdict::BodyOnly => {
                self.body_only += 1;
                Some(Change::BodyOnly)
            }
            _ => {
                self.unchanged += 1;
                None
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
        if let Some(change) = counts.count(verdict) {
            changed.push(Changed { name: c.info.name.clone(), change, reasons, origin: c.origin.clone() });
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
            change: Change::Removed,
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
pub(super) async fn replan_loaded(
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
    let counts = &mut plan.counts;
    plan.classes.retain_mut(|c| {
        if c.change != Change::Pending || !names.contains(&c.name) {
            return true;
        }
        counts.pending -= 1;
        let (verdict, reasons) = worst.get(&c.name).cloned().unwrap_or((Verdict::Unchanged, Vec::new()));
        c.reasons = reasons;
        // Unchanged once loaded: no longer a change.
        counts.count(verdict).map(|change| c.change = change).is_some()
    });
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
