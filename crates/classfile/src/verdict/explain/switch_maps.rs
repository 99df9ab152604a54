//! Switches on enums. For `switch (color)` javac (before Java 21, and for some patterns after)
//! generates a helper class `Outer$1` holding `$SwitchMap$pkg$Color`, an int array per enum
//! switched on: a first switch adds a nested class, a switch on another enum adds a field to it.

use super::super::body;
use super::super::code::{Insns, Operand};
use super::super::ctx::{Ctx, MethodV, Nesting};
use crate::opcodes::op;
use crate::reader::{Class, R, text};
use crate::syntax;

/// A helper class that gained a `$SwitchMap$…` field: a switch on another enum.
pub(super) fn new_switch_map_fields(cx: &mut Ctx) {
    let simple = syntax::simple(&cx.name).to_string();
    let (fa, fb) = (&cx.fa, &cx.fb);
    let mut notes = Vec::new();
    for f in fb.iter().filter(|f| f.name.starts_with(b"$SwitchMap$") && !fa.iter().any(|o| o.name == f.name)) {
        notes.push(format!(
            "{simple} is the helper class javac generates for switches on enums; a switch on another enum ({}) added the field {}. Restart, or switch on something else (e.g. the enum's name()).",
            text(&f.name[11..]).replace('$', "."),
            text(f.name)
        ));
    }
    for n in notes {
        cx.explain(n);
    }
}

/// New nested classes that are switch-map helpers, with the switch that made javac generate them.
pub(super) fn new_helper_classes(cx: &mut Ctx, nesting: &Nesting, uses: &[(String, String, String)]) {
    for n in &nesting.added {
        if let Some((m, _, e)) = uses.iter().find(|u| &u.1 == n) {
            cx.explain(format!(
                "the switch on enum {e} in {m} made javac generate the helper class {} (it holds $SwitchMap$…){}",
                syntax::simple(n),
                if nesting.structural {
                    ", a new nested class. Restart, or avoid the switch (e.g. switch on the enum's name())."
                } else {
                    "; class files before Java 11 have no NestMembers, so this is fine."
                }
            ));
        }
    }
}

/// `getstatic Owner.$SwitchMap$…` in a class's code: (method, helper class, enum).
pub(super) fn switch_map_uses(c: &Class, ms: &[MethodV]) -> R<Vec<(String, String, String)>> {
    let class = syntax::binary(c.name()?);
    let mut out = Vec::new();
    for m in ms {
        let Some(code) = body::code_of(c, &m.raw)? else { continue };
        for insn in Insns::new(code.code) {
            let insn = insn?;
            if insn.op != op::GETSTATIC {
                continue;
            }
            let Operand::Cp(i) = insn.operand else { continue };
            let (_, owner, name, _) = c.member_ref(i)?;
            if let Some(e) = name.strip_prefix(b"$SwitchMap$") {
                let item =
                    (syntax::method_short(&class, m.name, m.desc), syntax::binary(owner), text(e).replace('$', "."));
                if !out.contains(&item) {
                    out.push(item);
                }
            }
        }
    }
    Ok(out)
}

/// Whether `c` is a switch-map helper class (it has a `$SwitchMap$…` field).
pub(super) fn is_switch_map(c: &Class) -> bool {
    c.fields.iter().any(|f| c.member_name(f).is_ok_and(|n| n.starts_with(b"$SwitchMap$")))
}
