//! A spinner on stderr for slow steps.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use jhot_engine::events::Events;
use serde_json::Value;

use super::Out;

/// A spinner on stderr that appears only if the operation is still running after a second, and
/// only on a terminal (never in `--json` mode or when piped).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn start(out: &Out, message: &str) -> Progress {
        if out.json || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
        bar.set_message(message.to_string());
        let shown = bar.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Progress { bar: Some(bar) }
    }

    /// A sink that shows a command's events as the spinner's message (`label: what detail…`);
    /// without a spinner it drops them.
    pub fn events(&self, label: &str) -> Events {
        let Some(bar) = self.bar.clone() else { return jhot_engine::events::discard() };
        let label = label.to_string();
        Arc::new(move |what: &str, detail: &Value| {
            bar.set_message(super::escape_controls(&super::event_line(&label, what, detail)).into_owned());
        })
    }

    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}
