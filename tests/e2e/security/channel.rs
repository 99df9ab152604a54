//! See mod.rs.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::harness::{self, Sandbox};

/// Keeps `n` connections open to 127.0.0.1:`port` for `secs` seconds, trickling one byte a second
/// on each (the length of a 256-byte frame, then its body: never a whole frame in time), and
/// opens a new one whenever the agent closes one. Prints `READY <n>` once the first `n` are open,
/// then one JSON summary: how many the agent closed, and how long the longest and shortest lived.
const TRICKLER: &str = r#"
import json, select, socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
prefix = b"\x00\x00\x01\x00"
held, lives, refused = {}, [], 0
def open_one():
    global refused
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
    except OSError:
        refused += 1
        s.close()
        return False
    s.setblocking(False)
    held[s] = [time.monotonic(), 0]
    return True
def gone(s):
    lives.append(time.monotonic() - held.pop(s)[0])
    s.close()
for _ in range(n):
    open_one()
print("READY", len(held), flush=True)
end = time.monotonic() + secs
tick = time.monotonic() + 1
while time.monotonic() < end:
    ready = select.select(list(held), [], [], max(0, min(tick, end) - time.monotonic()))[0] if held else []
    for s in ready:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            gone(s)
    if time.monotonic() >= tick:
        tick += 1
        for s in list(held):
            k = held[s][1]
            try:
                s.send(prefix[k:k + 1] if k < len(prefix) else b"x")
                held[s][1] += 1
            except OSError:
                gone(s)
    for _ in range(n - len(held)):
        if not open_one():
            break
print(json.dumps({"closed": len(lives), "longest": max(lives, default=0.0), "shortest": min(lives, default=0.0),
                  "held_at_end": len(held), "refused": refused}), flush=True)
"#;

/// The trickler, run as `nobody` (any local user can read the port from /proc/net/tcp).
struct Trickler {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Trickler {
    fn start(port: u16, n: usize, secs: u32) -> Trickler {
        // The system's python3: one on root's PATH (pyenv) may not be usable by nobody.
        let python = if std::path::Path::new("/usr/bin/python3").exists() { "/usr/bin/python3" } else { "python3" };
        let mut child = Command::new("setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups", "--", python, "-c", TRICKLER])
            .args([port.to_string(), n.to_string(), secs.to_string()])
            .current_dir("/")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn the trickler (setpriv, python3)");
        let stdout = child.stdout.take().expect("trickler stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Trickler { child, lines }
    }

    fn line(&self, timeout: Duration) -> String {
        self.lines.recv_timeout(timeout).unwrap_or_else(|e| panic!("the trickler said nothing within {timeout:?}: {e}"))
    }
}

impl Drop for Trickler {
    fn drop(&mut self) {
        // Our own child, by pid; it ends by itself, this is for a panic midway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Review test 7 (M4): on the JDK 11 loopback channel, another local user holds 20 connections
/// that never show the token and trickle a byte a second, re-opening each one the agent closes.
/// jhot still gets through, quickly, every time; and the agent closes each of them about 2 s after
/// it connected, however busy it keeps itself.
#[test]
fn peers_without_the_token_cannot_shut_jhot_out_jdk11() {
    let jdk = harness::jdk(11);
    let sandbox = Sandbox::new();
    let app = sandbox.app(&jdk, None, &[]);
    let pid = app.pid().to_string();
    let greeter = harness::patch_classes("body").join("hello/Greeter.class");
    let out = sandbox.jhot(&["redefine", &pid, greeter.to_str().expect("utf-8 path"), "--json"]);
    assert_eq!(out.code, 0, "the redefine that loads the agent: {out:?}");

    // After a cold load the channel opens beside the first request, so it may still be opening.
    let port_file = sandbox.host_path(&format!("/tmp/.jhot-0/{pid}.port"));
    assert!(
        harness::wait_until(Duration::from_secs(10), || port_file.exists()),
        "no {} after the agent loaded",
        port_file.display()
    );
    let text = std::fs::read_to_string(&port_file).unwrap_or_else(|e| panic!("{}: {e}", port_file.display()));
    let port: u16 = text
        .split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("port file holds {text:?}"));
    assert!(
        harness::listening_addresses(app.pid()).contains(&format!("127.0.0.1:{port}")),
        "the JVM does not listen on 127.0.0.1:{port}"
    );

    let n = 20;
    let secs = 9;
    let trickler = Trickler::start(port, n, secs);
    assert_eq!(trickler.line(Duration::from_secs(20)), format!("READY {n}"));
    // Right away (all 20 of the first batch still held), and twice more while replacements are held.
    for wait_ms in [300, 2_500, 2_500] {
        std::thread::sleep(Duration::from_millis(wait_ms));
        let t0 = Instant::now();
        let out = sandbox.jhot(&["history", &pid, "--json", "--timeout", "10"]);
        let took = t0.elapsed();
        assert_eq!(out.code, 0, "jhot history while {n} peers held connections: {out:?}");
        assert_eq!(out.json()["ok"], true, "{out:?}");
        assert!(took < Duration::from_secs(5), "jhot history took {took:?} (timeout 10 s)");
    }

    let summary: serde_json::Value =
        serde_json::from_str(&trickler.line(Duration::from_secs(u64::from(secs) + 20))).expect("trickler summary");
    let closed = summary["closed"].as_u64().unwrap_or(0);
    let longest = summary["longest"].as_f64().unwrap_or(f64::MAX);
    let shortest = summary["shortest"].as_f64().unwrap_or(0.0);
    // Every connection of the first batch, and the ones that replaced them, were closed.
    assert!(closed >= 2 * n as u64, "the agent closed only {closed} trickling connections: {summary}");
    // The deadline is 2 s from accept, whatever the peer sends; the trickler notices a close
    // within a few ms (select), so allow for a loaded machine, not for an idle timer.
    assert!(longest < 4.0, "a trickling connection lived {longest:.2} s: {summary}");
    assert!(shortest > 1.5, "a trickling connection was closed after {shortest:.2} s, before its deadline: {summary}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
}
