//! jhot-attach: the HotSpot attach mechanism, spoken natively (no JDK needed on this machine), and
//! the process facts it rests on. Synchronous and small, in the spirit of jattach: no async runtime,
//! no knowledge of jhot's agent.
//!
//! An attach is: find the JVM's socket `/proc/<pid>/root/tmp/.java_pid<nspid>`; if it is not
//! there, start the listener (trigger file + SIGQUIT, see [`handshake`]); connect as the JVM's
//! user or root; send one request; read the reply until EOF. One connection per command.
//!
//! * [`procfs`]: facts from `/proc` (ids, namespaces, signal masks, flags, which VM). Every read
//!   of `/proc` in jhot goes through here.
//! * [`hsperf`]: HotSpot's perf-data file (what `jps` reads).
//! * [`discover`]: finding JVMs on this machine (`jhot ps`, `jhot info`).
//! * [`safe_fs`]: files, directories and sockets another user may touch, checked on a descriptor
//!   before use.
//! * [`Target`]: one JVM process and the paths to reach it.
//! * [`as_target`]: run code with the JVM's uid/gid (files it must trust or own).
//! * [`wire`]: the request and reply bytes; no I/O.
//!
//! The comments say why a step is the way it is; the protocol itself is jattach's and HotSpot's
//! (`src/hotspot/os/posix/attachListener_posix.cpp`).

mod conn;
mod creds;
pub mod discover;
mod error;
mod handshake;
pub mod hsperf;
pub mod procfs;
pub mod safe_fs;
mod target;
pub mod wire;

use std::time::Duration;

pub use creds::as_target;
pub use error::{AttachError, Step};
pub use procfs::{JvmFlags, VmKind};
pub use target::{Target, pidfd_of, process_alive};
pub use wire::Reply;

/// How long to wait for the JVM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachOptions {
    /// For starting the listener (the socket to appear), connecting and sending the request.
    /// The JDK's client uses 10 s.
    pub timeout: Duration,
    /// For the reply: some commands (heap dumps, class histograms) run long inside the JVM.
    pub read_timeout: Duration,
}

impl Default for AttachOptions {
    fn default() -> Self {
        AttachOptions { timeout: Duration::from_secs(10), read_timeout: Duration::from_secs(30) }
    }
}

/// Runs attach command `cmd` (`jcmd`, `load`, `properties`, `threaddump`, ...) in the JVM.
///
/// Starts the listener first if needed. The reply's status is returned as is: what it means
/// depends on the command (see [`jcmd`] and [`load_agent`]). Arguments longer than HotSpot's
/// v1 limit (1024 bytes) are sent with protocol v2 if the JVM speaks it (JDK 24+).
pub fn execute(target: &Target, cmd: &str, args: &[&str], opts: &AttachOptions) -> Result<Reply, AttachError> {
    // Check the request before touching the JVM; v2 is only decided once we can ask it.
    let request = if wire::needs_v2(cmd, args) {
        Request::V2(wire::request_v2(cmd, args)?)
    } else {
        Request::V1(wire::request_v1(cmd, args)?)
    };
    let cmd = cmd.to_string();
    let worker_target = target.clone();
    let opts = *opts;
    as_target(target, move || {
        session(&worker_target, &cmd, request, &opts).map_err(|e| exited_meanwhile(&worker_target, e))
    })?
}

enum Request {
    V1(Vec<u8>),
    V2(Vec<u8>),
}

/// Everything that must happen with the JVM's credentials: the trigger file and the connect.
fn session(target: &Target, cmd: &str, request: Request, opts: &AttachOptions) -> Result<Reply, AttachError> {
    let socket = handshake::ensure_listener(target, opts.timeout)?;
    let exchange = |bytes: &[u8]| {
        let raw = conn::roundtrip(target, &socket, bytes, opts.timeout, opts.read_timeout)?;
        wire::parse_reply(&raw)
    };
    let bytes = match request {
        Request::V1(bytes) => bytes,
        Request::V2(bytes) => {
            let version = exchange(&wire::request_v1("getversion", &[])?)?;
            if !wire::speaks_v2(&version) {
                return Err(AttachError::BadRequest {
                    detail: format!(
                        "`{cmd}` needs attach protocol v2 (an argument longer than {} bytes), which this \
                         JVM does not speak (JDK 24+ does); shorten the arguments",
                        wire::ARG_MAX
                    ),
                });
            }
            bytes
        }
    };
    let reply = exchange(&bytes)?;
    tracing::debug!(pid = target.pid, cmd, status = reply.status, len = reply.body.len(), "attach reply");
    Ok(reply)
}

/// A JVM that dies closes its sockets before /proc shows it gone: a refused, dropped or broken
/// connection is reported as the exit it was if the process disappears within a moment.
fn exited_meanwhile(target: &Target, e: AttachError) -> AttachError {
    let step = match e {
        AttachError::StaleSocket { .. } => Step::Connect,
        AttachError::Protocol { .. } | AttachError::Io { .. } => Step::Reply,
        _ => return e,
    };
    if target.exits_within(std::time::Duration::from_millis(250)) {
        return AttachError::Exited { pid: target.pid, step };
    }
    e
}

/// Runs a diagnostic command line (`"VM.version"`, `"Thread.print -l"`) and returns its output.
///
/// A non-zero status is an error. Many commands report their own failures in the text
/// under status 0, so callers that care must read the output.
pub fn jcmd(target: &Target, line: &str, opts: &AttachOptions) -> Result<String, AttachError> {
    let reply = execute(target, "jcmd", &[line], opts)?;
    if reply.status != 0 {
        return Err(AttachError::CommandFailed {
            command: line.to_string(),
            status: reply.status,
            message: reply.body.trim().to_string(),
        });
    }
    Ok(reply.body)
}

/// Loads the Java agent `jar` into the JVM, passing `options` to its `agentmain`.
///
/// `jar` is resolved by the JVM, inside its own mount namespace: for a JVM in a container it
/// must be the path as the container sees it (copy the jar through [`Target::root`]), and it
/// must be readable by the JVM's user.
pub fn load_agent(target: &Target, jar: &str, options: &str, opts: &AttachOptions) -> Result<(), AttachError> {
    if !jar.starts_with('/') {
        return Err(AttachError::BadRequest {
            detail: format!("agent jar path `{jar}` must be absolute: the JVM resolves it from its own cwd"),
        });
    }
    if jar.contains('=') {
        // The JVM splits `<jar>=<options>` at the first '='.
        return Err(AttachError::BadRequest {
            detail: format!("agent jar path `{jar}` must not contain '='; copy the jar to another path"),
        });
    }
    let arg = format!("{jar}={options}");
    let reply = execute(target, "load", &["instrument", "false", &arg], opts)?;
    wire::load_outcome(&reply, target.pid)
}

/// True if the JVM's attach listener is running (its socket exists). Sends nothing.
pub fn listener_running(target: &Target) -> bool {
    target.listener_running()
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Read};
    use std::process::{Child, Command, Stdio};
    use std::{env, fs};

    use super::*;

    struct Jvm(Child);

    impl Drop for Jvm {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }

    /// `JHOT_TEST_JAVA=/path/to/bin/java cargo test -- --ignored real_jvm` (default: `java`;
    /// `javac` compiles the target, or `JHOT_TEST_JAVAC`).
    #[test]
    #[ignore = "starts a real JVM"]
    fn real_jvm_cold_then_warm() {
        let java = env::var("JHOT_TEST_JAVA").unwrap_or_else(|_| "java".into());
        let dir = env::temp_dir().join(format!("jhot-attach-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let src = dir.join("Idle.java");
        fs::write(
            &src,
            "public class Idle { public static void main(String[] a) throws Exception { \
             System.out.println(\"ready\"); Thread.sleep(60_000); } }",
        )
        .unwrap();
        // Compiled for the oldest JDK so that one javac serves every `java` under test.
        let javac = env::var("JHOT_TEST_JAVAC").unwrap_or_else(|_| "javac".into());
        let compiled = Command::new(javac).args(["--release", "8", "-d"]).arg(&dir).arg(&src).status();
        assert!(compiled.unwrap().success());
        let mut jvm = Jvm(Command::new(java).arg("-cp").arg(&dir).arg("Idle").stdout(Stdio::piped()).spawn().unwrap());
        let mut stdout = BufReader::new(jvm.0.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "ready");

        let target = Target::open(jvm.0.id()).unwrap();
        let opts = AttachOptions::default();
        assert!(!listener_running(&target));
        assert!(jcmd(&target, "VM.version", &opts).unwrap().contains("JDK"));
        assert!(listener_running(&target));
        assert!(jcmd(&target, "VM.version", &opts).unwrap().contains("JDK"));
        let err = load_agent(&target, "/nonexistent/jhot-test.jar", "", &opts).unwrap_err();
        assert!(matches!(err, AttachError::AgentLoad { code: Some(100), .. }), "{err}");
        assert!(matches!(jcmd(&target, "No.such", &opts), Err(AttachError::CommandFailed { status: -1, .. })));

        let _ = jvm.0.kill();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        assert!(!rest.contains("Full thread dump"), "the JVM was sent a stray SIGQUIT");
        let _ = fs::remove_dir_all(&dir);
    }
}
