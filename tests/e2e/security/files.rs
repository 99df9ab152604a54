//! Files and sockets another user prepares for root's jhot: a planted `/tmp/.jhot-0` with a
//! forged record and links, absolute symlinks inside a container, an impostor attach listener, a
//! non-sticky `/tmp`, a stale agent port taken by someone else, and hostile files (a FIFO, a
//! sparse 10 GiB file). Each test checks both halves: the refusal (exit code and message), and
//! that nothing was signalled, written, connected to or loaded.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{self, App, Sandbox, alive};

const NOBODY: &str = "nobody";
/// Debian's interpreter: other users can run it (a pyenv shim under /root cannot).
const PYTHON: &str = "/usr/bin/python3";

/// Field 22 of `/proc/<pid>/stat`: what jhot's records use to name a process.
fn start_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    rest.split_whitespace().nth(19).expect("field 22").parse().expect("ticks")
}

/// A listener another user runs to impersonate something: it logs every connection and the
/// number of bytes it received into `log` (inside the sandbox) and exits by itself after 60 s.
/// `unix`: a Unix socket at that path; otherwise TCP on 127.0.0.1 (its port is returned).
struct Decoy {
    child: Child,
    pub port: u16,
}

impl Decoy {
    fn start(sandbox: &Sandbox, user: Option<&str>, unix: Option<&str>, log: &str, answer: &str) -> Decoy {
        let script = r#"
import os, socket, sys, time
unix, log, answer = sys.argv[1], sys.argv[2], sys.argv[3].encode()
if unix:
    s = socket.socket(socket.AF_UNIX)
    s.bind(unix)
    os.chmod(unix, 0o600)
else:
    s = socket.socket(socket.AF_INET)
    s.bind(("127.0.0.1", 0))
s.listen(32)
s.settimeout(0.2)
print("ready", s.getsockname()[1] if not unix else 0, flush=True)
end = time.time() + 60
while time.time() < end:
    try:
        c, _ = s.accept()
    except socket.timeout:
        continue
    with open(log, "a") as f:
        f.write("connection\n")
    c.settimeout(1)
    got = 0
    try:
        if answer:
            c.sendall(answer)
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += len(d)
    except Exception:
        pass
    with open(log, "a") as f:
        f.write("bytes %d\n" % got)
    c.close()
"#;
        let mut cmd = match user {
            Some(u) => sandbox.cmd_as(u, PYTHON),
            None => sandbox.cmd(PYTHON),
        };
        cmd.arg("-c").arg(script).arg(unix.unwrap_or("")).arg(log).arg(answer);
        let mut child =
            cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::inherit()).spawn().expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line).expect("decoy ready");
        let port = line
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("decoy did not start: {line:?}"));
        Decoy { child, port }
    }
}

impl Drop for Decoy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn log_of(sandbox: &Sandbox, log: &str) -> String {
    std::fs::read_to_string(sandbox.host_path(log)).unwrap_or_default()
}

/// Review test 1 (H1): `nobody` creates `/tmp/.jhot-0` (it does not exist after a reboot) with a
/// forged record naming a root-owned process; root's `jhot ps` must not signal it.
#[test]
fn forged_record_in_a_planted_directory_signals_nothing() {
    let sandbox = Sandbox::new();
    let mut victim = Command::new("sleep").arg("300").spawn().expect("sleep");
    let vpid = victim.id();
    let record = serde_json::json!({
        "jhot_pid": 1, "jhot_start": 0,
        "old_pid": 1, "old_start": start_ticks(1),
        "new_pid": vpid, "new_start": start_ticks(vpid),
        "phase": "starting", "started_unix_ms": 0
    });
    sandbox.sh(
        Some(NOBODY),
        &format!("mkdir -m 755 /tmp/.jhot-0 && printf '%s' '{record}' > /tmp/.jhot-0/replace-1.json"),
    );

    for args in [&["ps"][..], &["ps", "--json"][..]] {
        let out = sandbox.jhot(args);
        assert_eq!(out.code, 4, "{out:?}");
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(said.contains("/tmp/.jhot-0") && said.contains("owned by uid 65534"), "{out:?}");
    }
    assert!(alive(vpid), "jhot signalled the process a planted record named");
    // Nothing in the directory was acted on or removed.
    assert!(sandbox.host_path("/tmp/.jhot-0/replace-1.json").exists());
    let _ = victim.kill();
    let _ = victim.wait();
}

/// Review test 2 (H1): the same planted directory with links to root's files where jhot writes
/// its temp records and logs. `jhot replace` refuses before writing anything.
#[test]
fn links_in_a_planted_directory_are_never_written_through() {
    let sandbox = Sandbox::new();
    let app = sandbox.app(&harness::jdk(17), None, &[]);
    let pid = app.pid();
    sandbox.sh(None, "printf precious > /tmp/canary && chmod 600 /tmp/canary && printf precious > /tmp/canary2 && chmod 600 /tmp/canary2");
    let mut links = String::from("mkdir -m 755 /tmp/.jhot-0 && cd /tmp/.jhot-0 && ln -s /tmp/canary2 replace-");
    links.push_str(&format!("{pid}.log"));
    // The names jhot's temp files used to have, for a range of plausible jhot pids.
    links.push_str(&format!("; for p in $(seq 1 4000); do ln -s /tmp/canary .replace-{pid}.$p.tmp; done; true"));
    sandbox.sh(Some(NOBODY), &links);

    let out = sandbox.jhot(&["replace", &pid.to_string(), "--", "/bin/true"]);
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stderr.contains("/tmp/.jhot-0") && out.stderr.contains("remove it"), "{out:?}");
    assert_eq!(std::fs::read_to_string(sandbox.host_path("/tmp/canary")).expect("canary"), "precious");
    assert_eq!(std::fs::read_to_string(sandbox.host_path("/tmp/canary2")).expect("canary2"), "precious");
    // The JVM was not touched: same process, still answering.
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert!(harness::thread_names(pid).iter().all(|t| !t.contains("jhot")), "the agent was loaded");
}

/// Review test 3 (H2): inside a container, `/tmp/.java_pid1` and the agent's socket are absolute
/// symlinks to sockets of the container's host. Root's jhot on the host must connect to neither.
#[test]
fn absolute_symlinks_in_a_container_never_lead_to_the_host() {
    let sandbox = Sandbox::new();
    let decoy = Decoy::start(&sandbox, None, Some("/tmp/decoy.sock"), "/tmp/decoy.log", "");
    let decoy2 = Decoy::start(&sandbox, None, Some("/tmp/decoy2.sock"), "/tmp/decoy2.log", "");
    let app = App::start_in_namespace_from(sandbox.cmd("unshare"), &harness::jdk(17), &[]);
    let pid = app.pid();
    let root = app.proc_root();
    // The tenant (root inside the container) plants the links in its own /tmp.
    let plant = Command::new("nsenter")
        .args([&format!("--target={pid}"), "--mount", "--", "/bin/sh", "-c"])
        .arg("ln -s /tmp/decoy.sock /tmp/.java_pid1 && mkdir -m 700 /tmp/.jhot-0 && ln -s /tmp/decoy2.sock /tmp/.jhot-0/1.sock")
        .status()
        .expect("nsenter");
    assert!(plant.success());
    assert!(root.join("tmp/.java_pid1").symlink_metadata().is_ok());

    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    let redefine = sandbox.jhot(&["redefine", &pid.to_string(), patch.to_str().expect("utf-8")]);
    assert_eq!(redefine.code, 4, "{redefine:?}");
    assert!(redefine.stderr.contains("symbolic link") || redefine.stderr.contains("not a socket"), "{redefine:?}");
    let history = sandbox.jhot(&["history", &pid.to_string()]);
    assert_eq!(history.code, 4, "{history:?}");
    let info = sandbox.jhot(&["info", &pid.to_string(), "--json"]);
    let ps = sandbox.jhot(&["ps", "--json"]);
    assert_eq!(ps.code, 0, "{ps:?}");
    assert!(info.stdout.contains("symbolic link") || info.stderr.contains("symbolic link"), "{info:?}");

    assert_eq!(log_of(&sandbox, "/tmp/decoy.log"), "", "jhot connected to the host's decoy attach socket");
    assert_eq!(log_of(&sandbox, "/tmp/decoy2.log"), "", "jhot connected to the host's decoy agent socket");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    drop((decoy, decoy2));
}

/// Review test 4 (M1): another user binds the attach socket of a JVM whose listener has not
/// started. jhot refuses it and sends it nothing.
#[test]
fn impostor_attach_listener_gets_nothing() {
    let sandbox = Sandbox::new();
    let app = sandbox.app(&harness::jdk(17), Some("jhot-test"), &[]);
    let pid = app.pid();
    let _decoy =
        Decoy::start(&sandbox, Some(NOBODY), Some(&format!("/tmp/.java_pid{pid}")), "/tmp/impostor.log", "0\n17.0\n");
    // (`history` does not attach when no agent is resident, so it has nothing to refuse.)
    for args in [vec!["info", "--json"], vec!["redefine"]] {
        let mut argv: Vec<String> = vec![args[0].to_string(), pid.to_string()];
        if args[0] == "redefine" {
            argv.push(harness::patch_classes("body").join("hello/Greeter.class").display().to_string());
        }
        argv.extend(args[1..].iter().map(|s| s.to_string()));
        let refs: Vec<&str> = argv.iter().map(String::as_str).collect();
        let out = sandbox.jhot(&refs);
        let said = format!("{}{}", out.stdout, out.stderr);
        assert!(said.contains("owned by uid 65534"), "{args:?}: {out:?}");
        if args[0] != "info" {
            assert_eq!(out.code, 4, "{out:?}");
        }
    }
    assert_eq!(log_of(&sandbox, "/tmp/impostor.log"), "", "jhot talked to the impostor");
    assert_eq!(app.get("/").trim(), "Hello from v1");
}

/// Not an attack, but the same file seen from the JVM's side: root's JVM was killed (the OOM
/// killer, `kill -9`) and left `/tmp/.java_pid<pid>`; a JVM of another user later got that pid and
/// cannot replace root's file in the sticky `/tmp`. jhot says so (not "impersonating"), signals
/// nothing, and attaches once the file is gone.
#[test]
fn a_leftover_socket_of_an_earlier_process_is_named_as_such() {
    let sandbox = Sandbox::new();
    let app = sandbox.app(&harness::jdk(17), Some("jhot-test"), &[]);
    let pid = app.pid();
    let socket = format!("/tmp/.java_pid{pid}");
    sandbox.sh(
        None,
        &format!(
            "{PYTHON} -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' {socket} && \
             chmod 600 {socket} && touch -h -d '1 hour ago' {socket}"
        ),
    );
    let patch = harness::patch_classes("body").join("hello/Greeter.class").display().to_string();

    let out = sandbox.jhot(&["redefine", &pid.to_string(), &patch, "--json"]);
    assert_eq!(out.code, 4, "{out:?}");
    let message = out.json()["error"]["message"].as_str().expect("message").to_string();
    assert!(message.contains("belongs to uid 0") && message.contains("older than the JVM"), "{message}");
    assert!(message.contains(&format!("rm /proc/{pid}/root{socket}")), "{message}");
    assert!(!message.contains("impersonating"), "{message}");
    // Nothing was signalled (a SIGQUIT without a listener to start prints a thread dump), nothing
    // was removed, and the JVM runs its old code.
    assert!(!app.stdout_text().contains("Full thread dump"), "{}", app.stdout_text());
    assert!(sandbox.host_path(&socket).exists());
    assert_eq!(app.get("/").trim(), "Hello from v1");

    // What the message says to do works.
    sandbox.sh(None, &format!("rm {socket}"));
    let out = sandbox.jhot(&["redefine", &pid.to_string(), &patch]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
}

/// Review test 6 (M3): `/tmp` is a Kubernetes-style emptyDir, mode 0777 without the sticky bit:
/// another uid could rename jhot's directory between a check and the load. jhot refuses, and the
/// jar that uid prepared never runs.
#[test]
fn non_sticky_tmp_is_refused_and_no_foreign_jar_runs() {
    let sandbox = Sandbox::with_tmp_mode("0777");
    let app = sandbox.app(&harness::jdk(17), Some("jhot-test"), &[]);
    let pid = app.pid();
    let (uid, _) = harness::ensure_user("jhot-test");
    // Another uid keeps swapping a directory of its own in and out under the expected name.
    let swapper = format!(
        "mkdir -p /tmp/b && i=0; while [ $i -lt 400 ]; do mv /tmp/.jhot-{uid} /tmp/b/x$i 2>/dev/null; mkdir -m 700 /tmp/.jhot-{uid} 2>/dev/null; \
         printf canary > /tmp/.jhot-{uid}/canary.jar 2>/dev/null; i=$((i+1)); sleep 0.01; done"
    );
    let mut swap = sandbox
        .cmd_as(NOBODY, "/bin/sh")
        .arg("-c")
        .arg(&swapper)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("swapper");

    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    let out = sandbox.jhot(&["redefine", &pid.to_string(), patch.to_str().expect("utf-8")]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while swap.try_wait().expect("wait").is_none() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = swap.kill();
    let _ = swap.wait();
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stderr.contains("sticky"), "{out:?}");
    assert!(harness::thread_names(pid).iter().all(|t| !t.contains("jhot")), "an agent was loaded");
    assert!(!app.stderr_text().contains("jhot-agent"), "{}", app.stderr_text());
    assert_eq!(app.get("/").trim(), "Hello from v1");
}

/// Review test 8 (M4): a `.port` file whose port someone else now listens on (an agent of an
/// earlier JVM with this pid, its port taken by another user). The token and the request must go
/// nowhere.
#[test]
fn stale_port_taken_by_an_impostor_gets_no_token() {
    let sandbox = Sandbox::new();
    let jdk = harness::jdk(11);
    let app = sandbox.app(&jdk, None, &[]);
    let pid = app.pid();
    let hello = format!("{{\"id\":1,\"ok\":true,\"protocol\":1,\"agent\":\"0.1.0\",\"pid\":{pid},\"start_ms\":0}}");
    let impostor = Decoy::start(&sandbox, Some(NOBODY), None, "/tmp/tcp-impostor.log", &hello);
    let token = "0123456789abcdef0123456789abcdef0123456789abcdef";
    sandbox.sh(
        None,
        &format!(
            "mkdir -m 700 /tmp/.jhot-0 && umask 077 && printf '%s %s' {} {token} > /tmp/.jhot-0/{pid}.port",
            impostor.port
        ),
    );
    let out = sandbox.jhot(&["history", &pid.to_string(), "--json"]);
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stdout.contains("not a listening socket of process"), "{out:?}");
    assert_eq!(log_of(&sandbox, "/tmp/tcp-impostor.log"), "", "jhot connected to the impostor");
}

/// Review test 10 (L4): hostile files in places root's jhot reads — a sparse 10 GiB `.port`
/// file, and a JDK `release` file that is a FIFO (read when the JVM publishes no perf data).
/// `jhot ps` and `jhot info` finish within their timeout, with bounded memory.
#[test]
fn hostile_files_neither_hang_nor_exhaust_jhot() {
    let sandbox = Sandbox::new();
    let jdk = harness::jdk(17);
    let java_home = jdk.java().parent().and_then(|b| b.parent()).expect("java home").to_path_buf();
    let release = java_home.join("release");
    // Only inside the sandbox: a FIFO bind-mounted over the JDK's release file.
    sandbox.sh(None, &format!("mkfifo /tmp/release.fifo && mount --bind /tmp/release.fifo {}", release.display()));
    let app = sandbox.app(&jdk, Some("jhot-test"), &["-XX:-UsePerfData"]);
    let pid = app.pid();
    let (uid, _) = harness::ensure_user("jhot-test");
    sandbox.sh(
        Some("jhot-test"),
        &format!("mkdir -m 700 /tmp/.jhot-{uid} && umask 077 && truncate -s 10G /tmp/.jhot-{uid}/{pid}.port"),
    );

    let measure = "import resource, subprocess, sys, time\n\
                   t = time.time(); r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n\
                   print(r.returncode, int(time.time() - t), resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    for args in [vec!["ps"], vec!["info", &pid.to_string()], vec!["history", &pid.to_string()]] {
        let mut cmd = sandbox.cmd(PYTHON);
        cmd.arg("-c").arg(measure).arg(harness::jhot_bin()).args(&args);
        let out = harness::output_raw(&mut cmd, Duration::from_secs(90));
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let fields: Vec<u64> = text.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        assert_eq!(fields.len(), 3, "{args:?}: {text} {}", String::from_utf8_lossy(&out.stderr));
        assert!(fields[1] < 30, "{args:?} took {} s", fields[1]);
        assert!(fields[2] < 200 * 1024, "{args:?} used {} KiB", fields[2]);
        if args[0] == "history" {
            assert_eq!(fields[0], 4, "a 10 GiB port file is refused as unusable");
        }
    }
    assert_eq!(app.get("/").trim(), "Hello from v1");
}

/// The agent's socket in the JVM's own private directory, but served by another process of the
/// same user (the JVM's user could do this; so could any root process on the host): jhot checks
/// the peer is the JVM itself before sending its hello.
#[test]
fn agent_socket_served_by_another_process_is_refused() {
    let sandbox = Sandbox::new();
    let app = sandbox.app(&harness::jdk(17), None, &[]);
    let pid = app.pid();
    sandbox.sh(None, "mkdir -m 700 /tmp/.jhot-0");
    let _decoy = Decoy::start(&sandbox, None, Some(&format!("/tmp/.jhot-0/{pid}.sock")), "/tmp/agent-decoy.log", "");
    let out = sandbox.jhot(&["history", &pid.to_string()]);
    assert_eq!(out.code, 4, "{out:?}");
    assert!(out.stderr.contains("not by the JVM"), "{out:?}");
    // The connection was made to look, but no byte of the hello (let alone a token) was sent.
    let log = log_of(&sandbox, "/tmp/agent-decoy.log");
    assert!(!log.lines().any(|l| l.starts_with("bytes ") && l != "bytes 0"), "{log}");
}
