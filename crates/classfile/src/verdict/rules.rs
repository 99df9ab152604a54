//! HotSpot's checks (`VM_RedefineClasses::compare_and_normalize_class_versions`), one function
//! each, called in HotSpot's order; each adds a [`Reason`](super::Reason) per difference HotSpot
//! refuses. Then the bodies of matched methods and the class's own attributes, which may differ.

use super::ReasonKind;
use super::Vm;
use super::body::{self, delta};
use super::consts::ConstCmp;
use super::ctx::{Ctx, Nesting, class_flags};
use crate::flags::{ACC_FINAL, ACC_NATIVE, ACC_PRIVATE, ACC_STATIC};
use crate::reader::{AttrKind, Class, Cur, R, nested_attrs, text};
use crate::syntax;

fn class_list<'a>(c: &Class<'a>, data: &'a [u8]) -> R<Vec<&'a [u8]>> {
    let mut cur = Cur::new(data);
    let n = cur.u2()? as usize;
    let mut v = Vec::with_capacity(n.min(data.len() / 2));
    for _ in 0..n {
        v.push(c.class_name(cur.u2()?)?);
    }
    Ok(v)
}

fn nest_host<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<&'a [u8]>> {
    if !vm.checks_nest() || c.major < 55 {
        return Ok(None);
    }
    match c.class_attr(AttrKind::NestHost) {
        Some(at) => Ok(Some(c.class_name(Cur::new(at.data).u2()?)?)),
        None => Ok(None),
    }
}

fn nest_members<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<Vec<&'a [u8]>>> {
    if !vm.checks_nest() || c.major < 55 {
        return Ok(None);
    }
    c.class_attr(AttrKind::NestMembers).map(|at| class_list(c, at.data)).transpose()
}

fn permitted<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<Vec<&'a [u8]>>> {
    if !vm.checks_permitted() || c.major < 61 {
        return Ok(None);
    }
    c.class_attr(AttrKind::PermittedSubclasses).map(|at| class_list(c, at.data)).transpose()
}

/// A record component as HotSpot compares it: name, descriptor, generic signature.
#[derive(PartialEq, Eq)]
struct Component<'a> {
    name: &'a [u8],
    desc: &'a [u8],
    signature: Option<&'a [u8]>,
}

fn record<'a>(c: &Class<'a>, vm: &Vm) -> R<Option<Vec<Component<'a>>>> {
    if !vm.checks_record() || c.major < 60 {
        return Ok(None);
    }
    let Some(at) = c.class_attr(AttrKind::Record) else { return Ok(None) };
    let mut cur = Cur::new(at.data);
    let n = cur.u2()? as usize;
    let mut v = Vec::with_capacity(n.min(at.data.len() / 6));
    for _ in 0..n {
        let name = c.utf8(cur.u2()?)?;
        let desc = c.utf8(cur.u2()?)?;
        let attrs = nested_attrs(c, &mut cur)?;
        let signature = match attrs.iter().find(|x| x.kind == AttrKind::Signature) {
            Some(s) => Some(c.utf8(Cur::new(s.data).u2()?)?),
            None => None,
        };
        v.push(Component { name, desc, signature });
    }
    Ok(Some(v))
}

fn names(v: &[&[u8]]) -> String {
    v.iter().map(|n| syntax::binary(n)).collect::<Vec<_>>().join(", ")
}

/// Elements of `x` not in `y` (as multisets).
fn minus<'a>(x: &[&'a [u8]], y: &[&'a [u8]]) -> Vec<&'a [u8]> {
    let mut y: Vec<&[u8]> = y.to_vec();
    let mut out = Vec::new();
    for e in x {
        match y.iter().position(|z| z == e) {
            Some(i) => {
                y.swap_remove(i);
            }
            None => out.push(*e),
        }
    }
    out
}

/// Class modifiers: every bit HotSpot keeps must be equal.
pub(super) fn class_modifiers(cx: &mut Ctx) {
    let (fa, fb) = (class_flags(cx.a), class_flags(cx.b));
    if fa != fb {
        cx.reason(
            ReasonKind::ClassModifiersChanged,
            format!(
                "class modifiers changed from `{}` to `{}`",
                syntax::class_modifiers(fa),
                syntax::class_modifiers(fb)
            ),
        );
    }
}

pub(super) fn hierarchy(cx: &mut Ctx) -> R<()> {
    let sa = cx.a.class_name_opt(cx.a.super_class)?;
    let sb = cx.b.class_name_opt(cx.b.super_class)?;
    if sa != sb {
        let show = |s: Option<&[u8]>| s.map(syntax::binary).unwrap_or_else(|| "none".into());
        cx.reason(ReasonKind::HierarchyChanged, format!("superclass changed from {} to {}", show(sa), show(sb)));
    }
    let ia = cx.a.interfaces.iter().map(|&i| cx.a.class_name(i)).collect::<R<Vec<_>>>()?;
    let ib = cx.b.interfaces.iter().map(|&i| cx.b.class_name(i)).collect::<R<Vec<_>>>()?;
    if ia != ib {
        let added = minus(&ib, &ia);
        let removed = minus(&ia, &ib);
        let mut parts = Vec::new();
        if !added.is_empty() {
            parts.push(format!("interface added: {}", names(&added)));
        }
        if !removed.is_empty() {
            parts.push(format!("interface removed: {}", names(&removed)));
        }
        if parts.is_empty() {
            parts.push(format!(
                "interfaces reordered: [{}] → [{}] (HotSpot compares them in order)",
                names(&ia),
                names(&ib)
            ));
        }
        for p in parts {
            cx.reason(ReasonKind::HierarchyChanged, p);
        }
    }
    Ok(())
}

pub(super) fn nest(cx: &mut Ctx) -> R<()> {
    let vm = cx.vm;
    let (ha, hb) = (nest_host(cx.a, vm)?, nest_host(cx.b, vm)?);
    match (ha, hb) {
        (Some(x), Some(y)) if x != y => cx.reason(
            ReasonKind::NestChanged,
            format!("nest host changed from {} to {}", syntax::binary(x), syntax::binary(y)),
        ),
        (None, Some(y)) => cx.reason(
            ReasonKind::NestChanged,
            format!("NestHost attribute added: the class became a nested class of {}", syntax::binary(y)),
        ),
        (Some(x), None) => cx.reason(
            ReasonKind::NestChanged,
            format!("NestHost attribute removed: the class is no longer nested in {}", syntax::binary(x)),
        ),
        _ => {}
    }
    let (na, nb) = (nest_members(cx.a, vm)?, nest_members(cx.b, vm)?);
    let structural = na.is_some() || nb.is_some();
    match (&na, &nb) {
        (Some(x), Some(y)) => {
            let mut xs = x.clone();
            let mut ys = y.clone();
            xs.sort_unstable();
            ys.sort_unstable();
            if xs != ys {
                let added = minus(&ys, &xs);
                let removed = minus(&xs, &ys);
                for m in &added {
                    cx.reason(
                        ReasonKind::NestChanged,
                        format!("nested class added: {} (NestMembers)", syntax::binary(m)),
                    );
                }
                for m in &removed {
                    cx.reason(
                        ReasonKind::NestChanged,
                        format!("nested class removed: {} (NestMembers)", syntax::binary(m)),
                    );
                }
                if added.is_empty() && removed.is_empty() {
                    cx.reason(
                        ReasonKind::NestChanged,
                        format!("NestMembers changed ({} → {} entries)", x.len(), y.len()),
                    );
                }
            }
        }
        (None, Some(y)) => {
            cx.reason(
                ReasonKind::NestChanged,
                format!(
                    "NestMembers attribute added: first nested class{} {}",
                    if y.len() == 1 { "" } else { "es" },
                    names(y)
                ),
            );
        }
        (Some(x), None) => {
            cx.reason(
                ReasonKind::NestChanged,
                format!("NestMembers attribute removed: no nested classes any more (was {})", names(x)),
            );
        }
        (None, None) => {}
    }
    // Which nested classes came and went (from InnerClasses when the class file has no nests).
    let inner = |c: &Class, own: &[u8]| -> R<Vec<String>> {
        let mut v = Vec::new();
        if let Some(at) = c.class_attr(AttrKind::InnerClasses) {
            let mut cur = Cur::new(at.data);
            let n = cur.u2()?;
            for _ in 0..n {
                let inner = cur.u2()?;
                let outer = cur.u2()?;
                cur.u2()?;
                cur.u2()?;
                let iname = c.class_name(inner)?;
                // Nested in this class: declared members, or local/anonymous ones named Own$…
                let direct = outer != 0 && c.class_name(outer)? == own;
                let local =
                    outer == 0 && iname.len() > own.len() + 1 && iname.starts_with(own) && iname[own.len()] == b'$';
                if direct || local {
                    v.push(syntax::binary(iname));
                }
            }
        }
        Ok(v)
    };
    let own = cx.a.name()?;
    let (ia, ib) = match (&na, &nb) {
        (Some(_), _) | (_, Some(_)) => (
            na.as_deref().unwrap_or(&[]).iter().map(|n| syntax::binary(n)).collect(),
            nb.as_deref().unwrap_or(&[]).iter().map(|n| syntax::binary(n)).collect(),
        ),
        _ => (inner(cx.a, own)?, inner(cx.b, own)?),
    };
    let ia: Vec<String> = ia;
    let ib: Vec<String> = ib;
    cx.nesting = Nesting {
        added: ib.iter().filter(|n| !ia.contains(n)).cloned().collect(),
        removed: ia.iter().filter(|n| !ib.contains(n)).cloned().collect(),
        structural,
    };
    Ok(())
}

pub(super) fn record_check(cx: &mut Ctx) -> R<()> {
    let (ra, rb) = (record(cx.a, cx.vm)?, record(cx.b, cx.vm)?);
    let show = |c: &Component| format!("{} {}", syntax::field_type(c.desc), text(c.name));
    let list = |v: &[Component]| v.iter().map(show).collect::<Vec<_>>().join(", ");
    match (&ra, &rb) {
        (Some(x), Some(y)) if x != y => {
            let same_shape =
                x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| p.name == q.name && p.desc == q.desc);
            if same_shape {
                for (p, q) in x.iter().zip(y.iter()).filter(|(p, q)| p.signature != q.signature) {
                    cx.reason(
                        ReasonKind::RecordChanged,
                        format!(
                            "generic type of record component {} changed ({} → {})",
                            text(q.name),
                            p.signature.map(text).unwrap_or_else(|| "none".into()),
                            q.signature.map(text).unwrap_or_else(|| "none".into())
                        ),
                    );
                }
            } else {
                cx.reason(
                    ReasonKind::RecordChanged,
                    format!("record components changed: ({}) → ({})", list(x), list(y)),
                );
            }
        }
        (None, Some(_)) => {
            cx.reason(ReasonKind::RecordChanged, "the class became a record (Record attribute added)".into())
        }
        (Some(_), None) => {
            cx.reason(ReasonKind::RecordChanged, "the class is no longer a record (Record attribute removed)".into())
        }
        _ => {}
    }
    Ok(())
}

pub(super) fn permitted_check(cx: &mut Ctx) -> R<()> {
    let (pa, pb) = (permitted(cx.a, cx.vm)?, permitted(cx.b, cx.vm)?);
    match (&pa, &pb) {
        (Some(x), Some(y)) => {
            let mut xs = x.clone();
            let mut ys = y.clone();
            xs.sort_unstable();
            ys.sort_unstable();
            if xs != ys {
                let added = minus(&ys, &xs);
                let removed = minus(&xs, &ys);
                if !added.is_empty() {
                    cx.reason(
                        ReasonKind::PermittedSubclassesChanged,
                        format!("permitted subclass added: {}", names(&added)),
                    );
                }
                if !removed.is_empty() {
                    cx.reason(
                        ReasonKind::PermittedSubclassesChanged,
                        format!("permitted subclass removed: {}", names(&removed)),
                    );
                }
                if added.is_empty() && removed.is_empty() {
                    cx.reason(
                        ReasonKind::PermittedSubclassesChanged,
                        format!("PermittedSubclasses changed ({} → {} entries)", x.len(), y.len()),
                    );
                }
            }
        }
        (None, Some(y)) => {
            cx.reason(ReasonKind::PermittedSubclassesChanged, format!("the class became sealed (permits {})", names(y)))
        }
        (Some(_), None) => cx.reason(ReasonKind::PermittedSubclassesChanged, "the class is no longer sealed".into()),
        (None, None) => {}
    }
    Ok(())
}

/// Fields: HotSpot walks both lists pairwise, in declaration order, comparing name, signature,
/// modifiers (and offsets, which follow from those), then requires equal counts.
pub(super) fn schema<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    let same = cx.fa.len() == cx.fb.len()
        && cx.fa.iter().zip(&cx.fb).all(|(x, y)| x.name == y.name && x.desc == y.desc && x.flags == y.flags);
    // Which new field each old one corresponds to: same name and type, else same name.
    let mut pair: Vec<Option<usize>> = vec![None; cx.fa.len()];
    let mut taken = vec![false; cx.fb.len()];
    for (i, x) in cx.fa.iter().enumerate() {
        if let Some(j) = (0..cx.fb.len()).find(|&j| !taken[j] && cx.fb[j].name == x.name && cx.fb[j].desc == x.desc) {
            pair[i] = Some(j);
            taken[j] = true;
        }
    }
    for (i, x) in cx.fa.iter().enumerate() {
        if pair[i].is_none()
            && let Some(j) = (0..cx.fb.len()).find(|&j| !taken[j] && cx.fb[j].name == x.name)
        {
            pair[i] = Some(j);
            taken[j] = true;
        }
    }
    if !same {
        let mut msgs = Vec::new();
        for (i, x) in cx.fa.iter().enumerate() {
            match pair[i] {
                None => msgs.push(format!("field removed: {}", syntax::field_full(x.flags, x.name, x.desc))),
                Some(j) => {
                    let y = &cx.fb[j];
                    if y.desc != x.desc {
                        msgs.push(format!(
                            "field type changed: {} {} → {} {}",
                            syntax::field_type(x.desc),
                            text(x.name),
                            syntax::field_type(y.desc),
                            text(y.name)
                        ));
                    } else if y.flags != x.flags {
                        msgs.push(format!(
                            "field modifiers changed: {} from `{}` to `{}`",
                            text(x.name),
                            syntax::field_modifiers_all(x.flags),
                            syntax::field_modifiers_all(y.flags)
                        ));
                    }
                }
            }
        }
        for (j, y) in cx.fb.iter().enumerate() {
            if !taken[j] {
                msgs.push(format!("field added: {}", syntax::field_full(y.flags, y.name, y.desc)));
            }
        }
        // Same fields in another order (relative order of the fields in both versions).
        let order_a: Vec<usize> = pair.iter().flatten().copied().collect();
        let mut sorted = order_a.clone();
        sorted.sort_unstable();
        if order_a != sorted {
            let mut in_b: Vec<(usize, &[u8])> =
                pair.iter().enumerate().filter_map(|(i, j)| j.map(|j| (j, cx.fa[i].name))).collect();
            let in_a: Vec<String> = in_b.iter().map(|(_, n)| text(n)).collect();
            in_b.sort_unstable();
            let in_b: Vec<String> = in_b.iter().map(|(_, n)| text(n)).collect();
            msgs.push(format!(
                "fields reordered: {} → {} (HotSpot compares fields in declaration order)",
                in_a.join(", "),
                in_b.join(", ")
            ));
        }
        if msgs.is_empty() {
            msgs.push("fields changed".into());
        }
        for m in msgs {
            cx.reason(ReasonKind::SchemaChanged, m);
        }
    }
    // Non-structural field differences: constant values, generic signatures, annotations.
    for (i, j) in pair.iter().enumerate().filter_map(|(i, j)| j.map(|j| (i, j))) {
        let (ma, mb) = (&cx.a.fields[i], &cx.b.fields[j]);
        let d = body::attrs(k, cx.a.attrs_of(ma.attrs), cx.b.attrs_of(mb.attrs), &[])?;
        if d != 0 {
            cx.field_deltas.push((i, j, d));
        }
    }
    Ok(())
}

/// Methods: matched by name and descriptor (HotSpot's parallel walk over name-sorted lists
/// amounts to this); a matched method's modifiers may differ only in ACC_NATIVE.
pub(super) fn methods_check(cx: &mut Ctx) -> R<()> {
    let mut index: Vec<usize> = (0..cx.mb.len()).collect();
    index.sort_unstable_by(|&x, &y| (cx.mb[x].name, cx.mb[x].desc).cmp(&(cx.mb[y].name, cx.mb[y].desc)));
    let mut seen = vec![false; cx.mb.len()];
    let may = cx.vm.may_add_delete_private();
    let allowed = |f: u16| may && f & ACC_PRIVATE != 0 && f & (ACC_STATIC | ACC_FINAL) != 0;
    let mut deleted_msgs = Vec::new();
    let mut modifier_msgs = Vec::new();
    for (i, m) in cx.ma.iter().enumerate() {
        match index.binary_search_by(|&j| (cx.mb[j].name, cx.mb[j].desc).cmp(&(m.name, m.desc))) {
            Ok(p) => {
                let j = index[p];
                seen[j] = true;
                cx.matched.push((i, j, 0));
                let n = &cx.mb[j];
                if (m.flags ^ n.flags) & !ACC_NATIVE != 0 {
                    modifier_msgs.push(format!(
                        "method modifiers changed: {} from `{}` to `{}`",
                        syntax::method_short(&cx.name, m.name, m.desc),
                        syntax::method_modifiers_all(m.flags),
                        syntax::method_modifiers_all(n.flags)
                    ));
                }
            }
            Err(_) => {
                cx.deleted.push(i);
                if !allowed(m.flags) {
                    deleted_msgs
                        .push(format!("method deleted: {}", syntax::method_full(&cx.name, m.flags, m.name, m.desc)));
                }
            }
        }
    }
    let mut added_msgs = Vec::new();
    for (j, n) in cx.mb.iter().enumerate() {
        if !seen[j] {
            cx.added.push(j);
            if !allowed(n.flags) {
                added_msgs.push(format!("method added: {}", syntax::method_full(&cx.name, n.flags, n.name, n.desc)));
            }
        }
    }
    for m in added_msgs {
        cx.reason(ReasonKind::MethodAdded, m);
    }
    for m in deleted_msgs {
        cx.reason(ReasonKind::MethodDeleted, m);
    }
    for m in modifier_msgs {
        cx.reason(ReasonKind::MethodModifiersChanged, m);
    }
    Ok(())
}

/// Bodies of matched methods, and the class's own attributes.
pub(super) fn bodies<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    for idx in 0..cx.matched.len() {
        let (i, j, _) = cx.matched[idx];
        let d = body::method(k, &cx.ma[i].raw, &cx.mb[j].raw)?;
        cx.matched[idx].2 = d;
    }
    // Structural attributes are reported as reasons when HotSpot checks them; as attributes they
    // still count as a (body-only) difference when it does not (e.g. class files before 55).
    let mut skip = vec![AttrKind::BootstrapMethods];
    if cx.vm.checks_nest() && cx.a.major >= 55 && cx.b.major >= 55 {
        skip.push(AttrKind::NestHost);
        skip.push(AttrKind::NestMembers);
    }
    cx.class_delta = body::attrs(k, cx.a.class_attrs(), cx.b.class_attrs(), &skip)?;
    Ok(())
}

pub(super) fn changed_methods(cx: &Ctx) -> Vec<String> {
    let mut out = Vec::new();
    for &(i, _, d) in &cx.matched {
        let d = d & delta::ANY;
        if d == 0 {
            continue;
        }
        let m = &cx.ma[i];
        let short = syntax::method_short(&cx.name, m.name, m.desc);
        if d & delta::CODE != 0 {
            out.push(short);
            continue;
        }
        const PARTS: [(u16, &str); 7] = [
            (delta::LINES, "line numbers"),
            (delta::LOCALS, "local variable names"),
            (delta::ANNOTATIONS, "annotations"),
            (delta::THROWS, "throws clause"),
            (delta::SIGNATURE, "generic signature"),
            (delta::PARAMS, "parameter names"),
            (delta::OTHER, "other attributes"),
        ];
        let what: Vec<&str> = PARTS.iter().filter(|(bit, _)| d & *bit != 0).map(|(_, label)| *label).collect();
        out.push(format!("{short} ({} only)", what.join(", ")));
    }
    // Methods added or deleted without a reason (JDK 11 / the flag allow private static/final).
    for &j in &cx.added {
        let m = &cx.mb[j];
        if !cx.reasons.iter().any(|r| {
            r.kind == ReasonKind::MethodAdded
                && r.message.ends_with(&syntax::method_full(&cx.name, m.flags, m.name, m.desc))
        }) {
            out.push(format!("{} (added)", syntax::method_short(&cx.name, m.name, m.desc)));
        }
    }
    for &i in &cx.deleted {
        let m = &cx.ma[i];
        if !cx.reasons.iter().any(|r| {
            r.kind == ReasonKind::MethodDeleted
                && r.message.ends_with(&syntax::method_full(&cx.name, m.flags, m.name, m.desc))
        }) {
            out.push(format!("{} (deleted)", syntax::method_short(&cx.name, m.name, m.desc)));
        }
    }
    out
}
