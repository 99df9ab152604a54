//! `jhot mc PID FILE.java...`: compiles sources against what a class loader of the JVM sees, in
//! a helper JVM (engine `tools`), and writes the class files in package directories.

use std::path::{Path, PathBuf};

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::tools::{self, Compiled};
use serde::Serialize;

use super::Ctx;
use crate::args::McArgs;
use crate::render::Out;

#[derive(Serialize)]
struct Report<'a> {
    #[serde(flatten)]
    compiled: &'a Compiled,
    /// Where each class file was written.
    files: Vec<PathBuf>,
}

pub async fn run(args: McArgs, ctx: &Ctx) -> Result<(), Error> {
    let mut sources = Vec::new();
    for f in &args.files {
        let text = std::fs::read(f).map_err(|e| Error::Input(format!("cannot read {}: {e}", f.display())))?;
        sources.push((f.display().to_string(), text));
    }
    let target = Target::open(args.pid)?;
    let compiled = ctx
        .with_tools(&target, async |tools| {
            tools::compile(
                tools,
                &target,
                &ctx.attach_opts,
                ctx.timeout,
                &sources,
                args.loader.as_deref(),
                args.release,
            )
            .await
        })
        .await?;
    let files = write(&args.dir, &compiled.bytes)?;
    render(&ctx.out, &Report { compiled: &compiled, files });
    Ok(())
}

/// Writes every class, or none: each goes to a temporary name first, and all are renamed once all
/// are written.
fn write(dir: &Path, classes: &[(String, Vec<u8>)]) -> Result<Vec<PathBuf>, Error> {
    let mut staged = Vec::new();
    let fail = |what: String, e: std::io::Error, staged: &[(PathBuf, PathBuf)]| {
        for (tmp, _) in staged {
            let _ = std::fs::remove_file(tmp);
        }
        Error::Input(format!("{what}: {e}"))
    };
    for (name, bytes) in classes {
        let path = dir.join(format!("{}.class", name.replace('.', "/")));
        if let Some(parent) = path.parent()
            && let Err(e) = std::fs::create_dir_all(parent)
        {
            return Err(fail(format!("cannot create {}", parent.display()), e, &staged));
        }
        let tmp = path.with_extension("class.jhot-tmp");
        if let Err(e) = std::fs::write(&tmp, bytes) {
            return Err(fail(format!("cannot write {}", tmp.display()), e, &staged));
        }
        staged.push((tmp, path));
    }
    let mut out = Vec::new();
    for (tmp, path) in &staged {
        std::fs::rename(tmp, path).map_err(|e| Error::Input(format!("cannot write {}: {e}", path.display())))?;
        out.push(path.clone());
    }
    Ok(out)
}

fn render(out: &Out, r: &Report<'_>) {
    if out.json {
        out.json_report(r);
        return;
    }
    for d in &r.compiled.diagnostics {
        out.note(&d.to_string());
    }
    let c = r.compiled;
    say!(
        "compiled {} class{} with {} (--release {}; {}) against loader {} ({}) of JVM {}:",
        c.classes.len(),
        if c.classes.len() == 1 { "" } else { "es" },
        c.compiler.as_str(),
        c.release,
        c.compiler_reason,
        c.loader.id,
        c.loader.name,
        c.pid
    );
    for f in &r.files {
        say!("  {}", f.display());
    }
}
