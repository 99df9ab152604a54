//! Generic signatures (JVMS 4.7.9.1), parsed and printed as javap prints them.

/// How deeply a generic signature may nest type arguments.
const MAX_SIGNATURE_DEPTH: u32 = 64;

#[derive(Debug, Clone)]
pub(super) enum Ty {
    Base(u8),
    /// `a/b/Outer<…>.Inner<…>`: each part's name and type arguments.
    Class(Vec<(String, Vec<TyArg>)>),
    Var(String),
    Array(u32, Box<Ty>),
}

#[derive(Debug, Clone)]
pub(super) enum TyArg {
    Any,
    Extends(Ty),
    Super(Ty),
    Exact(Ty),
}

#[derive(Debug, Clone)]
pub(super) struct TyParam {
    name: String,
    class_bound: Option<Ty>,
    iface_bounds: Vec<Ty>,
}

#[derive(Debug, Clone)]
pub(super) struct ClassSig {
    pub params: Vec<TyParam>,
    pub superclass: Option<Ty>,
    pub interfaces: Vec<Ty>,
}

#[derive(Debug, Clone)]
pub(super) struct MethodSig {
    pub params: Vec<TyParam>,
    pub args: Vec<Ty>,
    /// `None` is `void`.
    pub ret: Option<Ty>,
    pub throws: Vec<Ty>,
}

pub(super) struct SigParser<'s> {
    s: &'s [u8],
    pos: usize,
    depth: u32,
}

impl<'s> SigParser<'s> {
    fn new(s: &'s str) -> Self {
        SigParser { s: s.as_bytes(), pos: 0, depth: 0 }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn done(&self) -> bool {
        self.pos == self.s.len()
    }

    /// An identifier up to (not including) one of `stops`.
    fn ident(&mut self, stops: &[u8]) -> Option<String> {
        let start = self.pos;
        while let Some(c) = self.peek() {
            if stops.contains(&c) {
                break;
            }
            self.pos += 1;
        }
        if self.pos == start {
            return None;
        }
        std::str::from_utf8(&self.s[start..self.pos]).ok().map(str::to_owned)
    }

    fn type_params(&mut self) -> Option<Vec<TyParam>> {
        let mut out = Vec::new();
        if !self.eat(b'<') {
            return Some(out);
        }
        while !self.eat(b'>') {
            let name = self.ident(b":>;")?;
            if !self.eat(b':') {
                return None;
            }
            let class_bound = match self.peek() {
                Some(b'L' | b'T' | b'[') => Some(self.reference()?),
                _ => None,
            };
            let mut iface_bounds = Vec::new();
            while self.eat(b':') {
                iface_bounds.push(self.reference()?);
            }
            out.push(TyParam { name, class_bound, iface_bounds });
        }
        if out.is_empty() { None } else { Some(out) }
    }

    /// A reference type: class, type variable or array.
    fn reference(&mut self) -> Option<Ty> {
        match self.peek()? {
            b'L' | b'T' | b'[' => self.java_type(),
            _ => None,
        }
    }

    fn java_type(&mut self) -> Option<Ty> {
        let mut dims = 0u32;
        while self.eat(b'[') {
            dims += 1;
            if dims > 255 {
                return None;
            }
        }
        let t = match self.peek()? {
            c @ (b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z') => {
                self.pos += 1;
                Ty::Base(c)
            }
            b'T' => {
                self.pos += 1;
                let name = self.ident(b";")?;
                if !self.eat(b';') {
                    return None;
                }
                Ty::Var(name)
            }
            b'L' => self.class_type()?,
            _ => return None,
        };
        Some(if dims > 0 { Ty::Array(dims, Box::new(t)) } else { t })
    }

    fn class_type(&mut self) -> Option<Ty> {
        if !self.eat(b'L') {
            return None;
        }
        self.depth += 1;
        if self.depth > MAX_SIGNATURE_DEPTH {
            return None;
        }
        let mut parts = Vec::new();
        loop {
            let name = self.ident(b";<.")?;
            let mut args = Vec::new();
            if self.eat(b'<') {
                while !self.eat(b'>') {
                    args.push(match self.peek()? {
                        b'*' => {
                            self.pos += 1;
                            TyArg::Any
                        }
                        b'+' => {
                            self.pos += 1;
                            TyArg::Extends(self.reference()?)
                        }
                        b'-' => {
                            self.pos += 1;
                            TyArg::Super(self.reference()?)
                        }
                        _ => TyArg::Exact(self.reference()?),
                    });
                }
                if args.is_empty() {
                    return None;
                }
            }
            parts.push((name, args));
            if self.eat(b';') {
                break;
            }
            if !self.eat(b'.') {
                return None;
            }
        }
        self.depth -= 1;
        Some(Ty::Class(parts))
    }

    pub(super) fn class_sig(s: &str) -> Option<ClassSig> {
        let mut p = SigParser::new(s);
        let params = p.type_params()?;
        let superclass = Some(p.class_type()?);
        let mut interfaces = Vec::new();
        while !p.done() {
            interfaces.push(p.class_type()?);
        }
        Some(ClassSig { params, superclass, interfaces })
    }

    pub(super) fn method_sig(s: &str) -> Option<MethodSig> {
        let mut p = SigParser::new(s);
        let params = p.type_params()?;
        if !p.eat(b'(') {
            return None;
        }
        let mut args = Vec::new();
        while !p.eat(b')') {
            args.push(p.java_type()?);
        }
        let ret = if p.eat(b'V') { None } else { Some(p.java_type()?) };
        let mut throws = Vec::new();
        while p.eat(b'^') {
            throws.push(p.reference()?);
        }
        p.done().then_some(MethodSig { params, args, ret, throws })
    }

    pub(super) fn field_sig(s: &str) -> Option<Ty> {
        let mut p = SigParser::new(s);
        let t = p.java_type()?;
        p.done().then_some(t)
    }
}

pub(super) fn is_object(t: &Ty) -> bool {
    matches!(t, Ty::Class(parts) if parts.len() == 1 && parts[0].0 == "java/lang/Object" && parts[0].1.is_empty())
}

pub(super) fn fmt_ty(t: &Ty, out: &mut String) {
    match t {
        Ty::Base(c) => out.push_str(match c {
            b'B' => "byte",
            b'C' => "char",
            b'D' => "double",
            b'F' => "float",
            b'I' => "int",
            b'J' => "long",
            b'S' => "short",
            _ => "boolean",
        }),
        Ty::Class(parts) => {
            for (i, (name, args)) in parts.iter().enumerate() {
                if i > 0 {
                    out.push('.');
                }
                out.extend(name.chars().map(|c| if c == '/' { '.' } else { c }));
                if !args.is_empty() {
                    out.push('<');
                    for (j, a) in args.iter().enumerate() {
                        if j > 0 {
                            out.push_str(", ");
                        }
                        match a {
                            TyArg::Any => out.push('?'),
                            TyArg::Extends(t) => {
                                out.push_str("? extends ");
                                fmt_ty(t, out);
                            }
                            TyArg::Super(t) => {
                                out.push_str("? super ");
                                fmt_ty(t, out);
                            }
                            TyArg::Exact(t) => fmt_ty(t, out),
                        }
                    }
                    out.push('>');
                }
            }
        }
        Ty::Var(n) => out.push_str(n),
        Ty::Array(dims, t) => {
            fmt_ty(t, out);
            for _ in 0..*dims {
                out.push_str("[]");
            }
        }
    }
}

pub(super) fn ty_string(t: &Ty) -> String {
    let mut s = String::new();
    fmt_ty(t, &mut s);
    s
}

pub(super) fn fmt_type_params(ps: &[TyParam], out: &mut String) {
    if ps.is_empty() {
        return;
    }
    out.push('<');
    for (i, p) in ps.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&p.name);
        let mut sep = " extends ";
        if let Some(b) = &p.class_bound
            && !is_object(b)
        {
            out.push_str(sep);
            fmt_ty(b, out);
            sep = " & ";
        }
        for b in &p.iface_bounds {
            out.push_str(sep);
            fmt_ty(b, out);
            sep = " & ";
        }
    }
    out.push('>');
}

pub(super) fn join_types(ts: &[Ty], sep: &str) -> String {
    let mut s = String::new();
    for (i, t) in ts.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        fmt_ty(t, &mut s);
    }
    s
}
