//! `jhot watch`: build outputs written the way compilers write them (javac into a class directory,
//! a class file in two halves, a burst of 200 files, a structural edit) against the hello-http
//! sample, with `jhot watch` running as a child process; and watch stopping (exit 8) when the JVM
//! exits.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::harness::{self, App, jhot, jhot_cmd, wait_until};

/// `jhot watch --json` as a child: its NDJSON events as they come, and the child itself.
struct Watch {
    child: Child,
    events: Arc<Mutex<Vec<Value>>>,
    stderr: Arc<Mutex<String>>,
}

impl Watch {
    fn start(pid: u32, dir: &Path) -> Watch {
        Watch::start_with(pid, dir, &["--quiet", "300", "--json"])
    }

    /// Without `--json`, the lines on stdout are kept as JSON strings.
    fn start_with(pid: u32, path: &Path, options: &[&str]) -> Watch {
        let child = jhot_cmd()
            .args(["watch", &pid.to_string(), path.to_str().unwrap()])
            .args(options)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn jhot watch");
        Watch::spawned(child)
    }

    /// A child with piped stdout and stderr that is `jhot watch`, or execs it.
    fn spawned(mut child: Child) -> Watch {
        let events = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (out, err) = (child.stdout.take().expect("stdout"), child.stderr.take().expect("stderr"));
        let sink = events.clone();
        std::thread::spawn(move || {
            // A line that is not one JSON object is kept as a string, which `assert_ndjson` refuses.
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let v = serde_json::from_str::<Value>(&line).ok().filter(Value::is_object);
                sink.lock().unwrap().push(v.unwrap_or(Value::String(line)));
            }
        });
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Watch { child, events, stderr }
    }

    fn of(&self, kind: &str) -> Vec<Value> {
        self.events.lock().unwrap().iter().filter(|e| e["event"] == kind).cloned().collect()
    }

    fn wait_count(&self, kind: &str, n: usize) -> bool {
        wait_until(Duration::from_secs(30), || self.of(kind).len() >= n)
    }

    /// Every line on stdout was one JSON object with an `event` and the schema number.
    fn assert_ndjson(&self) {
        for e in self.events.lock().unwrap().iter() {
            assert!(e["event"].is_string() && e["schema"] == 1, "not an event line: {e}\n{}", self.report());
        }
    }

    fn report(&self) -> String {
        let events: Vec<String> = self.events.lock().unwrap().iter().map(Value::to_string).collect();
        format!("events:\n{}\nstderr:\n{}", events.join("\n"), self.stderr.lock().unwrap())
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = std::process::Command::new("kill").arg(self.child.id().to_string()).status();
            let _ = self.child.wait();
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).expect("read_dir") {
        let p = e.expect("entry").path();
        let dst = to.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&dst).expect("mkdir");
            copy_tree(&p, &dst);
        } else {
            std::fs::copy(&p, &dst).expect("copy");
        }
    }
}

fn history_len(pid: &str) -> usize {
    let out = jhot(&["history", pid, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["history"]["entries"].as_array().map_or(0, Vec::len)
}

/// javac into the watched directory, a class written in two halves, 200 files at once, a
/// structural edit, then the JVM exits.
#[test]
fn builds_are_applied_whole_and_watch_stops_with_the_jvm() {
    let mut app = App::start(&harness::jdk(17), &[]);
    let pid = app.pid();
    let pid_s = pid.to_string();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let work = tempfile::tempdir().expect("tempdir");
    let classes = work.path().join("classes");
    std::fs::create_dir_all(&classes).expect("mkdir");
    copy_tree(&harness::sample_classes(), &classes);

    let watch = Watch::start(pid, &classes);
    assert!(watch.wait_count("started", 1), "{}", watch.report());
    assert!(watch.of("started")[0]["classes"].as_u64().unwrap() > 5, "{}", watch.report());

    // Maven rewrites unchanged files: same bytes, nothing applied.
    copy_tree(&harness::sample_classes(), &classes);
    std::thread::sleep(Duration::from_millis(1200));
    assert!(watch.of("applied").is_empty(), "{}", watch.report());

    // javac writes the body patch in place.
    let src = harness::samples_dir().join("hello-http/patches/body/hello/Greeter.java");
    let cp = vec!["-cp".to_string(), harness::sample_classes().to_str().unwrap().to_string()];
    harness::javac_run(&[src], &classes, 11, &cp);
    assert!(watch.wait_count("applied", 1), "{}", watch.report());
    assert_eq!(watch.of("applied")[0]["redefined"], serde_json::json!(["hello.Greeter"]), "{}", watch.report());
    assert_eq!(app.get("/").trim(), "Hello from v2");

    // A class file in two halves with a pause longer than the quiet period: never applied half.
    let hot = std::fs::read(harness::patch_class("hot", "hello.Hot")).expect("read");
    let path = classes.join("hello/Hot.class");
    std::fs::write(&path, &hot[..hot.len() / 2]).expect("write");
    assert!(
        wait_until(Duration::from_secs(30), || watch.of("skipped").iter().any(|e| e["reason"] == "incomplete")),
        "{}",
        watch.report()
    );
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(watch.of("applied").len(), 1, "{}", watch.report());
    {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).expect("open");
        f.write_all(&hot[hot.len() / 2..]).expect("write");
    }
    assert!(watch.wait_count("applied", 2), "{}", watch.report());
    assert_eq!(watch.of("applied")[1]["redefined"], serde_json::json!(["hello.Hot"]), "{}", watch.report());
    assert!(app.wait_for("/hot", "2", Duration::from_secs(10)));

    // 200 files at once: one batch, one history entry.
    let gen_src = work.path().join("gen-src/gen");
    std::fs::create_dir_all(&gen_src).expect("mkdir");
    let sources: Vec<PathBuf> = (0..200)
        .map(|i| {
            let p = gen_src.join(format!("C{i}.java"));
            std::fs::write(
                &p,
                format!("package gen; public class C{i} {{ public static int v() {{ return {i}; }} }}\n"),
            )
            .expect("write");
            p
        })
        .collect();
    let gen_out = work.path().join("gen-out");
    harness::javac_run(&sources, &gen_out, 11, &[]);
    let before = history_len(&pid_s);
    copy_tree(&gen_out, &classes);
    assert!(watch.wait_count("applied", 3), "{}", watch.report());
    std::thread::sleep(Duration::from_millis(1000));
    let applied = watch.of("applied");
    assert_eq!(applied.len(), 3, "{}", watch.report());
    assert_eq!(applied[2]["pending"].as_array().unwrap().len(), 200, "{}", watch.report());
    assert_eq!(history_len(&pid_s), before + 1, "{}", watch.report());

    // `mvn clean compile`: the directory goes (nothing changes), then comes back with the same
    // bytes (nothing is sent).
    let backup = work.path().join("backup");
    std::fs::create_dir_all(&backup).expect("mkdir");
    copy_tree(&classes, &backup);
    std::fs::remove_dir_all(&classes).expect("rm");
    assert!(
        wait_until(Duration::from_secs(30), || watch.of("skipped").iter().any(|e| e["reason"] == "empty")),
        "{}",
        watch.report()
    );
    std::fs::create_dir_all(&classes).expect("mkdir");
    copy_tree(&backup, &classes);
    std::thread::sleep(Duration::from_millis(1200));
    assert_eq!(watch.of("applied").len(), 3, "{}", watch.report());
    assert!(watch.of("skipped").iter().all(|e| e["reason"] != "deleted"), "{}", watch.report());

    // A host written before its nested class: not applied until the nested class is there too.
    let nest_src = work.path().join("nest-src/gen");
    std::fs::create_dir_all(&nest_src).expect("mkdir");
    let outer = nest_src.join("Outer.java");
    std::fs::write(
        &outer,
        "package gen; public class Outer { public static class In { } public Object in() { return new In(); } }\n",
    )
    .expect("write");
    let nest_out = work.path().join("nest-out");
    harness::javac_run(&[outer], &nest_out, 11, &[]);
    let incomplete_before = watch.of("skipped").iter().filter(|e| e["reason"] == "incomplete").count();
    std::fs::copy(nest_out.join("gen/Outer.class"), classes.join("gen/Outer.class")).expect("copy");
    assert!(
        wait_until(Duration::from_secs(30), || {
            watch.of("skipped").iter().filter(|e| e["reason"] == "incomplete").count() > incomplete_before
        }),
        "{}",
        watch.report()
    );
    std::thread::sleep(Duration::from_millis(900));
    assert_eq!(watch.of("applied").len(), 3, "{}", watch.report());
    std::fs::copy(nest_out.join("gen/Outer$In.class"), classes.join("gen/Outer$In.class")).expect("copy");
    assert!(watch.wait_count("applied", 4), "{}", watch.report());
    let mut sent: Vec<String> =
        watch.of("applied")[3]["pending"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
    sent.sort();
    assert_eq!(sent, vec!["gen.Outer", "gen.Outer$In"], "{}", watch.report());

    // A structural edit: reported with the verdict, nothing changed.
    let before = history_len(&pid_s);
    std::fs::copy(harness::patch_class("structural", "hello.Greeter"), classes.join("hello/Greeter.class"))
        .expect("copy");
    assert!(watch.wait_count("structural", 1), "{}", watch.report());
    let s = &watch.of("structural")[0];
    assert!(s["classes"].to_string().contains("hello.Greeter"), "{}", watch.report());
    assert_eq!(watch.of("applied").len(), 4, "{}", watch.report());
    assert_eq!(app.get("/").trim(), "Hello from v2");
    assert_eq!(history_len(&pid_s), before);

    // The JVM exits: watch says so and exits with 8 (lost).
    app.stop(Duration::from_secs(10));
    let mut watch = watch;
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            status = watch.child.try_wait().ok().flatten();
            status.is_some()
        }),
        "{}",
        watch.report()
    );
    assert_eq!(status.and_then(|s| s.code()), Some(8), "{}", watch.report());
    assert!(wait_until(Duration::from_secs(5), || !watch.of("exited").is_empty()), "{}", watch.report());
    // The reader has seen the end of stdout: nothing but event lines, the last one `exited`.
    std::thread::sleep(Duration::from_millis(200));
    watch.assert_ndjson();
    assert_eq!(watch.events.lock().unwrap().last().map(|e| e["event"].clone()), Some("exited".into()));
}

/// Without `--json`: one line on stdout per applied build, with its timing. A jar rebuilt in place,
/// compared by polling (`--polling`, the path taken when inotify cannot be used).
#[test]
fn a_polled_jar_gives_one_line_per_applied_build() {
    let mut app = App::start(&harness::jdk(21), &[]);
    let pid = app.pid();
    let work = tempfile::tempdir().expect("tempdir");
    let jar = work.path().join("app.jar");
    let make_jar = |dir: &Path| {
        let tmp = work.path().join("app.jar.tmp");
        let status = std::process::Command::new(harness::jar_tool())
            .arg("--create")
            .arg("--file")
            .arg(&tmp)
            .arg("-C")
            .arg(dir)
            .arg(".")
            .status()
            .expect("jar");
        assert!(status.success());
        std::fs::rename(&tmp, &jar).expect("rename");
    };
    make_jar(&harness::sample_classes());
    let mut watch = Watch::start_with(pid, &jar, &["--polling", "--poll", "200", "--quiet", "300"]);
    let lines = || -> Vec<String> {
        watch.events.lock().unwrap().iter().map(|v| v.as_str().unwrap_or("(JSON)").to_string()).collect()
    };
    // The baseline is the sample (its `started` line goes to stderr); then the jar is rebuilt,
    // as a build tool does, with the body patch over the sample.
    assert!(wait_until(Duration::from_secs(30), || watch.stderr.lock().unwrap().contains("watching ")));
    let build = work.path().join("build");
    std::fs::create_dir_all(&build).expect("mkdir");
    copy_tree(&harness::sample_classes(), &build);
    copy_tree(&harness::patch_classes("body"), &build);
    make_jar(&build);
    assert!(app.wait_for("/", "Hello from v2", Duration::from_secs(30)), "{}", watch.report());
    assert!(wait_until(Duration::from_secs(10), || !lines().is_empty()), "{}", watch.report());
    std::thread::sleep(Duration::from_millis(1000));
    let printed = lines();
    assert_eq!(printed.len(), 1, "{}", watch.report());
    assert!(printed[0].starts_with("build 1: applied 1 class(es) in "), "{}", watch.report());
    assert!(printed[0].contains(" ms ") && printed[0].ends_with("hello.Greeter"), "{}", watch.report());
    assert!(watch.stderr.lock().unwrap().contains("(polling, quiet 300 ms)"), "{}", watch.report());

    app.stop(Duration::from_secs(10));
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            status = watch.child.try_wait().ok().flatten();
            status.is_some()
        }),
        "{}",
        watch.report()
    );
    assert_eq!(status.and_then(|s| s.code()), Some(8), "{}", watch.report());
    assert!(watch.stderr.lock().unwrap().contains("has exited"), "{}", watch.report());
}

/// `--replace`: the deploy sample started from a class directory, under load; a structural edit
/// compiled by javac into that directory replaces the process (no request fails), watch follows
/// the new pid, and the next body-only edit is redefined in the new JVM.
#[test]
fn replace_follows_a_structural_build_to_the_new_jvm() {
    let _g = harness::lock();
    let pids = harness::Pids::default();
    let work = tempfile::tempdir().expect("tempdir");
    let classes = work.path().join("classes");
    std::fs::create_dir_all(&classes).expect("mkdir");
    let built = harness::built_by("build-deploy-samples.sh", "samples/deploy");
    copy_tree(&built.join("deploy-app-base-classes"), &classes);
    let port = harness::free_port();
    let mut argv = harness::java_cmd("jdk-httpserver", "v1", port, &[]);
    let i = argv.iter().position(|a| a == "-jar").expect("-jar");
    argv.splice(i..i + 2, ["-cp".to_string(), classes.display().to_string(), "jhot.sample.deploy.Main".into()]);
    let app = harness::Proc::spawn(&argv);
    let old_pid = app.wait_ready(1, Duration::from_secs(60));
    assert!(harness::get(port, "/").contains("greeting=base"));

    let watch =
        Watch::start_with(old_pid, &classes, &["--quiet", "300", "--json", "--replace", "--drain-timeout", "20"]);
    assert!(watch.wait_count("started", 1), "{}", watch.report());
    let load = harness::Load::start("close", port, "/", jhot_loadgen::Mode::Close, 4, false);

    // Greeter gets a field and a method: structural, so the process is replaced.
    let src = work.path().join("src/jhot/sample/deploy");
    std::fs::create_dir_all(&src).expect("mkdir");
    let greeter = src.join("Greeter.java");
    let v2 =
        std::fs::read_to_string(harness::repo().join("samples/deploy/variants/v2/src/jhot/sample/deploy/Greeter.java"))
            .expect("read v2");
    std::fs::write(&greeter, &v2).expect("write");
    let cp = vec!["-cp".to_string(), classes.display().to_string()];
    harness::javac_run(std::slice::from_ref(&greeter), &classes, 11, &cp);
    let replaced = wait_until(Duration::from_secs(120), || !watch.of("replaced").is_empty());
    if let Some(e) = watch.of("replaced").first()
        && let Some(p) = e["new_pid"].as_u64()
    {
        pids.add(p as u32);
    }
    assert!(replaced, "{}", watch.report());
    let r = &watch.of("replaced")[0];
    assert_eq!(r["old_pid"], old_pid, "{}", watch.report());
    assert_eq!(r["classes"], serde_json::json!(["jhot.sample.deploy.Greeter"]), "{}", watch.report());
    let new_pid = r["new_pid"].as_u64().expect("new_pid") as u32;
    assert_ne!(new_pid, old_pid);
    assert!(harness::wait_gone(old_pid, Duration::from_secs(30)), "{}", watch.report());
    std::thread::sleep(Duration::from_millis(300));
    harness::assert_no_failures(&load.finish(), "close clients across watch --replace");
    assert!(harness::get(port, "/").contains("greeting=v2"), "{}", harness::get(port, "/"));
    assert!(watch.of("structural").is_empty() && watch.of("error").is_empty(), "{}", watch.report());

    // A body-only edit now goes to the new JVM as a redefinition: same pid afterwards.
    std::fs::write(&greeter, v2.replace("return \"v2\";", "return \"v3\";")).expect("write");
    harness::javac_run(std::slice::from_ref(&greeter), &classes, 11, &cp);
    assert!(watch.wait_count("applied", 1), "{}", watch.report());
    assert_eq!(
        watch.of("applied")[0]["redefined"],
        serde_json::json!(["jhot.sample.deploy.Greeter"]),
        "{}",
        watch.report()
    );
    assert!(harness::get(port, "/").contains("greeting=v3"), "{}", harness::get(port, "/"));
    assert!(harness::alive(new_pid));
    assert_eq!(watch.of("replaced").len(), 1, "{}", watch.report());
    assert!(history_len(&new_pid.to_string()) >= 1, "{}", watch.report());
    watch.assert_ndjson();
    drop(watch);
    drop(app);
}

/// The inotify limit: since Linux 4.9 it is per user namespace, and that namespace's root may set
/// it. `jhot watch` runs in a child user namespace whose max_inotify_watches is 0, so its first
/// watch fails (ENOSPC, as past the per-user limit); it must say `polling` and still apply a build.
/// The JVM is started in that namespace too: attaching from a child user namespace to a JVM of the
/// parent one is refused (/proc/PID/maps, EACCES), as it would be for any unprivileged user.
#[test]
fn past_the_inotify_limit_watch_polls_and_still_applies() {
    let work = tempfile::tempdir().expect("tempdir");
    let classes = work.path().join("classes");
    std::fs::create_dir_all(&classes).expect("mkdir");
    copy_tree(&harness::sample_classes(), &classes);
    let (jvm_out, jvm_pid) = (work.path().join("jvm.out"), work.path().join("jvm.pid"));
    let script = r#"echo 0 > /proc/sys/user/max_inotify_watches || exit 97
"$JAVA" -cp "$CLASSES" hello.Main 0 > "$JVM_OUT" 2>&1 &
echo $! > "$JVM_PID"
i=0; while ! grep -q LISTENING "$JVM_OUT"; do i=$((i+1)); [ $i -gt 600 ] && exit 98; sleep 0.1; done
exec "$JHOT" watch $! "$CLASSES" --json --quiet 300 --poll 200"#;
    let child = std::process::Command::new("unshare")
        .args(["--user", "--map-root-user", "sh", "-c", script])
        .env("JAVA", harness::jdk(17).java())
        .env("CLASSES", &classes)
        .env("JVM_OUT", &jvm_out)
        .env("JVM_PID", &jvm_pid)
        .env("JHOT", harness::jhot_bin())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn unshare");
    let mut watch = Watch::spawned(child);
    // The JVM's pid, once the script wrote it: stopped by pid whatever happens below.
    let pids = harness::Pids::default();
    let mut pid = None;
    wait_until(Duration::from_secs(60), || {
        pid = std::fs::read_to_string(&jvm_pid).ok().and_then(|s| s.trim().parse::<u32>().ok());
        pid.is_some()
    });
    if let Some(p) = pid {
        pids.add(p);
    }
    assert!(watch.wait_count("started", 1), "{}", watch.report());
    assert_eq!(watch.of("started")[0]["mode"], "polling", "{}", watch.report());
    assert!(watch.of("polling")[0]["reason"].as_str().unwrap_or("").contains("cannot watch"), "{}", watch.report());
    let out = std::fs::read_to_string(&jvm_out).expect("jvm output");
    let port: u16 =
        out.lines().find_map(|l| l.strip_prefix("LISTENING ")).and_then(|p| p.trim().parse().ok()).expect("port");
    let body = |path: &str| harness::http_get(port, path).map(|(_, b)| b.trim().to_string()).unwrap_or_default();
    assert_eq!(body("/"), "Hello from v1");

    let src = harness::samples_dir().join("hello-http/patches/body/hello/Greeter.java");
    let cp = vec!["-cp".to_string(), classes.display().to_string()];
    harness::javac_run(&[src], &classes, 11, &cp);
    assert!(watch.wait_count("applied", 1), "{}", watch.report());
    assert_eq!(watch.of("applied")[0]["redefined"], serde_json::json!(["hello.Greeter"]), "{}", watch.report());
    assert_eq!(body("/"), "Hello from v2");
    watch.assert_ndjson();
    drop(pids);
    // The JVM has exited: watch stops with 8, as anywhere.
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(30), || {
            status = watch.child.try_wait().ok().flatten();
            status.is_some()
        }),
        "{}",
        watch.report()
    );
    assert_eq!(status.and_then(|s| s.code()), Some(8), "{}", watch.report());
}
