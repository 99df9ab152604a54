//! `jhot rollback PID [CLASSES…]`: back to the bytes that ran before jhot changed them.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::patch::{self, RollbackReport};

use super::Ctx;
use crate::args::RollbackArgs;
use crate::render::{Out, Progress, short};

pub async fn run(args: RollbackArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("rolling back in JVM {}", args.pid));
    let report = patch::rollback(&target, args.classes, args.all, ctx.timeout).await;
    progress.finish();
    render(&ctx.out, &report?);
    Ok(())
}

pub fn render(out: &Out, r: &RollbackReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    if !r.agent_resident {
        say!("nothing to roll back: jhot's agent is not resident in JVM {}, so jhot changed nothing there", r.pid);
        return;
    }
    if r.result.rolled_back.is_empty() && r.result.unpending.is_empty() {
        say!("nothing to roll back: jhot has no change in effect in JVM {}", r.pid);
        return;
    }
    match &r.deploy {
        Some(d) => say!(
            "undid deploy {} ({}) in JVM {}: {} class(es) back to what ran before it",
            d.id,
            d.build,
            r.pid,
            r.result.rolled_back.len()
        ),
        None => say!("rolled back {} class(es) in JVM {}", r.result.rolled_back.len(), r.pid),
    }
    for c in &r.result.rolled_back {
        say!("  {}  {} -> {}", c.name, short(c.from_sha256.as_deref()), short(c.to_sha256.as_deref()));
    }
    for p in &r.result.unpending {
        say!("  {p}  pending patch dropped (it had not loaded)");
    }
}
