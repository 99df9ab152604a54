//! Playing the other local user: every test here sets a trap that another user (or a container
//! tenant) could set for root's jhot, and asserts both halves — jhot refuses with its documented
//! exit code and message, and nothing was signalled, written, connected to or loaded. The traps
//! live in [`Sandbox`](crate::harness::Sandbox)es (private mount namespaces with their own
//! `/tmp`), so the machine's `/tmp` is never touched.
//!
//! * `files.rs`: jhot's own directory, the private directory, paths through a container's root,
//!   the attach socket, hostile files.
//! * `channel.rs`: the agent's channel (JDK 11–15 loopback port, Unix socket) and its peers.
//! * `replace.rs`: `jhot replace` and `jhot run` against fake supervisors and spoofed probes.

mod channel;
mod files;
mod replace;
