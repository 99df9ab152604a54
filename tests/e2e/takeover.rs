//! `jhot replace` and `jhot run` against the takeover samples (samples/takeover: the JDK
//! HttpServer, Spring Boot on Tomcat, Netty on epoll, embedded Jetty 12, embedded Undertow, Vert.x 5,
//! Micronaut 4 on Netty), under sustained load from jhot-loadgen, on
//! loopback only. What "zero downtime" means here is counted by the load generator: refused
//! connections, resets, early EOFs, timeouts and non-2xx answers, separately for keep-alive and
//! `Connection: close` clients.
//!
//! Each test starts its own servers on its own port and stops every process it caused to exist, by
//! pid. The tests take a global lock: two JVMs plus the load saturate this machine's two cores.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use jhot_loadgen::Mode;
use serde_json::Value;

use crate::harness::{
    self, Load, Outcome, Pids, Proc, alive, assert_no_failures, free_port, get, jar, java_cmd, java_cmd_on, jhot, kill,
    lock, output, pid_in, summary, wait_gone,
};

const APPS: [&str; 8] =
    ["jdk-httpserver", "spring-boot", "netty-epoll", "plain-socket", "jetty12", "undertow", "vertx5", "micronaut4"];

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
        eprintln!("swap {} ({app} -> {version}): {v}", i + 1); // shown when the test fails
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
        eprintln!("swap {} ({app} -> {version}): {v}", i + 1); // shown when the test fails
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

/// The servers jhot stops by no name (issue 12): the agent fences them, jhot closes their idle
/// keep-alive connections, then their own graceful stop (SIGTERM) finishes the rest. Without the
/// fence and the close, Jetty's GracefulHandler and Undertow's GracefulShutdownHandler answered
/// 503 to requests that still reached the old process, and Vert.x reset connections it had accepted
/// but not read.
#[test]
fn replace_unprepared_jetty12() {
    unprepared("jetty12", 2);
}

#[test]
fn replace_unprepared_undertow() {
    unprepared("undertow", 2);
}

#[test]
fn replace_unprepared_vertx5() {
    unprepared("vertx5", 2);
}

#[test]
fn replace_unprepared_micronaut4() {
    unprepared("micronaut4", 2);
}

/// A home-grown server with no graceful stop at all, under `jhot run`: the shim stops its
/// accepting and hands idle connections over, jhot waits for its requests in progress.
#[test]
fn run_five_swaps_plain_socket() {
    supervised("plain-socket", 5);
}

#[test]
fn run_five_swaps_jetty12() {
    supervised("jetty12", 5);
}

#[test]
fn run_five_swaps_undertow() {
    supervised("undertow", 5);
}

#[test]
fn run_five_swaps_vertx5() {
    supervised("vertx5", 5);
}

#[test]
fn run_five_swaps_micronaut4() {
    supervised("micronaut4", 5);
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
    // SAFETY: geteuid(2) cannot fail and takes no arguments.
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

/// An old JVM that outlives the drain timeout (its shutdown hook waits 60 s) is killed, and jhot
/// removes the attach socket the killed JVM cannot: left behind, it would keep a later JVM of
/// another user with that pid from ever being attached to.
#[test]
fn a_killed_old_jvm_leaves_no_attach_socket() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let server = Proc::spawn(&java_cmd("jdk-httpserver", "v1", port, &["--graceful-seconds=60"]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let socket = PathBuf::from(format!("/tmp/.java_pid{pid}"));
    assert_eq!(jhot(&["info", &pid.to_string()]).code, 0);
    assert!(socket.exists(), "jhot info started the attach listener");
    let out = jhot(&[
        "replace",
        &pid.to_string(),
        "--jar",
        &jar("jdk-httpserver", "v2").display().to_string(),
        "--json",
        "--drain-timeout",
        "2",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    pids.add(v["new_pid"].as_u64().expect("new_pid") as u32);
    assert_eq!(v["drain"]["outcome"], "killed", "{v}");
    assert!(wait_gone(pid, Duration::from_secs(5)), "the old process {pid} is still running");
    assert!(!socket.exists(), "the killed JVM's attach socket was left: {v}");
    assert!(get(port, "/").contains("hello from v2"));
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
