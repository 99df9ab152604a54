//! jhot-engine: what jhot does to a running JVM, without a terminal.
//!
//! The `jhot` binary (`cli/`) parses arguments, calls one function here per command and renders the
//! report it gets back (text or JSON). Nothing here prints, parses a command line or knows about
//! colours; progress and notes travel as [`events`]. Below this crate sit `jhot-attach` (the HotSpot
//! attach protocol, `/proc`, finding JVMs) and `jhot-classfile` (class files and HotSpot's verdict).
//!
//! Where a change belongs:
//!
//! * [`exit_code`]: the documented exit codes (a leaf: everything may use it, it uses nothing).
//! * [`error`]: the one error type; each module's error converts into it.
//! * [`agent`]: the embedded Java agent, installing it into the target, and the control-channel
//!   client that talks to it once it is resident.
//! * [`session`]: one JVM and a resident agent connection, kept for many commands (shell, watch).
//! * [`events`]: progress and notes for whoever drives a command (a [`events::Sink`]).
//! * [`archive`]: where class bytes come from (.class files, directories, jars).
//! * [`changes`]: what a change needs: new classes against old files or a running JVM.
//! * [`patch`]: the one redefinition path: applying, rollback and history.
//! * [`deploy`]: `jhot deploy`: a new build against what the JVM runs; nothing, a redefinition,
//!   or a replacement.
//! * [`replace`]: replacing a process for structural changes (`replace`, `run`): shared listeners,
//!   the preloaded shim, readiness, drain and connection hand-over.
//! * [`inspect`]: looking at JVMs without changing them (`ps`, `info`).
//! * [`classes`]: what is loaded and by whom (`sc`, `sm`, `classloader`, `dump`), class patterns,
//!   and the class-name index the shell completes from.
//! * [`runtime`]: looking inside a running JVM (`thread`, `getstatic`, `jvm`, `sysprop`).
//! * [`tools`]: `jad` and `mc`: the decompiler and the compilers, in a helper JVM.

pub mod agent;
pub mod archive;
pub mod changes;
pub mod classes;
pub mod deploy;
pub mod error;
pub mod events;
pub mod exit_code;
pub mod inspect;
pub mod patch;
pub mod replace;
pub mod runtime;
pub mod session;
pub mod tools;
pub mod watch;

pub use error::Error;
pub use exit_code::ExitCode;

/// A duration in milliseconds with one decimal, as every report shows it.
pub(crate) fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}
