//! Nested, local and anonymous classes. A class file for Java 11+ lists every class nested in it
//! (NestMembers), which HotSpot refuses to change; javac numbers anonymous classes in order, so a
//! new one renumbers those after it. From the outer class alone (`nested_classes`) and, in a set,
//! from the sibling classes (`siblings`, `new_and_removed`).

use std::collections::BTreeMap;

use super::super::ctx::{Ctx, Nesting};
use super::super::{ClassDiff, Verdict, Vm};
use super::switch_maps::{self, is_switch_map, switch_map_uses};
use crate::reader::{AttrKind, Class, Cur, R};
use crate::syntax;

/// Nested classes that came or went, seen from the outer class (`diff_sets` adds detail from the
/// sibling classes): switch-map helpers, other nested classes added, nested classes removed.
pub(super) fn nested_classes(cx: &mut Ctx) -> R<()> {
    let nesting = cx.nesting.clone();
    if !nesting.added.is_empty() || !nesting.removed.is_empty() {
        let uses = switch_map_uses(cx.b, &cx.mb)?;
        switch_maps::new_helper_classes(cx, &nesting, &uses);
        let plain: Vec<&String> = nesting.added.iter().filter(|n| !uses.iter().any(|u| &u.1 == *n)).collect();
        if !plain.is_empty() && nesting.structural {
            cx.explain(format!(
                "nested class{} {} added: the outer class lists every nested, local and anonymous class in NestMembers (class files for Java 11+), and HotSpot refuses to change that list. Restart, or make the new class a top-level class in its own file.",
                if plain.len() == 1 { "" } else { "es" },
                plain.iter().map(|n| syntax::simple(n)).collect::<Vec<_>>().join(", ")
            ));
        }
        if !nesting.removed.is_empty() && nesting.structural {
            cx.explain(format!(
                "nested class{} {} removed: NestMembers changes, which HotSpot refuses. Restart, or keep the nested class.",
                if nesting.removed.len() == 1 { "" } else { "es" },
                nesting.removed.iter().map(|n| syntax::simple(n)).collect::<Vec<_>>().join(", ")
            ));
        }
    }
    Ok(())
}

/// Anonymous classes of `outer` in a set, in number order: (binary name, enclosing method).
fn anonymous(set: &BTreeMap<String, Vec<u8>>, outer: &str) -> Vec<(u32, String, String)> {
    let prefix = format!("{outer}$");
    let mut v = Vec::new();
    for (name, bytes) in set.range(prefix.clone()..) {
        let Some(rest) = name.strip_prefix(&prefix) else { break };
        let Ok(n) = rest.parse::<u32>() else { continue };
        let Ok(c) = Class::parse(bytes) else { continue };
        if is_switch_map(&c) {
            continue;
        }
        if let Some(m) = enclosing_method(&c) {
            v.push((n, name.clone(), m));
        }
    }
    v.sort();
    v
}

/// `bar()` from an EnclosingMethod attribute (None when there is no method: a field initializer,
/// a switch-map helper, or no attribute).
fn enclosing_method(c: &Class) -> Option<String> {
    let at = c.class_attr(AttrKind::EnclosingMethod)?;
    let mut cur = Cur::new(at.data);
    let class = c.class_name(cur.u2().ok()?).ok()?;
    let nat = cur.u2().ok()?;
    if nat == 0 {
        return Some("an initializer".into());
    }
    let (n, d) = c.name_and_type(nat).ok()?;
    Some(syntax::method_short(&syntax::binary(class), n, d))
}

/// Explanations for the nested classes that came or went, from the sibling classes: which
/// anonymous or local class is new, in which method, and which ones javac renumbered.
pub(crate) fn siblings(
    out: &mut [ClassDiff],
    i: usize,
    facts: &Nesting,
    old: &BTreeMap<String, Vec<u8>>,
    new: &BTreeMap<String, Vec<u8>>,
    _vm: &Vm,
) {
    let outer = out[i].name.clone();
    let so = syntax::simple(&outer).to_string();
    let digits = |n: &str| n.rsplit('$').next().is_some_and(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_digit()));
    let mut notes = Vec::new();
    let mut covered: Vec<String> = Vec::new();
    if facts.added.iter().chain(&facts.removed).any(|n| digits(n)) {
        let before = anonymous(old, &outer);
        let after = anonymous(new, &outer);
        let mut methods: Vec<&String> = after.iter().chain(&before).map(|e| &e.2).collect();
        methods.sort();
        methods.dedup();
        let mut shifted = Vec::new();
        for m in methods {
            let b: Vec<&(u32, String, String)> = before.iter().filter(|e| &e.2 == m).collect();
            let a: Vec<&(u32, String, String)> = after.iter().filter(|e| &e.2 == m).collect();
            for (x, y) in b.iter().zip(&a) {
                if x.0 != y.0 {
                    shifted.push((x.0, format!("{so}${} is now {so}${}", x.0, y.0)));
                }
            }
            for y in a.iter().skip(b.len()) {
                notes.push(format!("new anonymous class {so}${} in {m}", y.0));
            }
            for x in b.iter().skip(a.len()) {
                notes.push(format!("the anonymous class {so}${} in {m} is gone", x.0));
            }
        }
        shifted.sort();
        if !shifted.is_empty() {
            notes.push(format!(
                "javac numbers anonymous classes in order, so the later ones were renumbered: {} (their bytes change too)",
                shifted.into_iter().map(|s| s.1).collect::<Vec<_>>().join(", ")
            ));
        }
        covered.extend(facts.added.iter().chain(&facts.removed).filter(|n| digits(n)).cloned());
    }
    for n in facts.added.iter().filter(|n| !digits(n)) {
        let last = n.rsplit('$').next().unwrap_or("");
        let local = last.trim_start_matches(|ch: char| ch.is_ascii_digit());
        if local.len() < last.len()
            && !local.is_empty()
            && let Some(c) = new.get(n).and_then(|b| Class::parse(b).ok())
        {
            let place = enclosing_method(&c).unwrap_or_else(|| "an initializer".into());
            notes.push(format!("new local class {local} in {place}"));
            covered.push(n.clone());
        }
    }
    if notes.is_empty() {
        return;
    }
    if facts.structural {
        notes.push(format!(
            "{so} lists its nested, local and anonymous classes in NestMembers (class files for Java 11+), and HotSpot refuses to change that list: restart, or move the new code into a top-level class"
        ));
    }
    let d = &mut out[i];
    // The generic note from the outer class alone is replaced when it named only these classes.
    let all_covered = facts.added.iter().chain(&facts.removed).all(|n| {
        covered.contains(n) || new.get(n).and_then(|b| Class::parse(b).ok()).is_some_and(|c| is_switch_map(&c))
    });
    if all_covered {
        d.explanations.retain(|e| !e.starts_with("nested class"));
    }
    for s in notes {
        if !d.explanations.contains(&s) {
            d.explanations.push(s);
        }
    }
}

/// Explanations on new and removed classes that are nested in a compared class.
pub(crate) fn new_and_removed(out: &mut [ClassDiff], old: &BTreeMap<String, Vec<u8>>, new: &BTreeMap<String, Vec<u8>>) {
    for d in out.iter_mut() {
        let (set, other) = match d.verdict {
            Verdict::New => (new, old),
            Verdict::Removed => (old, new),
            _ => continue,
        };
        let Some((outer, _)) = d.name.rsplit_once('$') else { continue };
        if !other.contains_key(outer) {
            continue;
        }
        let Some(bytes) = set.get(&d.name) else { continue };
        let Ok(c) = Class::parse(bytes) else { continue };
        let outer_simple = syntax::simple(outer);
        let s = if is_switch_map(&c) {
            format!("javac's helper class for a switch on an enum in {outer_simple}")
        } else if d.verdict == Verdict::New {
            let nests = set.get(outer).and_then(|b| Class::parse(b).ok()).is_some_and(|o| o.major >= 55);
            if nests {
                format!(
                    "a new class nested in {outer_simple}: loading it is fine, but it changes {outer_simple}'s NestMembers"
                )
            } else {
                format!("a new class nested in {outer_simple}")
            }
        } else {
            format!("was nested in {outer_simple}")
        };
        d.explanations.push(s);
    }
}
