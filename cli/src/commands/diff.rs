//! `jhot diff OLD NEW…`: what a change needs, before touching the JVM.

use std::path::PathBuf;

use jhot_attach::Target;
use jhot_classfile::verdict::{Verdict, Vm};
use jhot_engine::changes::{self, Report};
use jhot_engine::{Error, archive};

use super::{Ctx, pid_arg};
use crate::args::DiffArgs;
use crate::render::{Out, Progress, print_table};

pub async fn run(args: DiffArgs, ctx: &Ctx) -> Result<(), Error> {
    let report = match pid_arg(&args.old) {
        Some(pid) => {
            let new = archive::collect(&args.new)?;
            let target = Target::open(pid)?;
            let progress = Progress::start(&ctx.out, &format!("reading {} class(es) from JVM {pid}", new.len()));
            let names = new.iter().map(|c| c.info.name.clone()).collect();
            let running = changes::running(&target, names, args.loader, &ctx.attach_opts, ctx.timeout).await;
            progress.finish();
            let running = running?;
            ctx.out.connection_notes(&running.connection);
            let entries = changes::against_running(&running, &new)?;
            changes::report_against_running(&target, &running, &args.new, entries)
        }
        None => {
            let vm = Vm {
                feature: args.jdk.unwrap_or(changes::DEFAULT_JDK),
                allow_add_delete_methods: args.allow_add_delete_methods,
            };
            changes::offline(&[PathBuf::from(&args.old)], &args.new, vm)?
        }
    };
    render(&ctx.out, &report, args.all);
    Ok(())
}

/// The table lists what changed; unchanged classes only with `all` (a fat jar has tens of
/// thousands, which would bury the few that matter).
pub fn render(out: &Out, r: &Report, all: bool) {
    if out.json {
        out.json_report(r);
        return;
    }
    let mut rows = vec![vec!["CLASS".to_string(), "VERDICT".into(), "WHY".into()]];
    let listed = r.classes.iter().filter(|e| all || e.diff.verdict != Verdict::Unchanged);
    let hidden = r.classes.len() - listed.clone().count();
    for e in listed {
        let name = match &e.loader {
            Some(l) => format!("{} [{} {}]", e.diff.name, l.name, l.id),
            None => e.diff.name.clone(),
        };
        let why = if e.diff.reasons.is_empty() {
            e.diff.changed_methods.join(", ")
        } else {
            e.diff.reasons.iter().map(|x| x.message.as_str()).collect::<Vec<_>>().join("; ")
        };
        rows.push(vec![name, verdict_word(e.diff.verdict).into(), why]);
    }
    if rows.len() > 1 {
        print_table(&rows);
    }
    if hidden > 0 {
        say!("({hidden} unchanged class(es) not listed; --all lists them)");
    }
    for e in r.classes.iter().filter(|e| !e.diff.explanations.is_empty()) {
        say!();
        say!("{}:", e.diff.name);
        for x in &e.diff.explanations {
            say!("  {x}");
        }
    }
    for d in &r.duplicates {
        say!("note: {} is in {} and {}; compared the first", d.class, d.kept, d.ignored);
    }
    let s = &r.summary;
    let total = s.unchanged + s.body_only + s.structural + s.new + s.removed;
    let verdict = if s.redefinable {
        "hot-redefinable".to_string()
    } else {
        format!("needs a restart ({} structural)", s.structural)
    };
    say!();
    say!(
        "{total} class(es): {} body-only, {} unchanged, {} structural, {} new, {} removed — {verdict} on JDK {}{}",
        s.body_only,
        s.unchanged,
        s.structural,
        s.new,
        s.removed,
        r.jdk,
        if r.allow_add_delete_methods { " with AllowRedefinitionToAddDeleteMethods" } else { "" }
    );
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Unchanged => "unchanged",
        Verdict::BodyOnly => "body-only",
        Verdict::Structural => "STRUCTURAL",
        Verdict::New => "new",
        Verdict::Removed => "removed",
    }
}
