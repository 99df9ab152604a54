//! The one error type the library returns, and the exit codes it maps to. Exit codes are part of
//! jhot's interface (scripts and build plugins branch on them); they are listed in README.md and in
//! `jhot --help`, and must not be renumbered.

use crate::agent::AgentError;
use crate::agent::Connection;
use crate::archive::ArchiveError;
use crate::attach::AttachError;
use crate::compare::Entry;
use crate::patch::Culprit;

/// Documented process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Everything asked was done.
    Ok = 0,
    /// A bug or an unexpected local failure (disk, memory). Please report it.
    Internal = 1,
    /// The command line was wrong (clap prints the usage).
    Usage = 2,
    /// The pid does not exist, is not a JVM, or is not a HotSpot JVM.
    NoTarget = 3,
    /// Not allowed: the JVM belongs to another user, or a directory, file or socket jhot relies on
    /// could have been prepared by another user (see SECURITY.md). Nothing was done.
    Permission = 4,
    /// Could not attach or load the agent (attach disabled, -Xrs without socket, timeout, dynamic
    /// agent loading disabled, agent failed to start).
    Attach = 5,
    /// The input is wrong: bad class file, duplicate class, empty jar, a class that is not loaded
    /// (with --require-loaded), rollback of a class jhot never changed.
    Input = 6,
    /// The change is structural: jhot's verdict before sending, or the JVM's refusal (with
    /// --force). Nothing was changed.
    Rejected = 7,
    /// The JVM exited, or the connection to it broke, during the operation.
    Lost = 8,
    /// A replacement did not happen: the new process failed to start, exited, was not ready in
    /// time, or jhot was interrupted first. It was stopped (drained, not killed); the old process
    /// kept serving throughout.
    Replace = 9,
}

impl ExitCode {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// Short machine name used in `--json` error objects.
    pub fn kind(self) -> &'static str {
        match self {
            ExitCode::Ok => "ok",
            ExitCode::Internal => "internal",
            ExitCode::Usage => "usage",
            ExitCode::NoTarget => "no_target",
            ExitCode::Permission => "permission",
            ExitCode::Attach => "attach",
            ExitCode::Input => "input",
            ExitCode::Rejected => "rejected",
            ExitCode::Lost => "lost",
            ExitCode::Replace => "replace_failed",
        }
    }
}

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
    Takeover(#[from] crate::takeover::TakeoverError),
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
            Error::Attach(e) => attach_exit_code(e),
            Error::Agent(e) => e.exit_code(),
            Error::Archive(_) | Error::Input(_) => ExitCode::Input,
            Error::Rejected { .. } | Error::Structural { .. } => ExitCode::Rejected,
            Error::Takeover(e) => e.exit_code(),
            Error::NeedsReplace { .. } => ExitCode::Rejected,
        }
    }
}

pub fn attach_exit_code(e: &AttachError) -> ExitCode {
    match e {
        AttachError::NoSuchProcess { .. } | AttachError::NotAJvm { .. } | AttachError::NotHotSpot { .. } => {
            ExitCode::NoTarget
        }
        AttachError::PermissionDenied { .. } | AttachError::UnsafeSocket { .. } => ExitCode::Permission,
        AttachError::Exited { .. } => ExitCode::Lost,
        AttachError::BadRequest { .. } => ExitCode::Internal,
        AttachError::AttachDisabled { .. }
        | AttachError::NoAttachListener { .. }
        | AttachError::Timeout { .. }
        | AttachError::StaleSocket { .. }
        | AttachError::Io { .. }
        | AttachError::Protocol { .. }
        | AttachError::CommandFailed { .. }
        | AttachError::DynamicLoadingDisabled { .. }
        | AttachError::AgentLoad { .. }
        | AttachError::ForeignTrigger { .. } => ExitCode::Attach,
    }
}
