//! Explanations, in a developer's words, for the changes that surprise people: the compiler
//! generated or renamed something the source does not show. Each is detected from the bytes.

use std::collections::BTreeMap;

use super::body::{self, delta};
use super::code::{Insns, Operand};
use super::consts::{self, ConstCmp};
use super::ctx::{Ctx, MethodV, Nesting};
use super::{ClassDiff, ReasonKind, Verdict, Vm};
use crate::flags::{ACC_BRIDGE, ACC_ENUM, ACC_FINAL, ACC_NATIVE, ACC_PRIVATE, ACC_STATIC, ACC_SYNTHETIC};
use crate::opcodes::op;
use crate::reader::{AttrKind, Class, Cur, R, tag, text};
use crate::syntax;

/// What the JVM would need for a method to be added or deleted, as advice.
fn add_delete_advice(vm: &Vm) -> String {
    if (13..=25).contains(&vm.feature) {
        format!(
            "JDK {} cannot add or delete methods when redefining (-XX:+AllowRedefinitionToAddDeleteMethods, \
             deprecated, allows private static/final ones), so this needs a restart",
            vm.feature
        )
    } else if vm.feature >= 26 {
        format!("JDK {} cannot add or delete methods when redefining, so this needs a restart", vm.feature)
    } else {
        "only private static or private final methods can be added or deleted, so this needs a restart".to_string()
    }
}

/// A method reference target of an `invokedynamic` that LambdaMetafactory links: (owner, name, desc).
struct Site<'a> {
    owner: &'a [u8],
    name: &'a [u8],
    desc: &'a [u8],
}

/// The implementation methods of the lambdas and method references in a method, in code order.
fn lambda_sites<'a>(c: &Class<'a>, m: &MethodV<'a>) -> R<Vec<Site<'a>>> {
    let mut out = Vec::new();
    let Some(code) = body::code_of(c, &m.raw)? else { return Ok(out) };
    for insn in Insns::new(code.code) {
        let insn = insn?;
        if insn.op != op::INVOKEDYNAMIC {
            continue;
        }
        let Operand::Cp(i) = insn.operand else { continue };
        let (bsm, _, _) = c.dynamic(i)?;
        let (mh, args) = c.bootstrap(bsm)?;
        let (_, (_, owner, _, _)) = c.method_handle(mh)?;
        if owner != b"java/lang/invoke/LambdaMetafactory" {
            continue;
        }
        let args: Vec<u16> = args.collect();
        if let Some(&impl_mh) = args.get(1)
            && c.tag(impl_mh)? == tag::METHOD_HANDLE
        {
            let (_, (_, owner, name, desc)) = c.method_handle(impl_mh)?;
            out.push(Site { owner, name, desc });
        }
    }
    Ok(out)
}

/// The method of `c` whose code uses the lambda body `name` (for "the lambda in greet()").
fn user_of<'a>(c: &Class<'a>, ms: &[MethodV<'a>], name: &[u8]) -> R<Option<String>> {
    let own = c.name()?;
    let class = syntax::binary(own);
    for m in ms {
        if lambda_sites(c, m)?.iter().any(|s| s.owner == own && s.name == name) {
            return Ok(Some(if syntax::lambda_name(m.name).is_some() {
                format!("the lambda {}", text(m.name))
            } else {
                syntax::method_short(&class, m.name, m.desc)
            }));
        }
    }
    Ok(None)
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

/// `getstatic Owner.$SwitchMap$…` in a class's code: (method, helper class, enum).
fn switch_map_uses(c: &Class, ms: &[MethodV]) -> R<Vec<(String, String, String)>> {
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

/// The traps, from the two versions of one class.
pub(crate) fn traps<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    let vm = *cx.vm;
    let class = cx.name.clone();
    let simple = syntax::simple(&class).to_string();

    // Class file version.
    if cx.a.major != cx.b.major {
        cx.explain(format!(
            "compiled for a different Java version (class file {} → {}, Java {} → {}): compile with the same --release as the running code to avoid differences the compiler makes",
            cx.a.major,
            cx.b.major,
            cx.a.major.saturating_sub(44),
            cx.b.major.saturating_sub(44)
        ));
    }
    if cx.b.major as u32 > vm.max_major() {
        cx.explain(format!(
            "JDK {} cannot load class file version {} (Java {}): the JVM refuses it with UnsupportedClassVersionError; compile with --release {} or lower",
            vm.feature,
            cx.b.major,
            cx.b.major.saturating_sub(44),
            vm.feature
        ));
    }

    // --- Lambdas: renumbering, method reference <-> lambda, new and removed lambdas. ---
    let mut explained_a: Vec<usize> = Vec::new(); // deleted methods already explained
    let mut explained_b: Vec<usize> = Vec::new(); // added methods already explained
    let own_a = cx.a.name()?;
    let own_b = cx.b.name()?;
    // Method reference <-> lambda, per method present in both versions (only when a lambda body
    // came or went: decoding every method is not free).
    let lambda_moved = cx.added.iter().any(|&j| syntax::lambda_name(cx.mb[j].name).is_some())
        || cx.deleted.iter().any(|&i| syntax::lambda_name(cx.ma[i].name).is_some());
    for &(i, j, _) in if lambda_moved { cx.matched.clone() } else { Vec::new() }.iter() {
        let (ma, mb) = (cx.ma[i], cx.mb[j]);
        let sa = lambda_sites(cx.a, &ma)?;
        let sb = lambda_sites(cx.b, &mb)?;
        if sa.len() != sb.len() {
            continue;
        }
        for (x, y) in sa.iter().zip(&sb) {
            let xl = x.owner == own_a && syntax::lambda_name(x.name).is_some();
            let yl = y.owner == own_b && syntax::lambda_name(y.name).is_some();
            let where_ = syntax::method_short(&class, ma.name, ma.desc);
            if xl && !yl {
                if let Some(d) =
                    cx.deleted.iter().copied().find(|&d| cx.ma[d].name == x.name && cx.ma[d].desc == x.desc)
                {
                    explained_a.push(d);
                    cx.explain(format!(
                        "in {where_}, a lambda became the method reference {}::{}: javac no longer generates its body {}, so that method is deleted. {}",
                        syntax::class(y.owner),
                        text(y.name),
                        text(x.name),
                        if vm.may_add_delete_private() && cx.ma[d].flags & ACC_STATIC != 0 {
                            "This JVM allows it (private static method).".to_string()
                        } else {
                            format!("Keep the lambda; otherwise {}.", add_delete_advice(&vm))
                        }
                    ));
                }
            } else if !xl
                && yl
                && let Some(a) = cx.added.iter().copied().find(|&a| cx.mb[a].name == y.name && cx.mb[a].desc == y.desc)
            {
                explained_b.push(a);
                cx.explain(format!(
                    "in {where_}, the method reference {}::{} became a lambda: javac generates its body as the new method {}. {}",
                    syntax::class(x.owner),
                    text(x.name),
                    text(y.name),
                    if vm.may_add_delete_private() && cx.mb[a].flags & ACC_STATIC != 0 {
                        "This JVM allows it (private static method).".to_string()
                    } else {
                        format!("Keep the method reference; otherwise {}.", add_delete_advice(&vm))
                    }
                ));
            }
        }
    }
    // Renumbered lambdas: a deleted lambda$m$N whose body reappears under another number.
    let del_l: Vec<usize> = cx
        .deleted
        .iter()
        .copied()
        .filter(|d| !explained_a.contains(d) && syntax::lambda_name(cx.ma[*d].name).is_some())
        .collect();
    let add_l: Vec<usize> = cx
        .added
        .iter()
        .copied()
        .filter(|a| !explained_b.contains(a) && syntax::lambda_name(cx.mb[*a].name).is_some())
        .collect();
    let mut renamed: Vec<(usize, usize)> = Vec::new();
    for &d in &del_l {
        let x = cx.ma[d];
        let (enc, _) = syntax::lambda_name(x.name).unwrap_or_default();
        for &a in &add_l {
            if renamed.iter().any(|r| r.1 == a) {
                continue;
            }
            let y = cx.mb[a];
            if syntax::lambda_name(y.name).map(|l| l.0) != Some(enc) || y.desc != x.desc {
                continue;
            }
            if body::method(k, &x.raw, &y.raw)? & delta::CODE == 0 {
                renamed.push((d, a));
                break;
            }
        }
    }
    // Same enclosing method and signature, bodies changed too (e.g. nested lambdas renumbered):
    // pair the rest in number order.
    for &d in &del_l {
        if renamed.iter().any(|r| r.0 == d) {
            continue;
        }
        let x = cx.ma[d];
        let (enc, _) = syntax::lambda_name(x.name).unwrap_or_default();
        if let Some(&a) = add_l.iter().find(|&&a| {
            !renamed.iter().any(|r| r.1 == a)
                && syntax::lambda_name(cx.mb[a].name).map(|l| l.0) == Some(enc)
                && cx.mb[a].desc == x.desc
                && cx.ma.iter().any(|m| m.name == cx.mb[a].name) // its old name was another lambda
        }) {
            renamed.push((d, a));
        }
    }
    let new_l: Vec<usize> = add_l.iter().copied().filter(|a| !renamed.iter().any(|r| r.1 == *a)).collect();
    let gone_l: Vec<usize> = del_l.iter().copied().filter(|d| !renamed.iter().any(|r| r.0 == *d)).collect();
    let describe_new = |cx: &Ctx, a: usize| -> R<String> {
        let m = cx.mb[a];
        let (enc, _) = syntax::lambda_name(m.name).unwrap_or_default();
        Ok(match user_of(cx.b, &cx.mb, m.name)? {
            Some(u) => format!("{u} ({})", text(m.name)),
            None => format!("{} ({})", syntax::enclosing(enc), text(m.name)),
        })
    };
    let describe_old = |cx: &Ctx, d: usize| -> R<String> {
        let m = cx.ma[d];
        let (enc, _) = syntax::lambda_name(m.name).unwrap_or_default();
        Ok(match user_of(cx.a, &cx.ma, m.name)? {
            Some(u) => format!("{u} ({})", text(m.name)),
            None => format!("{} ({})", syntax::enclosing(enc), text(m.name)),
        })
    };
    if !renamed.is_empty() {
        let shifts: Vec<String> =
            renamed.iter().map(|&(d, a)| format!("{} is now {}", text(cx.ma[d].name), text(cx.mb[a].name))).collect();
        let cause = if !new_l.is_empty() {
            let news = new_l.iter().map(|&a| describe_new(cx, a)).collect::<R<Vec<_>>>()?;
            let olds: Vec<String> = renamed
                .iter()
                .map(|&(d, _)| syntax::enclosing(syntax::lambda_name(cx.ma[d].name).unwrap_or_default().0))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            format!(
                "you added a lambda in {} before the existing lambda{} in {}",
                news.join(", "),
                if renamed.len() == 1 { "" } else { "s" },
                olds.join(", ")
            )
        } else if !gone_l.is_empty() {
            let gone = gone_l.iter().map(|&d| describe_old(cx, d)).collect::<R<Vec<_>>>()?;
            format!("you removed the lambda in {}", gone.join(", "))
        } else {
            "code with lambdas moved".to_string()
        };
        let blocked = cx.reasons.iter().any(|r| {
            matches!(r.kind, ReasonKind::MethodAdded | ReasonKind::MethodDeleted) && r.message.contains("lambda$")
        });
        let advice = if !blocked {
            "This JVM accepts it (the lambdas are private static methods).".to_string()
        } else if !new_l.is_empty() && !vm.may_add_delete_private() {
            format!("A new lambda is always a new method: {}.", add_delete_advice(&vm))
        } else if !new_l.is_empty() {
            "Move the new lambda after the existing ones (later in the class) so they keep their names, or restart."
                .to_string()
        } else {
            format!("Keep the lambdas in their old order; otherwise {}.", add_delete_advice(&vm))
        };
        cx.explain(format!(
            "lambdas renumbered: {cause}, and javac numbers lambda bodies in order, so {}. {advice}",
            shifts.join(", ")
        ));
    } else {
        for &a in &new_l {
            let m = cx.mb[a];
            let what = describe_new(cx, a)?;
            let blocked =
                cx.reasons.iter().any(|r| r.kind == ReasonKind::MethodAdded && r.message.contains(&*text(m.name)));
            let advice = if !blocked {
                "This JVM allows it (a private static method).".to_string()
            } else if m.flags & ACC_STATIC == 0 && vm.may_add_delete_private() {
                "It uses `this`, so javac made it an instance method, which no JVM can add: restart, or make the lambda not use `this` or fields.".to_string()
            } else {
                format!("{}.", add_delete_advice(&vm))
            };
            cx.explain(format!("new lambda in {what}: javac compiles each lambda body to a method. {advice}"));
        }
        for &d in &gone_l {
            let m = cx.ma[d];
            let what = describe_old(cx, d)?;
            let blocked =
                cx.reasons.iter().any(|r| r.kind == ReasonKind::MethodDeleted && r.message.contains(&*text(m.name)));
            if blocked {
                cx.explain(format!(
                    "lambda removed from {what}: its body was a method, so a method is deleted. {}.",
                    add_delete_advice(&vm)
                ));
            }
        }
    }

    // --- Synthetic accessors (access$NNN), bridges, $values(), <clinit>, $deserializeLambda$. ---
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
            if syntax::is_accessor(m.name) {
                let target = accessor_target(c, &m)?.map(|t| format!(" (it {t})")).unwrap_or_default();
                cx.explain(format!(
                    "{} is a synthetic accessor{target} that javac generates so that a nested class can use a private member of {simple}: class files for Java 10 and older have no nestmates. It was {side}{}; compile with --release 11 or later, or make the member package-private.",
                    text(m.name),
                    if blocked { ", which the JVM refuses" } else { "" }
                ));
            } else if m.flags & ACC_BRIDGE != 0 {
                let target = bridge_target(c, &m)?.map(|t| format!(" forwarding to `{t}`")).unwrap_or_default();
                cx.explain(format!(
                    "javac {} the bridge method `{}`{target}: an override with a more specific parameter or return type (generics, covariant return) gets one. {}",
                    if side == "added" { "added" } else { "dropped" },
                    syntax::method_full(&class, m.flags & !(ACC_SYNTHETIC | ACC_BRIDGE), m.name, m.desc),
                    if blocked { format!("{}.", add_delete_advice(&vm)) } else { String::new() }
                ).trim_end().to_string());
            } else if m.name == b"$values" {
                cx.explain(format!(
                    "$values() was {side}: javac 15 and later generate it in every enum, so the two versions were compiled by different JDKs; compile with the JDK that built the running code."
                ));
            } else if m.name == b"<clinit>" {
                let why = if side == "added" && assert_added {
                    "the new assert statement made javac add the field $assertionsDisabled and a static initializer that sets it"
                } else if side == "deleted" && assert_removed {
                    "removing the last assert statement removed $assertionsDisabled and its static initializer"
                } else if side == "added" {
                    "a static block, a static field with a non-constant initializer, a switch on an enum or an assert adds one"
                } else {
                    "it held static field initializers or a static block"
                };
                cx.explain(format!(
                    "a static initializer (<clinit>) was {side}: {why}. It is a method, so {}; note also that static initializers never run again after a redefinition.",
                    if blocked { "the JVM refuses the change (restart)" } else { "this is a method change" }
                ));
            } else if m.name == b"$deserializeLambda$" {
                cx.explain(format!(
                    "$deserializeLambda$ was {side}: javac generates it when a class has serializable lambdas."
                ));
            } else if blocked
                && m.flags & ACC_PRIVATE != 0
                && m.flags & (ACC_STATIC | ACC_FINAL) != 0
                && !vm.may_add_delete_private()
                && syntax::lambda_name(m.name).is_none()
            {
                cx.explain(format!(
                    "{} was {side}: JDK 11 allowed adding and deleting private static/final methods, JDK 13 and later refuse it{}.",
                    syntax::method_short(&class, m.name, m.desc),
                    if vm.feature <= 25 { " unless started with -XX:+AllowRedefinitionToAddDeleteMethods (deprecated)" } else { "" }
                ));
            } else if !blocked && syntax::lambda_name(m.name).is_none() {
                cx.explain(format!(
                    "{} was {side}: JDK {} allows adding and deleting private static or private final methods.",
                    syntax::method_full(&class, m.flags, m.name, m.desc),
                    vm.feature
                ));
            }
        }
    }

    // --- Records: implicit toString/hashCode/equals are public final. ---
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

    // --- Fields: compiler order, enum constants, captured variables, this$0. ---
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
    for f in fb.iter().filter(|f| f.name.starts_with(b"$SwitchMap$") && !fa.iter().any(|o| o.name == f.name)) {
        cx.explain(format!(
            "{simple} is the helper class javac generates for switches on enums; a switch on another enum ({}) added the field {}. Restart, or switch on something else (e.g. the enum's name()).",
            text(&f.name[11..]).replace('$', "."),
            text(f.name)
        ));
    }

    // --- Nested classes (without the sibling classes; diff_sets adds detail). ---
    let nesting = cx.nesting.clone();
    if !nesting.added.is_empty() || !nesting.removed.is_empty() {
        let uses = switch_map_uses(cx.b, &cx.mb)?;
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

    // Native toggled: allowed, but worth knowing.
    for &(i, j, _) in &cx.matched.clone() {
        let (ma, mb) = (cx.ma[i], cx.mb[j]);
        if (ma.flags ^ mb.flags) == ACC_NATIVE {
            cx.explain(format!(
                "{} {} native: HotSpot ignores ACC_NATIVE when comparing modifiers, so this is allowed.",
                syntax::method_short(&class, mb.name, mb.desc),
                if mb.flags & ACC_NATIVE != 0 { "became" } else { "is no longer" }
            ));
        }
    }
    Ok(())
}

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

fn is_switch_map(c: &Class) -> bool {
    c.fields.iter().any(|f| c.member_name(f).is_ok_and(|n| n.starts_with(b"$SwitchMap$")))
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
