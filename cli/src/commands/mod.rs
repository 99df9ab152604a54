//! One command dispatch, used by `main` and by the shell: arguments → engine call → report →
//! render. Each verb has a file here with its `run` (the engine calls) and its `render` (the text
//! layout; `--json` prints the report itself, see docs/json.md).

mod agent;
mod classloader;
mod deploy;
mod diff;
mod dump;
mod edit;
mod getstatic;
mod history;
mod info;
mod jad;
mod javap;
mod jvm;
mod mc;
mod ps;
mod redefine;
mod replace;
mod rollback;
mod run;
mod sc;
mod sm;
mod sysprop;
mod thread;
mod watch;

use std::time::Duration;

use std::sync::Arc;

use jhot_attach::{AttachOptions, Target};
use jhot_engine::Error;
use jhot_engine::tools::Tools;

use crate::args::Command;
use crate::render::Out;

/// What every command needs besides its own arguments.
pub struct Ctx {
    pub out: Out,
    /// For each step (the attach handshake, the agent's answer).
    pub timeout: Duration,
    pub attach_opts: AttachOptions,
    /// What the shell keeps from one command to the next; a one-shot command has none.
    pub kept: Option<Arc<Kept>>,
}

/// Kept by the shell for its lifetime.
#[derive(Default)]
pub struct Kept {
    /// The helper JVM of `jad`, `mc` and `edit` (one JVM start per shell, not per command).
    pub tools: tokio::sync::Mutex<Option<Tools>>,
}

impl Ctx {
    pub fn new(json: bool, timeout_secs: u64) -> Ctx {
        let timeout = Duration::from_secs(timeout_secs.max(1));
        Ctx {
            out: Out::new(json),
            timeout,
            attach_opts: AttachOptions { timeout, ..AttachOptions::default() },
            kept: None,
        }
    }

    /// Runs `f` with the helper JVM for `target`: the shell's kept one (started on first use,
    /// replaced when the shell has moved to another JVM), else one for this command only.
    pub async fn with_tools<T>(
        &self,
        target: &Target,
        f: impl AsyncFnOnce(&mut Tools) -> Result<T, Error>,
    ) -> Result<T, Error> {
        let timeout = self.timeout.max(TOOLS_TIMEOUT);
        let Some(kept) = &self.kept else {
            let mut tools = Tools::new(target, timeout);
            return f(&mut tools).await;
        };
        let mut slot = kept.tools.lock().await;
        if slot.as_ref().is_none_or(|t| !t.is_for(target)) {
            *slot = Some(Tools::new(target, timeout));
        }
        match slot.as_mut() {
            Some(tools) => f(tools).await,
            None => Err(Error::Input("no helper JVM".into())),
        }
    }
}

/// A decompiler or compiler run has a cold JVM to start: never less than this, whatever --timeout.
pub const TOOLS_TIMEOUT: Duration = Duration::from_secs(60);

/// What a command that completed leaves behind.
#[derive(Debug, Default, Clone, Copy)]
pub struct Outcome {
    /// The exit code: 0, except for `jhot run`, which exits with its application's code.
    pub code: u8,
    /// The pid that now serves in place of the command's JVM, after a replacement (the shell
    /// follows it).
    pub successor: Option<u32>,
}

/// Runs one command.
pub async fn dispatch(command: Command, ctx: &Ctx) -> Result<Outcome, Error> {
    match command {
        Command::Replace(a) => return Ok(Outcome { code: 0, successor: Some(replace::run(a, ctx).await?) }),
        Command::Deploy(a) => return Ok(Outcome { code: 0, successor: deploy::run(a, ctx).await? }),
        Command::Run(a) => return Ok(Outcome { code: run::run(a, ctx).await?, successor: None }),
        Command::Watch(a) => return Ok(Outcome { code: watch::run(a, ctx).await?, successor: None }),
        Command::Shell(_) => return Err(Error::Usage("`shell` cannot be started inside the shell".into())),
        Command::Ps => ps::run(ctx).await,
        Command::Info(a) => info::run(a, ctx).await,
        Command::Redefine(a) => redefine::run(a, ctx).await,
        Command::Rollback(a) => rollback::run(a, ctx).await,
        Command::Diff(a) => diff::run(a, ctx).await,
        Command::Javap(a) => javap::run(a, ctx).await,
        Command::Jad(a) => jad::run(a, ctx).await,
        Command::Mc(a) => mc::run(a, ctx).await,
        Command::History(a) => history::run(a, ctx).await,
        Command::Agent(a) => agent::run(a, ctx).await,
        Command::Thread(a) => thread::run(a, ctx).await,
        Command::Getstatic(a) => getstatic::run(a, ctx).await,
        Command::Jvm(a) => jvm::run(a, ctx).await,
        Command::Sysprop(a) => sysprop::run(a, ctx).await,
        Command::Sc(a) => sc::run(a, ctx).await,
        Command::Sm(a) => sm::run(a, ctx).await,
        Command::Classloader(a) => classloader::run(a, ctx).await,
        Command::Dump(a) => dump::run(a, ctx).await,
        Command::Edit(a) => edit::run(a, ctx).await,
    }?;
    Ok(Outcome::default())
}

/// Prints a failed command's error as `main` does, and gives its exit code.
pub fn report_error(ctx: &Ctx, e: &Error) -> u8 {
    let code = e.exit_code();
    ctx.out.error(&e.to_string(), code, e.details());
    code.code()
}

/// A bare number that is not a path names a process.
fn pid_arg(s: &str) -> Option<u32> {
    if std::path::Path::new(s).exists() {
        return None;
    }
    s.parse().ok()
}
