//! `jhot info PID`: version, flags that matter for hot updates, class loaders, agent status.

use jhot_engine::Error;
use jhot_engine::inspect::{self, InfoReport};

use super::Ctx;
use crate::args::PidArg;
use crate::render::{Out, Progress, human_duration, print_table_indented};

pub async fn run(args: PidArg, ctx: &Ctx) -> Result<(), Error> {
    let progress = Progress::start(&ctx.out, &format!("asking JVM {}", args.pid));
    let report = inspect::info(args.pid, &ctx.attach_opts, ctx.timeout).await;
    progress.finish();
    render(&ctx.out, &report?);
    Ok(())
}

pub fn render(out: &Out, r: &InfoReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    let j = &r.jvm;
    say!("pid        {} (in its namespace: {})", j.pid, j.nspid);
    say!("user       {}", j.user.clone().unwrap_or_else(|| j.uid.to_string()));
    say!("java       {}", j.java_version.as_deref().unwrap_or("?"));
    say!("vm         {} ({})", j.vm.as_deref().unwrap_or("?"), j.vm_vendor.as_deref().unwrap_or("?"));
    if let Some(v) = &r.vm_version {
        say!("           {}", v.replace('\n', "\n           "));
    }
    say!("main       {}", j.main.as_deref().unwrap_or("?"));
    say!("uptime     {}", j.uptime.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "?".into()));
    match &r.attach_error {
        Some(e) => say!("attach     not possible: {e}"),
        None => {
            say!("flags");
            for f in &r.flags {
                say!("  {:<38} {:<8} ({})", f.name, f.value, f.origin);
            }
        }
    }
    match (&r.agent.resident, &r.agent.hello) {
        (Some(true), Some(h)) => say!(
            "agent      resident (jhot agent {}, {} mode, {} channel, loaded {}x, {} class(es) patched, {} pending)",
            h.agent,
            h.mode,
            h.channel,
            h.loads,
            h.patched,
            h.pending
        ),
        (Some(false), _) => say!("agent      not resident (jhot has changed nothing in this JVM)"),
        _ => say!("agent      unknown: {}", r.agent.error.as_deref().unwrap_or("?")),
    }
    if !r.class_loaders.is_empty() {
        say!("class loaders");
        let mut rows = vec![vec!["LOADER".to_string(), "PARENT".into(), "CLASSES".into(), "TYPE".into()]];
        for l in &r.class_loaders {
            rows.push(vec![l.loader.clone(), l.parent.clone(), l.classes.to_string(), l.type_name.clone()]);
        }
        print_table_indented(&rows, "  ");
    }
}
