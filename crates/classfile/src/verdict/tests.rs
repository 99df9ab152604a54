//! The verdict tests that look at the crate's internals (the reader's view of a compiled class);
//! every other compiled-class test is the integration test `tests/verdict`, whose corpus these
//! share.

use super::{ClassDiff, ReasonKind, Verdict, Vm, diff_class, diff_sets};

// The corpus and its helpers, shared with the integration test; these tests use a few of them.
#[allow(dead_code)]
#[path = "../../tests/verdict/corpus.rs"]
mod corpus;

use corpus::{corpus, sample, vm};

#[test]
fn ldc_becoming_ldc_w_is_not_a_change() {
    let Some(c) = corpus(11) else { return };
    let after = &c.after["tldcw.A"];
    // Check the premise: a() really uses ldc_w (0x13) in the after version.
    let class = crate::reader::Class::parse(after).expect("parse");
    let m = class.methods.iter().find(|m| class.member_name(m).ok() == Some(&b"a"[..])).expect("a()");
    let code = super::body::code_of(&class, m).expect("code").expect("has code");
    assert_eq!(code.code[0], 0x13, "a() should start with ldc_w");
    let d = diff_class(&c.before["tldcw.A"], after, &vm(17)).expect("diff");
    assert_eq!(d.verdict, Verdict::BodyOnly, "{d:#?}");
    assert!(d.changed_methods.iter().all(|m| !m.starts_with("a(") || m.contains("line numbers only")), "{d:#?}");
    assert!(d.changed_methods.iter().any(|m| m == "b()"), "{d:#?}");
}

#[test]
fn huge_lengths_are_errors_not_allocations() {
    // cp_count 65535 with nothing after it.
    let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61, 0xFF, 0xFF];
    assert!(diff_class(&b, &b, &vm(17)).is_err());
    // A Utf8 entry claiming 65535 bytes.
    b.extend([1, 0xFF, 0xFF]);
    assert!(diff_class(&b, &b, &vm(17)).is_err());
    // Attribute length 2^32-1 on a valid prefix.
    let Some(good) = sample() else { return };
    let class = crate::reader::Class::parse(&good).expect("parse");
    let at = class.class_attrs()[0].data.as_ptr() as usize - good.as_ptr() as usize;
    let mut bad = good.clone();
    bad[at - 4..at].copy_from_slice(&[0xFF, 0xFF, 0xFF, 0xFF]);
    assert!(diff_class(&good, &bad, &vm(17)).is_err());
}
