//! `jhot sm PID CLASS [METHOD] [-d]`: declared methods, read from the bytes the JVM runs.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::classes::{self, SmReport};

use super::Ctx;
use super::sc::loader_label;
use crate::args::SmArgs;
use crate::render::{Out, Progress, print_table_indented};

pub async fn run(args: SmArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("reading classes of JVM {}", args.pid));
    let report = classes::sm(
        &target,
        &ctx.attach_opts,
        ctx.timeout,
        &args.class,
        args.method.as_deref(),
        args.loader.as_deref(),
    )
    .await;
    progress.finish();
    render(&ctx.out, &report?, args.details);
    Ok(())
}

pub fn render(out: &Out, r: &SmReport, details: bool) {
    if out.json {
        out.json_report(r);
        return;
    }
    for (i, c) in r.classes.iter().enumerate() {
        if i > 0 {
            say!();
        }
        let source = c.source_file.as_ref().map(|s| format!(", {s}")).unwrap_or_default();
        say!("{} (loader {}{source})", c.name, loader_label(&c.loader));
        let rows: Vec<Vec<String>> = c
            .methods
            .iter()
            .map(|m| {
                if !details {
                    return vec![m.signature.clone()];
                }
                let lines = match m.lines {
                    Some((a, b)) if a == b => format!("line {a}"),
                    Some((a, b)) => format!("lines {a}-{b}"),
                    None => "-".into(),
                };
                vec![m.signature.clone(), m.descriptor.clone(), format!("0x{:04x}", m.access_flags), lines]
            })
            .collect();
        print_table_indented(&rows, "  ");
    }
}
