//! Running sample JVMs: [`App`] is one running JVM (the hello-http sample, or any main class)
//! with its stdout and stderr captured; dropping it stops that JVM (only processes the harness
//! started, by pid).

use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::procfs::proc_stat;
use super::{Jdk, children_of, ensure_user, http_get, is_root, ns_pids, sample_classes, target_dir};

/// How long [`App::start`] waits for the `LISTENING <port>` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// JVM options that make a sample JVM lighter on a small machine (tests may pass them to
/// [`App::start`]; nothing adds them implicitly).
pub const LIGHT_JVM_ARGS: &[&str] = &["-Xmx128m", "-XX:+UseSerialGC"];

// ---------------------------------------------------------------------------------------------
// Captured output
// ---------------------------------------------------------------------------------------------

/// Text read from one pipe of a child by a background thread.
#[derive(Default)]
struct Captured {
    text: Mutex<String>,
    /// Notified on every chunk and at EOF.
    changed: Condvar,
    eof: std::sync::atomic::AtomicBool,
}

impl Captured {
    fn spawn_reader(self: &Arc<Self>, pipe: impl Read + Send + 'static, name: String) {
        let me = Arc::clone(self);
        thread::Builder::new()
            .name(name)
            .spawn(move || {
                let mut r = BufReader::new(pipe);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let mut t = me.text.lock().unwrap_or_else(|p| p.into_inner());
                            t.push_str(&String::from_utf8_lossy(&line));
                            me.changed.notify_all();
                        }
                    }
                }
                me.eof.store(true, Ordering::SeqCst);
                let _t = me.text.lock().unwrap_or_else(|p| p.into_inner());
                me.changed.notify_all();
            })
            .expect("spawn output reader thread");
    }

    fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until `pred(text)` holds, EOF, or `deadline`; returns the last `pred` value.
    fn wait(&self, deadline: Instant, pred: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut t = self.text.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if pred(&t) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || self.eof.load(Ordering::SeqCst) {
                return false;
            }
            // Short slices: the caller may also be watching something else (the child's exit).
            let slice = (deadline - now).min(Duration::from_millis(200));
            t = self.changed.wait_timeout(t, slice).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running sample JVMs
// ---------------------------------------------------------------------------------------------

/// How an [`App`] was started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Launch {
    /// A plain child process of the tests.
    Direct,
    /// As another user, through `setpriv`.
    AsUser { user: String, uid: u32, gid: u32 },
    /// In a new pid + mount namespace with a private `/tmp`, through `unshare`.
    Namespace,
}

/// A running hello-http sample JVM (`hello.Main`, port 0, bound to 127.0.0.1). Its stdout and
/// stderr are captured. Dropping it stops the JVM (SIGTERM, then SIGKILL after 3 s) and waits.
pub struct App {
    child: Child,
    /// The JVM's pid as seen from the tests (host pid namespace).
    pid: u32,
    port: u16,
    jdk: Jdk,
    launch: Launch,
    stdout: Arc<Captured>,
    stderr: Arc<Captured>,
    stopped: bool,
    /// Set when a panic message already carries the output (so Drop does not print it twice).
    reported: std::sync::atomic::AtomicBool,
}

impl App {
    /// Starts the sample on `jdk` (`java <extra_jvm_args> -cp <sample_classes()> hello.Main 0`)
    /// and waits (up to [`START_TIMEOUT`]) for its `LISTENING <port>` line.
    ///
    /// The JVM's working directory is [`work_dir`] (attach tools may create `.attach_pid<pid>`
    /// files there, and a crashing JVM writes `hs_err_pid*.log` there), not the source tree.
    pub fn start(jdk: &Jdk, extra_jvm_args: &[&str]) -> App {
        let mut cmd = Command::new(jdk.java());
        cmd.current_dir(work_dir(None));
        Self::spawn(cmd, jdk, extra_jvm_args, Launch::Direct)
    }

    /// Like [`App::start`], but the JVM runs as `user` (created with [`ensure_user`] if missing):
    /// `setpriv --reuid=U --regid=G --clear-groups -- java ...`. Requires root. The fixtures are
    /// world-readable; their parent directories must be searchable by that user (checked).
    pub fn start_as(jdk: &Jdk, user: &str, extra_jvm_args: &[&str]) -> App {
        assert!(is_root(), "App::start_as needs root (setpriv to another user)");
        let (uid, gid) = ensure_user(user);
        let classes = sample_classes();
        check_searchable_by_others(&classes);
        check_searchable_by_others(&jdk.java());
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg("--").arg(jdk.java());
        // A working directory owned by that user (the tests' one may be private).
        cmd.current_dir(work_dir(Some((user, uid, gid))));
        Self::spawn(cmd, jdk, extra_jvm_args, Launch::AsUser { user: user.to_string(), uid, gid })
    }

    /// Like [`App::start`], but in a new pid and mount namespace, as a container would run it:
    ///
    /// ```text
    /// unshare --pid --fork --mount --mount-proc --propagation private -- \
    ///     /bin/sh -c 'mount tmpfs /mnt; cp classes /mnt; mount -t tmpfs tmpfs /tmp && exec "$@"' sh java ...
    /// ```
    ///
    /// The JVM gets a private, empty `/tmp` (so its `hsperfdata_*` and attach socket are visible
    /// from the host only under `/proc/<pid>/root/tmp`) and is pid 1 in its namespace (`sh`
    /// execs it). Requires root.
    ///
    /// Finding the host pid: our child is the `unshare` process; with `--fork` it forks one child,
    /// which becomes pid 1 of the new namespace and execs `sh`, which execs `java`. So the JVM's
    /// host pid is the only process whose parent is the `unshare` process; once `LISTENING` has
    /// been printed it is certainly the JVM (checked: its `/proc/<pid>/status` `NSpid` line ends
    /// in 1). [`App::pid`] returns that host pid.
    pub fn start_in_namespace(jdk: &Jdk, extra_jvm_args: &[&str]) -> App {
        Self::start_in_namespace_from(Command::new("unshare"), jdk, extra_jvm_args)
    }

    /// Like [`App::start_in_namespace`], with `unshare` prepared by the caller (for example
    /// entered into a sandbox's mount namespace first, so that the container's host is the
    /// sandbox); the command must exec `unshare` in its own process.
    pub fn start_in_namespace_from(unshare: Command, jdk: &Jdk, extra_jvm_args: &[&str]) -> App {
        assert!(is_root(), "App::start_in_namespace needs root (unshare --pid --mount)");
        assert!(
            !jdk.java().starts_with("/tmp"),
            "{} is under /tmp, which the namespace replaces with an empty tmpfs; use a JDK installed elsewhere",
            jdk.java().display()
        );
        // The classes may live under /tmp (a checkout there): copy them to a tmpfs of the
        // namespace's own before its /tmp is replaced, as an image would carry them.
        let script = "mount -t tmpfs -o size=64m tmpfs /mnt && cp -r \"$JHOT_NS_CLASSES\" /mnt/classes && \
                      mount -t tmpfs -o mode=1777,size=256m tmpfs /tmp && exec \"$@\"";
        let mut cmd = unshare;
        cmd.args(["--pid", "--fork", "--mount", "--mount-proc", "--propagation", "private", "--"])
            .args(["/bin/sh", "-c", script, "sh"])
            .arg(jdk.java())
            .env("JHOT_NS_CLASSES", sample_classes());
        cmd.current_dir(work_dir(None));
        Self::spawn_with(cmd, jdk, extra_jvm_args, Launch::Namespace, Path::new("/mnt/classes"))
    }

    /// Like [`App::start`], with a prepared command whose program runs (or execs) `java`, e.g.
    /// `nsenter … setpriv … java`: the JVM's pid must be the command's own.
    pub fn start_cmd(cmd: Command, jdk: &Jdk, extra_jvm_args: &[&str], launch: Launch) -> App {
        Self::spawn(cmd, jdk, extra_jvm_args, launch)
    }

    /// Starts any main class on `jdk`: `java <jvm_args> -cp <classpath> <main> <args>` in
    /// [`work_dir`], and waits (up to [`START_TIMEOUT`]) for a stdout line that starts with
    /// `ready` (e.g. `"READY"`). Panics, with the JVM's output, if it exits first or never
    /// prints it. [`App::port`] is 0 and the HTTP helpers do not apply.
    pub fn start_main(
        jdk: &Jdk,
        jvm_args: &[&str],
        classpath: &[PathBuf],
        main: &str,
        args: &[&str],
        ready: &str,
    ) -> App {
        let cp = std::env::join_paths(classpath).unwrap_or_else(|e| panic!("bad class path {classpath:?}: {e}"));
        let mut cmd = Command::new(jdk.java());
        cmd.current_dir(work_dir(None)).args(jvm_args).arg("-cp").arg(&cp).arg(main).args(args);
        let shown = format!("{} ... {main} {args:?} ({} class path entries)", jdk.java().display(), classpath.len());
        let mut app = Self::spawn_captured(cmd, &shown, jdk, Launch::Direct);
        app.await_line(&shown, &format!("{ready:?}"), &mut |t| t.lines().any(|l| l.starts_with(ready)));
        app
    }

    fn spawn(cmd: Command, jdk: &Jdk, extra_jvm_args: &[&str], launch: Launch) -> App {
        Self::spawn_with(cmd, jdk, extra_jvm_args, launch, &sample_classes())
    }

    fn spawn_with(mut cmd: Command, jdk: &Jdk, extra_jvm_args: &[&str], launch: Launch, classes: &Path) -> App {
        cmd.args(extra_jvm_args).arg("-cp").arg(classes).arg("hello.Main").arg("0");
        let shown = format!("{cmd:?}");
        let mut app = Self::spawn_captured(cmd, &shown, jdk, launch);
        let mut port = None;
        app.await_line(&shown, "a LISTENING line", &mut |t| {
            port = t.lines().find_map(|l| l.strip_prefix("LISTENING ")).and_then(|p| p.trim().parse::<u16>().ok());
            port.is_some()
        });
        app.port = port.expect("port");

        if app.launch == Launch::Namespace {
            match find_namespace_jvm(app.child.id()) {
                Ok(pid) => app.pid = pid,
                Err(e) => {
                    panic!(
                        "cannot find the JVM started by unshare (pid {}): {e}\n{}",
                        app.child.id(),
                        app.report_once()
                    )
                }
            }
        }
        super::clear_leftover_attach_socket(app.pid);
        app
    }

    /// Starts `cmd` with its stdout and stderr captured.
    fn spawn_captured(mut cmd: Command, shown: &str, jdk: &Jdk, launch: Launch) -> App {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        let stdout = Arc::new(Captured::default());
        let stderr = Arc::new(Captured::default());
        stdout.spawn_reader(child.stdout.take().expect("piped stdout"), format!("app-{}-stdout", child.id()));
        stderr.spawn_reader(child.stderr.take().expect("piped stderr"), format!("app-{}-stderr", child.id()));
        App {
            pid: child.id(),
            child,
            port: 0,
            jdk: jdk.clone(),
            launch,
            stdout,
            stderr,
            stopped: false,
            reported: Default::default(),
        }
    }

    /// Waits (up to [`START_TIMEOUT`]) until `seen` accepts the stdout so far; panics, with the
    /// JVM's output, if the JVM exits first or the time runs out.
    fn await_line(&mut self, shown: &str, what: &str, seen: &mut dyn FnMut(&str) -> bool) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.stdout.wait(Instant::now() + Duration::from_millis(200), seen) {
                return;
            }
            if self.stdout.eof.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(20)); // stdout closed: only the exit is left to see
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.stopped = true;
                // Let the readers drain what is left.
                let drain = Instant::now() + Duration::from_secs(2);
                self.stdout.wait(drain, &mut |_| false);
                self.stderr.wait(drain, &mut |_| false);
                panic!("the JVM ({shown}) exited with {status} before printing {what}\n{}", self.report_once());
            }
            if Instant::now() >= deadline {
                panic!("the JVM ({shown}) printed no {what} within {START_TIMEOUT:?}\n{}", self.report_once());
            }
        }
    }

    /// The JVM's pid in the tests' (host) pid namespace: what `jhot <pid>` is given.
    /// The port it serves HTTP on (loopback).
    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The JVM's root directory as the host sees it: `/proc/<pid>/root` (its private `/tmp` is
    /// `proc_root().join("tmp")`).
    pub fn proc_root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.pid))
    }

    /// Everything the JVM printed to stdout so far.
    pub fn stdout_text(&self) -> String {
        self.stdout.text()
    }

    /// Everything the JVM printed to stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.text()
    }

    /// Waits until the JVM's stdout contains `needle`, for at most `timeout`.
    pub fn wait_stdout(&self, needle: &str, timeout: Duration) -> bool {
        self.stdout.wait(Instant::now() + timeout, &mut |t| t.contains(needle))
    }

    /// One HTTP GET to the sample: `(status, body)`, or the I/O error.
    pub fn try_get(&self, path: &str) -> io::Result<(u16, String)> {
        http_get(self.port, path)
    }

    /// GET `path` and return the body (e.g. `"Hello from v1\n"`). Panics, with the JVM's output,
    /// on an I/O error or a status other than 200.
    pub fn get(&self, path: &str) -> String {
        match self.try_get(path) {
            Ok((200, body)) => body,
            Ok((status, body)) => {
                panic!("GET {path} on port {} answered {status}: {body:?}\n{}", self.port, self.report_once())
            }
            Err(e) => panic!("GET {path} on port {} failed: {e}\n{}", self.port, self.report_once()),
        }
    }

    /// Polls GET `path` (every 50 ms) until the body, without its trailing newline, equals
    /// `expected` (also without one); gives up after `timeout`. Returns whether it matched.
    pub fn wait_for(&self, path: &str, expected: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let want = expected.trim_end_matches(['\n', '\r']);
        loop {
            if let Ok((200, body)) = self.try_get(path)
                && body.trim_end_matches(['\n', '\r']) == want
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the JVM: SIGTERM (shutdown hooks run, e.g. the agent removes its socket), then
    /// SIGKILL if it is still there after `grace`. Waits for our child to exit (bounded).
    pub fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM the JVM itself, by pid (for a namespace that is the namespace's pid 1: its
        // exit ends the namespace and then our child, unshare). std has no kill(2) but `kill`.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        if self.pid != self.child.id() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(self.pid.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
            let _ = self.child.kill();
        } else {
            // Our child, not reaped yet: its pid cannot be reused while its socket goes.
            super::kill_jvm(self.pid);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("warning: pid {} did not exit 10 s after SIGKILL", self.child.id());
    }

    /// [`App::output_report`] for a panic message; Drop then does not print it again.
    fn report_once(&self) -> String {
        self.reported.store(true, Ordering::SeqCst);
        self.output_report()
    }

    /// Both captured streams, for failure messages.
    pub fn output_report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "--- JVM (JDK {}, pid {}, {:?}) stdout ---", self.jdk.feature, self.pid, self.launch);
        s.push_str(&self.stdout_text());
        let _ = writeln!(s, "--- stderr ---");
        s.push_str(&self.stderr_text());
        let _ = writeln!(s, "--- end ---");
        s
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if thread::panicking() && !self.reported.load(Ordering::SeqCst) {
            eprintln!("{}", self.output_report());
        }
        self.stop(Duration::from_secs(3));
    }
}

/// The JVM below an `unshare --fork` process: its only child, once that child runs `java` and is
/// pid 1 of its namespace. Waits up to 10 s.
fn find_namespace_jvm(unshare_pid: u32) -> Result<u32, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kids = children_of(unshare_pid);
        let last = match kids.as_slice() {
            [one] => {
                let comm = proc_stat(*one).map(|(_, c)| c).unwrap_or_default();
                let nspid = ns_pids(*one).unwrap_or_default();
                if comm == "java" && nspid.last() == Some(&1) && nspid.len() >= 2 {
                    return Ok(*one);
                }
                format!("child {one} has comm {comm:?}, NSpid {nspid:?}")
            }
            other => format!("children: {other:?}"),
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The working directory of sample JVMs: `<target>/e2e-work/root`, or for a JVM run as another
/// user `<target>/e2e-work/user-<name>`, owned by that user (mode 0755).
pub fn work_dir(user: Option<(&str, u32, u32)>) -> PathBuf {
    let base = target_dir().join("e2e-work");
    let dir = match user {
        None => base.join("root"),
        Some((name, _, _)) => base.join(format!("user-{name}")),
    };
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let _ = fs::set_permissions(&base, fs::Permissions::from_mode(0o755));
    let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
    if let Some((_, uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to {uid}:{gid}: {e}", dir.display()));
    }
    dir
}

/// Panics with a clear message if some directory above `path` cannot be searched by other users
/// (then a JVM started with [`App::start_as`] could not read the fixtures or the JDK).
fn check_searchable_by_others(path: &Path) {
    let mut p = path.parent();
    while let Some(dir) = p {
        if let Ok(m) = fs::metadata(dir)
            && m.permissions().mode() & 0o001 == 0
        {
            panic!(
                "{} is not searchable by other users (mode {:o}), so a JVM run as another user cannot \
                 reach {}; put the repository (or CARGO_TARGET_DIR / the JDK cache) somewhere world-searchable",
                dir.display(),
                m.permissions().mode() & 0o7777,
                path.display()
            );
        }
        p = dir.parent();
    }
}
