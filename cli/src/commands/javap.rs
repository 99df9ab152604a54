//! `jhot javap SOURCE [CLASS]`: a class disassembled like `javap -c -p`, from files or a running JVM.

use jhot_classfile::javap::{self, JavapOptions};
use jhot_engine::Error;
use jhot_engine::inspect::{self, ClassLocation};
use serde_json::json;

use super::{Ctx, pid_arg};
use crate::args::JavapArgs;
use crate::render::Out;

pub async fn run(args: JavapArgs, ctx: &Ctx) -> Result<(), Error> {
    let opts = JavapOptions { constant_pool: args.constants };
    let source = match pid_arg(&args.source) {
        Some(pid) => ClassLocation::Jvm { pid, loader: args.loader.clone() },
        None => ClassLocation::Path(&args.source),
    };
    let classes = inspect::class_bytes(source, args.class.as_deref(), &ctx.attach_opts, ctx.timeout).await?;
    let mut listings = Vec::new();
    for (label, bytes) in classes {
        let text = javap::disassemble(&bytes, &opts).map_err(|e| Error::Input(format!("{label}: {e}")))?;
        listings.push((label, text));
    }
    render(&ctx.out, &listings);
    Ok(())
}

pub fn render(out: &Out, listings: &[(String, String)]) {
    if out.json {
        let v: Vec<_> = listings.iter().map(|(source, text)| json!({ "source": source, "text": text })).collect();
        out.json_report(&json!({ "classes": v }));
        return;
    }
    for (i, (source, text)) in listings.iter().enumerate() {
        if listings.len() > 1 || source.contains("JVM") {
            if i > 0 {
                say!();
            }
            say!("// {source}");
        }
        say_raw!("{text}");
        if !text.ends_with('\n') {
            say!();
        }
    }
}
