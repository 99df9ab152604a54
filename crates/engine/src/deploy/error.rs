//! Why a deploy did not happen. Nothing was changed.

use std::path::PathBuf;

use crate::archive::ArchiveError;
use crate::changes::ChangesError;
use crate::exit_code::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Changes(#[from] ChangesError),
    #[error("reading the build failed: {0}")]
    Reading(#[from] tokio::task::JoinError),
    #[error("{build}: no class in this build")]
    NoClass { build: String },
    #[error(
        "pid {pid} does not run this build: none of its {classes} classes is loaded there (another application, or a \
         build of something else?); nothing was changed"
    )]
    NotThisBuild { pid: u32, classes: usize },
    #[error("{class}: not in the build")]
    NotInBuild { class: String },
    #[error("a replacement takes one build (a jar or a directory); pass one path")]
    OneBuild,
    #[error(
        "pid {pid} does not run {} and jhot cannot tell which class-path entry it replaces; use `jhot replace {pid} -- <command>`",
        .build.display()
    )]
    WhichEntry { pid: u32, build: PathBuf },
    #[error(
        "pid {pid} runs in a container where {} is not the same file at the same path: the new process could not \
         open it. Make the build visible there at the same path (a bind mount), or use `jhot replace {pid} --jar \
         <path in the container>`; nothing was changed",
        .build.display()
    )]
    NotInContainer { pid: u32, build: PathBuf },
    /// A planner's caller did not give it the bytes the JVM runs that it asked for (a bug).
    #[error("internal: the plan was not given the bytes the JVM runs of {classes} class(es) it asked for")]
    Unanswered { classes: usize },
    /// `--mode redefine`, and the plan needs a replacement.
    #[error(
        "this build needs a process replacement, which --mode redefine does not allow; nothing was changed:\n  - {}\n  Run `jhot deploy` without --mode (or with --mode replace) to replace the process",
        .reasons.join("\n  - ")
    )]
    NeedsReplace { reasons: Vec<String> },
}

impl DeployError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            DeployError::Changes(e) => e.exit_code(),
            DeployError::NeedsReplace { .. } => ExitCode::Rejected,
            DeployError::Unanswered { .. } => ExitCode::Internal,
            DeployError::Archive(_)
            | DeployError::Reading(_)
            | DeployError::NoClass { .. }
            | DeployError::NotThisBuild { .. }
            | DeployError::NotInBuild { .. }
            | DeployError::OneBuild
            | DeployError::WhichEntry { .. }
            | DeployError::NotInContainer { .. } => ExitCode::Input,
        }
    }

    /// Machine-readable particulars for `--json`.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            DeployError::Changes(e) => e.details(),
            DeployError::NeedsReplace { reasons } => Some(serde_json::json!({ "reasons": reasons })),
            _ => None,
        }
    }
}
