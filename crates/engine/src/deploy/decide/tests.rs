//! The decision on literal plans.

use super::*;
use crate::deploy::report::{Changed, Counts, ResourceChange, ResourceChangeKind, RewrittenInPlace};

fn changed(name: &str, change: Change) -> Changed {
    Changed { name: name.into(), change, reasons: vec![], origin: String::new() }
}

/// A plan with these classes (counted as such) and resources.
fn plan(classes: &[(&str, Change)], resources: &[&str], dependencies: &[&str]) -> Plan {
    let mut counts = Counts { unchanged: 10, ..Counts::default() };
    for (_, change) in classes {
        match change {
            Change::BodyOnly => counts.body_only += 1,
            Change::Structural => counts.structural += 1,
            Change::New => counts.new += 1,
            Change::Pending => counts.pending += 1,
            Change::Removed => counts.removed += 1,
        }
    }
    Plan {
        pid: 7,
        build: "app.jar".into(),
        build_sha256: "ab".into(),
        loader: None,
        build_classes: 10 + classes.len(),
        loaded_classes: 10,
        counts,
        classes: classes.iter().map(|(n, c)| changed(n, *c)).collect(),
        resources: resources
            .iter()
            .map(|r| ResourceChange { name: r.to_string(), change: ResourceChangeKind::Changed })
            .collect(),
        dependencies: dependencies.iter().map(|d| d.to_string()).collect(),
        rewritten_in_place: None,
        decision: Decision::Nothing,
        reasons: vec![],
    }
}

fn decided(mut plan: Plan, mode: Mode) -> (Decision, Vec<String>) {
    decide(&mut plan, mode);
    (plan.decision, plan.reasons)
}

#[test]
fn the_least_disruptive_path_that_takes_the_whole_build() {
    assert_eq!(
        decided(plan(&[], &[], &[]), Mode::Auto),
        (Decision::Nothing, vec!["the JVM already runs exactly this build".into()])
    );
    assert_eq!(
        decided(plan(&[("a.B", Change::BodyOnly), ("a.N", Change::New)], &[], &[]), Mode::Auto),
        (
            Decision::Redefine,
            vec![
                "1 class(es) changed in method bodies only, 1 new class(es) defined first: one atomic redefinition"
                    .into()
            ]
        )
    );
    assert_eq!(
        decided(plan(&[("a.L", Change::Pending)], &[], &[]), Mode::Redefine),
        (
            Decision::Redefine,
            vec![
                "0 class(es) changed in method bodies only, 1 not loaded yet (used when they load): one atomic \
                 redefinition"
                    .into()
            ]
        )
    );
    // Every reason to replace is given, structural first.
    let all = plan(
        &[("a.B", Change::BodyOnly), ("a.S", Change::Structural), ("a.R", Change::Removed)],
        &["app.properties"],
        &["x.jar"],
    );
    assert_eq!(
        decided(all, Mode::Auto),
        (
            Decision::Replace,
            vec![
                "1 class(es) changed structurally (a.S)".into(),
                "1 loaded class(es) are not in the build (a.R); a running JVM cannot unload them".into(),
                "1 resource(s) changed (app.properties); an application reads them at start".into(),
                "dependency jar(s) changed: x.jar".into(),
            ]
        )
    );
}

#[test]
fn long_lists_name_five() {
    let names: Vec<String> = (0..7).map(|i| format!("a.C{i}")).collect();
    let classes: Vec<(&str, Change)> = names.iter().map(|n| (n.as_str(), Change::Structural)).collect();
    let (_, reasons) = decided(plan(&classes, &[], &[]), Mode::Auto);
    assert_eq!(reasons, vec!["7 class(es) changed structurally (a.C0, a.C1, a.C2, a.C3, a.C4, …)"]);
}

#[test]
fn mode_replace_replaces_whatever_changed() {
    for p in [plan(&[], &[], &[]), plan(&[("a.B", Change::BodyOnly)], &[], &[])] {
        assert_eq!(decided(p, Mode::Replace), (Decision::Replace, vec!["--mode replace".into()]));
    }
    let (decision, reasons) = decided(plan(&[("a.S", Change::Structural)], &[], &[]), Mode::Replace);
    assert_eq!(decision, Decision::Replace);
    assert_eq!(reasons, vec!["--mode replace", "1 class(es) changed structurally (a.S)"]);
}

#[test]
fn mode_redefine_refuses_what_needs_a_replacement() {
    let mut p = plan(&[("a.S", Change::Structural)], &[], &[]);
    decide(&mut p, Mode::Redefine);
    assert_eq!(p.decision, Decision::Replace);
    match allowed(&p, Mode::Redefine) {
        Err(DeployError::NeedsReplace { reasons }) => {
            assert_eq!(reasons, vec!["1 class(es) changed structurally (a.S)"])
        }
        other => panic!("{other:?}"),
    }
    assert!(allowed(&p, Mode::Auto).is_ok());
    let mut body = plan(&[("a.B", Change::BodyOnly)], &[], &[]);
    decide(&mut body, Mode::Redefine);
    assert!(allowed(&body, Mode::Redefine).is_ok());
}

#[test]
fn a_class_loaded_while_planning_is_judged_again() {
    let loaded = vec!["a.Lazy".to_string()];
    let verdict = |v: Verdict, reasons: &[&str]| -> Verdicts {
        [("a.Lazy".to_string(), (v, reasons.iter().map(|r| r.to_string()).collect()))].into_iter().collect()
    };
    let start = || {
        let mut p = plan(&[("a.Body", Change::BodyOnly), ("a.Lazy", Change::Pending)], &[], &[]);
        decide(&mut p, Mode::Auto);
        p
    };

    // Only its body differs from what it loaded: still one redefinition.
    let mut p = start();
    replan_loaded(&mut p, &loaded, &verdict(Verdict::BodyOnly, &[]), Mode::Auto);
    assert_eq!((p.counts.body_only, p.counts.pending), (2, 0));
    assert_eq!(p.classes.iter().map(|c| c.change).collect::<Vec<_>>(), vec![Change::BodyOnly, Change::BodyOnly]);
    assert_eq!(p.decision, Decision::Redefine);
    assert_eq!(
        p.reasons,
        vec![
            "1 class(es) loaded while jhot was planning (a.Lazy); judged again against what they loaded",
            "2 class(es) changed in method bodies only: one atomic redefinition",
        ]
    );

    // It loaded the very bytes of the build: no longer a change.
    let mut p = start();
    replan_loaded(&mut p, &loaded, &verdict(Verdict::Unchanged, &[]), Mode::Auto);
    assert_eq!((p.counts.unchanged, p.counts.pending, p.classes.len()), (11, 0, 1));

    // Its shape changed: a replacement, which --mode redefine refuses.
    let mut p = start();
    replan_loaded(&mut p, &loaded, &verdict(Verdict::Structural, &["field added: int x"]), Mode::Redefine);
    assert_eq!(p.decision, Decision::Replace);
    assert_eq!(p.classes[1].reasons, vec!["field added: int x"]);
    assert!(matches!(allowed(&p, Mode::Redefine), Err(DeployError::NeedsReplace { .. })));
}

#[test]
fn a_jar_rewritten_in_place_under_classes_not_loaded_needs_a_replacement() {
    let mut p = plan(&[("a.B", Change::BodyOnly)], &[], &[]);
    p.rewritten_in_place = Some(RewrittenInPlace { jars: vec!["/srv/app.jar".into()], not_loaded: 3 });
    decide(&mut p, Mode::Auto);
    assert_eq!(p.decision, Decision::Replace);
    assert!(p.reasons[0].contains("/srv/app.jar was rewritten in place"), "{:?}", p.reasons);
    assert!(p.reasons[0].contains("3 class(es)"), "{:?}", p.reasons);
    assert!(allowed(&p, Mode::Redefine).is_err(), "--mode redefine refuses it");

    // Every class of the build loaded: the old index is never read for a class again.
    let mut p = plan(&[("a.B", Change::BodyOnly)], &[], &[]);
    p.rewritten_in_place = Some(RewrittenInPlace { jars: vec!["/srv/app.jar".into()], not_loaded: 0 });
    decide(&mut p, Mode::Auto);
    assert_eq!(p.decision, Decision::Redefine);
}
