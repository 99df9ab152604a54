//! Constants compared across two constant pools by what they resolve to, never by index.

use crate::reader::{Class, R, bad, tag, text};

/// Compares constant-pool entries of class `a` with entries of class `b`.
pub(crate) struct ConstCmp<'c, 'a> {
    pub a: &'c Class<'a>,
    pub b: &'c Class<'a>,
    /// Both pools are byte-identical: equal indices are equal constants.
    same_pool: bool,
    /// `memo[i] == j + 1`: entry i of a was found equal to entry j of b.
    memo: Vec<u16>,
}

/// Nesting limit for constants that refer to constants (dynamic constants can nest, and a
/// hostile pool can make them cyclic).
const MAX_DEPTH: u32 = 24;

impl<'c, 'a> ConstCmp<'c, 'a> {
    pub fn new(a: &'c Class<'a>, b: &'c Class<'a>) -> Self {
        let same_pool = a.cp_bytes == b.cp_bytes;
        ConstCmp { a, b, same_pool, memo: Vec::new() }
    }

    pub fn same_pool(&self) -> bool {
        self.same_pool
    }

    /// Entry `x` of a and entry `y` of b are the same constant.
    pub fn eq(&mut self, x: u16, y: u16) -> R<bool> {
        if self.same_pool && x == y {
            // Still an error if the index is unusable.
            self.a.tag(x)?;
            return Ok(true);
        }
        self.eq_at(x, y, 0)
    }

    /// Optional class references (0 = none).
    pub fn eq_opt(&mut self, x: u16, y: u16) -> R<bool> {
        match (x, y) {
            (0, 0) => Ok(true),
            (0, _) | (_, 0) => Ok(false),
            _ => self.eq(x, y),
        }
    }

    /// Two Utf8 entries hold the same text.
    pub fn utf8_eq(&mut self, x: u16, y: u16) -> R<bool> {
        Ok(self.a.utf8(x)? == self.b.utf8(y)?)
    }

    fn eq_at(&mut self, x: u16, y: u16, depth: u32) -> R<bool> {
        if depth > MAX_DEPTH {
            return Err(bad("constants nested too deeply (cyclic dynamic constants?)"));
        }
        if let Some(&m) = self.memo.get(x as usize)
            && m != 0
            && m - 1 == y
        {
            return Ok(true);
        }
        let (ta, mut ca) = self.a.entry(x)?;
        let (tb, mut cb) = self.b.entry(y)?;
        if ta != tb {
            return Ok(false);
        }
        let eq = match ta {
            tag::UTF8 => {
                let n = ca.u2()? as usize;
                let m = cb.u2()? as usize;
                n == m && ca.take(n)? == cb.take(m)?
            }
            tag::INTEGER | tag::FLOAT => ca.take(4)? == cb.take(4)?,
            tag::LONG | tag::DOUBLE => ca.take(8)? == cb.take(8)?,
            tag::CLASS | tag::STRING | tag::METHOD_TYPE | tag::MODULE | tag::PACKAGE => {
                self.a.utf8(ca.u2()?)? == self.b.utf8(cb.u2()?)?
            }
            tag::NAME_AND_TYPE => {
                self.a.utf8(ca.u2()?)? == self.b.utf8(cb.u2()?)? && self.a.utf8(ca.u2()?)? == self.b.utf8(cb.u2()?)?
            }
            tag::FIELDREF | tag::METHODREF | tag::INTERFACE_METHODREF => {
                let (c1, n1) = (ca.u2()?, ca.u2()?);
                let (c2, n2) = (cb.u2()?, cb.u2()?);
                self.a.class_name(c1)? == self.b.class_name(c2)? && self.eq_at(n1, n2, depth + 1)?
            }
            tag::METHOD_HANDLE => {
                let (k1, r1) = (ca.u1()?, ca.u2()?);
                let (k2, r2) = (cb.u1()?, cb.u2()?);
                k1 == k2 && self.eq_at(r1, r2, depth + 1)?
            }
            tag::DYNAMIC | tag::INVOKE_DYNAMIC => {
                let (b1, n1) = (ca.u2()?, ca.u2()?);
                let (b2, n2) = (cb.u2()?, cb.u2()?);
                self.eq_at(n1, n2, depth + 1)? && self.bootstrap_eq(b1, b2, depth + 1)?
            }
            t => return Err(bad(format!("unknown constant-pool tag {t}"))),
        };
        if eq {
            if self.memo.is_empty() {
                self.memo = vec![0; self.a.cp_len()];
            }
            if let Some(m) = self.memo.get_mut(x as usize) {
                *m = y.wrapping_add(1);
            }
        }
        Ok(eq)
    }

    /// Bootstrap method `x` of a and `y` of b: same method handle and same static arguments.
    pub fn bootstrap_eq(&mut self, x: u16, y: u16, depth: u32) -> R<bool> {
        let (ha, args_a) = self.a.bootstrap(x)?;
        let (hb, args_b) = self.b.bootstrap(y)?;
        if !self.eq_at(ha, hb, depth + 1)? {
            return Ok(false);
        }
        let args_a: Vec<u16> = args_a.collect();
        let args_b: Vec<u16> = args_b.collect();
        if args_a.len() != args_b.len() {
            return Ok(false);
        }
        for (p, q) in args_a.into_iter().zip(args_b) {
            if !self.eq_at(p, q, depth + 1)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// A constant rendered for messages (`"hello"`, `42`, `java.lang.String`, `Foo.bar(I)V`).
pub(crate) fn render(c: &Class, i: u16) -> String {
    render_at(c, i, 0).unwrap_or_else(|_| format!("#{i}"))
}

fn render_at(c: &Class, i: u16, depth: u32) -> R<String> {
    if depth > 4 {
        return Ok("…".into());
    }
    let (t, mut cur) = c.entry(i)?;
    Ok(match t {
        tag::UTF8 => text(c.utf8(i)?),
        tag::INTEGER => cur.i4()?.to_string(),
        tag::FLOAT => {
            let v = f32::from_bits(cur.u4()?);
            format!("{v}f")
        }
        tag::LONG => {
            let hi = cur.u4()? as u64;
            let lo = cur.u4()? as u64;
            format!("{}L", ((hi << 32) | lo) as i64)
        }
        tag::DOUBLE => {
            let hi = cur.u4()? as u64;
            let lo = cur.u4()? as u64;
            format!("{}", f64::from_bits((hi << 32) | lo))
        }
        tag::CLASS => text(c.class_name(i)?).replace('/', "."),
        tag::STRING => format!("{:?}", text(c.utf8(cur.u2()?)?)),
        tag::METHOD_TYPE => text(c.utf8(cur.u2()?)?),
        tag::FIELDREF | tag::METHODREF | tag::INTERFACE_METHODREF => {
            let (_, owner, name, desc) = c.member_ref(i)?;
            format!(
                "{}.{}{}",
                text(owner).replace('/', "."),
                text(name),
                if t == tag::FIELDREF { String::new() } else { text(desc) }
            )
        }
        tag::METHOD_HANDLE => {
            let (_, (_, owner, name, _)) = c.method_handle(i)?;
            format!("{}::{}", text(owner).replace('/', "."), text(name))
        }
        tag::DYNAMIC | tag::INVOKE_DYNAMIC => {
            let (_, name, desc) = c.dynamic(i)?;
            format!("dynamic {}{}", text(name), text(desc))
        }
        _ => format!("#{i}"),
    })
}
