//! `jhot shell`: in a real terminal (tmux: typing, Tab, history, Ctrl-C, Ctrl-D, colours), in
//! scripts (-c, -f, stdin; stopping at the first failure with its code), with pipes and
//! redirections to local commands, `--select`, and the JVM going away under it.

use std::path::Path;
use std::time::Duration;

use crate::harness::{self, App, Terminal, helper_jvms, jhot, jhot_bin, one_helper_at_a_time, output};

const SHORT: Duration = Duration::from_secs(20);

fn shell_env(state: &Path) -> Vec<(&'static str, &Path)> {
    vec![("XDG_STATE_HOME", state), ("HOME", state)]
}

#[test]
fn terminal_completes_recalls_history_and_leaves_with_ctrl_d() {
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    let pid = app.pid().to_string();
    let state = tempfile::tempdir().expect("state dir");
    let bin = jhot_bin();
    let prompt = format!("jhot@{pid} Main>");

    let term = Terminal::start(&[bin.to_str().unwrap(), "shell", &pid], &shell_env(state.path()));
    term.wait_for(&prompt, SHORT);
    // The prompt is coloured on a terminal.
    let coloured = term.screen_with(true);
    let line = coloured.lines().find(|l| l.contains(&prompt)).unwrap_or_default();
    assert!(line.contains("\u{1b}["), "the prompt is not coloured on a terminal: {line:?}");

    // Tab completes a command name; its hint (the arguments) shows after the space.
    term.type_text("hist");
    term.keys(&["Tab"]);
    term.wait_for(&format!("{prompt} history"), SHORT);
    term.keys(&["Enter"]);
    term.wait_for(&format!("jhot has changed nothing in JVM {pid}"), SHORT);

    // A command with a class file: applied in the shell's JVM, with the same output as outside.
    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    term.type_text(&format!("redefine {}", patch.display()));
    term.keys(&["Enter"]);
    term.wait_for(&format!("in JVM {pid}"), SHORT);
    assert!(app.wait_for("/", "Hello from v2", SHORT), "the redefinition typed in the shell did not apply");

    // Up recalls the last command.
    term.keys(&["Up"]);
    term.wait_until(|s| s.lines().last_non_empty().is_some_and(|l| l.contains("redefine ")), SHORT)
        .unwrap_or_else(|s| panic!("Up did not recall the last command:\n{s}"));
    term.keys(&["C-u"]);
    // Ctrl-C at the prompt clears the line and stays in the shell.
    term.type_text("some half-typed line");
    term.keys(&["C-c"]);
    term.type_text("rollback");
    term.keys(&["Enter"]);
    term.wait_for("rolled back 1 class(es)", SHORT);
    assert!(app.wait_for("/", "Hello from v1", SHORT));

    term.keys(&["C-d"]);
    assert_eq!(term.exit_status(SHORT), Some(0), "Ctrl-D did not leave the shell:\n{}", term.screen());

    // The history was kept on this side, in the user's state directory, private.
    let file = state.path().join("jhot/history");
    let text = std::fs::read_to_string(&file).expect("history file");
    assert!(text.contains("rollback") && text.contains("redefine "), "{text}");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o077, 0, "the history file is not private");

    // A new shell recalls it; `exit 3` leaves with that code.
    let term = Terminal::start(&[bin.to_str().unwrap(), "shell", &pid], &shell_env(state.path()));
    term.wait_for(&prompt, SHORT);
    term.keys(&["Up"]);
    term.wait_until(|s| s.lines().last_non_empty().is_some_and(|l| l.contains("rollback")), SHORT)
        .unwrap_or_else(|s| panic!("the history of the last shell was not recalled:\n{s}"));
    term.keys(&["C-u"]);
    term.type_text("exit 3");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(SHORT), Some(3));
}

/// Ctrl-C during a long command stops it in the agent too, and the shell stays.
#[test]
fn ctrl_c_cancels_the_running_command_and_the_shell_stays() {
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    let pid = app.pid();
    let state = tempfile::tempdir().expect("state dir");
    let bin = jhot_bin();
    let prompt = format!("jhot@{pid} Main>");
    let term = Terminal::start(&[bin.to_str().unwrap(), "shell", &pid.to_string()], &shell_env(state.path()));
    term.wait_for(&prompt, SHORT);
    term.type_text("thread -n 3 -i 600000");
    term.keys(&["Enter"]);
    let op_running = || harness::thread_names(pid).iter().any(|n| n == "jhot-agent-op");
    assert!(harness::wait_until(SHORT, op_running), "the agent never started sampling");
    term.keys(&["C-c"]);
    term.wait_for("cancelled: the command was stopped", SHORT);
    assert!(harness::wait_until(SHORT, || !op_running()), "the agent kept sampling after Ctrl-C");
    // Still in the shell, and the agent still answers.
    term.type_text("history");
    term.keys(&["Enter"]);
    term.wait_for(&format!("jhot has changed nothing in JVM {pid}"), SHORT);
    term.type_text("exit");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(SHORT), Some(0));

    // In a script, Ctrl-C (SIGINT) ends the script with the documented code.
    let mut child = harness::jhot_cmd()
        .args(["shell", &pid.to_string(), "-c", "thread -i 600000; history"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start jhot shell");
    assert!(harness::wait_until(SHORT, op_running), "the script never started sampling");
    // SAFETY: kill of the child we started, by its pid.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let done = harness::wait_until(SHORT, || child.try_wait().ok().flatten().is_some());
    if !done {
        let _ = child.kill();
    }
    let out = child.wait_with_output().expect("wait for jhot shell");
    assert_eq!(out.status.code(), Some(10), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!String::from_utf8_lossy(&out.stdout).contains("jhot has changed nothing"), "the script went on");
}

#[test]
fn the_jvm_exiting_ends_the_shell_with_code_8() {
    let jdk = harness::jdk(17);
    let mut app = App::start(&jdk, &[]);
    let pid = app.pid().to_string();
    let state = tempfile::tempdir().expect("state dir");
    let bin = jhot_bin();
    let term = Terminal::start(&[bin.to_str().unwrap(), "shell", &pid], &shell_env(state.path()));
    term.wait_for(&format!("jhot@{pid}"), SHORT);
    app.stop(Duration::from_secs(5));
    term.wait_for(&format!("JVM {pid} has exited; leaving the shell"), SHORT);
    assert_eq!(term.exit_status(SHORT), Some(8), "{}", term.screen());
}

#[test]
fn scripts_stop_at_the_first_failure_with_its_code() {
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    let pid = app.pid().to_string();

    let out = jhot(&["shell", &pid, "-c", "history; redefine /nonexistent/X.class; history --json"]);
    assert_eq!(out.code, 6, "{out:?}");
    assert_eq!(out.stdout.matches("jhot has changed nothing").count(), 1, "{out:?}");
    assert!(!out.stdout.contains("\"ok\""), "a command after the failure ran: {out:?}");
    assert!(out.stderr.contains("/nonexistent/X.class"), "{out:?}");

    // A script file: comments, blank lines, one command per line, `--json` per command.
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("check.jhot");
    std::fs::write(&script, "# what did jhot change?\n\nhistory --json\ninfo --json\n").unwrap();
    let out = jhot(&["shell", &pid, "-f", script.to_str().unwrap()]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.stdout.matches("\"ok\": true").count(), 2, "{out:?}");
    // Piped output has no colour and no control sequences.
    assert!(!out.stdout.contains('\u{1b}') && !out.stderr.contains('\u{1b}'), "{out:?}");

    // Commands from stdin, as for any shell.
    let input = dir.path().join("stdin.jhot");
    std::fs::write(&input, "history\nnosuchcommand\nhistory\n").unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.args(["-c", "exec \"$0\" shell \"$1\" < \"$2\""]).arg(jhot_bin()).arg(&pid).arg(&input);
    let out = output(&mut cmd);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("no command `nosuchcommand`; `help` lists them"), "{out:?}");
    assert_eq!(out.stdout.matches("jhot has changed nothing").count(), 1, "{out:?}");

    // A command that cannot be used inside, and bad quoting.
    let out = jhot(&["shell", &pid, "-c", "run -- java -version"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = jhot(&["shell", &pid, "-c", "javap 'hello.Greeter"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("unterminated ' quote"), "{out:?}");
}

#[test]
fn output_goes_through_local_pipes_and_into_files() {
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    let pid = app.pid().to_string();
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("greeter.txt");

    let script = format!(
        "javap hello.Greeter | grep -c 'Hello from v1'; javap hello.Greeter > {f}; info | head -1; history",
        f = file.display()
    );
    assert_eq!(app.get("/").trim(), "Hello from v1"); // loads hello.Greeter
    let out = jhot(&["shell", &pid, "-c", &script]);
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.first().copied(), Some("1"), "grep did not count the string in javap's output: {out:?}");
    let written = std::fs::read_to_string(&file).expect("the redirected output");
    assert!(written.contains("hello.Greeter") && written.contains("Hello from v1"), "{written}");
    // `head` closed its pipe early: the shell went on with the next command.
    assert!(out.stdout.contains("jhot has changed nothing"), "{out:?}");

    // A local command that fails fails the statement (and so the script), with its code.
    let out = jhot(&["shell", &pid, "-c", "history | grep -q no-such-text; history"]);
    assert_eq!(out.code, 1, "{out:?}");
}

#[test]
fn select_names_exactly_one_jvm() {
    let jdk = harness::jdk(17);
    // Other tests run hello.Main too: a word of this test's own marks its two JVMs.
    let mark = format!("jhot.test.select={}", std::process::id());
    let a = App::start(&jdk, &[&format!("-D{mark}")]);
    let out = jhot(&["shell", "--select", "no-such-jvm-anywhere", "-c", "history"]);
    assert_eq!(out.code, 3, "{out:?}");
    assert!(out.stderr.contains("no JVM matches --select"), "{out:?}");

    let b = App::start(&jdk, &[&format!("-D{mark}")]);
    // Both have it on their command line: ambiguous, and both are listed.
    let out = jhot(&["shell", "--select", &mark, "-c", "history"]);
    assert_eq!(out.code, 2, "{out:?}");
    for p in [a.pid(), b.pid()] {
        assert!(out.stderr.contains(&p.to_string()), "pid {p} is not listed: {out:?}");
    }
    drop(b);
    let out = jhot(&["shell", "--select", &mark, "-c", "history"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains(&format!("JVM {}", a.pid())), "{out:?}");
}

/// `jhot shell` on `app` in a terminal of its own, at its prompt; with the prompt's text and the
/// state directory the terminal's environment points at (kept alive with it).
fn shell_on(app: &App) -> (Terminal, String, tempfile::TempDir) {
    let pid = app.pid().to_string();
    let state = tempfile::tempdir().expect("state dir");
    let prompt = format!("jhot@{pid} Main>");
    let term = Terminal::start(&[jhot_bin().to_str().unwrap(), "shell", &pid], &shell_env(state.path()));
    term.wait_for(&prompt, SHORT);
    (term, prompt, state)
}

/// Types `typed` and Tab until the prompt's line reads `completed` (the class index arrives in the
/// background), the line left as completed; `Err(screen)` if it never does within SHORT.
fn tab_completes(term: &Terminal, prompt: &str, typed: &str, completed: &str) -> Result<(), String> {
    let completed = format!("{prompt} {completed}");
    let shown = term.wait_until(
        |_| {
            term.keys(&["C-u"]);
            term.type_text(typed);
            term.keys(&["Tab"]);
            std::thread::sleep(Duration::from_millis(300));
            term.screen().lines().last_non_empty().is_some_and(|l| l.contains(&completed))
        },
        SHORT,
    );
    shown.map(|_| ())
}

trait LastNonEmpty<'a> {
    fn last_non_empty(self) -> Option<&'a str>;
}

impl<'a, I: DoubleEndedIterator<Item = &'a str>> LastNonEmpty<'a> for I {
    fn last_non_empty(mut self) -> Option<&'a str> {
        self.rfind(|l| !l.trim().is_empty())
    }
}

/// The hot-fix commands in one shell script per JDK, in one agent session and one helper JVM:
/// find the class, read it, decompile it (with an anonymous class that never ran), dump it, compile
/// an edited copy, apply it, check a static, see the threads, undo it.
fn hot_fix_script(feature: u32) {
    let _one = one_helper_at_a_time();
    let app = App::start(&harness::jdk(feature), harness::LIGHT_JVM_ARGS);
    let pid = app.pid().to_string();
    assert_eq!(app.get("/lazy").trim(), "lazy v1"); // loads hello.Lazy
    assert_eq!(app.get("/").trim(), "Hello from v1"); // loads hello.Greeter
    let dir = tempfile::tempdir().expect("tmp");
    let d = dir.path().display();

    // jad's source of hello.Lazy, edited, for mc.
    let out = jhot(&["shell", &pid, "-c", &format!("jad hello.Lazy --source-only > {d}/Lazy.java")]);
    assert_eq!(out.code, 0, "JDK {feature}: {out:?}");
    let src = std::fs::read_to_string(dir.path().join("Lazy.java")).expect("jad's output");
    std::fs::write(dir.path().join("Lazy.java"), src.replace("lazy v1", "lazy shell")).expect("edit");

    let script = format!(
        "sc hello.* | grep -c Routes.Response\n\
         sm hello.Greeter greet\n\
         classloader\n\
         jad hello.Routes\n\
         dump hello.Greeter -d {d}/dump\n\
         mc {d}/Lazy.java -d {d}/out\n\
         redefine {d}/out\n\
         getstatic hello.Greeter GREETINGS\n\
         thread -n 2\n\
         history\n\
         rollback\n"
    );
    let out = jhot(&["shell", &pid, "-c", &script]);
    assert_eq!(out.code, 0, "JDK {feature}: {out:?}");
    let o = &out.stdout;
    assert_eq!(o.lines().next(), Some("1"), "JDK {feature}: sc | grep: {o}");
    assert!(o.contains("public static String greet()"), "JDK {feature}: sm: {o}");
    assert!(o.contains("app (0x") && o.contains("platform"), "JDK {feature}: classloader: {o}");
    // jad: the body's literal, and the anonymous class nobody requested (hello.Routes$1).
    assert!(o.contains("Routes$1 (not loaded)"), "JDK {feature}: jad did not find the never-loaded class: {o}");
    assert!(dir.path().join("dump/hello/Greeter.class").is_file(), "JDK {feature}: dump: {o}");
    assert!(dir.path().join("out/hello/Lazy.class").is_file(), "JDK {feature}: mc: {o}");
    assert!(o.contains("redefined 1 class(es)"), "JDK {feature}: redefine: {o}");
    assert!(o.contains("GREETINGS"), "JDK {feature}: getstatic: {o}");
    assert!(o.contains("rolled back"), "JDK {feature}: rollback: {o}");
    assert_eq!(app.get("/lazy").trim(), "lazy v1", "JDK {feature}: the rollback did not restore hello.Lazy");
    assert!(helper_jvms().is_empty(), "the shell's helper JVM outlived it: {:?}", helper_jvms());

    // Bad input inside the shell: a class that is not loaded, a pattern that matches nothing.
    let out = jhot(&["shell", &pid, "-c", "jad hello.NoSuchClass"]);
    assert_eq!(out.code, 6, "{out:?}");
    let out = jhot(&["shell", &pid, "-c", "sc com.nothing.*"]);
    assert_eq!(out.code, 6, "{out:?}");
}

#[test]
fn hot_fix_script_jdk11() {
    hot_fix_script(11);
}

#[test]
fn hot_fix_script_jdk17() {
    hot_fix_script(17);
}

#[test]
fn hot_fix_script_jdk21() {
    hot_fix_script(21);
}

#[test]
fn hot_fix_script_jdk25() {
    hot_fix_script(25);
}

/// In a terminal: Tab completes a class name from the JVM's loaded classes (by its simple name),
/// and `edit` asks before it applies.
#[test]
fn terminal_completes_class_names_and_edit_asks_first() {
    let _one = one_helper_at_a_time();
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let pid = app.pid().to_string();
    let state = tempfile::tempdir().expect("state dir");
    let editor = state.path().join("ed.sh");
    std::fs::write(&editor, "#!/bin/sh\nsed -i 's/lazy v1/lazy from the terminal/' \"$1\"\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&editor, std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = jhot_bin();
    let mut env = shell_env(state.path());
    env.push(("EDITOR", editor.as_path()));
    let prompt = format!("jhot@{pid} Main>");
    let term = Terminal::start(&[bin.to_str().unwrap(), "shell", &pid], &env);
    term.wait_for(&prompt, SHORT);

    // The index arrives in the background; a simple name completes to the whole class name, and
    // a package prefix to the class in it.
    for (typed, completed) in [("sc Greet", "sc hello.Greeter"), ("edit hello.La", "edit hello.Lazy")] {
        let shown = tab_completes(&term, &prompt, typed, completed);
        assert!(shown.is_ok(), "Tab did not complete {typed:?}: {}", shown.unwrap_err());
    }
    term.keys(&["Enter"]);
    term.wait_for("Apply to JVM", SHORT);
    assert_eq!(app.get("/lazy").trim(), "lazy v1", "applied before the answer");
    term.type_text("y");
    term.keys(&["Enter"]);
    term.wait_for("redefined 1 class(es)", SHORT);
    assert_eq!(app.get("/lazy").trim(), "lazy from the terminal");
    term.type_text("exit");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(SHORT), Some(0), "{}", term.screen());
    assert!(helper_jvms().is_empty(), "{:?}", helper_jvms());
}

/// Every redefinition moves the JVM's loaded-class counter, and the shell asks the agent whether
/// a class was defined since its list rather than for the list again. A class that loads after a
/// `redefine` must still reach the completion.
#[test]
fn a_class_loaded_after_a_redefine_completes() {
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    assert_eq!(app.get("/").trim(), "Hello from v1"); // hello.Greeter loads; hello.Lazy does not
    let (term, prompt, _state) = shell_on(&app);
    let completes = |typed: &str, completed: &str| {
        let shown = tab_completes(&term, &prompt, typed, completed);
        term.keys(&["C-u"]);
        shown.is_ok()
    };
    // The index is in: hello.Greeter completes; hello.Lazy has not loaded yet.
    assert!(completes("sc hello.Gree", "sc hello.Greeter"), "{}", term.screen());
    term.type_text("sc hello.La");
    term.keys(&["Tab"]);
    std::thread::sleep(Duration::from_millis(500));
    let line = term.screen().lines().last_non_empty().unwrap_or_default().to_string();
    assert!(!line.contains("hello.Lazy"), "hello.Lazy completes before it has loaded: {line}");
    term.keys(&["C-u"]);

    // Redefinitions move the counter; nothing new is defined. A second apart, so that a list the
    // agent can vouch for (no definition in the second before it) is in before the last one,
    // which is then answered "unchanged".
    for patch in [harness::patch_classes("body"), harness::sample_classes(), harness::patch_classes("body")] {
        term.type_text(&format!("redefine {}", patch.join("hello/Greeter.class").display()));
        term.keys(&["Enter"]);
        term.wait_for("redefined 1 class(es)", SHORT);
        term.keys(&["C-l"]);
        std::thread::sleep(Duration::from_millis(1200));
    }
    assert_eq!(app.get("/").trim(), "Hello from v2");

    // Now a class loads in the JVM; the next command's refresh must bring it.
    assert_eq!(app.get("/lazy").trim(), "lazy v1");
    let shown = term.wait_until(
        |_| {
            term.type_text("history");
            term.keys(&["Enter"]);
            std::thread::sleep(Duration::from_millis(300));
            completes("sc hello.La", "sc hello.Lazy")
        },
        SHORT,
    );
    assert!(shown.is_ok(), "hello.Lazy, loaded after the redefinitions, does not complete: {}", shown.unwrap_err());
    term.type_text("exit");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(SHORT), Some(0), "{}", term.screen());
}

/// The agent closes a connection idle for a minute. The shell keeps its connection between
/// commands, and a command typed after a longer pause connects afresh instead of failing on the
/// closed one ("Broken pipe", before).
#[test]
fn a_command_after_a_minute_at_the_prompt_still_reaches_the_agent() {
    let jdk = harness::jdk(17);
    let app = App::start(&jdk, &[]);
    assert_eq!(app.get("/").trim(), "Hello from v1");
    let pid = app.pid().to_string();
    let (term, _prompt, _state) = shell_on(&app);
    term.type_text("history");
    term.keys(&["Enter"]);
    term.wait_for(&format!("jhot has changed nothing in JVM {pid}"), SHORT);

    std::thread::sleep(Duration::from_secs(62)); // past the agent's idle limit of 60 s
    term.keys(&["C-l"]);
    let patch = harness::patch_classes("body").join("hello/Greeter.class");
    term.type_text(&format!("redefine {}", patch.display()));
    term.keys(&["Enter"]);
    let shown = term.wait_until(|s| s.contains("redefined 1 class(es)") || s.contains("error:"), SHORT);
    assert!(shown.as_ref().is_ok_and(|s| s.contains("redefined 1 class(es)")), "{shown:?}");
    assert!(app.wait_for("/", "Hello from v2", SHORT));
    term.type_text("exit");
    term.keys(&["Enter"]);
    assert_eq!(term.exit_status(SHORT), Some(0), "{}", term.screen());
}

/// After `replace` in the shell, the shell works on the new process.
#[test]
fn the_shell_follows_a_replacement() {
    let _g = harness::lock();
    let pids = harness::Pids::default();
    let port = harness::free_port();
    let server = harness::Proc::spawn(&harness::java_cmd("jdk-httpserver", "v1", port, &[]));
    let old = server.wait_ready(1, Duration::from_secs(60));
    let jar = harness::jar("jdk-httpserver", "v2");
    let script = format!("replace --jar {} --json; info --json", jar.display());
    let out = jhot(&["shell", &old.to_string(), "-c", &script]);
    assert_eq!(out.code, 0, "{out:?}");
    let docs: Vec<serde_json::Value> =
        serde_json::Deserializer::from_str(&out.stdout).into_iter().collect::<Result<_, _>>().expect("two documents");
    let new = docs[0]["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new);
    assert_ne!(new, old);
    assert_eq!(docs[1]["pid"].as_u64(), Some(u64::from(new)), "info ran on the old process: {}", docs[1]);
    assert!(out.stderr.contains(&format!("the shell now works on the new process, JVM {new}")), "{out:?}");
    assert!(harness::get(port, "/").contains("hello from v2"));
}
