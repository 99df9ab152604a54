//! `jhot redefine PID CLASSES…`: one atomic redefinition, checked first.

use jhot_attach::Target;
use jhot_engine::patch::{self, RedefineReport};
use jhot_engine::{Error, archive};

use super::Ctx;
use crate::args::RedefineArgs;
use crate::render::{Out, Progress, short};

pub async fn run(args: RedefineArgs, ctx: &Ctx) -> Result<(), Error> {
    let classes = archive::collect(&args.paths)?;
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("redefining {} class(es) in JVM {}", classes.len(), args.pid));
    let opts = patch::RedefineOptions {
        loader: args.loader,
        allow_pending: !args.require_loaded,
        force: args.force,
        timeout: ctx.timeout,
    };
    let result = patch::redefine(&target, classes, &opts, &ctx.attach_opts).await;
    progress.finish();
    match result {
        Ok(report) => {
            render(&ctx.out, &report);
            Ok(())
        }
        Err(e) => {
            if let Some(connection) = e.connection() {
                ctx.out.connection_notes(connection);
            }
            Err(e.into())
        }
    }
}

pub fn render(out: &Out, r: &RedefineReport) {
    out.connection_notes(&r.connection);
    if out.json {
        out.json_report(r);
        return;
    }
    let res = &r.result;
    let how = if r.connection.loaded_now {
        format!("agent loaded now in {:.1} ms", r.connection.load_ms.unwrap_or(0.0))
    } else {
        "agent was resident".to_string()
    };
    say!(
        "redefined {} class(es) in JVM {} in {:.1} ms ({how}; the JVM took {:.1} ms)",
        res.redefined.len(),
        r.pid,
        r.elapsed_ms,
        res.elapsed_us as f64 / 1000.0
    );
    for c in &res.redefined {
        let loader = c.loader.as_ref().map(|l| format!("{} {}", l.name, l.id)).unwrap_or_else(|| "bootstrap".into());
        say!("  {}  [{}]  {} -> {}", c.name, loader, short(c.from_sha256.as_deref()), short(c.to_sha256.as_deref()));
    }
    for p in &res.pending {
        say!("  {p}  not loaded yet: its new bytes will be used when it loads");
    }
    for u in &res.unchanged {
        say!("  {u}  unchanged: the JVM already runs these bytes");
    }
    if let Some(p) = &r.preflight {
        say!("  (checked: {} body-only, {} unchanged, {} not loaded)", p.body_only, p.unchanged, p.new);
    }
}
