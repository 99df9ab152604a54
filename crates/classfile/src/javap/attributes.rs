//! The class attributes `javap -v` prints for nests, sealed classes, records, inner classes,
//! invokedynamic and modules, in `javap -v`'s format.

use std::fmt::Write as _;

use super::printer::{INNER_CLASS_MODIFIERS, Printer, modifiers};
use super::signature::{SigParser, ty_string};
use super::text::java_name;
use crate::ClassFileError;
use crate::flags::{ACC_ABSTRACT, ACC_INTERFACE};
use crate::validate::{Cp, Rd};

impl Printer<'_, '_> {
    pub(super) fn class_attributes(&mut self) {
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
