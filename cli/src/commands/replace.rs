//! `jhot replace PID`: a new process takes the listening sockets over; the old one is drained.

use jhot_engine::Error;
use jhot_engine::replace::{self, ReplaceReport, command::NewBuild};

use super::Ctx;
use crate::args::ReplaceArgs;
use crate::render::{Out, Progress};

/// Returns the new process's pid.
pub async fn run(mut args: ReplaceArgs, ctx: &Ctx) -> Result<u32, Error> {
    let build = if !args.command.is_empty() {
        NewBuild::Command(std::mem::take(&mut args.command))
    } else if let Some(jar) = args.jar.take() {
        // A process in a container starts its successor there: the jar is a path in the container.
        match replace::namespaces::file_in_root_of(args.pid, &jar)? {
            Some(true) => return replace_with(NewBuild::Jar(jar), args, ctx).await,
            Some(false) => {
                return Err(Error::Input(format!(
                    "{} is not a file in the root of pid {} (a container): --jar names a path as the process sees it",
                    jar.display(),
                    args.pid
                )));
            }
            None => {}
        }
        let abs = std::path::absolute(&jar).map_err(|e| Error::Input(format!("{}: {e}", jar.display())))?;
        if !abs.is_file() {
            return Err(Error::Input(format!("{} is not a file", jar.display())));
        }
        NewBuild::Jar(abs)
    } else if let Some(cp) = args.classpath.take() {
        NewBuild::Classpath(cp)
    } else {
        NewBuild::Same
    };
    replace_with(build, args, ctx).await
}

async fn replace_with(build: NewBuild, args: ReplaceArgs, ctx: &Ctx) -> Result<u32, Error> {
    let opts = args.swap.options(build, args.drain.into(), args.fd_source.into(), args.ports, args.log, ctx.timeout);
    let progress = Progress::start(&ctx.out, &format!("replacing pid {}", args.pid));
    let report = replace::replace(args.pid, &opts).await;
    progress.finish();
    let report = report?;
    render(&ctx.out, &report);
    Ok(report.new_pid)
}

pub fn render(out: &Out, r: &ReplaceReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    out.recovered(&r.recovered);
    for w in &r.warnings {
        out.note(&format!("jhot: warning: {w}"));
    }
    say!("replaced pid {} with pid {}{}", r.old_pid, r.new_pid, if r.supervised { " (under jhot run)" } else { "" });
    say!("  new command   {}", r.command.join(" "));
    say!("  change        {}", r.change);
    for l in &r.listeners {
        let fds = match (l.fd_in_old, l.fd_in_new) {
            (o, Some(n)) if o >= 0 => format!("fd {o} → fd {n}"),
            (_, Some(n)) => format!("fd {n}"),
            _ => "?".into(),
        };
        match &l.auxiliary {
            Some(why) => say!("  listener      {} ({fds}; {why}: handed over, not waited for)", l.addr),
            None => say!("  listener      {} ({fds}, shared: one accept queue)", l.addr),
        }
    }
    for s in &r.skipped {
        say!("  not shared    {} ({})", s.addr, s.reason);
    }
    for a in &r.not_taken_over {
        say!("  not taken     {a} (the new process did not listen on it; it closed with the old process)");
    }
    let via = match (&r.fd_source[..], &r.fd_fallback) {
        (s, Some(why)) => format!("{s} ({why})"),
        (s, None) => s.to_string(),
    };
    say!("  sockets via   {via}");
    say!("  output        {}", r.output);
    let t = &r.timings_ms;
    say!(
        "  timings       new process accepting after {:.0} ms; jhot's own share {:.1} ms; old drained in {:.0} ms; total {:.0} ms",
        t.start_ms,
        t.overhead_ms,
        t.drain_ms,
        t.total_ms
    );
    if let Some(code) = r.ready_url_status {
        say!("  ready url     HTTP {code} from the new process");
    }
    let d = &r.drain;
    let stopped = if d.agent_stopped.is_empty() {
        String::new()
    } else {
        format!("; agent stopped {}", d.agent_stopped.join(", "))
    };
    let servers = if d.servers.is_empty() { String::new() } else { format!(" ({})", d.servers.join(", ")) };
    say!("  drain         {}{servers}, old process {}{stopped}", d.method, d.outcome);
    if !d.fenced.is_empty() {
        say!("  stopped accepting  {}", d.fenced.join("; "));
    }
    if let Some(w) = &d.in_flight {
        say!(
            "  in flight     no shutdown hook: waited {:.0} ms for requests in progress ({} still busy, {} idle connection(s) closed with it{})",
            w.waited_ms,
            w.busy_at_end,
            w.open_at_end.saturating_sub(w.busy_at_end),
            if w.precise { "" } else { "; unread bytes only, no ptrace rights" }
        );
    }
    if r.supervised {
        say!(
            "  hand-over     {} idle connection(s) moved to the new process ({} with a request waiting){}",
            d.handed_over,
            d.handed_over_with_request,
            if d.lost > 0 { format!("; {} could not be delivered", d.lost) } else { String::new() }
        );
    }
}
