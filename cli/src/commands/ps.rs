//! `jhot ps`: the JVMs this user may see.

use std::time::Duration;

use jhot_engine::inspect::{self, PsEntry};
use jhot_engine::{Error, replace};
use serde_json::json;

use super::Ctx;
use crate::render::{Out, human_duration, print_table};

pub async fn run(ctx: &Ctx) -> Result<(), Error> {
    ctx.out.recovered(&replace::state::recover_all()?);
    let list = inspect::ps(Duration::from_secs(2).min(ctx.timeout)).await;
    render(&ctx.out, &list);
    Ok(())
}

pub fn render(out: &Out, list: &[PsEntry]) {
    if out.json {
        out.json_report(&json!({ "jvms": list }));
        return;
    }
    let mut rows =
        vec![vec!["PID".to_string(), "USER".into(), "JDK".into(), "UPTIME".into(), "AGENT".into(), "MAIN".into()]];
    for e in list {
        let agent = match e.agent.resident {
            Some(true) => "resident",
            Some(false) => "-",
            None => "?",
        };
        rows.push(vec![
            e.jvm.pid.to_string(),
            e.jvm.user.clone().unwrap_or_else(|| e.jvm.uid.to_string()),
            e.jvm.java_version.clone().unwrap_or_else(|| "?".into()),
            e.jvm.uptime.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "?".into()),
            agent.into(),
            e.jvm.main.clone().unwrap_or_else(|| "?".into()),
        ]);
    }
    print_table(&rows);
    if list.is_empty() {
        esay!("no JVM found (only JVMs this user may see are listed; try as root)");
    }
}
