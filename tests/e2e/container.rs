//! Replacement of a JVM in a container (issue 12, item 4), on [`Container`]: a container built
//! the way a runtime builds one (its own root file system, mount/pid/net/uts/ipc/cgroup
//! namespaces, a cgroup; see harness/container.rs), since no runtime can run here.
//!
//! * `jhot run` as the container's PID 1 (the Kubernetes pattern) and `jhot replace` executed
//!   inside the container: an ordinary local replacement, as seen from inside.
//! * `jhot replace` and `jhot deploy` from the host, of a JVM in the container: the new process
//!   must start in the old one's namespaces, root and cgroup.
//! * The container stopping in the middle of a replacement from the host.
//!
//! Load runs in the container's network namespace, on its loopback: clients there are the pod's
//! own clients, and the pod's address and ports must not change.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use jhot_loadgen::Mode;
use serde_json::Value;

use crate::harness::{
    self, Container, JHOT_IN_CONTAINER, Load, Pids, Proc, alive, assert_no_failures, cgroup_of, container_jar,
    container_java_cmd, free_port, get_in, jar, jhot, listening_addresses, namespaces, root_of, wait_gone, wait_until,
};

const APP: &str = "jdk-httpserver";

/// An init like Kubernetes' pause container: it starts the JVM, then only reaps children, so the
/// pid namespace outlives the JVM it started (a JVM that is PID 1 takes the namespace down with
/// it when it exits: replacing it from outside cannot work).
fn pause_init(java: &[String]) -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        "\"$@\" & trap 'exit 0' TERM; while :; do wait; sleep 0.2; done".into(),
        "pause".into(),
    ]
    .into_iter()
    .chain(java.iter().cloned())
    .collect()
}

/// Where a process runs: its namespaces, its cgroups (`/proc/<pid>/cgroup`), its root.
type Context = (Vec<(String, PathBuf)>, String, Option<(u64, u64)>);

/// The old and the new process share every namespace, the root and the cgroups.
fn assert_same_container(old: Context, new_pid: u32, c: &Container) {
    let (ns, cg, root) = old;
    assert_eq!(namespaces(new_pid), ns, "the new process {new_pid} is in the old one's namespaces");
    assert_eq!(cgroup_of(new_pid), cg, "the new process {new_pid} is in the old one's cgroups");
    assert!(
        c.cgroups().iter().all(|d| cg.contains(&*d.file_name().expect("name").to_string_lossy())),
        "the old process was in the container's cgroup: {cg}"
    );
    assert_eq!(root_of(new_pid), root, "the new process {new_pid} has the old one's root");
    assert_ne!(root_of(new_pid), root_of(std::process::id()), "…which is not the host's");
}

fn context(pid: u32) -> Context {
    (namespaces(pid), cgroup_of(pid), root_of(pid))
}

/// The harness's container is one: other namespaces than the host's, its own root, its cgroup,
/// its own `/proc`, loopback only, and `exec` lands in all of it.
#[test]
fn the_harness_container_is_a_container() {
    let c = Container::start(&pause_init(&["sleep".into(), "600".into()]));
    let init = c.init_pid();
    let me = std::process::id();
    for ((kind, a), (_, b)) in namespaces(init).iter().zip(namespaces(me).iter()) {
        assert_ne!(a, b, "the container has a {kind} namespace of its own");
    }
    assert_ne!(root_of(init), root_of(me));
    let out = c.exec(&[
        "/bin/sh",
        "-c",
        "cat /proc/1/comm; hostname; ls /proc | grep -c '^[0-9]'; ip -o link | cut -d: -f2; \
         cat /proc/self/cgroup; ls /app; test ! -e /home && echo no-host-root; touch /usr/x 2>/dev/null || echo ro-usr",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "sh", "{out:?}");
    assert_eq!(lines[1], c.hostname(), "{out:?}");
    let nprocs: usize = lines[2].parse().expect("count");
    assert!(nprocs <= 6, "its /proc shows its own processes only: {out:?}");
    assert_eq!(lines[3].trim(), "lo", "loopback only: {out:?}");
    assert!(out.stdout.contains(":/\n") || out.stdout.contains("::/\n"), "its cgroup is its root: {out:?}");
    assert!(out.stdout.contains(&format!("{APP}-v2.jar")), "{out:?}");
    assert!(out.stdout.contains("no-host-root") && out.stdout.contains("ro-usr"), "{out:?}");
    // exec lands in the cgroup of the container too, as a runtime's exec does.
    let host_cg = cgroup_of(init);
    assert!(c.cgroups().iter().all(|d| host_cg.contains(&*d.file_name().expect("name").to_string_lossy())));
}

/// `jhot run` as PID 1, `jhot replace` executed inside the container, under load from the pod's
/// loopback: no client sees a failure (the supervisor hands idle keep-alive connections over), the
/// pod keeps its address and ports, v2 answers, and the new JVM runs in the same container.
#[test]
fn run_as_pid1_replaced_from_inside() {
    let _g = harness::lock();
    let port = free_port();
    let mut argv = vec![JHOT_IN_CONTAINER.to_string(), "run".into(), "--".into()];
    argv.extend(container_java_cmd(APP, "v1", port, &[]));
    let c = Container::start(&argv);
    let (inside, host) = c.wait_ready(1, Duration::from_secs(60));
    assert_ne!(inside, host);
    assert_eq!(c.inside_pid(c.init_pid()), Some(1), "jhot run is the container's PID 1");
    let old = context(host);
    let addr_before = c.exec(&["ip", "-o", "addr"]).stdout;
    let listening_before = listening_addresses(host);
    let close = Load::start_in(Some(c.init_pid()), "close, in the pod", port, "/", Mode::Close, 4, false);
    let keep = Load::start_in(Some(c.init_pid()), "keep-alive, in the pod", port, "/", Mode::KeepAlive, 8, false);
    thread::sleep(Duration::from_millis(500));

    let v2 = container_jar(APP, "v2");
    let out =
        c.exec(&[JHOT_IN_CONTAINER, "replace", &inside.to_string(), "--jar", &v2, "--json", "--drain-timeout", "20"]);
    assert_eq!(out.code, 0, "jhot replace inside the container: {out:?}\ncontainer stderr:\n{}", c.stderr());
    let v = out.json();
    assert_eq!(v["supervised"], true, "{v}");
    let new_inside = v["new_pid"].as_u64().expect("new_pid") as u32;
    let (ready_inside, new_host) = c.wait_ready(2, Duration::from_secs(10));
    assert_eq!(ready_inside, new_inside, "container stdout:\n{}", c.stdout());
    assert!(wait_gone(host, Duration::from_secs(10)), "the old JVM {host} is still running");
    thread::sleep(Duration::from_millis(700));
    let (close, keep) = (close.finish(), keep.finish());
    assert_no_failures(&close, "Connection: close clients in the pod");
    assert_no_failures(&keep, "keep-alive clients in the pod");
    assert!(close.gens.contains_key("v2"), "{:?}", close.gens);

    assert!(alive(c.init_pid()) && c.inside_pid(c.init_pid()) == Some(1), "jhot run is still PID 1");
    assert_same_container(old, new_host, &c);
    assert_eq!(c.exec(&["ip", "-o", "addr"]).stdout, addr_before, "the pod keeps its addresses");
    assert_eq!(listening_addresses(new_host), listening_before, "the pod keeps its ports");
    assert!(get_in(c.init_pid(), port, "/").contains("hello from v2"));
    eprintln!("handed over by jhot run: {} idle connections", v["drain"]["handed_over"]);
}

/// `jhot replace` of a JVM in a container, run from the host (a node agent, or `kubectl debug`
/// without a shared pid namespace): the new process starts in the container (its namespaces, root
/// and cgroups, from the host), and the pod's clients see no failure.
#[test]
fn replace_from_the_host() {
    from_the_host(|pid| {
        let v2 = container_jar(APP, "v2");
        let args = ["replace", &pid.to_string(), "--jar", &v2, "--json", "--drain-timeout", "20"];
        let out = jhot(&args);
        assert_eq!(out.code, 0, "jhot replace from the host: {out:?}");
        out.json()
    });
}

/// `jhot deploy` from the host of a structurally changed build: it takes the replacement path, into
/// the container. The build is named by its path on the host, where jhot reads it to plan; the
/// new process is given the same path, which the harness binds at the same place inside the
/// container (a real container does not have the host's files: see docs/kubernetes.md).
#[test]
fn deploy_from_the_host() {
    from_the_host(|pid| {
        let v2 = jar(APP, "v2").display().to_string();
        let out = jhot(&["deploy", &pid.to_string(), &v2, "--json", "--drain-timeout", "20"]);
        assert_eq!(out.code, 0, "jhot deploy from the host: {out:?}");
        let v = out.json();
        assert_eq!(v["decision"], "replace", "{v}");
        v["replacement"].clone()
    });
}

/// A JVM in a container (under a pause-like init), replaced from the host by `replace`, under load
/// from the pod's loopback.
fn from_the_host(replace: impl FnOnce(u32) -> Value) {
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let c = Container::start(&pause_init(&container_java_cmd(APP, "v1", port, &[])));
    let (_, pid) = c.wait_ready(1, Duration::from_secs(60));
    let old = context(pid);
    let listening_before = listening_addresses(pid);
    let close = Load::start_in(Some(c.init_pid()), "close, in the pod", port, "/", Mode::Close, 4, false);
    let retry = Load::start_in(Some(c.init_pid()), "keep-alive+retry, in the pod", port, "/", Mode::KeepAlive, 4, true);
    thread::sleep(Duration::from_millis(500));

    let v = replace(pid);
    let new_pid = v["new_pid"].as_u64().unwrap_or_else(|| panic!("new_pid (a host pid) in {v}")) as u32;
    pids.add(new_pid);
    assert_eq!(v["old_pid"].as_u64(), Some(pid as u64), "{v}");
    assert!(wait_gone(pid, Duration::from_secs(10)), "the old JVM {pid} is still running");
    assert!(alive(new_pid), "the new JVM {new_pid} runs");
    thread::sleep(Duration::from_millis(700));
    let (close, retry) = (close.finish(), retry.finish());
    assert_no_failures(&close, "Connection: close clients in the pod");
    assert_no_failures(&retry, "keep-alive clients that retry, in the pod");
    assert!(close.gens.contains_key("v2"), "{:?}", close.gens);

    assert_same_container(old, new_pid, &c);
    assert!(c.inside_pid(new_pid).is_some_and(|p| p != new_pid), "the new JVM has a pid inside the container");
    assert_eq!(listening_addresses(new_pid), listening_before, "the pod keeps its ports");
    assert!(get_in(c.init_pid(), port, "/").contains("hello from v2"));
    drop(c);
    assert!(wait_gone(new_pid, Duration::from_secs(10)), "the new JVM stops with its container");
}

/// Bad input: the container stops (its init is killed, its pid namespace with everything in it
/// goes) while `jhot replace` from the host waits for the new version to become ready. jhot exits
/// soon with a clear error and the code of a lost JVM, and nothing of the new version runs.
#[test]
fn container_stops_mid_replacement() {
    let _g = harness::lock();
    let pids = Pids::default();
    let port = free_port();
    let c = Container::start(&pause_init(&container_java_cmd(APP, "v1", port, &[])));
    let (_, pid) = c.wait_ready(1, Duration::from_secs(60));
    let mut args = vec![
        harness::jhot_bin().display().to_string(),
        "replace".into(),
        pid.to_string(),
        "--json".into(),
        "--ready-timeout".into(),
        "60".into(),
        "--".into(),
    ];
    args.extend(container_java_cmd(APP, "v2", port, &["--never-ready"]));
    let started = Instant::now();
    let mut replacing = Proc::spawn(&args);
    // The new process is in the container: a second JVM in its pid namespace.
    let mut new_pid = None;
    let found = wait_until(Duration::from_secs(30), || {
        new_pid = harness::children_of(pid)
            .into_iter()
            .chain(all_pids())
            .find(|&p| p != pid && c.contains(p) && cmdline(p).contains(&format!("{APP}-v2.jar")));
        new_pid.is_some() || !alive(replacing.pid())
    });
    assert!(
        found && new_pid.is_some(),
        "no new JVM appeared in the container\nstdout: {}\nstderr: {}",
        replacing.stdout(),
        replacing.stderr()
    );
    let new_pid = new_pid.expect("new pid");
    pids.add(new_pid);
    // Let it start (it binds, and never accepts), then stop the container.
    thread::sleep(Duration::from_millis(1500));
    harness::kill(c.init_pid(), libc::SIGKILL);
    let code = replacing.wait_exit(Duration::from_secs(30));
    assert!(code.is_some(), "jhot replace did not notice that the container stopped (waited {:?})", started.elapsed());
    let text = replacing.stdout();
    let v: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("no JSON ({e}): {text}\n{}", replacing.stderr()));
    let msg = v["error"]["message"].as_str().unwrap_or_default().to_string();
    assert_eq!(code, Some(Some(8)), "a lost JVM is exit code 8: {text}");
    assert_eq!(v["error"]["kind"], "lost", "{text}");
    assert!(msg.contains(&pid.to_string()), "the message names the old process: {msg}");
    assert!(wait_gone(new_pid, Duration::from_secs(5)), "the new version {new_pid} must not keep running");
    assert!(
        all_pids().iter().all(|&p| !cmdline(p).contains(&format!("{APP}-v2.jar"))),
        "nothing of the new version runs"
    );
    // SAFETY: geteuid(2) cannot fail and takes no arguments.
    let state = PathBuf::from(format!("/tmp/.jhot-{}/replace-{pid}.json", unsafe { libc::geteuid() }));
    assert!(!state.exists(), "jhot's record of the replacement is cleaned up");
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default()
}

fn cmdline(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// Bad input from the host: `--jar` names a path in the container (the new process starts there),
/// so a relative path, or a path only the host has, is refused before anything starts.
#[test]
fn a_jar_from_the_host_is_looked_for_in_the_container() {
    let c = Container::start(&pause_init(&["sleep".into(), "600".into()]));
    let pid = c.init_pid().to_string();
    let host_only = harness::repo().join("Cargo.toml").display().to_string();
    for (jar, why) in [
        ("app.jar", "is not a file in the root of pid"),
        ("/app/no-such.jar", "is not a file in the root of pid"),
        (host_only.as_str(), "is not a file in the root of pid"),
    ] {
        let out = jhot(&["replace", &pid, "--jar", jar, "--json"]);
        assert_eq!(out.code, 6, "{jar}: {out:?}");
        let msg = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains(why) && msg.contains(&pid), "{jar}: {msg}");
    }
    assert_eq!(harness::children_of(c.init_pid()).len(), 1, "nothing was started in the container");
}

/// A JVM that is its container's PID 1 cannot be replaced: when PID 1 exits, the kernel kills
/// every process in its pid namespace, the new JVM too, and the container stops. jhot must refuse
/// before starting anything (exit 6, saying why and what to do), inside the container and from the
/// host, and the JVM keeps serving.
#[test]
fn a_jvm_that_is_pid1_is_not_replaced() {
    let _g = harness::lock();
    let port = free_port();
    let c = Container::start(&container_java_cmd(APP, "v1", port, &[]));
    let (inside, host) = c.wait_ready(1, Duration::from_secs(60));
    assert_eq!((inside, host), (1, c.init_pid()), "java is the container's PID 1");
    let close = Load::start_in(Some(host), "close, in the pod", port, "/", Mode::Close, 4, false);
    let v2 = container_jar(APP, "v2");
    let from_inside = c.exec(&[JHOT_IN_CONTAINER, "replace", "1", "--jar", &v2, "--json", "--drain-timeout", "20"]);
    let from_host = jhot(&["replace", &host.to_string(), "--jar", &v2, "--json", "--drain-timeout", "20"]);
    thread::sleep(Duration::from_millis(300));
    let alive_after = alive(host);
    let close = close.finish();
    for (where_, out) in [("inside the container", &from_inside), ("from the host", &from_host)] {
        assert_eq!(out.code, 6, "{where_}: {out:?}\ncontainer stderr:\n{}", c.stderr());
        let msg = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
        assert!(msg.contains("PID 1") && msg.contains("jhot run"), "{where_}: {msg}");
    }
    assert!(alive_after, "the JVM (and with it the container) still runs");
    assert_no_failures(&close, "Connection: close clients in the pod");
    assert_eq!(close.gens.keys().collect::<Vec<_>>(), vec!["v1"], "only v1 ever answered");
}
