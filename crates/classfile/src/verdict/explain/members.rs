//! Methods javac adds or drops without a line of source saying so: synthetic accessors
//! (`access$NNN`), bridges, `$values()`, static initializers, `$deserializeLambda$`; and the
//! private static or final methods some JDKs let a redefinition add or delete.

use super::super::ReasonKind;
use super::super::Vm;
use super::super::body;
use super::super::code::{Insns, Operand};
use super::super::ctx::{Ctx, MethodV};
use super::add_delete_advice;
use crate::flags::{ACC_BRIDGE, ACC_FINAL, ACC_PRIVATE, ACC_STATIC, ACC_SYNTHETIC};
use crate::opcodes::op;
use crate::reader::{Class, R, text};
use crate::syntax;

/// Every added and every deleted method that one of the kinds below explains, added ones first.
pub(super) fn added_and_deleted_methods(cx: &mut Ctx) -> R<()> {
    let vm = *cx.vm;
    let class = cx.name.clone();
    let simple = syntax::simple(&class).to_string();
    let added_fields_named =
        |cx: &Ctx, n: &[u8]| cx.fb.iter().any(|f| f.name == n) && !cx.fa.iter().any(|f| f.name == n);
    let assert_added = added_fields_named(cx, b"$assertionsDisabled");
    let assert_removed = cx.fa.iter().any(|f| f.name == b"$assertionsDisabled")
        && !cx.fb.iter().any(|f| f.name == b"$assertionsDisabled");
    for (side, list) in [("added", cx.added.clone()), ("deleted", cx.deleted.clone())] {
        for idx in list {
            let (c, m) = if side == "added" { (cx.b, cx.mb[idx]) } else { (cx.a, cx.ma[idx]) };
            let blocked = cx.reasons.iter().any(|r| {
                matches!(r.kind, ReasonKind::MethodAdded | ReasonKind::MethodDeleted)
                    && r.message.ends_with(&syntax::method_full(&class, m.flags, m.name, m.desc))
            });
            let note = if syntax::is_accessor(m.name) {
                accessor(c, &m, side, blocked, &simple)?
            } else if m.flags & ACC_BRIDGE != 0 {
                bridge(c, &m, side, blocked, &class, &vm)?
            } else if m.name == b"$values" {
                values(side)
            } else if m.name == b"<clinit>" {
                static_initializer(side, blocked, assert_added, assert_removed)
            } else if m.name == b"$deserializeLambda$" {
                deserialize_lambda(side)
            } else if blocked
                && m.flags & ACC_PRIVATE != 0
                && m.flags & (ACC_STATIC | ACC_FINAL) != 0
                && !vm.may_add_delete_private()
                && syntax::lambda_name(m.name).is_none()
            {
                refused_private(&class, &m, side, &vm)
            } else if !blocked && syntax::lambda_name(m.name).is_none() {
                allowed_private(&class, &m, side, &vm)
            } else {
                continue;
            };
            cx.explain(note);
        }
    }
    Ok(())
}

/// `access$000`: how a nested class reached a private member before Java 11's nestmates.
fn accessor(c: &Class, m: &MethodV, side: &str, blocked: bool, simple: &str) -> R<String> {
    let target = accessor_target(c, m)?.map(|t| format!(" (it {t})")).unwrap_or_default();
    Ok(format!(
        "{} is a synthetic accessor{target} that javac generates so that a nested class can use a private member of {simple}: class files for Java 10 and older have no nestmates. It was {side}{}; compile with --release 11 or later, or make the member package-private.",
        text(m.name),
        if blocked { ", which the JVM refuses" } else { "" }
    ))
}

/// A bridge method: an override with a more specific parameter or return type gets one.
fn bridge(c: &Class, m: &MethodV, side: &str, blocked: bool, class: &str, vm: &Vm) -> R<String> {
    let target = bridge_target(c, m)?.map(|t| format!(" forwarding to `{t}`")).unwrap_or_default();
    Ok(format!(
        "javac {} the bridge method `{}`{target}: an override with a more specific parameter or return type (generics, covariant return) gets one. {}",
        if side == "added" { "added" } else { "dropped" },
        syntax::method_full(class, m.flags & !(ACC_SYNTHETIC | ACC_BRIDGE), m.name, m.desc),
        if blocked { format!("{}.", add_delete_advice(vm)) } else { String::new() }
    ).trim_end().to_string()
    )
}

/// `$values()`: javac 15 and later generate it in every enum.
fn values(side: &str) -> String {
    format!(
        "$values() was {side}: javac 15 and later generate it in every enum, so the two versions were compiled by different JDKs; compile with the JDK that built the running code."
    )
}

/// A static initializer: assert statements, static blocks, non-constant static initializers.
fn static_initializer(side: &str, blocked: bool, assert_added: bool, assert_removed: bool) -> String {
    let why = if side == "added" && assert_added {
        "the new assert statement made javac add the field $assertionsDisabled and a static initializer that sets it"
    } else if side == "deleted" && assert_removed {
        "removing the last assert statement removed $assertionsDisabled and its static initializer"
    } else if side == "added" {
        "a static block, a static field with a non-constant initializer, a switch on an enum or an assert adds one"
    } else {
        "it held static field initializers or a static block"
    };
    format!(
        "a static initializer (<clinit>) was {side}: {why}. It is a method, so {}; note also that static initializers never run again after a redefinition.",
        if blocked { "the JVM refuses the change (restart)" } else { "this is a method change" }
    )
}

/// `$deserializeLambda$`: javac generates it for serializable lambdas.
fn deserialize_lambda(side: &str) -> String {
    format!("$deserializeLambda$ was {side}: javac generates it when a class has serializable lambdas.")
}

/// A private static or final method added or deleted where JDK 11 allowed it and this JDK does not.
fn refused_private(class: &str, m: &MethodV, side: &str, vm: &Vm) -> String {
    format!(
        "{} was {side}: JDK 11 allowed adding and deleting private static/final methods, JDK 13 and later refuse it{}.",
        syntax::method_short(class, m.name, m.desc),
        if vm.feature <= 25 {
            " unless started with -XX:+AllowRedefinitionToAddDeleteMethods (deprecated)"
        } else {
            ""
        }
    )
}

/// A private static or final method this JDK lets a redefinition add or delete.
fn allowed_private(class: &str, m: &MethodV, side: &str, vm: &Vm) -> String {
    format!(
        "{} was {side}: JDK {} allows adding and deleting private static or private final methods.",
        syntax::method_full(class, m.flags, m.name, m.desc),
        vm.feature
    )
}

/// The first field or method an accessor's body uses: "reads field count", "calls helper()".
fn accessor_target(c: &Class, m: &MethodV) -> R<Option<String>> {
    let Some(code) = body::code_of(c, &m.raw)? else { return Ok(None) };
    for insn in Insns::new(code.code) {
        let insn = insn?;
        let idx = match insn.operand {
            Operand::Cp(i) | Operand::Interface(i, _) => i,
            _ => continue,
        };
        let verb = match insn.op {
            op::GETFIELD | op::GETSTATIC => "reads the private field",
            op::PUTFIELD | op::PUTSTATIC => "writes the private field",
            op::INVOKEVIRTUAL | op::INVOKESPECIAL | op::INVOKESTATIC | op::INVOKEINTERFACE => {
                "calls the private method"
            }
            _ => continue,
        };
        let (_, owner, name, desc) = c.member_ref(idx)?;
        let owner = syntax::binary(owner);
        let what = if insn.op >= op::INVOKEVIRTUAL {
            if name == b"<init>" {
                format!("calls the private constructor {}", syntax::method_short(&owner, name, desc))
            } else {
                format!("{verb} {}", syntax::method_short(&owner, name, desc))
            }
        } else {
            format!("{verb} {}", text(name))
        };
        return Ok(Some(what));
    }
    Ok(None)
}

/// The non-bridge method a bridge forwards to.
fn bridge_target(c: &Class, m: &MethodV) -> R<Option<String>> {
    let Some(code) = body::code_of(c, &m.raw)? else { return Ok(None) };
    let own = c.name()?;
    for insn in Insns::new(code.code) {
        let insn = insn?;
        if let (
            op::INVOKEVIRTUAL | op::INVOKESPECIAL | op::INVOKEINTERFACE | op::INVOKESTATIC,
            Operand::Cp(i) | Operand::Interface(i, _),
        ) = (insn.op, insn.operand)
        {
            let (_, owner, name, desc) = c.member_ref(i)?;
            if owner == own && name == m.name {
                let (params, ret) = syntax::method_types(desc).unwrap_or_default();
                return Ok(Some(format!("{ret} {}({})", text(name), params.join(", "))));
            }
        }
    }
    Ok(None)
}
