//! `jhot replace` and `jhot run` against fake supervisors and spoofed readiness probes (see mod.rs).
//!
//! The servers are the takeover samples (tests/e2e/harness/server.rs and load.rs have the helpers:
//! jars, load, pids).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use jhot_loadgen::Mode;

use crate::harness::{self, Load, Pids, Proc, Sandbox, alive, free_port, get, jar, java_cmd};

/// The JVM's user in these tests; `nobody` plays the other local user.
const OWNER: &str = "jhot-t1";

/// The jdk-httpserver sample `version` on `port`, started inside `sb` as `user` from `/`.
fn sample_in(sb: &Sandbox, user: &str, version: &str, port: u16, extra: &[&str]) -> (Proc, u32) {
    let argv = java_cmd("jdk-httpserver", version, port, extra);
    let mut cmd = sb.cmd_as(user, &argv[0]);
    cmd.args(&argv[1..]);
    let p = Proc::spawn_cmd(cmd);
    let pid = p.wait_ready(1, Duration::from_secs(60));
    (p, pid)
}

fn ppid_of(pid: u32) -> u32 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = stat.rsplit_once(')').expect("comm").1;
    rest.split_whitespace().nth(1).and_then(|p| p.parse().ok()).expect("ppid")
}

/// A Unix-socket listener that plays `jhot run`: it logs how many bytes each connection sent
/// (one line per connection), then answers with a well-formed "replaced" report.
const FAKE_SUPERVISOR: &str = r#"
import json, os, socket, sys
path, log = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
os.chmod(path, 0o777)
s.listen(8)
print("LISTENING", flush=True)
drain = {"method": "SIGTERM", "agent_stopped": [], "outcome": "exited", "drain_ms": 1.0, "handed_over": 0,
         "handed_over_with_request": 0, "rerung": 0, "lost": 0}
timings = {"collect_ms": 0.0, "start_ms": 1.0, "overhead_ms": 0.0, "drain_ms": 1.0, "total_ms": 2.0}
report = {"old_pid": 1, "new_pid": 1, "command": ["java"], "change": "fake", "listeners": [], "skipped": [],
          "fd_source": "supervisor", "output": "-", "supervised": True, "ready_url_status": None,
          "drain": drain, "timings_ms": timings, "recovered": [], "warnings": []}
while True:
    c, _ = s.accept()
    c.settimeout(3)
    got = b""
    try:
        while b"\n" not in got:
            b = c.recv(65536)
            if not b:
                break
            got += b
    except OSError:
        pass
    try:
        c.sendall(json.dumps({"ok": True, "report": report}).encode() + b"\n")
    except OSError:
        pass
    c.close()
    with open(log, "a") as f:
        f.write("connection bytes=%d\n" % len(got))
"#;

/// Started inside `sb` as `nobody`; killed (by pid) when dropped.
struct FakeSupervisor(Child);

impl FakeSupervisor {
    fn start(sb: &Sandbox, socket: &str, log: &str) -> FakeSupervisor {
        let mut cmd = sb.cmd_as("nobody", "/usr/bin/python3");
        cmd.args(["-c", FAKE_SUPERVISOR, socket, log])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().expect("python3 as nobody");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("read");
        let fake = FakeSupervisor(child);
        assert_eq!(line.trim(), "LISTENING", "the fake supervisor did not start");
        fake
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for FakeSupervisor {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Adversarial test 5 (review M2). Another user creates the JVM user's private directory before
/// jhot does and listens at `run-<ppid>.sock`, where `jhot run` would: root's `jhot replace` must
/// see that the process listening there is not the JVM's parent, refuse (exit 4) without sending a
/// byte, and the old process must keep serving v1.
#[test]
fn replace_refuses_a_fake_supervisor() {
    assert!(harness::is_root(), "this test plays two users; run the tests as root");
    assert!(std::path::Path::new("/usr/bin/python3").exists(), "the fake supervisor needs /usr/bin/python3");
    let _g = harness::lock();
    let pids = Pids::default();
    let sb = Sandbox::new();
    let (uid, _) = harness::ensure_user(OWNER);
    harness::ensure_user("nobody");
    let port = free_port();
    let (_server, pid) = sample_in(&sb, OWNER, "v1", port, &[]);
    pids.add(pid);
    let ppid = ppid_of(pid);
    let dir = format!("/tmp/.jhot-{uid}");
    let socket = format!("{dir}/run-{ppid}.sock");
    sb.sh(Some("nobody"), &format!("mkdir -m 755 {dir}"));
    let fake = FakeSupervisor::start(&sb, &socket, "/tmp/fake-supervisor.log");

    let v2 = jar("jdk-httpserver", "v2").display().to_string();
    let out = sb.jhot(&["replace", &pid.to_string(), "--jar", &v2, "--json", "--ready-timeout", "20"]);
    assert_eq!(out.code, 4, "a fake supervisor must be refused with exit 4: {out:?}");
    let msg = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(
        msg.contains(&socket)
            && msg.contains("not the `jhot run` supervisor")
            && msg.contains(&format!("pid {}", fake.pid())),
        "the message names the socket, the problem and who listens there: {msg}"
    );
    assert!(msg.contains("Nothing was sent") && msg.contains("nothing was changed"), "{msg}");

    // The fake may have seen the connection, never a request.
    let log = std::fs::read_to_string(sb.host_path("/tmp/fake-supervisor.log")).unwrap_or_default();
    assert!(log.lines().all(|l| l == "connection bytes=0"), "the fake supervisor received request bytes: {log:?}");
    assert!(alive(pid), "the old process must be untouched");
    assert!(get(port, "/").contains("hello from v1"), "the old process still serves v1");
    drop(fake);
}

/// The other side of the same check: a real `jhot run` of another user passes it, and root may
/// drive it (review L13). Its pid file (review L11) follows the application and goes with it.
#[test]
fn root_drives_another_users_jhot_run() {
    assert!(harness::is_root(), "this test plays two users; run the tests as root");
    let _g = harness::lock();
    let pids = Pids::default();
    let sb = Sandbox::new();
    harness::ensure_user(OWNER);
    let port = free_port();
    let mut cmd = sb.cmd_as(OWNER, harness::jhot_bin());
    cmd.args(["run", "--no-agent", "--pid-file", "/tmp/app.pid", "--"]).args(java_cmd(
        "jdk-httpserver",
        "v1",
        port,
        &[],
    ));
    let sup = Proc::spawn_cmd(cmd);
    pids.add(sup.pid());
    let pid = sup.wait_ready(1, Duration::from_secs(60));
    let pid_file = sb.host_path("/tmp/app.pid");
    let v2 = jar("jdk-httpserver", "v2").display().to_string();
    let out = sb.jhot(&["replace", &pid.to_string(), "--jar", &v2, "--json", "--drain-timeout", "20"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["supervised"], true, "{v}");
    let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    let until = Instant::now() + Duration::from_secs(10);
    while !get(port, "/").contains("hello from v2") {
        assert!(Instant::now() < until, "v2 never answered");
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(std::fs::read_to_string(&pid_file).expect("pid file"), format!("{new_pid}\n"));
    let meta = std::fs::metadata(&pid_file).expect("pid file");
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o7777, 0o644);
    drop(sup);
    assert!(harness::wait_gone(new_pid, Duration::from_secs(15)));
    assert!(harness::wait_until(Duration::from_secs(5), || !pid_file.exists()), "the pid file goes with jhot run");
}

// ---- adversarial test 9: a failed readiness check drops nothing, and cannot be spoofed ---------

/// `jhot replace PID --ready-url …/health --ready-timeout 8 -- java … v2 --unhealthy`, as JSON.
/// (8 s, not less: both processes accept on the shared queue, and on a loaded machine the old one
/// took every probe connection for 3 s in a row — the test then saw "did not answer" without the
/// 503 it is about.)
fn replace_unhealthy(pid: u32, port: u16) -> harness::Outcome {
    let mut args = vec![
        "replace".to_string(),
        pid.to_string(),
        "--json".into(),
        "--ready-url".into(),
        format!("http://127.0.0.1:{port}/health"),
        "--ready-timeout".into(),
        "8".into(),
        "--drain-timeout".into(),
        "20".into(),
        "--".into(),
    ];
    args.extend(java_cmd("jdk-httpserver", "v2", port, &["--unhealthy"]));
    harness::jhot(&args)
}

/// Exit 9 because /health answered 503 (not for another reason), and the new process is gone.
/// Should jhot wrongly succeed, the process it made live is stopped with the test's others.
fn assert_rolled_back(out: &harness::Outcome, pids: &Pids) -> String {
    if out.code == 0
        && let Some(p) = serde_json::from_str::<serde_json::Value>(&out.stdout).ok().and_then(|v| v["new_pid"].as_u64())
    {
        pids.add(p as u32);
    }
    assert_eq!(out.code, 9, "{out:?}");
    let msg = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(msg.contains("did not answer 2xx") && msg.contains("HTTP 503") && msg.contains("it was stopped"), "{msg}");
    let new_pid = harness::pid_in(&msg).expect("the new pid in the message");
    assert!(harness::wait_gone(new_pid, Duration::from_secs(5)), "the rolled-back process {new_pid} must be gone");
    msg
}

/// Runs [`replace_unhealthy`] on a thread; once v2 prints READY (to `out`'s stdout: the old
/// process's, or the supervisor's) opens keep-alive clients one by one, 100 ms apart (a burst
/// would all be accepted in one go by whichever process wakes first), until jhot is done (at most
/// 30: either process may take each one, so eight were sometimes all v1's), so that v2 accepts
/// some of them while jhot probes it. Returns jhot's outcome and the keep-alive clients' reports.
fn replace_unhealthy_under_keep_alive(
    pid: u32,
    port: u16,
    out: &Proc,
    retry: bool,
) -> (harness::Outcome, Vec<jhot_loadgen::Report>) {
    let jhot = thread::spawn(move || replace_unhealthy(pid, port));
    let new_pid = out.wait_ready(2, Duration::from_secs(30));
    let mut keep = Vec::new();
    for _ in 0..30 {
        if jhot.is_finished() {
            break;
        }
        keep.push(Load::start(
            if retry { "keep-alive+retry" } else { "keep-alive" },
            port,
            "/",
            Mode::KeepAlive,
            1,
            retry,
        ));
        thread::sleep(Duration::from_millis(100));
    }
    let outcome = jhot.join().expect("jhot thread");
    assert!(harness::wait_gone(new_pid, Duration::from_secs(5)));
    thread::sleep(Duration::from_millis(500));
    (outcome, keep.into_iter().map(Load::finish).collect())
}

/// Every client saw no failure (and some were served by v2: else the test proves nothing).
fn assert_keep_alive_clients(keep: &[jhot_loadgen::Report], what: &str) {
    for r in keep {
        assert_eq!(r.counts.failed, 0, "{what}: {}", harness::summary(r));
        assert_eq!(r.counts.non2xx, 0, "{what}: {}", harness::summary(r));
        assert_eq!(r.counts.client_retries, r.counts.retries_ok, "{what}: {}", harness::summary(r));
    }
    assert!(
        keep.iter().any(|r| r.gens.contains_key("v2")),
        "{what}: no keep-alive client reached v2 before it was rolled back"
    );
}

/// Adversarial test 9 (review M5), `jhot replace` of a JVM jhot did not start: v2 serves `/` but
/// its `/health` answers 503. It accepts from the shared queue while jhot probes, so the rollback
/// must finish what it took instead of resetting it: no client request fails. Keep-alive clients
/// connect while v2 accepts and retry idempotent requests, as for any replacement of an unprepared
/// server (idle connections close when a server stops); under `jhot run` even clients that never
/// retry see nothing (next test).
#[test]
fn failed_ready_url_drops_no_request() {
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd("jdk-httpserver", "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    thread::sleep(Duration::from_millis(300));
    let (out, keep) = replace_unhealthy_under_keep_alive(pid, port, &server, true);
    assert_rolled_back(&out, &pids);
    let close = close.finish();
    harness::assert_no_failures(&close, "Connection: close clients through a failed --ready-url");
    assert!(close.gens.contains_key("v2"), "v2 served before it was rolled back, else this proves nothing");
    assert_keep_alive_clients(&keep, "keep-alive clients that retry, through a failed --ready-url");
    assert!(alive(pid), "the old process keeps serving");
    assert!(get(port, "/").contains("hello from v1"));
}

/// The same under `jhot run`: the rolled-back generation hands its idle keep-alive connections back
/// to the old one, so clients that never retry see no failure either.
#[test]
fn failed_ready_url_under_jhot_run_drops_no_request() {
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let mut argv = vec![harness::jhot_bin().display().to_string(), "run".into(), "--".into()];
    argv.extend(java_cmd("jdk-httpserver", "v1", port, &[]));
    let sup = Proc::spawn(&argv);
    pids.add(sup.pid());
    let pid = sup.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    thread::sleep(Duration::from_millis(300));
    let (out, keep) = replace_unhealthy_under_keep_alive(pid, port, &sup, false);
    assert_rolled_back(&out, &pids);
    let close = close.finish();
    harness::assert_no_failures(&close, "Connection: close clients through a failed --ready-url");
    assert!(close.gens.contains_key("v2"), "v2 served before it was rolled back, else this proves nothing");
    assert_keep_alive_clients(&keep, "keep-alive clients (no retry) through a failed --ready-url");
    assert!(keep.iter().all(|r| r.counts.client_retries == 0));
    assert!(alive(pid), "the old generation keeps serving");
    assert!(get(port, "/").contains("hello from v1"));
}

/// A connection from `from`:`port` to 127.0.0.1:`to`, or None (port taken, refused, 2 s timeout).
fn connect_from(from: [u8; 4], port: u16, to: u16) -> Option<std::net::TcpStream> {
    use std::os::fd::FromRawFd;
    let sa = |ip: [u8; 4], port: u16| {
        // SAFETY: a zeroed sockaddr_in is valid.
        let mut a: libc::sockaddr_in = unsafe { std::mem::zeroed() };
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_port = port.to_be();
        a.sin_addr.s_addr = u32::from_ne_bytes(ip);
        a
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: plain socket calls on a descriptor owned by the TcpStream from here on.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return None;
        }
        let s = std::net::TcpStream::from_raw_fd(fd);
        let tv = libc::timeval { tv_sec: 2, tv_usec: 0 };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_SNDTIMEO,
            &tv as *const _ as *const libc::c_void,
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        let local = sa(from, port);
        if libc::bind(fd, &local as *const _ as *const libc::sockaddr, len) != 0 {
            return None;
        }
        let remote = sa([127, 0, 0, 1], to);
        if libc::connect(fd, &remote as *const _ as *const libc::sockaddr, len) != 0 {
            return None;
        }
        Some(s)
    }
}

/// Local ports of 127.0.0.1 sockets connecting or connected to 127.0.0.1:`to` (/proc/net/tcp,
/// readable by every user: what another user watches for jhot's probe).
fn ports_connecting_to(to: u16) -> Vec<u16> {
    let text = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
    let remote = format!("0100007F:{to:04X}");
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let (local, rem, st) = (f.get(1)?, f.get(2)?, f.get(3)?);
            if *rem != remote || !matches!(*st, "01" | "02") {
                return None;
            }
            let (ip, port) = local.split_once(':')?;
            (ip == "0100007F").then(|| u16::from_str_radix(port, 16).ok()).flatten()
        })
        .collect()
}

/// Adversarial test 9, variant (review M7): while jhot probes an unhealthy v2, a racer watches
/// /proc/net/tcp for the probe's source port and connects to the shared listener from
/// 127.0.0.2 (to .5) with that port. Whichever process accepts the fake, jhot must not count it as its
/// probe: it never declares v2 ready (exit 9) and never stops v1. The shim checks addresses, not
/// users, so the racer runs in the test itself; no load runs, so the only connections to the port
/// from 127.0.0.1 are jhot's probes.
#[test]
fn spoofed_probe_never_makes_jhot_declare_ready() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd("jdk-httpserver", "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let stop = Arc::new(AtomicBool::new(false));
    let spoofed = Arc::new(AtomicU32::new(0));
    let racer = {
        let (stop, spoofed) = (stop.clone(), spoofed.clone());
        thread::spawn(move || {
            let mut seen = std::collections::HashSet::new();
            let mut held = Vec::new();
            let until = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::SeqCst) && Instant::now() < until && seen.len() < 10_000 {
                for p in ports_connecting_to(port) {
                    if !seen.insert(p) {
                        continue;
                    }
                    // Several addresses: more chances that the new process accepts one.
                    for last in 2..=5 {
                        if let Some(s) = connect_from([127, 0, 0, last], p, port) {
                            spoofed.fetch_add(1, Ordering::SeqCst);
                            held.push(s);
                        }
                    }
                }
                thread::sleep(Duration::from_micros(200));
            }
        })
    };
    let out = replace_unhealthy(pid, port);
    stop.store(true, Ordering::SeqCst);
    racer.join().expect("racer");
    assert!(spoofed.load(Ordering::SeqCst) > 0, "the racer never caught a probe: the test proved nothing");
    assert_rolled_back(&out, &pids);
    assert!(alive(pid), "v1 must never be drained");
    assert!(get(port, "/").contains("hello from v1"));
    eprintln!("{} spoofed connections", spoofed.load(Ordering::SeqCst));
}

/// Review L1: the new process preloads the shim by its path in the process's own view of the
/// file system, not through `/proc/<old pid>/root`, which later means whatever process gets the pid.
#[test]
fn new_process_preloads_the_shim_by_its_own_path() {
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd("jdk-httpserver", "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let v2 = jar("jdk-httpserver", "v2").display().to_string();
    let out = harness::jhot(&["replace".into(), pid.to_string(), "--jar".into(), v2, "--json".into()]);
    assert_eq!(out.code, 0, "{out:?}");
    let new_pid = out.json()["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    // The environment as it was at exec (the shim removes its entry from the live one).
    let environ = std::fs::read(format!("/proc/{new_pid}/environ")).expect("environ");
    let preload = environ
        .split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"LD_PRELOAD="))
        .map(|v| String::from_utf8_lossy(v).to_string())
        .expect("LD_PRELOAD at exec");
    // SAFETY: no arguments.
    let uid = unsafe { libc::geteuid() };
    assert!(
        preload.starts_with(&format!("/tmp/.jhot-{uid}/libjhot_shim-")) && !preload.contains("/proc/"),
        "{preload}"
    );
    let shim = preload.split(':').next().unwrap_or_default().to_string();
    let maps = std::fs::read_to_string(format!("/proc/{new_pid}/maps")).expect("maps");
    assert!(maps.contains(&shim), "the shim is loaded from {shim}");
}

/// Review M5: Ctrl-C (or SIGTERM, SIGHUP) to `jhot replace` before the new process is ready rolls
/// it back like any failure, instead of leaving it sharing the queue until the next `jhot ps`.
#[test]
fn interrupted_replace_rolls_back() {
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd("jdk-httpserver", "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    // SAFETY: no arguments.
    let state = std::path::PathBuf::from(format!("/tmp/.jhot-{}/replace-{pid}.json", unsafe { libc::geteuid() }));
    let mut args = vec![
        "replace".to_string(),
        pid.to_string(),
        "--json".into(),
        "--ready-timeout".into(),
        "60".into(),
        "--".into(),
    ];
    args.extend(java_cmd("jdk-httpserver", "v2", port, &["--never-ready"]));
    let mut child = harness::jhot_cmd()
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("jhot");
    pids.add(child.id());
    let until = Instant::now() + Duration::from_secs(30);
    let new_pid = loop {
        let rec: Option<serde_json::Value> = std::fs::read(&state).ok().and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(p) = rec.as_ref().and_then(|r| r["new_pid"].as_u64()) {
            break p as u32;
        }
        assert!(Instant::now() < until, "jhot replace never recorded its new process");
        thread::sleep(Duration::from_millis(20));
    };
    pids.add(new_pid);
    // Let it adopt the listener first.
    thread::sleep(Duration::from_millis(1500));
    harness::kill(child.id(), libc::SIGINT);
    let until = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(Instant::now() < until, "jhot replace did not end after SIGINT");
        thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    std::io::Read::read_to_string(&mut child.stdout.take().expect("stdout"), &mut stdout).expect("stdout");
    assert_eq!(status.code(), Some(9), "{stdout}");
    assert!(stdout.contains("interrupted (SIGINT)") && stdout.contains("old process kept serving"), "{stdout}");
    assert!(harness::wait_gone(new_pid, Duration::from_secs(5)), "the new process must be stopped");
    assert!(!state.exists(), "nothing is left for a later jhot to clean up");
    assert!(alive(pid) && get(port, "/").contains("hello from v1"));
}
