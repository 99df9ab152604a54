//! `jhot agent --javaagent-flag`: the agent jar for loading at JVM start-up.

use std::path::Path;

use jhot_engine::{Error, agent};
use serde_json::json;

use super::Ctx;
use crate::args::AgentArgs;
use crate::render::Out;

pub async fn run(args: AgentArgs, ctx: &Ctx) -> Result<(), Error> {
    let dir = match args.dir {
        Some(d) => d,
        None => agent::default_agent_dir()?,
    };
    let path = agent::write_agent_jar(&dir)?;
    render(&ctx.out, &path);
    Ok(())
}

pub fn render(out: &Out, path: &Path) {
    if out.json {
        out.json_report(&json!({ "jar": path, "option": format!("-javaagent:{}", path.display()) }));
    } else {
        say!("-javaagent:{}", path.display());
    }
}
