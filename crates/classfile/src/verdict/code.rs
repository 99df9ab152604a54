//! Bytecode, decoded one instruction at a time and compared semantically.
//!
//! Two compilations of the same source may differ in constant-pool indices (and so `ldc` vs
//! `ldc_w`), in branch offsets (an `ldc_w` is one byte longer) and in switch padding. Instructions
//! are therefore normalised before they are compared: `ldc`/`ldc_w` are one instruction, `wide`
//! forms and the `xload_N` shortcuts are their plain forms, `goto_w`/`jsr_w` are `goto`/`jsr`,
//! branch targets are instruction indices, and every constant-pool operand is compared by the
//! constant it resolves to ([`ConstCmp`]).

use super::consts::ConstCmp;
use crate::opcodes::op;
use crate::reader::{Cur, R, bad};

/// One instruction's operand, normalised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operand {
    None,
    Local(u16),
    Iinc(u16, i16),
    Imm(i32),
    /// A constant-pool index (ldc, field and method instructions, new, checkcast, …).
    Cp(u16),
    /// multianewarray: class and dimensions.
    Multi(u16, u8),
    /// invokeinterface: method and the (redundant) count byte.
    Interface(u16, u8),
    /// An absolute target pc (may be out of range in hostile input).
    Branch(i64),
    /// tableswitch / lookupswitch: read with [`switch`].
    Switch,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Insn {
    #[allow(dead_code)]
    pub pc: u32,
    /// The normalised opcode (e.g. `ldc` for `ldc_w`, `iload` for `iload_2`).
    pub op: u8,
    pub operand: Operand,
}

/// Decodes the instruction at `pc`; returns it and the pc of the next one.
pub(crate) fn decode(code: &[u8], pc: usize) -> R<(Insn, usize)> {
    let mut c = Cur::at(code, pc);
    let raw = c.u1()?;
    let here = pc as i64;
    let (op, operand) = match raw {
        0x00..=0x0f | 0x2e..=0x35 | 0x4f..=0x83 | 0x85..=0x98 | 0xac..=0xb1 | 0xbe | 0xbf | 0xc2 | 0xc3 => {
            (raw, Operand::None)
        }
        0x10 => (raw, Operand::Imm(c.i1()? as i32)),
        0x11 => (raw, Operand::Imm(c.i2()? as i32)),
        0x12 => (op::LDC, Operand::Cp(c.u1()? as u16)),
        0x13 => (op::LDC, Operand::Cp(c.u2()?)),
        0x14 => (raw, Operand::Cp(c.u2()?)),
        0x15..=0x19 | 0x36..=0x3a | 0xa9 => (raw, Operand::Local(c.u1()? as u16)),
        // xload_N: iload_0..aload_3 (0x1a..0x2d), xstore_N: 0x3b..0x4e.
        0x1a..=0x2d => (0x15 + (raw - 0x1a) / 4, Operand::Local(((raw - 0x1a) % 4) as u16)),
        0x3b..=0x4e => (0x36 + (raw - 0x3b) / 4, Operand::Local(((raw - 0x3b) % 4) as u16)),
        0x84 => {
            let l = c.u1()? as u16;
            let k = c.i1()? as i16;
            (raw, Operand::Iinc(l, k))
        }
        0x99..=0xa8 | 0xc6 | 0xc7 => (raw, Operand::Branch(here + c.i2()? as i64)),
        op::GOTO_W => (op::GOTO, Operand::Branch(here + c.i4()? as i64)),
        op::JSR_W => (op::JSR, Operand::Branch(here + c.i4()? as i64)),
        op::TABLESWITCH => {
            c.take((4 - (pc + 1) % 4) % 4)?;
            c.i4()?;
            let lo = c.i4()? as i64;
            let hi = c.i4()? as i64;
            if hi < lo {
                return Err(bad(format!("tableswitch at {pc} has high < low")));
            }
            let n = (hi - lo + 1) as usize;
            c.take(n.checked_mul(4).ok_or_else(|| bad("tableswitch too large"))?)?;
            (raw, Operand::Switch)
        }
        op::LOOKUPSWITCH => {
            c.take((4 - (pc + 1) % 4) % 4)?;
            c.i4()?;
            let n = c.i4()?;
            if n < 0 {
                return Err(bad(format!("lookupswitch at {pc} has a negative count")));
            }
            c.take((n as usize).checked_mul(8).ok_or_else(|| bad("lookupswitch too large"))?)?;
            (raw, Operand::Switch)
        }
        0xb2..=0xb8 | 0xbb | 0xbd | 0xc0 | 0xc1 => (raw, Operand::Cp(c.u2()?)),
        op::INVOKEINTERFACE => {
            let i = c.u2()?;
            let n = c.u1()?;
            c.u1()?;
            (raw, Operand::Interface(i, n))
        }
        op::INVOKEDYNAMIC => {
            let i = c.u2()?;
            c.u2()?;
            (raw, Operand::Cp(i))
        }
        0xbc => (raw, Operand::Imm(c.u1()? as i32)),
        op::WIDE => {
            let w = c.u1()?;
            match w {
                0x15..=0x19 | 0x36..=0x3a | 0xa9 => (w, Operand::Local(c.u2()?)),
                0x84 => {
                    let l = c.u2()?;
                    let k = c.i2()?;
                    (w, Operand::Iinc(l, k))
                }
                _ => return Err(bad(format!("wide applied to opcode 0x{w:02x} at {pc}"))),
            }
        }
        0xc5 => {
            let i = c.u2()?;
            let d = c.u1()?;
            (raw, Operand::Multi(i, d))
        }
        _ => return Err(bad(format!("invalid opcode 0x{raw:02x} at {pc}"))),
    };
    Ok((Insn { pc: pc as u32, op, operand }, c.pos))
}

/// Iterates over the instructions of a code array (stops at the first malformed one).
pub(crate) struct Insns<'a> {
    code: &'a [u8],
    pc: usize,
    failed: bool,
}

impl<'a> Insns<'a> {
    pub fn new(code: &'a [u8]) -> Self {
        Insns { code, pc: 0, failed: false }
    }
}

impl Iterator for Insns<'_> {
    type Item = R<Insn>;
    fn next(&mut self) -> Option<R<Insn>> {
        if self.failed || self.pc >= self.code.len() {
            return None;
        }
        match decode(self.code, self.pc) {
            Ok((i, next)) => {
                self.pc = next;
                Some(Ok(i))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// A switch's default target and its (key, target) pairs, targets as absolute pcs.
pub(crate) struct Switch {
    pub default: i64,
    pub cases: Vec<(i32, i64)>,
}

pub(crate) fn switch(code: &[u8], pc: usize) -> R<Switch> {
    let mut c = Cur::at(code, pc);
    let raw = c.u1()?;
    c.take((4 - (pc + 1) % 4) % 4)?;
    let here = pc as i64;
    let default = here + c.i4()? as i64;
    let mut cases = Vec::new();
    if raw == op::TABLESWITCH {
        let lo = c.i4()?;
        let hi = c.i4()?;
        let mut k = lo as i64;
        while k <= hi as i64 {
            cases.push((k as i32, here + c.i4()? as i64));
            k += 1;
        }
    } else {
        let n = c.i4()?.max(0);
        for _ in 0..n {
            let key = c.i4()?;
            cases.push((key, here + c.i4()? as i64));
        }
    }
    Ok(Switch { default, cases })
}

/// The instruction starts of a method when two code arrays are semantically equal.
pub(crate) struct Aligned {
    pub starts_a: Vec<u32>,
    pub starts_b: Vec<u32>,
}

impl Aligned {
    /// Instruction index of `pc` on side a/b; `code_len` maps to the instruction count (the end).
    pub fn index_a(&self, pc: i64, code_len: usize) -> Option<usize> {
        index_of(&self.starts_a, pc, code_len)
    }
    pub fn index_b(&self, pc: i64, code_len: usize) -> Option<usize> {
        index_of(&self.starts_b, pc, code_len)
    }
}

fn index_of(starts: &[u32], pc: i64, code_len: usize) -> Option<usize> {
    if pc == code_len as i64 {
        return Some(starts.len());
    }
    if pc < 0 || pc > u32::MAX as i64 {
        return None;
    }
    starts.binary_search(&(pc as u32)).ok()
}

/// Compares two code arrays instruction by instruction. `Ok(None)`: they differ.
pub(crate) fn compare(ca: &[u8], cb: &[u8], k: &mut ConstCmp) -> R<Option<Aligned>> {
    let mut starts_a = Vec::with_capacity(ca.len() / 2 + 1);
    let mut starts_b = Vec::with_capacity(cb.len() / 2 + 1);
    // Branch targets are checked once every instruction start is known.
    let mut targets: Vec<(i64, i64)> = Vec::new();
    let (mut pa, mut pb) = (0usize, 0usize);
    while pa < ca.len() && pb < cb.len() {
        let (ia, na) = decode(ca, pa)?;
        let (ib, nb) = decode(cb, pb)?;
        if ia.op != ib.op {
            return Ok(None);
        }
        starts_a.push(pa as u32);
        starts_b.push(pb as u32);
        let same = match (ia.operand, ib.operand) {
            (Operand::Cp(x), Operand::Cp(y)) => k.eq(x, y)?,
            (Operand::Interface(x, n), Operand::Interface(y, m)) => n == m && k.eq(x, y)?,
            (Operand::Multi(x, d), Operand::Multi(y, e)) => d == e && k.eq(x, y)?,
            (Operand::Branch(x), Operand::Branch(y)) => {
                targets.push((x, y));
                true
            }
            (Operand::Switch, Operand::Switch) => {
                let sa = switch(ca, pa)?;
                let sb = switch(cb, pb)?;
                if sa.cases.len() != sb.cases.len() || sa.cases.iter().zip(&sb.cases).any(|(p, q)| p.0 != q.0) {
                    false
                } else {
                    targets.push((sa.default, sb.default));
                    targets.extend(sa.cases.iter().zip(&sb.cases).map(|(p, q)| (p.1, q.1)));
                    true
                }
            }
            (x, y) => x == y,
        };
        if !same {
            return Ok(None);
        }
        pa = na;
        pb = nb;
    }
    if pa < ca.len() || pb < cb.len() {
        return Ok(None);
    }
    let aligned = Aligned { starts_a, starts_b };
    for (x, y) in targets {
        match (aligned.index_a(x, usize::MAX), aligned.index_b(y, usize::MAX)) {
            (Some(i), Some(j)) if i == j => {}
            _ => return Ok(None),
        }
    }
    Ok(Some(aligned))
}
