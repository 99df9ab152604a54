//! `jhot watch PID PATHS…`: applies each completed build to a running JVM (crates/engine/src/watch.rs);
//! one line per event, or one JSON object per line with `--json` (docs/json.md).

use std::time::Duration;

use jhot_attach::Target;
use jhot_engine::deploy::{DeployOptions, Mode};
use jhot_engine::events;
use jhot_engine::patch::RedefineOptions;
use jhot_engine::replace::command::NewBuild;
use jhot_engine::replace::drain::DrainMode;
use jhot_engine::replace::fds::FdSource;
use jhot_engine::watch::{self, WatchEvent, WatchOptions};
use jhot_engine::{Error, ExitCode, archive};

use super::Ctx;
use crate::args::WatchArgs;
use crate::render::Out;

/// Runs until the JVM exits; then the exit code is 8 (`lost`), already reported as the `exited`
/// event (so `--json` output stays one object per line, with no error document after it).
pub async fn run(args: WatchArgs, ctx: &Ctx) -> Result<u8, Error> {
    for p in &args.paths {
        if !p.exists() {
            return Err(archive::ArchiveError::Missing { path: p.clone() }.into());
        }
    }
    let target = Target::open(args.pid)?;
    // The build is filled in by deploy, once it knows where the build goes.
    let replace = args.replace.then(|| DeployOptions {
        mode: Mode::Replace,
        dry_run: false,
        timeout: ctx.timeout,
        attach_opts: ctx.attach_opts,
        replace: args.swap.options(NewBuild::Same, DrainMode::Auto, FdSource::Auto, Vec::new(), None, ctx.timeout),
        // The outcome is watch's own `replaced` or `error` event.
        events: events::discard(),
    });
    let opts = WatchOptions {
        paths: args.paths,
        quiet: Duration::from_millis(args.quiet),
        poll: Duration::from_millis(args.poll.max(50)),
        polling: args.polling,
        redefine: RedefineOptions { loader: args.loader, allow_pending: true, force: false, timeout: ctx.timeout },
        replace,
    };
    let replace = opts.replace.is_some();
    let watching = watch::run(target, &ctx.attach_opts, &opts, |e| render(&ctx.out, e));
    let outcome = if replace {
        // A replacement catches SIGINT, SIGTERM and SIGHUP, and tokio keeps its handlers for the
        // rest of the process: after one, those signals would no longer stop watch. So with
        // --replace watch catches them itself from the start and stops on them (exit 10).
        use tokio::signal::unix::{SignalKind, signal};
        let catch = |k| signal(k).map_err(|e| Error::Usage(format!("cannot handle signals: {e}")));
        let (mut int, mut term, mut hup) =
            (catch(SignalKind::interrupt())?, catch(SignalKind::terminate())?, catch(SignalKind::hangup())?);
        tokio::select! {
            r = watching => r,
            _ = int.recv() => return Ok(ExitCode::Cancelled.code()),
            _ = term.recv() => return Ok(ExitCode::Cancelled.code()),
            _ = hup.recv() => return Ok(ExitCode::Cancelled.code()),
        }
    } else {
        watching.await
    };
    match outcome {
        Ok(()) => Ok(0),
        Err(e) if e.exit_code() == ExitCode::Lost => Ok(ExitCode::Lost.code()),
        Err(e) => Err(e),
    }
}

pub fn render(out: &Out, e: &WatchEvent) {
    if out.json {
        let mut v = serde_json::to_value(e).unwrap_or_default();
        if let Some(o) = v.as_object_mut() {
            o.insert("schema".into(), 1.into());
        }
        say_raw!("{}\n", serde_json::to_string(&v).unwrap_or_default());
        return;
    }
    match e {
        WatchEvent::Started { pid, paths, classes, mode, quiet_ms } => esay!(
            "watching {} for JVM {pid}: {classes} class(es) recorded, nothing applied ({mode}, quiet {quiet_ms} ms)",
            paths.join(" ")
        ),
        WatchEvent::Applied { build, redefined, pending, elapsed_ms, jvm_ms } => {
            let mut names: Vec<&str> = redefined.iter().chain(pending).map(String::as_str).collect();
            let more = names.len().saturating_sub(5);
            names.truncate(5);
            let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
            say!(
                "build {build}: applied {} class(es) in {elapsed_ms:.1} ms (the JVM took {jvm_ms:.1} ms): {}{tail}",
                redefined.len() + pending.len(),
                names.join(", ")
            )
        }
        WatchEvent::Skipped { reason, classes, message } => {
            esay!(
                "skipped ({reason}): {message}{}",
                if classes.is_empty() { String::new() } else { format!(": {}", classes.join(", ")) }
            )
        }
        WatchEvent::Structural { classes } => {
            esay!(
                "not applied: the change is structural, nothing was changed (`jhot deploy`, or watch --replace, can replace it)"
            );
            for c in classes.iter().filter(|c| c.diff.verdict == jhot_classfile::verdict::Verdict::Structural) {
                esay!("  {}", c.diff.name);
                for r in &c.diff.reasons {
                    esay!("    - {}", r.message);
                }
            }
        }
        WatchEvent::Replaced { build, old_pid, new_pid, classes, deleted, elapsed_ms } => {
            let mut names: Vec<&str> = classes.iter().map(String::as_str).collect();
            let more = names.len().saturating_sub(5);
            names.truncate(5);
            let tail = if more > 0 { format!(" and {more} more") } else { String::new() };
            let gone = if deleted.is_empty() { String::new() } else { format!(", {} deleted", deleted.len()) };
            say!(
                "build {build}: structural, replaced JVM {old_pid} with {new_pid} in {elapsed_ms:.1} ms ({} class(es){gone}): {}{tail}; watching {new_pid}",
                classes.len(),
                names.join(", ")
            )
        }
        WatchEvent::Error { message, .. } => esay!("not applied: {message}"),
        WatchEvent::Exited { pid } => esay!("JVM {pid} has exited: watch stops"),
        WatchEvent::Polling { reason } => esay!("comparing by polling: {reason}"),
    }
}
