//! `jhot dump PID PATTERN [-d DIR]`: the bytes the JVM runs, written as .class files.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::classes::{self, DumpReport};

use super::Ctx;
use super::sc::loader_label;
use crate::args::DumpArgs;
use crate::render::{Out, Progress, print_table};

pub async fn run(args: DumpArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("dumping classes of JVM {}", args.pid));
    let report =
        classes::dump(&target, &ctx.attach_opts, ctx.timeout, &args.pattern, args.loader.as_deref(), &args.dir).await;
    progress.finish();
    render(&ctx.out, &report?);
    Ok(())
}

pub fn render(out: &Out, r: &DumpReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    let rows: Vec<Vec<String>> = r
        .files
        .iter()
        .map(|f| vec![f.path.display().to_string(), format!("{} bytes", f.size), loader_label(&f.loader)])
        .collect();
    print_table(&rows);
    let n = r.files.len();
    say!("wrote {n} class file{} under {}", if n == 1 { "" } else { "s" }, r.dir.display());
}
