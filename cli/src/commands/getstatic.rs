//! `jhot getstatic PID CLASS FIELD [--loader L] [-x DEPTH]`: a static field's value, as the agent
//! renders it without running application code (docs/protocol.md, `getstatic`), laid out as an
//! indented tree.

use jhot_attach::Target;
use jhot_engine::Error;
use jhot_engine::runtime::{self, StaticReport};
use serde_json::Value;

use super::Ctx;
use crate::args::GetstaticArgs;
use crate::render::{Out, Progress};

pub async fn run(args: GetstaticArgs, ctx: &Ctx) -> Result<(), Error> {
    let target = Target::open(args.pid)?;
    let progress = Progress::start(&ctx.out, &format!("reading {}.{} in JVM {}", args.class, args.field, args.pid));
    let report =
        runtime::getstatic(&target, &ctx.attach_opts, ctx.timeout, &args.class, &args.field, args.loader, args.depth)
            .await;
    progress.finish();
    let report = report?;
    if let Some(c) = &report.connection {
        ctx.out.connection_notes(c);
    }
    render(&ctx.out, &report);
    Ok(())
}

pub fn render(out: &Out, r: &StaticReport) {
    if out.json {
        out.json_report(r);
        return;
    }
    let declared = if r.declared_in != r.class { format!(", declared in {}", r.declared_in) } else { String::new() };
    say!("{}.{} ({}{declared}; loader {} {})", r.class, r.field, r.declared_type, r.loader.name, r.loader.id);
    if !r.initialized {
        say!("not read: {} is loaded but not initialized (reading would run its static initializer)", r.declared_in);
        return;
    }
    let mut lines = Vec::new();
    tree(&r.value, "", &mut lines);
    for l in lines {
        say!("{l}");
    }
}

/// One value as text: the first line after `prefix`, nested fields and elements indented below.
fn tree(v: &Value, prefix: &str, lines: &mut Vec<String>) {
    let indent = " ".repeat(prefix.len().min(2) + prefix.len() - prefix.trim_start().len());
    lines.push(format!("{prefix}{}", one_line(v)));
    let inner = format!("{indent}  ");
    if let Some(fields) = v.get("fields").and_then(Value::as_array) {
        for f in fields {
            let name = f.get("name").and_then(Value::as_str).unwrap_or("?");
            let label = match f.get("declared_in").and_then(Value::as_str) {
                Some(d) => format!("{inner}{name} ({d}) = "),
                None => format!("{inner}{name} = "),
            };
            if f.get("inaccessible").is_some() {
                let ty = f.get("type").and_then(Value::as_str).unwrap_or("?");
                lines.push(format!("{label}<{ty}, not readable: its module does not open it>"));
            } else if let Some(value) = f.get("value") {
                tree(value, &label, lines);
            }
        }
    }
    if let Some(elements) = v.get("elements").and_then(Value::as_array)
        && !elements.iter().all(is_scalar)
    {
        for (k, e) in elements.iter().enumerate() {
            tree(e, &format!("{inner}[{k}] "), lines);
        }
    }
    if v.get("truncated").and_then(Value::as_bool) == Some(true) && v.get("fields").is_some() {
        lines.push(format!("{inner}…"));
    }
}

fn is_scalar(v: &Value) -> bool {
    v.get("ref").is_none()
}

fn one_line(v: &Value) -> String {
    let ty = v.get("type").and_then(Value::as_str).unwrap_or("?");
    if let Some(name) = v.get("enum").and_then(Value::as_str) {
        return format!("{ty}.{name}");
    }
    if v.get("omitted").is_some() {
        return format!("{ty} … (answer size limit)");
    }
    if let Some(r) = v.get("ref").and_then(Value::as_str) {
        let mut s = r.to_string();
        if let Some(n) = v.get("length").and_then(Value::as_u64) {
            s.push_str(&format!(" length {n}"));
            if let Some(elements) = v.get("elements").and_then(Value::as_array)
                && elements.iter().all(is_scalar)
            {
                let shown: Vec<String> = elements.iter().map(scalar).collect();
                let more = if (elements.len() as u64) < n { ", …" } else { "" };
                s.push_str(&format!(" [{}{more}]", shown.join(", ")));
            }
        }
        if v.get("cycle").is_some() {
            s.push_str(" (cycle)");
        }
        return s;
    }
    match v.get("value") {
        Some(Value::Null) | None => "null".into(),
        Some(_) => {
            let mut s = scalar(v);
            if let Some(n) = v.get("length").and_then(Value::as_u64) {
                s.push_str(&format!(" … ({n} chars)"));
            }
            s
        }
    }
}

fn scalar(v: &Value) -> String {
    let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
    match v.get("value") {
        Some(Value::String(s)) if ty == "java.lang.String" => format!("{s:?}"),
        Some(Value::String(s)) if ty == "char" || ty == "java.lang.Character" => format!("'{s}'"),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => match v.get("enum").and_then(Value::as_str) {
            Some(e) => format!("{ty}.{e}"),
            None => "null".into(),
        },
        Some(other) => other.to_string(),
    }
}
