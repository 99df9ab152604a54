//! jhot's agent inside the target JVM: the jar embedded in this binary (built from `agent-java/`
//! by build.rs), installing it into the target's private directory, loading it once through the
//! attach socket, and talking to it afterwards over its control channel.

pub mod channel;
mod javaagent;
pub mod pool;
pub mod private_dir;
pub mod protocol;

pub use javaagent::{default_agent_dir, write_agent_jar};

use std::path::PathBuf;

use jhot_attach::safe_fs::PrivateDir;
use std::time::{Duration, Instant};

pub use channel::Session;
pub use protocol::{AgentFailure, FailureKind};

use serde::de::DeserializeOwned;

use crate::exit_code::ExitCode;
use jhot_attach::{AttachError, AttachOptions, Target};
use protocol::{Envelope, Frame, Request};

/// The agent jar, compiled from agent-java/ with `javac --release 11` at build time.
pub static AGENT_JAR: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/jhot-agent.jar"));

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error(transparent)]
    Attach(#[from] AttachError),
    #[error("cannot write jhot's private files at {path}: {source}")]
    Install { path: PathBuf, source: std::io::Error },
    #[error(
        "refusing to use {path}: {reason}. Another user may have prepared it to run code in the JVM; \
         remove it (as root or its owner) and run jhot again"
    )]
    PrivateDirUnsafe { path: PathBuf, reason: String },
    #[error("cannot connect to the agent's control channel {path}: {source}")]
    Connect { path: PathBuf, source: std::io::Error },
    #[error(
        "the agent loaded but did not open its control channel within {secs} s; the JVM's stderr has \
         a line starting with [jhot-agent] that says why"
    )]
    NoChannel { secs: u64 },
    #[error(
        "the resident agent ({agent}) speaks protocol {protocol}, this jhot speaks {}; use the jhot \
         version that loaded it, or restart the JVM",
        protocol::PROTOCOL_VERSION
    )]
    Version { agent: String, protocol: u32 },
    #[error(
        "timed out after {secs} s {what}; the JVM may be hung or stopped (check it with `jhot info`), or raise --timeout"
    )]
    Timeout { what: &'static str, secs: u64 },
    #[error("the JVM (pid {pid}) exited during the operation")]
    Exited { pid: u32 },
    #[error("the agent closed the connection without answering")]
    Closed,
    #[error("connection to the agent failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("unexpected answer from the agent: {0}")]
    Protocol(String),
    #[error("{}", refused_message(.0))]
    Refused(AgentFailure),
}

fn refused_message(f: &AgentFailure) -> String {
    match f.kind {
        FailureKind::Rejected => {
            format!("the JVM refused the change and kept running the old code (nothing was changed): {}", f.message)
        }
        _ => f.message.clone(),
    }
}

impl AgentError {
    /// Machine-readable particulars for `--json`: the agent's refusal as it sent it (its `kind`
    /// then stands for the error's kind).
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            // The agent's own word goes under `agent`: `error.kind` and `error.message` stay jhot's
            // (one kind per exit code, docs/json.md).
            AgentError::Refused(f) => Some(serde_json::json!({
                "classes": f.classes,
                "agent": { "kind": f.kind, "message": f.message },
            })),
            _ => None,
        }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            AgentError::Attach(e) => ExitCode::of_attach(e),
            AgentError::PrivateDirUnsafe { .. } => ExitCode::Permission,
            AgentError::Install { .. } | AgentError::Connect { .. } | AgentError::NoChannel { .. } => ExitCode::Attach,
            AgentError::Version { .. } => ExitCode::Attach,
            AgentError::Timeout { .. } | AgentError::Exited { .. } | AgentError::Closed | AgentError::Io(_) => {
                ExitCode::Lost
            }
            AgentError::Protocol(_) => ExitCode::Internal,
            AgentError::Refused(f) => match f.kind {
                FailureKind::Rejected | FailureKind::Unmodifiable => ExitCode::Rejected,
                FailureKind::NotLoaded | FailureKind::NotPatched | FailureKind::Input | FailureKind::Refused => {
                    ExitCode::Input
                }
                FailureKind::Native | FailureKind::Io => ExitCode::Attach,
                FailureKind::Protocol
                | FailureKind::Auth
                | FailureKind::Version
                | FailureKind::LoadedSincePlan
                | FailureKind::Internal
                | FailureKind::Unknown(_) => ExitCode::Internal,
                // Only a client that sent `cancel` sees it (the CLI never does: SIGINT ends it
                // before any answer); the shell reports its own interruption the same way.
                FailureKind::Cancelled => ExitCode::Cancelled,
            },
        }
    }
}

/// How the session came about, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Connection {
    /// True if this command loaded the agent (first attach); false if it was resident.
    pub loaded_now: bool,
    /// Time to attach and load the agent, when `loaded_now`.
    pub load_ms: Option<f64>,
    /// Set when the JVM printed JEP 451's dynamic-agent warning because of this load.
    pub jep451_warning: bool,
}

/// Connects to the resident agent without loading anything. `Ok(None)`: no agent is resident.
pub async fn connect_resident(target: &Target, timeout: Duration) -> Result<Option<Session>, AgentError> {
    channel::connect(target, timeout).await
}

/// Sends `request` to the agent of `target`, loading the agent first when it is not resident.
/// Loading happens at most once per JVM: later commands find the channel and never attach again
/// (one JVMTI environment, one JEP 451 warning).
///
/// On a cold load the request rides with the load: it is written to the private directory and
/// named in the agent's arguments, and agentmain answers it into a file while the channel opens on
/// another thread (agent-java's `Inbox`). The session is returned when there is one.
pub async fn call_or_load<T: DeserializeOwned>(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    request: &Request,
    blobs: Vec<Vec<u8>>,
) -> Result<Call<T>, AgentError> {
    call_or_load_with(target, opts, timeout, request, blobs, false).await
}

/// [`call_or_load`] for a command that sends nothing after this request on a cold load: the
/// agent opens its channel only after answering (`open=late`), so that on a busy JVM the two do
/// not compete for the core the application leaves free. A later request still finds the channel.
pub async fn call_or_load_alone<T: DeserializeOwned>(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    request: &Request,
    blobs: Vec<Vec<u8>>,
) -> Result<Call<T>, AgentError> {
    call_or_load_with(target, opts, timeout, request, blobs, true).await
}

async fn call_or_load_with<T: DeserializeOwned>(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    request: &Request,
    blobs: Vec<Vec<u8>>,
    alone: bool,
) -> Result<Call<T>, AgentError> {
    // The request goes right behind the channel's hello (see connect_with).
    if let Some((session, answer)) = channel::connect_with::<T>(target, timeout, Some((request, blobs.clone()))).await?
    {
        let answer = answer.unwrap_or_else(|| Err(AgentError::Protocol("no answer to the request".into())));
        let connection = Connection { loaded_now: false, load_ms: None, jep451_warning: false };
        return Ok(Call { session: Some(session), connection, answer });
    }
    let cold = ColdLoad::start(target, opts, request, blobs.clone(), if alone { ",open=late" } else { "" })?;
    let (req, resp) = (cold.file(".req"), cold.file(".resp"));
    let dir = cold.dir.clone();
    // The answer is complete once it is renamed into place. What agentmain does after it (open
    // the channel) and the JVM's reply to the load, which waits for agentmain to return, are not
    // this command's: an answer shows that the load worked. The attach connection is left to
    // close when jhot exits.
    let answer = wait_for_file(&dir, &resp, &cold.load).await;
    dir.remove(&resp);
    if let Some(bytes) = answer {
        let connection = connection_after_load(target, cold.started);
        let answer = decode_whole(&bytes).and_then(|frame| channel::parse_response(frame, 1));
        return Ok(Call { session: None, connection, answer });
    }
    let taken = !dir.exists(&req);
    dir.remove(&req);
    finish_load(cold.load).await?;
    let connection = connection_after_load(target, cold.started);
    if taken {
        return Err(not_answered(target));
    }
    // The agent did not take the request (an older agent, or the directory check failed): send
    // it over the channel like any other.
    let mut session = wait_for_channel(target, timeout).await?;
    let answer = session.call(request, blobs).await;
    Ok(Call { session: Some(session), connection, answer })
}

/// Two requests where the second depends on the first answer (redefine after its pre-flight):
/// `decide` looks at the first answer and returns the second request, or `None` to stop there.
///
/// With a resident agent both go over the channel. On a cold load both ride with the load:
/// agentmain answers the first request file and waits briefly for a second one (agent-java's
/// `Inbox.followUp`), which jhot writes as soon as it has read the first answer, so neither waits
/// for the channel to open.
pub async fn call_then<T, U, F>(
    target: &Target,
    opts: &AttachOptions,
    timeout: Duration,
    first: &Request,
    decide: F,
) -> Result<Pair<T, U>, AgentError>
where
    T: DeserializeOwned,
    U: DeserializeOwned,
    F: FnOnce(&T, &[Vec<u8>]) -> Option<(Request, Vec<Vec<u8>>)>,
{
    if let Some((session, answer)) = channel::connect_with::<T>(target, timeout, Some((first, vec![]))).await? {
        let connection = Connection { loaded_now: false, load_ms: None, jep451_warning: false };
        let first = answer.unwrap_or_else(|| Err(AgentError::Protocol("no answer to the first request".into())))?;
        return Ok(then_over_channel(session, connection, first, decide).await);
    }
    // The follow-up request also rides in a file, so this command never uses the channel: the
    // agent opens it after answering (open=late).
    let ColdLoad { started, stem, dir, load } = ColdLoad::start(target, opts, first, Vec::new(), ",more=1,open=late")?;
    let at = |suffix: &str| format!("{stem}{suffix}");
    let (req, resp, req2, resp2, end) = (at(".req"), at(".resp"), at(".2.req"), at(".2.resp"), at(".end"));
    let cleanup = || {
        for f in [&req, &resp, &req2, &resp2, &end] {
            dir.remove(f);
        }
    };
    let connection = |started: Instant| connection_after_load(target, started);

    let Some(bytes) = wait_for_file(&dir, &resp, &load).await else {
        // agentmain returned without answering: the load failed, or this agent does not take
        // requests with the load (the channel does), or it took it and failed.
        let taken = !dir.exists(&req);
        cleanup();
        finish_load(load).await?;
        if taken {
            return Err(not_answered(target));
        }
        let session = wait_for_channel(target, timeout).await?;
        return over_channel(session, connection(started), first, decide).await;
    };
    let answer = decode_whole(&bytes).and_then(|frame| channel::parse_response::<T>(frame, 1));
    let second = match &answer {
        Ok((a, blobs)) => decide(a, blobs),
        Err(_) => None,
    };
    let second = match second {
        None => {
            // Nothing more: let agentmain (and the JVM's attach listener) go at once.
            let _ = private_dir::write_file(target, &dir, &end, Vec::new());
            None
        }
        Some((request, blobs)) => {
            private_dir::write_file(target, &dir, &req2, encode(&request, 2, blobs.clone())?)?;
            match wait_for_file(&dir, &resp2, &load).await {
                Some(bytes) => Some(decode_whole(&bytes).and_then(|frame| channel::parse_response::<U>(frame, 2))),
                None if dir.exists(&req2) => {
                    // Too late for agentmain (it stopped waiting): send it over the channel.
                    dir.remove(&req2);
                    let mut session = wait_for_channel(target, timeout).await?;
                    let second = session.call::<U>(&request, blobs).await;
                    cleanup();
                    finish_load(load).await?;
                    let first = answer?;
                    return Ok(Pair {
                        session: Some(session),
                        connection: connection(started),
                        first,
                        second: Some(second),
                    });
                }
                None => Some(Err(not_answered(target))),
            }
        }
    };
    cleanup();
    finish_load(load).await?;
    Ok(Pair { session: None, connection: connection(started), first: answer?, second })
}

/// Both requests over an open channel.
async fn over_channel<T, U, F>(
    mut session: Session,
    connection: Connection,
    first: &Request,
    decide: F,
) -> Result<Pair<T, U>, AgentError>
where
    T: DeserializeOwned,
    U: DeserializeOwned,
    F: FnOnce(&T, &[Vec<u8>]) -> Option<(Request, Vec<Vec<u8>>)>,
{
    let first = session.call::<T>(first, Vec::new()).await?;
    Ok(then_over_channel(session, connection, first, decide).await)
}

/// The second step of [`call_then`] once the first answer is in, on an open channel.
async fn then_over_channel<T, U, F>(
    mut session: Session,
    connection: Connection,
    (answer, blobs): (T, Vec<Vec<u8>>),
    decide: F,
) -> Pair<T, U>
where
    U: DeserializeOwned,
    F: FnOnce(&T, &[Vec<u8>]) -> Option<(Request, Vec<Vec<u8>>)>,
{
    let second = match decide(&answer, &blobs) {
        Some((request, b)) => Some(session.call::<U>(&request, b).await),
        None => None,
    };
    Pair { session: Some(session), connection, first: (answer, blobs), second }
}

/// Two answers of [`call_then`]: the first always, the second if `decide` asked for it.
pub struct Pair<T, U> {
    pub session: Option<Session>,
    pub connection: Connection,
    pub first: (T, Vec<Vec<u8>>),
    pub second: Option<Answer<U>>,
}

/// An agent's answer: its body and its blobs, or why there is none.
pub type Answer<T> = Result<(T, Vec<Vec<u8>>), AgentError>;

/// A load of the agent under way, with a request riding along as a file in the private directory
/// (agent-java's `Inbox`); `more`: agentmain waits for a follow-up request too.
struct ColdLoad {
    started: Instant,
    stem: String,
    /// The target's private directory, verified and open: the answers are read through it.
    dir: PrivateDir,
    load: tokio::task::JoinHandle<Result<(), AttachError>>,
}

impl ColdLoad {
    fn start(
        target: &Target,
        opts: &AttachOptions,
        request: &Request,
        blobs: Vec<Vec<u8>>,
        more: &str,
    ) -> Result<ColdLoad, AgentError> {
        let started = Instant::now();
        let (dir, jar) = private_dir::install_jar(target, AGENT_JAR)?;
        let stem = format!("{}-{:016x}", target.nspid, nonce());
        private_dir::write_file(target, &dir, &format!("{stem}.req"), encode(request, 1, blobs)?)?;
        let options = format!("dir={},req={stem}.req{more}", private_dir::in_target(target));
        let load = {
            let target = target.clone();
            let opts = *opts;
            tokio::task::spawn_blocking(move || jhot_attach::load_agent(&target, &jar, &options, &opts))
        };
        Ok(ColdLoad { started, stem, dir, load })
    }

    /// A file of this conversation: `.resp`, `.2.req`, ...
    fn file(&self, suffix: &str) -> String {
        format!("{}{suffix}", self.stem)
    }
}

fn connection_after_load(target: &Target, started: Instant) -> Connection {
    Connection {
        loaded_now: true,
        load_ms: Some(started.elapsed().as_secs_f64() * 1000.0),
        jep451_warning: jep451_applies(target),
    }
}

/// Waits for the agent's answer file while the load that carries the request is under way.
/// `None`: the load finished and no answer appeared.
async fn wait_for_file(
    dir: &PrivateDir,
    name: &str,
    load: &tokio::task::JoinHandle<Result<(), AttachError>>,
) -> Option<Vec<u8>> {
    loop {
        // The agent renames a complete answer into place, so a file that exists is whole. Read
        // through the verified directory, as a bounded regular file of the JVM user's: never a
        // FIFO that would hang jhot, never through a link.
        if let Ok(bytes) = dir.read(name, MAX_ANSWER) {
            return Some(bytes);
        }
        if load.is_finished() {
            return dir.read(name, MAX_ANSWER).ok();
        }
        // Polled, not watched: closing an inotify descriptor waits for an RCU grace period of the
        // kernel's (measured: 4 ms to add the watch, 20 ms to close it), longer than the answer.
        // Every millisecond, tokio's timer granularity. A 250 us poll on a thread of its own was
        // tried and made cold redefines on a busy 2-core machine slower: its wakeups took the
        // shared core from the JVM's agent thread.
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn finish_load(load: tokio::task::JoinHandle<Result<(), AttachError>>) -> Result<(), AgentError> {
    load.await.map_err(|e| AgentError::Protocol(format!("attach task failed: {e}")))??;
    Ok(())
}

/// The largest answer file: the protocol's frame limit.
const MAX_ANSWER: u64 = 256 * 1024 * 1024;

fn encode(request: &Request, id: u64, blobs: Vec<Vec<u8>>) -> Result<Vec<u8>, AgentError> {
    Frame::new(&Envelope { id, request, events: false }, blobs)
        .map_err(|e| AgentError::Protocol(e.to_string()))?
        .encode()
        .map_err(|e| AgentError::Protocol(e.to_string()))
}

fn not_answered(target: &Target) -> AgentError {
    AgentError::Protocol(format!(
        "the agent took the request but wrote no answer; the JVM's stderr has [jhot-agent] lines \
         that say why, and `jhot history {}` shows whether anything changed",
        target.pid
    ))
}

/// A request that reached the agent, and how: `answer` is the agent's reply (a refusal is
/// `Err(AgentError::Refused)`); `session` is open if the request went over the channel.
pub struct Call<T> {
    pub session: Option<Session>,
    pub connection: Connection,
    pub answer: Result<(T, Vec<Vec<u8>>), AgentError>,
}

/// The agent's channel, waiting briefly for it to open (it opens while agentmain answers a
/// request that came with the load).
pub async fn wait_for_channel(target: &Target, timeout: Duration) -> Result<Session, AgentError> {
    let deadline = Instant::now() + Duration::from_secs(5).max(timeout.min(Duration::from_secs(30)));
    loop {
        if let Some(session) = channel::connect(target, timeout).await? {
            return Ok(session);
        }
        if !target.is_alive() {
            return Err(AgentError::Exited { pid: target.pid });
        }
        if Instant::now() > deadline {
            return Err(AgentError::NoChannel { secs: 5 });
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn decode_whole(bytes: &[u8]) -> Result<Frame, AgentError> {
    let bad = |e: protocol::FrameError| AgentError::Protocol(format!("agent's answer file: {e}"));
    if bytes.len() < 4 {
        return Err(AgentError::Protocol("agent's answer file is truncated".into()));
    }
    let len = Frame::body_len([bytes[0], bytes[1], bytes[2], bytes[3]]).map_err(bad)?;
    if len != bytes.len() - 4 {
        return Err(AgentError::Protocol("agent's answer file is truncated".into()));
    }
    Frame::decode_body(&bytes[4..]).map_err(bad)
}

/// True when the JVM printed JEP 451's warning for the load jhot just did: JDK 21+, started
/// without -XX:+EnableDynamicAgentLoading.
fn jep451_applies(target: &Target) -> bool {
    // Perf data normally gives the version; a JVM without it costs one probe more.
    let version = target
        .java_version
        .clone()
        .or_else(|| jhot_attach::discover::probe(target.pid).ok().and_then(|j| j.java_version));
    version.is_some_and(|v| java_feature(&v) >= 21) && !target.dynamic_agent_loading_flag()
}

/// A name no other jhot run will pick: request files of concurrent runs must not collide.
fn nonce() -> u64 {
    let mut b = [0u8; 8];
    if std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut b)).is_ok() {
        return u64::from_ne_bytes(b);
    }
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    (t as u64) ^ u64::from(std::process::id()).rotate_left(32)
}

/// `"17.0.15"` → 17, `"1.8.0_392"` → 8.
pub fn java_feature(version: &str) -> u32 {
    let mut parts = version.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
    match parts.next().and_then(|p| p.parse().ok()) {
        Some(1) => parts.next().and_then(|p| p.parse().ok()).unwrap_or(1),
        Some(n) => n,
        None => 0,
    }
}

/// The text jhot prints once, on the load that triggered JEP 451's warning in the target.
pub const JEP451_NOTE: &str = "note: this JVM (JDK 21+) printed a 4-line \"A Java agent has been loaded dynamically\" \
warning on its stderr because jhot loaded its agent now (JEP 451). jhot keeps the agent resident, so \
it will not happen again for this JVM. To silence it for good, start the JVM with \
-XX:+EnableDynamicAgentLoading, or pre-install the agent at startup with the option printed by \
`jhot agent --javaagent-flag`.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_feature_parses_both_schemes() {
        assert_eq!(java_feature("17.0.15"), 17);
        assert_eq!(java_feature("21"), 21);
        assert_eq!(java_feature("25.0.3+9-LTS"), 25);
        assert_eq!(java_feature("1.8.0_392"), 8);
        assert_eq!(java_feature(""), 0);
    }

    #[test]
    fn embedded_agent_is_a_small_jar() {
        assert!(AGENT_JAR.starts_with(b"PK"));
        // 46 KB for redefinition alone; drain, descriptor passing and deploy (inventory, new-class
        // definition, undoable deploy records) brought it to ~90 KB, and the shell's ops
        // (streaming and cancel, threads, getstatic, jvm, classes, class_info, loaders,
        // class_files, list_package) to ~115 KB. Their classes load only when a request uses them,
        // so a cold redefinition loads none of them. One compressed entry for the classes (Boot)
        // made it ~95 KB. The budget keeps the rest in check.
        assert!(AGENT_JAR.len() <= 128 * 1024, "agent jar is {} bytes, the budget is 128 KiB", AGENT_JAR.len());
    }

    /// The layout Boot.java reads: Boot is the JVM's entry and the jar's only class entry; every
    /// other class is in dev/jhot/agent/classes.bin, whole.
    #[test]
    fn embedded_agent_keeps_its_classes_in_one_entry() {
        use std::io::Read;
        let mut jar = zip::ZipArchive::new(std::io::Cursor::new(AGENT_JAR)).expect("agent jar");
        let names: Vec<String> =
            (0..jar.len()).map(|i| jar.by_index(i).expect("entry").name().expect("entry name").to_string()).collect();
        let classes: Vec<&String> = names.iter().filter(|n| n.ends_with(".class")).collect();
        assert_eq!(classes, ["dev/jhot/agent/Boot$Loader.class", "dev/jhot/agent/Boot.class"], "{names:?}");
        let mut manifest = String::new();
        jar.by_name("META-INF/MANIFEST.MF").expect("manifest").read_to_string(&mut manifest).expect("read");
        assert!(manifest.contains("Agent-Class: dev.jhot.agent.Boot\r\n"), "{manifest}");
        assert!(manifest.contains("Premain-Class: dev.jhot.agent.Boot\r\n"), "{manifest}");
        let mut blob = Vec::new();
        jar.by_name("dev/jhot/agent/classes.bin").expect("classes entry").read_to_end(&mut blob).expect("read");
        let mut found = Vec::new();
        let mut at = 0;
        while at < blob.len() {
            let n = usize::from(u16::from_be_bytes([blob[at], blob[at + 1]]));
            let name = std::str::from_utf8(&blob[at + 2..at + 2 + n]).expect("utf-8 name").to_string();
            at += 2 + n;
            let len = u32::from_be_bytes(blob[at..at + 4].try_into().expect("4 bytes")) as usize;
            at += 4;
            assert!(blob[at..at + len].starts_with(&[0xCA, 0xFE, 0xBA, 0xBE]), "{name}");
            at += len;
            found.push(name);
        }
        assert_eq!(at, blob.len());
        for want in ["dev.jhot.agent.Agent", "dev.jhot.agent.ops.Patches", "dev.jhot.agent.Server$1"] {
            assert!(found.iter().any(|n| n == want), "{want} missing from {found:?}");
        }
        assert!(!found.iter().any(|n| n.starts_with("dev.jhot.agent.Boot")), "{found:?}");
    }
}
