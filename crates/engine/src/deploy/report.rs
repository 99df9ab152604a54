//! What `jhot deploy` reports: the plan (what differs from what the JVM runs, and the decision)
//! and what was done. Its JSON is part of jhot's contract (docs/json.md).

use serde::Serialize;

use crate::agent::protocol::InventoryLoader;
use crate::replace::ReplaceReport;
use jhot_classfile::verdict::Verdict;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Nothing,
    Redefine,
    Replace,
}

/// One class that differs from what the JVM runs.
#[derive(Debug, Clone, Serialize)]
pub struct Changed {
    pub name: String,
    pub change: Change,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
    /// Where the new bytes come from (a dependency jar inside the build shows here).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub origin: String,
}

/// How a class of the build differs from what the JVM runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Loaded, and only method bodies changed: redefined.
    BodyOnly,
    /// Loaded, and changed in a way a running JVM cannot take.
    Structural,
    /// Not in the JVM: defined before the redefinition.
    New,
    /// In the JVM's class path but not loaded yet: its new bytes are used when it loads.
    Pending,
    /// Loaded, but not in the build.
    Removed,
}

impl Change {
    /// The word `--json` and the text output use.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::BodyOnly => "body_only",
            Change::Structural => "structural",
            Change::New => "new",
            Change::Pending => "pending",
            Change::Removed => "removed",
        }
    }
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `pad`, so that a width in the caller's format (`{:<10}`) applies.
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Counts {
    pub unchanged: usize,
    pub body_only: usize,
    pub structural: usize,
    pub new: usize,
    pub pending: usize,
    pub removed: usize,
    /// Loaded classes the running build never had (generated at run time: proxies, Hibernate's
    /// and ByteBuddy's classes in the application's packages; or from another code source): not
    /// "removed", and left alone.
    pub left_alone: usize,
}

impl Counts {
    /// Counts a loaded class by its verdict and names the change (`None`: unchanged, for anything
    /// but a structural or body-only one).
    pub(super) fn count(&mut self, verdict: Verdict) -> Option<Change> {
        match verdict {
            Verdict::Structural => {
                self.structural += 1;
                Some(Change::Structural)
            }
            Verdict::BodyOnly => {
                self.body_only += 1;
                Some(Change::BodyOnly)
            }
            _ => {
                self.unchanged += 1;
                None
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ResourceChange {
    pub name: String,
    pub change: ResourceChangeKind,
}

/// How a resource of the build differs from what the JVM was started with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceChangeKind {
    Changed,
    New,
    Removed,
}

impl ResourceChangeKind {
    /// The word `--json` and the text output use.
    pub fn as_str(self) -> &'static str {
        match self {
            ResourceChangeKind::Changed => "changed",
            ResourceChangeKind::New => "new",
            ResourceChangeKind::Removed => "removed",
        }
    }
}

impl std::fmt::Display for ResourceChangeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub pid: u32,
    pub build: String,
    pub build_sha256: String,
    /// The class loader the build's classes live in (the one holding most of them).
    pub loader: Option<InventoryLoader>,
    /// Classes of the build, and loaded application classes the JVM has.
    pub build_classes: usize,
    pub loaded_classes: usize,
    pub counts: Counts,
    /// Every class that is not unchanged.
    pub classes: Vec<Changed>,
    pub resources: Vec<ResourceChange>,
    /// Dependency jars of the build whose classes changed.
    pub dependencies: Vec<String>,
    /// Jars the JVM runs from that were rewritten in place since it started (a build that keeps
    /// the file, as Maven's jar plugin does), and how many of the build's classes the JVM has not
    /// loaded: it reads those through its index of the old file, so they may no longer load.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewritten_in_place: Option<RewrittenInPlace>,
    pub decision: Decision,
    /// Why the decision is what it is, in words.
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RewrittenInPlace {
    pub jars: Vec<String>,
    /// Classes of the build the JVM has not loaded (it would read them from those jars).
    pub not_loaded: usize,
}

#[derive(Debug, Serialize)]
pub struct Applied {
    pub redefined: usize,
    pub pending: usize,
    pub defined: usize,
    pub deploy_id: String,
    pub jvm_ms: f64,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct Timings {
    pub plan: f64,
    pub apply: f64,
    pub total: f64,
}

#[derive(Debug, Serialize)]
pub struct DeployReport {
    pub decision: Decision,
    pub dry_run: bool,
    pub plan: Plan,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redefinition: Option<Applied>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<ReplaceReport>,
    /// Disk and memory disagreeing, and what would bring stale code back.
    pub warnings: Vec<String>,
    pub timings_ms: Timings,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `--json` and the text output use one word for each change; the text pads it in columns.
    #[test]
    fn a_change_reads_the_same_in_json_and_text() {
        for c in [Change::BodyOnly, Change::Structural, Change::New, Change::Pending, Change::Removed] {
            assert_eq!(serde_json::to_value(c).expect("json"), c.as_str());
            assert_eq!(format!("[{c:<10}]"), format!("[{:<10}]", c.as_str()));
        }
        for r in [ResourceChangeKind::Changed, ResourceChangeKind::New, ResourceChangeKind::Removed] {
            assert_eq!(serde_json::to_value(r).expect("json"), r.as_str());
            assert_eq!(r.to_string(), r.as_str());
        }
        assert_eq!(format!("{:<10}|", Change::BodyOnly), "body_only |");
    }
}
