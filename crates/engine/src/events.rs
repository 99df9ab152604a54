//! Progress and notes for whoever drives a command: the binary prints them (text or JSON lines),
//! the shell and watch mode will show them in place. The engine never prints; a long command takes
//! a [`Sink`] and tells it what it is doing, as `jhot run` always has.
//!
//! An event is a name (`"planned"`, `"replaced"`, …) and a JSON object of details. Names and
//! fields of `jhot run`'s events are part of the JSON contract (docs/json.md).

use std::sync::Arc;

use serde_json::Value;

/// Where a command's events go. Called on the command's own task; must not block.
pub trait Sink: Send + Sync {
    fn event(&self, what: &str, detail: &Value);
}

impl<F: Fn(&str, &Value) + Send + Sync> Sink for F {
    fn event(&self, what: &str, detail: &Value) {
        self(what, detail)
    }
}

/// A shared sink, cheap to clone into options.
pub type Events = Arc<dyn Sink>;

/// A sink that drops everything (tests, callers that only want the report).
pub fn discard() -> Events {
    Arc::new(|_: &str, _: &Value| {})
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn closures_are_sinks() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        let sink: Events = Arc::new(move |what: &str, d: &Value| s.lock().unwrap().push((what.to_string(), d.clone())));
        sink.event("planned", &serde_json::json!({ "classes": 3 }));
        discard().event("ignored", &Value::Null);
        assert_eq!(seen.lock().unwrap().as_slice(), &[("planned".to_string(), serde_json::json!({ "classes": 3 }))]);
    }
}
