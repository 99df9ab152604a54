//! Lambdas. javac compiles each lambda body to a private method `lambda$<method>$<n>` (static
//! unless it uses `this`), numbered in the order of the source, so adding a lambda renumbers the
//! ones after it, and turning a lambda into a method reference (or back) deletes (or adds) one.

use super::super::ReasonKind;
use super::super::body::{self, delta};
use super::super::code::{Insns, Operand};
use super::super::consts::ConstCmp;
use super::super::ctx::{Ctx, MethodV};
use super::add_delete_advice;
use crate::flags::ACC_STATIC;
use crate::opcodes::op;
use crate::reader::{Class, R, tag, text};
use crate::syntax;

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

/// The lambda traps, in order: lambdas that became method references or back, then lambdas javac
/// renumbered, or else lambdas added or removed.
pub(super) fn lambdas<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    let (explained_a, explained_b) = method_references(cx)?;
    let l = Lambdas::pair(cx, k, &explained_a, &explained_b)?;
    if !l.renamed.is_empty() { renumbered(cx, l) } else { added_or_removed(cx, l) }
}

/// A lambda that became a method reference (its body method is deleted) or a method reference
/// that became a lambda (a body method is added), per method present in both versions. Returns
/// the deleted and the added methods it explained.
fn method_references(cx: &mut Ctx) -> R<(Vec<usize>, Vec<usize>)> {
    let vm = *cx.vm;
    let class = cx.name.clone();
    let mut explained_a: Vec<usize> = Vec::new(); // deleted methods already explained
    let mut explained_b: Vec<usize> = Vec::new(); // added methods already explained
    let own_a = cx.a.name()?;
    let own_b = cx.b.name()?;
    // Only when a lambda body came or went: decoding every method is not free.
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
    Ok((explained_a, explained_b))
}

/// The lambda bodies only in one version, not explained yet, and how they pair up.
struct Lambdas {
    /// (index in ma, index in mb): the same lambda under another number.
    renamed: Vec<(usize, usize)>,
    /// Indices in mb of new lambdas.
    new: Vec<usize>,
    /// Indices in ma of removed lambdas.
    gone: Vec<usize>,
}

impl Lambdas {
    /// Pairs the lambda bodies only in one version (leaving out those `explained_*` already): the
    /// same body under another number, else the same enclosing method and signature in number
    /// order; the rest are new or gone.
    fn pair<'a>(
        cx: &Ctx<'_, 'a>,
        k: &mut ConstCmp<'_, 'a>,
        explained_a: &[usize],
        explained_b: &[usize],
    ) -> R<Lambdas> {
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
        Ok(Lambdas { renamed, new: new_l, gone: gone_l })
    }
}

/// "the lambda in greet() (lambda$greet$1)": a new lambda, by the method that uses it.
fn describe_new(cx: &Ctx, a: usize) -> R<String> {
    let m = cx.mb[a];
    let (enc, _) = syntax::lambda_name(m.name).unwrap_or_default();
    Ok(match user_of(cx.b, &cx.mb, m.name)? {
        Some(u) => format!("{u} ({})", text(m.name)),
        None => format!("{} ({})", syntax::enclosing(enc), text(m.name)),
    })
}

/// A removed lambda, by the method that used it.
fn describe_old(cx: &Ctx, d: usize) -> R<String> {
    let m = cx.ma[d];
    let (enc, _) = syntax::lambda_name(m.name).unwrap_or_default();
    Ok(match user_of(cx.a, &cx.ma, m.name)? {
        Some(u) => format!("{u} ({})", text(m.name)),
        None => format!("{} ({})", syntax::enclosing(enc), text(m.name)),
    })
}

/// Lambdas javac renumbered because one was added before them or removed: which is now which, why,
/// and what the JVM makes of it.
fn renumbered(cx: &mut Ctx, l: Lambdas) -> R<()> {
    let vm = *cx.vm;
    let Lambdas { renamed, new: new_l, gone: gone_l } = l;
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
    Ok(())
}

/// New lambdas (a new method each) and removed ones (a deleted method each), when none was
/// renumbered.
fn added_or_removed(cx: &mut Ctx, l: Lambdas) -> R<()> {
    let vm = *cx.vm;
    let Lambdas { new: new_l, gone: gone_l, .. } = l;
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
    Ok(())
}
