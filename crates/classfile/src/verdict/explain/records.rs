//! Records: javac generates `toString`, `hashCode` and `equals` as `public final` and accessors
//! as plain `public`, so writing one out (or removing the one written out) can change modifiers.

use super::super::body;
use super::super::code::{Insns, Operand};
use super::super::ctx::{Ctx, MethodV};
use crate::flags::{ACC_FINAL, ACC_NATIVE, ACC_STATIC};
use crate::opcodes::op;
use crate::reader::{Class, R, text};
use crate::syntax;

/// Methods of a record whose modifiers changed: an accessor, or one of the methods javac
/// generates with `java.lang.runtime.ObjectMethods`.
pub(super) fn modifiers(cx: &mut Ctx) -> R<()> {
    let class = cx.name.clone();
    let simple = syntax::simple(&class).to_string();
    let super_b = cx.b.class_name_opt(cx.b.super_class)?;
    if super_b == Some(b"java/lang/Record") {
        for &(i, j, _) in &cx.matched.clone() {
            let (ma, mb) = (cx.ma[i], cx.mb[j]);
            if (ma.flags ^ mb.flags) & !ACC_NATIVE == 0 {
                continue;
            }
            let object_method = matches!(
                (ma.name, ma.desc),
                (b"toString", b"()Ljava/lang/String;") | (b"hashCode", b"()I") | (b"equals", b"(Ljava/lang/Object;)Z")
            );
            if !object_method {
                // An accessor: javac generates `public` ones (not final).
                // (A component is a private final instance field with the accessor's name and type.)
                let component = ma.desc.strip_prefix(b"()").is_some_and(|ret| {
                    cx.fb
                        .iter()
                        .any(|f| f.name == ma.name && f.desc == ret && f.flags & (ACC_STATIC | ACC_FINAL) == ACC_FINAL)
                });
                if component {
                    let sig = syntax::method_full(&class, ma.flags, mb.name, mb.desc);
                    cx.explain(format!(
                        "record {simple}: the accessor {}() changed modifiers (`{}` → `{}`); javac generates accessors as plain `public`, so declare an explicit one as `{sig}`.",
                        text(mb.name),
                        syntax::method_modifiers(ma.flags),
                        syntax::method_modifiers(mb.flags)
                    ));
                }
                continue;
            }
            let sig = syntax::method_full(&class, mb.flags & !ACC_FINAL | (ma.flags & ACC_FINAL), mb.name, mb.desc);
            let gen_a = uses_object_methods(cx.a, &ma)?;
            let gen_b = uses_object_methods(cx.b, &mb)?;
            let m = text(ma.name);
            if gen_a && !gen_b {
                cx.explain(format!(
                    "record {simple}: javac generates {m}() as `public final`, and the explicit {m}() you wrote is `{}`. Declare it `{sig}` to keep the modifiers.",
                    syntax::method_modifiers(mb.flags)
                ));
            } else if !gen_a && gen_b {
                cx.explain(format!(
                    "record {simple}: the explicit {m}() (`{}`) was removed and javac generates one as `public final`. Keep an explicit {m}() with the old modifiers, or restart.",
                    syntax::method_modifiers(ma.flags)
                ));
            } else {
                cx.explain(format!(
                    "record {simple}: {m}() changed modifiers (`{}` → `{}`); keep them as they were.",
                    syntax::method_modifiers(ma.flags),
                    syntax::method_modifiers(mb.flags)
                ));
            }
        }
    }
    Ok(())
}

/// Whether `m`'s code is javac's generated one (an `invokedynamic` of `ObjectMethods`).
fn uses_object_methods(c: &Class, m: &MethodV) -> R<bool> {
    let Some(code) = body::code_of(c, &m.raw)? else { return Ok(false) };
    for insn in Insns::new(code.code) {
        let insn = insn?;
        if insn.op == op::INVOKEDYNAMIC
            && let Operand::Cp(i) = insn.operand
        {
            let (bsm, _, _) = c.dynamic(i)?;
            let (mh, _) = c.bootstrap(bsm)?;
            let (_, (_, owner, _, _)) = c.method_handle(mh)?;
            if owner == b"java/lang/runtime/ObjectMethods" {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
