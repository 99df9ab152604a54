//! jhot: update the code of a running HotSpot JVM without downtime.
//!
//! The binary (`main.rs`) is a thin clap layer over this library. Where a change belongs:
//!
//! * [`attach`]: the HotSpot attach handshake and wire protocol (no JDK needed at run time).
//! * [`jvm`]: finding JVMs on this machine from /proc and hsperfdata (`jhot ps`).
//! * [`agent`]: the embedded Java agent, installing it into the target, and the control-channel
//!   client that talks to it once it is resident.
//! * [`archive`]: where class bytes come from (.class files, directories, jars).
//! * [`classfile`]: reading class files (names, structure) with HotSpot's rules.
//! * [`compare`]: what a change needs: new classes against old files or a running JVM.
//! * [`patch`]: planning and applying redefinitions, rollback and history.
//! * [`deploy`]: `jhot deploy`: a new build against what the JVM runs; nothing, a redefinition,
//!   or a replacement.
//! * [`takeover`]: replacing a process for structural changes (`replace`, `run`): shared listeners,
//!   the preloaded shim, readiness, drain and connection hand-over.
//! * [`inspect`]: looking at JVMs without changing them (`ps`, `info`).
//! * [`error`]: the one error type with documented exit codes.

pub mod agent;
pub mod archive;
pub mod attach;
pub mod classfile;
pub mod compare;
pub mod deploy;
pub mod error;
pub mod inspect;
pub mod jvm;
pub mod patch;
pub mod safe_fs;
pub mod takeover;

pub use error::{Error, ExitCode};
