//! Notes on what may change: debug information only, constants (inlined elsewhere), static
//! initializers (never run again), annotations (read at start-up by frameworks).

use super::super::ReasonKind;
use super::super::body::delta;
use super::super::consts;
use super::super::ctx::Ctx;
use crate::reader::{AttrKind, Class, Cur, R, text};
use crate::syntax;

/// Notes on a body-only change: debug-only, constants, static initializers, annotations.
pub(crate) fn body_notes(cx: &mut Ctx) -> R<()> {
    let class = cx.name.clone();
    let mut all = cx.class_delta;
    for &(_, _, d) in &cx.matched {
        all |= d;
    }
    for &(_, _, d) in &cx.field_deltas {
        all |= d;
    }
    let one_sided = all & delta::ONE_SIDED != 0;
    let all = all & delta::ANY;
    let structural_or_members = !cx.reasons.is_empty() || !cx.added.is_empty() || !cx.deleted.is_empty();
    if one_sided {
        cx.explain(
            "debug information (line numbers, local variable names, source file) is in one version only, as when compiled with other -g options: it was not compared".into(),
        );
    }
    if all != 0 && all & !(delta::DEBUG | delta::PARAMS) == 0 && !structural_or_members && cx.a.major == cx.b.major {
        cx.explain(if all == delta::LINES {
            "only line numbers changed (code moved, e.g. lines added or removed above it): behaviour is the same; redefining updates stack traces".to_string()
        } else {
            let mut what = Vec::new();
            if all & delta::LINES != 0 {
                what.push("line numbers");
            }
            if all & delta::LOCALS != 0 {
                what.push("local variable names");
            }
            if all & delta::SOURCE != 0 {
                what.push("source file");
            }
            if all & delta::PARAMS != 0 {
                what.push("parameter names (-parameters)");
            }
            format!("only debug information differs ({}): behaviour is the same", what.join(", "))
        });
    }
    for &(i, j, d) in &cx.field_deltas.clone() {
        let (fa, fb) = (&cx.a.fields[i], &cx.b.fields[j]);
        let name = text(cx.fb[j].name);
        if d & delta::CONSTANT != 0 {
            let val = |c: &Class, m| -> Option<String> {
                let at = c.member_attr(m, AttrKind::ConstantValue)?;
                let i = Cur::new(at.data).u2().ok()?;
                Some(consts::render(c, i))
            };
            let (va, vb) = (val(cx.a, fa), val(cx.b, fb));
            let change = match (va, vb) {
                (Some(x), Some(y)) => format!("from {x} to {y}"),
                (None, Some(y)) => format!("to {y} (it was not a constant before)"),
                (Some(x), None) => format!("from {x} to a value computed at run time"),
                (None, None) => String::new(),
            };
            cx.explain(format!(
                "constant {name} changed {change}: the running class keeps the field's current value, and classes compiled against the old value have it inlined — recompile and redefine them too"
            ));
        }
        if d & delta::ANNOTATIONS != 0 {
            cx.explain(format!(
                "annotations of field {name} changed: frameworks that read annotations at start-up will not see it"
            ));
        }
    }
    for &(i, _, d) in &cx.matched.clone() {
        let m = cx.ma[i];
        if m.name == b"<clinit>" && d & delta::CODE != 0 {
            cx.explain(
                "the static initializer changed, but a redefined class is not initialised again: static fields keep their current values".to_string(),
            );
        }
        if d & delta::ANNOTATIONS != 0 {
            cx.explain(format!(
                "annotations of {} changed: the JVM takes them, but frameworks that read annotations at start-up will not see it",
                syntax::method_short(&class, m.name, m.desc)
            ));
        }
    }
    if cx.class_delta & delta::ANNOTATIONS != 0 {
        cx.explain("class annotations changed: the JVM takes them, but frameworks that read annotations at start-up will not see it".into());
    }
    if cx.class_delta & delta::RECORD != 0
        && !cx
            .reasons
            .iter()
            .any(|r| matches!(r.kind, ReasonKind::RecordChanged | ReasonKind::PermittedSubclassesChanged))
    {
        cx.explain("the Record or PermittedSubclasses attribute differs in a way HotSpot accepts (order of permitted subclasses, annotations of record components)".into());
    }
    if cx.class_delta & delta::SIGNATURE != 0 {
        cx.explain("the class's generic signature changed (only reflection sees it)".into());
    }
    Ok(())
}
