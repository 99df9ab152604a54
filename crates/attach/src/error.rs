//! Why an attach failed, and what the user can do about it.

use std::fmt;
use std::io;
use std::path::PathBuf;

/// The stage of an attach at which time ran out or the JVM went away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Waiting for the JVM to install its signal handlers (a JVM that is still starting).
    SignalHandlers,
    /// Waiting for the attach socket after the trigger file and SIGQUIT.
    Listener,
    Connect,
    Request,
    Reply,
}

impl Step {
    fn hint(self) -> &'static str {
        match self {
            Step::SignalHandlers => {
                "The JVM did not install its SIGQUIT handler in time: it may still be starting (retry \
                 in a moment) or run with -Xrs, whose attach socket must already exist."
            }
            Step::Listener => {
                "Possible causes: the JVM is hung or stuck in a long GC or safepoint; it runs with \
                 -XX:+DisableAttachMechanism set where jhot could not see it (e.g. an @argfile of a \
                 JVM with -XX:-UsePerfData); its /tmp is not the one jhot sees through \
                 /proc/<pid>/root; or the trigger file was owned by a user the JVM does not trust. \
                 In these cases the JVM printed a 'Full thread dump' to its stdout (a hung JVM \
                 prints it when it recovers). Retry with a longer --timeout."
            }
            Step::Connect | Step::Request => {
                "The attach listener handles one client at a time: another tool (jcmd, jattach, \
                 another jhot) may be holding it, or the JVM is hung. Retry with a longer --timeout."
            }
            Step::Reply => {
                "The command may still be running inside the JVM (heap dumps and class histograms \
                 of large heaps take long), or the JVM is stuck at a safepoint. Retry with a longer \
                 timeout."
            }
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::SignalHandlers => "waiting for the JVM's signal handlers",
            Step::Listener => "waiting for the attach listener to start",
            Step::Connect => "connecting to the attach socket",
            Step::Request => "sending the request",
            Step::Reply => "waiting for the reply",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AttachError {
    #[error("no process with pid {pid}: it has exited or never existed; `jhot ps` lists the JVMs")]
    NoSuchProcess { pid: u32 },

    #[error("process {pid} ({exe}) is not a Java VM: it has no libjvm.so loaded; pick a pid from `jhot ps`")]
    NotAJvm { pid: u32, exe: String },

    #[error("process {pid} runs {vm}, which is not HotSpot; jhot can only attach to HotSpot JVMs (OpenJDK builds)")]
    NotHotSpot { pid: u32, vm: String },

    #[error(
        "process {pid} runs as uid {target_uid} gid {target_gid}, but jhot runs as uid {our_euid} \
         gid {our_egid}; a JVM accepts attach only from its own user and group, or from root: run \
         jhot as that user (e.g. `sudo -u '#{target_uid}' -g '#{target_gid}' jhot ...`) or as root"
    )]
    PermissionDenied { pid: u32, target_uid: u32, target_gid: u32, our_euid: u32, our_egid: u32 },

    #[error(
        "JVM {pid} was started with -XX:+DisableAttachMechanism, so it cannot be attached to (jhot \
         did not signal it); restart it without that flag, or start it with the agent: `jhot agent \
         --javaagent-flag`"
    )]
    AttachDisabled { pid: u32 },

    #[error(
        "JVM {pid} has no attach socket and does not handle SIGQUIT, so its attach listener cannot \
         be started (jhot did not signal it). A JVM with -Xrs opens its socket {socket} at startup, \
         so the socket was deleted afterwards, e.g. by a /tmp cleaner (systemd-tmpfiles, tmpreaper). \
         Restart the JVM, and exclude /tmp/.java_pid* from the cleaner"
    )]
    NoAttachListener { pid: u32, socket: PathBuf },

    #[error(
        "{path} belongs to uid {owner}, not to the JVM's user (uid {jvm_uid}) or root: the JVM \
         would ignore it and print a thread dump instead of starting its attach listener, so \
         jhot did not signal it. Remove the file and retry"
    )]
    ForeignTrigger { pid: u32, path: PathBuf, owner: u32, jvm_uid: u32 },

    #[error(
        "refusing to use {socket} for JVM {pid}: {reason}. Another user may be impersonating the JVM's \
         attach listener or agent; nothing was sent to it. Remove it (as root) and run jhot again"
    )]
    UnsafeSocket { pid: u32, socket: PathBuf, reason: String },

    #[error(
        "refusing to use {socket} for JVM {pid}: it belongs to uid {owner}, not to the JVM's uid \
         {jvm_uid}, and is {older_s} s older than the JVM, so an earlier process with pid {pid} \
         left it (killed before it could remove it). The JVM cannot replace another user's file in \
         the sticky /tmp, so its attach listener cannot start; nothing was sent to it. Remove the \
         file as root (`rm {socket}`) and run jhot again"
    )]
    LeftoverSocket { pid: u32, socket: PathBuf, owner: u32, jvm_uid: u32, older_s: u64 },

    #[error("JVM {pid} did not respond within {waited_ms} ms while {step}. {}", step.hint())]
    Timeout { pid: u32, step: Step, waited_ms: u64 },

    #[error("JVM {pid} exited while jhot was {step}")]
    Exited { pid: u32, step: Step },

    #[error(
        "{socket} exists but nothing listens on it (connection refused): it was left by a JVM \
         that died without cleaning up. If {pid} is a live JVM that reuses the pid, remove the file \
         and retry: `rm {socket}`"
    )]
    StaleSocket { pid: u32, socket: PathBuf },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    #[error("unexpected answer from the JVM's attach listener: {detail}")]
    Protocol { detail: String },

    #[error("invalid attach request: {detail}")]
    BadRequest { detail: String },

    #[error("the JVM rejected `{command}` (status {status}): {message}")]
    CommandFailed { command: String, status: i32, message: String },

    #[error(
        "JVM {pid} refuses to load agents at run time (-XX:-EnableDynamicAgentLoading); restart it \
         with -XX:+EnableDynamicAgentLoading, or start it with the agent: `jhot agent --javaagent-flag`"
    )]
    DynamicLoadingDisabled { pid: u32 },

    #[error("the JVM could not load the agent{}: {message}", return_code(*code))]
    AgentLoad { code: Option<i32>, message: String },
}

fn return_code(code: Option<i32>) -> String {
    code.map(|c| format!(" (return code {c})")).unwrap_or_default()
}

impl AttachError {
    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Self {
        AttachError::Io { context: context.into(), source }
    }

    pub(crate) fn protocol(detail: impl Into<String>) -> Self {
        AttachError::Protocol { detail: detail.into() }
    }
}
