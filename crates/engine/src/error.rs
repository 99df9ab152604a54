//! The one error type the engine returns: each module's own error, gathered, and the exit code and
//! `--json` particulars of each ([`ExitCode`]). The messages live with the errors.

use crate::agent::AgentError;
use crate::archive::ArchiveError;
use crate::changes::ChangesError;
use crate::classes::ClassesError;
use crate::deploy::DeployError;
pub use crate::exit_code::ExitCode;
use crate::patch::PatchError;
use crate::replace::TakeoverError;
use crate::runtime::RuntimeError;
use crate::tools::ToolsError;
use jhot_attach::AttachError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error(transparent)]
    Changes(#[from] ChangesError),
    #[error(transparent)]
    Patch(#[from] PatchError),
    #[error(transparent)]
    Classes(#[from] ClassesError),
    #[error(transparent)]
    Deploy(#[from] DeployError),
    #[error(transparent)]
    Takeover(#[from] TakeoverError),
    #[error(transparent)]
    Runtime(#[from] RuntimeError),
    #[error(transparent)]
    Tools(#[from] ToolsError),
    /// Wrong input no module has a word for (paths, names on the command line).
    #[error("{0}")]
    Input(String),
    /// A command line that names no single JVM (`--select` matching several).
    #[error("{0}")]
    Usage(String),
    /// No JVM matches what the command line asked for (`--select` matching none).
    #[error("{0}")]
    NoTarget(String),
    /// The user cancelled the command (Ctrl-C in the shell).
    #[error("cancelled: {0}")]
    Cancelled(String),
}

impl Error {
    /// Machine-readable particulars for `--json`: which classes, and why.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            Error::Agent(e) => e.details(),
            Error::Changes(e) => e.details(),
            Error::Patch(e) => e.details(),
            Error::Classes(e) => e.details(),
            Error::Deploy(e) => e.details(),
            Error::Runtime(e) => e.details(),
            Error::Tools(e) => e.details(),
            Error::Attach(_)
            | Error::Archive(_)
            | Error::Takeover(_)
            | Error::Input(_)
            | Error::Usage(_)
            | Error::NoTarget(_)
            | Error::Cancelled(_) => None,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::Attach(e) => ExitCode::of_attach(e),
            Error::Agent(e) => e.exit_code(),
            Error::Changes(e) => e.exit_code(),
            Error::Patch(e) => e.exit_code(),
            Error::Classes(e) => e.exit_code(),
            Error::Deploy(e) => e.exit_code(),
            Error::Takeover(e) => e.exit_code(),
            Error::Runtime(e) => e.exit_code(),
            Error::Tools(e) => e.exit_code(),
            Error::Archive(_) | Error::Input(_) => ExitCode::Input,
            Error::Usage(_) => ExitCode::Usage,
            Error::NoTarget(_) => ExitCode::NoTarget,
            Error::Cancelled(_) => ExitCode::Cancelled,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::agent::{AgentFailure, FailureKind};
    use crate::patch::Culprit;

    fn refused(kind: FailureKind) -> AgentError {
        AgentError::Refused(AgentFailure { kind, message: "m".into(), classes: vec!["a.B".into()] })
    }

    /// The words, codes and `--json` particulars scripts rely on, wherever the error comes from.
    #[test]
    fn messages_codes_and_details_are_the_contract() {
        let e = Error::from(PatchError::Rejected {
            jvm_message: "java.lang.UnsupportedOperationException: class redefinition failed".into(),
            culprits: vec![
                Culprit { class: "a.B".into(), differences: vec!["field added: int x".into()] },
                Culprit { class: "a.C".into(), differences: vec![] },
            ],
            connection: None,
        });
        assert_eq!(
            e.to_string(),
            "the JVM refused the redefinition; nothing was changed and the old code keeps running.\n  JVM: \
             java.lang.UnsupportedOperationException: class redefinition failed\n  a.B: field added: int x\n  a.C\n  \
             Only method bodies can be redefined in a running JVM; a structural change needs a restart."
        );
        assert_eq!(e.exit_code(), ExitCode::Rejected);
        assert_eq!(
            e.details(),
            Some(json!({
                "jvm_message": "java.lang.UnsupportedOperationException: class redefinition failed",
                "classes": [{"class": "a.B", "differences": ["field added: int x"]}, {"class": "a.C", "differences": []}]
            }))
        );

        let e = Error::from(PatchError::NeverChanged { classes: vec!["a.B".into(), "a.C".into()], pid: 42 });
        assert_eq!(
            e.to_string(),
            "jhot has not changed a.B, a.C in JVM 42: its agent is not resident there, so nothing was changed"
        );
        assert_eq!((e.exit_code(), e.details()), (ExitCode::Input, None));

        let e = Error::from(DeployError::NeedsReplace { reasons: vec!["one".into(), "two".into()] });
        assert_eq!(
            e.to_string(),
            "this build needs a process replacement, which --mode redefine does not allow; nothing was changed:\n  - \
             one\n  - two\n  Run `jhot deploy` without --mode (or with --mode replace) to replace the process"
        );
        assert_eq!(e.exit_code(), ExitCode::Rejected);
        assert_eq!(e.details(), Some(json!({ "reasons": ["one", "two"] })));

        let e = Error::from(DeployError::NotThisBuild { pid: 7, classes: 3 });
        assert_eq!(
            e.to_string(),
            "pid 7 does not run this build: none of its 3 classes is loaded there (another application, or a build \
             of something else?); nothing was changed"
        );
        assert_eq!((e.exit_code(), e.details()), (ExitCode::Input, None));
    }

    /// An agent's refusal reads the same whichever module passed it on.
    #[test]
    fn an_agents_refusal_keeps_its_kind_code_and_details() {
        // The agent's word under `agent`: the envelope's kind stays the exit code's (docs/json.md).
        let shown = json!({ "classes": ["a.B"], "agent": { "kind": "not_loaded", "message": "m" } });
        for e in [
            Error::from(refused(FailureKind::NotLoaded)),
            Error::from(PatchError::from(refused(FailureKind::NotLoaded))),
            Error::from(ChangesError::from(refused(FailureKind::NotLoaded))),
            Error::from(PatchError::from(ChangesError::from(refused(FailureKind::NotLoaded)))),
        ] {
            assert_eq!(e.to_string(), "m");
            assert_eq!(e.exit_code(), ExitCode::Input);
            assert_eq!(e.details(), Some(shown.clone()));
        }
        let e = Error::from(refused(FailureKind::Rejected));
        assert_eq!(e.to_string(), "the JVM refused the change and kept running the old code (nothing was changed): m");
        assert_eq!(e.exit_code(), ExitCode::Rejected);
        assert_eq!(Error::from(refused(FailureKind::LoadedSincePlan)).exit_code(), ExitCode::Internal);
        assert_eq!(Error::from(refused(FailureKind::Unknown("quota".into()))).exit_code(), ExitCode::Internal);
    }
}
