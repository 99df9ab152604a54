//! Access flags (JVMS §4.1, §4.5, §4.6, §4.7.6) and the masks HotSpot's class-file parser keeps
//! of them (see "Flags, as the class-file parser stores them" in the [crate] documentation).
//!
//! One bit can mean different things on a class, a field and a method: 0x0020 is `ACC_SUPER` on a
//! class and `ACC_SYNCHRONIZED` on a method, 0x0040 `ACC_VOLATILE` or `ACC_BRIDGE`, 0x0080
//! `ACC_TRANSIENT` or `ACC_VARARGS`. Both names are here; use the one of the thing at hand.

pub(crate) const ACC_PUBLIC: u16 = 0x0001;
pub(crate) const ACC_PRIVATE: u16 = 0x0002;
pub(crate) const ACC_PROTECTED: u16 = 0x0004;
pub(crate) const ACC_STATIC: u16 = 0x0008;
pub(crate) const ACC_FINAL: u16 = 0x0010;
/// On a class.
pub(crate) const ACC_SUPER: u16 = 0x0020;
/// On a method.
pub(crate) const ACC_SYNCHRONIZED: u16 = 0x0020;
/// On a field.
pub(crate) const ACC_VOLATILE: u16 = 0x0040;
/// On a method.
pub(crate) const ACC_BRIDGE: u16 = 0x0040;
/// On a field.
pub(crate) const ACC_TRANSIENT: u16 = 0x0080;
/// On a method.
pub(crate) const ACC_VARARGS: u16 = 0x0080;
pub(crate) const ACC_NATIVE: u16 = 0x0100;
pub(crate) const ACC_INTERFACE: u16 = 0x0200;
pub(crate) const ACC_ABSTRACT: u16 = 0x0400;
pub(crate) const ACC_STRICT: u16 = 0x0800;
pub(crate) const ACC_SYNTHETIC: u16 = 0x1000;
pub(crate) const ACC_ANNOTATION: u16 = 0x2000;
pub(crate) const ACC_ENUM: u16 = 0x4000;
pub(crate) const ACC_MODULE: u16 = 0x8000;

/// `JVM_RECOGNIZED_CLASS_MODIFIERS`: public, final, super, interface, abstract, synthetic,
/// annotation, enum. HotSpot compares `ACC_SUPER` too.
pub(crate) const RECOGNIZED_CLASS: u16 = 0x7631;
/// `JVM_RECOGNIZED_FIELD_MODIFIERS`: public, private, protected, static, final, volatile,
/// transient, synthetic, enum.
pub(crate) const RECOGNIZED_FIELD: u16 = 0x50DF;
/// `JVM_RECOGNIZED_METHOD_MODIFIERS`: public, private, protected, static, final, synchronized,
/// bridge, varargs, native, abstract, strict, synthetic.
pub(crate) const RECOGNIZED_METHOD: u16 = 0x1DFF;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_masks_are_the_flags_their_documentation_names() {
        let class = ACC_PUBLIC | ACC_FINAL | ACC_SUPER | ACC_INTERFACE | ACC_ABSTRACT;
        assert_eq!(RECOGNIZED_CLASS, class | ACC_SYNTHETIC | ACC_ANNOTATION | ACC_ENUM);
        let access = ACC_PUBLIC | ACC_PRIVATE | ACC_PROTECTED | ACC_STATIC | ACC_FINAL;
        assert_eq!(RECOGNIZED_FIELD, access | ACC_VOLATILE | ACC_TRANSIENT | ACC_SYNTHETIC | ACC_ENUM);
        let method = ACC_SYNCHRONIZED | ACC_BRIDGE | ACC_VARARGS | ACC_NATIVE | ACC_ABSTRACT | ACC_STRICT;
        assert_eq!(RECOGNIZED_METHOD, access | method | ACC_SYNTHETIC);
    }
}
