//! The end-to-end harness: which JDKs to run, the compiled fixtures (the hello-http sample, its
//! patches, the two small test agents), running sample JVMs, and the `jhot` binary. Test modules
//! `use crate::harness::{self, …}`; every helper is reachable as `harness::name`.
//!
//! * `paths.rs`: the repository, `samples/`, the target directory.
//! * `jdk.rs`: the JDKs from `jdks.env` (`scripts/jdks.sh`; `$JHOT_JDKS_ENV`).
//! * `fixtures.rs`: javac, and the fixtures compiled once per test process, atomically.
//! * `users.rs`: other local users (created on demand; root).
//! * `app.rs`: [`App`], one running sample JVM, stopped when dropped.
//! * `procfs.rs`: what `/proc` says about a process.
//! * `http.rs`: a minimal HTTP/1.1 client.
//! * `wait.rs`: bounded waits.
//! * `cli.rs`: running the `jhot` binary and reading what it says.
//! * `container.rs`: [`Container`], a container built the way a runtime builds one (its own root
//!   file system, mount/pid/net/uts/ipc/cgroup namespaces, a cgroup), without a runtime.
//! * `sandbox.rs`: [`Sandbox`], a private mount namespace with its own `/tmp`, where a test
//!   plays another local user (the `security` tests).
//! * `server.rs`: the takeover samples' jars and command lines, free ports, [`Proc`] (a server
//!   whose output is captured) and [`Pids`] (processes stopped when a test ends).
//! * `load.rs`: [`Load`], jhot-loadgen on a thread of its own, and checks on its report.
//! * `terminal.rs`: [`Terminal`], a real terminal (tmux) the shell's tests type into and read.
//! * `grpc.rs`: [`GrpcLoad`], the gRPC sample's load client as a process, its report, and gRPC's
//!   port 50051 when it is free.
//!
//! Every wait here is bounded in time. Nothing here needs anything beyond std, except `cli.rs`
//! (serde_json, to read `--json`), `server.rs` (libc, for kill), `container.rs` (libc, for
//! setns; tempfile, for its root's mount point) and `load.rs` (jhot-loadgen and tokio).

mod app;
mod cli;
mod container;
mod fixtures;
mod grpc;
mod http;
mod jdk;
mod load;
mod paths;
mod procfs;
mod sandbox;
mod server;
mod terminal;
mod users;
mod wait;

pub use app::*;
pub use cli::*;
pub use container::*;
pub use fixtures::*;
pub use grpc::*;
pub use http::*;
pub use jdk::*;
pub use load::*;
pub use paths::*;
pub use procfs::*;
pub use sandbox::*;
pub use server::*;
pub use terminal::*;
pub use users::*;
pub use wait::*;
