//! Running the `jhot` binary and reading what it says.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use super::ensure_user;

/// The `jhot` binary under test: the one cargo built for these tests, or `JHOT_TEST_BIN` (to run the
/// suite against the release binary that `make install` builds, which is linked differently).
pub fn jhot_bin() -> PathBuf {
    match std::env::var_os("JHOT_TEST_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => PathBuf::from(env!("CARGO_BIN_EXE_jhot")),
    }
}

/// A `Command` for the `jhot` binary under test.
pub fn jhot_cmd() -> Command {
    Command::new(jhot_bin())
}

/// What one run of jhot did: its exit code and what it printed.
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    /// stdout parsed as the one JSON document `--json` prints.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("jhot printed no JSON ({e}).\nstdout: {}\nstderr: {}", self.stdout, self.stderr))
    }
}

impl std::fmt::Debug for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

/// jhot run as another (non-root) user, through setpriv.
pub fn as_user(user: &str, args: &[&str]) -> Command {
    let (uid, gid) = ensure_user(user);
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg("--");
    c.arg(jhot_bin()).args(args).current_dir("/");
    c
}

/// Runs jhot with `args` (`&str`s or `String`s) and a bounded wall time, from the tests' working
/// directory.
pub fn jhot<S: AsRef<OsStr>>(args: &[S]) -> Outcome {
    output(jhot_cmd().args(args))
}

/// Runs a prepared command (e.g. under setpriv) and collects its outcome, killing it after 120 s.
pub fn output(cmd: &mut Command) -> Outcome {
    use std::io::Read;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn jhot");
    let mut so = child.stdout.take().expect("stdout");
    let mut se = child.stderr.take().expect("stderr");
    let t1 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = so.read_to_string(&mut s);
        s
    });
    let t2 = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = se.read_to_string(&mut s);
        s
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("jhot did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout: t1.join().expect("stdout"),
        stderr: t2.join().expect("stderr"),
    }
}

/// Runs a command to completion with a bounded wall time, killing it (by pid) after `timeout`.
pub fn output_raw(cmd: &mut Command, timeout: Duration) -> std::process::Output {
    let child = cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().expect("spawn");
    let pid = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    let watchdog = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + timeout;
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            if std::time::Instant::now() > deadline {
                let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    let out = child.wait_with_output().expect("wait");
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = watchdog.join();
    out
}

/// The pid after "new process " in one of jhot's messages.
pub fn pid_in(msg: &str) -> Option<u32> {
    let i = msg.find("new process ")?;
    msg[i + 12..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}
