//! Fields: the same fields in another order, enum constants, and the fields javac adds to local,
//! anonymous and inner classes (`val$x` per captured variable, `this$0` for the outer instance).

use super::super::ReasonKind;
use super::super::ctx::{Ctx, MethodV};
use crate::flags::ACC_ENUM;
use crate::reader::text;
use crate::syntax;

/// The same fields in another order: a different compiler, if the methods moved too.
pub(super) fn reordered(cx: &mut Ctx) {
    if cx.reasons.iter().any(|r| r.kind == ReasonKind::SchemaChanged && r.message.starts_with("fields reordered")) {
        // Are the methods in another order too? Then a different compiler is the likely cause.
        let order = |ms: &[MethodV], other: &[MethodV]| -> Vec<(Vec<u8>, Vec<u8>)> {
            ms.iter()
                .filter(|m| other.iter().any(|o| o.name == m.name && o.desc == m.desc))
                .map(|m| (m.name.to_vec(), m.desc.to_vec()))
                .collect()
        };
        let methods_moved = order(&cx.ma, &cx.mb) != order(&cx.mb, &cx.ma);
        cx.explain(if methods_moved {
            "the same fields in another order, and the methods are in another order too: typical of a different compiler (Eclipse's ecj and javac order members differently). Build with the compiler that built the running code, or restore the field order.".to_string()
        } else {
            "the same fields in another order: HotSpot compares fields in declaration order. Restore the order of the running version.".to_string()
        });
    }
}

/// Fields only in one version that say why: enum constants, captured variables, `this$0`.
pub(super) fn added_and_removed(cx: &mut Ctx) {
    let simple = syntax::simple(&cx.name).to_string();
    let (fa, fb) = (cx.fa.clone(), cx.fb.clone());
    for f in fb.iter().filter(|f| !fa.iter().any(|o| o.name == f.name)) {
        if f.flags & ACC_ENUM != 0 {
            cx.explain(format!(
                "enum constant {} added: each constant is a static field, so the schema changes (restart).",
                text(f.name)
            ));
        } else if f.name == b"this$0" {
            cx.explain(format!(
                "{simple} now keeps a reference to its enclosing instance (field this$0): it became an inner (non-static) class, or started using the outer instance."
            ));
        } else if let Some(v) = f.name.strip_prefix(b"val$") {
            cx.explain(format!(
                "{simple} now captures the local variable `{}` (javac stores it in the field val${}): a local or anonymous class gets a field per captured variable.",
                text(v),
                text(v)
            ));
        }
    }
    for f in fa.iter().filter(|f| !fb.iter().any(|o| o.name == f.name)) {
        if f.name == b"this$0" {
            cx.explain(format!(
                "{simple} no longer keeps a reference to its enclosing instance (field this$0 removed)."
            ));
        } else if let Some(v) = f.name.strip_prefix(b"val$") {
            cx.explain(format!(
                "{simple} no longer captures the local variable `{}` (field val${} removed).",
                text(v),
                text(v)
            ));
        } else if f.flags & ACC_ENUM != 0 {
            cx.explain(format!(
                "enum constant {} removed: each constant is a static field, so the schema changes (restart).",
                text(f.name)
            ));
        }
    }
}
