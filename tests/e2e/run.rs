//! Running the `jhot` binary and reading what it says.

use std::process::Command;
use std::time::Duration;

use serde_json::Value;

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

pub fn jhot_cmd() -> Command {
    crate::util::jhot()
}

/// Waits (at most 5 s) for the agent's Unix socket in JVM `pid`: after a cold load it opens
/// beside the first request.
pub fn wait_for_agent_socket(pid: u32) -> String {
    let sock = format!("/tmp/.jhot-0/{pid}.sock");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !std::path::Path::new(&sock).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    sock
}

/// jhot run as another (non-root) user, through setpriv.
pub fn as_user(user: &str, args: &[&str]) -> Command {
    let (uid, gid) = crate::util::ensure_user(user);
    let mut c = Command::new("setpriv");
    c.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg("--");
    c.arg(crate::util::jhot_bin()).args(args).current_dir("/");
    c
}

/// Runs jhot with `args` and a bounded wall time.
pub fn jhot(args: &[&str]) -> Outcome {
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

/// Local addresses of the TCP sockets `pid` listens on (IPv4 and IPv6), as `addr:port` hex pairs
/// decoded to text.
pub fn listening_addresses(pid: u32) -> Vec<String> {
    let mut inodes = std::collections::HashSet::new();
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in rd.flatten() {
            if let Ok(target) = std::fs::read_link(e.path()) {
                let t = target.to_string_lossy().to_string();
                if let Some(ino) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    inodes.insert(ino.to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    for (file, v6) in [("tcp", false), ("tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" || !inodes.contains(f[9]) {
                continue;
            }
            out.push(decode_addr(f[1], v6));
        }
    }
    out
}

fn decode_addr(hex: &str, v6: bool) -> String {
    let (addr, port) = hex.split_once(':').unwrap_or((hex, "0"));
    let port = u16::from_str_radix(port, 16).unwrap_or(0);
    if !v6 {
        let n = u32::from_str_radix(addr, 16).unwrap_or(0);
        let ip = std::net::Ipv4Addr::from(n.to_le_bytes());
        return format!("{ip}:{port}");
    }
    let mut bytes = [0u8; 16];
    for i in 0..4 {
        let word = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).unwrap_or(0);
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    let ip = std::net::Ipv6Addr::from(bytes);
    match ip.to_ipv4_mapped() {
        Some(v4) => format!("{v4}:{port}"),
        None => format!("[{ip}]:{port}"),
    }
}

/// True if an address is loopback (127.0.0.0/8 or ::1).
pub fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr.starts_with("[::1]")
}
