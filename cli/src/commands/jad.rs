//! `jhot jad PID CLASS [METHOD]`: Java source of a class as the JVM runs it, with its nested
//! classes, decompiled in a helper JVM (engine `tools`).

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::tools::{self, Decompiled};

use super::Ctx;
use crate::args::JadArgs;
use crate::render::Out;

pub async fn run(args: JadArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let report = ctx
        .with_tools(&target, async |tools| {
            tools::decompile(
                tools,
                &target,
                &ctx.attach_opts,
                ctx.timeout,
                &args.class,
                args.method.as_deref(),
                args.loader.as_deref(),
            )
            .await
        })
        .await?;
    render(&ctx.out, &report, args.source_only);
    Ok(())
}

pub fn render(out: &Out, r: &Decompiled, source_only: bool) {
    if out.json {
        out.json_report(r);
        return;
    }
    if !source_only {
        // Java comments, so that the output still compiles as it is.
        let state = if r.patched { "patched by jhot (the bytes jhot redefined)" } else { "as the JVM runs it" };
        say!("// {} in JVM {}, loader {} ({}): {state}", r.class, r.pid, r.loader.id, r.loader.name);
        let nested: Vec<String> = r
            .classes
            .iter()
            .filter(|c| c.name != r.class)
            .map(|c| if c.source == "class_file" { format!("{} (not loaded)", c.name) } else { c.name.clone() })
            .collect();
        if !nested.is_empty() {
            say!("// nested: {}", nested.join(", "));
        }
        say!("// {}, class file version {} (built by {})", r.decompiler, r.major_version, r.compiler.as_str());
        for p in &r.problems {
            say!("// note: {p}");
        }
        say!();
    }
    say_raw!("{}", r.source);
    if !r.source.ends_with('\n') {
        say!();
    }
}
