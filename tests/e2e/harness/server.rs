//! The servers of the takeover and deploy tests: the sample jars (built by the scripts in
//! `scripts/`), their command lines, free ports, and processes stopped by pid when a test ends.
//! The tests that run them take [`lock`]: two JVMs plus the load saturate a two-core machine.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use super::{alive, repo, target_dir, wait_gone};

/// One test with servers under load at a time (see the module doc).
pub fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sample jars, built once per test process by scripts/build-takeover-samples.sh (which skips
/// work when its sources have not changed).
pub fn jar(app: &str, version: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| built_by("build-takeover-samples.sh", "samples/takeover"));
    let p = dir.join(format!("{app}-{version}.jar"));
    assert!(p.is_file(), "{} was not built", p.display());
    p
}

/// Runs `scripts/<script>` into `<target>/<out>` (the scripts skip work when their sources have not
/// changed) and returns that directory.
pub fn built_by(script: &str, out: &str) -> PathBuf {
    let out = target_dir().join(out);
    let status = Command::new("bash")
        .arg(repo().join("scripts").join(script))
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(status.success(), "scripts/{script} failed");
    out
}

/// A port outside the kernel's ephemeral range (where port-0 sockets of other tests land) that
/// nothing listens on now.
pub fn free_port() -> u16 {
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let _ = NEXT.compare_exchange(0, 20000 + (std::process::id() % 5000) as u16, Ordering::SeqCst, Ordering::SeqCst);
    loop {
        let p = NEXT.fetch_add(1, Ordering::SeqCst);
        if p >= 31000 {
            NEXT.store(20000, Ordering::SeqCst);
            continue;
        }
        if std::net::TcpListener::bind(("0.0.0.0", p)).is_ok() {
            return p;
        }
    }
}

/// A port in the kernel's ephemeral range (where gRPC's 50051 is) that nothing listens on now.
pub fn free_ephemeral_port() -> u16 {
    let l = std::net::TcpListener::bind(("0.0.0.0", 0)).expect("bind port 0");
    l.local_addr().expect("local address").port()
}

pub fn java_cmd(app: &str, version: &str, port: u16, extra_app_args: &[&str]) -> Vec<String> {
    java_cmd_on(17, app, version, port, extra_app_args)
}

pub fn java_cmd_on(jdk: u32, app: &str, version: &str, port: u16, extra_app_args: &[&str]) -> Vec<String> {
    let mut v = vec![
        super::jdk(jdk).java().display().to_string(),
        "-Xmx256m".into(),
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-Dsun.net.httpserver.nodelay=true".into(),
        "-jar".into(),
        jar(app, version).display().to_string(),
        format!("--port={port}"),
    ];
    v.extend(extra_app_args.iter().map(|s| s.to_string()));
    v
}

pub fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a pid this test started (directly or through jhot).
    unsafe { libc::kill(pid as i32, sig) };
}

/// SIGKILL for a JVM this test started that shares the host's `/tmp`, and the attach socket it
/// can no longer remove. A JVM unlinks `/tmp/.java_pid<pid>` at exit, but not when killed; once
/// the pid is reused by a JVM of another user, that JVM cannot replace root's leftover in the
/// sticky `/tmp`, and jhot rightly refuses it (a CI run reuses pids: 32768 go round). Call it
/// while the pid is still taken (our child not yet reaped) where that can be arranged.
pub fn kill_jvm(pid: u32) {
    kill(pid, libc::SIGKILL);
    super::remove_socket(std::path::Path::new(&format!("/tmp/.java_pid{pid}")), |_| true);
}

/// Processes the test caused to exist; each is stopped (SIGTERM, then SIGKILL) when the guard drops.
#[derive(Default)]
pub struct Pids(Mutex<Vec<u32>>);

impl Pids {
    pub fn add(&self, pid: u32) {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
    }
}

impl Drop for Pids {
    fn drop(&mut self) {
        let pids = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for &p in &pids {
            if alive(p) {
                kill(p, libc::SIGTERM);
            }
        }
        for &p in &pids {
            if !wait_gone(p, Duration::from_secs(5)) {
                kill_jvm(p);
            }
        }
    }
}

/// A process whose stdout is captured line by line (a server, or `jhot run` with its server).
pub struct Proc {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

impl Proc {
    pub fn spawn(argv: &[String]) -> Proc {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).current_dir(std::env::temp_dir());
        Proc::spawn_cmd(cmd)
    }

    /// A prepared command (e.g. a sandbox's `nsenter … setpriv … java`), stdout and stderr captured.
    pub fn spawn_cmd(mut cmd: Command) -> Proc {
        let shown = format!("{cmd:?}");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("spawn {shown}: {e}"));
        let out = Arc::new(Mutex::new(String::new()));
        let err = Arc::new(Mutex::new(String::new()));
        for (pipe, buf) in [
            (child.stdout.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>), out.clone()),
            (child.stderr.take().map(|p| Box::new(p) as Box<dyn std::io::Read + Send>), err.clone()),
        ] {
            let Some(pipe) = pipe else { continue };
            thread::spawn(move || {
                for line in BufReader::new(pipe).lines() {
                    let Ok(line) = line else { break };
                    let mut b = buf.lock().unwrap_or_else(|p| p.into_inner());
                    b.push_str(&line);
                    b.push('\n');
                }
            });
        }
        Proc { child, out, err }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn stdout(&self) -> String {
        self.out.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub fn stderr(&self) -> String {
        self.err.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits (at most `timeout`) for the process to exit: `Some(its exit code)` (`None` inside for
    /// a signal), or `None` when it is still running.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Option<i32>> {
        let until = Instant::now() + timeout;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                // The reader threads finish at EOF, just after the exit: give them a moment.
                thread::sleep(Duration::from_millis(100));
                return Some(status.code());
            }
            if Instant::now() >= until {
                return None;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the `READY … pid=N` line number `nth` (1-based); returns N.
    pub fn wait_ready(&self, nth: usize, timeout: Duration) -> u32 {
        let until = Instant::now() + timeout;
        loop {
            let text = self.stdout();
            let pids: Vec<u32> = text
                .lines()
                .filter(|l| l.starts_with("READY "))
                .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("pid=")).and_then(|p| p.parse().ok()))
                .collect();
            if pids.len() >= nth {
                super::clear_leftover_attach_socket(pids[nth - 1]);
                return pids[nth - 1];
            }
            assert!(
                Instant::now() < until,
                "no READY line #{nth} within {timeout:?}\nstdout:\n{text}\nstderr:\n{}",
                self.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            kill(self.child.id(), libc::SIGTERM);
            let until = Instant::now() + Duration::from_secs(10);
            while Instant::now() < until {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                thread::sleep(Duration::from_millis(20));
            }
            kill_jvm(self.child.id());
            let _ = self.child.wait();
        }
    }
}
