//! `jhot deploy` against real JVMs: the deploy-app fixture (samples/deploy: one base build and a
//! variant per kind of change) and the Spring Boot sample. Each test starts its own JVM and checks
//! what the decision was, that the JVM answers with the new code, and that nothing else changed.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use jhot_loadgen::Mode;
use serde_json::Value;

use crate::harness::{
    self, Load, Outcome, Pids, Proc, alive, assert_no_failures, built_by, free_port, get, jar, java_cmd, jhot, lock,
    wait_gone,
};

/// The deploy-app builds, made once per test process by scripts/build-deploy-samples.sh.
fn build(variant: &str) -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    let dir = BUILT.get_or_init(|| built_by("build-deploy-samples.sh", "samples/deploy"));
    let jar = dir.join(format!("deploy-app-{variant}.jar"));
    assert!(jar.is_file(), "{} was not built", jar.display());
    jar
}

fn classes_dir(variant: &str) -> PathBuf {
    let p = build("base").parent().expect("dir").join(format!("deploy-app-{variant}-classes"));
    assert!(p.is_dir(), "{} was not built", p.display());
    p
}

fn start_base(port: u16) -> (Proc, u32) {
    let mut argv = java_cmd("jdk-httpserver", "v1", port, &[]);
    // Same JVM options as the takeover samples, the deploy app's jar instead.
    let i = argv.iter().position(|a| a == "-jar").expect("-jar");
    argv[i + 1] = build("base").display().to_string();
    let p = Proc::spawn(&argv);
    let pid = p.wait_ready(1, Duration::from_secs(60));
    (p, pid)
}

fn deploy(pid: u32, build: &std::path::Path, extra: &[&str]) -> (Outcome, Value) {
    let mut args = vec!["deploy".to_string(), pid.to_string(), build.display().to_string(), "--json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = jhot(&args);
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    (out, v)
}

fn deploys(pid: u32) -> Vec<Value> {
    let out = jhot(&["history".to_string(), pid.to_string(), "--json".into()]);
    assert_eq!(out.code, 0, "{out:?}");
    out.json()["history"]["deploys"].as_array().cloned().unwrap_or_default()
}

#[test]
fn body_change_is_redefined_and_rolled_back() {
    let _g = lock();
    let port = free_port();
    let (_app, pid) = start_base(port);
    assert!(get(port, "/").contains("greeting=base"));

    let (out, plan) = deploy(pid, &build("body"), &["--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(plan["decision"], "redefine", "{plan}");
    assert_eq!(plan["plan"]["counts"]["body_only"], 1, "{plan}");
    assert!(get(port, "/").contains("greeting=base"), "a dry run changes nothing");
    assert!(deploys(pid).is_empty());

    let (out, v) = deploy(pid, &build("body"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["redefinition"]["redefined"], 1, "{v}");
    assert!(alive(pid), "same process");
    assert!(get(port, "/").contains("greeting=body"));
    // Deployed from another path than the one the JVM was started from: disk and memory disagree.
    assert!(
        v["warnings"].as_array().is_some_and(|w| w.iter().any(|x| x.as_str().unwrap_or("").contains("bring back"))),
        "{v}"
    );
    let d = deploys(pid);
    assert_eq!(d.len(), 1, "{d:?}");
    assert_eq!(d[0]["rolled_back"], false);

    let out = jhot(&["rollback".to_string(), pid.to_string(), "--json".into()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.json()["deploy"].is_object(), "the last deploy was undone: {}", out.stdout);
    assert!(get(port, "/").contains("greeting=base"));
    assert_eq!(deploys(pid)[0]["rolled_back"], true);

    // Deployed again in memory only; a replacement with the same command line says what it brings
    // back.
    let (out, _) = deploy(pid, &build("body"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let pids = Pids::default();
    let out = jhot(&["replace".to_string(), pid.to_string(), "--json".into()]);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    pids.add(v["new_pid"].as_u64().expect("new pid") as u32);
    assert!(
        v["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|x| x.as_str().unwrap_or("").contains("deploy-app-body.jar"))),
        "{v}"
    );
    assert!(get(port, "/").contains("greeting=base"), "the command line's build runs again, as warned");
}

#[test]
fn same_build_does_nothing_and_a_directory_build_works() {
    let _g = lock();
    let port = free_port();
    let (_app, pid) = start_base(port);
    let (out, v) = deploy(pid, &build("same"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "nothing", "{v}");
    assert_eq!(v["plan"]["counts"]["body_only"], 0);
    assert_eq!(v["plan"]["counts"]["structural"], 0);
    assert!(deploys(pid).is_empty(), "nothing was sent");

    let (out, v) = deploy(pid, &classes_dir("body"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert!(get(port, "/").contains("greeting=body"));
}

#[test]
fn many_bodies_go_in_one_batch_new_and_lazy_classes_too() {
    let _g = lock();
    let port = free_port();
    let (_app, pid) = start_base(port);
    let before = get(port, "/gen");

    let (out, v) = deploy(pid, &build("many-body"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["body_only"], 200, "{v}");
    assert_eq!(v["redefinition"]["redefined"], 200);
    assert_ne!(get(port, "/gen"), before);

    // A class not loaded yet: registered, used when it loads.
    let (out, v) = deploy(pid, &build("lazy"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["pending"], 1, "{v}");
    assert!(get(port, "/lazy").contains("lazy=changed"));

    // A new class that changed code calls: defined first, in the same batch.
    let (out, v) = deploy(pid, &build("helper"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["new"], 1, "{v}");
    assert_eq!(v["redefinition"]["defined"], 1, "{v}");
    assert!(get(port, "/").contains("greeting=helper"), "{}", get(port, "/"));
    assert!(alive(pid));
}

#[test]
fn one_structural_change_among_200_replaces_under_load() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let (_app, pid) = start_base(port);
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let (out, v) = deploy(pid, &build("many-structural"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    assert_eq!(v["plan"]["counts"]["structural"], 1, "{v}");
    assert_eq!(v["plan"]["counts"]["body_only"], 199, "{v}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new pid") as u32;
    pids.add(new_pid);
    assert!(wait_gone(pid, Duration::from_secs(5)));
    std::thread::sleep(Duration::from_millis(300));
    let close = close.finish();
    assert_no_failures(&close, "close clients across a structural deploy");
    assert!(get(port, "/gen").len() > 3);
}

#[test]
fn changed_resources_need_a_replacement() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let (_app, pid) = start_base(port);
    let props_before = get(port, "/props");
    let (out, _) = deploy(pid, &build("props"), &["--mode", "redefine"]);
    assert_eq!(out.code, 7, "{out:?}");
    assert!(out.stdout.contains("app.properties") && out.stdout.contains("nothing was changed"), "{out:?}");
    assert!(deploys(pid).is_empty() && alive(pid));

    let (out, v) = deploy(pid, &build("props"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    assert!(v["plan"]["resources"].as_array().is_some_and(|r| r.iter().any(|x| x["name"] == "app.properties")), "{v}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new pid") as u32;
    pids.add(new_pid);
    assert_ne!(get(port, "/props"), props_before);
}

#[test]
fn bad_inputs_change_nothing() {
    let _g = lock();
    let port = free_port();
    let (_app, pid) = start_base(port);
    // A build of another application.
    let (out, _) = deploy(pid, &jar("spring-boot", "v1"), &[]);
    assert_eq!(out.code, 6, "{out:?}");
    assert!(out.stdout.contains("does not run this build"), "{out:?}");
    // A corrupt jar.
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("broken.jar");
    std::fs::write(&bad, b"PK\x03\x04 this is not a zip").expect("write");
    let (out, _) = deploy(pid, &bad, &[]);
    assert_eq!(out.code, 6, "{out:?}");
    // A pid that is not a JVM.
    let mut sleeper = Command::new("sleep").arg("30").spawn().expect("sleep");
    let (out, _) = deploy(sleeper.id(), &build("body"), &[]);
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(out.code, 3, "{out:?}");
    assert!(get(port, "/").contains("greeting=base"));
    assert!(deploys(pid).is_empty());
}

#[test]
fn spring_boot_body_change_redefines_and_properties_replace() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let app = Proc::spawn(&java_cmd("spring-boot", "v1", port, &[]));
    let pid = app.wait_ready(1, Duration::from_secs(90));
    let (out, v) = deploy(pid, &jar("spring-boot", "v1b"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["body_only"], 1, "{v}");
    assert!(v["plan"]["loader"]["class"].as_str().unwrap_or("").contains("Launched"), "Spring Boot's own loader: {v}");
    assert!(get(port, "/").contains("hello from v1b"));
    assert!(alive(pid));

    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let (out, v) = deploy(pid, &jar("spring-boot", "v1-props"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new pid") as u32;
    pids.add(new_pid);
    std::thread::sleep(Duration::from_millis(300));
    let close = close.finish();
    assert_no_failures(&close, "close clients across a Spring Boot replacement");
}

/// `jhot deploy` with a command run between its plan and the redefinition (the tests' hook):
/// here, the request that makes the JVM load `LazyThing`, which the plan saw as not loaded.
fn deploy_racing_a_load(pid: u32, port: u16, build: &std::path::Path, extra: &[&str]) -> (Outcome, Value) {
    let mut args = vec!["deploy".to_string(), pid.to_string(), build.display().to_string(), "--json".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let hook = format!("curl -sf -o /dev/null http://127.0.0.1:{port}/lazy");
    let out = harness::output(harness::jhot_cmd().args(&args).env("JHOT_TEST_BEFORE_APPLY", hook));
    let v: Value = serde_json::from_str(&out.stdout).unwrap_or(Value::Null);
    (out, v)
}

#[test]
fn a_class_loaded_between_plan_and_apply_is_judged_again() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let (_app, pid) = start_base(port);

    // Body-only once loaded: still one redefinition, of the class as it loaded.
    let (out, v) = deploy_racing_a_load(pid, port, &build("lazy"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["body_only"], 1, "{v}");
    assert_eq!(v["plan"]["counts"]["pending"], 0, "{v}");
    assert!(v["plan"]["reasons"].to_string().contains("loaded while jhot was planning"), "{v}");
    assert!(get(port, "/lazy").contains("lazy=changed"));
    assert!(alive(pid));
    let out = jhot(&["rollback".to_string(), pid.to_string()]);
    assert_eq!(out.code, 0, "{out:?}");

    // Structural once loaded: --mode redefine refuses cleanly, nothing changed.
    let port2 = free_port();
    let (_app2, pid2) = start_base(port2);
    let (out, _) = deploy_racing_a_load(pid2, port2, &build("lazy-structural"), &["--mode", "redefine"]);
    assert_eq!(out.code, 7, "{out:?}");
    assert!(out.stdout.contains("LazyThing") && out.stdout.contains("nothing was changed"), "{out:?}");
    assert!(get(port2, "/lazy").contains("lazy=base"));
    assert!(deploys(pid2).is_empty() && alive(pid2));

    // ... and auto mode replaces the process instead of showing the JVM's refusal.
    let (out, v) = deploy_racing_a_load(pid2, port2, &build("lazy-structural"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    assert_eq!(v["plan"]["counts"]["structural"], 1, "{v}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new pid") as u32;
    pids.add(new_pid);
    assert!(wait_gone(pid2, Duration::from_secs(10)));
    assert!(get(port2, "/lazy").contains("lazy=changed-structurally"));
}

#[test]
fn not_loaded_structural_class_loads_its_new_shape() {
    let _g = lock();
    let port = free_port();
    let (_app, pid) = start_base(port);
    let (out, v) = deploy(pid, &build("lazy-structural"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["pending"], 1, "{v}");
    assert!(get(port, "/lazy").contains("lazy=changed-structurally"));
    assert!(alive(pid));
}

/// The realistic sample (samples/boot4-shop: Spring Boot 4, Tomcat 11, Spring Data JPA with
/// Hibernate and H2, caching, actuator, validation, Thymeleaf; over 10,000 classes loaded once its
/// pages have been used): what a real application looks like to `jhot deploy`, with CGLIB proxies,
/// Hibernate's generated classes, lambdas and package-info classes in the JVM.
fn boot4_shop(jdk: u32) {
    let _g = lock();
    let pids = Pids::default();
    let port = free_port();
    let app = Proc::spawn(&harness::java_cmd_on(jdk, "boot4-shop", "v1", port, &[]));
    let pid = app.wait_ready(1, Duration::from_secs(120));
    // Use every part of the application, so that its proxies and generated classes exist.
    for path in ["/", "/owners", "/owners/1", "/owners/new", "/vets", "/api/vets", "/api/owners/1", "/actuator/health"]
    {
        assert!(!get(port, path).is_empty(), "GET {path}");
    }

    // The very jar the JVM was started from: nothing to do.
    let (out, v) = deploy(pid, &jar("boot4-shop", "v1"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "nothing", "{v}");
    assert_eq!(v["plan"]["counts"]["removed"], 0, "{v}");
    assert!(
        v["plan"]["counts"]["left_alone"].as_u64().unwrap_or(0) > 0,
        "generated classes are counted, not removed: {v}"
    );
    assert!(v["plan"]["loaded_classes"].as_u64().unwrap_or(0) > 5_000, "{v}");

    // One method body: a redefinition in place, recorded, undone by rollback.
    let (out, v) = deploy(pid, &jar("boot4-shop", "v1b"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");
    assert_eq!(v["plan"]["counts"]["body_only"], 1, "{v}");
    assert_eq!(v["plan"]["counts"]["removed"], 0, "{v}");
    assert!(alive(pid));
    assert!(get(port, "/").contains("hello from v1b"), "{}", get(port, "/"));
    assert_eq!(deploys(pid).len(), 1);
    let out = jhot(&["rollback".to_string(), pid.to_string(), "--json".into()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(get(port, "/").contains("hello from v1"));
    assert!(!get(port, "/").contains("v1b"));
    // And again, now that the application has run for a while.
    for path in ["/owners", "/vets", "/api/vets"] {
        get(port, path);
    }
    let (out, v) = deploy(pid, &jar("boot4-shop", "v1b"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "redefine", "{v}");

    // A template changed: the application reads it at start, so the process is replaced.
    let (out, v) = deploy(pid, &jar("boot4-shop", "v1-res"), &["--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    assert!(v["plan"]["resources"].as_array().is_some_and(|r| !r.is_empty()), "{v}");

    // A structural change, under load: replaced, nothing failed.
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let (out, v) = deploy(pid, &jar("boot4-shop", "v2"), &[]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    assert!(v["plan"]["counts"]["structural"].as_u64().unwrap_or(0) >= 1, "{v}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new pid") as u32;
    pids.add(new_pid);
    assert!(wait_gone(pid, Duration::from_secs(20)));
    std::thread::sleep(Duration::from_millis(300));
    let close = close.finish();
    assert_no_failures(&close, "close clients across a structural deploy of boot4-shop");
    assert!(get(port, "/").contains("hello from v2"));
}

#[test]
fn boot4_shop_deploys_on_jdk17() {
    boot4_shop(17);
}

#[test]
fn boot4_shop_deploys_on_jdk21() {
    boot4_shop(21);
}

/// The engine reports what a deploy is doing as it goes (the shell and watch mode show it; the
/// binary puts it on its spinner): driven here as a library, with a sink that records.
#[test]
fn deploy_reports_its_steps_as_events() {
    use std::sync::{Arc, Mutex};

    use jhot_engine::deploy::{DeployOptions, Mode as DeployMode};
    use jhot_engine::replace::{ReplaceOptions, command::NewBuild, drain::DrainMode, fds::FdSource};

    let _g = lock();
    let port = free_port();
    let (_app, pid) = start_base(port);
    let seen: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let sink = seen.clone();
    let timeout = Duration::from_secs(30);
    let opts = |dry_run: bool| DeployOptions {
        mode: DeployMode::Auto,
        dry_run,
        timeout,
        attach_opts: jhot_attach::AttachOptions::default(),
        replace: ReplaceOptions {
            build: NewBuild::Same,
            ready_url: None,
            ready_timeout: Duration::from_secs(60),
            drain_timeout: Duration::from_secs(30),
            drain: DrainMode::Auto,
            fd_source: FdSource::Auto,
            ports: vec![],
            log: None,
            attach_timeout: timeout,
        },
        events: {
            let sink = sink.clone();
            Arc::new(move |what: &str, d: &Value| sink.lock().unwrap().push((what.to_string(), d.clone())))
        },
    };
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let names =
        |seen: &Mutex<Vec<(String, Value)>>| seen.lock().unwrap().iter().map(|e| e.0.clone()).collect::<Vec<_>>();

    let report = rt.block_on(jhot_engine::deploy::deploy(pid, &[build("body")], &opts(true))).expect("dry run");
    assert!(report.dry_run);
    assert_eq!(names(&seen), ["planning", "planned"], "a dry run plans and stops");
    let planned = seen.lock().unwrap()[1].1.clone();
    assert_eq!(planned["decision"], "redefine", "{planned}");
    assert!(get(port, "/").contains("greeting=base"), "a dry run changes nothing");

    seen.lock().unwrap().clear();
    rt.block_on(jhot_engine::deploy::deploy(pid, &[build("body")], &opts(false))).expect("deploy");
    assert_eq!(names(&seen), ["planning", "planned", "redefining"]);
    assert!(get(port, "/").contains("greeting=body"));
}

/// `mvn package` rewrites the jar a JVM runs from in place (same file): the JVM's zip index still
/// describes the old file, so a class it has not loaded may read garbage. The plan says so and
/// replaces; `--mode redefine` refuses, naming the jar; the new process reads the new jar whole.
#[test]
fn a_jar_rewritten_in_place_under_the_jvm_is_replaced() {
    let _g = lock();
    let dir = tempfile::tempdir().expect("tmp");
    let running = dir.path().join("app.jar");
    std::fs::copy(build("base"), &running).expect("copy");
    let port = free_port();
    let mut argv = java_cmd("jdk-httpserver", "v1", port, &[]);
    let i = argv.iter().position(|a| a == "-jar").expect("-jar");
    argv[i + 1] = running.display().to_string();
    let pids = Pids::default();
    let app = Proc::spawn(&argv);
    let pid = app.wait_ready(1, Duration::from_secs(60));
    assert!(get(port, "/").contains("greeting=base"));

    // Written through the same inode, as Maven's jar plugin does; well after the JVM's start (jhot
    // counts a jar written within a second of it as written before the JVM opened it).
    std::thread::sleep(Duration::from_millis(2500));
    let ino = |p: &std::path::Path| std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(p).expect("stat"));
    let before = ino(&running);
    std::fs::write(&running, std::fs::read(build("body")).expect("read")).expect("rewrite");
    assert_eq!(ino(&running), before, "rewritten in place");

    let (out, v) = deploy(pid, &running, &["--dry-run"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(v["decision"], "replace", "{v}");
    let r = &v["plan"]["rewritten_in_place"];
    assert_eq!(r["jars"][0], running.display().to_string(), "{v}");
    assert!(r["not_loaded"].as_u64().unwrap_or(0) > 0, "LazyThing is not loaded: {v}");
    assert!(v["plan"]["reasons"][0].as_str().unwrap_or("").contains("rewritten in place"), "{v}");

    let (out, _) = deploy(pid, &running, &["--mode", "redefine"]);
    assert_eq!(out.code, 7, "{out:?}");
    assert!(out.stdout.contains("rewritten in place"), "{out:?}");
    assert!(alive(pid), "nothing changed");

    let (out, v) = deploy(pid, &running, &[]);
    assert_eq!(out.code, 0, "{out:?}");
    let new_pid = v["replacement"]["new_pid"].as_u64().expect("new pid") as u32;
    pids.add(new_pid);
    assert!(wait_gone(pid, Duration::from_secs(30)), "the old JVM exits");
    assert!(get(port, "/").contains("greeting=body"));
    assert!(get(port, "/lazy").contains("lazy="), "a class loaded after the rebuild loads whole");
}
