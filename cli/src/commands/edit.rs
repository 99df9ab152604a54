//! `jhot edit PID CLASS`: the hot-fix loop in one command. The class as the JVM runs it is
//! decompiled, opened in `$VISUAL`/`$EDITOR`, compiled against the loader that defined it, checked
//! against what runs, shown as a diff, confirmed, and applied as one atomic redefinition of the
//! class and its nested classes (in `history`, undone by `rollback`). Anything but a change of
//! method bodies is refused with its reasons, and nothing is sent.

use std::io::{IsTerminal, Write};
use std::path::Path;

use jhot_attach::Target;
use jhot_classfile::verdict::{Verdict, Vm};
use jhot_engine::patch::{self, RedefineReport};
use jhot_engine::tools::{self, Decompiled, edit::Checked};
use jhot_engine::{Error, agent, changes};
use serde::Serialize;

use super::Ctx;
use crate::args::EditArgs;
use crate::render::unified;

#[derive(Serialize)]
struct EditReport<'a> {
    pid: u32,
    class: &'a str,
    loader: &'a agent::protocol::Loader,
    decompiler: &'a str,
    compiler: &'a str,
    compiler_reason: &'a str,
    release: u32,
    /// The edit, as a unified diff of the decompiled source.
    diff: String,
    /// Every compiled class against the running one.
    classes: &'a [changes::Entry],
    redefinition: RedefineReport,
}

pub async fn run(args: EditArgs, ctx: &Ctx) -> Result<(), Error> {
    if !args.yes && !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "edit asks before it applies anything, and stdin is not a terminal: pass --yes to apply without asking"
                .into(),
        ));
    }
    let target = Target::open(args.pid)?;
    let decompiled = ctx
        .with_tools(&target, async |t| {
            tools::decompile(t, &target, &ctx.attach_opts, ctx.timeout, &args.class, None, args.loader.as_deref()).await
        })
        .await?;
    for p in &decompiled.problems {
        ctx.out.note(&format!("jhot: note: the decompiler reports: {p}"));
    }
    let dir = tempfile::Builder::new()
        .prefix("jhot-edit-")
        .tempdir()
        .map_err(|e| Error::Input(format!("cannot make a directory for the source: {e}")))?;
    let simple = decompiled.class.rsplit('.').next().unwrap_or(&decompiled.class);
    let outer = simple.split('$').next().unwrap_or(simple);
    let file = dir.path().join(format!("{outer}.java"));
    std::fs::write(&file, &decompiled.source)
        .map_err(|e| Error::Input(format!("cannot write {}: {e}", file.display())))?;
    // A JVM that did not say its version gets the rules of the oldest JDK jhot supports.
    let vm = Vm { feature: decompiled.vm.feature.max(11), ..decompiled.vm };
    let release = u32::from(decompiled.major_version.saturating_sub(44)).max(8);

    // Edit, compile, check; a source that does not compile goes back to the editor when the
    // user wants (on a terminal), else fails with the compiler's errors.
    let (edited, compiled, checked) = loop {
        open_editor(&file)?;
        let edited =
            std::fs::read_to_string(&file).map_err(|e| Error::Input(format!("cannot read {}: {e}", file.display())))?;
        if edited == decompiled.source {
            say!("{} unchanged: nothing to apply", decompiled.class);
            return Ok(());
        }
        let shown = file.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        let compiled = ctx
            .with_tools(&target, async |t| {
                tools::compile(
                    t,
                    &target,
                    &ctx.attach_opts,
                    ctx.timeout,
                    &[(shown.clone(), edited.clone().into_bytes())],
                    Some(&decompiled.loader.id),
                    Some(release),
                )
                .await
            })
            .await;
        match compiled {
            Ok(c) => {
                let checked = tools::edit::check(&decompiled, &c, &vm)?;
                break (edited, c, checked);
            }
            Err(e) if matches!(&e, Error::Tools(tools::ToolsError::Compile { .. })) && !args.yes => {
                esay!("{e}");
                if !ask("Open the editor again? [Y/n] ", true)? {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    };

    let diff = unified(&decompiled.source, &edited, 2);
    if !ctx.out.json {
        show(&decompiled, compiled.compiler.as_str(), &diff, &checked);
    }
    if checked.changed.is_empty() {
        say!("the compiled classes are the bytes the JVM runs: nothing to apply");
        return Ok(());
    }
    if !args.yes && !ask(&format!("Apply to JVM {}? [y/N] ", target.pid), false)? {
        say!("not applied; nothing was changed");
        return Ok(());
    }
    let opts = patch::RedefineOptions {
        loader: Some(decompiled.loader.id.clone()),
        allow_pending: true,
        force: false,
        timeout: ctx.timeout,
    };
    let report = patch::redefine(&target, checked.changed.clone(), &opts, &ctx.attach_opts).await?;
    if ctx.out.json {
        ctx.out.json_report(&EditReport {
            pid: target.pid,
            class: &decompiled.class,
            loader: &decompiled.loader,
            decompiler: &decompiled.decompiler,
            compiler: compiled.compiler.as_str(),
            compiler_reason: &compiled.compiler_reason,
            release: compiled.release,
            diff,
            classes: &checked.classes,
            redefinition: report,
        });
    } else {
        super::redefine::render(&ctx.out, &report);
        say!("`rollback {}` undoes it; `history` lists it", decompiled.class);
    }
    Ok(())
}

/// `$VISUAL`, else `$EDITOR`, else vi, on `file`, through `sh` (an editor setting may carry
/// arguments, as `code -w` does). An editor that fails leaves everything as it was.
fn open_editor(file: &Path) -> Result<(), Error> {
    let editor = ["VISUAL", "EDITOR"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .find(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "vi".into());
    let status = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("{editor} \"$1\""))
        .arg("sh")
        .arg(file)
        .status()
        .map_err(|e| Error::Input(format!("cannot run the editor `{editor}`: {e}")))?;
    if !status.success() {
        return Err(Error::Input(format!(
            "the editor `{editor}` exited with {status}; nothing was changed (set VISUAL or EDITOR to choose another)"
        )));
    }
    Ok(())
}

/// Asks on the terminal; Enter gives `default`.
fn ask(question: &str, default: bool) -> Result<bool, Error> {
    let mut err = std::io::stderr();
    let _ = write!(err, "{question}");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).map_err(|e| Error::Input(format!("cannot read the answer: {e}")))?;
    let a = line.trim().to_ascii_lowercase();
    Ok(if a.is_empty() { default } else { a == "y" || a == "yes" })
}

fn show(d: &Decompiled, compiler: &str, diff: &str, checked: &Checked) {
    say!("{} in JVM {}, loader {} ({}); compiled with {compiler}", d.class, d.pid, d.loader.id, d.loader.name);
    say_raw!("{diff}");
    for e in &checked.classes {
        match e.diff.verdict {
            Verdict::BodyOnly => {
                // Decompiled source rarely keeps the original line layout: methods whose only
                // difference is their line numbers are counted, not listed.
                let (lines_only, changed): (Vec<&String>, Vec<&String>) =
                    e.diff.changed_methods.iter().partition(|m| m.ends_with("(line numbers only)"));
                let mut what = if changed.is_empty() {
                    String::new()
                } else {
                    format!(": {}", changed.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", "))
                };
                if !lines_only.is_empty() {
                    what.push_str(&format!(
                        " ({} other method(s) get the decompiled source's line numbers)",
                        lines_only.len()
                    ));
                }
                say!("  {}  body-only{what}", e.diff.name);
                for x in &e.diff.explanations {
                    say!("      {x}");
                }
            }
            Verdict::Unchanged => say!("  {}  unchanged", e.diff.name),
            _ => {}
        }
    }
}
