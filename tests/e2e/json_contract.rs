//! The `--json` contract (docs/json.md), pinned: every command and every error that carries
//! details is run for real, and its document is reduced to its *shape* and compared with
//! `tests/e2e/json/<case>.json`.
//!
//! The shape of a document: every string becomes `"<string>"`, number `"<number>"`, bool
//! `"<bool>"`, null `"<null>"`; an array becomes `[the shape of all its elements merged]` (object
//! keys merged across elements; `[]` when empty); keys are sorted. `schema`, `ok`, `error.kind`,
//! `error.exit_code` and the enum-like fields listed in [`KEPT`] keep their values. Where elements
//! (or runs) disagree, the alternatives are listed: `"<null> | <string>"`, `"body_only |
//! structural"`, or `{"<any of>": [...]}` for an object beside a scalar.
//!
//! A mismatch means the contract changed. `JHOT_UPDATE_SNAPSHOTS=1` writes the snapshots instead;
//! `JHOT_JSON_EXAMPLES=<dir>` also writes every real document there (to refresh the examples of
//! docs/json.md).
//!
//! Three tests, one JVM or one group of processes each: the hello-http sample for the commands
//! that look and redefine; the deploy fixture for `deploy`, `rollback` of a deploy and `replace`;
//! and the deploy fixture under `jhot run --json` for the supervisor's event lines.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use serde_json::{Map, Value, json};

use crate::harness::{self, App, Outcome, Pids, Proc, alive, built_by, free_port, jhot, kill, lock, wait_gone};

/// Fields whose value is part of the contract (an enum), kept in the shape. Paths from the
/// document's root; `[]` stands for any element of an array.
const KEPT: &[&str] = &[
    "schema",
    "ok",
    "error.kind",
    "error.exit_code",
    // ps, info: the kind of VM; the agent's mode and channel.
    "kind",
    "jvms[].kind",
    "agent.hello.mode",
    "agent.hello.channel",
    "jvms[].agent.hello.mode",
    "jvms[].agent.hello.channel",
    // diff, and the details of a structural error.
    "classes[].verdict",
    "classes[].reasons[].kind",
    "error.classes[].verdict",
    "error.classes[].reasons[].kind",
    // history.
    "history.entries[].action",
    // deploy.
    "decision",
    "plan.decision",
    "plan.classes[].change",
    "plan.resources[].change",
    // replace, and deploy's replacement.
    "fd_source",
    "drain.method",
    "drain.outcome",
    "recovered[].phase",
    "replacement.fd_source",
    "replacement.drain.method",
    "replacement.drain.outcome",
    "replacement.recovered[].phase",
    // jhot run's event lines.
    "event",
    // sc -d: what put jhot's patch in.
    "classes[].details.patched.action",
    // jad and mc (jad's `classes[].source` is not kept: javap's field of that path is free text).
    "compiler",
    "error.compiler",
    "error.diagnostics[].severity",
];

const CHANGED: &str = "the --json contract changed: if deliberate, update docs/json.md (and raise the schema for a \
                       breaking change), then rerun with JHOT_UPDATE_SNAPSHOTS=1";

// ---------------------------------------------------------------------------------------------
// Shapes
// ---------------------------------------------------------------------------------------------

/// The shape of `v`, found at `path` in its document.
fn shape(v: &Value, path: &str) -> Value {
    match v {
        Value::Object(o) => {
            let mut out = Map::new();
            for (k, x) in o {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                out.insert(k.clone(), shape(x, &p));
            }
            Value::Object(out)
        }
        Value::Array(a) => {
            let p = format!("{path}[]");
            match a.iter().map(|x| shape(x, &p)).reduce(merge) {
                Some(s) => json!([s]),
                None => json!([]),
            }
        }
        _ if KEPT.contains(&path) => v.clone(),
        Value::String(_) => json!("<string>"),
        Value::Number(_) => json!("<number>"),
        Value::Bool(_) => json!("<bool>"),
        Value::Null => json!("<null>"),
    }
}

/// Two shapes of the same place as one: keys of both, alternatives listed.
fn merge(a: Value, b: Value) -> Value {
    match (a, b) {
        (a, b) if a == b => a,
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, y) in b {
                let m = match a.remove(&k) {
                    Some(x) => merge(x, y),
                    None => y,
                };
                a.insert(k, m);
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => match (a.into_iter().next(), b.into_iter().next()) {
            (Some(x), Some(y)) => json!([merge(x, y)]),
            (Some(x), None) | (None, Some(x)) => json!([x]),
            (None, None) => json!([]),
        },
        (a, b) if !is_any_of(&a) && !is_any_of(&b) && a.is_string() && b.is_string() => {
            let mut alts: Vec<String> = Vec::new();
            for s in [a, b] {
                alts.extend(s.as_str().unwrap_or_default().split(" | ").map(str::to_string));
            }
            alts.sort();
            alts.dedup();
            json!(alts.join(" | "))
        }
        (a, b) => {
            let mut alts: Vec<Value> = Vec::new();
            for s in [a, b] {
                match s {
                    Value::Object(mut o) if o.len() == 1 && o.contains_key("<any of>") => {
                        if let Some(Value::Array(xs)) = o.remove("<any of>") {
                            alts.extend(xs);
                        }
                    }
                    other => alts.push(other),
                }
            }
            alts.sort_by_key(|x| x.to_string());
            alts.dedup();
            json!({ "<any of>": alts })
        }
    }
}

fn is_any_of(v: &Value) -> bool {
    v.as_object().is_some_and(|o| o.contains_key("<any of>"))
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

fn snapshot_dir() -> PathBuf {
    harness::repo().join("tests/e2e/json")
}

/// Compares shapes with their snapshots and collects every mismatch; [`Snapshots::finish`] fails
/// the test with all of them.
#[derive(Default)]
struct Snapshots {
    failures: Vec<String>,
}

impl Snapshots {
    /// `doc` is the real document (written to `$JHOT_JSON_EXAMPLES` when set); its shape is compared.
    fn check(&mut self, case: &str, doc: &Value) {
        self.check_shape(case, doc, shape(doc, ""));
    }

    fn check_shape(&mut self, case: &str, doc: &Value, shape: Value) {
        if let Some(dir) = std::env::var_os("JHOT_JSON_EXAMPLES").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            std::fs::create_dir_all(&dir).expect("create JHOT_JSON_EXAMPLES");
            std::fs::write(dir.join(format!("{case}.json")), pretty(doc)).expect("write example");
        }
        let file = snapshot_dir().join(format!("{case}.json"));
        let actual = pretty(&shape);
        if std::env::var_os("JHOT_UPDATE_SNAPSHOTS").is_some_and(|v| !v.is_empty() && v != "0") {
            std::fs::create_dir_all(snapshot_dir()).expect("create tests/e2e/json");
            std::fs::write(&file, &actual).unwrap_or_else(|e| panic!("write {}: {e}", file.display()));
            return;
        }
        match std::fs::read_to_string(&file) {
            Ok(expected) if expected == actual => {}
            Ok(expected) => self.failures.push(format!(
                "{case} (tests/e2e/json/{case}.json), - snapshot + now:\n{}",
                line_diff(&expected, &actual)
            )),
            Err(e) => {
                self.failures.push(format!("{case}: no snapshot tests/e2e/json/{case}.json ({e}); now:\n{actual}"))
            }
        }
    }

    fn finish(self) {
        assert!(self.failures.is_empty(), "{CHANGED}\n\n{}\n\n{CHANGED}", self.failures.join("\n\n"));
    }
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("json");
    s.push('\n');
    s
}

/// A line diff (longest common subsequence): `-` lines only in `old`, `+` only in `new`, two lines
/// of context around each change.
fn line_diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] { lcs[i + 1][j + 1] + 1 } else { lcs[i + 1][j].max(lcs[i][j + 1]) };
        }
    }
    let mut ops: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < a.len() && (j == b.len() || lcs[i + 1][j] >= lcs[i][j + 1]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    let near = |k: usize| ops[k.saturating_sub(2)..(k + 3).min(ops.len())].iter().any(|(c, _)| *c != ' ');
    let mut out = String::new();
    let mut skipped = false;
    for (k, (c, line)) in ops.iter().enumerate() {
        if near(k) {
            out.push_str(&format!("{c} {line}\n"));
            skipped = false;
        } else if !skipped {
            out.push_str("  …\n");
            skipped = true;
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Running commands
// ---------------------------------------------------------------------------------------------

/// Runs `jhot <args> --json`, checks the exit code, and returns the document.
fn doc(args: &[&str], code: i32) -> Value {
    let mut all = args.to_vec();
    all.push("--json");
    let out = jhot(&all);
    expect(&out, code, args)
}

fn expect(out: &Outcome, code: i32, args: &[&str]) -> Value {
    assert_eq!(out.code, code, "jhot {args:?}: {out:?}");
    let v = out.json();
    assert_eq!(v["schema"], 1, "{out:?}");
    assert_eq!(v["ok"], code == 0, "{out:?}");
    if code != 0 {
        assert_eq!(v["error"]["exit_code"], code, "{out:?}");
    }
    v
}

fn s(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

// ---------------------------------------------------------------------------------------------
// The commands that look and redefine, on the hello-http sample
// ---------------------------------------------------------------------------------------------

#[test]
fn hello_http_commands() {
    let mut snaps = Snapshots::default();
    let app = App::start(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    let pid = app.pid().to_string();
    let pid = pid.as_str();
    let greeter_v1 = harness::sample_class("hello.Greeter");
    let body = harness::patch_class("body", "hello.Greeter");
    let structural = harness::patch_class("structural", "hello.Greeter");
    let lazy = harness::patch_class("lazy", "hello.Lazy");
    // Loads hello.Greeter (hello.Lazy stays unloaded: nothing asks for /lazy).
    assert_eq!(app.get("/").trim(), "Hello from v1");

    // Before jhot touched the JVM: no agent.
    snaps.check("info", &doc(&["info", pid], 0));
    snaps.check("history_no_agent", &doc(&["history", pid], 0));
    snaps.check("rollback_no_agent", &doc(&["rollback", pid], 0));

    // Files only. The new side: the sample with Greeter changed structurally, Lazy in its body and
    // Hot gone, then the body patch, whose Greeter is a duplicate.
    let dir = tempfile::tempdir().expect("tmp");
    let new = dir.path().join("classes");
    copy_dir(&harness::sample_classes(), &new);
    std::fs::copy(&structural, new.join("hello/Greeter.class")).expect("copy");
    std::fs::copy(&lazy, new.join("hello/Lazy.class")).expect("copy");
    std::fs::remove_file(new.join("hello/Hot.class")).expect("rm");
    let body_dir = harness::patch_classes("body");
    snaps.check("diff_files", &doc(&["diff", s(&harness::sample_classes()), s(&new), s(&body_dir)], 0));
    snaps.check("javap_file", &doc(&["javap", s(&greeter_v1)], 0));
    let agent_dir = dir.path().join("agent");
    snaps.check("agent_javaagent_flag", &doc(&["agent", "--javaagent-flag", "--dir", s(&agent_dir)], 0));

    // Errors without details.
    snaps.check("error_no_target", &doc(&["info", "2147483647"], 3));
    snaps.check("error_input", &doc(&["javap", s(&greeter_v1), "hello.NoSuchClass"], 6));
    // A command line clap refuses is not a jhot document: usage text on stderr, exit 2.
    let out = jhot(&["info", "--json"]);
    assert_eq!((out.code, out.stdout.as_str()), (2, ""), "{out:?}");

    // The first redefinition loads the agent; the second finds it resident (a class not loaded
    // yet: registered).
    let v = doc(&["redefine", pid, s(&body)], 0);
    assert_eq!(v["connection"]["loaded_now"], true, "{v}");
    snaps.check("redefine", &v);
    let v = doc(&["redefine", pid, s(&lazy)], 0);
    assert_eq!(v["result"]["pending"], json!(["hello.Lazy"]), "{v}");
    snaps.check("redefine_resident_pending", &v);

    // Refusals, each with its details.
    let v = doc(&["redefine", pid, s(&lazy), "--require-loaded"], 6);
    snaps.check("error_refused_not_loaded", &v);
    snaps.check("error_structural", &doc(&["redefine", pid, s(&structural)], 7));
    let v = doc(&["redefine", pid, s(&structural), "--force"], 7);
    assert!(v["error"]["jvm_message"].is_string(), "{v}");
    snaps.check("error_rejected_by_jvm", &v);

    // Against what the JVM runs.
    let structural_dir = harness::patch_classes("structural");
    let lazy_dir = harness::patch_classes("lazy");
    snaps.check("diff_pid", &doc(&["diff", pid, s(&structural_dir), s(&lazy_dir)], 0));
    snaps.check("javap_pid", &doc(&["javap", pid, "hello.Greeter"], 0));
    snaps.check("info_agent_resident", &doc(&["info", pid], 0));
    let mut v = doc(&["ps"], 0);
    let mine: Vec<Value> = v["jvms"]
        .as_array()
        .expect("jvms")
        .iter()
        .filter(|j| j["pid"].as_u64() == Some(app.pid() as u64))
        .cloned()
        .collect();
    assert_eq!(mine.len(), 1, "ps lists the sample JVM once: {v}");
    // Only the sample's entry: other JVMs on the machine (other users', other tests') vary.
    v["jvms"] = Value::Array(mine);
    snaps.check("ps", &v);

    // What is loaded and by whom; Greeter runs the body patch.
    snaps.check("sc", &doc(&["sc", pid, "hello.*"], 0));
    let v = doc(&["sc", pid, "hello.Gree*", "-d"], 0);
    assert_eq!(v["classes"][0]["details"]["patched"]["action"], "redefine", "{v}");
    snaps.check("sc_details", &v);
    snaps.check("sm", &doc(&["sm", pid, "hello.Greeter"], 0));
    // A second loader, a URLClassLoader: `urls`.
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");
    snaps.check("classloader", &doc(&["classloader", pid], 0));
    let dump_dir = dir.path().join("dump");
    snaps.check("dump", &doc(&["dump", pid, "hello.G*", "-d", s(&dump_dir)], 0));
    let planted = dir.path().join("planted");
    std::fs::create_dir_all(&planted).expect("mkdir");
    std::os::unix::fs::symlink(dir.path(), planted.join("hello")).expect("symlink");
    snaps.check("error_dump_refused", &doc(&["dump", pid, "hello.Main", "-d", s(&planted)], 4));

    snaps.check("history", &doc(&["history", pid], 0));
    let v = doc(&["rollback", pid], 0);
    assert!(v.get("deploy").is_none(), "no deploy to undo: every class is rolled back: {v}");
    snaps.check("rollback", &v);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    snaps.finish();
}

// ---------------------------------------------------------------------------------------------
// Looking inside a JVM (thread, getstatic, jvm, sysprop), on the hello-http sample
// ---------------------------------------------------------------------------------------------

#[test]
fn runtime_commands() {
    let mut snaps = Snapshots::default();
    let app = App::start(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    let pid = app.pid().to_string();
    let pid = pid.as_str();
    assert_eq!(app.get("/").trim(), "Hello from v1");
    snaps.check("sysprop", &doc(&["sysprop", pid, "java.version"], 0));
    snaps.check("error_no_property", &doc(&["sysprop", pid, "no.such.property"], 6));
    snaps.check("getstatic", &doc(&["getstatic", pid, "hello.Greeter", "GREETINGS"], 0));
    snaps.check("error_getstatic_no_field", &doc(&["getstatic", pid, "hello.Greeter", "NO_SUCH_FIELD"], 6));
    snaps.check("jvm", &doc(&["jvm", pid], 0));
    // Every thread (some wait on a lock, some not: both kinds every run), over an interval.
    let v = doc(&["thread", pid, "-i", "200"], 0);
    let hot =
        v["threads"].as_array().expect("threads").iter().find(|t| t["name"] == "hello-hot").expect("hello-hot")["id"]
            .as_u64()
            .expect("id")
            .to_string();
    snaps.check("thread", &v);
    snaps.check("thread_stacks", &doc(&["thread", pid, &hot], 0));
    snaps.finish();
}

// ---------------------------------------------------------------------------------------------
// jad and mc (the helper JVM)
// ---------------------------------------------------------------------------------------------

#[test]
fn jad_and_mc_documents() {
    // Its helper JVMs must not overlap the tests that count them (tools.rs, shell.rs).
    let _one = harness::one_helper_at_a_time();
    let mut snaps = Snapshots::default();
    let app = App::start(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    let pid = app.pid().to_string();
    let pid = pid.as_str();
    assert_eq!(app.get("/lazy").trim(), "lazy v1"); // loads hello.Routes and hello.Lazy
    snaps.check("jad", &doc(&["jad", pid, "hello.Routes"], 0));
    snaps.check("jad_method", &doc(&["jad", pid, "hello.Routes", "reason"], 0));

    let dir = tempfile::tempdir().expect("tmp");
    let lazy = jhot(&["jad", pid, "hello.Lazy", "--source-only"]);
    assert_eq!(lazy.code, 0, "{lazy:?}");
    let good = dir.path().join("Lazy.java");
    std::fs::write(&good, lazy.stdout.replace("lazy v1", "lazy v2")).expect("write");
    let out = dir.path().join("out");
    snaps.check("mc", &doc(&["mc", pid, s(&good), "-d", s(&out)], 0));
    let bad_dir = dir.path().join("bad");
    std::fs::create_dir_all(&bad_dir).expect("mkdir");
    let bad = bad_dir.join("Lazy.java");
    std::fs::write(&bad, lazy.stdout.replace("\"lazy v1\"", "undefinedName")).expect("write");
    snaps.check("error_compile", &doc(&["mc", pid, s(&bad), "-d", s(&out)], 6));
    snaps.finish();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let dst = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), &dst).expect("copy");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// deploy, rollback of a deploy, replace: the deploy fixture
// ---------------------------------------------------------------------------------------------

/// `deploy-app-<variant>.jar` of samples/deploy (built once by scripts/build-deploy-samples.sh).
fn deploy_jar(variant: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| built_by("build-deploy-samples.sh", "samples/deploy"));
    let jar = dir.join(format!("deploy-app-{variant}.jar"));
    assert!(jar.is_file(), "{} was not built", jar.display());
    jar
}

/// The fixture's command line on JDK 17 (as the takeover tests start their servers).
fn deploy_app_cmd(variant: &str, port: u16) -> Vec<String> {
    vec![
        harness::jdk(17).java().display().to_string(),
        "-Xmx128m".into(),
        "-XX:+UseSerialGC".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-Dsun.net.httpserver.nodelay=true".into(),
        "-jar".into(),
        deploy_jar(variant).display().to_string(),
        format!("--port={port}"),
    ]
}

#[test]
fn deploy_and_replace() {
    let _g = lock();
    let mut snaps = Snapshots::default();
    let pids = Pids::default();
    let port = free_port();
    let app = Proc::spawn(&deploy_app_cmd("base", port));
    let pid = app.wait_ready(1, Duration::from_secs(60));
    let pid_s = pid.to_string();
    let p = pid_s.as_str();
    let body = deploy_jar("body");
    let v2 = deploy_jar("v2");

    let v = doc(&["deploy", p, s(&body), "--dry-run"], 0);
    assert_eq!(v["decision"], "redefine", "{v}");
    snaps.check("deploy_dry_run", &v);
    let v = doc(&["deploy", p, s(&deploy_jar("same"))], 0);
    assert_eq!(v["decision"], "nothing", "{v}");
    snaps.check("deploy_nothing", &v);
    let v = doc(&["deploy", p, s(&body)], 0);
    assert_eq!(v["decision"], "redefine", "{v}");
    snaps.check("deploy_redefine", &v);
    let history = doc(&["history", p], 0);
    snaps.check("history_after_deploy", &history);
    // The deploy that patched a class, as `sc -d` tells it.
    let v = doc(&["sc", p, "jhot.sample.deploy.Greeter", "-d"], 0);
    assert_eq!(v["classes"][0]["details"]["patched"]["deploy"], history["history"]["deploys"][0]["id"], "{v}");
    snaps.check("sc_details_deployed", &v);
    let v = doc(&["rollback", p], 0);
    assert!(v["deploy"].is_object(), "the deploy was undone: {v}");
    snaps.check("rollback_deploy", &v);

    snaps.check("error_needs_replace", &doc(&["deploy", p, s(&v2), "--mode", "redefine"], 7));
    let v = doc(&["deploy", p, s(&v2), "--drain-timeout", "20"], 0);
    assert_eq!(v["decision"], "replace", "{v}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    assert!(wait_gone(pid, Duration::from_secs(10)), "the old process {pid} is still running");
    snaps.check("deploy_replace", &v);

    let new_s = new_pid.to_string();
    let v = doc(&["replace", &new_s, "--jar", s(&deploy_jar("base")), "--drain-timeout", "20"], 0);
    let third = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(third);
    assert!(wait_gone(new_pid, Duration::from_secs(10)), "the old process {new_pid} is still running");
    snaps.check("replace", &v);
    drop(app);
    snaps.finish();
}

// ---------------------------------------------------------------------------------------------
// jhot run --json: the supervisor's event lines, and a supervised replace
// ---------------------------------------------------------------------------------------------

#[test]
fn run_events_and_supervised_replace() {
    let _g = lock();
    let mut snaps = Snapshots::default();
    let pids = Pids::default();
    let port = free_port();
    let mut argv = vec![harness::jhot_bin().display().to_string(), "run".into(), "--json".into(), "--".into()];
    argv.extend(deploy_app_cmd("base", port));
    let sup = Proc::spawn(&argv);
    let pid = sup.wait_ready(1, Duration::from_secs(60));
    pids.add(pid);
    assert!(
        harness::wait_until(Duration::from_secs(10), || !events(&sup.stderr(), "accepting").is_empty()),
        "no accepting event:\n{}",
        sup.stderr()
    );

    let pid_s = pid.to_string();
    let v = doc(&["replace", &pid_s, "--jar", s(&deploy_jar("v2")), "--drain-timeout", "20"], 0);
    assert_eq!(v["supervised"], true, "{v}");
    let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    assert_eq!(sup.wait_ready(2, Duration::from_secs(10)), new_pid);
    snaps.check("replace_supervised", &v);

    // A new version that exits at start (an argument the fixture refuses: exit status 2).
    let new_s = new_pid.to_string();
    let mut bad = vec!["replace", new_s.as_str(), "--json", "--"];
    let mut cmd = deploy_app_cmd("v2", port);
    cmd.push("--no-such-option".into());
    bad.extend(cmd.iter().map(String::as_str));
    let out = jhot(&bad);
    snaps.check("error_replace_failed", &expect(&out, 9, &bad));
    assert!(alive(new_pid), "the old generation keeps serving");

    // SIGTERM to jhot run: forwarded, the application exits, and so does jhot run.
    kill(sup.pid(), libc::SIGTERM);
    assert!(wait_gone(sup.pid(), Duration::from_secs(20)), "jhot run did not stop");
    assert!(
        harness::wait_until(Duration::from_secs(5), || !events(&sup.stderr(), "exited").is_empty()),
        "no exited event:\n{}",
        sup.stderr()
    );
    let stderr = sup.stderr();
    let mut by_event: BTreeMap<String, Value> = BTreeMap::new();
    let mut examples = Vec::new();
    for name in ["started", "accepting", "replacing", "replaced", "replace-failed", "exited"] {
        let lines = events(&stderr, name);
        assert!(!lines.is_empty(), "no {name} event:\n{stderr}");
        for l in lines {
            let sh = shape(&l, "");
            let merged = match by_event.remove(name) {
                Some(prev) => merge(prev, sh),
                None => sh,
            };
            by_event.insert(name.to_string(), merged);
            examples.push(l);
        }
    }
    let shapes = Value::Object(by_event.into_iter().collect());
    snaps.check_shape("run_events", &Value::Array(examples), shapes);
    snaps.finish();
}

/// The JSON event lines named `name` among `jhot run`'s stderr (the application's own lines are
/// there too).
fn events(stderr: &str, name: &str) -> Vec<Value> {
    stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["event"] == name)
        .collect()
}

#[test]
fn shapes_merge_and_keep_enums() {
    let doc = json!({
        "schema": 1, "ok": true, "pid": 7,
        "classes": [
            { "name": "a.B", "verdict": "body_only", "loader": null },
            { "name": "c.D", "verdict": "structural", "loader": { "id": "0x1", "name": "app" }, "reasons": [] },
        ],
        "empty": [],
    });
    assert_eq!(
        shape(&doc, ""),
        json!({
            "schema": 1, "ok": true, "pid": "<number>", "empty": [],
            "classes": [{
                "name": "<string>", "verdict": "body_only | structural", "reasons": [],
                "loader": { "<any of>": ["<null>", { "id": "<string>", "name": "<string>" }] },
            }],
        })
    );
    assert!(line_diff("a\nb\nc\n", "a\nx\nc\n").contains("- b\n+ x\n"));
}
