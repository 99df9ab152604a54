//! The one error type the engine returns, and the exit code each maps to ([`ExitCode`]).

use crate::agent::AgentError;
use crate::agent::Connection;
use crate::archive::ArchiveError;
use crate::changes::Entry;
pub use crate::exit_code::ExitCode;
use crate::patch::Culprit;
use jhot_attach::AttachError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("{0}")]
    Input(String),
    #[error("{}", rejected_message(.jvm_message, .culprits))]
    Rejected { jvm_message: String, culprits: Vec<Culprit>, connection: Connection },
    #[error("{}", structural_message(.entries))]
    Structural { entries: Vec<Entry>, connection: Connection },
    #[error(transparent)]
    Takeover(#[from] crate::replace::TakeoverError),
    #[error(
        "this build needs a process replacement, which --mode redefine does not allow; nothing was changed:\n  - {}\n  Run `jhot deploy` without --mode (or with --mode replace) to replace the process",
        .reasons.join("\n  - ")
    )]
    NeedsReplace { reasons: Vec<String> },
}

fn structural_message(entries: &[Entry]) -> String {
    let mut s = String::from(
        "not redefined: the change is structural, which a running JVM cannot take; nothing was sent to the JVM.",
    );
    for e in entries {
        let loader = e.loader.as_ref().map(|l| format!(" [{} {}]", l.name, l.id)).unwrap_or_default();
        s.push_str(&format!("\n  {}{loader}", e.diff.name));
        for r in &e.diff.reasons {
            s.push_str(&format!("\n    - {} (the JVM would say: {})", r.message, r.jvm_error));
        }
        for x in &e.diff.explanations {
            s.push_str(&format!("\n      {x}"));
        }
    }
    s.push_str("\n  Restart the JVM with the new build, or pass --force to let the JVM decide anyway.");
    s
}

fn rejected_message(jvm: &str, culprits: &[Culprit]) -> String {
    let mut s =
        format!("the JVM refused the redefinition; nothing was changed and the old code keeps running.\n  JVM: {jvm}");
    for c in culprits {
        if c.differences.is_empty() {
            s.push_str(&format!("\n  {}", c.class));
        } else {
            s.push_str(&format!("\n  {}: {}", c.class, c.differences.join("; ")));
        }
    }
    s.push_str("\n  Only method bodies can be redefined in a running JVM; a structural change needs a restart.");
    s
}

impl Error {
    /// Machine-readable particulars for `--json`: which classes, and why.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            Error::Structural { entries, .. } => {
                serde_json::to_value(entries).ok().map(|v| serde_json::json!({ "classes": v }))
            }
            Error::Rejected { jvm_message, culprits, .. } => {
                Some(serde_json::json!({ "jvm_message": jvm_message, "classes": culprits }))
            }
            Error::Agent(AgentError::Refused(f)) => serde_json::to_value(f).ok(),
            Error::NeedsReplace { reasons } => Some(serde_json::json!({ "reasons": reasons })),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Attach(e) => ExitCode::of_attach(e),
            Error::Agent(e) => e.exit_code(),
            Error::Archive(_) | Error::Input(_) => ExitCode::Input,
            Error::Rejected { .. } | Error::Structural { .. } => ExitCode::Rejected,
            Error::Takeover(e) => e.exit_code(),
            Error::NeedsReplace { .. } => ExitCode::Rejected,
        }
    }
}
