//! Explanations, in a developer's words, for the changes that surprise people: the compiler
//! generated or renamed something the source does not show. Each is detected from the bytes, by
//! one function per trap, from what the rules found (the reasons, and which methods and fields
//! came, went or changed).
//!
//! Where a trap goes: [`lambdas`] (renumbered, new and removed lambdas, lambda <-> method
//! reference), [`members`] (methods javac adds or drops: accessors, bridges, `$values`,
//! `<clinit>`, `$deserializeLambda$`; private static/final methods), [`records`] (the implicit
//! `public final` methods and accessors), [`fields`] (order, enum constants, captured variables,
//! `this$0`), [`switch_maps`] (javac's helper classes for switches on enums), [`nesting`] (nested,
//! local and anonymous classes, also across the classes of a set), [`compilers`] (javac against
//! ecj), [`notes`] (body-only changes).

use super::Vm;
use super::consts::ConstCmp;
use super::ctx::Ctx;
use crate::flags::ACC_NATIVE;
use crate::reader::R;
use crate::syntax;

pub(crate) mod compilers;
mod fields;
mod lambdas;
mod members;
mod nesting;
mod notes;
mod records;
mod switch_maps;

pub(super) use nesting::{new_and_removed, siblings};
pub(super) use notes::body_notes;

/// The traps, from the two versions of one class, in the order their explanations are listed.
pub(super) fn traps<'c, 'a>(cx: &mut Ctx<'c, 'a>, k: &mut ConstCmp<'_, 'a>) -> R<()> {
    // First: when it applies, it is the cause of what the others explain.
    compilers::other_compiler(cx);
    class_file_version(cx);
    lambdas::lambdas(cx, k)?;
    members::added_and_deleted_methods(cx)?;
    records::modifiers(cx)?;
    fields::reordered(cx);
    fields::added_and_removed(cx);
    switch_maps::new_switch_map_fields(cx);
    nesting::nested_classes(cx)?;
    native_toggled(cx);
    Ok(())
}

/// What the JVM would need for a method to be added or deleted, as advice.
pub(super) fn add_delete_advice(vm: &Vm) -> String {
    if (13..=25).contains(&vm.feature) {
        format!(
            "JDK {} cannot add or delete methods when redefining (-XX:+AllowRedefinitionToAddDeleteMethods, \
             deprecated, allows private static/final ones), so this needs a restart",
            vm.feature
        )
    } else if vm.feature >= 26 {
        format!("JDK {} cannot add or delete methods when redefining, so this needs a restart", vm.feature)
    } else {
        "only private static or private final methods can be added or deleted, so this needs a restart".to_string()
    }
}

/// A class file for another Java version than the running one, or one this JDK cannot load.
fn class_file_version(cx: &mut Ctx) {
    let vm = *cx.vm;
    if cx.a.major != cx.b.major {
        cx.explain(format!(
            "compiled for a different Java version (class file {} → {}, Java {} → {}): compile with the same --release as the running code to avoid differences the compiler makes",
            cx.a.major,
            cx.b.major,
            cx.a.major.saturating_sub(44),
            cx.b.major.saturating_sub(44)
        ));
    }
    if cx.b.major as u32 > vm.max_major() {
        cx.explain(format!(
            "JDK {} cannot load class file version {} (Java {}): the JVM refuses it with UnsupportedClassVersionError; compile with --release {} or lower",
            vm.feature,
            cx.b.major,
            cx.b.major.saturating_sub(44),
            vm.feature
        ));
    }
}

/// A method that became or stopped being `native`: allowed, but worth knowing.
fn native_toggled(cx: &mut Ctx) {
    let class = cx.name.clone();
    for &(i, j, _) in &cx.matched.clone() {
        let (ma, mb) = (cx.ma[i], cx.mb[j]);
        if (ma.flags ^ mb.flags) == ACC_NATIVE {
            cx.explain(format!(
                "{} {} native: HotSpot ignores ACC_NATIVE when comparing modifiers, so this is allowed.",
                syntax::method_short(&class, mb.name, mb.desc),
                if mb.flags & ACC_NATIVE != 0 { "became" } else { "is no longer" }
            ));
        }
    }
}
