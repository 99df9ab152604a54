//! The Maven plugin (integrations/maven, `dev.jhot:jhot-maven-plugin`) in real `mvn` builds of
//! samples/maven-hello against its own running JVM: a body-only change deployed in place by
//! `mvn package jhot:deploy`, a structural change refused by `jhot:diff -Djhot.failOnStructural`
//! and by `jhot:deploy -Djhot.mode=redefine` (naming the class and why), then replaced under load
//! by `mvn package jhot:deploy` (mode auto) with no failed request, and a build that names no
//! JVM failing without touching any, and the jhot binary resolved as a Maven artifact and run
//! only with its SHA-256. Debian's Maven 3.8.7 runs all of it; Apache Maven 3.9.9
//! (unpacked from Maven Central by the system Maven) runs the in-place deploy. The plugin is installed into ~/.m2 once per test process
//! (`make install-integrations` does the same); the first run fetches Maven plugins from Maven
//! Central, later runs use the local repository.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use jhot_loadgen::Mode;

use crate::harness::{
    self, Load, Pids, Proc, alive, assert_no_failures, free_port, get, jhot_bin, lock, output_raw, repo, target_dir,
    wait_gone,
};

/// A `mvn` run: exit code and everything it printed.
struct Mvn {
    code: i32,
    log: String,
}

impl std::fmt::Debug for Mvn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mvn exit {}\n{}", self.code, self.log)
    }
}

fn mvn(dir: &Path, args: &[&str]) -> Mvn {
    mvn_with(Path::new("mvn"), dir, args)
}

fn mvn_with(bin: &Path, dir: &Path, args: &[&str]) -> Mvn {
    mvn_cmd(Command::new(bin), dir, args)
}

fn mvn_cmd(mut cmd: Command, dir: &Path, args: &[&str]) -> Mvn {
    cmd.arg("-B").args(args).current_dir(dir).stdin(std::process::Stdio::null());
    // Maven runs on the machine's JDK (JAVA_HOME from the environment, or `java` on PATH).
    let out = output_raw(&mut cmd, Duration::from_secs(600));
    Mvn {
        code: out.status.code().unwrap_or(-1),
        log: format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)),
    }
}

/// `mvn install` of the plugin and the shared core it shades in, once per test process.
fn install_plugin() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let out = mvn(&repo().join("integrations"), &["-q", "install", "-pl", "core,maven"]);
        assert_eq!(out.code, 0, "installing the Maven plugin failed: {out:?}");
    });
}

/// Apache Maven 3.9.9, unpacked once from its Maven Central artifact by the system Maven (cached in
/// the local repository, so later runs are offline).
fn maven_3_9() -> PathBuf {
    static HOME: OnceLock<PathBuf> = OnceLock::new();
    HOME.get_or_init(|| {
        let dir = target_dir().join("maven-e2e").join("maven-3.9.9");
        let bin = dir.join("apache-maven-3.9.9/bin/mvn");
        if !bin.is_file() {
            fs::create_dir_all(&dir).expect("mkdir");
            let out = mvn(
                &dir,
                &[
                    "-q",
                    "org.apache.maven.plugins:maven-dependency-plugin:3.8.1:unpack",
                    "-Dartifact=org.apache.maven:apache-maven:3.9.9:tar.gz:bin",
                    &format!("-DoutputDirectory={}", dir.display()),
                ],
            );
            assert_eq!(out.code, 0, "fetching Maven 3.9.9 failed: {out:?}");
        }
        assert!(bin.is_file(), "{} was not unpacked", bin.display());
        bin
    })
    .clone()
}

/// A fresh copy of samples/maven-hello (the tests edit its sources), built by `mvn package`.
fn project(name: &str) -> PathBuf {
    install_plugin();
    let dir = target_dir().join("maven-e2e").join(name);
    let _ = fs::remove_dir_all(&dir);
    copy_dir(&harness::samples_dir().join("maven-hello"), &dir);
    let out = mvn(&dir, &["-q", "package"]);
    assert_eq!(out.code, 0, "{out:?}");
    dir
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        if e.file_name() == "target" {
            continue;
        }
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// The project's jar, started on JDK 17; returns the process and its pid.
fn start(dir: &Path, port: u16) -> (Proc, u32) {
    let argv = vec![
        harness::jdk(17).java().display().to_string(),
        "-Xmx64m".into(),
        "-XX:TieredStopAtLevel=1".into(),
        "-jar".into(),
        dir.join("target/maven-hello.jar").display().to_string(),
        format!("--port={port}"),
    ];
    let p = Proc::spawn(&argv);
    let pid = p.wait_ready(1, Duration::from_secs(60));
    (p, pid)
}

fn greeter(dir: &Path) -> PathBuf {
    dir.join("src/main/java/jhot/sample/maven/Greeter.java")
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).expect("read");
    assert!(text.contains(from), "{} has no {from:?}", path.display());
    fs::write(path, text.replacen(from, to, 1)).expect("write");
}

fn exe() -> String {
    format!("-Djhot.executable={}", jhot_bin().display())
}

/// A field added to Greeter: a change no redefinition can make.
fn make_structural(dir: &Path) {
    edit(
        &greeter(dir),
        "    public static String greeting() {",
        "    public static int calls;\n\n    public static String greeting() {\n        calls++;",
    );
    edit(&greeter(dir), "greeting=v2", "greeting=v3");
}

/// The pid after "replaced pid OLD by pid " in a plugin's log.
pub(crate) fn replaced_by(log: &str, old: u32) -> Option<u32> {
    let needle = format!("replaced pid {old} by pid ");
    let at = log.find(&needle)? + needle.len();
    let digits: String = log[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One JVM for the whole cycle (a JVM start and a package are most of a step's time): a body
/// change in place, a structural one refused by `jhot:diff` and by mode=redefine, then replaced
/// in mode auto under load.
#[test]
fn body_change_in_place_structural_change_refused_then_replaced_under_load() {
    let _g = lock();
    // Declared before the server, so dropped after it: the successor is stopped by pid.
    let pids = Pids::default();
    let dir = project("deploy");
    let port = free_port();
    let (app, pid) = start(&dir, port);
    assert!(get(port, "/").contains("greeting=v1"));

    edit(&greeter(&dir), "greeting=v1", "greeting=v2");
    let out = mvn(&dir, &["package", "jhot:deploy", &format!("-Djhot.pid={pid}"), &exe()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.log.contains("jhot.sample.maven.Greeter: body_only"), "the plan is in the log: {out:?}");
    assert!(out.log.contains("redefined 1 class(es)"), "{out:?}");
    assert!(alive(pid), "same process");
    assert!(get(port, "/").contains("greeting=v2"), "the new code answers");

    make_structural(&dir);
    let out = mvn(&dir, &["compile", "jhot:diff", &format!("-Djhot.pid={pid}"), "-Djhot.failOnStructural", &exe()]);
    assert_ne!(out.code, 0, "a structural change fails the build: {out:?}");
    assert!(out.log.contains("needs a process replacement"), "{out:?}");
    assert!(out.log.contains("jhot.sample.maven.Greeter (structural)"), "names the class: {out:?}");
    assert!(out.log.contains("field added"), "says why: {out:?}");

    // Without failOnStructural the plan is only reported.
    let out = mvn(&dir, &["jhot:diff", &format!("-Djhot.pid={pid}"), &exe()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.log.contains(&format!("jhot: pid {pid}: replace (plan only, nothing changed)")), "{out:?}");

    // jhot:deploy with mode=redefine (target/classes: package did not run) is refused: exit 7.
    let out = mvn(&dir, &["jhot:deploy", &format!("-Djhot.pid={pid}"), "-Djhot.mode=redefine", &exe()]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.log.contains("jhot exit code 7"), "{out:?}");
    assert!(out.log.contains("rejected"), "{out:?}");
    assert!(out.log.contains("jhot.sample.maven.Greeter (structural)"), "{out:?}");
    assert!(out.log.contains("field added: public static int calls"), "{out:?}");

    assert!(alive(pid));
    assert!(get(port, "/").contains("greeting=v2"), "nothing was changed");

    // Mode auto: the same structural build goes in by a replacement, under load. The successor is
    // started by jhot with the old command line (the jar `package` just rewrote) and inherits the
    // old process's stdout, so its READY line arrives on `app`'s pipe.
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    std::thread::sleep(Duration::from_millis(500));
    let out = mvn(&dir, &["package", "jhot:deploy", &format!("-Djhot.pid={pid}"), &exe()]);
    let new_pid = replaced_by(&out.log, pid);
    if let Some(p) = new_pid {
        pids.add(p);
    }
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.log.contains("jhot.sample.maven.Greeter: structural"), "the plan is in the log: {out:?}");
    let new_pid = new_pid.unwrap_or_else(|| panic!("no \"replaced pid {pid} by pid N\" in the log: {out:?}"));
    assert_ne!(new_pid, pid);
    assert!(wait_gone(pid, Duration::from_secs(5)), "the old process {pid} is still running");
    assert!(alive(new_pid), "the successor exited:\n{}", app.stderr());
    std::thread::sleep(Duration::from_millis(300));
    let close = close.finish();
    assert_no_failures(&close, "Connection: close clients across `mvn package jhot:deploy` of a structural change");
    assert!(get(port, "/").contains("greeting=v3"), "the new code answers");
    assert_eq!(app.wait_ready(2, Duration::from_secs(5)), new_pid, "the successor printed READY on the old stdout");
}

#[test]
fn maven_3_9_deploys_a_body_change_in_place() {
    let _g = lock();
    let m39 = maven_3_9();
    let version = mvn_with(&m39, &repo(), &["-v"]);
    assert!(version.log.contains("Apache Maven 3.9.9"), "{version:?}");
    let dir = project("maven-3.9");
    let port = free_port();
    let (_app, pid) = start(&dir, port);
    assert!(get(port, "/").contains("greeting=v1"));
    edit(&greeter(&dir), "greeting=v1", "greeting=v2");
    let out = mvn_with(&m39, &dir, &["package", "jhot:deploy", &format!("-Djhot.pid={pid}"), &exe()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.log.contains("redefined 1 class(es)"), "{out:?}");
    // Maven 3.9's plugin validation finds nothing to say (Maven's artifacts are `provided`).
    assert!(!out.log.contains("Plugin validation"), "{out:?}");
    assert!(alive(pid), "same process");
    assert!(get(port, "/").contains("greeting=v2"));
}

/// Without jhot.executable and with no jhot on PATH, the plugin resolves `dev.jhot:jhot:exe`
/// through Maven and runs it only if its SHA-256 is the expected one.
#[test]
fn artifact_binary_runs_only_with_its_sha256() {
    let _g = lock();
    let version = "0.0.0-e2e";
    let bin = jhot_bin();
    let sum = Command::new("sha256sum").arg(&bin).output().expect("sha256sum");
    let sha = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().expect("a digest").to_string();
    let dir = project("artifact");
    let out = mvn(
        &dir,
        &[
            "-q",
            "install:install-file",
            &format!("-Dfile={}", bin.display()),
            "-DgroupId=dev.jhot",
            "-DartifactId=jhot",
            &format!("-Dversion={version}"),
            "-Dpackaging=exe",
            "-Dclassifier=linux-x86_64",
            "-DgeneratePom=true",
        ],
    );
    assert_eq!(out.code, 0, "{out:?}");
    let port = free_port();
    let (_app, pid) = start(&dir, port);
    assert!(get(port, "/").contains("greeting=v1"));

    let run = |digest: &str| {
        let mut cmd = Command::new("mvn");
        // Only the system's directories: no jhot on PATH.
        cmd.env("PATH", "/usr/bin:/bin");
        mvn_cmd(
            cmd,
            &dir,
            &[
                "jhot:diff",
                &format!("-Djhot.pid={pid}"),
                &format!("-Djhot.version={version}"),
                &format!("-Djhot.sha256={digest}"),
            ],
        )
    };
    let wrong: String = sha.chars().rev().collect();
    let out = run(&wrong);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.log.contains("not running it"), "{out:?}");
    let out = run(&sha);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.log.contains("using the verified artifact binary"), "{out:?}");
    assert!(out.log.contains(&format!("jhot: pid {pid}: nothing (plan only")), "{out:?}");
}

#[test]
fn no_jvm_named_is_a_failure_not_a_guess() {
    let _g = lock();
    let dir = project("no-target");
    let out = mvn(&dir, &["jhot:deploy", &exe()]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.log.contains("never picks a JVM by guessing"), "{out:?}");

    let out = mvn(&dir, &["jhot:deploy", "-Djhot.pid=1", "-Djhot.select=x", &exe()]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.log.contains("set only one of"), "{out:?}");

    let out = mvn(&dir, &["jhot:deploy", "-Djhot.pid=1", "-Djhot.skip", &exe()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.log.contains("skipped (jhot.skip)"), "{out:?}");
}
