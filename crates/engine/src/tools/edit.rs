//! `edit`: what a decompiled-and-edited class means for the JVM. The edited source is compiled by
//! [`super::compile`] against the loader that defined the class, then every class it produced is
//! compared with what the JVM runs (the bytes `jad` decompiled), by HotSpot's rules for that JDK.
//! Only a change of method bodies goes on to a redefinition; anything else is reported, with the
//! reasons, and nothing is sent.

use jhot_classfile::verdict::{Verdict, Vm};
use serde::Serialize;

use super::{Compiled, Decompiled, ToolsError};
use crate::archive::{self, ClassSource};
use crate::changes::{self, Entry};
use crate::error::Error;

/// The edit, checked: the classes to redefine, and each compiled class's verdict.
#[derive(Debug, Serialize)]
pub struct Checked {
    /// Every compiled class against its running bytes (new classes as `new`).
    pub classes: Vec<Entry>,
    /// The classes whose bytes changed (body-only): what a redefinition sends.
    #[serde(skip)]
    pub changed: Vec<ClassSource>,
}

/// Compares the compiled classes with the running ones `decompiled` holds. A structural change,
/// or a class the JVM does not have (a new anonymous class), is [`ToolsError::Structural`].
pub fn check(decompiled: &Decompiled, compiled: &Compiled, vm: &Vm) -> Result<Checked, Error> {
    let mut sources = Vec::new();
    for (name, bytes) in &compiled.bytes {
        sources.push(archive::from_bytes(bytes.clone(), format!("{name} (compiled)"))?);
    }
    let running: Vec<_> =
        decompiled.bytes.iter().map(|(n, b)| (n.clone(), Some(decompiled.loader.clone()), b.clone())).collect();
    let entries = changes::against(vm, &running, &sources)?;
    let refused: Vec<Entry> = entries
        .iter()
        .filter(|e| matches!(e.diff.verdict, Verdict::Structural | Verdict::New | Verdict::Removed))
        .cloned()
        .collect();
    if !refused.is_empty() {
        return Err(ToolsError::Structural { pid: decompiled.pid, entries: refused }.into());
    }
    let changed = sources
        .into_iter()
        .filter(|s| entries.iter().any(|e| e.diff.name == s.info.name && e.diff.verdict == Verdict::BodyOnly))
        .collect();
    Ok(Checked { classes: entries, changed })
}

pub(super) fn structural_message(pid: u32, entries: &[Entry]) -> String {
    let mut s =
        String::from("the edit changes more than method bodies, which a running JVM cannot take; nothing was changed.");
    for e in entries {
        s.push_str(&format!("\n  {}", e.diff.name));
        if e.diff.verdict == Verdict::New {
            s.push_str(": a class the JVM does not have (a new nested, local or anonymous class)");
        }
        for r in &e.diff.reasons {
            s.push_str(&format!("\n    - {} (the JVM would say: {})", r.message, r.jvm_error));
        }
        for x in &e.diff.explanations {
            s.push_str(&format!("\n      {x}"));
        }
    }
    s.push_str(&format!(
        "\n  To apply it without downtime, build the project and run `jhot deploy {pid} <jar or classes dir>`: it \
         replaces the process, handing its sockets over (or `jhot replace {pid}` with a rebuilt jar)."
    ));
    s
}
