//! Every bad input gets a clear error, its documented exit code, and changes nothing: the app keeps
//! its old answer, and where jhot never needed the JVM, the agent is not even loaded.

use std::io::Write;
use std::time::Duration;

use crate::harness::{self, App, as_user, jhot, jhot_cmd, output, wait_for_agent_socket};

const NO_TARGET: i32 = 3;
const PERMISSION: i32 = 4;
const ATTACH: i32 = 5;
const INPUT: i32 = 6;
const REJECTED: i32 = 7;
const LOST: i32 = 8;

fn greeter_patch() -> String {
    harness::patch_classes("body").join("hello/Greeter.class").to_string_lossy().into_owned()
}

fn agent_resident(pid: u32) -> bool {
    let out = jhot(&["info", &pid.to_string(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["agent"]["resident"] == true
}

#[test]
fn pid_that_does_not_exist() {
    // Pids above pid_max cannot exist.
    let out = jhot(&["redefine", "99999999", &greeter_patch()]);
    assert_eq!(out.code, NO_TARGET, "{out:?}");
    assert!(out.stderr.contains("99999999"), "{out:?}");
    let out = jhot(&["redefine", "99999999", &greeter_patch(), "--json"]);
    let v = out.json();
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["exit_code"], NO_TARGET);
}

#[test]
fn pid_that_is_not_a_jvm() {
    let mut sleeper = std::process::Command::new("sleep").arg("60").spawn().expect("sleep");
    let pid = sleeper.id().to_string();
    let out = jhot(&["redefine", &pid, &greeter_patch()]);
    assert_eq!(out.code, NO_TARGET, "{out:?}");
    assert!(out.stderr.contains("is not a Java VM"), "{out:?}");
    // jhot must not have signalled it: SIGQUIT would have killed `sleep`.
    assert!(sleeper.try_wait().expect("wait").is_none(), "jhot killed a non-JVM process");
    let _ = sleeper.kill();
    let _ = sleeper.wait();
}

#[test]
fn garbage_and_truncated_class_files() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("Garbage.class");
    std::fs::write(&garbage, b"this is not a class file at all").expect("write");
    let out = jhot(&["redefine", &pid, garbage.to_str().unwrap()]);
    assert_eq!(out.code, INPUT, "{out:?}");
    assert!(out.stderr.contains("Garbage.class") && out.stderr.contains("not a valid class file"), "{out:?}");

    let good = std::fs::read(greeter_patch()).expect("patch");
    let truncated = dir.path().join("Greeter.class");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    let out = jhot(&["redefine", &pid, truncated.to_str().unwrap()]);
    assert_eq!(out.code, INPUT, "{out:?}");
    assert!(out.stderr.contains("truncated"), "{out:?}");

    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert!(!agent_resident(app.pid()), "bad input must not load the agent");
}

#[test]
fn same_class_twice_and_empty_jar_and_missing_path() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    let dir = tempfile::tempdir().expect("tempdir");
    // The same class under another file name: names come from the bytes.
    let copy = dir.path().join("Renamed.class");
    std::fs::copy(greeter_patch(), &copy).expect("copy");
    let out = jhot(&["redefine", &pid, &greeter_patch(), copy.to_str().unwrap()]);
    assert_eq!(out.code, INPUT, "{out:?}");
    assert!(out.stderr.contains("hello.Greeter") && out.stderr.contains("twice"), "{out:?}");

    let jar = dir.path().join("empty.jar");
    let mut zip = std::fs::File::create(&jar).expect("jar");
    // An empty zip: just the end-of-central-directory record.
    zip.write_all(&[0x50, 0x4b, 0x05, 0x06, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).expect("write");
    drop(zip);
    let out = jhot(&["redefine", &pid, jar.to_str().unwrap()]);
    assert_eq!(out.code, INPUT, "{out:?}");
    assert!(out.stderr.contains("no .class file"), "{out:?}");

    let out = jhot(&["redefine", &pid, "/no/such/Foo.class"]);
    assert_eq!(out.code, INPUT, "{out:?}");
    assert!(out.stderr.contains("no such file"), "{out:?}");

    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert!(!agent_resident(app.pid()));
}

#[test]
fn class_not_loaded_with_require_loaded_changes_nothing() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    let lazy = harness::patch_classes("lazy").join("hello/Lazy.class");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    // Greeter is loaded, Lazy is not: with --require-loaded the whole batch fails.
    let out = jhot(&["redefine", &pid, &greeter_patch(), lazy.to_str().unwrap(), "--require-loaded"]);
    assert_eq!(out.code, INPUT, "{out:?}");
    assert!(out.stderr.contains("hello.Lazy") && out.stderr.contains("not loaded"), "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    let h = jhot(&["history", &pid, "--json"]);
    assert_eq!(h.json()["history"]["entries"], serde_json::json!([]), "{h:?}");
}

#[test]
fn structural_change_is_refused_with_reason_and_class() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    // Greeter loads on the first request; a class that is not loaded has nothing to refuse.
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let structural = harness::patch_classes("structural").join("hello/Greeter.class");
    // --force: jhot's own check is skipped, so this is the JVM refusing.
    let out = jhot(&["redefine", &pid, structural.to_str().unwrap(), "--force"]);
    assert_eq!(out.code, REJECTED, "{out:?}");
    assert!(out.stderr.contains("class redefinition failed: attempted to"), "the JVM's reason is missing: {out:?}");
    assert!(out.stderr.contains("hello.Greeter"), "the class is not named: {out:?}");
    assert!(out.stderr.contains("nothing was changed"), "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1", "the app must keep its old behaviour");
    // In a batch with a valid class, the valid one is not applied either (atomic).
    let hot = harness::patch_classes("hot").join("hello/Hot.class");
    let out = jhot(&["redefine", &pid, structural.to_str().unwrap(), hot.to_str().unwrap(), "--json", "--force"]);
    assert_eq!(out.code, REJECTED, "{out:?}");
    assert!(out.json()["error"]["message"].as_str().unwrap().contains("hello.Greeter"), "{out:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(app.get("/hot").trim(), "1", "half of a refused batch was applied");
    let h = jhot(&["history", &pid, "--json"]);
    assert_eq!(h.json()["history"]["entries"], serde_json::json!([]), "{h:?}");
}

#[test]
fn xrs_jvm_without_socket_is_not_signalled() {
    let app = App::start(&harness::jdk(17), &["-Xrs"]);
    // -Xrs opens the attach socket at startup; a /tmp cleaner deleting it leaves no way in.
    let sock = format!("/tmp/.java_pid{}", app.pid());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while !std::path::Path::new(&sock).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::remove_file(&sock).expect("the -Xrs JVM had no attach socket to delete");
    let out = jhot(&["redefine", &app.pid().to_string(), &greeter_patch()]);
    assert_eq!(out.code, ATTACH, "{out:?}");
    assert!(out.stderr.contains("-Xrs"), "{out:?}");
    // SIGQUIT to an -Xrs JVM would have killed it.
    assert_eq!(app.get("/").trim(), "Hello from v1");
}

#[test]
fn attach_disabled_jvm_gets_no_thread_dump() {
    let app = App::start(&harness::jdk(17), &["-XX:+DisableAttachMechanism"]);
    let out = jhot(&["redefine", &app.pid().to_string(), &greeter_patch()]);
    assert_eq!(out.code, ATTACH, "{out:?}");
    assert!(out.stderr.contains("DisableAttachMechanism"), "{out:?}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(!app.stdout_text().contains("Full thread dump"), "jhot signalled a JVM that cannot attach");
    assert_eq!(app.get("/").trim(), "Hello from v1");
}

#[test]
fn jvm_of_another_user() {
    harness::ensure_user("jhot-t1");
    harness::ensure_user("jhot-t2");
    let app = App::start_as(&harness::jdk(17), "jhot-t1", &[]);
    let pid = app.pid().to_string();
    let patch = greeter_patch();
    // jhot as a different non-root user: refused before anything is touched.
    let out = output(&mut as_user("jhot-t2", &["redefine", &pid, &patch]));
    assert_eq!(out.code, PERMISSION, "{out:?}");
    assert!(out.stderr.contains("jhot-t1") || out.stderr.contains("uid"), "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    // As root jhot takes the JVM user's identity; the private directory belongs to that user.
    let out = jhot(&["redefine", &pid, &patch]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
    let (t1, _) = harness::ensure_user("jhot-t1");
    let meta = std::fs::metadata(format!("/tmp/.jhot-{t1}")).expect("private dir");
    use std::os::unix::fs::MetadataExt;
    assert_eq!(meta.uid(), t1);
    assert_eq!(meta.mode() & 0o777, 0o700);
}

/// Runs `jhot redefine` against a stopped JVM, kills the JVM while jhot waits, and returns what
/// jhot said.
fn redefine_while_killed(pid: u32) -> harness::Outcome {
    redefine_while_killed_by(jhot_cmd(), pid, Duration::from_millis(700))
}

/// [`redefine_while_killed`] with jhot started by `cmd`, and the JVM killed `after` that.
fn redefine_while_killed_by(mut cmd: std::process::Command, pid: u32, after: Duration) -> harness::Outcome {
    // SAFETY: kill(2) takes no pointers; the pid is a JVM this test started.
    unsafe { libc::kill(pid as i32, libc::SIGSTOP) };
    let body = harness::patch_classes("hot").join("hello/Hot.class");
    cmd.args(["redefine", &pid.to_string(), body.to_str().unwrap()]);
    let waiter = std::thread::spawn(move || output(&mut cmd));
    std::thread::sleep(after);
    // The App still holds the JVM unreaped, so its pid is not reused before its socket goes.
    harness::kill_jvm(pid);
    waiter.join().expect("jhot thread")
}

#[test]
fn jvm_exiting_mid_operation() {
    // During the attach handshake: a stopped JVM never opens its attach socket.
    let app = App::start(&harness::jdk(17), &[]);
    let out = redefine_while_killed(app.pid());
    assert_eq!(out.code, LOST, "{out:?}");
    assert!(out.stderr.contains("exited"), "{out:?}");

    // While the resident agent works: jhot waits on the channel.
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid();
    assert_eq!(jhot(&["redefine", &pid.to_string(), &greeter_patch()]).code, 0);
    wait_for_agent_socket(pid);
    let out = redefine_while_killed(pid);
    assert_eq!(out.code, LOST, "{out:?}");
    assert!(out.stderr.contains("exited"), "{out:?}");

    // Between jhot's look at the JVM and its connect (strace holds every connect(2) back a
    // second; jhot's first is to the agent): the dying JVM's sockets refuse, which is its exit,
    // not a socket left by another JVM.
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid();
    assert_eq!(jhot(&["redefine", &pid.to_string(), &greeter_patch()]).code, 0);
    wait_for_agent_socket(pid);
    let mut cmd = std::process::Command::new("strace");
    cmd.args(["-qq", "-f", "-o", "/dev/null", "-e", "trace=connect", "-e", "inject=connect:delay_enter=1000000"]);
    cmd.arg(harness::jhot_bin());
    let out = redefine_while_killed_by(cmd, pid, Duration::from_millis(400));
    assert_eq!(out.code, LOST, "{out:?}");
    assert!(out.stderr.contains("exited"), "{out:?}");
}

#[test]
fn agent_survives_garbage_on_its_socket() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid();
    assert_eq!(jhot(&["redefine", &pid.to_string(), &greeter_patch()]).code, 0);
    let sock = wait_for_agent_socket(pid);
    let garbage: [&[u8]; 4] = [
        b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
        &[0xff, 0xff, 0xff, 0xff, 1, 2, 3],
        &[0, 0, 0, 20, 1, 0, 0, 0, 3, b'{', b'}', b'x', 0, 0, 0, 0, 0, 0, 0, 0],
        &[0, 0, 0, 9, 7, 0, 0, 0, 0, 0, 0, 0, 0],
    ];
    for g in garbage {
        let mut s = std::os::unix::net::UnixStream::connect(&sock).expect("agent socket");
        s.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
        s.write_all(g).expect("write garbage");
        let _ = s.shutdown(std::net::Shutdown::Write);
        let mut sink = Vec::new();
        use std::io::Read;
        let _ = s.read_to_end(&mut sink);
    }
    let out = jhot(&["history", &pid.to_string(), "--json"]);
    assert_eq!(out.code, 0, "the agent did not survive garbage: {out:?}");
    assert_eq!(out.json()["history"]["entries"].as_array().unwrap().len(), 1);
    assert_eq!(app.get("/").trim(), "Hello from v2");
}
