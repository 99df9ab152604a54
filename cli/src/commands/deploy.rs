//! `jhot deploy PID BUILD…`: nothing, one atomic redefinition, or a replacement, decided first.

use jhot_engine::Error;
use jhot_engine::deploy::{self, Decision, DeployOptions, DeployReport};
use jhot_engine::replace::command::NewBuild;
use jhot_engine::replace::drain::DrainMode;
use jhot_engine::replace::fds::FdSource;

use super::Ctx;
use crate::args::DeployArgs;
use crate::render::{Out, Progress};

/// Returns the new process's pid when the deploy replaced the process.
pub async fn run(args: DeployArgs, ctx: &Ctx) -> Result<Option<u32>, Error> {
    let progress = Progress::start(&ctx.out, &format!("deploying to JVM {}", args.pid));
    let opts = DeployOptions {
        mode: args.mode.into(),
        dry_run: args.dry_run,
        timeout: ctx.timeout,
        attach_opts: ctx.attach_opts,
        // The build is filled in by deploy, once it knows where the build goes.
        replace: args.swap.options(NewBuild::Same, DrainMode::Auto, FdSource::Auto, Vec::new(), None, ctx.timeout),
        events: progress.events(&format!("deploying to JVM {}", args.pid)),
    };
    let report = deploy::deploy(args.pid, &args.build, &opts).await;
    progress.finish();
    let report = report?;
    render(&ctx.out, &report);
    Ok(report.replacement.as_ref().filter(|_| !report.dry_run).map(|r| r.new_pid))
}

pub fn render(out: &Out, r: &DeployReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    let p = &r.plan;
    let c = &p.counts;
    say!("plan for JVM {} ← {}", p.pid, p.build);
    if let Some(l) = &p.loader {
        say!(
            "  loader        {} {} ({} classes loaded in the JVM, {} in the build)",
            l.name,
            l.id,
            p.loaded_classes,
            p.build_classes
        );
    }
    say!(
        "  classes       {} unchanged, {} body-only, {} structural, {} new, {} not loaded yet, {} removed",
        c.unchanged,
        c.body_only,
        c.structural,
        c.new,
        c.pending,
        c.removed
    );
    for x in p.classes.iter().take(40) {
        say!("    {:<10} {}", x.change, x.name);
        for why in &x.reasons {
            say!("               - {why}");
        }
    }
    if p.classes.len() > 40 {
        say!("    … and {} more (--json lists them all)", p.classes.len() - 40);
    }
    for res in &p.resources {
        say!("  resource      {} ({})", res.name, res.change);
    }
    if !p.dependencies.is_empty() {
        say!("  dependencies  {}", p.dependencies.join(", "));
    }
    let what = match p.decision {
        Decision::Nothing => "nothing to do",
        Decision::Redefine => "redefine",
        Decision::Replace => "replace the process",
    };
    say!("  decision      {what}");
    for why in &p.reasons {
        say!("    - {why}");
    }
    if r.dry_run {
        say!("dry run: nothing was changed (planned in {:.0} ms)", r.timings_ms.plan);
    } else if let Some(a) = &r.redefinition {
        say!(
            "redefined {} class(es), registered {} not loaded yet, defined {} new, in one batch (deploy {}); planned in {:.0} ms, applied in {:.0} ms",
            a.redefined,
            a.pending,
            a.defined,
            a.deploy_id,
            r.timings_ms.plan,
            r.timings_ms.apply
        );
    } else if let Some(rep) = &r.replacement {
        say!();
        super::replace::render(out, rep);
    }
    for w in &r.warnings {
        out.note(&format!("jhot: warning: {w}"));
    }
}
