//! `jhot history PID`: what jhot changed in a JVM, when, with content hashes.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::patch::{self, HistoryReport};

use super::Ctx;
use crate::args::PidArg;
use crate::render::{Out, Progress, print_table, short, utc};

pub async fn run(args: PidArg, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("reading history of JVM {}", args.pid));
    let report = patch::history(&target, ctx.timeout).await;
    progress.finish();
    render(&ctx.out, &report?);
    Ok(())
}

pub fn render(out: &Out, r: &HistoryReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    if r.history.entries.is_empty() {
        if r.agent_resident {
            say!("jhot has changed nothing in JVM {}", r.pid);
        } else {
            say!("jhot has changed nothing in JVM {} (its agent is not resident)", r.pid);
        }
        return;
    }
    let mut rows =
        vec![vec!["#".to_string(), "TIME (UTC)".into(), "ACTION".into(), "CLASS".into(), "FROM".into(), "TO".into()]];
    for e in &r.history.entries {
        for c in &e.classes {
            rows.push(vec![
                e.seq.to_string(),
                utc(e.time_ms),
                e.action.clone(),
                c.name.clone(),
                short(c.from_sha256.as_deref()),
                short(c.to_sha256.as_deref()),
            ]);
        }
    }
    print_table(&rows);
    if !r.history.deploys.is_empty() {
        say!();
        let mut rows = vec![vec![
            "DEPLOY".to_string(),
            "TIME (UTC)".into(),
            "BUILD".into(),
            "SHA-256".into(),
            "CLASSES".into(),
            "STATE".into(),
        ]];
        for d in &r.history.deploys {
            rows.push(vec![
                d.id.clone(),
                utc(d.time_ms),
                d.build.clone(),
                short(Some(&d.sha256)),
                format!("{} redefined, {} pending, {} defined", d.redefined.len(), d.pending.len(), d.defined.len()),
                if d.rolled_back { "rolled back".into() } else { "live".into() },
            ]);
        }
        print_table(&rows);
    }
}
