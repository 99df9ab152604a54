//! The printer: the class line, `javap -v`'s header and constant pool, module directives,
//! fields, methods and their code, as JDK 17's `javap -c -p -l` prints them.

use std::borrow::Cow;

use cafebabe::ClassFile;
use cafebabe::attributes::{AttributeData, CodeData};
use cafebabe::bytecode::Opcode;

use super::JavapOptions;
use super::signature::{SigParser, fmt_ty, fmt_type_params, is_object, join_types};
use super::text::{check_name, escape_utf8, java_double, java_float, java_name};
use super::writer::Writer;
use crate::flags::{
    ACC_ABSTRACT, ACC_ANNOTATION, ACC_ENUM, ACC_FINAL, ACC_INTERFACE, ACC_MODULE, ACC_NATIVE, ACC_PRIVATE,
    ACC_PROTECTED, ACC_PUBLIC, ACC_STATIC, ACC_STRICT, ACC_SUPER, ACC_SYNCHRONIZED, ACC_SYNTHETIC, ACC_TRANSIENT,
    ACC_VARARGS, ACC_VOLATILE,
};
use crate::opcodes::{MNEMONIC, op};
use crate::validate::{Cp, RawClass};

pub(super) struct Printer<'r, 'a> {
    pub raw: &'r RawClass<'a>,
    pub class: &'r ClassFile<'a>,
    pub w: Writer,
    pub opts: JavapOptions,
}

pub(super) fn modifiers(flags: u16, table: &[(u16, &'static str)]) -> Vec<&'static str> {
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
pub(super) const INNER_CLASS_MODIFIERS: &[(u16, &str)] = &[
    (ACC_PUBLIC, "public"),
    (ACC_PRIVATE, "private"),
    (ACC_PROTECTED, "protected"),
    (ACC_STATIC, "static"),
    (ACC_FINAL, "final"),
    (ACC_ABSTRACT, "abstract"),
];
const CLASS_FLAGS: &[(u16, &str)] = &[
    (ACC_PUBLIC, "ACC_PUBLIC"),
    (ACC_FINAL, "ACC_FINAL"),
    (ACC_SUPER, "ACC_SUPER"),
    (ACC_INTERFACE, "ACC_INTERFACE"),
    (ACC_ABSTRACT, "ACC_ABSTRACT"),
    (ACC_SYNTHETIC, "ACC_SYNTHETIC"),
    (ACC_ANNOTATION, "ACC_ANNOTATION"),
    (ACC_ENUM, "ACC_ENUM"),
    (ACC_MODULE, "ACC_MODULE"),
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

    pub(super) fn utf8(&self, i: u16) -> String {
        self.raw.utf8(i).map(|s| s.into_owned()).unwrap_or_else(|| format!("#{i}"))
    }

    /// javap's `stringValue`.
    pub(super) fn value(&self, i: u16) -> String {
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
    pub(super) fn reference(&self, i: u16) -> String {
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

    pub(super) fn class(&mut self) {
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
        let wide = raw == op::WIDE;
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
}
