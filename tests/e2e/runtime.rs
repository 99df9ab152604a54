//! Looking inside a running JVM: `jhot thread`, `getstatic`, `jvm` and `sysprop` on every JDK,
//! against a small fixture JVM (compiled here) whose statics the test reads, changes by
//! redefining a class, and whose objects' toString/hashCode announce themselves if they ever run;
//! and Ctrl-C of a sampling `jhot thread`, which must stop the agent's worker in the JVM too.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{self, App, jhot, jhot_cmd, kill, thread_names};

const MAIN: &str = r#"package rtfx;
public final class Main {
    public static void main(String[] args) throws Exception {
        State.init();
        Class<?> later = Later.class; // loaded, never initialized
        Thread ticker = new Thread(() -> {
            while (true) {
                State.tick();
                try { Thread.sleep(20); } catch (InterruptedException e) { return; }
            }
        }, "rtfx-ticker");
        ticker.setDaemon(true);
        ticker.start();
        Thread spinner = new Thread(() -> {
            long x = 0;
            while (true) { x += System.nanoTime() % 7; if (x == 42) System.out.print(""); }
        }, "rtfx-spinner");
        spinner.setDaemon(true);
        spinner.start();
        System.out.println("READY " + later.getName());
        Thread.sleep(Long.MAX_VALUE);
    }
}
"#;

const STATE_V1: &str = r#"package rtfx;
public final class State {
    static String mode = "unset";
    static final int[] LIMITS = {1, 2, 3};
    static final String BIG = "x".repeat(10000);
    static Color color = Color.GREEN;
    static Trap trap;
    static Object nothing;
    static void init() { trap = new Trap("t1"); }
    static void tick() { mode = "v1"; }
}
"#;

const OTHERS: &str = r#"package rtfx;
enum Color { RED, GREEN }
final class Trap {
    final String name;
    final Trap self = this;
    int count = 3;
    Trap(String name) { this.name = name; }
    @Override public String toString() { System.out.println("TRAP toString RAN"); throw new IllegalStateException("toString ran"); }
    @Override public int hashCode() { System.out.println("TRAP hashCode RAN"); return 1; }
    @Override public boolean equals(Object o) { System.out.println("TRAP equals RAN"); return false; }
}
final class Later {
    static final long T = initialize();
    static long initialize() { System.out.println("LATER INITIALIZED"); return System.nanoTime(); }
}
"#;

/// The fixture's classes, and State with `tick` setting "v2" instead.
fn fixture(dir: &Path) -> (PathBuf, PathBuf) {
    let src = dir.join("src/rtfx");
    std::fs::create_dir_all(&src).expect("mkdir");
    std::fs::write(src.join("Main.java"), MAIN).expect("write");
    std::fs::write(src.join("State.java"), STATE_V1).expect("write");
    std::fs::write(src.join("Others.java"), OTHERS).expect("write");
    let classes = dir.join("classes");
    harness::compile(&dir.join("src"), &classes, 11, None);
    let v2 = dir.join("v2/rtfx");
    std::fs::create_dir_all(&v2).expect("mkdir");
    std::fs::write(v2.join("State.java"), STATE_V1.replace("mode = \"v1\"", "mode = \"v2\"")).expect("write");
    let v2_classes = dir.join("v2-classes");
    harness::compile(&dir.join("v2"), &v2_classes, 11, Some(&classes));
    (classes, v2_classes.join("rtfx/State.class"))
}

fn start(feature: u32, dir: &Path) -> (App, PathBuf) {
    let (classes, state_v2) = fixture(dir);
    let app = App::start_main(&harness::jdk(feature), harness::LIGHT_JVM_ARGS, &[classes], "rtfx.Main", &[], "READY");
    (app, state_v2)
}

fn json_ok(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = jhot(&all);
    assert_eq!(out.code, 0, "jhot {args:?}: {out:?}");
    out.json()
}

#[test]
fn inspect_jdk11() {
    inspect(11);
}

#[test]
fn inspect_jdk17() {
    inspect(17);
}

#[test]
fn inspect_jdk21() {
    inspect(21);
}

#[test]
fn inspect_jdk25() {
    inspect(25);
}

fn inspect(feature: u32) {
    let dir = tempfile::tempdir().expect("tmp");
    let (app, state_v2) = start(feature, dir.path());
    let pid = app.pid().to_string();
    let pid = pid.as_str();

    // sysprop: through the attach listener, before any agent.
    let v = json_ok(&["sysprop", pid]);
    let props = v["properties"].as_array().expect("properties");
    let version = props.iter().find(|p| p["name"] == "java.version").expect("java.version")["value"].clone();
    assert!(
        version
            .as_str()
            .is_some_and(|s| s.split(|c: char| !c.is_ascii_digit()).next() == Some(feature.to_string().as_str())),
        "{version}"
    );
    let out = jhot(&["sysprop", pid, "java.version"]);
    assert_eq!((out.code, out.stdout.trim()), (0, version.as_str().unwrap_or("")), "{out:?}");
    assert_eq!(jhot(&["sysprop", pid, "no.such.property"]).code, 6);

    // getstatic: a static the sample sets, then changed by redefining the class that sets it.
    let v = json_ok(&["getstatic", pid, "rtfx.State", "mode"]);
    assert_eq!(v["value"]["value"], "v1", "{v}");
    assert_eq!(v["initialized"], true);
    let out = jhot(&["redefine", pid, state_v2.to_str().expect("path")]);
    assert_eq!(out.code, 0, "{out:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let v = json_ok(&["getstatic", pid, "rtfx.State", "mode"]);
        if v["value"]["value"] == "v2" {
            break;
        }
        assert!(Instant::now() < deadline, "State.mode never became v2 after the redefinition: {v}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Objects are walked reflectively: no toString, hashCode or equals of theirs runs.
    let v = json_ok(&["getstatic", pid, "rtfx.State", "trap", "-x", "2"]);
    let trap = &v["value"];
    assert!(trap["ref"].as_str().is_some_and(|r| r.starts_with("rtfx.Trap@")), "{v}");
    let field = |name: &str| trap["fields"].as_array().and_then(|f| f.iter().find(|x| x["name"] == name)).cloned();
    assert_eq!(field("name").expect("name")["value"]["value"], "t1", "{v}");
    assert_eq!(field("count").expect("count")["value"]["value"], 3, "{v}");
    assert_eq!(field("self").expect("self")["value"]["cycle"], true, "{v}");
    let text = jhot(&["getstatic", pid, "rtfx.State", "trap", "-x", "3"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("rtfx.Trap@") && text.stdout.contains("\"t1\""), "{text:?}");
    let v = json_ok(&["getstatic", pid, "rtfx.State", "LIMITS"]);
    let limits: Vec<i64> =
        v["value"]["elements"].as_array().expect("elements").iter().filter_map(|e| e["value"].as_i64()).collect();
    assert_eq!(limits, [1, 2, 3], "{v}");
    let v = json_ok(&["getstatic", pid, "rtfx.State", "BIG"]);
    assert_eq!(
        (v["value"]["truncated"].clone(), v["value"]["length"].clone()),
        (Value::Bool(true), 10000.into()),
        "{v}"
    );
    let v = json_ok(&["getstatic", pid, "rtfx.State", "color"]);
    assert_eq!((v["value"]["type"].as_str(), v["value"]["enum"].as_str()), (Some("rtfx.Color"), Some("GREEN")), "{v}");
    let v = json_ok(&["getstatic", pid, "rtfx.State", "nothing"]);
    assert_eq!(v["value"]["value"], Value::Null, "{v}");
    // A class loaded but not initialized is not read: reading would run its initializer.
    let v = json_ok(&["getstatic", pid, "rtfx.Later", "T"]);
    assert_eq!(v["initialized"], false, "{v}");
    // Missing field or class: exit 6.
    assert_eq!(jhot(&["getstatic", pid, "rtfx.State", "noSuchField"]).code, 6);
    assert_eq!(jhot(&["getstatic", pid, "rtfx.NoSuchClass", "x"]).code, 6);
    let stdout = app.stdout_text();
    assert!(!stdout.contains("RAN") && !stdout.contains("LATER INITIALIZED"), "application code ran: {stdout}");

    // jvm.
    let v = json_ok(&["jvm", pid]);
    assert!(v["threads"]["live"].as_u64().is_some_and(|n| n > 2), "{v}");
    assert!(v["memory"]["heap"]["used"].as_u64().is_some_and(|n| n > 0), "{v}");
    assert!(!v["gc"].as_array().expect("gc").is_empty(), "{v}");
    assert!(v["runtime"]["input_arguments"].as_array().expect("args").iter().any(|a| a == "-Xmx128m"), "{v}");
    assert!(jhot(&["jvm", pid]).stdout.contains("GARBAGE COLLECTORS"));

    // thread: every thread; the busiest over an interval; a state; stacks by id.
    let v = json_ok(&["thread", pid]);
    let threads = v["threads"].as_array().expect("threads");
    let ticker = threads.iter().find(|t| t["name"] == "rtfx-ticker").expect("rtfx-ticker listed").clone();
    let v = json_ok(&["thread", pid, "-n", "3", "-i", "500"]);
    let top = v["threads"].as_array().expect("threads");
    assert!(
        top.len() <= 3 && top.iter().any(|t| t["name"] == "rtfx-spinner"),
        "the spinning thread is among the 3 busiest: {v}"
    );
    assert!(top.iter().all(|t| t["cpu_percent"].is_number()), "{v}");
    let v = json_ok(&["thread", pid, "--state", "timed_waiting"]);
    let states: Vec<&str> =
        v["threads"].as_array().expect("threads").iter().filter_map(|t| t["state"].as_str()).collect();
    assert!(!states.is_empty() && states.iter().all(|s| *s == "TIMED_WAITING"), "{v}");
    let id = ticker["id"].as_u64().expect("id").to_string();
    let v = json_ok(&["thread", pid, &id]);
    let stack = v["threads"][0]["stack"].as_array().expect("stack").clone();
    assert!(stack.iter().any(|f| f.as_str().is_some_and(|f| f.contains("rtfx.Main.lambda"))), "{v}");
    let text = jhot(&["thread", pid, &id]);
    assert!(text.stdout.contains("\"rtfx-ticker\"") && text.stdout.contains("rtfx.Main.lambda"), "{text:?}");
}

#[test]
fn ctrl_c_cancels_sampling_jdk11() {
    ctrl_c_cancels_sampling(11);
}

#[test]
fn ctrl_c_cancels_sampling_jdk17() {
    ctrl_c_cancels_sampling(17);
}

#[test]
fn ctrl_c_cancels_sampling_jdk21() {
    ctrl_c_cancels_sampling(21);
}

#[test]
fn ctrl_c_cancels_sampling_jdk25() {
    ctrl_c_cancels_sampling(25);
}

/// `jhot thread PID -i 60000`, interrupted: jhot ends, and the agent's worker for the request
/// (thread `jhot-agent-op`, sleeping in the op) ends too, because the closed socket cancels it.
fn ctrl_c_cancels_sampling(feature: u32) {
    let dir = tempfile::tempdir().expect("tmp");
    let (app, _) = start(feature, dir.path());
    let pid = app.pid();
    let pid_s = pid.to_string();
    // Load the agent first, so the wait below is for the sampling, not for the load.
    assert_eq!(jhot(&["jvm", &pid_s]).code, 0);
    let mut child = jhot_cmd()
        .args(["thread", &pid_s, "-i", "60000"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn jhot");
    let op_running = || thread_names(pid).iter().any(|n| n == "jhot-agent-op");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !op_running() {
        assert!(Instant::now() < deadline, "the agent never started a worker for the sampling request");
        assert!(child.try_wait().expect("wait").is_none(), "jhot ended before it was interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill(child.id(), libc::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jhot did not end within 10 s of SIGINT");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(!status.success(), "interrupted jhot reported success");
    let deadline = Instant::now() + Duration::from_secs(10);
    while op_running() {
        assert!(Instant::now() < deadline, "the agent's worker still runs 10 s after jhot was interrupted");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The JVM answers the next command; the only worker in its list is the one serving it.
    let v = json_ok(&["thread", &pid_s]);
    let workers: Vec<&Value> =
        v["threads"].as_array().expect("threads").iter().filter(|t| t["name"] == "jhot-agent-op").collect();
    assert!(workers.len() <= 1 && workers.iter().all(|w| w["state"] == "RUNNABLE"), "{v}");
}
