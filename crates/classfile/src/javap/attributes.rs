//! The class attributes `javap -v` prints for nests, sealed classes, records, inner classes,
//! invokedynamic and modules, in `javap -v`'s format.

use std::fmt::Write as _;

use super::printer::{INNER_CLASS_MODIFIERS, Printer, modifiers};
use super::signature::{SigParser, ty_string};
use super::text::java_name;
use crate::ClassFileError;
use crate::flags::{ACC_ABSTRACT, ACC_INTERFACE};
use crate::reader::Cur;
use crate::validate::Cp;

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
                "NestHost" => r.u2().map(|c| self.w.line(&format!("NestHost: {}", self.reference(c)))),
                "NestMembers" => self.class_list("NestMembers:", &mut r),
                "PermittedSubclasses" => self.class_list("PermittedSubclasses:", &mut r),
                "EnclosingMethod" => self.enclosing_method(&mut r),
                "Record" => self.record(&mut r),
                "InnerClasses" => self.inner_classes(&mut r),
                "BootstrapMethods" => self.bootstrap_methods(&mut r),
                "ModuleMainClass" => r.u2().map(|c| {
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

    /// `title`, then one line or block per entry of the list at `r` (a `u2` count, then the
    /// entries `each` reads), indented one level. Stops early once the output is full; a list the
    /// bytes cut short returns the error where it ends (the pre-flight has walked every list this
    /// prints to its exact end, so that does not happen to a class being disassembled).
    fn list<'a>(
        &mut self,
        title: &str,
        r: &mut Cur<'a>,
        mut each: impl FnMut(&mut Self, &mut Cur<'a>) -> Result<(), ClassFileError>,
    ) -> Result<(), ClassFileError> {
        self.w.line(title);
        self.w.indent(1);
        let n = r.u2()?;
        for _ in 0..n {
            if self.w.full() {
                break;
            }
            each(self, r)?;
        }
        self.w.indent(-1);
        Ok(())
    }

    /// NestMembers, PermittedSubclasses: one class per line.
    fn class_list(&mut self, title: &str, r: &mut Cur<'_>) -> Result<(), ClassFileError> {
        self.list(title, r, |p, r| {
            let c = r.u2()?;
            p.w.line(&p.value(c));
            Ok(())
        })
    }

    fn enclosing_method(&mut self, r: &mut Cur<'_>) -> Result<(), ClassFileError> {
        let c = r.u2()?;
        let m = r.u2()?;
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

    fn record(&mut self, r: &mut Cur<'_>) -> Result<(), ClassFileError> {
        self.list("Record:", r, |p, r| {
            let name = r.u2()?;
            let desc = r.u2()?;
            let mut sig_ix = None;
            let attrs = r.u2()?;
            for _ in 0..attrs {
                let an = r.u2()?;
                let len = r.u4()? as usize;
                let mut body = r.sub(len, "")?;
                if p.raw.utf8(an).as_deref() == Some("Signature") {
                    sig_ix = Some(body.u2()?);
                }
            }
            let descriptor = p.utf8(desc);
            let ty = sig_ix
                .and_then(|i| p.raw.utf8(i))
                .and_then(|s| SigParser::field_sig(&s))
                .or_else(|| SigParser::field_sig(&descriptor))
                .map(|t| ty_string(&t))
                .unwrap_or_else(|| descriptor.clone());
            p.w.line(&format!("{ty} {};", p.utf8(name)));
            p.w.indent(1);
            p.w.line(&format!("descriptor: {descriptor}"));
            if let Some(i) = sig_ix {
                p.w.print(&format!("Signature: #{i}"));
                p.w.tab();
                p.w.line(&format!("// {}", p.utf8(i)));
            }
            p.w.println();
            p.w.indent(-1);
            Ok(())
        })
    }

    fn inner_classes(&mut self, r: &mut Cur<'_>) -> Result<(), ClassFileError> {
        // Nothing at all for an empty table.
        let mut count = *r;
        if count.u2()? == 0 {
            return Ok(());
        }
        self.list("InnerClasses:", r, |p, r| {
            let inner = r.u2()?;
            let outer = r.u2()?;
            let name = r.u2()?;
            let flags = r.u2()?;
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
            p.w.print(&s);
            p.w.tab();
            let mut c = String::from("// ");
            if name != 0 {
                c.push_str(&p.utf8(name));
                c.push('=');
            }
            c.push_str(&p.reference(inner));
            if outer != 0 {
                c.push_str(" of ");
                c.push_str(&p.reference(outer));
            }
            p.w.line(&c);
            Ok(())
        })
    }

    fn bootstrap_methods(&mut self, r: &mut Cur<'_>) -> Result<(), ClassFileError> {
        let mut i = 0;
        self.list("BootstrapMethods:", r, |p, r| {
            let m = r.u2()?;
            p.w.line(&format!("{i}: #{m} {}", p.value(m)));
            i += 1;
            p.w.indent(1);
            p.list("Method arguments:", r, |p, r| {
                let a = r.u2()?;
                p.w.line(&format!("#{a} {}", p.value(a)));
                Ok(())
            })?;
            p.w.indent(-1);
            Ok(())
        })
    }

    fn module_packages(&mut self, r: &mut Cur<'_>) -> Result<(), ClassFileError> {
        self.list("ModulePackages: ", r, |p, r| {
            let pk = r.u2()?;
            p.w.print(&format!("#{pk}"));
            p.w.tab();
            let name = match p.raw.entry(pk) {
                Some(Cp::Package(n)) => java_name(&p.utf8(n)),
                _ => format!("#{pk}"),
            };
            p.w.line(&format!("// {name}"));
            Ok(())
        })
    }
}
