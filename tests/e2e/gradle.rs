//! The Gradle plugin (integrations/gradle, plugin id `dev.jhot`) run by a real Gradle — Debian's
//! 4.4.1, the oldest the plugin supports — on the project in tests/gradle/hello: a tiny HTTP
//! server whose jar the test starts, then changes and redeploys with `gradle jar jhotDeploy`: a
//! body change in place, then a structural one by a replacement under load with no failed request.
//! The plugin is built and installed into the local Maven repository by
//! integrations/gradle/install.sh, then copied into a repository of the test run's own, which
//! Gradle takes as `mavenLocal()` (-Dmaven.repo.local), offline.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use jhot_loadgen::Mode;

use crate::harness::{
    self, Load, Pids, Proc, alive, assert_no_failures, free_port, http_get, jhot_bin, lock, output_raw, repo,
    target_dir, wait_gone,
};

/// A Gradle run's bound: a cold Gradle 4.4 start and a compile take about 20 s on 2 busy cores.
const GRADLE_TIMEOUT: Duration = Duration::from_secs(300);

const GREETER_V2: &str = "package demo;\n\npublic class Greeter {\n    public static String greet() {\n        return \"hello v2\";\n    }\n}\n";

/// A field and a method added: a change no running JVM can take.
const GREETER_STRUCTURAL: &str = "package demo;\n\npublic class Greeter {\n    private static int greeted;\n\n    \
    public static String greet() {\n        greeted++;\n        return \"hello v3 #\" + count();\n    }\n\n    \
    static int count() {\n        return greeted;\n    }\n}\n";

fn install_plugin() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let out = output_raw(
            Command::new("bash").arg(repo().join("integrations/gradle/install.sh")),
            Duration::from_secs(600),
        );
        assert!(out.status.success(), "integrations/gradle/install.sh failed:\n{}", text(&out));
        // Gradle reads the plugin from a repository of this test run's own (-Dmaven.repo.local):
        // ~/.m2 is shared with every other checkout on the machine, whose tests install theirs.
        let built = repo().join("integrations/gradle/target");
        let _ = fs::remove_dir_all(plugin_repo());
        let out = mvn_install_file(&[
            format!("-Dfile={}", built.join("jhot-gradle-plugin-0.1.0.jar").display()),
            format!("-DpomFile={}", built.join("dependency-reduced-pom.xml").display()),
        ]);
        assert!(out.status.success(), "installing the plugin into {} failed:\n{}", plugin_repo().display(), text(&out));
    });
}

/// The local Maven repository the tests' Gradle builds use.
fn plugin_repo() -> PathBuf {
    target_dir().join("gradle-e2e-m2")
}

/// `mvn install:install-file <args>` into [`plugin_repo`].
fn mvn_install_file(args: &[String]) -> Output {
    output_raw(
        Command::new("mvn")
            .current_dir(target_dir())
            .stdin(Stdio::null())
            .args(["-B", "-q", "install:install-file"])
            .arg(format!("-DlocalRepositoryPath={}", plugin_repo().display()))
            .args(args),
        Duration::from_secs(600),
    )
}

fn gradle_bin() -> PathBuf {
    let found = std::env::var_os("PATH")
        .and_then(|p| std::env::split_paths(&p).map(|d| d.join("gradle")).find(|g| g.is_file()));
    found.expect("gradle is not installed: scripts/test.sh installs Debian's (apt-get install gradle)")
}

/// A copy of tests/gradle/hello in a fresh directory, with its own Gradle user home.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        install_plugin();
        let dir = tempfile::Builder::new().prefix("gradle-hello-").tempdir_in(target_dir()).expect("temp dir");
        copy_tree(&repo().join("tests/gradle/hello"), dir.path());
        Project { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write_greeter(&self, source: &str) {
        fs::write(self.path().join("src/main/java/demo/Greeter.java"), source).expect("write Greeter.java");
    }

    /// `gradle --offline --no-daemon <args>` in the project, on JDK 17 (what Debian's 4.4.1 runs on).
    fn gradle(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(gradle_bin());
        cmd.current_dir(self.path())
            .env("JAVA_HOME", harness::jdk(17).home)
            .arg("--offline")
            .arg("--no-daemon")
            .arg("--console=plain")
            .arg("-g")
            .arg(self.path().join(".gradle-home"))
            .arg(format!("-Dmaven.repo.local={}", plugin_repo().display()))
            .arg(format!("-Pjhot.executable={}", jhot_bin().display()))
            .args(args);
        output_raw(&mut cmd, GRADLE_TIMEOUT)
    }

    /// Builds the jar and starts it from a copy (as a server runs its deployed jar, not the build
    /// directory the next build rewrites). Returns the server and its pid.
    fn start_server(&self, port: u16) -> (Proc, u32) {
        let out = self.gradle(&["jar"]);
        assert!(out.status.success(), "gradle jar failed:\n{}", text(&out));
        let run = self.path().join("run");
        fs::create_dir_all(&run).expect("mkdir run");
        fs::copy(self.path().join("build/libs/hello-gradle.jar"), run.join("app.jar")).expect("copy the jar");
        let java = harness::jdk(17).java().display().to_string();
        let argv = [
            java,
            "-Xmx128m".into(),
            "-XX:+UseSerialGC".into(),
            "-jar".into(),
            run.join("app.jar").display().to_string(),
            port.to_string(),
        ];
        let server = Proc::spawn(&argv);
        let pid = server.wait_ready(1, Duration::from_secs(60));
        (server, pid)
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in fs::read_dir(from).unwrap_or_else(|e| panic!("read {}: {e}", from.display())) {
        let entry = entry.expect("dir entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            let name = entry.file_name();
            if name == "build" || name == ".gradle" {
                continue;
            }
            fs::create_dir_all(&target).expect("mkdir");
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// The body of `GET /`, which must answer 200.
fn answer(port: u16) -> String {
    let (status, body) = http_get(port, "/").unwrap_or_else(|e| panic!("GET / on port {port}: {e}"));
    assert_eq!(status, 200, "GET / answered {status}: {body}");
    body
}

fn text(out: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// One server for both steps (a Gradle start, a jar and a JVM start are most of a step's time).
#[test]
fn jhot_deploy_applies_a_body_change_in_place_and_replaces_on_a_structural_one_under_load() {
    let _g = lock();
    // Declared before the server, so dropped after it: the successor is stopped by pid.
    let pids = Pids::default();
    let project = Project::new();
    let port = free_port();
    let (server, pid) = project.start_server(port);
    assert_eq!(answer(port), "hello v1");

    project.write_greeter(GREETER_V2);
    let out = project.gradle(&["jar", "jhotDeploy", &format!("-Pjhot.pid={pid}")]);
    let shown = text(&out);
    assert!(out.status.success(), "gradle jar jhotDeploy failed:\n{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: redefine")), "{shown}");
    assert!(shown.contains("demo.Greeter: body_only"), "{shown}");
    assert!(shown.contains("redefined 1"), "{shown}");

    // The same process answers with the new code.
    assert_eq!(answer(port), "hello v2");
    assert!(alive(pid), "the JVM exited:\n{}", server.stderr());
    assert_eq!(server.pid(), pid);

    // A field and a method added, mode auto: a replacement, under load. jhot starts the successor
    // with the old command line, the build's jar in place of run/app.jar, and the old process's
    // stdout (so its READY line arrives on `server`'s pipe).
    project.write_greeter(GREETER_STRUCTURAL);
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    std::thread::sleep(Duration::from_millis(500));
    let out = project.gradle(&["jar", "jhotDeploy", &format!("-Pjhot.pid={pid}")]);
    let shown = text(&out);
    let new_pid = crate::maven::replaced_by(&shown, pid);
    if let Some(p) = new_pid {
        pids.add(p);
    }
    assert!(out.status.success(), "gradle jar jhotDeploy failed:\n{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: replace")), "{shown}");
    assert!(shown.contains("demo.Greeter: structural"), "{shown}");
    let new_pid = new_pid.unwrap_or_else(|| panic!("no \"replaced pid {pid} by pid N\" in:\n{shown}"));
    assert_ne!(new_pid, pid);
    assert!(wait_gone(pid, Duration::from_secs(5)), "the old process {pid} is still running");
    assert!(alive(new_pid), "the successor exited:\n{}", server.stderr());
    std::thread::sleep(Duration::from_millis(300));
    let close = close.finish();
    assert_no_failures(&close, "Connection: close clients across `gradle jar jhotDeploy` of a structural change");
    // The successor has counted every request of the load since it took over.
    let body = answer(port);
    assert!(body.starts_with("hello v3 #"), "the new code answers: {body}");
    assert_eq!(server.wait_ready(2, Duration::from_secs(5)), new_pid, "the successor printed READY on the old stdout");
}

#[test]
fn jhot_diff_by_select_with_fail_on_structural_fails_the_build_and_changes_nothing() {
    let _g = lock();
    let project = Project::new();
    let port = free_port();
    let (server, pid) = project.start_server(port);
    // Greeter loads with the first request; before it, a change to it is `pending`, not structural.
    assert_eq!(answer(port), "hello v1");

    // Which JVM is never guessed: without a target the task fails before running jhot.
    let out = project.gradle(&["jhotDiff"]);
    let shown = text(&out);
    assert!(!out.status.success(), "jhotDiff without a target succeeded:\n{shown}");
    assert!(shown.contains("the plugin never guesses"), "{shown}");

    project.write_greeter(GREETER_STRUCTURAL);
    // Plan only: the verdict is printed and the build passes.
    let out = project.gradle(&["jhotDiff", &format!("-Pjhot.pid={pid}")]);
    let shown = text(&out);
    assert!(out.status.success(), "jhotDiff failed:\n{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: replace (plan only, nothing changed)")), "{shown}");

    // This time the JVM is named by `select` in the build script: its jar's path, unique to this
    // test's directory (-Pjhot.select works too: select_on_the_command_line_picks_the_app_not_gradle).
    let script = project.path().join("build.gradle");
    let mut gradle_build = fs::read_to_string(&script).expect("read build.gradle");
    gradle_build.push_str(&format!("\njhot {{ select = '{}' }}\n", project.path().join("run/app.jar").display()));
    fs::write(&script, gradle_build).expect("write build.gradle");
    let out = project.gradle(&["jhotDiff", "-Pjhot.failOnStructural=true"]);
    let shown = text(&out);
    assert!(!out.status.success(), "jhotDiff -Pjhot.failOnStructural=true succeeded:\n{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: replace (plan only, nothing changed)")), "{shown}");
    assert!(shown.contains("this build needs a process replacement (jhot.failOnStructural)"), "{shown}");
    assert!(shown.contains("demo.Greeter: structural (field added: private static int greeted"), "{shown}");

    // Nothing changed in the JVM.
    assert_eq!(answer(port), "hello v1");
    assert!(alive(pid), "the JVM exited:\n{}", server.stderr());
}

/// `-Pjhot.select=TEXT` puts TEXT on the Gradle client's command line, but jhot's --select passes
/// over its own ancestors (the Gradle JVMs that run it) and over a command line that has the text
/// only in a `jhot.select=` argument; the Gradle build JVM's own command line has no -P values. So
/// the one application JVM is picked.
#[test]
fn select_on_the_command_line_picks_the_app_not_gradle() {
    let _g = lock();
    let project = Project::new();
    let port = free_port();
    let (server, pid) = project.start_server(port);
    assert_eq!(answer(port), "hello v1");

    project.write_greeter(GREETER_V2);
    let jar = project.path().join("run/app.jar");
    let out = project.gradle(&["jar", "jhotDeploy", &format!("-Pjhot.select={}", jar.display())]);
    let shown = text(&out);
    assert!(out.status.success(), "gradle jar jhotDeploy -Pjhot.select failed:\n{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: redefine")), "{shown}");
    assert_eq!(answer(port), "hello v2");
    assert!(alive(pid), "the JVM exited:\n{}", server.stderr());

    // A text that only Gradle's client has (in its -Pjhot.select= argument) matches no JVM: exit 3,
    // not Gradle itself.
    let out = project.gradle(&["jhotDiff", "-Pjhot.select=no-such-app-e2e.jar"]);
    let shown = text(&out);
    assert!(!out.status.success(), "{shown}");
    assert!(shown.contains("no such JVM"), "{shown}");
    assert!(shown.contains("jhot exit code 3"), "{shown}");
}

/// With neither jhot.executable nor jhot on PATH, the plugin resolves `dev.jhot:jhot:<version>:<os>-<arch>@exe`
/// from the build's repositories and runs it only if its SHA-256 is the expected one.
#[test]
fn gradle_artifact_binary_runs_only_with_its_sha256() {
    let _g = lock();
    let version = "0.0.0-e2e";
    let bin = jhot_bin();
    let sum = output_raw(Command::new("sha256sum").arg(&bin), Duration::from_secs(60));
    let sha = String::from_utf8_lossy(&sum.stdout).split_whitespace().next().expect("a digest").to_string();
    let project = Project::new();
    let out = mvn_install_file(&[
        format!("-Dfile={}", bin.display()),
        "-DgroupId=dev.jhot".into(),
        "-DartifactId=jhot".into(),
        format!("-Dversion={version}"),
        "-Dpackaging=exe".into(),
        "-Dclassifier=linux-x86_64".into(),
        "-DgeneratePom=true".into(),
    ]);
    assert!(out.status.success(), "installing the exe artifact failed:\n{}", text(&out));
    // The artifact comes from the project's repositories (the buildscript's are the plugin's).
    let script = project.path().join("build.gradle");
    let mut gradle_build = fs::read_to_string(&script).expect("read build.gradle");
    gradle_build.push_str("\nrepositories { mavenLocal() }\n");
    fs::write(&script, gradle_build).expect("write build.gradle");
    let port = free_port();
    let (_server, pid) = project.start_server(port);

    let run = |digest: &str| {
        let mut cmd = Command::new(gradle_bin());
        cmd.current_dir(project.path())
            .env("JAVA_HOME", harness::jdk(17).home)
            // Only the system's directories: no jhot on PATH.
            .env("PATH", "/usr/bin:/bin")
            .args(["--offline", "--no-daemon", "--console=plain", "-g"])
            .arg(project.path().join(".gradle-home"))
            .arg(format!("-Dmaven.repo.local={}", plugin_repo().display()))
            .args(["jhotDiff", &format!("-Pjhot.pid={pid}"), &format!("-Pjhot.version={version}")])
            .arg(format!("-Pjhot.sha256={digest}"));
        output_raw(&mut cmd, GRADLE_TIMEOUT)
    };
    let wrong: String = sha.chars().rev().collect();
    let out = run(&wrong);
    let shown = text(&out);
    assert!(!out.status.success(), "a binary with another SHA-256 ran:\n{shown}");
    assert!(shown.contains("not running it"), "{shown}");
    let out = run(&sha);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("using the verified artifact binary"), "{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: nothing (plan only, nothing changed)")), "{shown}");
}
