//! What differs between two versions of a method, a field or the class's own attributes, beyond
//! what HotSpot's structural checks look at — by resolved constants, never by constant-pool index.
//!
//! Attribute policy:
//! * Not compared: `StackMapTable` and `max_stack`/`max_locals` (derived from the code; equal
//!   code gives equivalent frames); the `BootstrapMethods` table as such (compared where
//!   `invokedynamic`/`ldc` use it); and what HotSpot discards when it loads a class, so that no
//!   running code can see it: `RuntimeInvisible*Annotations` (kept only with
//!   -XX:+PreserveAllAnnotations), `Deprecated`, the `Synthetic` attribute (HotSpot folds it into
//!   ACC_SYNTHETIC, which the flags comparison sees) and attributes HotSpot does not know.
//! * Compared only when both versions have them: debug and metadata attributes that a compiler
//!   option decides (`-g`, `-parameters`) or that HotSpot does not write back when a running
//!   class's bytes are reconstituted (`jhot diff PID`): LineNumberTable, LocalVariable(Type)Table,
//!   MethodParameters, SourceFile, SourceDebugExtension, EnclosingMethod. Absent on one side means
//!   "not recorded", not "changed"; [`delta::ONE_SIDED`] notes it.

use super::code::{self, Aligned};
use super::consts::ConstCmp;
use crate::reader::{Attr, AttrKind, Class, Code, Cur, Member, R, bad, nested_attrs};

/// Kinds of non-structural difference (bits).
pub(crate) mod delta {
    /// Instructions, exception table, or a method gaining/losing its code.
    pub const CODE: u16 = 1;
    pub const LINES: u16 = 1 << 1;
    /// LocalVariableTable / LocalVariableTypeTable.
    pub const LOCALS: u16 = 1 << 2;
    pub const THROWS: u16 = 1 << 3;
    /// Generic `Signature` attribute.
    pub const SIGNATURE: u16 = 1 << 4;
    pub const ANNOTATIONS: u16 = 1 << 5;
    /// MethodParameters (`javac -parameters`).
    pub const PARAMS: u16 = 1 << 6;
    pub const OTHER: u16 = 1 << 7;
    /// A field's ConstantValue.
    pub const CONSTANT: u16 = 1 << 8;
    /// SourceFile / SourceDebugExtension.
    pub const SOURCE: u16 = 1 << 9;
    /// InnerClasses / EnclosingMethod / NestHost / NestMembers (as attributes).
    pub const NESTING: u16 = 1 << 10;
    /// Record / PermittedSubclasses (as attributes).
    pub const RECORD: u16 = 1 << 11;
    /// Only debug information.
    pub const DEBUG: u16 = LINES | LOCALS | SOURCE;
    /// Debug attributes (line numbers, local variables, source file) in one version only: not a
    /// difference, but worth a note (`-g` options differ).
    pub const ONE_SIDED: u16 = 1 << 12;
    /// MethodParameters / EnclosingMethod in one version only: not a difference, no note (bytes
    /// reconstituted from a running JVM never have them).
    pub const ONE_SIDED_META: u16 = 1 << 13;
    /// Every bit that is a difference.
    pub const ANY: u16 = !(ONE_SIDED | ONE_SIDED_META);
}

const MAX_DEPTH: u32 = 64;

/// How instruction positions of the two code arrays correspond.
enum PcMap<'x> {
    /// Byte-identical code in byte-identical pools: equal pcs.
    Identity,
    Aligned(&'x Aligned, usize, usize),
}

impl PcMap<'_> {
    fn same(&self, pa: i64, pb: i64) -> bool {
        match self {
            PcMap::Identity => pa == pb,
            PcMap::Aligned(al, la, lb) => match (al.index_a(pa, *la), al.index_b(pb, *lb)) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            },
        }
    }
}

/// Compares two versions of one method (matched by name and descriptor).
pub(crate) fn method<'a>(k: &mut ConstCmp<'_, 'a>, ma: &Member, mb: &Member) -> R<u16> {
    let (a, b) = (k.a, k.b);
    let aa = a.attrs_of(ma.attrs);
    let ab = b.attrs_of(mb.attrs);
    let mut d = attrs(k, aa, ab, &[AttrKind::Code])?;
    let code_a = aa.iter().find(|x| x.kind == AttrKind::Code);
    let code_b = ab.iter().find(|x| x.kind == AttrKind::Code);
    match (code_a, code_b) {
        (None, None) => {}
        (Some(_), None) | (None, Some(_)) => d |= delta::CODE,
        (Some(x), Some(y)) => {
            if !(k.same_pool() && x.data == y.data) {
                d |= code_attr(k, x.data, y.data)?;
            }
        }
    }
    Ok(d)
}

fn code_attr<'a>(k: &mut ConstCmp<'_, 'a>, da: &'a [u8], db: &'a [u8]) -> R<u16> {
    let ca = Code::parse(k.a, da)?;
    let cb = Code::parse(k.b, db)?;
    let aligned;
    let map = if k.same_pool() && ca.code == cb.code {
        PcMap::Identity
    } else {
        match code::compare(ca.code, cb.code, k)? {
            Some(al) => {
                aligned = al;
                PcMap::Aligned(&aligned, ca.code.len(), cb.code.len())
            }
            None => return Ok(delta::CODE),
        }
    };
    // Exception tables: same ranges and handlers (as instruction positions), same catch types.
    if ca.exceptions.len() != cb.exceptions.len() {
        return Ok(delta::CODE);
    }
    let (mut ea, mut eb) = (Cur::new(ca.exceptions), Cur::new(cb.exceptions));
    while !ea.done() {
        for _ in 0..3 {
            if !map.same(ea.u2()? as i64, eb.u2()? as i64) {
                return Ok(delta::CODE);
            }
        }
        if !k.eq_opt(ea.u2()?, eb.u2()?)? {
            return Ok(delta::CODE);
        }
    }
    let mut d = 0;
    let has = |c: &Code, kind| c.attr(kind).next().is_some();
    for (kind, bitk) in [
        (AttrKind::LineNumberTable, delta::LINES),
        (AttrKind::LocalVariableTable, delta::LOCALS),
        (AttrKind::LocalVariableTypeTable, delta::LOCALS),
    ] {
        match (has(&ca, kind), has(&cb, kind)) {
            (false, false) => {}
            (true, true) => {
                let differs = if kind == AttrKind::LineNumberTable {
                    lines(k, &ca, &cb, &map)?
                } else {
                    locals(k, &ca, &cb, &map, kind)?
                };
                if differs {
                    d |= bitk;
                }
            }
            _ => d |= delta::ONE_SIDED,
        }
    }
    d |= attrs(
        k,
        &ca.attrs,
        &cb.attrs,
        &[AttrKind::LineNumberTable, AttrKind::LocalVariableTable, AttrKind::LocalVariableTypeTable],
    )?;
    Ok(d)
}

/// True if the line-number tables differ (compared as instruction positions).
fn lines(_k: &mut ConstCmp, ca: &Code, cb: &Code, map: &PcMap) -> R<bool> {
    let collect = |c: &Code| -> R<Vec<(u16, u16)>> {
        let mut v = Vec::new();
        for at in c.attr(AttrKind::LineNumberTable) {
            let mut cur = Cur::new(at.data);
            let n = cur.u2()?;
            for _ in 0..n {
                v.push((cur.u2()?, cur.u2()?));
            }
        }
        v.sort_unstable();
        Ok(v)
    };
    let (la, lb) = (collect(ca)?, collect(cb)?);
    if la.len() != lb.len() {
        return Ok(true);
    }
    Ok(la.iter().zip(&lb).any(|(x, y)| x.1 != y.1 || !map.same(x.0 as i64, y.0 as i64)))
}

fn locals(k: &mut ConstCmp, ca: &Code, cb: &Code, map: &PcMap, kind: AttrKind) -> R<bool> {
    let collect = |c: &Code| -> R<Vec<[u16; 5]>> {
        let mut v = Vec::new();
        for at in c.attr(kind) {
            let mut cur = Cur::new(at.data);
            let n = cur.u2()?;
            for _ in 0..n {
                v.push([cur.u2()?, cur.u2()?, cur.u2()?, cur.u2()?, cur.u2()?]);
            }
        }
        // By slot, then start: the order javac writes them in is not meaningful.
        v.sort_unstable_by_key(|e| (e[4], e[0]));
        Ok(v)
    };
    let (va, vb) = (collect(ca)?, collect(cb)?);
    if va.len() != vb.len() {
        return Ok(true);
    }
    for (x, y) in va.iter().zip(&vb) {
        let same = x[4] == y[4]
            && map.same(x[0] as i64, y[0] as i64)
            && map.same(x[0] as i64 + x[1] as i64, y[0] as i64 + y[1] as i64)
            && k.eq(x[2], y[2])?
            && k.eq(x[3], y[3])?;
        if !same {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Attributes compared only when both versions have them (see the module docs): the bit to set
/// when only one has it, or None for attributes whose absence is a difference.
fn one_sided(kind: AttrKind) -> Option<u16> {
    match kind {
        AttrKind::LineNumberTable
        | AttrKind::LocalVariableTable
        | AttrKind::LocalVariableTypeTable
        | AttrKind::SourceFile
        | AttrKind::SourceDebugExtension => Some(delta::ONE_SIDED),
        AttrKind::MethodParameters | AttrKind::EnclosingMethod => Some(delta::ONE_SIDED_META),
        _ => None,
    }
}

/// The delta bit an attribute kind contributes (0: never compared).
fn bit(kind: AttrKind) -> u16 {
    match kind {
        AttrKind::Code => delta::CODE,
        AttrKind::ConstantValue => delta::CONSTANT,
        AttrKind::Exceptions => delta::THROWS,
        AttrKind::Signature => delta::SIGNATURE,
        AttrKind::SourceFile | AttrKind::SourceDebugExtension => delta::SOURCE,
        AttrKind::InnerClasses | AttrKind::EnclosingMethod | AttrKind::NestHost | AttrKind::NestMembers => {
            delta::NESTING
        }
        AttrKind::Record | AttrKind::PermittedSubclasses => delta::RECORD,
        AttrKind::LineNumberTable => delta::LINES,
        AttrKind::LocalVariableTable | AttrKind::LocalVariableTypeTable => delta::LOCALS,
        AttrKind::MethodParameters => delta::PARAMS,
        // @Deprecated also writes a Deprecated attribute.
        AttrKind::VisibleAnnotations
        | AttrKind::VisibleParameterAnnotations
        | AttrKind::VisibleTypeAnnotations
        | AttrKind::AnnotationDefault => delta::ANNOTATIONS,
        AttrKind::Module => delta::OTHER,
        AttrKind::BootstrapMethods
        | AttrKind::StackMapTable
        | AttrKind::InvisibleAnnotations
        | AttrKind::InvisibleParameterAnnotations
        | AttrKind::InvisibleTypeAnnotations
        | AttrKind::Deprecated
        | AttrKind::Synthetic
        | AttrKind::Other => 0,
    }
}

/// Compares two attribute lists (of a class, field, method or Code), skipping `skip` kinds and
/// the derived ones. Attributes are paired by name and occurrence.
pub(crate) fn attrs<'a>(k: &mut ConstCmp<'_, 'a>, aa: &[Attr<'a>], ab: &[Attr<'a>], skip: &[AttrKind]) -> R<u16> {
    let mut d = 0;
    let relevant = |x: &Attr| !skip.contains(&x.kind) && bit(x.kind) != 0;
    let mut used = [false; 64];
    for x in aa.iter().filter(|x| relevant(x)) {
        let bitx = bit(x.kind);
        if d & bitx != 0 {
            continue;
        }
        let mut found = None;
        for (j, y) in ab.iter().enumerate() {
            if y.kind == x.kind
                && !used.get(j).copied().unwrap_or(false)
                && (!x.kind.shared() || k.a.utf8(x.name)? == k.b.utf8(y.name)?)
            {
                found = Some((j, y));
                break;
            }
        }
        match found {
            None if one_sided(x.kind).is_some() => d |= one_sided(x.kind).unwrap_or(0),
            None => d |= bitx,
            Some((j, y)) => {
                if let Some(u) = used.get_mut(j) {
                    *u = true;
                }
                if !attr_eq(k, x, y)? {
                    d |= bitx;
                }
            }
        }
    }
    for (j, y) in ab.iter().enumerate() {
        if relevant(y) && !used.get(j).copied().unwrap_or(true) && d & bit(y.kind) == 0 {
            // Unmatched, unless an earlier difference of the same kind stopped the pairing.
            if !aa.iter().any(|x| x.kind == y.kind) {
                d |= one_sided(y.kind).unwrap_or(bit(y.kind));
            } else {
                d |= bit(y.kind);
            }
        }
    }
    // More than 64 attributes on one side (hostile or unusual): count them per kind instead.
    if ab.len() > 64 {
        for kind in ab.iter().map(|y| y.kind).filter(|&kd| !skip.contains(&kd) && bit(kd) != 0) {
            if aa.iter().filter(|x| x.kind == kind).count() != ab.iter().filter(|y| y.kind == kind).count() {
                d |= bit(kind);
            }
        }
    }
    Ok(d)
}

/// One attribute of a compared with its counterpart in b, semantically.
fn attr_eq<'a>(k: &mut ConstCmp<'_, 'a>, x: &Attr<'a>, y: &Attr<'a>) -> R<bool> {
    if k.same_pool() && x.data == y.data {
        return Ok(true);
    }
    let (mut ca, mut cb) = (Cur::new(x.data), Cur::new(y.data));
    let eq = match x.kind {
        AttrKind::Signature | AttrKind::SourceFile => k.utf8_eq(ca.u2()?, cb.u2()?)?,
        AttrKind::ConstantValue | AttrKind::NestHost => k.eq(ca.u2()?, cb.u2()?)?,
        AttrKind::Exceptions | AttrKind::NestMembers | AttrKind::PermittedSubclasses => {
            let n = ca.u2()?;
            n == cb.u2()? && {
                let mut all = true;
                for _ in 0..n {
                    if !k.eq(ca.u2()?, cb.u2()?)? {
                        all = false;
                        break;
                    }
                }
                all
            }
        }
        AttrKind::InnerClasses => {
            let n = ca.u2()?;
            n == cb.u2()? && {
                let mut all = true;
                for _ in 0..n {
                    let same = k.eq(ca.u2()?, cb.u2()?)?
                        & k.eq_opt(ca.u2()?, cb.u2()?)?
                        & utf8_opt_eq(k, ca.u2()?, cb.u2()?)?
                        & (ca.u2()? == cb.u2()?);
                    if !same {
                        all = false;
                        break;
                    }
                }
                all
            }
        }
        AttrKind::EnclosingMethod => k.eq(ca.u2()?, cb.u2()?)? && k.eq_opt(ca.u2()?, cb.u2()?)?,
        AttrKind::MethodParameters => {
            let n = ca.u1()?;
            n == cb.u1()? && {
                let mut all = true;
                for _ in 0..n {
                    if !(utf8_opt_eq(k, ca.u2()?, cb.u2()?)? & (ca.u2()? == cb.u2()?)) {
                        all = false;
                        break;
                    }
                }
                all
            }
        }
        AttrKind::VisibleParameterAnnotations | AttrKind::InvisibleParameterAnnotations => {
            let n = ca.u1()?;
            n == cb.u1()? && {
                let mut all = true;
                for _ in 0..n {
                    if !annotations(k, &mut ca, &mut cb, false)? {
                        all = false;
                        break;
                    }
                }
                all
            }
        }
        AttrKind::VisibleAnnotations | AttrKind::InvisibleAnnotations => annotations(k, &mut ca, &mut cb, false)?,
        AttrKind::VisibleTypeAnnotations | AttrKind::InvisibleTypeAnnotations => {
            annotations(k, &mut ca, &mut cb, true)?
        }
        AttrKind::AnnotationDefault => element_value(k, &mut ca, &mut cb, 0)?,
        AttrKind::Record => record(k, &mut ca, &mut cb)?,
        AttrKind::Deprecated | AttrKind::Synthetic => true,
        // Compared where they matter, or derived: never reached through `attrs`.
        AttrKind::Code
        | AttrKind::BootstrapMethods
        | AttrKind::StackMapTable
        | AttrKind::LineNumberTable
        | AttrKind::LocalVariableTable
        | AttrKind::LocalVariableTypeTable => true,
        // Raw: their constant-pool references (if any) are unknown to us.
        AttrKind::SourceDebugExtension | AttrKind::Module | AttrKind::Other => x.data == y.data,
    };
    Ok(eq)
}

fn utf8_opt_eq(k: &mut ConstCmp, x: u16, y: u16) -> R<bool> {
    match (x, y) {
        (0, 0) => Ok(true),
        (0, _) | (_, 0) => Ok(false),
        _ => k.utf8_eq(x, y),
    }
}

fn record<'a>(k: &mut ConstCmp<'_, 'a>, ca: &mut Cur<'a>, cb: &mut Cur<'a>) -> R<bool> {
    let n = ca.u2()?;
    if n != cb.u2()? {
        return Ok(false);
    }
    for _ in 0..n {
        if !k.utf8_eq(ca.u2()?, cb.u2()?)? || !k.utf8_eq(ca.u2()?, cb.u2()?)? {
            return Ok(false);
        }
        let xa = nested_attrs(k.a, ca)?;
        let xb = nested_attrs(k.b, cb)?;
        if attrs(k, &xa, &xb, &[])? != 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A list of (type) annotations: `u2 count, annotation*`.
fn annotations(k: &mut ConstCmp, ca: &mut Cur, cb: &mut Cur, typed: bool) -> R<bool> {
    let n = ca.u2()?;
    if n != cb.u2()? {
        return Ok(false);
    }
    for _ in 0..n {
        if typed && !type_target(ca, cb)? {
            return Ok(false);
        }
        if !annotation(k, ca, cb, 0)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// target_type, target_info and type_path of a type annotation (positions compared as written).
fn type_target(ca: &mut Cur, cb: &mut Cur) -> R<bool> {
    let t = ca.u1()?;
    if t != cb.u1()? {
        return Ok(false);
    }
    let len = |c: &mut Cur| -> R<usize> {
        Ok(match t {
            0x00 | 0x01 | 0x16 => 1,
            0x10 | 0x11 | 0x12 | 0x17 | 0x42..=0x46 => 2,
            0x13..=0x15 => 0,
            0x40 | 0x41 => {
                let mut peek = *c;
                let n = peek.u2()? as usize;
                2 + n * 6
            }
            0x47..=0x4b => 3,
            _ => return Err(bad(format!("unknown type-annotation target 0x{t:02x}"))),
        })
    };
    let (la, lb) = (len(ca)?, len(cb)?);
    if la != lb || ca.take(la)? != cb.take(lb)? {
        return Ok(false);
    }
    let pa = ca.u1()? as usize;
    let pb = cb.u1()? as usize;
    Ok(pa == pb && ca.take(pa * 2)? == cb.take(pb * 2)?)
}

fn annotation(k: &mut ConstCmp, ca: &mut Cur, cb: &mut Cur, depth: u32) -> R<bool> {
    if depth > MAX_DEPTH {
        return Err(bad("annotations nested too deeply"));
    }
    if !k.utf8_eq(ca.u2()?, cb.u2()?)? {
        return Ok(false);
    }
    let n = ca.u2()?;
    if n != cb.u2()? {
        return Ok(false);
    }
    for _ in 0..n {
        if !k.utf8_eq(ca.u2()?, cb.u2()?)? || !element_value(k, ca, cb, depth + 1)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn element_value(k: &mut ConstCmp, ca: &mut Cur, cb: &mut Cur, depth: u32) -> R<bool> {
    if depth > MAX_DEPTH {
        return Err(bad("annotation values nested too deeply"));
    }
    let t = ca.u1()?;
    if t != cb.u1()? {
        return Ok(false);
    }
    Ok(match t {
        b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' | b's' => k.eq(ca.u2()?, cb.u2()?)?,
        b'e' => k.utf8_eq(ca.u2()?, cb.u2()?)? & k.utf8_eq(ca.u2()?, cb.u2()?)?,
        b'c' => k.utf8_eq(ca.u2()?, cb.u2()?)?,
        b'@' => annotation(k, ca, cb, depth + 1)?,
        b'[' => {
            let n = ca.u2()?;
            if n != cb.u2()? {
                return Ok(false);
            }
            for _ in 0..n {
                if !element_value(k, ca, cb, depth + 1)? {
                    return Ok(false);
                }
            }
            true
        }
        _ => return Err(bad(format!("unknown annotation element tag {t}"))),
    })
}

/// The Code attribute of a method, parsed (None for abstract/native methods).
pub(crate) fn code_of<'a>(c: &Class<'a>, m: &Member) -> R<Option<Code<'a>>> {
    match c.member_attr(m, AttrKind::Code) {
        Some(at) => Code::parse(c, at.data).map(Some),
        None => Ok(None),
    }
}
