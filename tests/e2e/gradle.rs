//! The Gradle plugin (integrations/gradle, plugin id `dev.jhot`) run by a real Gradle — Debian's
//! 4.4.1, the oldest the plugin supports — on the project in tests/gradle/hello: a tiny HTTP
//! server whose jar the test starts, then changes and redeploys with `gradle jar jhotDeploy`: a
//! body change in place, then a structural one by a replacement under load with no failed request.
//! The plugin is built and installed into the local Maven repository by
//! integrations/gradle/install.sh, and Gradle takes it from there (`mavenLocal()`), offline.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
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
    });
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
    // -Pjhot.select would be on Gradle's own command line, so Gradle's JVM would match it: refused.
    let out = project.gradle(&["jhotDiff", "-Pjhot.select=app.jar"]);
    let shown = text(&out);
    assert!(!out.status.success(), "jhotDiff -Pjhot.select succeeded:\n{shown}");
    assert!(shown.contains("Gradle itself would match it"), "{shown}");

    project.write_greeter(GREETER_STRUCTURAL);
    // Plan only: the verdict is printed and the build passes.
    let out = project.gradle(&["jhotDiff", &format!("-Pjhot.pid={pid}")]);
    let shown = text(&out);
    assert!(out.status.success(), "jhotDiff failed:\n{shown}");
    assert!(shown.contains(&format!("jhot: pid {pid}: replace (plan only, nothing changed)")), "{shown}");

    // This time the JVM is named by `select`: its jar's path, unique to this test's directory. In
    // the build script, not as -Pjhot.select: a Gradle JVM with the text on its own command line
    // would match it too (jhot then lists both, exit 2).
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
