//! `jhot replace` and `jhot run` against fake supervisors and spoofed readiness probes (see mod.rs).
//!
//! The servers are the takeover samples (tests/e2e/takeover.rs has the helpers: jars, load, pids).

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::sandbox::Sandbox;
use crate::takeover::{self, Pids, Proc, alive, free_port, get, jar, java_cmd};
use crate::util;

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
        cmd.args(["-c", FAKE_SUPERVISOR, socket, log]).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit());
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
    assert!(util::is_root(), "this test plays two users; run the tests as root");
    assert!(std::path::Path::new("/usr/bin/python3").exists(), "the fake supervisor needs /usr/bin/python3");
    let _g = takeover::lock();
    let pids = Pids::default();
    let sb = Sandbox::new();
    let (uid, _) = util::ensure_user(OWNER);
    util::ensure_user("nobody");
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
        msg.contains(&socket) && msg.contains("not the `jhot run` supervisor") && msg.contains(&format!("pid {}", fake.pid())),
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
/// drive it (review L13).
#[test]
fn root_drives_another_users_jhot_run() {
    assert!(util::is_root(), "this test plays two users; run the tests as root");
    let _g = takeover::lock();
    let pids = Pids::default();
    let sb = Sandbox::new();
    util::ensure_user(OWNER);
    let port = free_port();
    let mut cmd = sb.cmd_as(OWNER, util::jhot_bin());
    cmd.args(["run", "--no-agent", "--"]).args(java_cmd("jdk-httpserver", "v1", port, &[]));
    let sup = Proc::spawn_cmd(cmd);
    pids.add(sup.pid());
    let pid = sup.wait_ready(1, Duration::from_secs(60));
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
}
