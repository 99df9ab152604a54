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
//! module reads them from the pool the pre-flight walk (`crate::validate`) keeps.
//!
//! The layout is JDK 17's; JDK 19+ `javap` indents `Code:` bodies one level deeper. Numbers print
//! as Java 19+ prints them (the shortest digits that round-trip), which JDK 17 does not always do
//! (`2.1474836E9f`, where JDK 17's javap prints `2.14748365E9f`); generic `throws` clauses use dots
//! throughout, where JDK 17's javap leaves slashes in class names.
//!
//! # Hostile input
//!
//! Every class goes through [`preflight`] first (see `crate::validate`: cafebabe 0.9 panics,
//! recurses without limit or reserves gigabytes on some hostile bytes), and cafebabe parses what
//! [`for_cafebabe`] returns. The disassembly itself is capped at [`MAX_OUTPUT`] bytes.

use std::borrow::Cow;

use crate::ClassFileError;
use crate::validate::{RawAttr, RawClass, parse_unchecked};
use printer::Printer;
use text::decode_modified_utf8;
use writer::Writer;

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
    /// A Utf8 entry as text (modified UTF-8; malformed bytes and unpaired surrogates show as `?`).
    fn utf8(&self, i: u16) -> Option<Cow<'a, str>> {
        self.utf8_bytes(i).map(decode_modified_utf8)
    }

    fn attr_name(&self, a: &RawAttr) -> Cow<'a, str> {
        self.utf8(a.name).unwrap_or(Cow::Borrowed("?"))
    }
}

/// The pre-flight, here for the path callers know (`javap::preflight`, `javap::for_cafebabe`).
pub use crate::validate::{for_cafebabe, preflight};

mod attributes;
mod printer;
mod signature;
mod text;
mod writer;

#[cfg(test)]
mod tests;
