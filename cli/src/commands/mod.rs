//! One command dispatch, used by `main` and (soon) the shell: arguments → engine call → report →
//! render. Each verb has a file here with its `run` (the engine calls) and its `render` (the text
//! layout; `--json` prints the report itself, see docs/json.md).

mod agent;
mod deploy;
mod diff;
mod history;
mod info;
mod jad;
mod javap;
mod mc;
mod ps;
mod redefine;
mod replace;
mod rollback;
mod run;

use std::time::Duration;

use jhot_attach::AttachOptions;
use jhot_engine::Error;

use crate::args::Command;
use crate::render::Out;

/// What every command needs besides its own arguments.
pub struct Ctx {
    pub out: Out,
    /// For each step (the attach handshake, the agent's answer).
    pub timeout: Duration,
    pub attach_opts: AttachOptions,
}

impl Ctx {
    pub fn new(json: bool, timeout_secs: u64) -> Ctx {
        let timeout = Duration::from_secs(timeout_secs.max(1));
        Ctx { out: Out::new(json), timeout, attach_opts: AttachOptions { timeout, ..AttachOptions::default() } }
    }
}

/// Runs one command. `Ok(code)` is the exit code of a command that completed: 0, except for
/// `jhot run`, which exits with its application's code.
pub async fn dispatch(command: Command, ctx: &Ctx) -> Result<u8, Error> {
    match command {
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
        Command::Replace(a) => replace::run(a, ctx).await,
        Command::Deploy(a) => deploy::run(a, ctx).await,
        Command::Run(a) => return run::run(a, ctx).await,
    }?;
    Ok(0)
}

/// A bare number that is not a path names a process.
fn pid_arg(s: &str) -> Option<u32> {
    if std::path::Path::new(s).exists() {
        return None;
    }
    s.parse().ok()
}
