//! The planner on literal inputs: inventories as the agent writes them, builds of hand-made class
//! files, and the agent's answers to what the survey asked.

use std::collections::HashSet;
use std::path::PathBuf;

use serde_json::json;

use super::*;
use crate::agent::protocol::{Inventory, Loader};
use crate::deploy::decide::{Mode, decide};
use crate::deploy::testing::{class, jar, sha, snapshot};

const OBJECT: &str = "java.lang.Object";
const VM: Vm = Vm { feature: 17, allow_add_delete_methods: false };

/// An inventory: the application's loader `0x1`, and each class with the hash of what it runs.
fn inventory(classes: &[(&str, Option<String>)]) -> Inventory {
    let classes: Vec<_> =
        classes.iter().map(|(name, sha)| json!({"name": name, "loader": "0x1", "sha256": sha})).collect();
    serde_json::from_value(json!({
        "loaders": [{"id": "0x1", "name": "app", "class": "jdk.internal.loader.ClassLoaders$AppClassLoader"}],
        "classes": classes,
    }))
    .expect("inventory")
}

fn jvm(inventory: &Inventory) -> Jvm<'_> {
    Jvm { pid: 4242, feature: 17, inventory }
}

/// The build's paths, as given on the command line.
fn paths() -> &'static [PathBuf] {
    static PATHS: std::sync::OnceLock<Vec<PathBuf>> = std::sync::OnceLock::new();
    PATHS.get_or_init(|| vec![PathBuf::from("/srv/new.jar")])
}

/// The bytes the JVM runs, as `bytes` answers them.
fn running(classes: &[(&str, &[u8])]) -> Answers {
    let loader = Loader { id: "0x1".into(), name: "app".into() };
    let classes = classes.iter().map(|(n, b)| (n.to_string(), Some(loader.clone()), b.to_vec())).collect();
    Answers { running: Some((VM, classes)), ..Answers::default() }
}

fn changes(plan: &Plan) -> Vec<(&str, Change)> {
    plan.classes.iter().map(|c| (c.name.as_str(), c.change)).collect()
}

#[test]
fn the_build_the_jvm_runs_needs_nothing_from_it() {
    let greeter = class("a.Greeter", OBJECT, 1, None);
    let inv = inventory(&[("a.Greeter", Some(sha(&greeter)))]);
    let snap = snapshot(&[("a.Greeter", &greeter)], &[]);
    let old = snapshot(&[("a.Greeter", &greeter)], &[]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: Some(&old) }).expect("survey");
    assert_eq!(survey.needs(), &Needs { loader: "0x1".into(), ..Needs::default() });
    let mut plan = survey.plan(&Answers::default()).expect("plan");
    assert_eq!(plan.counts.unchanged, 1);
    assert!(plan.classes.is_empty() && plan.resources.is_empty() && plan.dependencies.is_empty());
    assert_eq!(plan.loader.as_ref().map(|l| l.name.as_str()), Some("app"));
    assert_eq!((plan.pid, plan.build.as_str(), plan.build_classes, plan.loaded_classes), (4242, "/srv/new.jar", 1, 1));
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Nothing);
    assert_eq!(plan.reasons, vec!["the JVM already runs exactly this build"]);
}

#[test]
fn a_changed_body_is_judged_on_the_bytes_the_jvm_runs() {
    let (v1, v2) = (class("a.Greeter", OBJECT, 1, None), class("a.Greeter", OBJECT, 2, None));
    let inv = inventory(&[("a.Greeter", Some(sha(&v1)))]);
    let snap = snapshot(&[("a.Greeter", &v2)], &[]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect("survey");
    assert_eq!(survey.needs().bytes, vec!["a.Greeter"]);
    assert!(survey.needs().resources.is_empty(), "a loaded class needs no resource answer");
    let mut plan = survey.plan(&running(&[("a.Greeter", &v1)])).expect("plan");
    assert_eq!(changes(&plan), vec![("a.Greeter", Change::BodyOnly)]);
    assert_eq!(plan.classes[0].origin, "build/a/Greeter.class");
    assert_eq!(plan.counts.body_only, 1);
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Redefine);
    assert_eq!(plan.reasons, vec!["1 class(es) changed in method bodies only: one atomic redefinition"]);
}

#[test]
fn a_structural_change_says_why_and_needs_a_replacement() {
    let v1 = class("a.Greeter", OBJECT, 1, None);
    let v2 = class("a.Greeter", OBJECT, 1, Some("count"));
    let inv = inventory(&[("a.Greeter", Some(sha(&v1)))]);
    let snap = snapshot(&[("a.Greeter", &v2)], &[]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect("survey");
    let mut plan = survey.plan(&running(&[("a.Greeter", &v1)])).expect("plan");
    assert_eq!(changes(&plan), vec![("a.Greeter", Change::Structural)]);
    assert_eq!(plan.classes[0].reasons, vec!["field added: public int count"]);
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Replace);
    assert_eq!(plan.reasons, vec!["1 class(es) changed structurally (a.Greeter)"]);
}

#[test]
fn classes_not_loaded_are_compared_with_the_build_the_jvm_was_started_from() {
    let loaded = class("a.Loaded", OBJECT, 1, None);
    let (lazy1, lazy2) = (class("a.Lazy", OBJECT, 1, None), class("a.Lazy", OBJECT, 2, None));
    let quiet = class("a.Quiet", OBJECT, 1, None);
    let helper = class("a.Helper", OBJECT, 1, None);
    let inv = inventory(&[("a.Loaded", Some(sha(&loaded)))]);
    let old = snapshot(&[("a.Loaded", &loaded), ("a.Lazy", &lazy1), ("a.Quiet", &quiet)], &[]);
    let snap = snapshot(&[("a.Loaded", &loaded), ("a.Lazy", &lazy2), ("a.Quiet", &quiet), ("a.Helper", &helper)], &[]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: Some(&old) }).expect("survey");
    assert_eq!(survey.needs(), &Needs { loader: "0x1".into(), ..Needs::default() }, "the old build answers");
    let mut plan = survey.plan(&Answers::default()).expect("plan");
    assert_eq!(changes(&plan), vec![("a.Helper", Change::New), ("a.Lazy", Change::Pending)]);
    assert_eq!((plan.counts.unchanged, plan.counts.new, plan.counts.pending), (2, 1, 1));
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Redefine);
    assert_eq!(
        plan.reasons,
        vec![
            "0 class(es) changed in method bodies only, 1 new class(es) defined first, 1 not loaded yet (used when \
             they load): one atomic redefinition"
        ]
    );
}

#[test]
fn without_the_old_build_the_applications_loader_is_asked() {
    let loaded = class("a.Loaded", OBJECT, 1, None);
    let (lazy1, lazy2) = (class("a.Lazy", OBJECT, 1, None), class("a.Lazy", OBJECT, 2, None));
    let helper = class("a.Helper", OBJECT, 1, None);
    let inv = inventory(&[
        ("a.Loaded", Some(sha(&loaded))),
        ("a.Gone", Some("01".into())),
        ("a.FromAnotherJar", Some("02".into())),
        ("a.Owner$$SpringCGLIB$$0", None),
    ]);
    let snap =
        snapshot(&[("a.Loaded", &loaded), ("a.Lazy", &lazy2), ("a.Helper", &helper)], &[("app.properties", "p2")]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect("survey");
    assert_eq!(
        survey.needs(),
        &Needs {
            loader: "0x1".into(),
            resources: vec![
                "a/Helper.class".into(),
                "a/Lazy.class".into(),
                "app.properties".into(),
                "a/Gone.class".into(),
                "a/FromAnotherJar.class".into(),
            ],
            origins: vec!["a/Gone.class".into(), "a/FromAnotherJar.class".into()],
            bytes: vec![],
        },
        "a generated class has no class file to ask about"
    );
    let answers = Answers {
        served: [
            ("a/Helper.class", None),
            ("a/Lazy.class", Some(sha(&lazy1))),
            ("app.properties", Some("p1".to_string())),
            ("a/Gone.class", Some("01".into())),
            ("a/FromAnotherJar.class", Some("02".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        // Where the loader serves them from: only a.Gone from what the JVM was started with.
        from_start: HashSet::from(["a/Gone.class".to_string()]),
        running: None,
    };
    let mut plan = survey.plan(&answers).expect("plan");
    assert_eq!(
        changes(&plan),
        vec![("a.Helper", Change::New), ("a.Lazy", Change::Pending), ("a.Gone", Change::Removed)]
    );
    assert_eq!((plan.counts.removed, plan.counts.left_alone), (1, 2), "another jar's class and CGLIB's are left alone");
    assert_eq!(plan.resources.len(), 1);
    assert_eq!(
        (plan.resources[0].name.as_str(), plan.resources[0].change),
        ("app.properties", ResourceChangeKind::Changed)
    );
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Replace);
    assert_eq!(
        plan.reasons,
        vec![
            "1 loaded class(es) are not in the build (a.Gone); a running JVM cannot unload them",
            "1 resource(s) changed (app.properties); an application reads them at start",
        ]
    );
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
    let old: HashSet<&str> =
        ["com.acme.Owner", "com.acme.OldController", "com.acme.package-info", "org.springframework.web.package-info"]
            .into_iter()
            .collect();
    let (mut counts, mut changed) = (Counts::default(), Vec::new());
    record_removed(&loaded, &new, |n| old.contains(n), &mut counts, &mut changed);
    assert_eq!(changes_of(&changed), vec![("com.acme.OldController", Change::Removed)]);
    assert_eq!(counts.left_alone, 4, "Hibernate's, CGLIB's, the lambda and another jar's class are left alone");

    // Deploying the very build the JVM runs: nothing is removed.
    let (mut counts, mut changed) = (Counts::default(), Vec::new());
    record_removed(&loaded, &old, |n| old.contains(n), &mut counts, &mut changed);
    assert!(changed.is_empty() && counts.removed == 0);
}

fn changes_of(changed: &[Changed]) -> Vec<(&str, Change)> {
    changed.iter().map(|c| (c.name.as_str(), c.change)).collect()
}

#[test]
fn changed_resources_and_dependency_jars_need_a_replacement() {
    let loaded = class("a.Loaded", OBJECT, 1, None);
    let inv = inventory(&[("a.Loaded", Some(sha(&loaded)))]);
    let mut old = snapshot(&[("a.Loaded", &loaded)], &[("app.properties", "p1"), ("gone.txt", "g")]);
    let mut snap = snapshot(&[("a.Loaded", &loaded)], &[("app.properties", "p2"), ("new.txt", "n")]);
    for (lib, hash) in [("x.jar", "x1"), ("same.jar", "s"), ("dropped.jar", "d")] {
        old.libs.insert(lib.into(), hash.into());
    }
    for (lib, hash) in [("x.jar", "x2"), ("same.jar", "s")] {
        snap.libs.insert(lib.into(), hash.into());
    }
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: Some(&old) }).expect("survey");
    assert_eq!(survey.needs(), &Needs { loader: "0x1".into(), ..Needs::default() });
    let mut plan = survey.plan(&Answers::default()).expect("plan");
    let resources: Vec<_> = plan.resources.iter().map(|r| (r.name.as_str(), r.change)).collect();
    assert_eq!(
        resources,
        vec![
            ("app.properties", ResourceChangeKind::Changed),
            ("new.txt", ResourceChangeKind::New),
            ("gone.txt", ResourceChangeKind::Removed),
        ]
    );
    assert_eq!(plan.dependencies, vec!["dropped.jar (removed)", "x.jar"]);
    assert!(plan.classes.is_empty());
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Replace);
    assert_eq!(
        plan.reasons,
        vec![
            "3 resource(s) changed (app.properties, new.txt, gone.txt); an application reads them at start",
            "dependency jar(s) changed: dropped.jar (removed), x.jar",
        ]
    );
}

#[test]
fn a_class_from_a_dependency_jar_names_the_jar() {
    let (v1, v2) = (class("d.Dep", OBJECT, 1, None), class("d.Dep", OBJECT, 2, None));
    let inv = inventory(&[("d.Dep", Some(sha(&v1)))]);
    let mut snap = snapshot(&[("d.Dep", &v2)], &[]);
    snap.bytes.get_mut("d.Dep").expect("bytes").1 = "/srv/new.jar!/BOOT-INF/lib/dep-1.1.jar!/d/Dep.class".into();
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect("survey");
    let mut plan = survey.plan(&running(&[("d.Dep", &v1)])).expect("plan");
    assert_eq!(changes(&plan), vec![("d.Dep", Change::BodyOnly)]);
    assert_eq!(plan.dependencies, vec!["dep-1.1.jar"]);
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Replace, "a dependency is replaced whole, not redefined");
}

#[test]
fn a_changed_multi_release_variant_is_structural() {
    let (plain, v17) = (class("m.Multi", OBJECT, 1, None), class("m.Multi", OBJECT, 17, None));
    let inv = inventory(&[("m.Multi", Some(sha(&plain)))]);
    let mut snap = snapshot(&[("m.Multi", &plain)], &[]);
    snap.versioned.insert("m.Multi".into(), vec![(11, sha(&plain)), (17, sha(&v17)), (21, "21".into())]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect("survey");
    assert!(survey.needs().bytes.is_empty(), "a variant is not judged, whatever changed in it");
    let plan = survey.plan(&Answers::default()).expect("plan");
    assert_eq!(changes(&plan), vec![("m.Multi", Change::Structural)]);
    assert_eq!(
        plan.classes[0].reasons,
        vec!["a Java 17 variant of a multi-release jar changed; jhot does not redefine those"]
    );
}

#[test]
fn a_build_of_something_else_is_refused() {
    let inv = inventory(&[("other.App", Some("01".into()))]);
    let snap = snapshot(&[("a.Greeter", &class("a.Greeter", OBJECT, 1, None))], &[]);
    let err = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect_err("not this build");
    assert!(matches!(err, DeployError::NotThisBuild { pid: 4242, classes: 1 }), "{err:?}");
}

#[test]
fn a_plan_must_be_given_the_bytes_it_asked_for() {
    let (v1, v2) = (class("a.Greeter", OBJECT, 1, None), class("a.Greeter", OBJECT, 2, None));
    let inv = inventory(&[("a.Greeter", Some(sha(&v1)))]);
    let snap = snapshot(&[("a.Greeter", &v2)], &[]);
    let survey = survey(jvm(&inv), Build { paths: paths(), snap: &snap, old: None }).expect("survey");
    let err = survey.plan(&Answers::default()).expect_err("unanswered");
    assert!(matches!(err, DeployError::Unanswered { classes: 1 }), "{err:?}");
}

#[test]
fn a_class_the_jvm_runs_in_two_loaders_gets_the_worse_verdict() {
    let v1 = class("a.Shared", OBJECT, 1, None);
    let body = class("a.Shared", OBJECT, 2, None);
    let shape = class("a.Shared", OBJECT, 1, Some("x"));
    let loader = |id: &str| Some(Loader { id: id.into(), name: id.into() });
    let running =
        (VM, vec![("a.Shared".to_string(), loader("0x1"), v1.clone()), ("a.Shared".to_string(), loader("0x2"), shape)]);
    let parsed = crate::archive::ClassSource {
        info: jhot_classfile::read(&body).expect("class"),
        bytes: body.clone(),
        origin: "build".into(),
    };
    let worst = verdicts(&running, &[parsed]).expect("verdicts");
    assert_eq!(worst["a.Shared"].0, Verdict::Structural, "{worst:?}");
}

/// One jar into a JVM started from one jar (Spring Boot's layout): entries compared by the code
/// source the inventory names, nested jar by nested jar.
#[test]
fn one_jar_compares_entries_by_code_source() {
    let same = class("a.Same", OBJECT, 1, None);
    let (body1, body2) = (class("a.Body", OBJECT, 1, None), class("a.Body", OBJECT, 2, None));
    let (lazy1, lazy2) = (class("a.Lazy", OBJECT, 1, None), class("a.Lazy", OBJECT, 2, None));
    let patched = class("a.Patched", OBJECT, 1, None);
    let helper = class("a.Helper", OBJECT, 1, None);
    let gone = class("a.Gone", OBJECT, 1, None);
    let dep = jar(&[("d/Dep.class", &class("d.Dep", OBJECT, 1, None))]);
    let extra = jar(&[("e/Extra.class", &class("e.Extra", OBJECT, 1, None))]);
    let old_jar = jar(&[
        ("BOOT-INF/classes/a/Same.class", &same),
        ("BOOT-INF/classes/a/Body.class", &body1),
        ("BOOT-INF/classes/a/Lazy.class", &lazy1),
        ("BOOT-INF/classes/a/Patched.class", &patched),
        ("BOOT-INF/classes/a/Gone.class", &gone),
        ("BOOT-INF/classes/app.properties", b"k=1"),
        ("BOOT-INF/lib/dep.jar", &dep),
    ]);
    let new_jar = jar(&[
        ("BOOT-INF/classes/a/Same.class", &same),
        ("BOOT-INF/classes/a/Body.class", &body2),
        ("BOOT-INF/classes/a/Lazy.class", &lazy2),
        ("BOOT-INF/classes/a/Patched.class", &patched),
        ("BOOT-INF/classes/a/Helper.class", &helper),
        ("BOOT-INF/classes/app.properties", b"k=2"),
        ("BOOT-INF/lib/dep.jar", &dep),
        ("BOOT-INF/lib/extra.jar", &extra),
    ]);
    let mut old = Index::read(Path::new("/srv/app.jar"), old_jar).expect("old jar");
    let mut new = Index::read(Path::new("/srv/new.jar"), new_jar).expect("new jar");
    let inv: Inventory = serde_json::from_value(json!({
        "loaders": [{"id": "0x1", "name": "app", "class": "org.springframework.boot.loader.launch.LaunchedClassLoader"}],
        "code_sources": ["jar:nested:/srv/app.jar/!BOOT-INF/classes/!/", "jar:nested:/srv/app.jar/!BOOT-INF/lib/dep.jar!/"],
        "classes": [
            {"name": "a.Same", "loader": "0x1", "cs": 0},
            {"name": "a.Body", "loader": "0x1", "cs": 0},
            {"name": "a.Gone", "loader": "0x1", "cs": 0},
            {"name": "d.Dep", "loader": "0x1", "cs": 1},
            // Patched by jhot before: hashed, not named by code source.
            {"name": "a.Patched", "loader": "0x1", "sha256": sha(&patched)},
            {"name": "a.Owner$$SpringCGLIB$$0", "loader": "0x1", "source": "generated"},
        ],
    }))
    .expect("inventory");
    let units = [Some("BOOT-INF/classes/".to_string()), Some("BOOT-INF/lib/dep.jar".to_string())];
    let jar = Jar { path: Path::new("/srv/new.jar"), new: &mut new, old: &mut old, digest: "d1" };
    let survey = survey_jar(jvm(&inv), &units, jar).expect("survey");
    assert_eq!(survey.needs(), &Needs { loader: "0x1".into(), bytes: vec!["a.Body".into()], ..Needs::default() });
    let (mut plan, snap) = survey.plan(&running(&[("a.Body", &body1)])).expect("plan");
    // The new dependency's classes are new classes like any other.
    assert_eq!(
        changes(&plan),
        vec![
            ("a.Body", Change::BodyOnly),
            ("a.Helper", Change::New),
            ("e.Extra", Change::New),
            ("a.Lazy", Change::Pending),
            ("a.Gone", Change::Removed),
        ]
    );
    let c = &plan.counts;
    assert_eq!((c.unchanged, c.body_only, c.new, c.pending, c.removed, c.left_alone), (3, 1, 2, 1, 1, 1));
    assert_eq!(plan.classes[0].origin, "/srv/new.jar!/BOOT-INF/classes/a/Body.class");
    let resources: Vec<_> = plan.resources.iter().map(|r| (r.name.as_str(), r.change)).collect();
    assert_eq!(resources, vec![("app.properties", ResourceChangeKind::Changed)]);
    assert_eq!(plan.dependencies, vec!["extra.jar"]);
    assert_eq!((plan.build.as_str(), plan.build_sha256.as_str()), ("/srv/new.jar", "d1"));
    // Only what a redefinition or a definition sends is read whole.
    assert_eq!(snap.bytes.keys().collect::<Vec<_>>(), vec!["a.Body", "a.Helper", "a.Lazy", "e.Extra"]);
    assert_eq!(snap.bytes["a.Body"].0, body2);
    decide(&mut plan, Mode::Auto);
    assert_eq!(plan.decision, Decision::Replace);
}
