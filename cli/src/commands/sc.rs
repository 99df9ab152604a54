//! `jhot sc PID PATTERN [-d] [--loader L]`: the loaded classes a pattern matches, and their loaders.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::agent::protocol::LoaderRef;
use jhot_engine::classes::{self, ScReport};

use super::Ctx;
use crate::args::ScArgs;
use crate::render::{Out, Progress, print_table, print_table_indented, short, utc};

pub async fn run(args: ScArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("listing the classes of JVM {}", args.pid));
    let report =
        classes::sc(&target, &ctx.attach_opts, ctx.timeout, &args.pattern, args.loader.as_deref(), args.details).await;
    progress.finish();
    render(&ctx.out, &report?);
    Ok(())
}

/// `app (0x1b6d3586)`, `bootstrap`.
pub fn loader_label(l: &LoaderRef) -> String {
    if l.id == l.name { l.id.clone() } else { format!("{} ({})", l.name, l.id) }
}

pub fn render(out: &Out, r: &ScReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    if r.classes.iter().all(|c| c.details.is_none()) {
        let rows: Vec<Vec<String>> = r.classes.iter().map(|c| vec![c.name.clone(), loader_label(&c.loader)]).collect();
        print_table(&rows);
        return;
    }
    for (i, c) in r.classes.iter().enumerate() {
        if i > 0 {
            say!();
        }
        say!("{}", c.name);
        let Some(d) = &c.details else {
            say!("  (unloaded while jhot looked)");
            continue;
        };
        let or_dash = |s: &Option<String>| s.clone().unwrap_or_else(|| "-".into());
        let mut rows = vec![
            vec![
                "loader".to_string(),
                format!("{} {}", loader_label(&c.loader), c.loader.class.clone().unwrap_or_default()),
            ],
            vec!["code source".into(), or_dash(&d.location)],
            vec!["modifiers".into(), d.modifiers.clone()],
            vec!["super class".into(), or_dash(&d.super_class)],
            vec!["interfaces".into(), if d.interfaces.is_empty() { "-".into() } else { d.interfaces.join(", ") }],
            vec!["source file".into(), or_dash(&d.source_file)],
            vec!["modifiable".into(), if d.modifiable { "yes".into() } else { "no".into() }],
        ];
        let patched = match &d.patched {
            None => "no".to_string(),
            Some(p) => {
                let by = match &p.deploy {
                    Some(id) => format!("by deploy {id}"),
                    None => "by jhot redefine".to_string(),
                };
                let when = match (p.seq, &p.action, p.time_ms) {
                    (Some(seq), Some(action), Some(t)) => format!(" (history #{seq}, {action}, {} UTC)", utc(t)),
                    _ => String::new(),
                };
                format!("{by}{when}; runs {} (was {})", short(Some(&p.sha256)), short(Some(&p.original_sha256)))
            }
        };
        rows.push(vec!["patched".into(), patched]);
        print_table_indented(&rows, "  ");
    }
}
