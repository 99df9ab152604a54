//! `jhot sysprop PID [NAME]`: the JVM's system properties, from the attach listener's
//! `properties` command (no agent loaded).

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::runtime::{self, SyspropReport};

use super::Ctx;
use crate::args::SyspropArgs;
use crate::render::{Out, Progress, escape_controls};

pub async fn run(args: SyspropArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("asking JVM {}", args.pid));
    let report = runtime::sysprops(&target, &ctx.attach_opts, args.name.as_deref()).await;
    progress.finish();
    render(&ctx.out, &report?, args.name.is_some());
    Ok(())
}

pub fn render(out: &Out, r: &SyspropReport, one: bool) {
    if out.json {
        out.json_report(r);
        return;
    }
    for p in &r.properties {
        // Values hold newlines (line.separator): one property, one line, escaped everywhere.
        let value = one_line(&p.value);
        if one {
            say!("{value}");
        } else {
            say!("{}={value}", one_line(&p.name));
        }
    }
}

fn one_line(s: &str) -> String {
    escape_controls(&s.replace('\\', "\\\\").replace('\n', "\\n").replace('\r', "\\r").replace('\t', "\\t"))
        .into_owned()
}
