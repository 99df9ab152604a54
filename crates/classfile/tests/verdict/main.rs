//! The verdict (`jhot_classfile::verdict`) on class files compiled from small Java sources by javac
//! 17 (the cases and how they are compiled: `corpus.rs`), and on hostile input derived from them.
//!
//! Without javac the tests print a note and pass on a developer's machine; with `CI` or
//! `JHOT_REQUIRE_JAVAC` set they fail instead.
//!
//! ```text
//! cargo test -p jhot-classfile --test verdict
//! ```

use std::path::PathBuf;

use jhot_classfile::verdict::{ClassDiff, ReasonKind, Verdict, Vm, diff_class, diff_sets};

mod corpus;

use corpus::*;

// ---------------------------------------------------------------------------------------------
// Verdicts and reasons

#[test]
fn same_source_recompiled_is_unchanged() {
    let Some(d) = run(11, "tsame", vm(17)) else { return };
    assert_eq!(class(&d, "tsame.A").verdict, Verdict::Unchanged);
}

#[test]
fn body_change_is_body_only_and_names_the_method() {
    let Some(d) = run(11, "tbody", vm(17)) else { return };
    let a = class(&d, "tbody.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(a.reasons.is_empty());
    assert_eq!(a.changed_methods, vec!["greet(String)".to_string()]);
}

#[test]
fn moved_lines_are_body_only_with_a_note() {
    let Some(d) = run(11, "tlines", vm(17)) else { return };
    let a = class(&d, "tlines.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(explained(a, "only line numbers changed"), "{a:#?}");
    assert!(a.changed_methods.iter().all(|m| m.ends_with("(line numbers only)")), "{a:#?}");
}

#[test]
fn debug_info_in_one_version_only_is_not_a_change() {
    if javac_or_skip().is_none() {
        return;
    }
    let src = [("tdebug", "public class A { int f(int count) { int y = count * 2; return y; } }")];
    let g = compile(11, &["-g"], &src);
    let none = compile(11, &["-g:none"], &src);
    let params = compile(11, &["-g", "-parameters"], &src);
    let again = compile(11, &["-g"], &src);
    // Debug information in one version only is "not recorded", not "changed" (see body.rs).
    let d = diff_class(&g["tdebug.A"], &none["tdebug.A"], &vm(17)).expect("diff");
    assert_eq!(d.verdict, Verdict::Unchanged, "{d:#?}");
    assert!(explained(&d, "in one version only"), "{d:#?}");
    // MethodParameters in one version only: no note either (a running JVM's bytes never have it).
    let d = diff_class(&g["tdebug.A"], &params["tdebug.A"], &vm(17)).expect("diff");
    assert_eq!(d.verdict, Verdict::Unchanged, "{d:#?}");
    assert!(d.explanations.is_empty(), "{d:#?}");
    let d = diff_class(&g["tdebug.A"], &again["tdebug.A"], &vm(17)).expect("diff");
    assert_eq!(d.verdict, Verdict::Unchanged);
}

#[test]
fn fields_added_reordered_retyped_are_schema_changes() {
    let Some(d) = run(11, "tfieldadd", vm(11)) else { return };
    let a = class(&d, "tfieldadd.A");
    assert_eq!(kinds(a), vec![ReasonKind::SchemaChanged]);
    assert_eq!(a.reasons[0].message, "field added: long y");
    assert_eq!(a.reasons[0].jvm_error, "attempted to change the schema (add/remove fields)");

    let d = run(11, "tfieldorder", vm(17)).expect("corpus");
    let a = class(&d, "tfieldorder.A");
    assert_eq!(a.verdict, Verdict::Structural);
    assert!(a.reasons[0].message.starts_with("fields reordered: x, y → y, x"), "{a:#?}");
    assert!(explained(a, "same fields in another order"), "{a:#?}");

    let d = run(11, "tfieldtype", vm(17)).expect("corpus");
    let a = class(&d, "tfieldtype.A");
    let msgs: Vec<&str> = a.reasons.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(
        msgs,
        vec!["field type changed: int x → long x", "field modifiers changed: z from `private` to `private volatile`"]
    );
}

#[test]
fn hierarchy_and_class_modifiers() {
    let Some(d) = run(11, "thier", vm(17)) else { return };
    let a = class(&d, "thier.A");
    assert_eq!(kinds(a), vec![ReasonKind::HierarchyChanged]);
    let msgs: Vec<&str> = a.reasons.iter().map(|r| r.message.as_str()).collect();
    assert_eq!(msgs[0], "superclass changed from java.lang.Object to thier.Base");
    assert!(msgs[1].starts_with("interfaces reordered"), "{msgs:?}");

    let d = run(11, "tfinal", vm(17)).expect("corpus");
    let a = class(&d, "tfinal.A");
    assert_eq!(kinds(a), vec![ReasonKind::ClassModifiersChanged]);
    assert_eq!(
        a.reasons[0].message,
        "class modifiers changed from `public class [ACC_SUPER]` to `public final class [ACC_SUPER]`"
    );
}

#[test]
fn public_method_added_is_refused_everywhere() {
    for f in [11, 17, 21, 25] {
        let Some(d) = run(11, "tpubadd", vm(f)) else { return };
        let a = class(&d, "tpubadd.A");
        assert_eq!(kinds(a), vec![ReasonKind::MethodAdded], "JDK {f}");
        assert_eq!(a.reasons[0].message, "method added: public void b()");
    }
}

#[test]
fn private_static_methods_follow_the_jdk_and_the_flag() {
    let Some(d) = run(11, "tprivstatic", vm(11)) else { return };
    let a = class(&d, "tprivstatic.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "JDK 11 allows it: {a:#?}");
    assert!(a.changed_methods.contains(&"helper(int) (added)".to_string()), "{a:#?}");
    assert!(explained(a, "JDK 11 allows adding and deleting private static"), "{a:#?}");

    let d = run(11, "tprivstatic", vm(17)).expect("corpus");
    let a = class(&d, "tprivstatic.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodAdded]);
    assert_eq!(a.reasons[0].message, "method added: private static int helper(int)");
    assert!(explained(a, "JDK 13 and later refuse it"), "{a:#?}");

    let flag = Vm { feature: 17, allow_add_delete_methods: true };
    let d = run(11, "tprivstatic", flag).expect("corpus");
    assert_eq!(class(&d, "tprivstatic.A").verdict, Verdict::BodyOnly);
    // The flag is obsolete from JDK 26.
    let d = run(11, "tprivstatic", Vm { feature: 26, allow_add_delete_methods: true }).expect("corpus");
    assert_eq!(class(&d, "tprivstatic.A").verdict, Verdict::Structural);

    let d = run(11, "tprivdel", vm(11)).expect("corpus");
    assert_eq!(class(&d, "tprivdel.A").verdict, Verdict::BodyOnly);
    let d = run(11, "tprivdel", vm(21)).expect("corpus");
    assert_eq!(kinds(class(&d, "tprivdel.A")), vec![ReasonKind::MethodDeleted]);

    // A private instance method is neither static nor final: refused even on JDK 11.
    let d = run(11, "tprivinst", vm(11)).expect("corpus");
    assert_eq!(kinds(class(&d, "tprivinst.A")), vec![ReasonKind::MethodAdded]);
}

#[test]
fn method_modifiers_but_not_native() {
    let Some(d) = run(11, "tsync", vm(17)) else { return };
    let a = class(&d, "tsync.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodModifiersChanged]);
    assert_eq!(a.reasons[0].message, "method modifiers changed: f() from `package-private` to `synchronized`");
    let d = run(11, "tnative", vm(17)).expect("corpus");
    let a = class(&d, "tnative.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(explained(a, "became native"));
}

#[test]
fn lambda_added_before_an_existing_one_renumbers_it() {
    let Some(d) = run(11, "tlambdabefore", vm(17)) else { return };
    let a = class(&d, "tlambdabefore.A");
    assert_eq!(a.verdict, Verdict::Structural);
    let k = kinds(a);
    assert!(k.contains(&ReasonKind::MethodAdded) && k.contains(&ReasonKind::MethodDeleted), "{a:#?}");
    assert!(a.reasons.iter().any(|r| r.message.contains("lambda$greet$0")), "{a:#?}");
    assert!(
        explained(a, "you added a lambda in hello() (lambda$hello$0) before the existing lambda in greet()"),
        "{a:#?}"
    );
    assert!(explained(a, "lambda$greet$0 is now lambda$greet$1"), "{a:#?}");
    // JDK 11: both lambdas are private static: allowed.
    let d = run(11, "tlambdabefore", vm(11)).expect("corpus");
    let a = class(&d, "tlambdabefore.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(explained(a, "lambdas renumbered"), "{a:#?}");
}

#[test]
fn lambda_added_after_is_a_plain_new_method() {
    let Some(d) = run(11, "tlambdaafter", vm(17)) else { return };
    let a = class(&d, "tlambdaafter.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodAdded], "{a:#?}");
    assert!(explained(a, "new lambda in hello() (lambda$hello$1)"), "{a:#?}");
    assert!(!explained(a, "renumbered"));

    let d = run(11, "tlambdathis", vm(11)).expect("corpus");
    let a = class(&d, "tlambdathis.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodAdded], "a capturing lambda is an instance method: {a:#?}");
    assert!(explained(a, "uses `this`"), "{a:#?}");

    let d = run(11, "tlambdabody", vm(17)).expect("corpus");
    assert_eq!(class(&d, "tlambdabody.A").verdict, Verdict::BodyOnly);
}

#[test]
fn lambda_and_method_reference() {
    let Some(d) = run(11, "tmethodref", vm(17)) else { return };
    let a = class(&d, "tmethodref.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodDeleted], "{a:#?}");
    assert!(explained(a, "a lambda became the method reference String::length"), "{a:#?}");
    let d = run(11, "tmethodref2", vm(17)).expect("corpus");
    let a = class(&d, "tmethodref2.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodAdded], "{a:#?}");
    assert!(explained(a, "the method reference String::length became a lambda"), "{a:#?}");
}

#[test]
fn accessor_for_java8_nested_classes() {
    let Some(d) = run(8, "taccessor", vm(17)) else { return };
    let a = class(&d, "taccessor.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodAdded], "{a:#?}");
    assert!(explained(a, "access$000 is a synthetic accessor (it reads the private field count)"), "{a:#?}");
}

#[test]
fn switch_on_enum_adds_a_helper_class() {
    let Some(d) = run(11, "tswitch", vm(17)) else { return };
    let a = class(&d, "tswitch.A");
    assert_eq!(kinds(a), vec![ReasonKind::NestChanged], "{a:#?}");
    assert!(a.reasons[0].jvm_error.contains("Record, or PermittedSubclasses"));
    assert!(
        explained(
            a,
            "the switch on enum tswitch.A.Color in f(tswitch.A$Color) made javac generate the helper class A$1"
        ),
        "{a:#?}"
    );
    assert_eq!(class(&d, "tswitch.A$1").verdict, Verdict::New);
    assert!(explained(class(&d, "tswitch.A$1"), "switch on an enum"));
    // JDK 11's message.
    let d = run(11, "tswitch", vm(11)).expect("corpus");
    assert_eq!(
        class(&d, "tswitch.A").reasons[0].jvm_error,
        "attempted to change the class NestHost or NestMembers attribute"
    );
    // Class files for Java 8 have no NestMembers: the outer class is body-only.
    let d = run(8, "tswitch8", vm(17)).expect("corpus");
    let a = class(&d, "tswitch8.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(explained(a, "have no NestMembers"), "{a:#?}");
    let d = run(17, "tswitch17", vm(21)).expect("corpus");
    assert_eq!(kinds(class(&d, "tswitch17.A")), vec![ReasonKind::NestChanged]);
}

#[test]
fn nested_and_anonymous_classes() {
    let Some(d) = run(11, "tnested", vm(17)) else { return };
    let a = class(&d, "tnested.A");
    assert_eq!(kinds(a), vec![ReasonKind::NestChanged]);
    assert_eq!(a.reasons[0].message, "NestMembers attribute added: first nested class tnested.A$Helper");
    assert!(explained(a, "nested class A$Helper added"), "{a:#?}");

    let d = run(11, "tanon", vm(17)).expect("corpus");
    let a = class(&d, "tanon.A");
    assert_eq!(kinds(a), vec![ReasonKind::NestChanged], "{a:#?}");
    assert!(explained(a, "new anonymous class A$1 in a()"), "{a:#?}");
    assert!(explained(a, "A$1 is now A$2"), "{a:#?}");
    assert!(!explained(a, "nested class A$2 added"), "the generic note is replaced: {a:#?}");
}

#[test]
fn static_initializer_and_assert() {
    let Some(d) = run(11, "tclinit", vm(17)) else { return };
    let a = class(&d, "tclinit.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodAdded]);
    assert_eq!(a.reasons[0].message, "method added: static {}");
    assert!(explained(a, "a static initializer (<clinit>) was added"), "{a:#?}");

    let d = run(11, "tassert", vm(17)).expect("corpus");
    let a = class(&d, "tassert.A");
    assert_eq!(kinds(a), vec![ReasonKind::SchemaChanged, ReasonKind::MethodAdded], "{a:#?}");
    assert!(explained(a, "assert statement made javac add the field $assertionsDisabled"), "{a:#?}");
}

#[test]
fn bridge_methods() {
    let Some(d) = run(11, "tbridge", vm(17)) else { return };
    let a = class(&d, "tbridge.A");
    assert!(kinds(a).contains(&ReasonKind::MethodAdded));
    assert!(
        explained(
            a,
            "javac added the bridge method `public int compareTo(Object)` forwarding to `int compareTo(tbridge.A)`"
        ),
        "{a:#?}"
    );
}

#[test]
fn constants_concat_annotations_exceptions() {
    let Some(d) = run(11, "tconst", vm(17)) else { return };
    let a = class(&d, "tconst.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(explained(a, "constant LIMIT changed from 1 to 2"), "{a:#?}");
    let d = run(11, "tconcat", vm(17)).expect("corpus");
    assert_eq!(class(&d, "tconcat.A").verdict, Verdict::BodyOnly);
    let d = run(11, "tannot", vm(17)).expect("corpus");
    let a = class(&d, "tannot.A");
    assert_eq!(a.verdict, Verdict::BodyOnly);
    assert_eq!(a.changed_methods, vec!["f() (annotations only)".to_string()]);
    assert!(explained(a, "annotations of f() changed"));
    let d = run(11, "texcept", vm(17)).expect("corpus");
    let a = class(&d, "texcept.A");
    assert_eq!(a.changed_methods, vec!["f(String)".to_string()], "exception table: {a:#?}");
    let d = run(11, "treorder", vm(17)).expect("corpus");
    let a = class(&d, "treorder.A");
    assert_eq!(a.verdict, Verdict::BodyOnly, "{a:#?}");
    assert!(a.reasons.is_empty());
}

#[test]
fn class_retention_annotations_are_invisible_to_the_jvm() {
    let Some(d) = run(11, "tinvisible", vm(17)) else { return };
    assert_eq!(class(&d, "tinvisible.A").verdict, Verdict::Unchanged, "{d:#?}");
}

/// `JHOT_DIFF_OLD=dir JHOT_DIFF_NEW=dir cargo test -p jhot-classfile --test verdict diff_two_trees -- --ignored`:
/// diffs every class present in both trees (e.g. two JDKs' `jimage extract` output) and requires
/// no error.
#[test]
#[ignore]
fn diff_two_trees() {
    let (Ok(a), Ok(b)) = (std::env::var("JHOT_DIFF_OLD"), std::env::var("JHOT_DIFF_NEW")) else { return };
    let load = |root: &str| -> Set {
        let mut set = Set::new();
        let mut stack = vec![PathBuf::from(root)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).expect("readdir") {
                let p = e.expect("entry").path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "class") && !p.ends_with("module-info.class") {
                    let rel = p.strip_prefix(root).expect("rel").with_extension("");
                    set.insert(rel.to_string_lossy().replace('/', "."), std::fs::read(&p).expect("read"));
                }
            }
        }
        set
    };
    let (old, new) = (load(&a), load(&b));
    let mut n = 0;
    let mut verdicts = std::collections::BTreeMap::new();
    for (name, ob) in &old {
        let Some(nb) = new.get(name) else { continue };
        let d = diff_class(ob, nb, &vm(25)).unwrap_or_else(|e| panic!("{name}: {e}"));
        *verdicts.entry(format!("{:?}", d.verdict)).or_insert(0) += 1;
        n += 1;
    }
    eprintln!("{n} classes diffed: {verdicts:?}");
}

#[test]
fn enum_constant_added() {
    let Some(d) = run(11, "tenum", vm(17)) else { return };
    let a = class(&d, "tenum.A");
    assert_eq!(a.verdict, Verdict::Structural);
    assert!(explained(a, "enum constant Z added"), "{a:#?}");
}

#[test]
fn records() {
    let Some(d) = run(17, "trecstr", vm(17)) else { return };
    let a = class(&d, "trecstr.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodModifiersChanged], "{a:#?}");
    assert!(explained(a, "Declare it `public final String toString()`"), "{a:#?}");

    let d = run(17, "trecacc", vm(21)).expect("corpus");
    assert_ne!(class(&d, "trecacc.A").verdict, Verdict::Structural, "javac's implicit accessors are plain public");

    let d = run(17, "trecfinal", vm(17)).expect("corpus");
    let a = class(&d, "trecfinal.A");
    assert_eq!(kinds(a), vec![ReasonKind::MethodModifiersChanged], "{a:#?}");
    assert!(explained(a, "declare an explicit one as `public int x()`"), "{a:#?}");

    let d = run(17, "treccomp", vm(25)).expect("corpus");
    let a = class(&d, "treccomp.A");
    assert_eq!(a.reasons[0].kind, ReasonKind::RecordChanged, "{a:#?}");
    assert_eq!(a.reasons[0].message, "record components changed: (int x, int y) → (int x, int y, int z)");
    assert!(kinds(a).contains(&ReasonKind::SchemaChanged));
}

#[test]
fn sealed_permits() {
    let Some(d) = run(17, "tsealed", vm(17)) else { return };
    let a = class(&d, "tsealed.A");
    assert_eq!(kinds(a), vec![ReasonKind::PermittedSubclassesChanged]);
    assert_eq!(a.reasons[0].message, "permitted subclass added: tsealed.D");
    assert_eq!(class(&d, "tsealed.D").verdict, Verdict::New);
    // A set: the order of `permits` does not matter.
    let d = run(17, "tsealedorder", vm(17)).expect("corpus");
    assert_ne!(class(&d, "tsealedorder.A").verdict, Verdict::Structural);
}

#[test]
fn every_reason_carries_the_jvm_text() {
    for f in [11, 17] {
        let v = vm(f);
        for k in [
            ReasonKind::HierarchyChanged,
            ReasonKind::NestChanged,
            ReasonKind::RecordChanged,
            ReasonKind::PermittedSubclassesChanged,
            ReasonKind::ClassModifiersChanged,
            ReasonKind::SchemaChanged,
            ReasonKind::MethodAdded,
            ReasonKind::MethodDeleted,
            ReasonKind::MethodModifiersChanged,
        ] {
            assert!(
                k.jvm_message(&v).starts_with("attempted to change") || k.jvm_message(&v).starts_with("attempted to")
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile input: no panic, no allocation in proportion to a length field.

#[test]
fn every_truncation_fails_cleanly() {
    let Some(good) = sample() else { return };
    for len in 0..good.len() {
        assert!(diff_class(&good, &good[..len], &vm(17)).is_err(), "truncated at {len}");
    }
}

#[test]
fn random_mutations_never_panic() {
    let (Some(c11), Some(c17)) = (corpus(11), corpus(17)) else { return };
    let samples = [
        (&c11.before["tlambdabefore.A"], &c11.after["tlambdabefore.A"]),
        (&c11.before["tswitch.A"], &c11.after["tswitch.A"]),
        (&c11.before["texcept.A"], &c11.after["texcept.A"]),
        (&c17.before["trecstr.A"], &c17.after["trecstr.A"]),
        (&c17.before["tsealed.A"], &c17.after["tsealed.A"]),
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (base, good) in samples {
        for _ in 0..1500 {
            let mut m = good.clone();
            for _ in 0..(1 + next() % 4) {
                let i = (next() as usize) % m.len();
                m[i] = next() as u8;
            }
            let _ = diff_class(base, &m, &vm(17));
            let _ = diff_class(&m, base, &vm(11));
            let mut set_a = Set::new();
            let mut set_b = Set::new();
            set_a.insert("p.A".to_string(), base.clone());
            set_b.insert("p.A".to_string(), m.clone());
            set_b.insert("p.A$1".to_string(), m);
            let _ = diff_sets(&set_a, &set_b, &vm(21));
        }
    }
}

/// `cargo test -p jhot-classfile --test verdict dump_all_cases -- --ignored --nocapture` prints every case's diff.
#[test]
#[ignore]
fn dump_all_cases() {
    for (release, cases) in [(8, CASES_8), (11, CASES_11), (17, CASES_17)] {
        for f in [11, 17] {
            for c in cases {
                if release == 17 && f == 11 {
                    continue;
                }
                let Some(d) = run(release, c.0, vm(f)) else { return };
                for x in d.iter().filter(|x| x.verdict != Verdict::Unchanged) {
                    println!("--- release {release}, JDK {f}: {} {:?}", x.name, x.verdict);
                    for r in &x.reasons {
                        println!("  reason: {}", r.message);
                    }
                    for e in &x.explanations {
                        println!("  explain: {e}");
                    }
                    if !x.changed_methods.is_empty() {
                        println!("  changed: {}", x.changed_methods.join(", "));
                    }
                }
            }
        }
    }
}

/// `JHOT_EXPORT_DIR=dir cargo test -p jhot-classfile --test verdict export_cases -- --ignored`: writes every case's
/// compiled classes (`dir/<release>/{before,after}/…`) and jhot's predictions per JDK
/// (`dir/<release>/predicted-<jdk>.txt`: `package structural|ok`), to check them against real JVMs.
#[test]
#[ignore]
fn export_cases() {
    let Ok(dir) = std::env::var("JHOT_EXPORT_DIR") else { return };
    for (release, cases) in [(8, CASES_8), (11, CASES_11), (17, CASES_17)] {
        let Some(c) = corpus(release) else { return };
        let root = PathBuf::from(&dir).join(release.to_string());
        for (side, set) in [("before", &c.before), ("after", &c.after)] {
            for (name, bytes) in set {
                let p = root.join(side).join(name.replace('.', "/") + ".class");
                std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
                std::fs::write(&p, bytes).expect("write");
            }
        }
        for (f, flag) in [(11, false), (17, false), (21, false), (25, false), (17, true), (25, true)] {
            let mut lines = String::new();
            for case in cases {
                let d = run(release, case.0, Vm { feature: f, allow_add_delete_methods: flag }).expect("diff");
                let structural = d.iter().any(|x| x.verdict == Verdict::Structural);
                let kinds: Vec<String> = d
                    .iter()
                    .flat_map(|x| x.reasons.iter().map(|r| r.jvm_error.clone()))
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect();
                lines.push_str(&format!(
                    "{} {} {}\n",
                    case.0,
                    if structural { "structural" } else { "ok" },
                    kinds.join("|")
                ));
            }
            let file = if flag { format!("predicted-{f}-flag.txt") } else { format!("predicted-{f}.txt") };
            std::fs::write(root.join(file), lines).expect("write");
        }
    }
}

/// `class p.A { int x; }` (hand-assembled), with a `Synthetic` attribute on the field when asked.
fn hand_class(synthetic_attr: bool) -> Vec<u8> {
    let utf8 = |s: &str| {
        let mut v = vec![1u8];
        v.extend((s.len() as u16).to_be_bytes());
        v.extend(s.as_bytes());
        v
    };
    let cp: Vec<Vec<u8>> = vec![
        utf8("p/A"),
        vec![7, 0, 1],
        utf8("java/lang/Object"),
        vec![7, 0, 3],
        utf8("x"),
        utf8("I"),
        utf8("Synthetic"),
    ];
    let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 55];
    b.extend(((cp.len() + 1) as u16).to_be_bytes());
    for e in &cp {
        b.extend(e);
    }
    b.extend([0x00, 0x21, 0, 2, 0, 4, 0, 0]); // public super, this, super, no interfaces
    b.extend([0, 1, 0, 0, 0, 5, 0, 6]); // one field: flags 0, name x, type I
    if synthetic_attr {
        b.extend([0, 1, 0, 7, 0, 0, 0, 0]);
    } else {
        b.extend([0, 0]);
    }
    b.extend([0, 0, 0, 0]); // no methods, no attributes
    b
}

#[test]
fn a_synthetic_attribute_is_the_synthetic_flag() {
    let d = diff_class(&hand_class(false), &hand_class(true), &vm(17)).expect("diff");
    assert_eq!(kinds(&d), vec![ReasonKind::SchemaChanged], "{d:#?}");
    assert_eq!(d.reasons[0].message, "field modifiers changed: x from `package-private` to `synthetic`");
}
