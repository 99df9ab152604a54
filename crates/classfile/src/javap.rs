//! `jhot javap`: a `javap -c -p -l`–like disassembly of one class file, written over cafebabe.
//!
//! The output follows JDK 17's `javap -c -p -l` line for line (class header with generic
//! signature, fields, methods with Java-syntax types, `Code:` with every instruction at its byte
//! offset and its constant-pool operand resolved as `#7 // Method java/io/PrintStream.println:…`,
//! switch bodies, wide forms, `Exception table:`, `LineNumberTable:`, `LocalVariableTable:`),
//! followed by the class attributes `javap -v` prints for nests, sealed classes, records, inner
//! classes and invokedynamic (`NestHost:`, `NestMembers:`, `PermittedSubclasses:`, `Record:`,
//! `InnerClasses:`, `BootstrapMethods:`) in `javap -v`'s format. [`JavapOptions::constant_pool`]
//! adds `javap -v`'s header and `Constant pool:` listing.
//!
//! cafebabe resolves the constant pool while parsing and so forgets the indices javap prints; this
//! module reads them from the pool the pre-flight walk ([`crate::validate`]) keeps.
//!
//! The layout is JDK 17's; JDK 19+ `javap` indents `Code:` bodies one level deeper. Numbers print
//! as Java 19+ prints them (the shortest digits that round-trip), which JDK 17 does not always do
//! (`2.1474836E9f`, where JDK 17's javap prints `2.14748365E9f`); generic `throws` clauses use dots
//! throughout, where JDK 17's javap leaves slashes in class names.
//!
//! # Hostile input
//!
//! Every class goes through [`preflight`] first (see [`crate::validate`]: cafebabe 0.9 panics,
//! recurses without limit or reserves gigabytes on some hostile bytes), and cafebabe parses what
//! [`for_cafebabe`] returns. The disassembly itself is capped at [`MAX_OUTPUT`] bytes.

use std::borrow::Cow;
use std::fmt::Write as _;

use cafebabe::ClassFile;
use cafebabe::attributes::{AttributeData, CodeData};
use cafebabe::bytecode::Opcode;

use crate::ClassFileError;
use crate::opcodes::MNEMONIC;
use crate::validate::{Cp, RawAttr, RawClass, Rd, cafebabe_utf8, parse_unchecked};

/// What to print besides `javap -c -p -l`'s output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JavapOptions {
    /// `javap -v`'s class header (versions, flags, this/super class, counts) and its
    /// `Constant pool:` listing, between the class line and `{`.
    pub constant_pool: bool,
}

/// The disassembly stops (with a last line saying so) once it is this long: a 10 KB class file can
/// reference a 64 KB string from every instruction.
pub const MAX_OUTPUT: usize = 32 << 20;

/// How deeply a generic signature may nest type arguments.
const MAX_SIGNATURE_DEPTH: u32 = 64;

/// Disassembles `bytes` like `javap -c -p -l` (see the module documentation).
pub fn disassemble(bytes: &[u8], opts: &JavapOptions) -> Result<String, ClassFileError> {
    let raw = RawClass::read(bytes)?;
    let patched = raw.for_cafebabe();
    let class = parse_unchecked(&patched)?;
    let mut p = Printer { raw: &raw, class: &class, w: Writer::new(MAX_OUTPUT), opts: *opts };
    p.class();
    Ok(p.w.finish())
}

/// The pool's text as javap shows it.
impl<'a> RawClass<'a> {
    /// A Utf8 entry as text (modified UTF-8; unpaired surrogates become U+FFFD).
    fn utf8(&self, i: u16) -> Option<Cow<'a, str>> {
        self.utf8_bytes(i).map(decode_modified_utf8)
    }

    fn attr_name(&self, a: &RawAttr) -> Cow<'a, str> {
        self.utf8(a.name).unwrap_or(Cow::Borrowed("?"))
    }
}

/// The pre-flight, here for the path callers know (`javap::preflight`, `javap::for_cafebabe`).
pub use crate::validate::{for_cafebabe, preflight};

// =============================================================================================
// Text helpers: modified UTF-8, javap's quoting, Java's number formatting
// =============================================================================================

/// A Utf8 entry as text for display: like [`cafebabe_utf8`], but never failing. As javap's
/// output does, malformed bytes and unpaired surrogates show as `?`.
fn decode_modified_utf8(b: &[u8]) -> Cow<'_, str> {
    if let Some(s) = cafebabe_utf8(b) {
        return s;
    }
    // Decode to UTF-16 units as Java does, then pair the surrogates.
    let mut units: Vec<u16> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let c2 = b.get(i + 1).copied().unwrap_or(0);
        let c3 = b.get(i + 2).copied().unwrap_or(0);
        if c < 0x80 {
            units.push(u16::from(c));
            i += 1;
        } else if c & 0xe0 == 0xc0 && c2 & 0xc0 == 0x80 {
            units.push((u16::from(c & 0x1f) << 6) | u16::from(c2 & 0x3f));
            i += 2;
        } else if c & 0xf0 == 0xe0 && c2 & 0xc0 == 0x80 && c3 & 0xc0 == 0x80 {
            units.push((u16::from(c & 0x0f) << 12) | (u16::from(c2 & 0x3f) << 6) | u16::from(c3 & 0x3f));
            i += 3;
        } else {
            units.push(u16::from(b'?'));
            i += 1;
        }
    }
    Cow::Owned(char::decode_utf16(units).map(|c| c.unwrap_or('?')).collect())
}

/// javap's `ConstantWriter.stringValue` for Utf8 entries: escapes, `\uXXXX` for control chars.
fn escape_utf8(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '"' => out.push_str("\\\""),
            '\'' => out.push_str("\\'"),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

fn is_java_ident_start(c: char) -> bool {
    c == '$' || c == '_' || c.is_alphabetic() || (!c.is_ascii() && is_currency(c))
}

fn is_java_ident_part(c: char) -> bool {
    is_java_ident_start(c)
        || c.is_numeric()
        || matches!(c, '\u{0}'..='\u{8}' | '\u{e}'..='\u{1b}' | '\u{7f}'..='\u{9f}')
        || (!c.is_ascii() && !c.is_whitespace() && !c.is_control() && c.is_alphanumeric())
}

fn is_currency(c: char) -> bool {
    matches!(c, '\u{a2}'..='\u{a5}' | '\u{20a0}'..='\u{20cf}')
}

/// javap's `checkName`: a valid binary name as is, anything else quoted.
fn check_name(name: &str) -> Cow<'_, str> {
    if name.is_empty() {
        return Cow::Borrowed("\"\"");
    }
    let mut prev = '/';
    for c in name.chars() {
        if (prev == '/' && !is_java_ident_start(c)) || (c != '/' && !is_java_ident_part(c)) {
            let mut out = String::with_capacity(name.len() + 2);
            out.push('"');
            for c in name.chars() {
                match c {
                    '\\' => out.push_str("\\\\"),
                    '"' => out.push_str("\\\""),
                    '\n' => out.push_str("\\n"),
                    '\t' => out.push_str("\\t"),
                    c => out.push(c),
                }
            }
            out.push('"');
            return Cow::Owned(out);
        }
        prev = c;
    }
    Cow::Borrowed(name)
}

/// `Double.toString` (Java 19 and later): plain notation for 10^-3 <= |v| < 10^7, else
/// `d.dddE±n`; always a digit after the point. The digits are the fewest (at least two) that
/// round-trip, the closest such to the exact value, ties to an even last digit.
fn java_double(v: f64) -> String {
    java_number(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        v.abs() >= 1e-3 && v.abs() < 1e7,
        java_digits(v.abs()),
    )
}

/// `Float.toString` (see [`java_double`]).
fn java_float(v: f32) -> String {
    java_number(
        v.is_nan(),
        v.is_infinite(),
        v.is_sign_negative(),
        v == 0.0,
        v.abs() >= 1e-3 && v.abs() < 1e7,
        java_digits(v.abs()),
    )
}

/// The digits of `v` in `{:e}` form as Java 19+ chooses them: Rust's shortest round-trip digits
/// give their number; Rust's exactly rounded (ties to even) formatting at that precision gives
/// the closest such decimal.
fn java_digits<T>(v: T) -> String
where
    T: std::fmt::LowerExp + std::str::FromStr + PartialEq + Copy,
{
    let shortest = format!("{v:e}");
    let n = shortest.split('e').next().map_or(1, |m| m.chars().filter(char::is_ascii_digit).count());
    let closest = format!("{:.*e}", n.max(2) - 1, v);
    if closest.parse::<T>().ok() == Some(v) { closest } else { shortest }
}

fn java_number(nan: bool, inf: bool, neg: bool, zero: bool, plain: bool, sci: String) -> String {
    let sign = if neg { "-" } else { "" };
    if nan {
        return "NaN".into();
    }
    if inf {
        return format!("{sign}Infinity");
    }
    if zero {
        return format!("{sign}0.0");
    }
    // `sci` is like "1.2345e6" or "5e-324": digits and a decimal exponent.
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.trim_end_matches('0') {
        "" => "0",
        d => d,
    };
    if plain {
        // value = 0.d1d2…dn × 10^(exp+1)
        let point = exp + 1;
        let mut s = String::from(sign);
        if point <= 0 {
            s.push_str("0.");
            for _ in 0..(-point) {
                s.push('0');
            }
            s.push_str(digits);
        } else {
            let point = point as usize;
            if digits.len() <= point {
                s.push_str(digits);
                for _ in digits.len()..point {
                    s.push('0');
                }
                s.push_str(".0");
            } else {
                s.push_str(&digits[..point]);
                s.push('.');
                s.push_str(&digits[point..]);
            }
        }
        s
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let rest = if rest.is_empty() { "0" } else { rest };
        format!("{sign}{first}.{rest}E{exp}")
    }
}

// =============================================================================================
// Generic signatures (JVMS 4.7.9.1), printed as javap prints them
// =============================================================================================

#[derive(Debug, Clone)]
enum Ty {
    Base(u8),
    /// `a/b/Outer<…>.Inner<…>`: each part's name and type arguments.
    Class(Vec<(String, Vec<TyArg>)>),
    Var(String),
    Array(u32, Box<Ty>),
}

#[derive(Debug, Clone)]
enum TyArg {
    Any,
    Extends(Ty),
    Super(Ty),
    Exact(Ty),
}

#[derive(Debug, Clone)]
struct TyParam {
    name: String,
    class_bound: Option<Ty>,
    iface_bounds: Vec<Ty>,
}

#[derive(Debug, Clone)]
struct ClassSig {
    params: Vec<TyParam>,
    superclass: Option<Ty>,
    interfaces: Vec<Ty>,
}

#[derive(Debug, Clone)]
struct MethodSig {
    params: Vec<TyParam>,
    args: Vec<Ty>,
    /// `None` is `void`.
    ret: Option<Ty>,
    throws: Vec<Ty>,
}

struct SigParser<'s> {
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

    fn class_sig(s: &str) -> Option<ClassSig> {
        let mut p = SigParser::new(s);
        let params = p.type_params()?;
        let superclass = Some(p.class_type()?);
        let mut interfaces = Vec::new();
        while !p.done() {
            interfaces.push(p.class_type()?);
        }
        Some(ClassSig { params, superclass, interfaces })
    }

    fn method_sig(s: &str) -> Option<MethodSig> {
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

    fn field_sig(s: &str) -> Option<Ty> {
        let mut p = SigParser::new(s);
        let t = p.java_type()?;
        p.done().then_some(t)
    }
}

fn is_object(t: &Ty) -> bool {
    matches!(t, Ty::Class(parts) if parts.len() == 1 && parts[0].0 == "java/lang/Object" && parts[0].1.is_empty())
}

fn fmt_ty(t: &Ty, out: &mut String) {
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

fn ty_string(t: &Ty) -> String {
    let mut s = String::new();
    fmt_ty(t, &mut s);
    s
}

fn fmt_type_params(ps: &[TyParam], out: &mut String) {
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

fn join_types(ts: &[Ty], sep: &str) -> String {
    let mut s = String::new();
    for (i, t) in ts.iter().enumerate() {
        if i > 0 {
            s.push_str(sep);
        }
        fmt_ty(t, &mut s);
    }
    s
}

fn java_name(internal: &str) -> String {
    internal.replace('/', ".")
}

// =============================================================================================
// javap's line writer: indentation, pending spaces, the comment column
// =============================================================================================

struct Writer {
    out: String,
    line: String,
    line_chars: usize,
    pending_spaces: usize,
    indent: usize,
    pending_newline: bool,
    limit: usize,
    truncated: bool,
}

const INDENT_WIDTH: usize = 2;
const TAB_COLUMN: usize = 40;

impl Writer {
    fn new(limit: usize) -> Self {
        Writer {
            out: String::new(),
            line: String::new(),
            line_chars: 0,
            pending_spaces: 0,
            indent: 0,
            pending_newline: false,
            limit,
            truncated: false,
        }
    }

    fn full(&self) -> bool {
        self.truncated
    }

    fn print(&mut self, s: &str) {
        if self.truncated {
            return;
        }
        if self.pending_newline {
            self.pending_newline = false;
            self.println();
        }
        // Runs of characters other than space and newline go in whole.
        for (i, piece) in s.split('\n').enumerate() {
            if i > 0 {
                self.println();
            }
            for (j, run) in piece.split(' ').enumerate() {
                if j > 0 {
                    self.pending_spaces += 1;
                }
                if run.is_empty() {
                    continue;
                }
                if self.line_chars == 0 {
                    self.pending_spaces += self.indent * INDENT_WIDTH;
                }
                self.line.extend(std::iter::repeat_n(' ', self.pending_spaces));
                self.line.push_str(run);
                self.line_chars += self.pending_spaces + if run.is_ascii() { run.len() } else { run.chars().count() };
                self.pending_spaces = 0;
                if self.line.len() > self.limit {
                    self.truncate();
                    return;
                }
            }
        }
    }

    fn println(&mut self) {
        if self.truncated {
            return;
        }
        self.pending_spaces = 0;
        self.out.push_str(&self.line);
        self.out.push('\n');
        self.line.clear();
        self.line_chars = 0;
        if self.out.len() > self.limit {
            self.truncate();
        }
    }

    fn line(&mut self, s: &str) {
        self.print(s);
        self.println();
    }

    fn tab(&mut self) {
        let col = self.indent * INDENT_WIDTH + TAB_COLUMN;
        self.pending_spaces += if col <= self.line_chars { 1 } else { col - self.line_chars };
    }

    fn indent(&mut self, delta: isize) {
        self.indent = self.indent.saturating_add_signed(delta);
    }

    fn truncate(&mut self) {
        self.truncated = true;
        self.line.clear();
        let mut cut = self.limit.min(self.out.len());
        while !self.out.is_char_boundary(cut) {
            cut -= 1;
        }
        self.out.truncate(cut);
        let cut = self.out.rfind('\n').map_or(0, |i| i + 1);
        self.out.truncate(cut);
        let _ = writeln!(self.out, "... (output truncated at {} bytes)", self.limit);
    }

    fn finish(mut self) -> String {
        if !self.truncated && !self.line.is_empty() {
            self.println();
        }
        self.out
    }
}

// =============================================================================================
// The printer
// =============================================================================================

struct Printer<'r, 'a> {
    raw: &'r RawClass<'a>,
    class: &'r ClassFile<'a>,
    w: Writer,
    opts: JavapOptions,
}

const ACC_PUBLIC: u16 = 0x0001;
const ACC_PRIVATE: u16 = 0x0002;
const ACC_PROTECTED: u16 = 0x0004;
const ACC_STATIC: u16 = 0x0008;
const ACC_FINAL: u16 = 0x0010;
const ACC_SYNCHRONIZED: u16 = 0x0020;
const ACC_VOLATILE: u16 = 0x0040;
const ACC_VARARGS: u16 = 0x0080;
const ACC_TRANSIENT: u16 = 0x0080;
const ACC_NATIVE: u16 = 0x0100;
const ACC_INTERFACE: u16 = 0x0200;
const ACC_ABSTRACT: u16 = 0x0400;
const ACC_STRICT: u16 = 0x0800;
const ACC_MODULE: u16 = 0x8000;

fn modifiers(flags: u16, table: &[(u16, &'static str)]) -> Vec<&'static str> {
    table.iter().filter(|(f, _)| flags & f != 0).map(|(_, n)| *n).collect()
}

const CLASS_MODIFIERS: &[(u16, &str)] = &[(ACC_PUBLIC, "public"), (ACC_FINAL, "final"), (ACC_ABSTRACT, "abstract")];
const FIELD_MODIFIERS: &[(u16, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PRIVATE, "private"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
    (ACC_VOLATILE, "volatile"),
    (ACC_TRANSIENT, "transient"),
];
const METHOD_MODIFIERS: &[(u16, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PRIVATE, "private"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
    (ACC_SYNCHRONIZED, "synchronized"),
    (ACC_NATIVE, "native"),
    (ACC_ABSTRACT, "abstract"),
    (ACC_STRICT, "strictfp"),
];
const INNER_CLASS_MODIFIERS: &[(u16, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PRIVATE, "private"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
    (ACC_ABSTRACT, "abstract"),
];
const CLASS_FLAGS: &[(u16, &str)] = &[
    (0x0001, "ACC_PUBLIC"),
    (0x0010, "ACC_FINAL"),
    (0x0020, "ACC_SUPER"),
    (0x0200, "ACC_INTERFACE"),
    (0x0400, "ACC_ABSTRACT"),
    (0x1000, "ACC_SYNTHETIC"),
    (0x2000, "ACC_ANNOTATION"),
    (0x4000, "ACC_ENUM"),
    (0x8000, "ACC_MODULE"),
];

const REF_KINDS: [&str; 10] = [
    "REF_???",
    "REF_getField",
    "REF_getStatic",
    "REF_putField",
    "REF_putStatic",
    "REF_invokeVirtual",
    "REF_invokeStatic",
    "REF_invokeSpecial",
    "REF_newInvokeSpecial",
    "REF_invokeInterface",
];

fn attr_named<'c, 'a>(
    attrs: &'c [cafebabe::attributes::AttributeInfo<'a>],
    name: &str,
) -> Option<&'c AttributeData<'a>> {
    attrs.iter().find(|a| a.name == name).map(|a| &a.data)
}

impl Printer<'_, '_> {
    // ----- constant pool values --------------------------------------------------------------

    fn utf8(&self, i: u16) -> String {
        self.raw.utf8(i).map(|s| s.into_owned()).unwrap_or_else(|| format!("#{i}"))
    }

    /// javap's `stringValue`.
    fn value(&self, i: u16) -> String {
        self.value_depth(i, 0)
    }

    fn value_depth(&self, i: u16, depth: u32) -> String {
        if depth > 4 {
            return format!("#{i}");
        }
        let Some(e) = self.raw.entry(i) else { return format!("#{i}") };
        let d = depth + 1;
        match e {
            Cp::Empty => format!("#{i}"),
            Cp::Utf8(_) => escape_utf8(&self.utf8(i)),
            Cp::Integer(v) => v.to_string(),
            Cp::Float(v) => format!("{}f", java_float(v)),
            Cp::Long(v) => format!("{v}l"),
            Cp::Double(v) => format!("{}d", java_double(v)),
            Cp::Class(n) | Cp::Module(n) | Cp::Package(n) => check_name(&self.utf8(n)).into_owned(),
            Cp::String(n) => self.value_depth(n, d),
            Cp::Fieldref(c, nt) | Cp::Methodref(c, nt) | Cp::InterfaceMethodref(c, nt) => {
                format!("{}.{}", self.value_depth(c, d), self.value_depth(nt, d))
            }
            Cp::NameAndType(n, t) => format!("{}:{}", check_name(&self.utf8(n)), self.utf8(t)),
            Cp::MethodHandle(k, r) => {
                format!("{} {}", REF_KINDS.get(usize::from(k)).copied().unwrap_or("REF_???"), self.value_depth(r, d))
            }
            Cp::MethodType(n) => self.utf8(n),
            Cp::Dynamic(b, nt) | Cp::InvokeDynamic(b, nt) => format!("#{b}:{}", self.value_depth(nt, d)),
        }
    }

    fn tag_name(e: Cp<'_>) -> &'static str {
        match e {
            Cp::Empty => "(unknown tag)",
            Cp::Utf8(_) => "Utf8",
            Cp::Integer(_) => "int",
            Cp::Float(_) => "float",
            Cp::Long(_) => "long",
            Cp::Double(_) => "double",
            Cp::Class(_) => "class",
            Cp::String(_) => "String",
            Cp::Fieldref(..) => "Field",
            Cp::Methodref(..) => "Method",
            Cp::InterfaceMethodref(..) => "InterfaceMethod",
            Cp::NameAndType(..) => "NameAndType",
            Cp::MethodHandle(..) => "MethodHandle",
            Cp::MethodType(_) => "MethodType",
            Cp::Dynamic(..) => "Dynamic",
            Cp::InvokeDynamic(..) => "InvokeDynamic",
            Cp::Module(_) => "Module",
            Cp::Package(_) => "Package",
        }
    }

    /// javap's `ConstantWriter.write`: tag and value, members of this class without the class.
    fn reference(&self, i: u16) -> String {
        if i == 0 {
            return "#0".into();
        }
        let Some(e) = self.raw.entry(i) else { return format!("#{i}") };
        let shown = match e {
            Cp::Fieldref(c, nt) | Cp::Methodref(c, nt) | Cp::InterfaceMethodref(c, nt) if c == self.raw.this_class => {
                nt
            }
            _ => i,
        };
        format!("{} {}", Self::tag_name(e), self.value(shown))
    }

    // ----- the class -------------------------------------------------------------------------

    fn class(&mut self) {
        let c = self.class;
        let flags = self.raw.access;
        if let Some(AttributeData::SourceFile(s)) = attr_named(&c.attributes, "SourceFile") {
            self.w.line(&format!("Compiled from \"{s}\""));
        }
        let is_interface = flags & ACC_INTERFACE != 0;
        let is_module = flags & ACC_MODULE != 0;
        let mods = modifiers(if is_interface { flags & !ACC_ABSTRACT } else { flags }, CLASS_MODIFIERS);
        for m in mods {
            self.w.print(m);
            self.w.print(" ");
        }
        let module = match attr_named(&c.attributes, "Module") {
            Some(AttributeData::Module(m)) if is_module => Some(m),
            _ => None,
        };
        if let Some(m) = module {
            if m.access_flags.bits() & 0x0020 != 0 {
                self.w.print("open ");
            }
            self.w.print("module ");
            self.w.print(&java_name(&m.name));
            if let Some(v) = &m.version {
                self.w.print("@");
                self.w.print(v);
            }
        } else {
            self.w.print(if is_interface { "interface " } else { "class " });
            self.w.print(&java_name(&c.this_class));
            let sig = match attr_named(&c.attributes, "Signature") {
                Some(AttributeData::Signature(s)) => SigParser::class_sig(s),
                _ => None,
            };
            let mut s = String::new();
            if let Some(sig) = sig {
                fmt_type_params(&sig.params, &mut s);
                if is_interface {
                    if !sig.interfaces.is_empty() {
                        s.push_str(" extends ");
                        s.push_str(&join_types(&sig.interfaces, ", "));
                    }
                } else {
                    if let Some(sup) = &sig.superclass
                        && !is_object(sup)
                    {
                        s.push_str(" extends ");
                        fmt_ty(sup, &mut s);
                    }
                    if !sig.interfaces.is_empty() {
                        s.push_str(" implements ");
                        s.push_str(&join_types(&sig.interfaces, ", "));
                    }
                }
            } else {
                if !is_interface
                    && let Some(sup) = &c.super_class
                    && &**sup != "java/lang/Object"
                {
                    s.push_str(" extends ");
                    s.push_str(&java_name(sup));
                }
                for (i, itf) in c.interfaces.iter().enumerate() {
                    s.push_str(match (i, is_interface) {
                        (0, false) => " implements ",
                        (0, true) => " extends ",
                        _ => ",",
                    });
                    s.push_str(&java_name(itf));
                }
            }
            self.w.print(&s);
        }
        if self.opts.constant_pool {
            self.w.println();
            self.verbose_header();
            self.constant_pool();
        } else {
            self.w.print(" ");
        }
        self.w.line("{");
        self.w.indent(1);
        if let Some(m) = module {
            self.module_directives(m);
        }
        for f in &c.fields {
            if self.w.full() {
                break;
            }
            self.field(f);
        }
        for m in &c.methods {
            if self.w.full() {
                break;
            }
            self.method(m);
        }
        self.w.pending_newline = false;
        self.w.indent(-1);
        self.w.line("}");
        self.class_attributes();
    }

    fn verbose_header(&mut self) {
        let r = self.raw;
        self.w.indent(1);
        self.w.line(&format!("minor version: {}", r.minor));
        self.w.line(&format!("major version: {}", r.major));
        let mut names: Vec<String> = modifiers(r.access, CLASS_FLAGS).into_iter().map(str::to_owned).collect();
        let known: u16 = CLASS_FLAGS.iter().map(|(f, _)| f).fold(0, |a, f| a | f);
        let mut unknown = r.access & !known;
        while unknown != 0 {
            let bit = 1u16 << (15 - unknown.leading_zeros());
            names.push(format!("0x{bit:x}"));
            unknown &= !bit;
        }
        self.w.line(&format!("flags: (0x{:04x}) {}", r.access, names.join(", ")));
        for (label, ix) in [("this_class", r.this_class), ("super_class", r.super_class)] {
            self.w.print(&format!("{label}: #{ix}"));
            if ix != 0 {
                self.w.tab();
                self.w.print(&format!("// {}", self.value(ix)));
            }
            self.w.println();
        }
        self.w.line(&format!(
            "interfaces: {}, fields: {}, methods: {}, attributes: {}",
            r.interfaces,
            r.fields,
            r.methods,
            r.attrs.len()
        ));
        self.w.indent(-1);
    }

    fn constant_pool(&mut self) {
        self.w.line("Constant pool:");
        self.w.indent(1);
        let size = self.raw.cp.len();
        let width = size.to_string().len() + 1;
        for i in 1..size {
            if self.w.full() {
                break;
            }
            let ix = i as u16;
            let Some(e) = self.raw.entry(ix) else { break };
            let tag = match e {
                Cp::Empty => continue,
                Cp::Utf8(_) => "Utf8",
                Cp::Integer(_) => "Integer",
                Cp::Float(_) => "Float",
                Cp::Long(_) => "Long",
                Cp::Double(_) => "Double",
                Cp::Class(_) => "Class",
                Cp::String(_) => "String",
                Cp::Fieldref(..) => "Fieldref",
                Cp::Methodref(..) => "Methodref",
                Cp::InterfaceMethodref(..) => "InterfaceMethodref",
                Cp::NameAndType(..) => "NameAndType",
                Cp::MethodHandle(..) => "MethodHandle",
                Cp::MethodType(_) => "MethodType",
                Cp::Dynamic(..) => "Dynamic",
                Cp::InvokeDynamic(..) => "InvokeDynamic",
                Cp::Module(_) => "Module",
                Cp::Package(_) => "Package",
            };
            self.w.print(&format!("{:>width$}", format!("#{i}")));
            self.w.print(&format!(" = {tag:<18} "));
            let (refs, comment) = match e {
                Cp::Empty => continue,
                Cp::Utf8(_) | Cp::Integer(_) | Cp::Float(_) | Cp::Long(_) | Cp::Double(_) => {
                    self.w.line(&self.value(ix));
                    continue;
                }
                Cp::Class(n) | Cp::String(n) | Cp::Module(n) | Cp::Package(n) => {
                    (format!("#{n}"), format!("// {}", self.value(ix)))
                }
                Cp::Fieldref(c, nt) | Cp::Methodref(c, nt) | Cp::InterfaceMethodref(c, nt) => {
                    (format!("#{c}.#{nt}"), format!("// {}", self.value(ix)))
                }
                Cp::NameAndType(n, t) => (format!("#{n}:#{t}"), format!("// {}", self.value(ix))),
                Cp::MethodHandle(k, r) => (format!("{k}:#{r}"), format!("// {}", self.value(ix))),
                Cp::MethodType(n) => (format!("#{n}"), format!("//  {}", self.value(ix))),
                Cp::Dynamic(b, nt) | Cp::InvokeDynamic(b, nt) => {
                    (format!("#{b}:#{nt}"), format!("// {}", self.value(ix)))
                }
            };
            self.w.print(&refs);
            self.w.tab();
            self.w.line(&comment);
        }
        self.w.indent(-1);
    }

    fn module_directives(&mut self, m: &cafebabe::attributes::ModuleData<'_>) {
        for r in &m.requires {
            let mut s = String::from("requires");
            if r.flags.bits() & 0x0040 != 0 {
                s.push_str(" static");
            }
            if r.flags.bits() & 0x0020 != 0 {
                s.push_str(" transitive");
            }
            s.push(' ');
            s.push_str(&r.name);
            s.push(';');
            self.w.line(&s);
        }
        let to_list = |w: &mut Writer, head: String, to: &[Cow<'_, str>]| {
            w.print(&head);
            for (i, t) in to.iter().enumerate() {
                if i == 0 {
                    w.line(" to");
                    w.indent(1);
                } else {
                    w.line(",");
                }
                w.print(t);
            }
            w.line(";");
            if !to.is_empty() {
                w.indent(-1);
            }
        };
        for e in &m.exports {
            to_list(&mut self.w, format!("exports {}", java_name(&e.package_name)), &e.exports_to);
        }
        for o in &m.opens {
            to_list(&mut self.w, format!("opens {}", java_name(&o.package_name)), &o.opens_to);
        }
        for u in &m.uses {
            self.w.line(&format!("uses {};", java_name(u)));
        }
        for p in &m.provides {
            self.w.print(&format!("provides  {}", java_name(&p.service_interface_name)));
            for (i, with) in p.provides_with.iter().enumerate() {
                if i == 0 {
                    self.w.line(" with");
                    self.w.indent(1);
                } else {
                    self.w.line(",");
                }
                self.w.print(&java_name(with));
            }
            self.w.line(";");
            if !p.provides_with.is_empty() {
                self.w.indent(-1);
            }
        }
    }

    // ----- members ---------------------------------------------------------------------------

    fn field(&mut self, f: &cafebabe::FieldInfo<'_>) {
        let mut s = String::new();
        for m in modifiers(f.access_flags.bits(), FIELD_MODIFIERS) {
            s.push_str(m);
            s.push(' ');
        }
        let sig = match attr_named(&f.attributes, "Signature") {
            Some(AttributeData::Signature(sig)) => SigParser::field_sig(sig),
            _ => None,
        };
        let desc = f.descriptor.to_string();
        match sig.or_else(|| SigParser::field_sig(&desc)) {
            Some(t) => fmt_ty(&t, &mut s),
            None => s.push_str(&desc),
        }
        s.push(' ');
        s.push_str(&f.name);
        s.push(';');
        self.w.line(&s);
        self.w.println();
    }

    fn method(&mut self, m: &cafebabe::MethodInfo<'_>) {
        let flags = m.access_flags.bits();
        let class_flags = self.raw.access;
        let mut s = String::new();
        let mut mods = modifiers(flags, METHOD_MODIFIERS);
        let major = self.raw.major;
        if class_flags & ACC_INTERFACE != 0
            && flags & ACC_ABSTRACT == 0
            && m.name != "<clinit>"
            && major >= 52
            && flags & (ACC_STATIC | ACC_PRIVATE) == 0
        {
            mods.push("default");
        }
        for md in mods {
            s.push_str(md);
            s.push(' ');
        }
        let desc = m.descriptor.to_string();
        let sig = match attr_named(&m.attributes, "Signature") {
            Some(AttributeData::Signature(sig)) => SigParser::method_sig(sig),
            _ => None,
        }
        .or_else(|| SigParser::method_sig(&desc));
        match &sig {
            Some(sig) => {
                if !sig.params.is_empty() {
                    fmt_type_params(&sig.params, &mut s);
                    s.push(' ');
                }
                let mut params = String::from("(");
                params.push_str(&join_types(&sig.args, ", "));
                params.push(')');
                if flags & ACC_VARARGS != 0
                    && let Some(i) = params.rfind("[]")
                    && i > 0
                {
                    params.replace_range(i..i + 2, "...");
                }
                match &*m.name {
                    "<init>" => s.push_str(&java_name(&self.class.this_class)),
                    "<clinit>" => s.push_str("{}"),
                    name => {
                        match &sig.ret {
                            Some(t) => fmt_ty(t, &mut s),
                            None => s.push_str("void"),
                        }
                        s.push(' ');
                        s.push_str(name);
                    }
                }
                if &*m.name != "<clinit>" {
                    s.push_str(&params);
                }
            }
            None => {
                s.push_str(&m.name);
                s.push_str(&desc);
            }
        }
        if let Some(AttributeData::Exceptions(ex)) = attr_named(&m.attributes, "Exceptions") {
            s.push_str(" throws ");
            match &sig {
                Some(sig) if !sig.throws.is_empty() => s.push_str(&join_types(&sig.throws, ", ")),
                _ => s.push_str(&ex.iter().map(|e| java_name(e)).collect::<Vec<_>>().join(", ")),
            }
        }
        s.push(';');
        self.w.line(&s);
        self.w.indent(1);
        if let Some(AttributeData::Code(code)) = attr_named(&m.attributes, "Code") {
            self.code(code);
        }
        self.w.indent(-1);
        self.w.pending_newline = true;
    }

    // ----- code ------------------------------------------------------------------------------

    fn code(&mut self, code: &CodeData<'_>) {
        self.w.line("Code:");
        if let Some(bc) = &code.bytecode {
            for (pc, op) in &bc.opcodes {
                if self.w.full() {
                    return;
                }
                self.instruction(code.code, *pc, op);
            }
        }
        if !code.exception_table.is_empty() {
            self.w.line("Exception table:");
            self.w.indent(1);
            self.w.line(" from    to  target type");
            for e in &code.exception_table {
                let ty = match &e.catch_type {
                    Some(t) => format!("Class {}", check_name(t)),
                    None => "any".into(),
                };
                self.w.line(&format!(" {:5} {:5} {:5}   {ty}", e.start_pc, e.end_pc, e.handler_pc));
            }
            self.w.indent(-1);
        }
        if let Some(AttributeData::LineNumberTable(lines)) = attr_named(&code.attributes, "LineNumberTable") {
            self.w.line("LineNumberTable:");
            self.w.indent(1);
            for l in lines {
                self.w.line(&format!("line {}: {}", l.line_number, l.start_pc));
            }
            self.w.indent(-1);
        }
        if let Some(AttributeData::LocalVariableTable(vars)) = attr_named(&code.attributes, "LocalVariableTable") {
            self.w.line("LocalVariableTable:");
            self.w.indent(1);
            self.w.line("Start  Length  Slot  Name   Signature");
            for v in vars {
                self.w.line(&format!(
                    "{:5} {:7} {:5} {:>5}   {}",
                    v.start_pc,
                    v.length,
                    v.index,
                    escape_utf8(&v.name),
                    escape_utf8(&v.descriptor.to_string())
                ));
            }
            self.w.indent(-1);
        }
    }

    fn instruction(&mut self, code: &[u8], pc: usize, op: &Opcode<'_>) {
        let raw = code.get(pc).copied().unwrap_or(0);
        let wide = raw == 0xc4;
        let (real, name) = if wide {
            let sub = code.get(pc + 1).copied().unwrap_or(0);
            (sub, format!("{}_w", MNEMONIC[usize::from(sub)]))
        } else {
            (raw, MNEMONIC[usize::from(raw)].to_owned())
        };
        self.w.print(&format!("{pc:4}: {name:<13} "));
        let u1 = |at: usize| code.get(at).copied().map(u16::from).unwrap_or(0);
        let u2 = |at: usize| (u1(at) << 8) | u1(at + 1);
        let target = |off: i32| (pc as i64 + i64::from(off)).to_string();
        match op {
            Opcode::Bipush(v) => self.w.print(&v.to_string()),
            Opcode::Sipush(v) => self.w.print(&v.to_string()),
            Opcode::Ldc(_) => self.cp_operand(u1(pc + 1), None),
            Opcode::LdcW(_) | Opcode::Ldc2W(_) => self.cp_operand(u2(pc + 1), None),
            Opcode::Iload(n)
            | Opcode::Lload(n)
            | Opcode::Fload(n)
            | Opcode::Dload(n)
            | Opcode::Aload(n)
            | Opcode::Istore(n)
            | Opcode::Lstore(n)
            | Opcode::Fstore(n)
            | Opcode::Dstore(n)
            | Opcode::Astore(n)
            | Opcode::Ret(n)
                // The short forms (iload_0 …) have no operand.
                if wide || matches!(real, 0x15..=0x19 | 0x36..=0x3a | 0xa9) =>
            {
                self.w.print(&n.to_string());
            }
            Opcode::Iinc(n, c) => self.w.print(&format!("{n}, {c}")),
            Opcode::Goto(j)
            | Opcode::Jsr(j)
            | Opcode::IfAcmpeq(j)
            | Opcode::IfAcmpne(j)
            | Opcode::IfIcmpeq(j)
            | Opcode::IfIcmpge(j)
            | Opcode::IfIcmpgt(j)
            | Opcode::IfIcmple(j)
            | Opcode::IfIcmplt(j)
            | Opcode::IfIcmpne(j)
            | Opcode::Ifeq(j)
            | Opcode::Ifge(j)
            | Opcode::Ifgt(j)
            | Opcode::Ifle(j)
            | Opcode::Iflt(j)
            | Opcode::Ifne(j)
            | Opcode::Ifnonnull(j)
            | Opcode::Ifnull(j) => self.w.print(&target(*j)),
            Opcode::Getfield(_)
            | Opcode::Getstatic(_)
            | Opcode::Putfield(_)
            | Opcode::Putstatic(_)
            | Opcode::Invokevirtual(_)
            | Opcode::Invokespecial(_)
            | Opcode::Invokestatic(_)
            | Opcode::New(_)
            | Opcode::Anewarray(_)
            | Opcode::Checkcast(_)
            | Opcode::Instanceof(_) => self.cp_operand(u2(pc + 1), None),
            Opcode::Invokeinterface(_, count) => self.cp_operand(u2(pc + 1), Some(u32::from(*count))),
            Opcode::Invokedynamic(_) => self.cp_operand(u2(pc + 1), Some(0)),
            Opcode::Multianewarray(_, dims) => self.cp_operand(u2(pc + 1), Some(u32::from(*dims))),
            Opcode::Newarray(t) => {
                use cafebabe::bytecode::PrimitiveArrayType as P;
                self.w.print(match t {
                    P::Boolean => " boolean",
                    P::Char => " char",
                    P::Float => " float",
                    P::Double => " double",
                    P::Byte => " byte",
                    P::Short => " short",
                    P::Int => " int",
                    P::Long => " long",
                });
            }
            Opcode::Tableswitch(t) => {
                self.w.print(&format!("{{ // {} to {}", t.low, t.high));
                self.w.indent(3);
                for (k, j) in t.jumps.iter().enumerate() {
                    if self.w.full() {
                        break;
                    }
                    let key = i64::from(t.low) + k as i64;
                    self.w.print(&format!("\n{key:12}: {}", target(*j)));
                }
                self.w.print(&format!("\n     default: {}\n}}", target(t.default)));
                self.w.indent(-3);
            }
            Opcode::Lookupswitch(t) => {
                self.w.print(&format!("{{ // {}", t.match_offsets.len()));
                self.w.indent(3);
                for (key, j) in &t.match_offsets {
                    if self.w.full() {
                        break;
                    }
                    self.w.print(&format!("\n{key:12}: {}", target(*j)));
                }
                self.w.print(&format!("\n     default: {}\n}}", target(t.default)));
                self.w.indent(-3);
            }
            _ => {}
        }
        self.w.println();
    }

    fn cp_operand(&mut self, ix: u16, extra: Option<u32>) {
        match extra {
            Some(v) => self.w.print(&format!("#{ix},  {v}")),
            None => self.w.print(&format!("#{ix}")),
        }
        self.w.tab();
        let r = self.reference(ix);
        self.w.print("// ");
        self.w.print(&r);
    }

    // ----- class attributes, as `javap -v` prints them ---------------------------------------

    fn class_attributes(&mut self) {
        let raw = self.raw;
        for a in &raw.attrs {
            if self.w.full() {
                return;
            }
            let mut r = raw.body(a);
            // Each arm reads its attribute afresh; a malformed one prints what it can.
            let _ = match &*raw.attr_name(a) {
                "NestHost" => r.u2("").map(|c| self.w.line(&format!("NestHost: {}", self.reference(c)))),
                "NestMembers" => self.class_list("NestMembers:", &mut r),
                "PermittedSubclasses" => self.class_list("PermittedSubclasses:", &mut r),
                "EnclosingMethod" => self.enclosing_method(&mut r),
                "Record" => self.record(&mut r),
                "InnerClasses" => self.inner_classes(&mut r),
                "BootstrapMethods" => self.bootstrap_methods(&mut r),
                "ModuleMainClass" => r.u2("").map(|c| {
                    self.w.print(&format!("ModuleMainClass: #{c}"));
                    self.w.tab();
                    let name = match raw.entry(c) {
                        Some(Cp::Class(n)) => java_name(&self.utf8(n)),
                        _ => format!("#{c}"),
                    };
                    self.w.line(&format!("// {name}"));
                }),
                "ModulePackages" => self.module_packages(&mut r),
                _ => Ok(()),
            };
        }
    }

    fn class_list(&mut self, title: &str, r: &mut Rd<'_>) -> Result<(), ClassFileError> {
        self.w.line(title);
        self.w.indent(1);
        let n = r.u2("")?;
        for _ in 0..n {
            if self.w.full() {
                break;
            }
            let c = r.u2("")?;
            self.w.line(&self.value(c));
        }
        self.w.indent(-1);
        Ok(())
    }

    fn enclosing_method(&mut self, r: &mut Rd<'_>) -> Result<(), ClassFileError> {
        let c = r.u2("")?;
        let m = r.u2("")?;
        self.w.print(&format!("EnclosingMethod: #{c}.#{m}"));
        self.w.tab();
        let class = match self.raw.entry(c) {
            Some(Cp::Class(n)) => java_name(&self.utf8(n)),
            _ => format!("#{c}"),
        };
        let mut s = format!("// {class}");
        if let Some(Cp::NameAndType(n, _)) = self.raw.entry(m) {
            s.push('.');
            s.push_str(&self.utf8(n));
        }
        self.w.line(&s);
        Ok(())
    }

    fn record(&mut self, r: &mut Rd<'_>) -> Result<(), ClassFileError> {
        self.w.line("Record:");
        self.w.indent(1);
        let n = r.u2("")?;
        for _ in 0..n {
            if self.w.full() {
                break;
            }
            let name = r.u2("")?;
            let desc = r.u2("")?;
            let mut sig_ix = None;
            let attrs = r.u2("")?;
            for _ in 0..attrs {
                let an = r.u2("")?;
                let len = r.u4("")? as usize;
                let mut body = r.sub(len, "")?;
                if self.raw.utf8(an).as_deref() == Some("Signature") {
                    sig_ix = Some(body.u2("")?);
                }
            }
            let descriptor = self.utf8(desc);
            let ty = sig_ix
                .and_then(|i| self.raw.utf8(i))
                .and_then(|s| SigParser::field_sig(&s))
                .or_else(|| SigParser::field_sig(&descriptor))
                .map(|t| ty_string(&t))
                .unwrap_or_else(|| descriptor.clone());
            self.w.line(&format!("{ty} {};", self.utf8(name)));
            self.w.indent(1);
            self.w.line(&format!("descriptor: {descriptor}"));
            if let Some(i) = sig_ix {
                self.w.print(&format!("Signature: #{i}"));
                self.w.tab();
                self.w.line(&format!("// {}", self.utf8(i)));
            }
            self.w.println();
            self.w.indent(-1);
        }
        self.w.indent(-1);
        Ok(())
    }

    fn inner_classes(&mut self, r: &mut Rd<'_>) -> Result<(), ClassFileError> {
        let n = r.u2("")?;
        if n == 0 {
            return Ok(());
        }
        self.w.line("InnerClasses:");
        self.w.indent(1);
        for _ in 0..n {
            if self.w.full() {
                break;
            }
            let inner = r.u2("")?;
            let outer = r.u2("")?;
            let name = r.u2("")?;
            let flags = r.u2("")?;
            let shown = if flags & ACC_INTERFACE != 0 { flags & !ACC_ABSTRACT } else { flags };
            let mut s = String::new();
            for m in modifiers(shown, INNER_CLASS_MODIFIERS) {
                s.push_str(m);
                s.push(' ');
            }
            if name != 0 {
                let _ = write!(s, "#{name}= ");
            }
            let _ = write!(s, "#{inner}");
            if outer != 0 {
                let _ = write!(s, " of #{outer}");
            }
            s.push(';');
            self.w.print(&s);
            self.w.tab();
            let mut c = String::from("// ");
            if name != 0 {
                c.push_str(&self.utf8(name));
                c.push('=');
            }
            c.push_str(&self.reference(inner));
            if outer != 0 {
                c.push_str(" of ");
                c.push_str(&self.reference(outer));
            }
            self.w.line(&c);
        }
        self.w.indent(-1);
        Ok(())
    }

    fn bootstrap_methods(&mut self, r: &mut Rd<'_>) -> Result<(), ClassFileError> {
        self.w.line("BootstrapMethods:");
        let n = r.u2("")?;
        for i in 0..n {
            if self.w.full() {
                break;
            }
            let m = r.u2("")?;
            self.w.indent(1);
            self.w.line(&format!("{i}: #{m} {}", self.value(m)));
            self.w.indent(1);
            self.w.line("Method arguments:");
            self.w.indent(1);
            let args = r.u2("")?;
            for _ in 0..args {
                if self.w.full() {
                    break;
                }
                let a = r.u2("")?;
                self.w.line(&format!("#{a} {}", self.value(a)));
            }
            self.w.indent(-3);
        }
        Ok(())
    }

    fn module_packages(&mut self, r: &mut Rd<'_>) -> Result<(), ClassFileError> {
        self.w.line("ModulePackages: ");
        self.w.indent(1);
        let n = r.u2("")?;
        for _ in 0..n {
            if self.w.full() {
                break;
            }
            let p = r.u2("")?;
            self.w.print(&format!("#{p}"));
            self.w.tab();
            let name = match self.raw.entry(p) {
                Some(Cp::Package(n)) => java_name(&self.utf8(n)),
                _ => format!("#{p}"),
            };
            self.w.line(&format!("// {name}"));
        }
        self.w.indent(-1);
        Ok(())
    }
}

// =============================================================================================
// Tests
// =============================================================================================

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};
    use std::process::Command;

    // ----- a counting allocator: the largest single allocation on the current thread ---------

    mod alloc {
        use std::alloc::{GlobalAlloc, Layout, System};
        use std::cell::Cell;

        /// The system allocator, recording per thread the largest request since [`reset`]. (It
        /// serves this unit-test binary only; the per-thread record keeps tests running in
        /// parallel out of each other's figures.)
        pub struct Counting;

        thread_local! {
            static LARGEST: Cell<usize> = const { Cell::new(0) };
        }

        fn note(size: usize) {
            let _ = LARGEST.try_with(|l| l.set(l.get().max(size)));
        }

        // SAFETY: every method forwards to the system allocator with the caller's arguments
        // unchanged; noting a size allocates nothing.
        unsafe impl GlobalAlloc for Counting {
            unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
                note(layout.size());
                // SAFETY: the caller's contract for `alloc` is the system allocator's.
                unsafe { System.alloc(layout) }
            }
            unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
                note(layout.size());
                // SAFETY: as for `alloc`.
                unsafe { System.alloc_zeroed(layout) }
            }
            unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
                note(new_size);
                // SAFETY: `ptr` came from this allocator, which is the system allocator.
                unsafe { System.realloc(ptr, layout, new_size) }
            }
            unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
                // SAFETY: `ptr` came from this allocator, which is the system allocator.
                unsafe { System.dealloc(ptr, layout) }
            }
        }

        #[global_allocator]
        static COUNTING: Counting = Counting;

        pub fn reset() {
            LARGEST.with(|l| l.set(0));
        }

        pub fn largest() -> usize {
            LARGEST.with(Cell::get)
        }
    }

    // ----- a small class-file assembler for hostile inputs -----------------------------------

    /// Builds `class T extends java/lang/Object` with one method `m()V` whose Code is `code`,
    /// plus the given extra constant-pool entries and class attributes.
    struct Asm {
        cp: Vec<Vec<u8>>,
        class_attrs: Vec<(u16, Vec<u8>)>,
        code: Vec<u8>,
        code_len_override: Option<u32>,
        code_attr_len_override: Option<u32>,
    }

    impl Asm {
        fn new() -> Self {
            let mut a = Asm {
                cp: Vec::new(),
                class_attrs: Vec::new(),
                code: vec![0xb1],
                code_len_override: None,
                code_attr_len_override: None,
            };
            a.utf8("T"); // 1
            a.entry(vec![7, 0, 1]); // 2 Class T
            a.utf8("java/lang/Object"); // 3
            a.entry(vec![7, 0, 3]); // 4 Class Object
            a.utf8("m"); // 5
            a.utf8("()V"); // 6
            a.utf8("Code"); // 7
            a
        }

        fn entry(&mut self, e: Vec<u8>) -> u16 {
            self.cp.push(e);
            self.cp.len() as u16
        }

        fn utf8(&mut self, s: &str) -> u16 {
            self.utf8_bytes(s.as_bytes())
        }

        fn utf8_bytes(&mut self, b: &[u8]) -> u16 {
            let mut e = vec![1];
            e.extend((b.len() as u16).to_be_bytes());
            e.extend(b);
            self.entry(e)
        }

        fn build(&self) -> Vec<u8> {
            let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 61];
            b.extend(((self.cp.len() + 1) as u16).to_be_bytes());
            for e in &self.cp {
                b.extend(e);
            }
            b.extend([0x00, 0x21, 0, 2, 0, 4, 0, 0, 0, 0]); // flags, this, super, no interfaces, no fields
            b.extend([0, 1, 0, 0x09, 0, 5, 0, 6, 0, 1]); // one method: static m()V, one attribute
            let mut code = vec![0, 4, 0, 4];
            code.extend(self.code_len_override.unwrap_or(self.code.len() as u32).to_be_bytes());
            code.extend(&self.code);
            code.extend([0, 0, 0, 0]); // no exception table, no attributes
            b.extend(7u16.to_be_bytes());
            b.extend(self.code_attr_len_override.unwrap_or(code.len() as u32).to_be_bytes());
            b.extend(code);
            b.extend((self.class_attrs.len() as u16).to_be_bytes());
            for (name, body) in &self.class_attrs {
                b.extend(name.to_be_bytes());
                b.extend((body.len() as u32).to_be_bytes());
                b.extend(body);
            }
            b
        }
    }

    /// Runs `f` and returns its result and the largest single allocation it made.
    fn measured<T>(f: impl FnOnce() -> T) -> (T, usize) {
        alloc::reset();
        let r = f();
        (r, alloc::largest())
    }

    /// Everything jhot does with a class file must refuse `bytes` without panicking and without
    /// any allocation bigger than 1 MiB.
    fn refused(what: &str, bytes: &[u8]) {
        let (r, largest) = measured(|| {
            (preflight(bytes).is_err(), disassemble(bytes, &JavapOptions { constant_pool: true }).is_err())
        });
        assert_eq!(r, (true, true), "{what}: must be refused");
        assert!(largest < 1 << 20, "{what}: allocated {largest} bytes at once");
    }

    #[test]
    fn the_assembler_makes_a_valid_class() {
        let a = Asm::new();
        let text = disassemble(&a.build(), &JavapOptions::default()).expect("valid");
        assert!(text.contains("public class T {"), "{text}");
        assert!(text.contains("0: return"), "{text}");
    }

    #[test]
    fn huge_switches_are_refused_without_reserving_their_size() {
        // tableswitch 0..0x7ffffffe: cafebabe 0.9 would reserve 8 GiB for its jump table.
        let mut a = Asm::new();
        a.code = vec![0x03, 0xaa, 0, 0, 0, 0, 0, 16, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xfe, 0xb1];
        refused("tableswitch of 2^31 entries", &a.build());
        // low = i32::MIN, high = i32::MAX: `high - low + 1` overflows in cafebabe.
        a.code = vec![0x03, 0xaa, 0, 0, 0, 0, 0, 16, 0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xb1];
        refused("tableswitch over all of i32", &a.build());
        a.code = vec![0x03, 0xab, 0, 0, 0, 0, 0, 12, 0x7f, 0xff, 0xff, 0xff, 0xb1];
        refused("lookupswitch of 2^31 pairs", &a.build());
        a.code = vec![0x03, 0xab, 0, 0, 0, 0, 0, 12, 0xff, 0xff, 0xff, 0xff, 0xb1];
        refused("lookupswitch of -1 pairs", &a.build());
    }

    #[test]
    fn length_fields_of_2_pow_31_allocate_nothing_of_that_size() {
        let mut a = Asm::new();
        a.code_len_override = Some(0x8000_0000);
        refused("code_length 2^31", &a.build());
        let mut a = Asm::new();
        a.code_attr_len_override = Some(0x8000_0000);
        refused("attribute_length 2^31", &a.build());
        let mut a = Asm::new();
        let name = a.utf8("Whatever");
        a.class_attrs.push((name, vec![]));
        let mut bytes = a.build();
        let n = bytes.len();
        bytes[n - 4..].copy_from_slice(&0xFFFF_FFFFu32.to_be_bytes());
        refused("unknown attribute of 4 GiB", &bytes);
        // A constant pool of 65535 entries in a few bytes.
        let mut bytes = Asm::new().build();
        bytes[8..10].copy_from_slice(&0xFFFFu16.to_be_bytes());
        refused("constant_pool_count 65535", &bytes);
    }

    #[test]
    fn branches_out_of_range_are_refused() {
        let mut a = Asm::new();
        a.code = vec![0xc8, 0x7f, 0xff, 0xff, 0xff, 0xb1]; // goto_w i32::MAX (overflows in cafebabe)
        refused("goto_w +2^31-1", &a.build());
        a.code = vec![0xa7, 0x80, 0x00, 0xb1]; // goto -32768
        refused("goto before the code", &a.build());
        a.code = vec![0xa7, 0x00, 0x03]; // goto past the end
        refused("goto past the end", &a.build());
    }

    #[test]
    fn deep_nesting_is_refused_without_recursing() {
        // An annotation value nested 100,000 deep: cafebabe recurses once per level.
        let mut a = Asm::new();
        let rva = a.utf8("RuntimeVisibleAnnotations");
        let ty = a.utf8("LA;");
        let el = a.utf8("v");
        let mut body = vec![0, 1];
        body.extend(ty.to_be_bytes());
        body.extend([0, 1]);
        body.extend(el.to_be_bytes());
        for _ in 0..100_000 {
            body.extend([b'[', 0, 1]);
        }
        body.extend([b'Z', 0, 1]);
        a.class_attrs.push((rva, body));
        refused("annotation values nested 100,000 deep", &a.build());

        // Code attributes nested in Code attributes.
        let mut a = Asm::new();
        let mut attr = Vec::new();
        for _ in 0..1000 {
            let mut code = vec![0, 1, 0, 1, 0, 0, 0, 1, 0xb1, 0, 0, 0, 1];
            code.extend(7u16.to_be_bytes());
            code.extend((attr.len() as u32).to_be_bytes());
            code.extend(&attr);
            attr = code;
        }
        a.class_attrs.push((7, attr));
        refused("Code attributes nested 1000 deep", &a.build());
    }

    #[test]
    fn enclosing_method_with_a_malformed_descriptor_is_refused() {
        // cafebabe 0.9 panics on this one ("Attempting to get utf-8 data from non-utf8 …").
        let mut a = Asm::new();
        let name = a.utf8("x");
        let desc = a.utf8_bytes(&[0xff, 0xfe]);
        let nat = a.entry([vec![12], name.to_be_bytes().to_vec(), desc.to_be_bytes().to_vec()].concat());
        let em = a.utf8("EnclosingMethod");
        a.class_attrs.push((em, [4u16.to_be_bytes(), nat.to_be_bytes()].concat()));
        refused("EnclosingMethod with a non-UTF-8 descriptor", &a.build());
    }

    #[test]
    fn output_is_capped() {
        // 13,000 instructions that each print a 60,000-character string: 780 MB uncapped.
        let mut a = Asm::new();
        let s = a.utf8(&"x".repeat(60_000));
        let string = a.entry([vec![8], s.to_be_bytes().to_vec()].concat());
        a.code = Vec::new();
        for _ in 0..13_000 {
            a.code.extend([0x13]);
            a.code.extend(string.to_be_bytes());
            a.code.push(0x57);
        }
        a.code.push(0xb1);
        let text = disassemble(&a.build(), &JavapOptions::default()).expect("valid");
        assert!(text.len() <= MAX_OUTPUT + 100, "{} bytes", text.len());
        assert!(text.ends_with(&format!("... (output truncated at {MAX_OUTPUT} bytes)\n")));
    }

    #[test]
    fn every_truncation_of_a_real_class_is_an_error() {
        for seed in seeds().iter().take(4) {
            let b = std::fs::read(seed).expect("seed");
            for len in 0..b.len() {
                assert!(preflight(&b[..len]).is_err(), "{}: truncated at {len}", seed.display());
                assert!(disassemble(&b[..len], &JavapOptions::default()).is_err());
            }
        }
    }

    // ----- deterministic mutation testing over the fuzz seeds ---------------------------------

    /// The fuzzers' seed corpus: real class files from javac 8, 17 and 25.
    fn seeds() -> Vec<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/fixtures/seeds");
        let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "class"))
            .collect();
        v.sort();
        assert!(v.len() >= 20, "expected the seed corpus in {}", dir.display());
        v
    }

    struct XorShift(u64);

    impl XorShift {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n.max(1) as u64) as usize
        }
    }

    /// One random change, of the kinds that find bugs in binary parsers: bit flips, interesting
    /// values over 1, 2 or 4 bytes, truncation, insertion, deletion, duplicated ranges.
    fn mutate(rng: &mut XorShift, b: &mut Vec<u8>) {
        const INTERESTING: [u32; 10] = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fff_ffff, 0x8000_0000];
        if b.is_empty() {
            b.push(0);
        }
        let at = rng.below(b.len());
        match rng.below(8) {
            0 => b[at] ^= 1 << rng.below(8),
            1 => b[at] = INTERESTING[rng.below(5)] as u8,
            2 => {
                let v = (INTERESTING[rng.below(INTERESTING.len())] as u16).to_be_bytes();
                for (k, x) in v.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + k) {
                        *y = *x;
                    }
                }
            }
            3 => {
                let v = INTERESTING[rng.below(INTERESTING.len())].to_be_bytes();
                for (k, x) in v.iter().enumerate() {
                    if let Some(y) = b.get_mut(at + k) {
                        *y = *x;
                    }
                }
            }
            4 => b.truncate(at),
            5 => b.insert(at, rng.next() as u8),
            6 => {
                b.remove(at);
            }
            _ => {
                let len = rng.below(64).min(b.len() - at);
                let chunk = b[at..at + len].to_vec();
                let to = rng.below(b.len());
                b.splice(to..to, chunk);
            }
        }
    }

    #[test]
    fn mutated_real_classes_never_panic_or_allocate_much() {
        let seeds = seeds();
        let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
        let (mut cases, mut ok) = (0, 0);
        for seed in &seeds {
            let original = std::fs::read(seed).expect("seed");
            for round in 0..120 {
                let mut b = original.clone();
                for _ in 0..=(round % 4) {
                    mutate(&mut rng, &mut b);
                }
                let (r, largest) = measured(|| {
                    let pre = preflight(&b).is_ok();
                    let parsed = for_cafebabe(&b).map(|c| cafebabe::parse_class(&c).is_ok()).unwrap_or(false);
                    let text = disassemble(&b, &JavapOptions { constant_pool: round % 2 == 0 });
                    (pre, parsed, text.map(|t| t.len()))
                });
                cases += 1;
                if let (_, _, Ok(len)) = r {
                    ok += 1;
                    assert!(len <= MAX_OUTPUT + 100);
                }
                assert!(r.0 || r.2.is_err(), "disassembled what preflight refused");
                // Output and parse trees grow with the input; nothing else may.
                assert!(
                    largest < 64 * b.len() + (1 << 18),
                    "{}: {largest} bytes at once for {} bytes",
                    seed.display(),
                    b.len()
                );
            }
        }
        assert!(cases >= 3000, "{cases} cases");
        assert!(ok > 0, "no mutation was still a valid class: the mutator is too coarse");
    }

    // ----- the real javap, on classes compiled by the real javac --------------------------------

    /// JDK 17's `bin/` (javac and javap): /usr/lib/jvm/java-17-openjdk-amd64, `$JAVA_HOME`, or the
    /// PATH's javac if it is JDK 17.
    fn jdk17_bin() -> PathBuf {
        let mut candidates = vec![PathBuf::from("/usr/lib/jvm/java-17-openjdk-amd64/bin")];
        if let Some(h) = std::env::var_os("JAVA_HOME") {
            candidates.push(PathBuf::from(h).join("bin"));
        }
        if let Ok(out) = Command::new("sh").args(["-c", "command -v javac"]).output()
            && let Ok(p) = std::fs::canonicalize(String::from_utf8_lossy(&out.stdout).trim())
            && let Some(dir) = p.parent()
        {
            candidates.push(dir.to_path_buf());
        }
        for bin in candidates {
            let Ok(v) = Command::new(bin.join("javac")).arg("-version").output() else { continue };
            let v = String::from_utf8_lossy(&v.stdout).to_string() + &String::from_utf8_lossy(&v.stderr);
            if v.contains("javac 17") && bin.join("javap").is_file() {
                return bin;
            }
        }
        panic!("these tests compare with JDK 17's javap: install openjdk-17-jdk-headless or set JAVA_HOME to a JDK 17");
    }

    fn run(cmd: &mut Command) -> String {
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        assert!(
            out.status.success(),
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("UTF-8 output")
    }

    fn class_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                class_files(&p, out);
            } else if p.extension().is_some_and(|x| x == "class") {
                out.push(p);
            }
        }
        out.sort();
    }

    /// Compiles the seed sources that JDK 17 can compile, several ways.
    fn compiled_with_jdk17(bin: &Path, tmp: &Path) -> Vec<PathBuf> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fuzz/fixtures/seeds-src");
        let java = |dir: &str| -> Vec<PathBuf> {
            let mut v = Vec::new();
            let mut stack = vec![src.join(dir)];
            while let Some(d) = stack.pop() {
                for e in std::fs::read_dir(&d).expect("sources") {
                    let p = e.expect("entry").path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "java") {
                        v.push(p);
                    }
                }
            }
            v
        };
        let mut classes = Vec::new();
        for (name, dir, flags) in [
            ("plain", "j17", &["--release", "17"][..]),
            ("debug", "j17", &["--release", "17", "-g", "-parameters"][..]),
            ("none", "j17", &["--release", "17", "-g:none"][..]),
            ("old", "j8", &["--release", "8", "-g"][..]),
            ("module", "mod", &["--release", "17"][..]),
        ] {
            let out = tmp.join(name);
            run(Command::new(bin.join("javac"))
                .args(["-nowarn", "-Xlint:none", "-d"])
                .arg(&out)
                .args(flags)
                .args(java(dir)));
            class_files(&out, &mut classes);
        }
        classes
    }

    /// Lines up to the class's closing `}` (what `javap -c -p -l` prints), trailing spaces trimmed.
    fn body(text: &str) -> Vec<String> {
        let lines: Vec<String> = text.lines().map(|l| l.trim_end().to_owned()).collect();
        let end = lines.iter().rposition(|l| l == "}").map_or(lines.len(), |i| i + 1);
        lines[..end].to_vec()
    }

    /// `javap -v`'s sections that [`disassemble`] prints too: the header lines and the constant
    /// pool between the class line and `{`, and the class attributes after `}` it knows.
    fn verbose_sections(text: &str, from_javap: bool) -> Vec<String> {
        const KEEP: [&str; 9] = [
            "NestHost:",
            "NestMembers:",
            "PermittedSubclasses:",
            "Record:",
            "InnerClasses:",
            "BootstrapMethods:",
            "EnclosingMethod:",
            "ModulePackages:",
            "ModuleMainClass:",
        ];
        let mut out = Vec::new();
        let (mut state, mut keep) = (0, false);
        for l in text.lines().map(str::trim_end) {
            match state {
                0 if l.starts_with("  minor version:") => {
                    state = 1;
                    out.push(l.to_owned());
                }
                0 => {}
                1 if l == "{" => state = 2,
                1 => out.push(l.to_owned()),
                2 if l == "}" => state = 3,
                2 => {}
                _ => {
                    if !l.is_empty() && !l.starts_with(' ') {
                        keep = KEEP.iter().any(|k| l.starts_with(k));
                    }
                    if keep {
                        out.push(l.to_owned());
                    }
                }
            }
        }
        let _ = from_javap;
        out
    }

    fn first_difference(what: &str, theirs: &[String], mine: &[String]) -> Option<String> {
        let i = theirs.iter().zip(mine).position(|(a, b)| a != b).unwrap_or(theirs.len().min(mine.len()));
        if i == theirs.len() && i == mine.len() {
            return None;
        }
        let show = |v: &[String]| v.iter().skip(i.saturating_sub(3)).take(7).cloned().collect::<Vec<_>>().join("\n");
        Some(format!(
            "{what}: first difference at line {}\n--- javap:\n{}\n--- jhot:\n{}",
            i + 1,
            show(theirs),
            show(mine)
        ))
    }

    #[test]
    fn matches_jdk17_javap_line_for_line() {
        let bin = jdk17_bin();
        let tmp = tempfile::tempdir().expect("tempdir");
        let classes = compiled_with_jdk17(&bin, tmp.path());
        assert!(classes.len() >= 40, "{} classes", classes.len());
        let mut failures = Vec::new();
        let mut instructions = 0;
        for chunk in classes.chunks(25) {
            let theirs = run(Command::new(bin.join("javap")).args(["-c", "-p", "-l"]).args(chunk));
            let theirs_v = run(Command::new(bin.join("javap")).args(["-v", "-p"]).args(chunk));
            // javap prints the classes one after the other; split at each class's closing `}`
            // and at the start of each `Classfile` block.
            let mut theirs_bodies = Vec::new();
            let mut cur = String::new();
            for l in theirs.lines() {
                cur.push_str(l);
                cur.push('\n');
                if l == "}" {
                    theirs_bodies.push(std::mem::take(&mut cur));
                }
            }
            let theirs_v: Vec<&str> = theirs_v.split("Classfile ").skip(1).collect();
            assert_eq!(theirs_bodies.len(), chunk.len());
            assert_eq!(theirs_v.len(), chunk.len());
            for (k, class) in chunk.iter().enumerate() {
                let bytes = std::fs::read(class).expect("class");
                let mine = disassemble(&bytes, &JavapOptions::default()).expect("disassembles");
                let (t, m) = (body(&theirs_bodies[k]), body(&mine));
                instructions += t
                    .iter()
                    .filter(|l| {
                        l.len() > 10
                            && l.as_bytes()[..6].iter().all(|c| *c == b' ' || c.is_ascii_digit())
                            && l.contains(": ")
                    })
                    .count();
                failures.extend(first_difference(&format!("{} (-c -p -l)", class.display()), &t, &m));
                let mine_v = disassemble(&bytes, &JavapOptions { constant_pool: true }).expect("disassembles");
                let (t, m) = (verbose_sections(theirs_v[k], true), verbose_sections(&mine_v, false));
                assert!(t.iter().any(|l| l == "Constant pool:"), "{}", class.display());
                failures.extend(first_difference(&format!("{} (-v sections)", class.display()), &t, &m));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} classes differ:\n\n{}",
            failures.len(),
            classes.len(),
            failures.join("\n\n")
        );
        assert!(instructions > 1000, "only {instructions} instruction lines compared");
    }

    #[test]
    fn java25_pattern_switch_with_dynamic_constant_arguments() {
        // cafebabe alone refuses this class (its typeSwitch takes CONSTANT_Dynamic arguments).
        let seed = seeds().into_iter().find(|p| p.ends_with("j25-seeds25.Modern.class")).expect("seed");
        let b = std::fs::read(&seed).expect("seed");
        assert!(cafebabe::parse_class(&b).is_err(), "cafebabe learnt CONSTANT_Dynamic arguments: drop the workaround");
        assert!(matches!(for_cafebabe(&b), Ok(Cow::Owned(_))));
        let text = disassemble(&b, &JavapOptions::default()).expect("disassembles");
        assert!(text.contains("REF_invokeStatic java/lang/runtime/SwitchBootstraps.typeSwitch:"), "{text}");
        assert!(text.contains(":invoke:Ljava/lang/Enum$EnumDesc;"), "{text}");
        assert!(text.contains("invokedynamic"), "{text}");
    }

    // ----- the pieces ---------------------------------------------------------------------------

    #[test]
    fn numbers_print_as_java_prints_them() {
        let cases: [(f64, &str); 12] = [
            (2.5, "2.5"),
            (100.0, "100.0"),
            (0.001, "0.001"),
            (1e7, "1.0E7"),
            (1234567.0, "1234567.0"),
            (1e-4, "1.0E-4"),
            (1e300, "1.0E300"),
            (-0.0, "-0.0"),
            (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
            (5e-324, "4.9E-324"),
            (f64::NAN, "NaN"),
            (f64::NEG_INFINITY, "-Infinity"),
        ];
        for (v, s) in cases {
            assert_eq!(java_double(v), s, "{v:e}");
        }
        assert_eq!(java_float(3.4028235e38), "3.4028235E38");
        assert_eq!(java_float(1.4e-45), "1.4E-45");
        assert_eq!(java_float(1.5), "1.5");
        assert_eq!(java_float(329.0 / 256.0), "1.2851562"); // 1.28515625, a tie: the even digit
        assert_eq!(java_float(0.1), "0.1");
    }

    #[test]
    fn names_are_quoted_as_javap_quotes_them() {
        assert_eq!(check_name("java/lang/Object"), "java/lang/Object");
        assert_eq!(check_name("lambda$run$0"), "lambda$run$0");
        assert_eq!(check_name("<init>"), "\"<init>\"");
        assert_eq!(check_name("[Ljava/lang/String;"), "\"[Ljava/lang/String;\"");
        assert_eq!(check_name("a//b"), "\"a//b\"");
        assert_eq!(check_name(""), "\"\"");
        assert_eq!(escape_utf8("a\"b\n\u{1}"), "a\\\"b\\n\\u0001");
    }

    #[test]
    fn signatures_print_as_java_types() {
        let m = SigParser::method_sig(
            "<T:Ljava/lang/Object;U::Ljava/lang/Comparable<-TU;>;>(Ljava/util/Map<+TT;[TU;>;[[I*)V^Ljava/io/IOException;",
        );
        assert!(m.is_none(), "`*` is not a type");
        let m = SigParser::method_sig(
            "<T:Ljava/lang/Object;U::Ljava/lang/Comparable<-TU;>;>(Ljava/util/Map<+TT;[TU;>;[[I)V^TT;",
        )
        .expect("parses");
        let mut s = String::new();
        fmt_type_params(&m.params, &mut s);
        assert_eq!(s, "<T, U extends java.lang.Comparable<? super U>>");
        assert_eq!(join_types(&m.args, ", "), "java.util.Map<? extends T, U[]>, int[][]");
        assert_eq!(join_types(&m.throws, ", "), "T");
        let f = SigParser::field_sig("Lp/Outer<TT;>.Inner<*>;").expect("parses");
        assert_eq!(ty_string(&f), "p.Outer<T>.Inner<?>");
        // Nesting beyond the limit is refused, not followed.
        let deep = format!("{}I{}", "Ljava/util/List<".repeat(1000), ">;".repeat(1000));
        assert!(SigParser::field_sig(&deep).is_none());
    }

    #[test]
    fn modified_utf8_is_read_as_cafebabe_reads_it() {
        assert_eq!(cafebabe_utf8(b"abc").as_deref(), Some("abc"));
        assert_eq!(cafebabe_utf8(&[0xc0, 0x80]).as_deref(), Some("\0"));
        // A surrogate pair in CESU-8 form is one character.
        assert_eq!(cafebabe_utf8(&[0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]).as_deref(), Some("\u{1f600}"));
        // An unpaired surrogate is not UTF-8 for cafebabe; javap shows `?`.
        assert_eq!(cafebabe_utf8(&[0x61, 0xed, 0xa0, 0xbd]), None);
        assert_eq!(decode_modified_utf8(&[0x61, 0xed, 0xa0, 0xbd]), "a?");
        assert_eq!(cafebabe_utf8(&[0x61, 0x00]), Some(Cow::Borrowed("a\0")));
    }
}
