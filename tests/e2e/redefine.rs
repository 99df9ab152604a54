//! The whole cycle on each supported JDK: a first redefine loads the agent; the HTTP answer
//! changes; a JIT-compiled, inlined hot method picks up its new body; a second redefine reuses the
//! resident agent (no second load, no second JEP 451 warning); a class that is not loaded yet gets
//! its new bytes when it loads; another agent's retransformation does not undo the patch; history
//! records it all; rollback restores the old answers.

use std::time::Duration;

use crate::harness::{self, App, is_loopback, jhot, listening_addresses, thread_names};

const JEP451: &str = "A Java agent has been loaded dynamically";

#[test]
fn cycle_jdk11() {
    cycle(11);
}

#[test]
fn cycle_jdk17() {
    cycle(17);
}

#[test]
fn cycle_jdk21() {
    cycle(21);
}

#[test]
fn cycle_jdk25() {
    cycle(25);
}

fn cycle(feature: u32) {
    let jdk = harness::jdk(feature);
    let app = App::start(&jdk, &[]);
    let pid = app.pid();
    let pid_s = pid.to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let threads_before = thread_names(pid);

    // The busy thread has made Hot.value() hot: wait until the JIT has compiled it, so the test
    // proves the redefinition reaches compiled (and inlined) code, not just the interpreter.
    assert!(wait_compiled(&app, "hello.Hot", Duration::from_secs(30)), "hello.Hot.value() was never JIT-compiled");
    assert_eq!(app.get("/hot").trim(), "1");

    // First redefine: loads the agent.
    let greeter = harness::patch_classes("body").join("hello/Greeter.class");
    let hot = harness::patch_classes("hot").join("hello/Hot.class");
    let out = jhot(&["redefine", &pid_s, greeter.to_str().unwrap(), hot.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["ok"], true);
    assert_eq!(v["connection"]["loaded_now"], true, "{out:?}");
    let names: Vec<&str> =
        v["result"]["redefined"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"hello.Greeter") && names.contains(&"hello.Hot"), "{out:?}");
    // The hashes of what was sent and of what ran before (jhot computes them from the bytes; the
    // agent's history computes its own, compared below). What ran before is the JVM's own
    // rendering of the class, not the file it was loaded from.
    let reported = v["result"]["redefined"].as_array().unwrap().clone();
    let greeter_sent = reported.iter().find(|c| c["name"] == "hello.Greeter").unwrap();
    let sum =
        String::from_utf8(std::process::Command::new("sha256sum").arg(&greeter).output().unwrap().stdout).unwrap();
    assert_eq!(greeter_sent["to_sha256"].as_str().unwrap(), sum.split_whitespace().next().unwrap(), "{out:?}");
    assert_eq!(greeter_sent["from_sha256"].as_str().map(str::len), Some(64), "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
    assert!(app.wait_for("/hot", "2", Duration::from_secs(10)), "the hot loop kept running the old Hot.value()");

    // JEP 451: JDK 21+ printed its warning once, and jhot said so once.
    let warned = feature >= 21;
    assert_eq!(count(&app.stderr_text(), JEP451), usize::from(warned), "JVM stderr:\n{}", app.stderr_text());
    assert_eq!(out.stderr.contains("JEP 451"), warned, "{out:?}");

    // Second redefine reuses the resident agent: a class not loaded yet becomes pending.
    let lazy = harness::patch_classes("lazy").join("hello/Lazy.class");
    let out = jhot(&["redefine", &pid_s, lazy.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["connection"]["loaded_now"], false, "{out:?}");
    assert_eq!(v["result"]["pending"], serde_json::json!(["hello.Lazy"]), "{out:?}");
    assert!(!out.stderr.contains("JEP 451"), "{out:?}");
    assert_eq!(app.get("/lazy").trim(), "lazy v2", "the pending patch was not used when the class loaded");
    assert_eq!(count(&app.stderr_text(), JEP451), usize::from(warned), "a second warning means a second load");

    // The agent was loaded exactly once and sits on one idle thread.
    let info = jhot(&["info", &pid_s, "--json"]);
    assert_eq!(info.code, 0, "{info:?}");
    let iv = info.json();
    assert_eq!(iv["agent"]["resident"], true, "{info:?}");
    assert_eq!(iv["agent"]["hello"]["loads"], 1, "{info:?}");
    assert_eq!(iv["agent"]["hello"]["channel"], if feature >= 16 { "unix" } else { "tcp" });
    let added: Vec<String> = thread_names(pid)
        .into_iter()
        .filter(|n| !threads_before.contains(n) && n != "Attach Listener")
        .filter(|n| n.starts_with("jhot"))
        .collect();
    assert_eq!(added, vec!["jhot-agent".to_string()], "threads jhot added: {added:?}");
    for addr in listening_addresses(pid) {
        assert!(is_loopback(&addr), "the JVM listens on {addr}, beyond loopback");
    }

    // Another agent retransforms Greeter: jhot's patch survives.
    let retrans = harness::agent_jar("retransformer-agent");
    let target = jhot_attach::Target::open(pid).expect("target");
    jhot_attach::load_agent(&target, retrans.to_str().unwrap(), "hello.Greeter", &Default::default())
        .expect("load retransformer");
    assert!(app.wait_stdout("RETRANSFORMED hello.Greeter", Duration::from_secs(10)), "stdout:\n{}", app.stdout_text());
    assert_eq!(app.get("/").trim(), "Hello from v2", "another agent's retransformation undid the patch");

    // History: what, when, with hashes.
    let out = jhot(&["history", &pid_s, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let entries = out.json()["history"]["entries"].as_array().unwrap().clone();
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["redefine", "pending", "load"], "{out:?}");
    let first = &entries[0]["classes"][0];
    assert_eq!(first["from_sha256"].as_str().unwrap().len(), 64);
    assert_ne!(first["from_sha256"], first["to_sha256"]);
    for class in entries[0]["classes"].as_array().unwrap() {
        let sent = reported.iter().find(|c| c["name"] == class["name"]).unwrap();
        assert_eq!((&class["from_sha256"], &class["to_sha256"]), (&sent["from_sha256"], &sent["to_sha256"]), "{out:?}");
    }

    // Rollback restores the original behaviour everywhere.
    let out = jhot(&["rollback", &pid_s, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    assert!(app.wait_for("/hot", "1", Duration::from_secs(10)));
    let out = jhot(&["history", &pid_s, "--json"]);
    let last = out.json()["history"]["entries"].as_array().unwrap().last().cloned().unwrap();
    assert_eq!(last["action"], "rollback");
    // Rolling back again is a no-op, not an error.
    let out = jhot(&["rollback", &pid_s]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("nothing to roll back"), "{out:?}");
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

/// Polls `jcmd Compiler.codelist` (through jhot's own attach layer) until a method of `class`
/// appears in the code cache.
fn wait_compiled(app: &App, class: &str, timeout: Duration) -> bool {
    let target = jhot_attach::Target::open(app.pid()).expect("target");
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Ok(list) = jhot_attach::jcmd(&target, "Compiler.codelist", &Default::default())
            && list.lines().any(|l| l.contains(&format!("{class}.value()")) || l.contains(&format!("{class}::value")))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// The same class in two class loaders: both are redefined by default; `--loader` picks one, by
/// name or by id; a loader that matches nothing changes nothing.
#[test]
fn class_in_several_loaders() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");
    let v2 = harness::patch_classes("body").join("hello/Greeter.class");
    let v1 = harness::sample_classes().join("hello/Greeter.class");

    let out = jhot(&["redefine", &pid, v2.to_str().unwrap(), "--loader", "isolated", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let redefined = out.json()["result"]["redefined"].as_array().unwrap().clone();
    assert_eq!(redefined.len(), 1, "{out:?}");
    assert_eq!(redefined[0]["loader"]["name"], "isolated");
    assert_eq!(app.get("/isolated").trim(), "Hello from v2");
    assert_eq!(app.get("/").trim(), "Hello from v1", "--loader isolated changed the app loader's class");

    // Without --loader: the app loader's copy changes; the isolated copy already runs these bytes.
    let out = jhot(&["redefine", &pid, v2.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["result"]["redefined"].as_array().unwrap().len(), 1, "{out:?}");
    let app_loader = v["result"]["redefined"][0]["loader"]["id"].as_str().unwrap().to_string();
    assert_eq!(
        v["result"]["unchanged"],
        serde_json::json!(["hello.Greeter"]),
        "the isolated copy already ran v2: {out:?}"
    );
    assert_eq!(app.get("/").trim(), "Hello from v2");

    // Default: every loader.
    let out = jhot(&["redefine", &pid, v1.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["result"]["redefined"].as_array().unwrap().len(), 2, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");

    let out = jhot(&["redefine", &pid, v2.to_str().unwrap(), "--loader", &app_loader, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");

    // A loader that has no such class: the class is "not loaded" there.
    let out = jhot(&["redefine", &pid, v1.to_str().unwrap(), "--loader", "no-such-loader", "--require-loaded"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");
}

/// A copy of a class that another loader defines after some redefinitions is redefined by the
/// next one: the agent answers from what it remembers of earlier walks of the loaded classes only
/// while no class has been defined since.
#[test]
fn a_copy_defined_after_earlier_redefinitions_is_redefined_too() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let v2 = harness::patch_classes("body").join("hello/Greeter.class");
    let v1 = harness::sample_classes().join("hello/Greeter.class");
    let redefine = |class: &std::path::Path| {
        let out = jhot(&["redefine", &pid, class.to_str().unwrap(), "--json"]);
        assert_eq!(out.code, 0, "{out:?}");
        out.json()["result"].clone()
    };
    redefine(&v2);
    // Quiet for longer than the agent waits after a definition before it keeps what a walk found;
    // then warm redefinitions that walk, keep, and answer from memory.
    std::thread::sleep(Duration::from_millis(1500));
    for class in [&v1, &v2, &v1] {
        assert_eq!(redefine(class)["redefined"].as_array().unwrap().len(), 1);
    }
    // Another loader defines hello.Greeter (v1, as the app loader's copy runs now).
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");
    let result = redefine(&v2);
    let loaders: Vec<&str> =
        result["redefined"].as_array().unwrap().iter().filter_map(|r| r["loader"]["name"].as_str()).collect();
    assert_eq!(result["redefined"].as_array().unwrap().len(), 2, "both copies: {result}");
    assert!(loaders.contains(&"isolated"), "{result}");
    assert_eq!(app.get("/isolated").trim(), "Hello from v2");
    assert_eq!(app.get("/").trim(), "Hello from v2");
}

/// Classes from a directory tree and from a jar, named by their bytes (the files here have other
/// names); one class rolled back by name while the other stays patched.
#[test]
fn directories_jars_and_named_rollback() {
    let app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let work = tempfile::tempdir().expect("tempdir");

    // A directory holding the body patch under a misleading file name and sub-directory.
    let dir = work.path().join("build/classes");
    std::fs::create_dir_all(dir.join("x/y")).expect("mkdir");
    std::fs::copy(harness::patch_classes("body").join("hello/Greeter.class"), dir.join("x/y/Renamed.class"))
        .expect("copy");
    let out = jhot(&["redefine", &pid, dir.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["result"]["redefined"][0]["name"], "hello.Greeter", "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v2");

    // A jar made by the JDK's jar tool, holding the hot patch.
    let jar = work.path().join("fix.jar");
    let status = std::process::Command::new(harness::jar_tool())
        .arg("--create")
        .arg("--file")
        .arg(&jar)
        .arg("-C")
        .arg(harness::patch_classes("hot"))
        .arg(".")
        .status()
        .expect("jar");
    assert!(status.success());
    let out = jhot(&["redefine", &pid, jar.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["result"]["redefined"][0]["name"], "hello.Hot", "{out:?}");
    assert!(app.wait_for("/hot", "2", Duration::from_secs(10)));

    // Roll back Greeter only; Hot keeps its patch. A class jhot never changed is an error.
    let out = jhot(&["rollback", &pid, "hello.Greeter", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["result"]["rolled_back"][0]["name"], "hello.Greeter");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert_eq!(app.get("/hot").trim(), "2");
    let out = jhot(&["rollback", &pid, "hello.Main"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains("hello.Main"), "{out:?}");
    assert_eq!(app.get("/hot").trim(), "2", "a refused rollback changed something");
}

/// Right after a cold load the agent's channel is still opening: commands run then must find the
/// agent (and what it did), not load it again or report that jhot changed nothing.
#[test]
fn commands_right_after_a_cold_load_find_the_agent() {
    let greeter = harness::patch_classes("body").join("hello/Greeter.class");
    // Both cold paths (with the pre-flight, and --force's single request) leave the channel open
    // or the marker that says it is opening by the time jhot has exited: the agent opens the
    // channel after answering, and a command run in between must not see an agent-less JVM.
    let force = App::start(&harness::jdk(17), &[]);
    let out = jhot(&["redefine", &force.pid().to_string(), greeter.to_str().unwrap(), "--force"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(channel_or_marker(force.pid()), "no channel and no opening marker right after a cold --force redefine");
    drop(force);

    let app = App::start(&harness::jdk(21), &[]);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    assert_eq!(jhot(&["redefine", &pid, greeter.to_str().unwrap()]).code, 0);
    assert!(channel_or_marker(app.pid()), "no channel and no opening marker right after a cold redefine");
    let h = jhot(&["history", &pid, "--json"]);
    assert_eq!(h.code, 0, "{h:?}");
    assert_eq!(h.json()["agent_resident"], true, "{h:?}");
    assert_eq!(h.json()["history"]["entries"].as_array().unwrap().len(), 1, "{h:?}");
    let hot = harness::patch_classes("hot").join("hello/Hot.class");
    let out = jhot(&["redefine", &pid, hot.to_str().unwrap(), "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["connection"]["loaded_now"], false, "{out:?}");
    assert_eq!(app.stderr_text().matches("loaded dynamically").count(), 1, "{}", app.stderr_text());
}

/// The agent's channel socket or its `.opening` marker, looked at once, at this instant.
fn channel_or_marker(pid: u32) -> bool {
    ["sock", "opening"].iter().any(|ext| std::path::Path::new(&format!("/tmp/.jhot-0/{pid}.{ext}")).exists())
}
