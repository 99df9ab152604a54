//! `jhot replace PID`: a new process takes the listening sockets over; the old one is drained.

use std::path::{Path, PathBuf};

use jhot_engine::Error;
use jhot_engine::replace::{self, ReplaceReport, command::NewBuild};

use super::Ctx;
use crate::args::ReplaceArgs;
use crate::render::{Out, Progress};

pub async fn run(args: ReplaceArgs, ctx: &Ctx) -> Result<(), Error> {
    let build = if !args.command.is_empty() {
        NewBuild::Command(args.command)
    } else if let Some(jar) = args.jar {
        NewBuild::Jar(new_jar(args.pid, &jar)?)
    } else if let Some(cp) = args.classpath {
        NewBuild::Classpath(cp)
    } else {
        NewBuild::Same
    };
    let opts = args.swap.options(build, args.drain.into(), args.fd_source.into(), args.ports, args.log, ctx.timeout);
    let progress = Progress::start(&ctx.out, &format!("replacing pid {}", args.pid));
    let report = replace::replace(args.pid, &opts).await;
    progress.finish();
    render(&ctx.out, &report?);
    Ok(())
}

/// The path the new process is given for `--jar`. For a JVM in another mount namespace (a
/// container) it is the container's path: the new process starts there and sees only its files,
/// so the jar is looked for in the container's root, not on the host.
fn new_jar(pid: u32, jar: &Path) -> Result<PathBuf, Error> {
    use jhot_attach::procfs::{read_ns, read_own_ns};
    if let (Ok(theirs), Ok(ours)) = (read_ns(pid, "mnt"), read_own_ns("mnt"))
        && theirs != ours
    {
        let in_container = format!("in the container of pid {pid} (another mount namespace)");
        if !jar.is_absolute() {
            return Err(Error::Input(format!(
                "{}: give the new jar's absolute path as the container sees it ({in_container})",
                jar.display()
            )));
        }
        return match jhot_attach::safe_fs::is_file_in_root(pid, &jar.to_string_lossy()) {
            Ok(true) => Ok(jar.to_path_buf()),
            _ => Err(Error::Input(format!(
                "{} is not a file {in_container}: the path is the container's; copy the jar into it first",
                jar.display()
            ))),
        };
    }
    let abs = std::path::absolute(jar).map_err(|e| Error::Input(format!("{}: {e}", jar.display())))?;
    if !abs.is_file() {
        return Err(Error::Input(format!("{} is not a file", jar.display())));
    }
    Ok(abs)
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
        say!("  listener      {} ({fds}, shared: one accept queue)", l.addr);
    }
    if !r.skipped.is_empty() {
        say!("  not shared    {} (ephemeral ports; --port to include)", r.skipped.join(", "));
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
    say!("  drain         {}, old process {}{stopped}", d.method, d.outcome);
    if r.supervised {
        say!(
            "  hand-over     {} idle connection(s) moved to the new process ({} with a request waiting){}",
            d.handed_over,
            d.handed_over_with_request,
            if d.lost > 0 { format!("; {} could not be delivered", d.lost) } else { String::new() }
        );
    }
}
