//! The hostile-input check every class file passes before cafebabe sees it (cafebabe 0.9 is
//! used by [`read`](crate::read) and by [`javap`](crate::javap)).
//!
//! cafebabe 0.9 can be made to panic, to overflow the stack or to reserve many gigabytes by a few
//! hostile bytes (a `tableswitch` whose range is 2^31 entries reserves 8 GiB before it reads one;
//! nested annotation values recurse without limit; a branch offset near `i32::MAX` overflows; an
//! `EnclosingMethod` whose name-and-type has a malformed descriptor panics). [`preflight`] walks
//! the class first, bounded by the input's length, and refuses every such file: after it, cafebabe
//! neither panics nor recurses deeply, and every count it reserves room for is backed by bytes of
//! the input. cafebabe also refuses real Java 21+ class files (a bootstrap argument that is a
//! dynamic constant); [`for_cafebabe`] works around that. Every cafebabe caller in jhot should
//! parse what [`for_cafebabe`] returns, with [`parse_unchecked`].
//!
//! The walk keeps what javap needs and cafebabe forgets: the constant pool with its indices
//! ([`RawClass`]).

use std::borrow::Cow;

use cafebabe::{ClassFile, ParseOptions};

use crate::ClassFileError;
use crate::opcodes::{OPCODE_SIZE, op};
use crate::reader::{Cur, bad};

/// How deeply attributes may nest (Code in Code, Record components' attributes): javac nests 2.
const MAX_ATTRIBUTE_DEPTH: u32 = 8;
/// How deeply annotation element values may nest (arrays of annotations of arrays …).
const MAX_ANNOTATION_DEPTH: u32 = 64;

/// Checks that cafebabe can be let loose on `bytes` (see the module documentation): `Ok` means
/// cafebabe will neither panic nor recurse deeply nor reserve memory out of proportion to the
/// input. It also refuses most malformed files cafebabe would refuse; it never refuses a file
/// cafebabe parses that a JVM could load.
pub fn preflight(bytes: &[u8]) -> Result<(), ClassFileError> {
    RawClass::read(bytes).map(|_| ())
}

/// [`preflight`], then the bytes to give cafebabe: `bytes` itself, or a copy that works around
/// cafebabe 0.9's one gap for Java 25 class files. cafebabe refuses a bootstrap-method argument
/// that is a dynamic constant (`CONSTANT_Dynamic`), which javac 21+ emits for a pattern `switch`
/// with qualified enum constants as labels (`case Color.RED ->`: `SwitchBootstraps.typeSwitch`
/// gets `EnumDesc` constants). In the copy each such argument refers to its bootstrap method's
/// own method handle instead, so cafebabe's `BootstrapArgument`s are not the file's for those
/// arguments (a comparison of bootstrap arguments must read them from the original bytes);
/// everything else cafebabe reports is unchanged.
pub fn for_cafebabe(bytes: &[u8]) -> Result<Cow<'_, [u8]>, ClassFileError> {
    Ok(RawClass::read(bytes)?.for_cafebabe())
}

/// cafebabe's full parse (every constant, and every method's bytecode) of what [`for_cafebabe`]
/// returned.
pub(crate) fn parse_unchecked(bytes: &[u8]) -> Result<ClassFile<'_>, ClassFileError> {
    let mut opts = ParseOptions::default();
    opts.parse_bytecode(true);
    cafebabe::parse_class_with_options(bytes, &opts)
        .map_err(|e| ClassFileError { reason: format!("{e} (truncated or corrupt?)") })
}

/// One constant-pool entry, with the indices it refers to.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Cp<'a> {
    /// Index 0, and the slot after a Long or Double.
    Empty,
    Utf8(&'a [u8]),
    Integer(i32),
    Float(f32),
    Long(i64),
    Double(f64),
    Class(u16),
    String(u16),
    Fieldref(u16, u16),
    Methodref(u16, u16),
    InterfaceMethodref(u16, u16),
    NameAndType(u16, u16),
    MethodHandle(u8, u16),
    MethodType(u16),
    Dynamic(u16, u16),
    InvokeDynamic(u16, u16),
    Module(u16),
    Package(u16),
}

/// A class attribute's name and body (a range of the class file).
#[derive(Debug, Clone, Copy)]
pub(crate) struct RawAttr {
    pub name: u16,
    start: usize,
    end: usize,
}

/// What the raw walk keeps: the pool with its indices and the class attributes' bodies.
pub(crate) struct RawClass<'a> {
    bytes: &'a [u8],
    pub minor: u16,
    pub major: u16,
    pub cp: Vec<Cp<'a>>,
    pub access: u16,
    pub this_class: u16,
    pub super_class: u16,
    pub interfaces: usize,
    pub fields: usize,
    pub methods: usize,
    pub attrs: Vec<RawAttr>,
    /// Where bootstrap-method arguments that are dynamic constants are (their offsets in the
    /// file), with their bootstrap method's handle (see [`for_cafebabe`]).
    condy_args: Vec<(usize, u16)>,
}

impl<'a> RawClass<'a> {
    /// Walks the whole class file as cafebabe will, bounded by its length (the preflight).
    pub fn read(bytes: &'a [u8]) -> Result<Self, ClassFileError> {
        let mut r = Cur::new(bytes);
        if r.u4_for("magic")? != 0xCAFE_BABE {
            return Err(bad("it does not start with the class-file magic 0xCAFEBABE"));
        }
        let minor = r.u2_for("minor_version")?;
        let major = r.u2_for("major_version")?;
        let count = r.u2_for("constant_pool_count")?;
        let mut cp = Vec::with_capacity(usize::from(count).min(r.remaining() / 3 + 1));
        cp.push(Cp::Empty);
        while cp.len() < usize::from(count) {
            let i = cp.len();
            let what = format!("constant pool entry {i}");
            let tag = r.u1_for(&what)?;
            let min = |v: u16| -> Result<(), ClassFileError> {
                if major < v {
                    Err(bad(format!("{what}: tag {tag} needs class-file version {v} or later, not {major}")))
                } else {
                    Ok(())
                }
            };
            let e = match tag {
                1 => {
                    let n = r.u2_for(&what)?;
                    Cp::Utf8(r.take_for(usize::from(n), &what)?)
                }
                3 => Cp::Integer(r.u4_for(&what)? as i32),
                4 => Cp::Float(f32::from_bits(r.u4_for(&what)?)),
                5 => Cp::Long(((u64::from(r.u4_for(&what)?) << 32) | u64::from(r.u4_for(&what)?)) as i64),
                6 => Cp::Double(f64::from_bits((u64::from(r.u4_for(&what)?) << 32) | u64::from(r.u4_for(&what)?))),
                7 => Cp::Class(r.u2_for(&what)?),
                8 => Cp::String(r.u2_for(&what)?),
                9 => Cp::Fieldref(r.u2_for(&what)?, r.u2_for(&what)?),
                10 => Cp::Methodref(r.u2_for(&what)?, r.u2_for(&what)?),
                11 => Cp::InterfaceMethodref(r.u2_for(&what)?, r.u2_for(&what)?),
                12 => Cp::NameAndType(r.u2_for(&what)?, r.u2_for(&what)?),
                15 => {
                    min(51)?;
                    Cp::MethodHandle(r.u1_for(&what)?, r.u2_for(&what)?)
                }
                16 => {
                    min(51)?;
                    Cp::MethodType(r.u2_for(&what)?)
                }
                17 => {
                    min(55)?;
                    Cp::Dynamic(r.u2_for(&what)?, r.u2_for(&what)?)
                }
                18 => {
                    min(51)?;
                    Cp::InvokeDynamic(r.u2_for(&what)?, r.u2_for(&what)?)
                }
                19 => {
                    min(53)?;
                    Cp::Module(r.u2_for(&what)?)
                }
                20 => {
                    min(53)?;
                    Cp::Package(r.u2_for(&what)?)
                }
                t => return Err(bad(format!("{what}: unknown tag {t}"))),
            };
            cp.push(e);
            if matches!(e, Cp::Long(_) | Cp::Double(_)) {
                cp.push(Cp::Empty);
            }
        }
        let access = r.u2_for("access_flags")?;
        let this_class = r.u2_for("this_class")?;
        let super_class = r.u2_for("super_class")?;
        let interfaces = usize::from(r.u2_for("interfaces_count")?);
        r.take_for(2 * interfaces, "interfaces")?;
        let w = Walk { cp: &cp };
        let mut members = [0usize; 2];
        for (k, kind) in ["field", "method"].into_iter().enumerate() {
            let n = r.u2_for(&format!("{kind}s_count"))?;
            members[k] = usize::from(n);
            for i in 0..n {
                let what = format!("{kind} {i}");
                r.take_for(6, &what)?;
                w.attributes(&mut r, 0, &what, None)?;
            }
        }
        let mut attrs = Vec::new();
        w.attributes(&mut r, 0, "class", Some(&mut attrs))?;
        if r.remaining() != 0 {
            return Err(bad(format!("{} bytes after the end of the class file", r.remaining())));
        }
        let mut condy_args = Vec::new();
        for a in &attrs {
            if w.name(a.name).as_deref() == Some("BootstrapMethods") {
                // Malformed tables are cafebabe's to report.
                let _ = condy_bootstrap_args(&cp, Cur::within(bytes, a.start, a.end), &mut condy_args);
            }
        }
        Ok(RawClass {
            bytes,
            minor,
            major,
            cp,
            access,
            this_class,
            super_class,
            interfaces,
            fields: members[0],
            methods: members[1],
            attrs,
            condy_args,
        })
    }

    /// The bytes to give cafebabe (see [`for_cafebabe`]).
    pub fn for_cafebabe(&self) -> Cow<'a, [u8]> {
        if self.condy_args.is_empty() {
            return Cow::Borrowed(self.bytes);
        }
        let mut copy = self.bytes.to_vec();
        for &(at, handle) in &self.condy_args {
            copy[at..at + 2].copy_from_slice(&handle.to_be_bytes());
        }
        Cow::Owned(copy)
    }

    pub fn entry(&self, i: u16) -> Option<Cp<'a>> {
        self.cp.get(usize::from(i)).copied()
    }

    /// The raw bytes of a Utf8 entry.
    pub fn utf8_bytes(&self, i: u16) -> Option<&'a [u8]> {
        match self.entry(i)? {
            Cp::Utf8(b) => Some(b),
            _ => None,
        }
    }

    pub fn body(&self, a: &RawAttr) -> Cur<'a> {
        Cur::within(self.bytes, a.start, a.end)
    }
}

/// The attribute walk of the preflight.
struct Walk<'p, 'a> {
    cp: &'p [Cp<'a>],
}

impl Walk<'_, '_> {
    /// The attribute's name as cafebabe sees it: only a well-formed Utf8 entry has one (cafebabe
    /// fails on anything else, so nothing is checked further then).
    fn name(&self, i: u16) -> Option<Cow<'_, str>> {
        match self.cp.get(usize::from(i))? {
            Cp::Utf8(b) => cafebabe_utf8(b),
            _ => None,
        }
    }

    fn attributes(
        &self,
        r: &mut Cur<'_>,
        depth: u32,
        what: &str,
        mut keep: Option<&mut Vec<RawAttr>>,
    ) -> Result<(), ClassFileError> {
        if depth > MAX_ATTRIBUTE_DEPTH {
            return Err(bad(format!("{what}: attributes nested more than {MAX_ATTRIBUTE_DEPTH} deep")));
        }
        let n = r.u2_for(&format!("{what}: attributes_count"))?;
        for i in 0..n {
            let name_ix = r.u2_for(&format!("{what}: attribute {i}"))?;
            let len = r.u4_for(&format!("{what}: attribute {i}"))? as usize;
            let name = self.name(name_ix);
            let what = format!("{what}: attribute {i} ({})", name.as_deref().unwrap_or("?"));
            let mut body = r.sub(len, &what)?;
            if let Some(v) = keep.as_deref_mut() {
                v.push(RawAttr { name: name_ix, start: body.pos, end: body.end() });
            }
            let Some(name) = name else { continue };
            let checked = match &*name {
                "Code" => self.code(&mut body, depth, &what)?,
                "Record" => {
                    let n = body.u2_for(&what)?;
                    for j in 0..n {
                        let what = format!("{what}: component {j}");
                        body.take_for(4, &what)?;
                        self.attributes(&mut body, depth + 1, &what, None)?;
                    }
                    true
                }
                "RuntimeVisibleAnnotations" | "RuntimeInvisibleAnnotations" => {
                    let n = body.u2_for(&what)?;
                    for _ in 0..n {
                        annotation(&mut body, 0, &what)?;
                    }
                    true
                }
                "RuntimeVisibleParameterAnnotations" | "RuntimeInvisibleParameterAnnotations" => {
                    let n = body.u1_for(&what)?;
                    for _ in 0..n {
                        let m = body.u2_for(&what)?;
                        for _ in 0..m {
                            annotation(&mut body, 0, &what)?;
                        }
                    }
                    true
                }
                "RuntimeVisibleTypeAnnotations" | "RuntimeInvisibleTypeAnnotations" => {
                    let n = body.u2_for(&what)?;
                    for _ in 0..n {
                        type_annotation(&mut body, &what)?;
                    }
                    true
                }
                "AnnotationDefault" => {
                    element_value(&mut body, 0, &what)?;
                    true
                }
                // The flat tables: cafebabe reserves room for their count before reading them.
                "LineNumberTable" => table(&mut body, 2, 4, &what)?,
                "LocalVariableTable" | "LocalVariableTypeTable" => table(&mut body, 2, 10, &what)?,
                "InnerClasses" => table(&mut body, 2, 8, &what)?,
                "Exceptions" | "NestMembers" | "PermittedSubclasses" | "ModulePackages" => {
                    table(&mut body, 2, 2, &what)?
                }
                "MethodParameters" => table(&mut body, 1, 4, &what)?,
                "StackMapTable" => {
                    stack_map_table(&mut body, &what)?;
                    true
                }
                "BootstrapMethods" => {
                    let n = body.u2_for(&what)?;
                    for _ in 0..n {
                        body.u2_for(&what)?;
                        let args = body.u2_for(&what)?;
                        body.take_for(2 * usize::from(args), &what)?;
                    }
                    true
                }
                "Module" => {
                    body.take_for(6, &what)?;
                    let requires = body.u2_for(&what)?;
                    body.take_for(6 * usize::from(requires), &what)?;
                    for _ in 0..2 {
                        // exports, then opens
                        let n = body.u2_for(&what)?;
                        for _ in 0..n {
                            body.take_for(4, &what)?;
                            let to = body.u2_for(&what)?;
                            body.take_for(2 * usize::from(to), &what)?;
                        }
                    }
                    let uses = body.u2_for(&what)?;
                    body.take_for(2 * usize::from(uses), &what)?;
                    let provides = body.u2_for(&what)?;
                    for _ in 0..provides {
                        body.u2_for(&what)?;
                        let with = body.u2_for(&what)?;
                        body.take_for(2 * usize::from(with), &what)?;
                    }
                    true
                }
                "EnclosingMethod" => {
                    // cafebabe (0.9) panics on a method name-and-type whose descriptor is not
                    // valid modified UTF-8 (it checks only that it is a Utf8 entry).
                    if len == 4 {
                        body.u2_for(&what)?;
                        let m = body.u2_for(&what)?;
                        if let Some(Cp::NameAndType(_, d)) = self.cp.get(usize::from(m))
                            && let Some(Cp::Utf8(b)) = self.cp.get(usize::from(*d))
                            && cafebabe_utf8(b).is_none()
                        {
                            return Err(bad(format!("{what}: the method's descriptor is not valid modified UTF-8")));
                        }
                    }
                    false
                }
                _ => false,
            };
            if checked && body.remaining() != 0 {
                return Err(bad(format!("{what}: {} bytes left over at its end", body.remaining())));
            }
        }
        Ok(())
    }

    /// A Code attribute; returns whether it was walked to its end.
    fn code(&self, r: &mut Cur<'_>, depth: u32, what: &str) -> Result<bool, ClassFileError> {
        r.take_for(4, what)?;
        let len = r.u4_for(what)? as usize;
        let code = r.take_for(len, what)?;
        check_bytecode(code).map_err(|e| bad(format!("{what}: {}", e.reason)))?;
        let n = r.u2_for(what)?;
        r.take_for(8 * usize::from(n), &format!("{what}: exception table"))?;
        self.attributes(r, depth + 1, what, None)?;
        Ok(true)
    }
}

/// A count (`count_size` bytes) and that many entries of `entry` bytes.
fn table(r: &mut Cur<'_>, count_size: usize, entry: usize, what: &str) -> Result<bool, ClassFileError> {
    let n = if count_size == 1 { usize::from(r.u1_for(what)?) } else { usize::from(r.u2_for(what)?) };
    r.take_for(n * entry, what)?;
    Ok(true)
}

fn stack_map_table(r: &mut Cur<'_>, what: &str) -> Result<(), ClassFileError> {
    fn types(r: &mut Cur<'_>, n: usize, what: &str) -> Result<(), ClassFileError> {
        for _ in 0..n {
            match r.u1_for(what)? {
                0..=6 => {}
                7 | 8 => {
                    r.u2_for(what)?;
                }
                t => return Err(bad(format!("{what}: unknown verification type {t}"))),
            }
        }
        Ok(())
    }
    let n = r.u2_for(what)?;
    for _ in 0..n {
        match r.u1_for(what)? {
            0..=63 => {}
            64..=127 => types(r, 1, what)?,
            247 => {
                r.u2_for(what)?;
                types(r, 1, what)?;
            }
            248..=251 => {
                r.u2_for(what)?;
            }
            t @ 252..=254 => {
                r.u2_for(what)?;
                types(r, usize::from(t - 251), what)?;
            }
            255 => {
                r.u2_for(what)?;
                let locals = r.u2_for(what)?;
                types(r, usize::from(locals), what)?;
                let stack = r.u2_for(what)?;
                types(r, usize::from(stack), what)?;
            }
            t => return Err(bad(format!("{what}: unknown stack-map frame type {t}"))),
        }
    }
    Ok(())
}

/// Records the bootstrap arguments that are dynamic constants in a BootstrapMethods attribute.
fn condy_bootstrap_args(cp: &[Cp<'_>], mut r: Cur<'_>, out: &mut Vec<(usize, u16)>) -> Result<(), ClassFileError> {
    let n = r.u2_for("")?;
    for _ in 0..n {
        let handle = r.u2_for("")?;
        let args = r.u2_for("")?;
        for _ in 0..args {
            let at = r.pos;
            if let Some(Cp::Dynamic(..)) = cp.get(usize::from(r.u2_for("")?)) {
                out.push((at, handle));
            }
        }
    }
    Ok(())
}

fn annotation(r: &mut Cur<'_>, depth: u32, what: &str) -> Result<(), ClassFileError> {
    r.u2_for(what)?;
    let n = r.u2_for(what)?;
    for _ in 0..n {
        r.u2_for(what)?;
        element_value(r, depth + 1, what)?;
    }
    Ok(())
}

fn element_value(r: &mut Cur<'_>, depth: u32, what: &str) -> Result<(), ClassFileError> {
    if depth > MAX_ANNOTATION_DEPTH {
        return Err(bad(format!("{what}: annotation values nested more than {MAX_ANNOTATION_DEPTH} deep")));
    }
    match r.u1_for(what)? {
        b'B' | b'C' | b'D' | b'F' | b'I' | b'J' | b'S' | b'Z' | b's' | b'c' => {
            r.u2_for(what)?;
        }
        b'e' => {
            r.take_for(4, what)?;
        }
        b'@' => annotation(r, depth + 1, what)?,
        b'[' => {
            let n = r.u2_for(what)?;
            for _ in 0..n {
                element_value(r, depth + 1, what)?;
            }
        }
        t => return Err(bad(format!("{what}: unknown annotation value tag {t}"))),
    }
    Ok(())
}

fn type_annotation(r: &mut Cur<'_>, what: &str) -> Result<(), ClassFileError> {
    match r.u1_for(what)? {
        0x00 | 0x01 | 0x16 => {
            r.u1_for(what)?;
        }
        0x10 | 0x17 | 0x42 | 0x43..=0x46 => {
            r.u2_for(what)?;
        }
        0x11 | 0x12 => {
            r.u2_for(what)?;
        }
        0x13..=0x15 => {}
        0x40 | 0x41 => {
            let n = r.u2_for(what)?;
            r.take_for(6 * usize::from(n), what)?;
        }
        0x47..=0x4B => {
            r.take_for(3, what)?;
        }
        t => return Err(bad(format!("{what}: unknown type-annotation target {t:#x}"))),
    }
    let n = r.u1_for(what)?;
    for _ in 0..n {
        if r.u1_for(what)? > 3 {
            return Err(bad(format!("{what}: unknown type-path kind")));
        }
        r.u1_for(what)?;
    }
    annotation(r, 0, what)
}

/// The length of every instruction and the targets of every branch, in 64-bit arithmetic: a
/// switch must fit in the code that follows it, and every branch must land inside the code.
fn check_bytecode(code: &[u8]) -> Result<(), ClassFileError> {
    let len = code.len() as i64;
    let target = |pc: usize, off: i64| -> Result<(), ClassFileError> {
        let t = pc as i64 + off;
        if (0..len).contains(&t) {
            Ok(())
        } else {
            Err(bad(format!("the branch at {pc} goes to {t}, outside the code (0..{len})")))
        }
    };
    let mut pc = 0usize;
    while pc < code.len() {
        let opcode = code[pc];
        let i4 = |at: usize| -> Result<i32, ClassFileError> {
            code.get(at..at + 4)
                .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                .ok_or_else(|| bad(format!("the instruction at {pc} is truncated")))
        };
        let i2 = |at: usize| -> Result<i16, ClassFileError> {
            code.get(at..at + 2)
                .map(|b| i16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| bad(format!("the instruction at {pc} is truncated")))
        };
        let size = match opcode {
            0x99..=0xa8 | 0xc6 | 0xc7 => {
                target(pc, i64::from(i2(pc + 1)?))?;
                3
            }
            op::GOTO_W | op::JSR_W => {
                target(pc, i64::from(i4(pc + 1)?))?;
                5
            }
            op::TABLESWITCH | op::LOOKUPSWITCH => {
                let base = (pc + 4) & !3;
                let default = i4(base)?;
                target(pc, i64::from(default))?;
                let (count, entry, first) = if opcode == op::TABLESWITCH {
                    let low = i64::from(i4(base + 4)?);
                    let high = i64::from(i4(base + 8)?);
                    if low > high {
                        return Err(bad(format!("tableswitch at {pc}: low {low} > high {high}")));
                    }
                    (high - low + 1, 4, base + 12)
                } else {
                    let n = i64::from(i4(base + 4)?);
                    if n < 0 {
                        return Err(bad(format!("lookupswitch at {pc}: {n} pairs")));
                    }
                    (n, 8, base + 8)
                };
                let room = (code.len().saturating_sub(first) / entry) as i64;
                if count > room {
                    return Err(bad(format!("switch at {pc} has {count} entries but the code has room for {room}")));
                }
                let count = count as usize;
                for k in 0..count {
                    let at = first + k * entry + if opcode == op::TABLESWITCH { 0 } else { 4 };
                    target(pc, i64::from(i4(at)?))?;
                }
                first + count * entry - pc
            }
            op::WIDE => match code.get(pc + 1) {
                Some(0x84) => 6,
                Some(0x15..=0x19 | 0x36..=0x3a | 0xa9) => 4,
                _ => return Err(bad(format!("wide at {pc} modifies no valid instruction"))),
            },
            _ => match OPCODE_SIZE.get(usize::from(opcode)).copied().unwrap_or(0) {
                0 => return Err(bad(format!("unknown opcode {opcode:#04x} at {pc}"))),
                n => usize::from(n),
            },
        };
        if size > code.len() - pc {
            return Err(bad(format!("the instruction at {pc} is truncated")));
        }
        pc += size;
    }
    Ok(())
}

/// What cafebabe makes of a Utf8 entry: the same acceptance as `cesu8::from_java_cesu8` (valid
/// UTF-8, or Java's modified UTF-8 with paired surrogates). `None` is cafebabe's `Utf8Bytes`.
pub(crate) fn cafebabe_utf8(b: &[u8]) -> Option<Cow<'_, str>> {
    if let Ok(s) = std::str::from_utf8(b) {
        return Some(Cow::Borrowed(s));
    }
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    let cont = |i: usize| b.get(i).copied().filter(|c| c & 0xC0 == 0x80);
    while i < b.len() {
        let c = b[i];
        match c {
            0 => return None,
            0x01..=0x7f => {
                out.push(char::from(c));
                i += 1;
            }
            0xc0 => {
                if b.get(i + 1) != Some(&0x80) {
                    return None;
                }
                out.push('\0');
                i += 2;
            }
            0xc2..=0xdf => {
                let c2 = cont(i + 1)?;
                out.push(char::from_u32((u32::from(c & 0x1f) << 6) | u32::from(c2 & 0x3f))?);
                i += 2;
            }
            0xe0..=0xef => {
                let c2 = cont(i + 1)?;
                let c3 = cont(i + 2)?;
                let ok = matches!(
                    (c, c2),
                    (0xe0, 0xa0..=0xbf) | (0xe1..=0xec, 0x80..=0xbf) | (0xed, 0x80..=0x9f) | (0xee..=0xef, 0x80..=0xbf)
                );
                if ok {
                    let v = (u32::from(c & 0x0f) << 12) | (u32::from(c2 & 0x3f) << 6) | u32::from(c3 & 0x3f);
                    out.push(char::from_u32(v)?);
                    i += 3;
                } else if c == 0xed && (0xa0..=0xaf).contains(&c2) {
                    if b.get(i + 3) != Some(&0xed) {
                        return None;
                    }
                    let c5 = cont(i + 4)?;
                    if !(0xb0..=0xbf).contains(&c5) {
                        return None;
                    }
                    let c6 = cont(i + 5)?;
                    let hi = 0xD000 | (u32::from(c2 & 0x3f) << 6) | u32::from(c3 & 0x3f);
                    let lo = 0xD000 | (u32::from(c5 & 0x3f) << 6) | u32::from(c6 & 0x3f);
                    out.push(char::from_u32(0x10000 + (((hi - 0xD800) << 10) | (lo - 0xDC00)))?);
                    i += 6;
                } else {
                    return None;
                }
            }
            _ => return None,
        }
    }
    Some(Cow::Owned(out))
}
