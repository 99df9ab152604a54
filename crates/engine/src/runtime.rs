//! Looking inside a running JVM without changing it (`jhot thread`, `getstatic`, `jvm`, `sysprop`):
//! what its threads do, a static field's value, the platform MXBeans' facts, and its system
//! properties. The agent sends facts; sorting, filtering and layout happen here and in the CLI.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::agent::{self, AgentError, Session, protocol::Request};
use jhot_attach::{AttachError, AttachOptions, Target};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error("JVM {pid} has no system property {name}")]
    NoProperty { pid: u32, name: String },
    #[error("the JVM's answer to the attach `properties` command could not be read: {0}")]
    BadProperties(String),
}

impl RuntimeError {
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            RuntimeError::Agent(e) => e.details(),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> crate::ExitCode {
        match self {
            RuntimeError::Agent(e) => e.exit_code(),
            RuntimeError::Attach(e) => crate::ExitCode::of_attach(e),
            RuntimeError::NoProperty { .. } => crate::ExitCode::Input,
            RuntimeError::BadProperties(_) => crate::ExitCode::Internal,
        }
    }
}

// ---- threads --------------------------------------------------------------------------------

/// What `jhot thread` asks for.
#[derive(Debug, Clone, Default)]
pub struct ThreadsQuery {
    /// Sample CPU time over this many milliseconds (the agent waits; cancellable).
    pub interval_ms: Option<u64>,
    /// Only the busiest N.
    pub top: Option<u32>,
    /// Only these threads, with their stacks.
    pub ids: Vec<u64>,
    /// Only threads in this state (`RUNNABLE`, `BLOCKED`, `WAITING`, `TIMED_WAITING`, ...).
    pub state: Option<String>,
    /// Frames per stack.
    pub depth: Option<u32>,
}

/// One thread as the agent reports it (docs/protocol.md, `threads`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThreadInfo {
    pub id: u64,
    pub name: String,
    pub state: String,
    pub daemon: bool,
    pub priority: i32,
    pub cpu_ns: Option<u64>,
    pub user_ns: Option<u64>,
    /// Percent of one CPU over the interval; `None` without one.
    pub cpu_percent: Option<f64>,
    pub blocked_count: u64,
    pub waited_count: u64,
    pub lock: Option<String>,
    pub lock_owner_id: Option<u64>,
    pub lock_owner_name: Option<String>,
    pub in_native: bool,
    pub suspended: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stack: Option<Vec<String>>,
}

#[derive(Debug, Clone, Deserialize)]
struct ThreadsReply {
    interval_ms: Option<u64>,
    cpu_time: bool,
    total: u64,
    threads: Vec<ThreadInfo>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ThreadsReport {
    pub pid: u32,
    /// How the agent was reached (for the JEP 451 note); not part of the document.
    #[serde(skip)]
    pub connection: Option<agent::Connection>,
    pub interval_ms: Option<u64>,
    /// Whether the JVM measures per-thread CPU time (else `cpu_ns` is null everywhere).
    pub cpu_time: bool,
    /// Live threads the agent saw (before `--state` and `-n`).
    pub total: u64,
    pub threads: Vec<ThreadInfo>,
}

/// The JVM's threads, busiest first. With an interval the agent samples CPU time over it; the
/// request then goes over the channel, never with a cold load (it would hold the JVM's attach
/// listener for the whole interval), and dropping the future closes the socket, which cancels it.
pub async fn threads(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    q: &ThreadsQuery,
) -> Result<ThreadsReport, RuntimeError> {
    // With a state filter the agent cannot cut to the top N itself.
    let top = if q.state.is_some() { None } else { q.top };
    let request = Request::Threads {
        interval_ms: q.interval_ms,
        top,
        ids: q.ids.clone(),
        stacks: !q.ids.is_empty(),
        depth: q.depth,
    };
    let (reply, connection): (ThreadsReply, _) = if q.interval_ms.is_some() {
        let (mut session, connection) = session(target, opts, timeout).await?;
        (session.call(&request, vec![]).await?.0, connection)
    } else {
        let call = agent::call_or_load(target, opts, timeout, &request, vec![]).await?;
        (call.answer?.0, call.connection)
    };
    let mut threads = reply.threads;
    if let Some(state) = &q.state {
        threads.retain(|t| t.state.eq_ignore_ascii_case(state));
        if let Some(n) = q.top {
            threads.truncate(n as usize);
        }
    }
    Ok(ThreadsReport {
        pid: target.pid,
        connection: Some(connection),
        interval_ms: reply.interval_ms,
        cpu_time: reply.cpu_time,
        total: reply.total,
        threads,
    })
}

/// An open channel to the agent, loading it first if needed (the load carries a `history`, which
/// reads nothing that matters and answers at once).
async fn session(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
) -> Result<(Session, agent::Connection), AgentError> {
    let call =
        agent::call_or_load::<serde::de::IgnoredAny>(target, opts, timeout, &Request::History {}, vec![]).await?;
    call.answer?;
    let session = match call.session {
        Some(s) => s,
        None => agent::wait_for_channel(target, timeout).await?,
    };
    Ok((session, call.connection))
}

// ---- getstatic ------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StaticLoader {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Deserialize)]
struct StaticReply {
    class: String,
    loader: StaticLoader,
    field: String,
    declared_in: String,
    declared_type: String,
    initialized: bool,
    value: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StaticReport {
    pub pid: u32,
    /// How the agent was reached (for the JEP 451 note); not part of the document.
    #[serde(skip)]
    pub connection: Option<agent::Connection>,
    pub class: String,
    pub loader: StaticLoader,
    pub field: String,
    /// The class that declares the field (the class itself, a superclass or an interface).
    pub declared_in: String,
    pub declared_type: String,
    /// False: the class is loaded but its static initializer has not run; nothing was read
    /// (reading would run it) and `value` is null.
    pub initialized: bool,
    /// The agent's rendering (docs/protocol.md, `getstatic`); null when not initialized.
    pub value: serde_json::Value,
    pub depth: u32,
}

/// A static field's value, read without running application code. A field or class that is not
/// there is the agent's `input` refusal (exit 6).
pub async fn getstatic(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    class: &str,
    field: &str,
    loader: Option<String>,
    depth: u32,
) -> Result<StaticReport, RuntimeError> {
    let request = Request::Getstatic { class: class.into(), loader, field: field.into(), depth };
    let call = agent::call_or_load(target, opts, timeout, &request, vec![]).await?;
    let r: StaticReply = call.answer?.0;
    Ok(StaticReport {
        pid: target.pid,
        connection: Some(call.connection),
        class: r.class,
        loader: r.loader,
        field: r.field,
        declared_in: r.declared_in,
        declared_type: r.declared_type,
        initialized: r.initialized,
        value: r.value.unwrap_or(serde_json::Value::Null),
        depth,
    })
}

// ---- jvm ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmRuntime {
    pub name: String,
    pub vendor: String,
    pub version: String,
    pub vm_version: String,
    pub pid: i64,
    pub start_ms: i64,
    pub uptime_ms: i64,
    pub input_arguments: Vec<String>,
    pub class_path: String,
    pub library_path: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryUsage {
    pub init: Option<u64>,
    pub used: u64,
    pub committed: u64,
    pub max: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MemoryPool {
    pub name: String,
    /// `heap` or `non_heap`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub usage: MemoryUsage,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmMemory {
    pub heap: MemoryUsage,
    pub non_heap: MemoryUsage,
    pub pending_finalization: u64,
    pub pools: Vec<MemoryPool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Collector {
    pub name: String,
    pub count: i64,
    pub time_ms: i64,
    pub pools: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmThreads {
    pub live: u64,
    pub daemon: u64,
    pub peak: u64,
    pub started: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmClasses {
    pub loaded: u64,
    pub total: u64,
    pub unloaded: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmCompilation {
    pub name: Option<String>,
    pub time_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmOs {
    pub name: String,
    pub version: String,
    pub arch: String,
    pub cpus: u32,
    pub load_average: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JvmFacts {
    pub runtime: JvmRuntime,
    pub memory: JvmMemory,
    pub gc: Vec<Collector>,
    pub threads: JvmThreads,
    pub classes: JvmClasses,
    pub compilation: JvmCompilation,
    pub os: JvmOs,
}

#[derive(Debug, Clone, Serialize)]
pub struct JvmReport {
    pub pid: u32,
    /// How the agent was reached (for the JEP 451 note); not part of the document.
    #[serde(skip)]
    pub connection: Option<agent::Connection>,
    #[serde(flatten)]
    pub facts: JvmFacts,
}

/// What the JVM's platform MXBeans report.
pub async fn jvm(target: &Target, opts: &AttachOptions, timeout: Duration) -> Result<JvmReport, RuntimeError> {
    let call = agent::call_or_load(target, opts, timeout, &Request::Jvm {}, vec![]).await?;
    Ok(JvmReport { pid: target.pid, connection: Some(call.connection), facts: call.answer?.0 })
}

// ---- sysprop --------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize)]
pub struct Property {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SyspropReport {
    pub pid: u32,
    /// Sorted by name.
    pub properties: Vec<Property>,
}

/// The JVM's system properties, from the attach listener's `properties` command: no agent is
/// loaded for it (nothing stays in the JVM), and it works where loading an agent is not allowed.
/// `name`: only that property, which must exist (else exit 6).
pub async fn sysprops(
    target: &Target,
    opts: &AttachOptions,
    name: Option<&str>,
) -> Result<SyspropReport, RuntimeError> {
    let reply = {
        let (target, opts) = (target.clone(), *opts);
        tokio::task::spawn_blocking(move || jhot_attach::execute(&target, "properties", &[], &opts))
            .await
            .map_err(|e| RuntimeError::BadProperties(format!("the attach task failed: {e}")))??
    };
    if reply.status != 0 {
        return Err(RuntimeError::BadProperties(format!("status {}: {}", reply.status, reply.body.trim())));
    }
    let mut properties = parse_properties(&reply.body);
    properties.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(n) = name {
        properties.retain(|p| p.name == n);
        if properties.is_empty() {
            return Err(RuntimeError::NoProperty { pid: target.pid, name: n.to_string() });
        }
    }
    Ok(SyspropReport { pid: target.pid, properties })
}

/// `java.util.Properties.store` text (what the JVM sends): `#` and `!` comments, `key=value` or
/// `key:value` or `key value`, backslash escapes (`\t \n \r \f \uXXXX`, any other char as itself),
/// and lines continued with a trailing odd backslash.
pub fn parse_properties(text: &str) -> Vec<Property> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(first) = lines.next() {
        let mut logical = first.trim_start().to_string();
        if logical.is_empty() || logical.starts_with('#') || logical.starts_with('!') {
            continue;
        }
        while ends_continued(&logical) {
            logical.pop();
            match lines.next() {
                Some(next) => logical.push_str(next.trim_start()),
                None => break,
            }
        }
        let chars: Vec<char> = logical.chars().collect();
        let mut k = 0;
        let mut key_end = chars.len();
        while k < chars.len() {
            match chars[k] {
                '\\' => k += 2,
                '=' | ':' | ' ' | '\t' | '\x0c' => {
                    key_end = k;
                    break;
                }
                _ => k += 1,
            }
        }
        let key_end = key_end.min(chars.len());
        let mut v = key_end;
        while v < chars.len() && matches!(chars[v], ' ' | '\t' | '\x0c') {
            v += 1;
        }
        if v < chars.len() && matches!(chars[v], '=' | ':') {
            v += 1;
        }
        while v < chars.len() && matches!(chars[v], ' ' | '\t' | '\x0c') {
            v += 1;
        }
        out.push(Property { name: unescape(&chars[..key_end]), value: unescape(&chars[v.min(chars.len())..]) });
    }
    out
}

fn ends_continued(line: &str) -> bool {
    line.chars().rev().take_while(|&c| c == '\\').count() % 2 == 1
}

fn unescape(chars: &[char]) -> String {
    let mut s = String::with_capacity(chars.len());
    let mut k = 0;
    while k < chars.len() {
        let c = chars[k];
        k += 1;
        if c != '\\' || k >= chars.len() {
            s.push(c);
            continue;
        }
        let e = chars[k];
        k += 1;
        match e {
            't' => s.push('\t'),
            'n' => s.push('\n'),
            'r' => s.push('\r'),
            'f' => s.push('\x0c'),
            'u' => {
                let hex: String = chars.get(k..k + 4).map(|h| h.iter().collect()).unwrap_or_default();
                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                    Some(ch) if hex.len() == 4 => {
                        s.push(ch);
                        k += 4;
                    }
                    // A surrogate pair (non-BMP) or a malformed escape: keep the text as sent.
                    _ => {
                        if let Some(ch) = surrogate_pair(chars, k) {
                            s.push(ch);
                            k += 10;
                        } else {
                            s.push_str("\\u");
                        }
                    }
                }
            }
            other => s.push(other),
        }
    }
    s
}

/// `XXXX\uYYYY` at `k` (after a `\u`) forming a UTF-16 surrogate pair.
fn surrogate_pair(chars: &[char], k: usize) -> Option<char> {
    let hi: String = chars.get(k..k + 4)?.iter().collect();
    let rest: String = chars.get(k + 4..k + 10)?.iter().collect();
    let lo = rest.strip_prefix("\\u")?;
    let hi = u32::from_str_radix(&hi, 16).ok()?;
    let lo = u32::from_str_radix(lo, 16).ok()?;
    if !(0xD800..0xDC00).contains(&hi) || !(0xDC00..0xE000).contains(&lo) {
        return None;
    }
    char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_store_text_is_parsed() {
        let text = "#Sat Dec 05 16:00:00 UTC 2026\n\
                    java.version=17.0.15\n\
                    line.separator=\\n\n\
                    path.separator=\\:\n\
                    user.dir=/srv/app\\ one\n\
                    weird\\=key=a\\=b\n\
                    uni=caf\\u00E9 \\uD83D\\uDE00\n\
                    cont=a\\\n   b\n\
                    empty=\n\
                    ! comment\n";
        let p = parse_properties(text);
        let get = |n: &str| p.iter().find(|x| x.name == n).map(|x| x.value.clone());
        assert_eq!(get("java.version").as_deref(), Some("17.0.15"));
        assert_eq!(get("line.separator").as_deref(), Some("\n"));
        assert_eq!(get("path.separator").as_deref(), Some(":"));
        assert_eq!(get("user.dir").as_deref(), Some("/srv/app one"));
        assert_eq!(get("weird=key").as_deref(), Some("a=b"));
        assert_eq!(get("uni").as_deref(), Some("café 😀"));
        assert_eq!(get("cont").as_deref(), Some("ab"));
        assert_eq!(get("empty").as_deref(), Some(""));
        assert_eq!(p.len(), 8);
    }

    #[test]
    fn malformed_escapes_are_kept() {
        let p = parse_properties("a=\\u12\nb=\\");
        assert_eq!(p[0].value, "\\u12");
        assert_eq!(p[1].value, "");
    }
}
