//! How reports reach the user: aligned text for people, one JSON document on stdout for `--json`
//! (the contract in docs/json.md), notes on stderr, and a spinner for anything slow. Each command's
//! text layout lives with the command (`commands/<verb>.rs`); what every command shares lives here.

// Human output carries strings other users control (command lines, JVM and agent messages): on a
// terminal their control characters are shown escaped, so that a JVM started as
// `java -jar $'\e]…'` cannot drive root's terminal. JSON needs nothing: serde escapes them.
macro_rules! say {
    () => { $crate::render::stdout("\n") };
    ($($a:tt)*) => { $crate::render::stdout(&format!("{}\n", $crate::render::clean(&format!($($a)*), $crate::render::Stream::Out))) };
}
macro_rules! say_raw {
    ($($a:tt)*) => { $crate::render::stdout(&$crate::render::clean(&format!($($a)*), $crate::render::Stream::Out)) };
}
macro_rules! esay {
    () => { eprintln!() };
    ($($a:tt)*) => { eprintln!("{}", $crate::render::clean(&format!($($a)*), $crate::render::Stream::Err)) };
}

mod diff;
mod progress;
mod table;
mod time;

use std::borrow::Cow;

use jhot_engine::ExitCode;
use jhot_engine::agent::{self, Connection};
use jhot_engine::replace::state::Recovered;
use serde::Serialize;
use serde_json::{Value, json};

pub use diff::unified;
pub use progress::Progress;
pub use table::{print_table, print_table_indented};
pub use time::{human_duration, short, utc};

/// The version of the `--json` contract (docs/json.md). Every JSON document jhot prints carries it
/// as `"schema"`. Adding a field or an enum value keeps the number; renaming or removing a field,
/// or changing a value's type or meaning, raises it (and docs/json.md lists what changed).
pub const JSON_SCHEMA: u32 = 1;

/// Set while the shell pipes a command's output into a local command (`jad X | head`): a reader
/// that goes away then ends that output, not the shell.
static PIPE_MAY_CLOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_pipe_may_close(on: bool) {
    PIPE_MAY_CLOSE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// Writes to stdout. A reader that went away (`jhot ps | head -1`) ends jhot quietly, as for any
/// Unix filter, instead of a panic from `println!`.
pub fn stdout(text: &str) {
    use std::io::Write;
    if PIPE_MAY_CLOSE.load(std::sync::atomic::Ordering::Relaxed) {
        // Unbuffered, so that what a closed pipe refused is not left in std's buffer to come out
        // on the terminal once stdout is put back.
        use std::os::fd::FromRawFd;
        // SAFETY: fd 1 stays open for the process's life; ManuallyDrop never closes it.
        let mut raw = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(1) });
        let _ = raw.write_all(text.as_bytes());
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush())
        && e.kind() == std::io::ErrorKind::BrokenPipe
        && !PIPE_MAY_CLOSE.load(std::sync::atomic::Ordering::Relaxed)
    {
        std::process::exit(0);
    }
}

#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

/// `text` with every control character but newline and tab replaced by its escape, when the
/// stream is a terminal; unchanged otherwise (pipes and files get the bytes as they are).
pub fn clean(text: &str, stream: Stream) -> Cow<'_, str> {
    use std::io::IsTerminal;
    let tty = match stream {
        Stream::Out => std::io::stdout().is_terminal(),
        Stream::Err => std::io::stderr().is_terminal(),
    };
    if !tty {
        return Cow::Borrowed(text);
    }
    escape_controls(text)
}

pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(
                |c| {
                    if c.is_control() && c != '\n' && c != '\t' {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                },
            )
            .collect(),
    )
}

/// Where a command's report goes: text for people, or the JSON document of docs/json.md.
pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json }
    }

    /// The JSON document of a successful command: the report's fields, `"ok": true` and `"schema"`.
    pub fn json_report<T: Serialize>(&self, value: &T) {
        stdout(&format!("{}\n", serde_json::to_string_pretty(&success_document(value)).unwrap_or_default()));
    }

    /// A failure: `{"schema", "ok": false, "error": {kind, exit_code, message, …}}` on stdout with
    /// `--json`, one line on stderr without.
    pub fn error(&self, message: &str, code: ExitCode, details: Option<Value>) {
        if self.json {
            stdout(&format!(
                "{}\n",
                serde_json::to_string_pretty(&error_document(message, code, details)).unwrap_or_default()
            ));
        } else {
            esay!("jhot: error: {message}");
        }
    }

    /// Notes go to stderr in both modes so they never corrupt the JSON on stdout.
    pub fn note(&self, message: &str) {
        esay!("{message}");
    }

    pub fn connection_notes(&self, c: &Connection) {
        if c.jep451_warning {
            self.note(agent::JEP451_NOTE);
        }
    }

    /// What a later command found after a `jhot replace` that was killed mid-way; always on stderr.
    pub fn recovered(&self, list: &[Recovered]) {
        for r in list {
            self.note(&format!("jhot: note: {r}"));
        }
    }
}

/// An engine event as one line of text: `label: what key=value…` (arrays as space-separated
/// words). `jhot run` prints these; the spinner shows them.
pub fn event_line(label: &str, what: &str, detail: &Value) -> String {
    let mut line = format!("{label}: {what}");
    if let Value::Object(d) = detail {
        for (k, v) in d {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            line.push_str(&format!(" {k}={v}"));
        }
    }
    line
}

pub fn success_document<T: Serialize>(value: &T) -> Value {
    let mut v = serde_json::to_value(value).unwrap_or_else(|e| json!({ "serialization_error": e.to_string() }));
    if let Some(obj) = v.as_object_mut() {
        obj.insert("ok".into(), json!(true));
        obj.insert("schema".into(), json!(JSON_SCHEMA));
    }
    v
}

pub fn error_document(message: &str, code: ExitCode, details: Option<Value>) -> Value {
    // Details add to the error; they never replace the three fields every reader branches on.
    let mut error = match details {
        Some(Value::Object(more)) => more,
        _ => serde_json::Map::new(),
    };
    error.insert("kind".into(), json!(code.kind()));
    error.insert("exit_code".into(), json!(code.code()));
    error.insert("message".into(), json!(message));
    json!({ "schema": JSON_SCHEMA, "ok": false, "error": error })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(escape_controls("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(escape_controls("java -jar \u{1b}]0;pwned\u{7}.jar"), "java -jar \\u{1b}]0;pwned\\u{7}.jar");
        assert_eq!(escape_controls("a\rb\u{9b}c"), "a\\rb\\u{9b}c");
    }

    #[test]
    fn events_read_as_one_line() {
        let d = json!({ "pid": 7, "classes": ["a.B", "a.C"], "why": "x" });
        assert_eq!(event_line("jhot run", "replacing", &d), "jhot run: replacing classes=a.B a.C pid=7 why=x");
        assert_eq!(event_line("deploy", "planning", &Value::Null), "deploy: planning");
    }

    #[test]
    fn documents_carry_the_schema_and_ok() {
        let ok = success_document(&json!({ "pid": 1 }));
        assert_eq!(ok, json!({ "pid": 1, "ok": true, "schema": JSON_SCHEMA }));
        let err = error_document("gone", ExitCode::NoTarget, Some(json!({ "pid": 7, "kind": "not_mine" })));
        assert_eq!(
            err,
            json!({ "schema": JSON_SCHEMA, "ok": false,
                    "error": { "kind": "no_target", "exit_code": 3, "message": "gone", "pid": 7 } })
        );
    }
}
