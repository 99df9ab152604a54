//! `jhot run -- COMMAND`: start a server under jhot (listeners held, signals forwarded, zombies
//! reaped) so that later replacements also hand idle connections over. Reports on stderr: stdout
//! belongs to the application.

use std::sync::Arc;

use jhot_engine::Error;
use jhot_engine::events::Events;
use jhot_engine::replace::run::{self, RunOptions};
use serde_json::{Value, json};

use super::Ctx;
use crate::args::RunArgs;
use crate::render::{JSON_SCHEMA, event_line};

/// Runs until the application's last generation exits; its exit code is jhot's.
pub async fn run(args: RunArgs, ctx: &Ctx) -> Result<u8, Error> {
    let events: Events = if ctx.out.json { Arc::new(event_json) } else { Arc::new(event_text) };
    let opts = RunOptions { command: args.command, agent: !args.no_agent, pid_file: args.pid_file, events };
    let code = run::run(opts).await?;
    Ok(code.clamp(0, 255) as u8)
}

/// One JSON line per event on stderr (docs/json.md, "jhot run events").
fn event_json(what: &str, detail: &Value) {
    let mut v = json!({ "schema": JSON_SCHEMA, "event": what, "supervisor": std::process::id() });
    if let (Some(o), Value::Object(d)) = (v.as_object_mut(), detail) {
        o.extend(d.clone());
    }
    eprintln!("{v}");
}

fn event_text(what: &str, detail: &Value) {
    esay!("{}", event_line("jhot run", what, detail));
}
