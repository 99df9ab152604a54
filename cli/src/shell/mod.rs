//! `jhot shell PID`: an interactive shell on one JVM. It runs here, in jhot's process, not in the
//! target: a line is split into statements (`line`), each statement is parsed by the same clap
//! [`Cli`] as jhot's own command line with the pid put in after the command's name, and run by the
//! same [`commands::dispatch`]. So a command, its options and its output are the same in both
//! places, and the shell adds only what a shell is: line editing, completion, history, pipes to
//! local commands, scripts, Ctrl-C, and one agent connection kept for its lifetime.

mod complete;
mod index;
mod line;
mod redirect;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use clap::{CommandFactory, Parser};
use jhot_attach::Target;
use jhot_engine::agent;
use jhot_engine::{Error, ExitCode};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::{CompletionType, Config, Editor};

use crate::args::{Cli, ShellArgs};
use crate::commands::{self, Ctx, Kept, Outcome};
use index::ClassNames;
use line::Statement;

/// Whether a jhot command can be used inside the shell (not the shell itself, not `jhot run`,
/// which would make the shell a server's supervisor).
pub fn available(name: &str) -> bool {
    !matches!(name, "shell" | "run" | "help")
}

/// The JVM the shell works on; it changes when a replacement hands the service to a new process.
struct Jvm {
    target: Target,
    /// Main class or jar, for the prompt.
    name: String,
}

impl Jvm {
    fn open(pid: u32) -> Result<Jvm, Error> {
        let target = Target::open(pid)?;
        let name = jhot_attach::discover::probe(pid)
            .ok()
            .and_then(|p| p.main)
            .map(|m| short_name(&m))
            .unwrap_or_else(|| "java".into());
        Ok(Jvm { target, name })
    }

    fn prompt(&self) -> String {
        format!("jhot@{} {}> ", self.target.pid, self.name)
    }
}

/// `com.acme.shop.ShopApplication` → `ShopApplication`; `/opt/app/shop-1.4.jar` → `shop-1.4.jar`.
fn short_name(main: &str) -> String {
    let main = main.split_whitespace().next().unwrap_or(main);
    let last = main.rsplit('/').next().unwrap_or(main);
    if last.ends_with(".jar") {
        return last.to_string();
    }
    // A class, or a module's `module/class`.
    last.rsplit('.').next().unwrap_or(last).to_string()
}

struct Shell {
    jvm: Jvm,
    runtime: tokio::runtime::Runtime,
    classes: Arc<RwLock<ClassNames>>,
    /// Set by SIGINT while a command runs (the terminal's Ctrl-C, or a signal to a script).
    interrupted: Arc<tokio::sync::Notify>,
    timeout: u64,
    /// The helper JVM of jad, mc and edit, kept from one command to the next.
    kept: Arc<Kept>,
    /// The first connection to the agent, made in the background while the prompt shows: the
    /// first command waits for it, so that it uses that connection instead of opening another.
    warming: Option<tokio::task::JoinHandle<()>>,
}

/// Runs the shell; returns the process's exit code.
pub fn main(args: ShellArgs, ctx: &Ctx) -> u8 {
    match start(&args, ctx) {
        Ok(mut shell) => {
            let code = shell.run(&args, ctx);
            // The helper JVM first: the runtime, when it is dropped, waits for the tasks that read
            // the helper's pipes, which end when the helper does.
            drop(shell.kept.tools.blocking_lock().take());
            agent::pool::close_all();
            code
        }
        Err(e) => commands::report_error(ctx, &e),
    }
}

fn start(args: &ShellArgs, ctx: &Ctx) -> Result<Shell, Error> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| Error::Input(format!("cannot start the async runtime: {e}")))?;
    let pid = match (&args.pid, &args.select) {
        (Some(pid), _) => *pid,
        (None, Some(text)) => jhot_engine::inspect::select(text)?.pid,
        (None, None) => return Err(Error::Usage("name the JVM: a pid, or --select TEXT".into())),
    };
    let jvm = Jvm::open(pid)?;
    agent::pool::keep_sessions();
    let interrupted = Arc::new(tokio::sync::Notify::new());
    {
        let interrupted = interrupted.clone();
        let _guard = runtime.enter();
        let mut sigint = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
            .map_err(|e| Error::Input(format!("cannot handle SIGINT: {e}")))?;
        runtime.spawn(async move {
            // Wakes the command waiting for it, if one is; a SIGINT while none waits (an editor
            // or a replacement had it) is not kept for the next command.
            while sigint.recv().await.is_some() {
                interrupted.notify_waiters();
            }
        });
    }
    let shell = Shell {
        jvm,
        runtime,
        classes: Arc::new(RwLock::new(ClassNames::default())),
        interrupted,
        timeout: ctx.timeout.as_secs(),
        warming: None,
        kept: Arc::new(Kept::default()),
    };
    let mut shell = shell;
    shell.warm_up();
    Ok(shell)
}

impl Shell {
    fn run(&mut self, args: &ShellArgs, ctx: &Ctx) -> u8 {
        if let Some(text) = &args.commands {
            return self.script(text, ctx);
        }
        if let Some(file) = &args.file {
            let text = if file == Path::new("-") {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(file)
            };
            return match text {
                Ok(t) => self.script(&t, ctx),
                Err(e) => {
                    ctx.out.error(&format!("cannot read {}: {e}", file.display()), ExitCode::Input, None);
                    ExitCode::Input.code()
                }
            };
        }
        if !std::io::stdin().is_terminal() {
            return match std::io::read_to_string(std::io::stdin()) {
                Ok(t) => self.script(&t, ctx),
                Err(e) => {
                    ctx.out.error(&format!("cannot read commands from stdin: {e}"), ExitCode::Input, None);
                    ExitCode::Input.code()
                }
            };
        }
        self.interactive(args, ctx)
    }

    /// Connects to the agent (loading it if needed) and fetches the class names, in the
    /// background: the prompt does not wait for either.
    fn warm_up(&mut self) {
        let target = self.jvm.target.clone();
        let classes = self.classes.clone();
        let timeout = Duration::from_secs(self.timeout.max(1));
        self.warming = Some(self.runtime.spawn(async move {
            if let Err(e) = index::refresh(&target, timeout, &classes).await {
                tracing::debug!(error = %e, "could not fetch the class names for completion");
            }
        }));
    }

    /// Runs a script: statements one after the other, stopping at the first that fails.
    fn script(&mut self, text: &str, ctx: &Ctx) -> u8 {
        let statements = match line::parse(text) {
            Ok(s) => s,
            Err(e) => {
                ctx.out.error(&format!("cannot read the commands: {e}"), ExitCode::Usage, None);
                return ExitCode::Usage.code();
            }
        };
        for s in statements {
            match self.statement(s, ctx) {
                Step::Done(0) => {}
                Step::Done(code) => return code,
                Step::Leave(code) => return code,
            }
        }
        0
    }

    fn interactive(&mut self, args: &ShellArgs, ctx: &Ctx) -> u8 {
        let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
        let config = Config::builder()
            .max_history_size(1000)
            .map(|b| b.history_ignore_dups(true))
            .and_then(|b| b.map(|b| b.history_ignore_space(true)))
            .map(|b| b.completion_type(CompletionType::List).auto_add_history(false).build());
        let editor = config.and_then(Editor::<complete::ShellHelper, FileHistory>::with_config);
        let mut editor = match editor {
            Ok(e) => e,
            Err(e) => {
                ctx.out.error(&format!("cannot start the line editor: {e}"), ExitCode::Internal, None);
                return ExitCode::Internal.code();
            }
        };
        editor.set_helper(Some(complete::ShellHelper::new(self.classes.clone(), color)));
        let history = if args.no_history { None } else { history_file() };
        if let Some(path) = &history
            && path.exists()
            && let Err(e) = editor.load_history(path)
        {
            ctx.out.note(&format!("jhot: note: cannot read the history in {}: {e}", path.display()));
        }
        let watch = ExitWatch::start(&self.jvm.target);
        say!(
            "jhot shell on JVM {} ({}). `help` lists the commands; Ctrl-D or `exit` leaves.",
            self.jvm.target.pid,
            self.jvm.name
        );
        loop {
            if !self.jvm.target.is_alive() {
                return gone(&self.jvm);
            }
            let line = {
                watch.at_prompt(&self.jvm.target, true);
                let line = editor.readline(&self.jvm.prompt());
                watch.at_prompt(&self.jvm.target, false);
                line
            };
            match line {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                        if let Some(path) = &history {
                            append_history(&mut editor, path);
                        }
                    }
                    let statements = match line::parse(&line) {
                        Ok(s) => s,
                        Err(e) => {
                            ctx.out.error(&e, ExitCode::Usage, None);
                            continue;
                        }
                    };
                    for s in statements {
                        match self.statement(s, ctx) {
                            Step::Done(0) => {}
                            // The rest of the line is not run after a failure, as in a script.
                            Step::Done(_) => break,
                            Step::Leave(code) => return code,
                        }
                    }
                    self.refresh_classes();
                }
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => return 0,
                Err(e) => {
                    ctx.out.error(&format!("cannot read the line: {e}"), ExitCode::Internal, None);
                    return ExitCode::Internal.code();
                }
            }
        }
    }

    /// Re-fetches the class names when the JVM has loaded or unloaded classes since the last fetch
    /// (its hsperf counter says so; reading it costs the JVM nothing).
    fn refresh_classes(&self) {
        if !index::moved(&self.classes) {
            return;
        }
        let timeout = Duration::from_secs(self.timeout.max(1));
        let (target, classes) = (self.jvm.target.clone(), self.classes.clone());
        self.runtime.spawn(async move {
            if let Err(e) = index::refresh(&target, timeout, &classes).await {
                tracing::debug!(error = %e, "could not refresh the class names");
            }
        });
    }

    /// Runs one statement: a shell word, or a jhot command with the pid put in.
    fn statement(&mut self, s: Statement, ctx: &Ctx) -> Step {
        let verb = s.words[0].as_str();
        match verb {
            "exit" | "quit" => {
                return match s.words.get(1).map(|c| c.parse::<u8>()) {
                    None => Step::Leave(0),
                    Some(Ok(code)) => Step::Leave(code),
                    Some(Err(_)) => {
                        ctx.out.error("exit takes a number (the exit code)", ExitCode::Usage, None);
                        Step::Done(ExitCode::Usage.code())
                    }
                };
            }
            "help" => return Step::Done(help(s.words.get(1).map(String::as_str), s.sink.as_deref(), ctx)),
            "shell" | "run" => {
                ctx.out.error(&format!("`{verb}` cannot be used inside the shell"), ExitCode::Usage, None);
                return Step::Done(ExitCode::Usage.code());
            }
            _ => {}
        }
        if !Cli::command().get_subcommands().any(|c| c.get_name() == verb && available(verb)) {
            ctx.out.error(&format!("no command `{verb}`; `help` lists them"), ExitCode::Usage, None);
            return Step::Done(ExitCode::Usage.code());
        }
        if let Some(warming) = self.warming.take() {
            let _ = self.runtime.block_on(warming);
        }
        let pid = self.jvm.target.pid;
        let mut argv: Vec<String> = vec!["jhot".into(), verb.into()];
        if crate::which_jvm::takes_a_pid(verb) {
            argv.push(pid.to_string());
        }
        argv.extend(s.words[1..].iter().cloned());
        // The shell's own --timeout is every command's default.
        if !s.words.iter().any(|w| w == "--timeout" || w.starts_with("--timeout=")) {
            argv.push(format!("--timeout={}", self.timeout));
        }
        let cli = match Cli::try_parse_from(&argv) {
            Ok(cli) => cli,
            Err(e) => {
                let code = if e.use_stderr() { ExitCode::Usage.code() } else { 0 };
                let _ = e.print();
                return Step::Done(code);
            }
        };
        let mut cmd_ctx = Ctx::new(cli.json, cli.timeout);
        cmd_ctx.kept = Some(self.kept.clone());
        // Commands that stop a JVM or start one handle SIGINT themselves (a replacement
        // interrupted undoes itself), and `edit` lends the terminal to an editor, which gets the
        // Ctrl-C; the others are cancelled by dropping them, which closes the agent connection and
        // so stops the agent's work at its next check point.
        let handles_signals = matches!(verb, "replace" | "deploy" | "edit");
        let sink = match s.sink.as_deref().map(redirect::Redirect::start).transpose() {
            Ok(r) => r,
            Err(e) => {
                ctx.out.error(&format!("cannot start the local command: {e}"), ExitCode::Internal, None);
                return Step::Done(ExitCode::Internal.code());
            }
        };
        let interrupted = self.interrupted.clone();
        let result = self.runtime.block_on(async {
            let run = commands::dispatch(cli.command, &cmd_ctx);
            if handles_signals {
                return run.await;
            }
            tokio::select! {
                r = run => r,
                () = interrupted.notified() => Err(Error::Cancelled(
                    "the command was stopped; what the agent had begun was finished or not started (nothing is half-applied)".into(),
                )),
            }
        });
        let code = match result {
            Ok(Outcome { code, successor }) => {
                if let Some(new) = successor
                    && new != pid
                {
                    self.follow(new, &cmd_ctx);
                }
                code
            }
            Err(e) => commands::report_error(&cmd_ctx, &e),
        };
        if let Some(sink) = sink {
            let local = sink.finish();
            // A local command that failed fails the statement, as `set -o pipefail` would.
            if code == 0 && local != 0 {
                return Step::Done(local);
            }
        }
        if code == ExitCode::Lost.code() && !self.jvm.target.is_alive() {
            return Step::Leave(gone(&self.jvm));
        }
        Step::Done(code)
    }

    /// After a replacement, the shell works on the new process.
    fn follow(&mut self, pid: u32, ctx: &Ctx) {
        match Jvm::open(pid) {
            Ok(jvm) => {
                ctx.out.note(&format!("jhot: the shell now works on the new process, JVM {pid}"));
                self.jvm = jvm;
                *self.classes.write().unwrap_or_else(|p| p.into_inner()) = ClassNames::default();
                self.warm_up();
            }
            Err(e) => ctx.out.note(&format!("jhot: note: cannot open the new process {pid}: {e}")),
        }
    }
}

enum Step {
    /// The statement ran; its exit code.
    Done(u8),
    /// Leave the shell with this code.
    Leave(u8),
}

fn gone(jvm: &Jvm) -> u8 {
    esay!("jhot: JVM {} ({}) has exited; leaving the shell", jvm.target.pid, jvm.name);
    ExitCode::Lost.code()
}

/// `help`: the commands, or one command's help.
fn help(verb: Option<&str>, sink: Option<&str>, ctx: &Ctx) -> u8 {
    let sink = match sink.map(redirect::Redirect::start).transpose() {
        Ok(s) => s,
        Err(e) => {
            ctx.out.error(&format!("cannot start the local command: {e}"), ExitCode::Internal, None);
            return ExitCode::Internal.code();
        }
    };
    let mut cli = Cli::command();
    let code = match verb {
        None => {
            say!("Commands (as on jhot's command line, without the pid; `help CMD` or `CMD --help` for one):");
            let mut rows: Vec<(String, String)> = cli
                .get_subcommands()
                .filter(|c| available(c.get_name()))
                .map(|c| {
                    let about = c.get_about().map(|a| a.to_string()).unwrap_or_default();
                    (c.get_name().to_string(), about.lines().next().unwrap_or("").to_string())
                })
                .collect();
            rows.extend(complete::BUILTINS.iter().map(|(n, a)| (n.to_string(), a.to_string())));
            for (name, about) in rows {
                say!("  {name:<12} {about}");
            }
            say!("`cmd | local command` and `cmd > file` send a command's output to local commands and files.");
            0
        }
        Some(v) => match cli.find_subcommand_mut(v).filter(|c| available(c.get_name())) {
            Some(c) => {
                say!("{}", c.render_long_help());
                say!("In the shell, leave out the pid: it is the shell's JVM.");
                0
            }
            None => {
                ctx.out.error(&format!("no command `{v}`; `help` lists them"), ExitCode::Usage, None);
                ExitCode::Usage.code()
            }
        },
    };
    if let Some(s) = sink {
        s.finish();
    }
    code
}

/// `$XDG_STATE_HOME/jhot/history`, else `~/.local/state/jhot/history`: in a directory of ours that
/// no one else can write, created private. `None` (no history) when there is no such place.
fn history_file() -> Option<PathBuf> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
    let state = std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    let dir = state.join("jhot");
    let _ = std::fs::DirBuilder::new().recursive(true).mode(0o700).create(&dir);
    let meta = std::fs::symlink_metadata(&dir).ok()?;
    // SAFETY: geteuid has no preconditions.
    let me = unsafe { libc::geteuid() };
    if !meta.is_dir() || meta.uid() != me || meta.mode() & 0o022 != 0 {
        tracing::debug!(dir = %dir.display(), "not a private directory of ours: no history file");
        return None;
    }
    let path = dir.join("history");
    // Created private before the line editor writes to it; never through a link.
    let file = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&path)
        .ok()?;
    let meta = file.metadata().ok()?;
    (meta.is_file() && meta.uid() == me).then_some(path)
}

fn append_history(editor: &mut Editor<complete::ShellHelper, FileHistory>, path: &Path) {
    if let Err(e) = editor.append_history(path) {
        tracing::debug!(error = %e, "could not append to the history file");
    }
}

/// Watches the JVM while the prompt waits for the user: if it exits, the shell says so and ends
/// at once (exit code 8) instead of at the next Enter. The terminal is put back as it was first.
struct ExitWatch {
    at_prompt: Arc<Mutex<bool>>,
    watched: Arc<Mutex<Target>>,
    stop: Arc<AtomicBool>,
}

impl ExitWatch {
    fn start(target: &Target) -> ExitWatch {
        let at_prompt = Arc::new(Mutex::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let saved = saved_terminal();
        let watched = Arc::new(Mutex::new(target.clone()));
        let (flag, stopped, w) = (at_prompt.clone(), stop.clone(), watched.clone());
        std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                let guard = flag.lock().unwrap_or_else(|p| p.into_inner());
                let t = w.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if *guard && !t.is_alive() {
                    if let Some(termios) = saved {
                        // SAFETY: restores the terminal attributes read at start on stdin.
                        unsafe { libc::tcsetattr(0, libc::TCSANOW, &termios) };
                    }
                    esay!("\njhot: JVM {} has exited; leaving the shell", t.pid);
                    // _exit, not exit: the main thread is inside the line editor, and running
                    // the process's exit handlers under it races with it. Nothing is pending:
                    // the history is written after each command.
                    // SAFETY: _exit ends the process; it has no preconditions.
                    unsafe { libc::_exit(i32::from(ExitCode::Lost.code())) };
                }
            }
        });
        ExitWatch { at_prompt, watched, stop }
    }

    /// Marks the prompt as shown (or not) for `target` (the shell may have followed a replacement).
    fn at_prompt(&self, target: &Target, shown: bool) {
        let mut flag = self.at_prompt.lock().unwrap_or_else(|p| p.into_inner());
        if shown {
            *self.watched.lock().unwrap_or_else(|p| p.into_inner()) = target.clone();
        }
        *flag = shown;
    }
}

impl Drop for ExitWatch {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn saved_terminal() -> Option<libc::termios> {
    // SAFETY: tcgetattr writes into the zeroed struct we pass; on failure we do not use it.
    unsafe {
        let mut t: libc::termios = std::mem::zeroed();
        (libc::tcgetattr(0, &mut t) == 0).then_some(t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prompt_names_the_jvm_briefly() {
        assert_eq!(short_name("com.acme.shop.ShopApplication"), "ShopApplication");
        assert_eq!(short_name("/opt/app/shop-1.4.jar --spring.profiles.active=prod"), "shop-1.4.jar");
        assert_eq!(short_name("shop.jar"), "shop.jar");
        assert_eq!(short_name("com.acme/com.acme.Main"), "Main");
    }
}
