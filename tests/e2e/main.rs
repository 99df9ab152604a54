//! End-to-end tests: real JVMs (JDK 11, 17, 21, 25) started from samples/, driven by the real
//! `jhot` binary. One test binary (ripgrep style); where a new test goes:
//!
//! * `redefine.rs`: the whole redefine / pending / rollback / history cycle, per JDK.
//! * `bad_input.rs`: every bad input gets a clear error, its exit code, and changes nothing.
//! * `diff.rs`: `jhot diff`, `jhot javap`, and the pre-flight of `jhot redefine`.
//! * `commands.rs`: `ps`, `info`, `agent --javaagent-flag`, other users and containers.
//! * `deploy.rs`: `jhot deploy`: each kind of change gets its path (nothing, redefinition,
//!   replacement), on the deploy-app fixture and the Spring Boot sample.
//! * `takeover.rs`: `jhot replace` and `jhot run` on the three takeover samples under load, and
//!   the faults (a new version that exits, never gets ready, a jhot killed mid-way).
//! * `session.rs`: the engine's long-lived JVM session (shell, watch), used as a library.
//! * `json_contract.rs`: every command's `--json` document reduced to its shape and compared with
//!   `tests/e2e/json/` (the contract of docs/json.md).
//! * `agent_java.rs`: the Java agent's own unit tests, run on every JDK.
//! * `security/`: another local user or a container tenant attacks root's jhot (adversarial).
//! * `util.rs`: the harness (JDKs, fixtures, running sample apps).

mod agent_java;
mod bad_input;
mod commands;
mod corpus;
mod deploy;
mod diff;
mod json_contract;
mod parse_world;
mod redefine;
mod run;
mod security;
mod session;
mod takeover;
mod util;
