//! `jhot replace` and `jhot run` against the three takeover samples (samples/takeover: the JDK
//! HttpServer, Spring Boot on Tomcat, Netty on epoll), under sustained load from jhot-loadgen, on
//! loopback only. What "zero downtime" means here is counted by the load generator: refused
//! connections, resets, early EOFs, timeouts and non-2xx answers, separately for keep-alive and
//! `Connection: close` clients.
//!
//! Each test starts its own servers on its own port and stops every process it caused to exist, by
//! pid. The tests take a global lock: two JVMs plus the load saturate this machine's two cores.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use jhot_loadgen::{Config, Control, Mode, Report};
use serde_json::Value;

use crate::harness::{self, Outcome, get, jhot, output};

const APPS: [&str; 3] = ["jdk-httpserver", "spring-boot", "netty-epoll"];

pub(crate) fn lock() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|p| p.into_inner())
}

/// The sample jars, built once per test process by scripts/build-takeover-samples.sh (which skips
/// work when its sources have not changed).
pub(crate) fn jar(app: &str, version: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| built_by("build-takeover-samples.sh", "samples/takeover"));
    let p = dir.join(format!("{app}-{version}.jar"));
    assert!(p.is_file(), "{} was not built", p.display());
    p
}

/// Runs `scripts/<script>` into `<target>/<out>` (the scripts skip work when their sources have not
/// changed) and returns that directory.
pub(crate) fn built_by(script: &str, out: &str) -> PathBuf {
    let out = harness::target_dir().join(out);
    let status = Command::new("bash")
        .arg(harness::repo().join("scripts").join(script))
        .arg(&out)
        .status()
        .unwrap_or_else(|e| panic!("run scripts/{script}: {e}"));
    assert!(status.success(), "scripts/{script} failed");
    out
}

/// A port outside the kernel's ephemeral range (jhot does not hand over listeners inside it unless
/// told) that nothing listens on now.
pub(crate) fn free_port() -> u16 {
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

pub(crate) fn java_cmd(app: &str, version: &str, port: u16, extra_app_args: &[&str]) -> Vec<String> {
    java_cmd_on(17, app, version, port, extra_app_args)
}

pub(crate) fn java_cmd_on(jdk: u32, app: &str, version: &str, port: u16, extra_app_args: &[&str]) -> Vec<String> {
    let mut v = vec![
        harness::jdk(jdk).java().display().to_string(),
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

pub(crate) fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

pub(crate) fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}

pub(crate) fn kill(pid: u32, sig: i32) {
    // SAFETY: kill(2) on a pid this test started (directly or through jhot).
    unsafe { libc::kill(pid as i32, sig) };
}

/// Processes the test caused to exist; each is stopped (SIGTERM, then SIGKILL) when the guard drops.
#[derive(Default)]
pub(crate) struct Pids(Mutex<Vec<u32>>);

impl Pids {
    pub(crate) fn add(&self, pid: u32) {
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
                kill(p, libc::SIGKILL);
            }
        }
    }
}

/// A process whose stdout is captured line by line (a server, or `jhot run` with its server).
pub(crate) struct Proc {
    child: Child,
    out: Arc<Mutex<String>>,
    err: Arc<Mutex<String>>,
}

impl Proc {
    pub(crate) fn spawn(argv: &[String]) -> Proc {
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]).current_dir(std::env::temp_dir());
        Proc::spawn_cmd(cmd)
    }

    /// A prepared command (e.g. a sandbox's `nsenter … setpriv … java`), stdout and stderr captured.
    pub(crate) fn spawn_cmd(mut cmd: Command) -> Proc {
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

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn stdout(&self) -> String {
        self.out.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn stderr(&self) -> String {
        self.err.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits for the `READY … pid=N` line number `nth` (1-based); returns N.
    pub(crate) fn wait_ready(&self, nth: usize, timeout: Duration) -> u32 {
        let until = Instant::now() + timeout;
        loop {
            let text = self.stdout();
            let pids: Vec<u32> = text
                .lines()
                .filter(|l| l.starts_with("READY "))
                .filter_map(|l| l.split_whitespace().find_map(|w| w.strip_prefix("pid=")).and_then(|p| p.parse().ok()))
                .collect();
            if pids.len() >= nth {
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
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Load from jhot-loadgen, on a thread of its own until [`Load::finish`].
pub(crate) struct Load {
    name: &'static str,
    control: Arc<Control>,
    handle: thread::JoinHandle<Report>,
}

impl Load {
    pub(crate) fn start(
        name: &'static str,
        port: u16,
        path: &str,
        mode: Mode,
        connections: usize,
        retry: bool,
    ) -> Load {
        Load::start_in(None, name, port, path, mode, connections, retry)
    }

    /// `netns`: a process whose network namespace the load runs in (its loopback, not ours).
    fn start_in(
        netns: Option<u32>,
        name: &'static str,
        port: u16,
        path: &str,
        mode: Mode,
        connections: usize,
        retry: bool,
    ) -> Load {
        let mut cfg =
            Config::new(&format!("http://127.0.0.1:{port}{path}"), Duration::from_secs(240)).expect("loadgen config");
        cfg.connections = connections;
        cfg.mode = mode;
        cfg.retry = retry;
        cfg.timeout = Duration::from_secs(10);
        cfg.validate().expect("loadgen config");
        let control = Control::new();
        let c = control.clone();
        let handle = thread::spawn(move || {
            if let Some(pid) = netns {
                // A network namespace is per thread: only this thread's sockets go there.
                let ns = std::fs::File::open(format!("/proc/{pid}/ns/net")).expect("open netns");
                // SAFETY: setns on a descriptor we opened, for this thread only.
                let r = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
                assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
            }
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            rt.block_on(jhot_loadgen::run_with(cfg, c))
        });
        let load = Load { name, control, handle };
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
        let c = load.control.clone();
        rt.block_on(async move { tokio::time::timeout(Duration::from_secs(10), c.started()).await })
            .expect("load started");
        load
    }

    pub(crate) fn finish(self) -> Report {
        self.control.stop();
        let r = self.handle.join().expect("loadgen thread");
        eprintln!("load {}: {}", self.name, summary(&r));
        r
    }
}

pub(crate) fn summary(r: &Report) -> String {
    let c = &r.counts;
    format!(
        "requests={} ok={} failed={} [refused={} reset_fresh={} reset_reused={} eof_fresh={} eof_reused={} timeout={} other={} connect_other={}] non2xx={} retries={}/{} gens={:?}",
        c.requests,
        c.ok,
        c.failed,
        c.refused,
        c.reset_fresh,
        c.reset_reused,
        c.eof_fresh,
        c.eof_reused,
        c.timeout,
        c.other,
        c.connect_other,
        r.counts.non2xx,
        c.retries_ok,
        c.client_retries,
        r.gens
    )
}

fn replace(pid: u32, jar_path: &Path, extra: &[&str]) -> (Outcome, Value) {
    let mut args = vec![
        "replace".to_string(),
        pid.to_string(),
        "--jar".into(),
        jar_path.display().to_string(),
        "--json".into(),
        "--drain-timeout".into(),
        "20".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = jhot(&args);
    assert_eq!(out.code, 0, "jhot replace failed: {out:?}");
    let v = out.json();
    (out, v)
}

pub(crate) fn assert_no_failures(r: &Report, what: &str) {
    assert_eq!(r.counts.failed, 0, "{what}: {}", summary(r));
    assert_eq!(r.counts.non2xx, 0, "{what}: {}", summary(r));
    assert!(r.counts.ok > 100, "{what}: too little load to mean anything: {}", summary(r));
}

/// A replacement of a JVM that jhot did not start. Close clients and keep-alive clients that retry
/// idempotent requests see no failure; keep-alive clients that never retry lose at most the one
/// request that races each idle connection's close.
fn unprepared(app: &str, swaps: usize) {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd(app, "v1", port, &[]));
    let mut pid = server.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let retry = Load::start("keep-alive+retry", port, "/", Mode::KeepAlive, 4, true);
    let plain = Load::start("keep-alive", port, "/", Mode::KeepAlive, 4, false);
    thread::sleep(Duration::from_millis(500));
    for i in 0..swaps {
        let version = if i % 2 == 0 { "v2" } else { "v1" };
        let (_, v) = replace(pid, &jar(app, version), &[]);
        let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
        pids.add(new_pid);
        assert_eq!(v["old_pid"].as_u64(), Some(pid as u64));
        assert_eq!(v["fd_source"], "pidfd", "{v}");
        assert!(wait_gone(pid, Duration::from_secs(5)), "the old process {pid} is still running");
        assert!(alive(new_pid));
        pid = new_pid;
        thread::sleep(Duration::from_millis(700));
    }
    let (close, retry, plain) = (close.finish(), retry.finish(), plain.finish());
    assert_no_failures(&close, "Connection: close clients");
    assert_no_failures(&retry, "keep-alive clients that retry");
    assert!(
        plain.counts.failed <= 4 * swaps as u64,
        "keep-alive without retry: at most one failure per connection per swap: {}",
        summary(&plain)
    );
    let last = if swaps % 2 == 1 { "v2" } else { "v1" };
    assert!(get(port, "/").contains(&format!("hello from {last}")));
    assert!(close.gens.contains_key("v1") && close.gens.contains_key("v2"), "{:?}", close.gens);
}

/// Under `jhot run`, idle keep-alive connections are handed over: no client sees a failure, even
/// without retries, over five swaps in a row.
fn supervised(app: &str, swaps: usize) {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let dir = tempfile::tempdir().expect("tmp");
    let pid_file = dir.path().join("app.pid");
    let mut argv = vec![
        harness::jhot_bin().display().to_string(),
        "run".into(),
        "--pid-file".into(),
        pid_file.display().to_string(),
        "--".into(),
    ];
    argv.extend(java_cmd(app, "v1", port, &[]));
    let sup = Proc::spawn(&argv);
    let mut pid = sup.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let keep = Load::start("keep-alive", port, "/", Mode::KeepAlive, 8, false);
    thread::sleep(Duration::from_millis(500));
    let mut handed = 0;
    for i in 0..swaps {
        let version = if i % 2 == 0 { "v2" } else { "v1" };
        let (_, v) = replace(pid, &jar(app, version), &[]);
        assert_eq!(v["supervised"], true, "{v}");
        let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
        pids.add(new_pid);
        assert!(wait_gone(pid, Duration::from_secs(5)), "the old process {pid} is still running");
        assert_eq!(sup.wait_ready(i + 2, Duration::from_secs(5)), new_pid);
        assert_eq!(std::fs::read_to_string(&pid_file).expect("pid file").trim(), new_pid.to_string());
        handed += v["drain"]["handed_over"].as_u64().unwrap_or(0);
        pid = new_pid;
        thread::sleep(Duration::from_millis(700));
    }
    let (close, keep) = (close.finish(), keep.finish());
    assert_no_failures(&close, "Connection: close clients");
    assert_no_failures(&keep, "keep-alive clients without retry");
    assert!(handed > 0, "no connection was handed over in {swaps} swaps");
    let last = if swaps % 2 == 1 { "v2" } else { "v1" };
    assert!(get(port, "/").contains(&format!("hello from {last}")));
    eprintln!("handed over: {handed} connections in {swaps} swaps");
    drop(sup);
    assert!(wait_gone(pid, Duration::from_secs(15)), "jhot run stopped; its application {pid} must stop too");
}

#[test]
fn replace_unprepared_jdk_httpserver() {
    unprepared("jdk-httpserver", 2);
}

#[test]
fn replace_unprepared_spring_boot() {
    unprepared("spring-boot", 1);
}

#[test]
fn replace_unprepared_netty_epoll() {
    unprepared("netty-epoll", 1);
}

#[test]
fn run_five_swaps_jdk_httpserver() {
    supervised("jdk-httpserver", 5);
}

#[test]
fn run_five_swaps_spring_boot() {
    supervised("spring-boot", 5);
}

#[test]
fn run_five_swaps_netty_epoll() {
    supervised("netty-epoll", 5);
}

#[test]
fn samples_are_known() {
    for app in APPS {
        assert!(jar(app, "v1").is_file() && jar(app, "v2").is_file());
    }
}

/// The faults: in each case the old process keeps serving under load with no failure, and nothing
/// is left behind.
#[test]
fn faults_leave_the_old_process_serving() {
    let _g = lock();
    let _pids = Pids::default();
    let app = "jdk-httpserver";
    let port = free_port();
    let server = Proc::spawn(&java_cmd(app, "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let keep = Load::start("keep-alive", port, "/", Mode::KeepAlive, 4, false);
    thread::sleep(Duration::from_millis(300));
    let new_cmd = |flag: &str| -> Vec<String> {
        let mut a =
            vec!["replace".into(), pid.to_string(), "--json".into(), "--ready-timeout".into(), "4".into(), "--".into()];
        a.extend(java_cmd(app, "v2", port, &[flag]));
        a
    };

    // 1. The new version exits at start.
    let out = jhot(&new_cmd("--exit-at-start"));
    assert_eq!(out.code, 9, "{out:?}");
    let msg = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("exit status 3") && msg.contains("old process kept serving"), "{msg}");
    assert!(alive(pid));

    // 2. It never becomes ready: it binds (adopts the listener) but never accepts.
    let out = jhot(&new_cmd("--never-ready"));
    assert_eq!(out.code, 9, "{out:?}");
    let msg = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("did not accept") && msg.contains("it was stopped"), "{msg}");
    let stray = pid_in(&msg);
    assert!(stray.is_some_and(|p| wait_gone(p, Duration::from_secs(5))), "the never-ready process must be gone: {msg}");
    assert!(alive(pid));

    // 3. jhot is SIGKILLed in the middle: a later command reports it and stops the orphan.
    let state = PathBuf::from(format!("/tmp/.jhot-{}/replace-{pid}.json", unsafe { libc::geteuid() }));
    let mut args = new_cmd("--never-ready");
    args[4] = "60".into();
    let mut jhot_child =
        harness::jhot_cmd().args(&args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("jhot");
    let until = Instant::now() + Duration::from_secs(20);
    let orphan = loop {
        let rec: Option<Value> = std::fs::read(&state).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(p) = rec.as_ref().and_then(|r| r["new_pid"].as_u64()) {
            break p as u32;
        }
        assert!(Instant::now() < until, "jhot replace never recorded its new process");
        thread::sleep(Duration::from_millis(20));
    };
    // Let the new process adopt the listener first: the shared queue must not lose anything.
    thread::sleep(Duration::from_millis(1500));
    let _ = jhot_child.kill();
    let _ = jhot_child.wait();
    assert!(alive(orphan), "the new process outlives a killed jhot until something cleans up");
    thread::sleep(Duration::from_millis(500));
    assert!(get(port, "/").contains("hello from v1"), "the old process still answers");
    let ps = jhot(&["ps".to_string()]);
    assert!(
        ps.stderr.contains("interrupted") && ps.stderr.contains(&format!("stopped the new process {orphan}")),
        "{ps:?}"
    );
    assert!(wait_gone(orphan, Duration::from_secs(5)), "jhot ps must stop the orphan");
    assert!(!state.exists(), "the record is cleaned up");
    let again = jhot(&["ps".to_string()]);
    assert!(!again.stderr.contains("interrupted"), "reported once: {again:?}");

    let (close, keep) = (close.finish(), keep.finish());
    assert_no_failures(&close, "close clients through three failed replacements");
    assert_no_failures(&keep, "keep-alive clients through three failed replacements");
    assert_eq!(close.gens.keys().collect::<Vec<_>>(), vec!["v1"], "only the old version ever answered");
    assert!(alive(pid));
}

pub(crate) fn pid_in(msg: &str) -> Option<u32> {
    let i = msg.find("new process ")?;
    msg[i + 12..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

/// Under `jhot run`, a new version that exits at start is rolled back by the supervisor, which
/// keeps running the old generation.
#[test]
fn run_rolls_back_a_version_that_exits() {
    let _g = lock();
    let _pids = Pids::default();
    let port = free_port();
    let mut argv = vec![harness::jhot_bin().display().to_string(), "run".into(), "--".into()];
    argv.extend(java_cmd("jdk-httpserver", "v1", port, &[]));
    let sup = Proc::spawn(&argv);
    let pid = sup.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let mut args = vec!["replace".to_string(), pid.to_string(), "--json".into(), "--".into()];
    args.extend(java_cmd("jdk-httpserver", "v2", port, &["--exit-at-start"]));
    let out = jhot(&args);
    assert_eq!(out.code, 9, "{out:?}");
    assert!(out.stdout.contains("exit status 3"), "{out:?}");
    thread::sleep(Duration::from_millis(300));
    let close = close.finish();
    assert_no_failures(&close, "close clients");
    assert!(alive(pid), "the old generation keeps serving");
    let (_, v) = replace(pid, &jar("jdk-httpserver", "v2"), &[]);
    assert_eq!(v["supervised"], true);
    assert!(get(port, "/").contains("hello from v2"), "a good version goes live after a bad one");
}

/// Where pidfd_getfd is not allowed, the agent sends the sockets (forced here); and a server with
/// no graceful stop of its own is drained by the agent, so in-flight requests finish.
#[test]
fn agent_sends_the_sockets_and_drains_a_server_without_graceful_stop() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd("jdk-httpserver", "v1", port, &["--graceful=false"]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let slow = Load::start("close, 50 ms requests", port, "/slow?ms=50", Mode::Close, 8, false);
    let ready_url = format!("http://127.0.0.1:{port}/health");
    let (_, v) = replace(pid, &jar("jdk-httpserver", "v2"), &["--fd-source", "agent", "--ready-url", &ready_url]);
    pids.add(v["new_pid"].as_u64().expect("new_pid") as u32);
    assert_eq!(v["fd_source"], "agent", "{v}");
    assert_eq!(v["ready_url_status"], 200, "--ready-url was answered by the new process: {v}");
    assert_eq!(v["drain"]["method"], "agent + SIGTERM", "{v}");
    assert!(v["drain"]["agent_stopped"].as_array().is_some_and(|a| !a.is_empty()), "{v}");
    thread::sleep(Duration::from_millis(500));
    let slow = slow.finish();
    assert_no_failures(&slow, "in-flight 50 ms requests across the drain");
    assert!(slow.gens.contains_key("v2"));
}

/// The two newest JDKs side by side: the old process on 17, the new one on 25, and back.
#[test]
fn replace_across_jdks_and_supervisor_is_private() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let mut argv = vec![harness::jhot_bin().display().to_string(), "run".into(), "--".into()];
    argv.extend(java_cmd_on(25, "jdk-httpserver", "v1", port, &[]));
    let sup = Proc::spawn(&argv);
    let pid = sup.wait_ready(1, Duration::from_secs(60));
    let keep = Load::start("keep-alive", port, "/", Mode::KeepAlive, 4, false);
    let mut args = vec!["replace".to_string(), pid.to_string(), "--json".into(), "--".into()];
    args.extend(java_cmd_on(17, "jdk-httpserver", "v2", port, &[]));
    let out = jhot(&args);
    assert_eq!(out.code, 0, "{out:?}");
    let new_pid = out.json()["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    // Another user may not drive the supervisor (nor replace the process directly).
    if harness::is_root() {
        let other = output(&mut harness::as_user("jhot-t1", &["replace", &new_pid.to_string(), "--json"]));
        assert_eq!(other.code, 4, "{other:?}");
        assert!(alive(new_pid));
    }
    let keep = keep.finish();
    assert_no_failures(&keep, "keep-alive clients, JDK 25 → JDK 17");
    assert!(get(port, "/").contains("hello from v2"));
}

/// A JVM in a network namespace of its own: the new process joins it; clients inside it see no
/// failure.
#[test]
fn replace_in_a_network_namespace() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let java = java_cmd("jdk-httpserver", "v1", port, &[]).join(" ");
    let server = Proc::spawn(&[
        "unshare".to_string(),
        "-n".into(),
        "sh".into(),
        "-c".into(),
        format!("ip link set lo up && exec {java}"),
    ]);
    let pid = server.wait_ready(1, Duration::from_secs(60));
    assert_ne!(std::fs::read_link(format!("/proc/{pid}/ns/net")).ok(), std::fs::read_link("/proc/self/ns/net").ok());
    let old_ns = std::fs::read_link(format!("/proc/{pid}/ns/net")).expect("netns of the old process");
    let close = Load::start_in(Some(pid), "close, in the namespace", port, "/", Mode::Close, 4, false);
    let (_, v) = replace(pid, &jar("jdk-httpserver", "v2"), &[]);
    let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    let new_ns = std::fs::read_link(format!("/proc/{new_pid}/ns/net")).expect("netns of the new process");
    assert_eq!(new_ns, old_ns, "the new process runs in the old one's network namespace");
    thread::sleep(Duration::from_millis(500));
    let close = close.finish();
    assert_no_failures(&close, "close clients inside the namespace");
    assert!(close.gens.contains_key("v2"));
}

/// `jhot run` as a parent: it reaps orphans reparented to it (as PID 1 must), tells systemd the
/// main pid on start and after each replacement, and passes SIGTERM on.
#[test]
fn run_is_a_good_parent() {
    let _g = lock();
    let _pids = Pids::default();
    let port = free_port();
    let dir = tempfile::tempdir().expect("tmp");
    let notify_path = dir.path().join("notify.sock");
    let notify = std::os::unix::net::UnixDatagram::bind(&notify_path).expect("bind NOTIFY_SOCKET");
    notify.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
    // A start script that leaves an orphan behind, then execs the server (same pid).
    let java = java_cmd("jdk-httpserver", "v1", port, &[]).join(" ");
    let mut cmd = Command::new(harness::jhot_bin());
    cmd.args(["run", "--", "sh", "-c", &format!("(sleep 0.3 &) ; exec {java}")]).env("NOTIFY_SOCKET", &notify_path);
    cmd.current_dir(std::env::temp_dir()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("jhot run");
    let sup_pid = child.id();
    // Stopped (and its application with it) even if an assertion fails below.
    _pids.add(sup_pid);
    let stdout = child.stdout.take().expect("stdout");
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let l2 = lines.clone();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            l2.lock().unwrap_or_else(|p| p.into_inner()).push(line);
        }
    });
    let mut buf = [0u8; 256];
    let n = notify.recv(&mut buf).expect("a message on NOTIFY_SOCKET");
    let msg = String::from_utf8_lossy(&buf[..n]).to_string();
    let until = Instant::now() + Duration::from_secs(30);
    let app_pid = loop {
        let ready = lines.lock().unwrap_or_else(|p| p.into_inner()).iter().find(|l| l.starts_with("READY ")).cloned();
        if let Some(l) = ready {
            break l
                .split_whitespace()
                .find_map(|w| w.strip_prefix("pid="))
                .and_then(|p| p.parse::<u32>().ok())
                .expect("pid");
        }
        assert!(Instant::now() < until, "no READY line");
        thread::sleep(Duration::from_millis(20));
    };
    assert!(msg.contains("READY=1") && msg.contains(&format!("MAINPID={app_pid}")), "{msg:?}");
    // The orphaned `sleep` was reparented to jhot run; after it exits, no zombie is left.
    thread::sleep(Duration::from_millis(800));
    let zombies: Vec<String> = std::fs::read_dir("/proc")
        .expect("proc")
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("stat")).ok())
        .filter(|st| {
            let Some((_, rest)) = st.rsplit_once(')') else { return false };
            let f: Vec<&str> = rest.split_whitespace().collect();
            f.first() == Some(&"Z") && f.get(1) == Some(&sup_pid.to_string().as_str())
        })
        .collect();
    assert!(zombies.is_empty(), "zombies under jhot run: {zombies:?}");
    let (_, v) = replace(app_pid, &jar("jdk-httpserver", "v2"), &[]);
    let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
    let n = notify.recv(&mut buf).expect("MAINPID after the replacement");
    assert_eq!(String::from_utf8_lossy(&buf[..n]), format!("MAINPID={new_pid}"));
    kill(sup_pid, libc::SIGTERM);
    let status = child.wait().expect("jhot run exits");
    assert!(wait_gone(new_pid, Duration::from_secs(5)), "SIGTERM reached the application");
    assert_eq!(status.code(), Some(143), "jhot run exits as its application did (SIGTERM: 128 + 15)");
}

/// The realistic sample (Spring Boot 4, Tomcat 11, JPA/Hibernate/H2, over 10,000 classes): five
/// unprepared swaps in a row, and five under `jhot run`.
#[test]
fn replace_unprepared_boot4_shop_five_times() {
    unprepared("boot4-shop", 5);
}

#[test]
fn run_five_swaps_boot4_shop() {
    supervised("boot4-shop", 5);
}
