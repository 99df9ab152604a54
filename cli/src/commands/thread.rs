//! `jhot thread PID [ID...] [-n N] [-i MS] [--state STATE]`: the JVM's threads, busiest first, or
//! the stacks of some. With an interval the agent samples for that long; SIGINT ends jhot, which
//! closes the channel and so stops the sampling in the JVM (docs/protocol.md, "cancel").

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::runtime::{self, ThreadInfo, ThreadsQuery, ThreadsReport};

use super::Ctx;
use crate::args::ThreadArgs;
use crate::render::{Out, Progress, print_table};

pub async fn run(args: ThreadArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let query = ThreadsQuery {
        interval_ms: args.interval,
        top: args.top,
        ids: args.ids,
        state: args.state.map(|s| s.to_ascii_uppercase()),
        depth: Some(args.depth),
    };
    let what = match query.interval_ms {
        Some(ms) => format!("sampling the threads of JVM {} for {ms} ms", args.pid),
        None => format!("reading the threads of JVM {}", args.pid),
    };
    let progress = Progress::start(&ctx.out, &what);
    let report = runtime::threads(&target, &ctx.attach_opts, ctx.timeout, &query).await;
    progress.finish();
    let report = report?;
    if let Some(c) = &report.connection {
        ctx.out.connection_notes(c);
    }
    render(&ctx.out, &report, !query.ids.is_empty());
    Ok(())
}

pub fn render(out: &Out, r: &ThreadsReport, stacks: bool) {
    if out.json {
        out.json_report(r);
        return;
    }
    if stacks {
        for t in &r.threads {
            say!("{}", headline(t));
            if let (Some(lock), owner) = (&t.lock, &t.lock_owner_name) {
                match owner {
                    Some(o) => say!("   waiting on {lock} held by \"{o}\" #{}", t.lock_owner_id.unwrap_or(0)),
                    None => say!("   waiting on {lock}"),
                }
            }
            for frame in t.stack.iter().flatten() {
                say!("        at {frame}");
            }
            say!();
        }
        return;
    }
    let over = match r.interval_ms {
        Some(ms) => format!(", CPU over {ms} ms"),
        None => ", CPU time since each thread started".into(),
    };
    say!("JVM {}: {} threads{over}", r.pid, r.total);
    let mut rows = vec![vec![
        "ID".to_string(),
        "NAME".into(),
        "STATE".into(),
        "CPU%".into(),
        "CPU TIME".into(),
        "DAEMON".into(),
        "PRIO".into(),
        "WAITING ON".into(),
    ]];
    for t in &r.threads {
        rows.push(vec![
            t.id.to_string(),
            t.name.clone(),
            t.state.clone(),
            t.cpu_percent.map(|p| format!("{p:.1}")).unwrap_or_else(|| "-".into()),
            t.cpu_ns.map(cpu_time).unwrap_or_else(|| "-".into()),
            if t.daemon { "daemon".into() } else { String::new() },
            t.priority.to_string(),
            waiting_on(t),
        ]);
    }
    print_table(&rows);
    if !r.cpu_time {
        say!("(this JVM does not measure CPU time per thread)");
    }
}

fn headline(t: &ThreadInfo) -> String {
    let daemon = if t.daemon { " daemon" } else { "" };
    let cpu = t.cpu_ns.map(|n| format!(" cpu={}", cpu_time(n))).unwrap_or_default();
    format!("\"{}\" #{}{daemon} prio={}{cpu} {}", t.name, t.id, t.priority, t.state)
}

fn waiting_on(t: &ThreadInfo) -> String {
    match (&t.lock, &t.lock_owner_name) {
        (Some(l), Some(o)) => format!("{l} (held by \"{o}\" #{})", t.lock_owner_id.unwrap_or(0)),
        (Some(l), None) => l.clone(),
        _ => String::new(),
    }
}

fn cpu_time(ns: u64) -> String {
    let ms = ns as f64 / 1e6;
    if ms < 1000.0 { format!("{ms:.0} ms") } else { format!("{:.2} s", ms / 1000.0) }
}
