//! End-to-end tests: real JVMs (JDK 11, 17, 21, 25) started from samples/, driven by the real
//! `jhot` binary. One test binary (ripgrep style); `cargo test --test e2e <module>::<test>` runs
//! one test. Where a new test goes:
//!
//! * `redefine.rs`: the whole redefine / pending / rollback / history cycle, per JDK.
//! * `bad_input.rs`: every bad input gets a clear error, its exit code, and changes nothing.
//! * `diff.rs`: `jhot diff`, `jhot javap`, and the pre-flight of `jhot redefine`.
//! * `commands.rs`: `ps`, `info`, `agent --javaagent-flag`, other users and containers.
//! * `classes.rs`: `sc`, `sm`, `classloader`, `dump` per JDK, the completion index and the
//!   class-load counter on a live JVM, and a dump refused by a planted link.
//! * `corpus.rs`: the redefinition corpus (`tests/corpus/`): jhot's verdict for each change must be
//!   what the JVM does, on every JDK. A new kind of change is a new case directory, not a new test.
//! * `parse_world.rs`: every class of a JDK 25 image and of large jars parses and disassembles.
//! * `deploy.rs`: `jhot deploy`: each kind of change gets its path (nothing, redefinition,
//!   replacement), on the deploy-app fixture and the Spring Boot sample.
//! * `takeover.rs`: `jhot replace` and `jhot run` on the takeover HTTP samples under load, and
//!   the faults (a new version that exits, never gets ready, a jhot killed mid-way).
//! * `any_server.rs`: servers jhot knows nothing about, on any port (ephemeral range, a listener
//!   the new version never binds, a debugger's and JMX's ports beside the application's).
//! * `grpc.rs`: `jhot replace` and `jhot run` on the gRPC sample (grpc-java, HTTP/2, a port in the
//!   ephemeral range) under the gRPC load client, and calls in flight drained by GOAWAY.
//! * `exec_context.rs`: what a replacement keeps of the old process's execution context (cgroups,
//!   limits, umask, no_new_privs, oom_score_adj, priority, affinity, groups, environment).
//! * `container.rs`: `jhot run` as a container's PID 1 with `jhot replace` inside it, and
//!   `jhot replace` / `jhot deploy` from the host of a JVM in a container (harness/container.rs
//!   builds one without a runtime), under load from the container's loopback; the container
//!   stopping mid-replacement.
//! * `gradle.rs`: the Gradle plugin (integrations/gradle) run by Debian's Gradle 4.4.1 on
//!   tests/gradle/hello: `jhotDeploy` of a body change in place and of a structural one by a
//!   replacement under load, `jhotDiff` failing on a structural one.
//! * `runtime.rs`: looking inside a JVM (`thread`, `getstatic`, `jvm`, `sysprop`) per JDK, and
//!   Ctrl-C of a sampling `jhot thread` cancelling the agent's work.
//! * `shell.rs`: `jhot shell` in a real terminal (tmux), in scripts, with pipes, `--select`.
//! * `session.rs`: the engine's long-lived JVM session (shell, watch), used as a library.
//! * `tools.rs`: `jhot jad` and `jhot mc` (the helper JVM: decompiler and compilers), per JDK.
//! * `maven.rs`: the Maven plugin (integrations/maven) in real `mvn` builds of samples/maven-hello
//!   against its running JVM: `jhot:deploy` in place, `jhot:diff -Djhot.failOnStructural`, a
//!   structural change replaced under load by `jhot:deploy`, on Maven 3.8 (Debian) and 3.9.
//! * `watch.rs`: `jhot watch` against builds written as compilers write them (in place, in bursts,
//!   half-written), and the JVM exiting under it.
//! * `json_contract.rs`: every command's `--json` document reduced to its shape and compared with
//!   `tests/e2e/json/` (the contract of docs/json.md).
//! * `agent_java.rs`: the Java agent's own unit tests, run on every JDK.
//! * `security/`: another local user or a container tenant attacks root's jhot (adversarial).
//!
//! Helpers go in `harness/` (JDKs, fixtures, sample JVMs and servers, load, running jhot; see its
//! mod.rs). A test module holds its tests and the steps only they use.
//!
//! The tests run the `jhot` cargo built for them. `JHOT_TEST_BIN=target/release/jhot` runs them
//! against the installed build instead (`cargo build-jhot`, linked statically).

mod agent_java;
mod any_server;
mod bad_input;
mod classes;
mod commands;
mod container;
mod corpus;
mod deploy;
mod diff;
mod exec_context;
mod gradle;
mod grpc;
mod harness;
mod json_contract;
mod maven;
mod parse_world;
mod redefine;
mod runtime;
mod security;
mod session;
mod shell;
mod takeover;
mod tools;
mod watch;
