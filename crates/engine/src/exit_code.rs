//! jhot's documented exit codes: part of its interface (scripts and the build plugins branch on
//! them), so they are never renumbered. This is the one copy: `jhot --help` and README.md's table
//! are generated from it (a test keeps the README equal), and `--json` errors carry
//! [`ExitCode::kind`]. A leaf: it depends on nothing in the engine.

use jhot_attach::AttachError;

/// Documented process exit codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
    /// The change is structural: the JVM's refusal judged by jhot's verdict (or the verdict before
    /// sending, or the JVM's refusal with --force). Nothing was changed.
    Rejected = 7,
    /// The JVM exited, or the connection to it broke, during the operation.
    Lost = 8,
    /// A replacement did not happen: the new process failed to start, exited, was not ready in
    /// time, or jhot was interrupted first. It was stopped (drained, not killed); the old process
    /// kept serving throughout.
    Replace = 9,
    /// The command was cancelled (Ctrl-C in `jhot shell`); a script stops there. The agent stopped
    /// at a point where nothing is half-applied.
    Cancelled = 10,
}

impl ExitCode {
    /// Every code, in numeric order.
    pub const ALL: [ExitCode; 11] = [
        ExitCode::Ok,
        ExitCode::Internal,
        ExitCode::Usage,
        ExitCode::NoTarget,
        ExitCode::Permission,
        ExitCode::Attach,
        ExitCode::Input,
        ExitCode::Rejected,
        ExitCode::Lost,
        ExitCode::Replace,
        ExitCode::Cancelled,
    ];

    pub fn code(self) -> u8 {
        self as u8
    }

    /// The code with this number, if jhot documents one (a `jhot run` supervisor's answer carries
    /// its code as a number).
    pub fn from_code(code: u8) -> Option<ExitCode> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// Short machine name used in `--json` error objects (`error.kind`).
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
            ExitCode::Cancelled => "cancelled",
        }
    }

    /// What the code means, for people: one sentence, plain text.
    pub fn meaning(self) -> &'static str {
        match self {
            ExitCode::Ok => "done",
            ExitCode::Internal => "internal error (a bug, or a local disk/memory failure)",
            ExitCode::Usage => "usage error",
            ExitCode::NoTarget => "no such process, not a JVM, or not a HotSpot JVM",
            ExitCode::Permission => {
                "permission denied: another user's JVM; or a directory, file or socket jhot relies on could have \
                 been prepared by another user (not private, a link, in a non-sticky /tmp, a socket served by \
                 another process); nothing was done (see SECURITY.md)"
            }
            ExitCode::Attach => {
                "could not attach or load the agent (attach disabled, -Xrs without socket, timeout, dynamic agent \
                 loading disabled)"
            }
            ExitCode::Input => {
                "bad input: class file, path, duplicate class, empty jar, class not loaded with --require-loaded, \
                 rollback of a class jhot never changed"
            }
            ExitCode::Rejected => {
                "the change is structural (the JVM's refusal judged by jhot's verdict, the verdict before sending \
                 under non-standard redefinition rules, the JVM's refusal with --force, or a deploy that needs a \
                 replacement with --mode redefine); nothing was changed"
            }
            ExitCode::Lost => "the JVM exited, or the connection to it broke, during the operation",
            ExitCode::Replace => {
                "a replacement did not happen: the new process exited, was not ready in time, or jhot was \
                 interrupted before it was; it was stopped (what it had accepted was finished, not reset) and the \
                 old process kept serving"
            }
            ExitCode::Cancelled => {
                "cancelled (Ctrl-C in jhot shell; a script stops there): the agent stopped where nothing is \
                 half-applied, or had already finished"
            }
        }
    }

    /// The code for an attach failure (the attach crate knows nothing of jhot's codes).
    pub fn of_attach(e: &AttachError) -> ExitCode {
        match e {
            AttachError::NoSuchProcess { .. } | AttachError::NotAJvm { .. } | AttachError::NotHotSpot { .. } => {
                ExitCode::NoTarget
            }
            AttachError::PermissionDenied { .. }
            | AttachError::UnsafeSocket { .. }
            | AttachError::LeftoverSocket { .. } => ExitCode::Permission,
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

    /// The table `jhot --help` ends with: one entry per code, wrapped to `width` columns.
    pub fn help_table(width: usize) -> String {
        let mut s = String::from("Exit codes:");
        for c in Self::ALL {
            let mut line = format!("  {}  ", c.code());
            let indent = line.len();
            for word in c.meaning().split(' ') {
                if line.len() + word.len() + 1 > width && line.len() > indent {
                    s.push('\n');
                    s.push_str(line.trim_end());
                    line = " ".repeat(indent + 2);
                }
                line.push_str(word);
                line.push(' ');
            }
            s.push('\n');
            s.push_str(line.trim_end());
        }
        s
    }

    /// The Markdown table README.md shows (and a test compares).
    pub fn markdown_table() -> String {
        let mut s = String::from("| code | `error.kind` | meaning |\n|---|---|---|\n");
        for c in Self::ALL {
            s.push_str(&format!("| {} | `{}` | {} |\n", c.code(), c.kind(), c.meaning()));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_their_position() {
        for (i, c) in ExitCode::ALL.iter().enumerate() {
            assert_eq!(c.code() as usize, i);
            assert_eq!(ExitCode::from_code(c.code()), Some(*c));
        }
        assert_eq!(ExitCode::from_code(11), None);
    }

    #[test]
    fn help_table_wraps_and_lists_every_code() {
        let t = ExitCode::help_table(80);
        assert!(t.lines().all(|l| l.chars().count() <= 80), "{t}");
        for c in ExitCode::ALL {
            assert!(t.contains(&format!("\n  {}  ", c.code())), "{t}");
        }
    }
}
