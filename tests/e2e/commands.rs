//! `jhot ps`, `jhot info`, the startup agent (`jhot agent --javaagent-flag`), a JVM in its own
//! pid and mount namespaces, and naming a JVM without its pid (`--select`, `--pid-file`, `--port`).

use crate::harness::{self, App, jhot};

#[test]
fn ps_lists_the_jvm_and_its_agent() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid();
    let find = || {
        let out = jhot(&["ps", "--json"]);
        assert_eq!(out.code, 0, "{out:?}");
        out.json()["jvms"].as_array().unwrap().iter().find(|j| j["pid"] == pid).cloned().expect("ps lists the app")
    };
    let entry = find();
    assert!(entry["java_version"].as_str().unwrap().starts_with("17"), "{entry}");
    assert_eq!(entry["main"], "hello.Main", "{entry}");
    assert_eq!(entry["agent"]["resident"], false, "{entry}");
    assert!(entry["uptime_ms"].as_u64().is_some(), "{entry}");
    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    assert_eq!(jhot(&["redefine", &pid.to_string(), patch.to_str().unwrap()]).code, 0);
    assert_eq!(find()["agent"]["resident"], true);
    // The human table names the same JVM.
    let out = jhot(&["ps"]);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.starts_with(&pid.to_string()) && l.contains("hello.Main") && l.contains("resident")),
        "{out:?}"
    );
}

#[test]
fn info_reports_version_flags_and_loaders() {
    let app = App::start(&harness::jdk(21), &["-XX:+EnableDynamicAgentLoading"]);
    let out = jhot(&["info", &app.pid().to_string(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert!(v["java_version"].as_str().unwrap().starts_with("21"), "{v}");
    assert!(v["vm_version"].as_str().unwrap().contains("JDK 21"), "{v}");
    let flag =
        v["flags"].as_array().unwrap().iter().find(|f| f["name"] == "EnableDynamicAgentLoading").expect("flag listed");
    assert_eq!(flag["value"], "true");
    assert_eq!(flag["origin"], "command line");
    let loaders = v["class_loaders"].as_array().unwrap();
    assert!(loaders.iter().any(|l| l["type"].as_str().unwrap().contains("AppClassLoader")), "{v}");
    assert_eq!(v["agent"]["resident"], false);
    // Looking is not touching: info did not load the agent.
    let out = jhot(&["history", &app.pid().to_string(), "--json"]);
    assert_eq!(out.json()["agent_resident"], false);
    // The human form says the same.
    let out = jhot(&["info", &app.pid().to_string()]);
    assert!(out.stdout.contains("EnableDynamicAgentLoading") && out.stdout.contains("not resident"), "{out:?}");
}

#[test]
fn a_jvm_without_perf_data_is_known_by_its_memory_map() {
    // No hsperfdata file: jhot tells HotSpot from the libjvm.so in /proc/<pid>/maps and reads the
    // flags from the command line.
    let app = App::start(&harness::jdk(21), &["-XX:-UsePerfData", "-XX:+EnableDynamicAgentLoading"]);
    let pid = app.pid().to_string();
    let out = jhot(&["info", &pid, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let flag =
        v["flags"].as_array().unwrap().iter().find(|f| f["name"] == "EnableDynamicAgentLoading").expect("flag listed");
    assert_eq!(flag["value"], "true", "{v}");
    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    let out = jhot(&["redefine", &pid, patch.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
    assert!(!app.stderr_text().contains("loaded dynamically"), "{}", app.stderr_text());
}

#[test]
fn startup_agent_is_used_without_attaching() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = jhot(&["agent", "--javaagent-flag", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    let flag = out.stdout.trim().to_string();
    assert!(flag.starts_with("-javaagent:") && flag.ends_with(".jar"), "{flag}");
    // JDK 21: a dynamic load would print the JEP 451 warning; the startup agent must not.
    let app = App::start(&harness::jdk(21), &[&flag]);
    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    let out = jhot(&["redefine", &app.pid().to_string(), patch.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["connection"]["loaded_now"], false, "jhot attached although the agent was there: {out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
    assert!(!app.stderr_text().contains("loaded dynamically"), "{}", app.stderr_text());
    let info = jhot(&["info", &app.pid().to_string(), "--json"]).json();
    assert_eq!(info["agent"]["hello"]["mode"], "premain", "{info}");
}

#[test]
fn jvm_in_its_own_pid_and_mount_namespace() {
    let app = App::start_in_namespace(&harness::jdk(17), &[]);
    let pid = app.pid();
    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    let out = jhot(&["redefine", &pid.to_string(), patch.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
    // The private directory lives in the JVM's own /tmp, not the host's.
    assert!(std::path::Path::new(&format!("/proc/{pid}/root/tmp/.jhot-0")).is_dir());
    let out = jhot(&["rollback", &pid.to_string()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");
}

/// An agent that starts clears what dead JVMs left in the private directory (a killed JVM removes
/// neither its socket nor, dying while its channel opens, its marker), and nothing else. In a JVM
/// with a /tmp of its own, so no other test's files are near.
#[test]
fn an_agent_clears_what_dead_jvms_left_in_the_private_directory() {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    let app = App::start_in_namespace(&harness::jdk(17), &[]);
    let pid = app.pid();
    let dir = std::path::PathBuf::from(format!("/proc/{pid}/root/tmp/.jhot-0"));
    std::fs::DirBuilder::new().mode(0o700).create(&dir).expect("the private directory");
    let file = |name: &str| {
        let p = dir.join(name);
        std::fs::write(&p, b"").expect("a file");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        p
    };
    let dead_socket = dir.join("4000001.sock");
    drop(std::os::unix::net::UnixListener::bind(&dead_socket).expect("bind")); // the file stays
    let old_marker = file("4000002.opening");
    let fresh_marker = file("4000003.opening");
    let not_ours = file("4000004.jar");
    for p in [&dead_socket, &old_marker, &not_ours] {
        let out =
            std::process::Command::new("touch").args(["-h", "-d", "10 minutes ago"]).arg(p).output().expect("touch");
        assert!(out.status.success(), "{out:?}");
    }

    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    let out = jhot(&["redefine", &pid.to_string(), patch.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    // The agent clears them once its channel is open, just after answering.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while (dead_socket.exists() || old_marker.exists()) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    assert!(!dead_socket.exists(), "a socket nobody listens on, ten minutes old, is left");
    assert!(!old_marker.exists(), "a marker ten minutes old is left");
    assert!(fresh_marker.exists(), "a fresh marker is gone: its JVM may still be opening its channel");
    assert!(not_ours.exists(), "a file that is not a channel file is gone");
    let sockets: Vec<String> = std::fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".sock"))
        .collect();
    assert_eq!(sockets.len(), 1, "the agent's own socket, and only it: {sockets:?}");
    // And the agent still answers through it.
    let out = jhot(&["history", &pid.to_string(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["agent_resident"], true, "{out:?}");
}

/// `--select`, `--pid-file` and `--port` name the JVM instead of its pid, for any command; none
/// or several matching JVMs is an error, never a guess.
#[test]
fn a_jvm_named_by_select_pid_file_or_port() {
    let jdk = harness::jdk(17);
    // Other tests run hello.Main too: a word of this test's own marks its JVMs.
    let mark = format!("jhot.test.which={}", std::process::id());
    let a = App::start(&jdk, &[&format!("-D{mark}")]);
    let pid = a.pid().to_string();
    let has = |out: &harness::Outcome| out.stdout.contains(&format!("JVM {pid}"));

    let out = jhot(&["history", "--select", &mark]);
    assert!(out.code == 0 && has(&out), "{out:?}");
    let out = jhot(&["history", "--port", &a.port().to_string()]);
    assert!(out.code == 0 && has(&out), "{out:?}");
    let out = jhot(&["history", "--select", "no-such-jvm-anywhere-at-all"]);
    assert_eq!(out.code, 3, "{out:?}");
    let out = jhot(&["history", "--port", "1"]);
    assert_eq!(out.code, 3, "{out:?}");

    // A pid file: current, stale (its process started after it was written), or of no process.
    let dir = tempfile::tempdir().expect("tmp");
    let file = dir.path().join("app.pid");
    std::fs::write(&file, format!("{pid}\n")).unwrap();
    let out = jhot(&["history", "--pid-file", file.to_str().unwrap()]);
    assert!(out.code == 0 && has(&out), "{out:?}");
    let old = std::fs::File::options().write(true).open(&file).unwrap();
    old.set_modified(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000)).unwrap();
    let out = jhot(&["history", "--pid-file", file.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("is stale") && out.stderr.contains("started after the file was written"), "{out:?}");
    std::fs::write(&file, "999999999\n").unwrap();
    let out = jhot(&["history", "--pid-file", file.to_str().unwrap()]);
    assert_eq!(out.code, 3, "{out:?}");
    let out = jhot(&["history", "--pid-file", "/dev/null"]);
    assert_eq!(out.code, 6, "{out:?}");

    // Two JVMs with the mark: ambiguous, both listed, nothing done.
    let b = App::start(&jdk, &[&format!("-D{mark}")]);
    let out = jhot(&["--json", "history", "--select", &mark]);
    assert_eq!(out.code, 2, "{out:?}");
    let message = out.json()["error"]["message"].as_str().unwrap_or_default().to_string();
    assert!(message.contains(&pid) && message.contains(&b.pid().to_string()), "{message}");
    // Twice named: refused.
    let out = jhot(&["history", "--select", &mark, "--port", &a.port().to_string()]);
    assert_eq!(out.code, 2, "{out:?}");
}
