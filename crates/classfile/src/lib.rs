//! Reading class files and predicting what HotSpot's `redefineClasses` makes of them.
//!
//! * [`read`]: the class name jhot must use (from the bytes, never the file name) and a full
//!   format check (cafebabe: every constant and instruction) before anything is sent to a JVM.
//! * [`verdict`]: the verdict for a new version of a class on a given JDK — unchanged, body-only,
//!   structural (with every reason), new, removed — and explanations of the usual traps. It runs on
//!   its own zero-copy reader (`reader`), which indexes a class without decoding it, so that tens
//!   of thousands of classes a second can be compared (cafebabe decodes every constant into
//!   reference-counted entries up front: ~17 µs a class, too slow for that).
//! * [`javap`]: a `javap -c -p -l`–like disassembly (JDK 17's layout), with `javap -v`'s class
//!   attributes and, on request, its constant pool.
//!
//! # Where a change belongs
//!
//! * A rule of HotSpot's (what `redefineClasses` refuses, per JDK): `verdict/rules.rs`, one
//!   function per check, called in HotSpot's order from `verdict::compare`; the facts and their
//!   sources in this documentation. How HotSpot normalises flags (masks, `<clinit>`, the
//!   `Synthetic` attribute) and the pair of versions the rules fill in (`Ctx`): `verdict/ctx.rs`.
//! * What may differ without a reason, compared by meaning rather than bytes: attributes
//!   (`verdict/body.rs`), bytecode (`verdict/code.rs`), constants (`verdict/consts.rs`).
//! * A trap to explain: a function with its doc comment in the `verdict/explain/` module of its
//!   subject (`lambdas`, `members`, `records`, `fields`, `switch_maps`, `nesting`), called from
//!   `explain::traps` where its explanation should be listed. Notes on body-only changes:
//!   `explain/notes.rs`; explanations that need the other classes of a set: `explain/nesting.rs`.
//! * The verdict's public types and entry points (`Vm`, `Verdict`, `ClassDiff`, `diff_class`,
//!   `diff_sets`): `verdict/mod.rs`.
//! * Indexing a class for the verdict, and the cursor every hand-written read goes through:
//!   `reader.rs`.
//! * Something hostile bytes can do to cafebabe or to javap: `validate.rs`, with a test in
//!   `javap/tests.rs` (the fuzz targets are in `fuzz/`).
//! * Access flags and HotSpot's masks: `flags.rs`. Opcode names, sizes and mnemonics:
//!   `opcodes.rs`. Java syntax in messages (types, modifiers, signatures): `syntax.rs`.
//! * javap's output: `javap/printer.rs` (class line, header, constant pool, members, code),
//!   `javap/attributes.rs` (the `-v` class attributes), `javap/signature.rs` (generic signatures),
//!   `javap/text.rs` (strings, names, numbers), `javap/writer.rs` (indentation, columns, the cap).
//! * [`read`], [`class_name`] and the [`Shape`] they describe: here.
//! * A class's methods and source file as a developer reads them (`jhot sm`): [`members`].
//! * Tests: a Java case for the verdict goes in `tests/verdict/corpus.rs` with its test in
//!   `tests/verdict/main.rs`; javap is compared with JDK 17's own in `javap/tests.rs`.
//!
//! # Readers
//!
//! Three readers of the class-file format live here, each for a reason:
//!
//! * `reader`: jhot's zero-copy, bounds-checked index of a class. It locates constants, members and
//!   attributes without decoding them, which is what lets [`verdict::diff_sets`] compare about
//!   100,000 classes a second on one core. Its cursor (`reader::Cur`) is the crate's only
//!   hand-written one: the pre-flight reads through it too.
//! * `validate`: the pre-flight walk for hostile input, with its own model of the constant pool
//!   (javap prints the indices from it, since cafebabe forgets them).
//! * cafebabe 0.9: the full parse behind [`read`] (every constant resolved and checked, every
//!   method's bytecode decoded) and javap's model of the class, always on what
//!   [`javap::for_cafebabe`] returned.
//!
//! One reader is the goal; cafebabe stays for now, because replacing it is a change of behaviour,
//! not a move. `read`'s contract is "what cafebabe accepts after the pre-flight": the checks
//! cafebabe adds (constant-pool references of the right kind, descriptors, instruction operands)
//! are what keeps a `ClassFormatError` from the JVM, and reproducing them needs its own tests
//! against cafebabe as the oracle (the parse-the-world test, the fuzz corpus). javap prints
//! cafebabe's decoded instructions and attributes, and the verdict's decoder (`verdict::code`)
//! cannot stand in: it normalises instructions (`ldc_w` is `ldc`, `iload_0` is `iload`) to compare
//! them. What would replace cafebabe: a raw instruction iterator next to the opcode tables, which
//! `verdict::code` normalises and javap prints; javap reading members and attributes from
//! `reader::Class`; `validate` walking `reader::Class` and adding the checks cafebabe makes. Then
//! cafebabe goes, and with it `for_cafebabe`'s byte patching for Java 21+ dynamic-constant
//! arguments and most of `validate.rs`, which exists to make cafebabe safe. (Modified UTF-8 is
//! decoded three ways on purpose: `reader::text` for messages, `validate::cafebabe_utf8` exactly
//! as cafebabe accepts it, `javap::text` as javap shows it.)
//!
//! # What HotSpot checks (from its source)
//!
//! Sources: `src/hotspot/share/prims/jvmtiRedefineClasses.cpp` of jdk-11.0.31 (jdk11u-dev),
//! 17.0.19, 21.0.12.1 and 25.0.3 (Debian's OpenJDK source packages); lines are given as
//! 11 / 17 / 21 / 25. `VM_RedefineClasses::compare_and_normalize_class_versions` (L777 / L918 /
//! L928 / L936) runs after the new bytes parsed and before they are verified, and returns the
//! first failure of these checks, in this order:
//!
//! 1. **Superclass** name (L785 / L926 / L936 / L944) → `HIERARCHY_CHANGED`.
//! 2. **Direct interfaces**: count, then names *in order* (L799–810 / L945–963 / L955–973 /
//!    L963–981) → `HIERARCHY_CHANGED`.
//! 3. The old class in the error-init state (L813 / L966 / L976 / L984) → `INVALID_CLASS`: a
//!    run-time state, invisible in the bytes (not predicted).
//! 4. **NestHost / NestMembers** (`check_nest_attributes`, L695 / L805 / L815 / L823): the host
//!    by name; attribute added or removed; members compared as sorted name lists, via
//!    `check_attribute_arrays` (17+: L749 / L759 / L767) → `CLASS_ATTRIBUTE_CHANGED`. JDK 11
//!    inlines the same logic.
//! 5. **Record** (`check_record_attribute`, 17+: L838 / L848 / L856): presence, component count,
//!    then per component name, descriptor and generic signature; annotations may change →
//!    `CLASS_ATTRIBUTE_CHANGED`. Absent in JDK 11.
//! 6. **PermittedSubclasses** (`check_permitted_subclasses_attribute`, 17+: L900 / L910 / L918):
//!    presence, then sorted names → `CLASS_ATTRIBUTE_CHANGED`. Absent in JDK 11.
//! 7. **Class modifiers** (L825 / L992 / L1002 / L1010): all recognised bits must be equal →
//!    `CLASS_MODIFIERS_CHANGED`. JDK 11–21 read `access_flags().get_flags()` (low 15 bits, the
//!    `JVM_ACC_WRITTEN_FLAGS` mask 0x7FFF of `accessFlags.hpp`); 25 reads `as_class_flags()`.
//! 8. **Fields**, walked pairwise in declaration order (`JavaFieldStream`, L833–860 / L1003–1045 /
//!    L1013–1055 / L1021–1063): name and signature, offset, and modifiers masked with
//!    `JVM_RECOGNIZED_FIELD_MODIFIERS`; then equal counts → `SCHEMA_CHANGED`. Offsets follow from
//!    names, types, order and static-ness, except for `@Contended` layouts (not modelled).
//! 9. **Methods**: a parallel walk over both method arrays, which the class-file parser sorts by
//!    the *address* of the name symbol (`Method::sort_methods`, `method_comparator` →
//!    `Symbol::fast_compare`; QuickSort, so overloads in any order). The walk searches forward
//!    through overloads (from L879 / L1064 / L1074 / L1082), which makes it a set
//!    comparison by (name, descriptor), but the *first* failure found depends on symbol addresses:
//!    the diff lists every failure so the JVM's is always among them.
//!    * matched: `(old ^ new) & ~JVM_ACC_NATIVE` must be 0 (L951 / L1136 / L1146 / L1154) →
//!      `METHOD_MODIFIERS_CHANGED`. Adding or removing `native` is allowed.
//!    * added: JDK 11 allows it when `private` and (`static` or `final`) (L983–988), else
//!      `METHOD_ADDED`; 17/21/25 only when `can_add_or_delete` (L912 / L922 / L930): the same
//!      condition **and** `-XX:+AllowRedefinitionToAddDeleteMethods` (since JDK 13, deprecated at
//!      birth: `arguments.cpp` of 17 L525; obsolete from JDK 26). Also `METHOD_ADDED` when the
//!      class has no free method idnum (65535 methods; not modelled).
//!    * deleted: the same rule (L1017–1022 / L1209 / L1219 / L1227) → `METHOD_DELETED`.
//!
//! Everything else may change: bytecode, the constant pool (merged), BootstrapMethods and
//! `invokedynamic` sites, exception tables, annotations, line numbers and other debug attributes,
//! InnerClasses, generic signatures, `throws` clauses, method order.
//!
//! Before the checks the new bytes are parsed (`KlassFactory::create_from_stream`): parse errors
//! map to `UnsupportedClassVersionError` (class file too new), `ClassFormatError`,
//! `NoClassDefFoundError` ("class names don't match"); after them the bytecode is verified
//! (`VerifyError`). [`read`] catches the format errors; the diff reports a class-file version the
//! JDK cannot load as an explanation.
//!
//! ## Flags, as the class-file parser stores them (`classFileParser.cpp`)
//!
//! * Class: `flags & JVM_RECOGNIZED_CLASS_MODIFIERS` (0x7631: public, final, **super**,
//!   interface, abstract, synthetic, annotation, enum; `| ACC_MODULE` for ≥ 53), plus
//!   `ACC_ABSTRACT` on interfaces of class files before 50 (11: L6134–6142; 17: L5739–5747;
//!   21: L5684–5692; 25: L5497–5505). `ACC_SUPER` therefore counts: a class compiled without it
//!   (some bytecode tools) cannot replace one compiled with it.
//! * Field: `flags & JVM_RECOGNIZED_FIELD_MODIFIERS` (0x50DF: public, private, protected,
//!   static, final, volatile, transient, synthetic, enum) (11: L1601; 17: L1509; 21: L1462;
//!   25: L1394).
//! * Method: `flags & JVM_RECOGNIZED_METHOD_MODIFIERS` (0x1DFF: public, private, protected,
//!   static, final, synchronized, bridge, varargs, native, abstract, strict, synthetic) (11: L2403;
//!   17: L2303; 21: L2233; 25: L2177). `<clinit>` keeps only `ACC_STATIC` before class file 51,
//!   else `ACC_STATIC | ACC_STRICT` — and from JDK 17 `ACC_STRICT` only for class files ≤ 60
//!   (11: L2376–2385; 17: L2273–2282; 21: L2202–2211; 25: L2146–2155).
//! * A `Synthetic` *attribute* sets ACC_SYNTHETIC on the class, field or method, whatever the
//!   flags say (11: L1659, L2677, L3722; 17: L1566, L2571, L3904; 21: L1521, L2501, L3822;
//!   25: L1453, L2439, L3691). The diff folds it into the flags it compares.
//! * The masks are the same in all four JDKs (`jvm.h` in 11, `jvm_constants.h` from 17).
//! * Attributes are only read from class files new enough for them: NestHost/NestMembers from
//!   major 55, Record from 60, PermittedSubclasses from 61 (17: L3752–3815); older class files
//!   have none as far as HotSpot is concerned. A NestMembers/PermittedSubclasses attribute with
//!   no entries still "exists" (a fresh array, not the shared empty one).
//!
//! ## Messages (`JavaExceptions.c` of libinstrument, L214–219 in all four)
//!
//! `UnsupportedOperationException: class redefinition failed: ` followed by
//! [`verdict::ReasonKind::jvm_message`]. Only `CLASS_ATTRIBUTE_CHANGED` differs: JDK 11 says
//! "attempted to change the class NestHost or NestMembers attribute", 17/21/25 "…NestHost,
//! NestMembers, Record, or PermittedSubclasses attribute".
//!
//! ## Version differences, in short
//!
//! | | 11 | 17 / 21 / 25 |
//! |---|---|---|
//! | add/delete private static or private final method | allowed | refused unless `-XX:+AllowRedefinitionToAddDeleteMethods` |
//! | Record, PermittedSubclasses checks | none (such class files do not load) | yes |
//! | CLASS_ATTRIBUTE_CHANGED text | NestHost or NestMembers | NestHost, NestMembers, Record, or PermittedSubclasses |
//! | `<clinit>` ACC_STRICT | kept (≥ 51) | kept only for class files ≤ 60 |
//! | field modifier compare | recognised bits | same (25: `as_field_flags()`, which holds only those) |
//!
//! ## What HotSpot keeps of a class (and gives back)
//!
//! `RuntimeInvisible*Annotations` are dropped at parse time unless -XX:+PreserveAllAnnotations
//! (17: `classFileParser.cpp` L1304, L1328, L2620); `Deprecated` and unknown attributes are
//! skipped. The bytes of a running class that an agent gets back for retransformation are usually
//! *reconstituted* (`jvmtiClassFileReconstituter.cpp`, 17: `write_field_infos` L57,
//! `write_code_attribute` L144, `write_method_info` L662, `write_class_attributes` L740): no
//! MethodParameters, no EnclosingMethod, no invisible annotations, no Deprecated, a different
//! constant pool. None of these can change what the running code does, so the diff ignores the
//! attributes HotSpot drops and compares the others only when both versions have them.
//!
//! ## Choices jhot makes where HotSpot has no opinion
//!
//! * `Unchanged` means no difference the JVM could see once constant-pool layout is factored out.
//!   Line numbers, local-variable tables, `SourceFile` and `MethodParameters` that *differ* are
//!   real differences (stack traces and reflection see them): `BodyOnly`, with a note when that is
//!   all ("only line numbers changed"). Present in one version only (`-g` vs `-g:none`,
//!   `-parameters`, or bytes read back from a JVM) they are "not recorded", not "changed": such a
//!   class stays `Unchanged` (with a note when `-g` options differ).
//! * Not compared: `StackMapTable` and `max_stack`/`max_locals` (derived from the code) and
//!   unused BootstrapMethods entries.

pub mod javap;
pub mod members;
pub mod verdict;

mod flags;
mod opcodes;
mod reader;
mod syntax;
mod validate;

use cafebabe::{ClassAccessFlags, FieldAccessFlags, MethodAccessFlags};
use serde::Serialize;

/// A class file that parsed completely (including every method's bytecode).
#[derive(Debug, Clone)]
pub struct ClassInfo {
    /// Binary name with dots, as `Class.forName` takes it (`hello.Greeter`, `a.B$C`).
    pub name: String,
    pub major_version: u16,
    pub shape: Shape,
}

/// The members and hierarchy HotSpot compares when it redefines a class
/// (`VM_RedefineClasses::compare_and_normalize_class_versions`), with modifiers masked as
/// HotSpot's class-file parser stores them. For the verdict itself use [`verdict`], which also
/// follows the target JDK's rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shape {
    pub access_flags: u16,
    pub super_class: Option<String>,
    pub interfaces: Vec<String>,
    /// In declaration order: HotSpot compares fields pairwise, so order matters.
    pub fields: Vec<Member>,
    /// Sorted by (name, descriptor): method order does not matter to HotSpot.
    pub methods: Vec<Member>,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Member {
    pub name: String,
    pub descriptor: String,
    pub access_flags: u16,
}

#[derive(Debug, thiserror::Error)]
#[error("not a valid class file: {reason}")]
pub struct ClassFileError {
    pub reason: String,
}

/// The binary name of a class file (`a.b.C$D`) after a check of its framing only (constant pool,
/// members and attributes inside the bytes, no trailing bytes): ~30x cheaper than [`read`], for
/// listing or diffing many classes. Use [`read`] before sending bytes to a JVM.
pub fn class_name(bytes: &[u8]) -> Result<String, ClassFileError> {
    let c = reader::Class::parse(bytes)?;
    if c.access & flags::ACC_MODULE != 0 {
        return Err(ClassFileError { reason: "it is a module-info class, which cannot be redefined".into() });
    }
    Ok(syntax::binary(c.name()?))
}

/// Every class a class file names in its constant pool (`CONSTANT_Class` entries; for arrays, the
/// element class), binary names with dots, in order, without repeats: what a decompiler or a
/// compiler will ask for, so it can be fetched in one go.
pub fn referenced_classes(bytes: &[u8]) -> Result<Vec<String>, ClassFileError> {
    let c = reader::Class::parse(bytes)?;
    let mut out: Vec<String> = Vec::new();
    for i in 1..c.cp_len() {
        let Ok(i) = u16::try_from(i) else { break };
        // Long and double take two slots; the second is not an entry.
        if !matches!(c.tag(i), Ok(reader::tag::CLASS)) {
            continue;
        }
        let name = c.class_name(i)?;
        let element = match name.iter().rposition(|&b| b == b'[') {
            Some(p) => match name.get(p + 1..) {
                Some([b'L', rest @ .., b';']) => rest,
                _ => continue,
            },
            None => name,
        };
        let b = syntax::binary(element);
        if !out.contains(&b) {
            out.push(b);
        }
    }
    Ok(out)
}

/// The classes a class file names as nested in it or in its nest: the inner class of every
/// `InnerClasses` entry and every `NestMembers` entry, binary names with dots, in order, without
/// repeats. They include classes that never ran (an anonymous class whose method was never
/// called), which is why `jhot jad` asks for them by name instead of looking at what is loaded.
pub fn nested_classes(bytes: &[u8]) -> Result<Vec<String>, ClassFileError> {
    let c = reader::Class::parse(bytes)?;
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: &[u8]| {
        let b = syntax::binary(name);
        if !out.contains(&b) {
            out.push(b);
        }
    };
    if let Some(a) = c.class_attr(reader::AttrKind::InnerClasses) {
        let mut cur = reader::Cur::new(a.data);
        let n = cur.u2()?;
        for _ in 0..n {
            let inner = cur.u2()?;
            cur.take(6)?;
            push(c.class_name(inner)?);
        }
    }
    if let Some(a) = c.class_attr(reader::AttrKind::NestMembers) {
        let mut cur = reader::Cur::new(a.data);
        let n = cur.u2()?;
        for _ in 0..n {
            let member = cur.u2()?;
            push(c.class_name(member)?);
        }
    }
    Ok(out)
}

/// Parses and checks `bytes` as a class file.
pub fn read(bytes: &[u8]) -> Result<ClassInfo, ClassFileError> {
    if bytes.len() < 10 {
        return Err(ClassFileError { reason: format!("only {} bytes (truncated?)", bytes.len()) });
    }
    if bytes[..4] != [0xCA, 0xFE, 0xBA, 0xBE] {
        return Err(ClassFileError { reason: "it does not start with the class-file magic 0xCAFEBABE".into() });
    }
    // cafebabe 0.9 panics or reserves gigabytes on some hostile inputs (found by fuzzing): the
    // pre-flight walk refuses those first.
    let bytes = validate::for_cafebabe(bytes)?;
    let class = validate::parse_unchecked(&bytes)?;
    if class.access_flags.contains(ClassAccessFlags::MODULE) {
        return Err(ClassFileError { reason: "it is a module-info class, which cannot be redefined".into() });
    }
    let name = class.this_class.replace('/', ".");
    // Synthetic members emitted by some compilers are still members: HotSpot counts them.
    let mut methods: Vec<Member> = class
        .methods
        .iter()
        .map(|m| Member {
            name: m.name.to_string(),
            descriptor: m.descriptor.to_string(),
            access_flags: method_flags(m.access_flags),
        })
        .collect();
    methods.sort();
    let fields = class
        .fields
        .iter()
        .map(|f| Member {
            name: f.name.to_string(),
            descriptor: f.descriptor.to_string(),
            access_flags: field_flags(f.access_flags),
        })
        .collect();
    let shape = Shape {
        access_flags: class_flags(class.access_flags),
        super_class: class.super_class.as_ref().map(|s| s.replace('/', ".")),
        interfaces: class.interfaces.iter().map(|i| i.replace('/', ".")).collect(),
        fields,
        methods,
    };
    Ok(ClassInfo { name, major_version: class.major_version, shape })
}

// The bits HotSpot's class-file parser keeps (JVM_RECOGNIZED_*_MODIFIERS; see the module docs).
// ACC_SUPER is one of them: HotSpot compares it.
fn class_flags(f: ClassAccessFlags) -> u16 {
    f.bits() & flags::RECOGNIZED_CLASS
}

fn field_flags(f: FieldAccessFlags) -> u16 {
    f.bits() & flags::RECOGNIZED_FIELD
}

fn method_flags(f: MethodAccessFlags) -> u16 {
    f.bits() & flags::RECOGNIZED_METHOD
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal valid class `p/A extends java/lang/Object` with one field `int x` and no methods,
    /// assembled by hand so the test needs no compiler.
    fn tiny_class(field: Option<&str>) -> Vec<u8> {
        let mut cp: Vec<Vec<u8>> = Vec::new();
        let utf8 = |s: &str| {
            let mut v = vec![1u8];
            v.extend((s.len() as u16).to_be_bytes());
            v.extend(s.as_bytes());
            v
        };
        cp.push(utf8("p/A")); // 1
        cp.push(vec![7, 0, 1]); // 2 Class p/A
        cp.push(utf8("java/lang/Object")); // 3
        cp.push(vec![7, 0, 3]); // 4 Class Object
        cp.push(utf8(field.unwrap_or("unused"))); // 5
        cp.push(utf8("I")); // 6
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 55];
        b.extend(((cp.len() + 1) as u16).to_be_bytes());
        for e in &cp {
            b.extend(e);
        }
        b.extend(0x0021u16.to_be_bytes()); // public super
        b.extend(2u16.to_be_bytes());
        b.extend(4u16.to_be_bytes());
        b.extend(0u16.to_be_bytes()); // interfaces
        if field.is_some() {
            b.extend(1u16.to_be_bytes());
            b.extend([0, 0, 0, 5, 0, 6, 0, 0]);
        } else {
            b.extend(0u16.to_be_bytes());
        }
        b.extend(0u16.to_be_bytes()); // methods
        b.extend(0u16.to_be_bytes()); // attributes
        b
    }

    /// `p/A` with an `InnerClasses` attribute naming `p/A$1` (and the outer's own entry for
    /// `q/Other$In`, which it only refers to) and a `NestMembers` attribute naming `p/A$1`, `p/A$B`.
    fn class_with_nest() -> Vec<u8> {
        let utf8 = |s: &str| {
            let mut v = vec![1u8];
            v.extend((s.len() as u16).to_be_bytes());
            v.extend(s.as_bytes());
            v
        };
        let cp: Vec<Vec<u8>> = vec![
            utf8("p/A"),              // 1
            vec![7, 0, 1],            // 2
            utf8("java/lang/Object"), // 3
            vec![7, 0, 3],            // 4
            utf8("p/A$1"),            // 5
            vec![7, 0, 5],            // 6
            utf8("p/A$B"),            // 7
            vec![7, 0, 7],            // 8
            utf8("q/Other$In"),       // 9
            vec![7, 0, 9],            // 10
            utf8("InnerClasses"),     // 11
            utf8("NestMembers"),      // 12
        ];
        let mut b = vec![0xCA, 0xFE, 0xBA, 0xBE, 0, 0, 0, 55];
        b.extend(((cp.len() + 1) as u16).to_be_bytes());
        for e in &cp {
            b.extend(e);
        }
        b.extend(0x0021u16.to_be_bytes());
        b.extend(2u16.to_be_bytes());
        b.extend(4u16.to_be_bytes());
        b.extend([0, 0, 0, 0, 0, 0]); // interfaces, fields, methods
        b.extend(2u16.to_be_bytes()); // attributes
        // InnerClasses: 2 entries of 8 bytes.
        b.extend(11u16.to_be_bytes());
        b.extend(18u32.to_be_bytes());
        b.extend(2u16.to_be_bytes());
        b.extend([0, 6, 0, 0, 0, 0, 0, 0]); // p/A$1, anonymous
        b.extend([0, 10, 0, 0, 0, 0, 0, 8]); // q/Other$In
        // NestMembers: 2 classes.
        b.extend(12u16.to_be_bytes());
        b.extend(6u32.to_be_bytes());
        b.extend(2u16.to_be_bytes());
        b.extend([0, 6, 0, 8]);
        b
    }

    #[test]
    fn nested_classes_come_from_inner_classes_and_nest_members() {
        let b = class_with_nest();
        assert_eq!(nested_classes(&b).expect("parses"), vec!["p.A$1", "q.Other$In", "p.A$B"]);
        assert!(nested_classes(&tiny_class(None)).expect("parses").is_empty());
        assert!(nested_classes(&b[..b.len() - 3]).is_err(), "truncated");
    }

    #[test]
    fn referenced_classes_are_the_constant_pools_class_entries() {
        let b = class_with_nest();
        assert_eq!(
            referenced_classes(&b).expect("parses"),
            vec!["p.A", "java.lang.Object", "p.A$1", "p.A$B", "q.Other$In"]
        );
    }

    #[test]
    fn reads_name_from_bytes() {
        let info = read(&tiny_class(Some("x"))).expect("valid class");
        assert_eq!(info.name, "p.A");
        assert_eq!(info.shape.super_class.as_deref(), Some("java.lang.Object"));
        assert_eq!(info.shape.fields.len(), 1);
    }

    #[test]
    fn rejects_garbage_and_every_truncation() {
        assert!(read(b"hello world, not a class").is_err());
        let good = tiny_class(Some("x"));
        for len in 0..good.len() {
            assert!(read(&good[..len]).is_err(), "truncated at {len} must fail");
        }
        let mut extra = good.clone();
        extra.push(0);
        assert!(read(&extra).is_err(), "trailing bytes must fail");
    }

    #[test]
    fn added_field_is_structural() {
        let vm = verdict::Vm { feature: 17, allow_add_delete_methods: false };
        let d = verdict::diff_class(&tiny_class(None), &tiny_class(Some("x")), &vm).expect("valid");
        assert_eq!(d.verdict, verdict::Verdict::Structural);
        assert_eq!(d.reasons.len(), 1);
        assert_eq!(d.reasons[0].kind, verdict::ReasonKind::SchemaChanged);
        assert_eq!(d.reasons[0].message, "field added: int x");
        let same = verdict::diff_class(&tiny_class(Some("x")), &tiny_class(Some("x")), &vm).expect("valid");
        assert_eq!(same.verdict, verdict::Verdict::Unchanged);
    }
}
