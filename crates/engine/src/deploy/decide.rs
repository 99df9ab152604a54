//! The least disruptive path that takes the whole build: nothing, a redefinition, or a replacement.
//! Pure, like the planning it follows.

use serde::Serialize;

use jhot_classfile::verdict::Verdict;

use super::error::DeployError;
use super::plan::Verdicts;
use super::report::{Change, Decision, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// nothing, a redefinition, or a replacement: whatever the change needs
    Auto,
    /// only ever redefine; refuse (exit 7) what needs a replacement
    Redefine,
    /// replace the process whatever changed
    Replace,
}

/// The least disruptive path that takes the whole build.
pub fn decide(plan: &mut Plan, mode: Mode) {
    let c = &plan.counts;
    let mut why = Vec::new();
    if c.structural > 0 {
        let names: Vec<&str> =
            plan.classes.iter().filter(|x| x.change == Change::Structural).map(|x| x.name.as_str()).take(5).collect();
        why.push(format!(
            "{} class(es) changed structurally ({}{})",
            c.structural,
            names.join(", "),
            if c.structural > 5 { ", …" } else { "" }
        ));
    }
    if c.removed > 0 {
        let names: Vec<&str> =
            plan.classes.iter().filter(|x| x.change == Change::Removed).map(|x| x.name.as_str()).take(5).collect();
        why.push(format!(
            "{} loaded class(es) are not in the build ({}{}); a running JVM cannot unload them",
            c.removed,
            names.join(", "),
            if c.removed > 5 { ", …" } else { "" }
        ));
    }
    if !plan.resources.is_empty() {
        let names: Vec<&str> = plan.resources.iter().map(|r| r.name.as_str()).take(5).collect();
        why.push(format!(
            "{} resource(s) changed ({}{}); an application reads them at start",
            plan.resources.len(),
            names.join(", "),
            if plan.resources.len() > 5 { ", …" } else { "" }
        ));
    }
    if !plan.dependencies.is_empty() {
        why.push(format!("dependency jar(s) changed: {}", plan.dependencies.join(", ")));
    }
    if let Some(r) = plan.rewritten_in_place.as_ref().filter(|r| r.not_loaded > 0) {
        // The JVM indexed the jar when it opened it; a file rewritten in place under that index
        // serves other bytes at the old offsets (ZipException, NoClassDefFoundError), whatever
        // is redefined. Only a new process reads the new file whole.
        why.insert(
            0,
            format!(
                "{} was rewritten in place while the JVM runs from it; {} class(es) of the build are not loaded yet \
                 and the JVM would read them through its index of the old file, where they may fail to load \
                 (build to a new file, or deploy target/classes, to keep a redefinition possible)",
                r.jars.join(", "),
                r.not_loaded
            ),
        );
    }
    let any_change = c.body_only + c.structural + c.new + c.pending + c.removed > 0 || !plan.resources.is_empty();
    plan.decision = match mode {
        Mode::Replace => {
            why.insert(0, "--mode replace".into());
            Decision::Replace
        }
        _ if !why.is_empty() => Decision::Replace,
        _ if any_change => {
            why.push(format!(
                "{} class(es) changed in method bodies only{}{}: one atomic redefinition",
                c.body_only,
                if c.new > 0 { format!(", {} new class(es) defined first", c.new) } else { String::new() },
                if c.pending > 0 {
                    format!(", {} not loaded yet (used when they load)", c.pending)
                } else {
                    String::new()
                },
            ));
            Decision::Redefine
        }
        _ => {
            why.push("the JVM already runs exactly this build".into());
            Decision::Nothing
        }
    };
    plan.reasons = why;
}

/// Whether `mode` lets the plan go ahead: `--mode redefine` refuses one that needs a replacement,
/// before anything is changed.
pub fn allowed(plan: &Plan, mode: Mode) -> Result<(), DeployError> {
    if plan.decision == Decision::Replace && mode == Mode::Redefine {
        return Err(DeployError::NeedsReplace { reasons: plan.reasons.clone() });
    }
    Ok(())
}

/// Classes planned as "not loaded yet" that the JVM loaded before the redefinition reached it:
/// judged again on the bytes they loaded with (`verdicts`), and the plan decided again.
pub fn replan_loaded(plan: &mut Plan, loaded: &[String], verdicts: &Verdicts, mode: Mode) {
    let counts = &mut plan.counts;
    plan.classes.retain_mut(|c| {
        if c.change != Change::Pending || !loaded.contains(&c.name) {
            return true;
        }
        counts.pending -= 1;
        let (verdict, reasons) = verdicts.get(&c.name).cloned().unwrap_or((Verdict::Unchanged, Vec::new()));
        c.reasons = reasons;
        // Unchanged once loaded: no longer a change.
        counts.count(verdict).map(|change| c.change = change).is_some()
    });
    decide(plan, mode);
    plan.reasons.insert(
        0,
        format!(
            "{} class(es) loaded while jhot was planning ({}); judged again against what they loaded",
            loaded.len(),
            loaded.join(", ")
        ),
    );
}

#[cfg(test)]
mod tests;
