//! Process replacement for changes a running JVM cannot take: a new process inherits the old one's
//! listening sockets (one shared accept queue: nothing is refused, nothing queued is lost), jhot
//! waits until it accepts on every one of them, then drains the old process. Under `jhot run`, idle
//! keep-alive connections are handed over too.
//!
//! * [`listeners`]: which sockets a process listens on (/proc), and which are not its application's.
//! * [`fds`]: copying them out of the old process (pidfd_getfd, or the agent over SCM_RIGHTS).
//! * [`command`]: the new command line, environment, directory and user.
//! * [`context`]: the old process's cgroups, limits, umask, priorities… kept by the new one.
//! * [`namespaces`]: a container's namespaces and root, entered by the new process.
//! * [`spawn`]: fork/exec with descriptors at 3.. and `LISTEN_PID`.
//! * [`ctl`] and [`generation`]: the shim's control socket and page (docs/shim-protocol.md), and a
//!   started process watched through them.
//! * [`ready`]: `--ready-url`. [`drain`]: stopping the old process, relaying hand-overs;
//!   [`servers`]: the servers jhot knows and how each is drained; [`inflight`]: which of the old
//!   process's connections still carry a request.
//! * [`state`]: what a jhot killed mid-way leaves behind, and cleaning it up.
//! * [`run`]: `jhot run`, and `jhot replace` talking to it.

pub mod command;
pub mod context;
pub mod ctl;
pub mod drain;
pub mod fds;
pub mod generation;
pub mod inflight;
pub mod listeners;
pub mod namespaces;
pub mod ready;
pub mod run;
pub mod servers;
pub mod shim;
pub mod spawn;
pub mod state;

use std::ffi::OsString;
use std::os::fd::{AsFd, OwnedFd};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agent::AgentError;
use crate::exit_code::ExitCode;
use crate::ms;
use command::{NewBuild, ProcessImage};
use drain::{DrainMode, DrainReport, Old};
use fds::FdSource;
use generation::{DirectChild, Generation, Launch};
use jhot_attach::{AttachOptions, Target};
use listeners::Listener;
use spawn::ExitStatus;

#[derive(Debug, thiserror::Error)]
pub enum TakeoverError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {what} of pid {pid}: {source}")]
    Inspect { pid: u32, what: String, source: std::io::Error },
    #[error(
        "pid {pid} has no listening TCP socket to hand over{}; nothing was changed",
        skipped_note(.skipped)
    )]
    NoListeners { pid: u32, skipped: Vec<Skipped> },
    #[error("cannot copy the listening sockets of pid {pid} with {how}: {source}{hint}")]
    CopyFds { pid: u32, how: &'static str, source: std::io::Error, hint: &'static str },
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error("cannot start {}: {source}; the old process keeps serving, nothing was changed", .program.display())]
    Spawn { program: PathBuf, source: std::io::Error },
    #[error(
        "the new process {pid} ended ({status}) before it was ready; the old process kept serving and \
         nothing was changed. Its output went to the old process's stdout/stderr (or the log jhot named)"
    )]
    NewExited { pid: u32, status: ExitStatus },
    #[error("{}", not_ready_message(*.pid, *.secs, *.shim_loaded, .missing, .url))]
    NotReady { pid: u32, secs: f64, shim_loaded: bool, missing: Vec<usize>, url: Option<String> },
    #[error("the old process {pid} exited before the new one was ready; the new process {new_pid} was stopped")]
    OldGone { pid: u32, new_pid: u32 },
    #[error(
        "the container of pid {pid} ended during the replacement (the kernel ended every process of its pid \
         namespace, the new process {new_pid} too): nothing jhot started is left running, and nothing serves there now"
    )]
    ContainerGone { pid: u32, new_pid: u32 },
    #[error("{}", new_gone_message(*.new_pid, *.old_pid, *.old_stopped))]
    NewGone { new_pid: u32, old_pid: u32, old_stopped: bool },
    #[error(
        "interrupted ({signal}) before the new process {new_pid} was ready: it was stopped without dropping what it \
         had accepted, the old process kept serving and nothing was changed"
    )]
    Interrupted { signal: &'static str, new_pid: u32 },
    #[error("jhot run (pid {supervisor}): {message}")]
    Supervisor { supervisor: u32, message: String, code: ExitCode },
    #[error(
        "{} is not the `jhot run` supervisor of pid {pid}: {reason}. Nothing was sent to it and nothing \
         was changed. Another user may have put it there; remove it (and the directory, if that user \
         owns it), then run jhot replace again",
        .socket.display()
    )]
    SupervisorImpostor { socket: PathBuf, pid: u32, reason: String },
    #[error("{what}: {source}")]
    Io { what: String, source: std::io::Error },
}

fn new_gone_message(new_pid: u32, old_pid: u32, old_stopped: bool) -> String {
    if old_stopped {
        format!(
            "the new process {new_pid} exited after the agent had stopped the servers of the old process {old_pid}: \
             nothing serves now. The old process was not signalled; restart the service"
        )
    } else {
        format!(
            "the new process {new_pid} exited after it became ready, before the old process {old_pid} was stopped; \
             the old process keeps serving and nothing was changed"
        )
    }
}

fn skipped_note(skipped: &[Skipped]) -> String {
    if skipped.is_empty() {
        return String::new();
    }
    let list: Vec<String> = skipped.iter().map(|s| format!("{}: {}", s.addr, s.reason)).collect();
    format!(" (it listens only on {})", list.join("; "))
}

fn not_ready_message(pid: u32, secs: f64, shim_loaded: bool, missing: &[usize], url: &Option<String>) -> String {
    let mut s = match url {
        Some(u) => format!("the new process {pid} accepts connections but {u} did not answer 2xx in time"),
        None => format!("the new process {pid} did not accept on every inherited listener within {secs:.1} s"),
    };
    if url.is_none() && !missing.is_empty() {
        s.push_str(&format!(
            " (listener(s) #{} not taken up)",
            missing.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(", #")
        ));
    }
    if !shim_loaded {
        s.push_str(
            "; jhot's shim never started in it — a start script that clears LD_PRELOAD, or a statically linked launcher?",
        );
    }
    s.push_str("; it was stopped, the old process kept serving and nothing was changed. Raise --ready-timeout if it needs longer to start");
    s
}

impl TakeoverError {
    fn io(what: &str, source: std::io::Error) -> TakeoverError {
        TakeoverError::Io { what: what.to_string(), source }
    }

    pub fn exit_code(&self) -> ExitCode {
        match self {
            TakeoverError::Usage(_) | TakeoverError::NoListeners { .. } => ExitCode::Input,
            TakeoverError::Inspect { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => ExitCode::NoTarget,
                std::io::ErrorKind::PermissionDenied => ExitCode::Permission,
                _ => ExitCode::Internal,
            },
            TakeoverError::CopyFds { source, .. } if source.raw_os_error() == Some(libc::EPERM) => ExitCode::Permission,
            TakeoverError::CopyFds { .. } => ExitCode::Replace,
            TakeoverError::Agent(e) => e.exit_code(),
            TakeoverError::Spawn { .. } | TakeoverError::NewExited { .. } | TakeoverError::NotReady { .. } => {
                ExitCode::Replace
            }
            TakeoverError::OldGone { .. } | TakeoverError::ContainerGone { .. } => ExitCode::Lost,
            TakeoverError::NewGone { old_stopped: true, .. } => ExitCode::Lost,
            TakeoverError::NewGone { .. } | TakeoverError::Interrupted { .. } => ExitCode::Replace,
            TakeoverError::Supervisor { code, .. } => *code,
            TakeoverError::SupervisorImpostor { .. } => ExitCode::Permission,
            TakeoverError::Io { .. } => ExitCode::Internal,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ReplaceOptions {
    pub build: NewBuild,
    pub ready_url: Option<String>,
    pub ready_timeout: Duration,
    pub drain_timeout: Duration,
    pub drain: DrainMode,
    pub fd_source: FdSource,
    /// Only these ports (default: every listener except those provably not the application's).
    pub ports: Vec<u16>,
    /// Where the new process's stdout and stderr go when not to the old one's.
    pub log: Option<PathBuf>,
    pub attach_timeout: Duration,
}

/// A listener of the old process that is not handed over, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Skipped {
    pub addr: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ListenerReport {
    pub addr: String,
    pub fd_in_old: i32,
    pub fd_in_new: Option<i32>,
    /// Not the application's (a debugger's, JMX's): handed over, but readiness did not wait for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auxiliary: Option<String>,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize, Default)]
pub struct Timings {
    /// Finding and copying the listeners.
    pub collect_ms: f64,
    /// From the spawn until the new process accepted on every listener.
    pub start_ms: f64,
    /// From the new process accepting on its last listener until the old one was told to drain:
    /// jhot's own share of the swap (the --ready-url probe included when given).
    pub overhead_ms: f64,
    pub drain_ms: f64,
    pub total_ms: f64,
}

#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct ReplaceReport {
    pub old_pid: u32,
    pub new_pid: u32,
    pub command: Vec<String>,
    pub change: String,
    pub listeners: Vec<ListenerReport>,
    /// Listeners not handed over: provably not the application's (a debugger, JMX, jhot's own
    /// agent channel), or not named by --port.
    pub skipped: Vec<Skipped>,
    /// Handed over, but the new process did not take them up: they closed with the old process.
    #[serde(default)]
    pub not_taken_over: Vec<String>,
    /// "pidfd", "agent", or "supervisor".
    pub fd_source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fd_fallback: Option<String>,
    /// Where the new process's output goes.
    pub output: String,
    pub supervised: bool,
    pub ready_url_status: Option<u16>,
    pub drain: DrainReport,
    pub timings_ms: Timings,
    /// Interrupted replacements found and cleaned up first.
    pub recovered: Vec<state::Recovered>,
    /// Code that would come back: the old JVM ran a `jhot deploy` that the new command does not.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// `jhot replace PID`: through the supervisor when `jhot run` started the process, else directly.
pub async fn replace(pid: u32, opts: &ReplaceOptions) -> Result<ReplaceReport, TakeoverError> {
    let recovered = state::recover_all()?;
    if let Some(sup) = run::find_for(pid) {
        let mut report = run::request_replace(&sup, pid, opts).await?;
        report.recovered = recovered;
        return Ok(report);
    }
    let mut report = replace_direct(pid, opts).await?;
    report.recovered = recovered;
    Ok(report)
}

/// The listeners to hand over, and why readiness need not wait for each (None: the application's).
pub struct Selected {
    pub chosen: Vec<Listener>,
    pub auxiliary: Vec<Option<String>>,
    pub skipped: Vec<Skipped>,
}

/// Which of the old process's listeners to hand over: those named by `ports`, else every one but
/// jhot's own agent channel; those `not_apps` names are handed over without being waited for.
pub fn select_listeners(
    pid: u32,
    all: Vec<Listener>,
    ports: &[u16],
    not_apps: &listeners::NotTheApplications,
) -> Result<Selected, TakeoverError> {
    let mut out = Selected { chosen: Vec::new(), auxiliary: Vec::new(), skipped: Vec::new() };
    if !ports.is_empty() {
        let missing: Vec<u16> = ports.iter().copied().filter(|p| !all.iter().any(|l| l.addr.port() == *p)).collect();
        if !missing.is_empty() {
            return Err(TakeoverError::Usage(format!(
                "pid {pid} does not listen on port(s) {}; it listens on {}",
                missing.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", "),
                all.iter().map(|l| l.addr.to_string()).collect::<Vec<_>>().join(", ")
            )));
        }
    }
    for l in all {
        let port = l.addr.port();
        let skip = if not_apps.jhot == Some(port) {
            Some("jhot's agent channel")
        } else if !ports.is_empty() && !ports.contains(&port) {
            Some("not named by --port")
        } else {
            None
        };
        if let Some(reason) = skip {
            out.skipped.push(Skipped { addr: l.addr.to_string(), reason: reason.to_string() });
            continue;
        }
        let aux = if ports.contains(&port) { None } else { not_apps.why(port).map(str::to_string) };
        out.chosen.push(l);
        out.auxiliary.push(aux);
    }
    if out.auxiliary.iter().all(Option::is_some) {
        let mut skipped = out.skipped;
        for (l, why) in out.chosen.iter().zip(&out.auxiliary) {
            skipped.push(Skipped { addr: l.addr.to_string(), reason: why.clone().unwrap_or_default() });
        }
        return Err(TakeoverError::NoListeners { pid, skipped });
    }
    Ok(out)
}

/// The ports of `target` that are not its application's: from its properties (asked over the
/// attach socket), its command line and option variables, and jhot's own agent channel.
async fn not_the_applications(
    target: &Target,
    image: &ProcessImage,
    timeout: Duration,
) -> listeners::NotTheApplications {
    let mut n =
        listeners::NotTheApplications { jhot: crate::agent::channel::agent_tcp_port(target), ..Default::default() };
    let args: Vec<String> = image.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let env_opts: Vec<String> = image
        .env
        .iter()
        .filter_map(|e| {
            let e = e.to_string_lossy();
            ["JAVA_TOOL_OPTIONS=", "JDK_JAVA_OPTIONS=", "_JAVA_OPTIONS="]
                .iter()
                .find_map(|k| e.strip_prefix(k).map(str::to_string))
        })
        .collect();
    n.from_command_line(args.iter().map(String::as_str).chain(env_opts.iter().flat_map(|o| o.split_whitespace())));
    let t = target.clone();
    let opts = AttachOptions { timeout, ..AttachOptions::default() };
    let props = tokio::task::spawn_blocking(move || {
        let get = |cmd: &str| jhot_attach::execute(&t, cmd, &[], &opts).ok().filter(|r| r.status == 0).map(|r| r.body);
        (get("properties"), get("agentProperties"))
    })
    .await;
    match props {
        Ok((Some(sys), Some(agent))) => n.from_properties(&sys, &agent),
        _ => tracing::debug!(
            pid = target.pid,
            "no properties over the attach socket; the command line alone says which ports are not the application's"
        ),
    }
    n
}

async fn replace_direct(pid: u32, opts: &ReplaceOptions) -> Result<ReplaceReport, TakeoverError> {
    let t0 = Instant::now();
    let target = Target::open(pid).map_err(|e| TakeoverError::Agent(e.into()))?;
    let image = ProcessImage::read(pid)?;
    let ready_url = opts.ready_url.as_deref().map(ready::ReadyUrl::parse).transpose()?;
    let (argv, change) = command::plan(&image.argv, &opts.build)?;
    let env = command::scrub_env(&image.env);
    let argv0 = PathBuf::from(argv.first().cloned().unwrap_or_default());
    // The same command runs the same binary the old process runs, wherever PATH points.
    let ns = namespaces::Namespaces::of(pid)?;
    let program = if let Some(root) = ns.root() {
        let exe = (!matches!(opts.build, NewBuild::Command(_))).then_some(image.exe.as_path());
        namespaces::program_in(&ns, root, exe, &argv0, &env, &image.cwd)
    } else if matches!(opts.build, NewBuild::Command(_)) {
        spawn::resolve_program(&argv0, &env, &image.cwd)
    } else {
        Some(image.exe.clone()).filter(|p| p.exists()).or_else(|| spawn::resolve_program(&argv0, &env, &image.cwd))
    }
    .ok_or_else(|| TakeoverError::Usage(format!("cannot find the program {} (PATH of pid {pid})", argv0.display())))?;

    let all = listeners::of_process(pid).map_err(|e| TakeoverError::Inspect {
        pid,
        what: "its sockets".into(),
        source: e,
    })?;
    let not_apps = not_the_applications(&target, &image, opts.attach_timeout).await;
    let Selected { chosen, auxiliary, skipped } = select_listeners(pid, all, &opts.ports, &not_apps)?;
    let old = Old::open(pid, target.start_time, Some(target.clone()))?;
    let attach_opts = AttachOptions { timeout: opts.attach_timeout, ..AttachOptions::default() };
    let copied = fds::copy(&target, &chosen, opts.fd_source, &attach_opts, opts.attach_timeout).await?;
    let collect_ms = ms(t0.elapsed());

    let (stdout, stderr, output) = output_fds(&copied, opts.log.as_deref(), pid, Some(image.uid))?;
    let mut warnings = stale_build_warning(&target, &opts.build, opts.attach_timeout).await;
    let session = prepare_agent_drain(opts.drain, &old, &attach_opts, true).await;
    let shim = shim::install_shim_for_spawn(&target)?;
    let creds = creds_for(&image);
    let exec_context = context::ExecContext::read(pid)?.prepare()?;
    warnings.extend(exec_context.warnings.iter().cloned());
    let mut state = state::StateFile::begin(pid)?;

    let launch = Launch {
        program: program.clone(),
        argv: argv.clone(),
        env,
        cwd: image.cwd.clone(),
        listeners: &copied.listeners,
        shim,
        stdout: stdout.as_fd(),
        stderr: stderr.as_fd(),
        creds,
        namespaces: Some(&ns),
        context: Some(&exec_context),
        setsid: true,
        extra_env: Vec::new(),
    };
    // From the spawn on, Ctrl-C, a SIGTERM or a lost terminal must not leave a half-started
    // process sharing the queue: they roll back like any failure until the new process is live.
    // After that the drain, bounded by --drain-timeout, finishes first (the signals stay caught:
    // tokio cannot give the default action back).
    let mut interrupts = Interrupts::new()?;
    let spawned_at = Instant::now();
    let mut g = match generation::launch(&launch) {
        Ok(g) => g,
        Err(e) => {
            state.finish();
            return Err(e);
        }
    };
    let _ = state.set_new(g.pid, g.start_time);
    tracing::info!(new_pid = g.pid, "started the new process");

    let shared_ports: Vec<u16> = copied.listeners.iter().map(|l| l.addr.port()).collect();
    let deadline = spawned_at + opts.ready_timeout;
    let new_pid = g.pid;
    let adoption = if opts.ports.is_empty() { generation::Adoption::Taken } else { generation::Adoption::Every };
    let optional: Vec<bool> = auxiliary.iter().map(Option::is_some).collect();
    let ready = tokio::select! {
        r = generation::wait_ready(&mut g, &DirectChild, deadline, ready_url.as_ref(), &shared_ports, adoption, &optional) => r,
        _ = old_exited(&old) => Err(TakeoverError::OldGone { pid, new_pid }),
        signal = interrupts.next() => Err(TakeoverError::Interrupted { signal, new_pid }),
    };
    let ready = match ready {
        Ok(r) => r,
        Err(e) => {
            retire(&mut g, &DirectChild, None, &copied.listeners, opts.drain_timeout).await;
            state.finish();
            let e = ns.explain(e, jhot_attach::process_alive(pid, target.start_time));
            // Both gone at once: the old one did not keep serving.
            if matches!(e, TakeoverError::NewExited { .. }) && old.exited() {
                return Err(TakeoverError::OldGone { pid, new_pid });
            }
            return Err(e);
        }
    };
    let _ = state.set_phase("draining");
    let overhead_ms = ready.accepting_at.map(|a| ms(a.elapsed())).unwrap_or(0.0);
    // Without a copy of the pidfd (out of descriptors) the drain goes on unchecked.
    let successor = drain::Successor::of(&g).ok();
    // The listeners the new process took over: the old one stops accepting on those.
    let fence: Vec<(i32, u64)> = chosen
        .iter()
        .enumerate()
        .filter(|(i, _)| g.adopted.get(*i).copied().flatten().is_some())
        .map(|(_, l)| (l.fd, l.inode))
        .collect();
    let drain = drain::drain(
        &old,
        drain::DrainArgs {
            agent: session,
            fence,
            timeout: opts.drain_timeout,
            old_gen: None,
            new_gen: None,
            listeners: &copied.listeners,
            successor,
        },
    )
    .await;
    if let Err(TakeoverError::NewGone { .. }) = &drain {
        // Reap it; nothing else is left to stop.
        retire(&mut g, &DirectChild, None, &copied.listeners, opts.drain_timeout).await;
    }
    state.finish();
    let drain = drain?;
    // A listener the new process did not take up closes with the old process: jhot's copy stops
    // its listening for every holder, or the new process's unused inherited copy would keep it
    // open with nobody accepting.
    let not_taken_over: Vec<String> = ready
        .not_taken_over
        .iter()
        .filter_map(|&i| copied.listeners.get(i))
        .map(|l| {
            let _ = rustix::net::shutdown(&l.fd, rustix::net::Shutdown::Read);
            l.addr.to_string()
        })
        .collect();
    let listeners = chosen
        .iter()
        .enumerate()
        .map(|(i, l)| ListenerReport {
            addr: l.addr.to_string(),
            fd_in_old: l.fd,
            fd_in_new: g.adopted.get(i).copied().flatten(),
            auxiliary: auxiliary.get(i).cloned().flatten(),
        })
        .collect();
    Ok(ReplaceReport {
        old_pid: pid,
        new_pid: g.pid,
        command: os(&argv),
        change,
        listeners,
        skipped,
        not_taken_over,
        fd_source: copied.source.to_string(),
        fd_fallback: copied.fallback_reason.clone(),
        output,
        supervised: false,
        ready_url_status: ready.url_status,
        timings_ms: Timings {
            collect_ms,
            start_ms: ready.spawn_to_accepting_ms,
            overhead_ms,
            drain_ms: drain.drain_ms,
            total_ms: ms(t0.elapsed()),
        },
        drain,
        recovered: Vec::new(),
        warnings,
    })
}

/// The old JVM may run code its command line does not start: a `jhot deploy` applied in memory.
/// Restarting the same command brings the command line's code back; say so.
async fn stale_build_warning(target: &Target, build: &NewBuild, timeout: Duration) -> Vec<String> {
    use crate::agent::protocol::{History, Request};
    if !matches!(build, NewBuild::Same) {
        return Vec::new();
    }
    let Ok(Some(mut session)) = crate::agent::connect_resident(target, timeout).await else { return Vec::new() };
    let Ok((history, _)) = session.call::<History>(&Request::History {}, vec![]).await else { return Vec::new() };
    match history.deploys.iter().rev().find(|d| !d.rolled_back) {
        Some(d) => vec![format!(
            "pid {} runs build {} (deploy {}, applied in memory); the new process runs its command line's code, which may              be older. Pass --jar {} to start that build",
            target.pid, d.build, d.id, d.build
        )],
        None => Vec::new(),
    }
}

/// The agent's channel for the drain, and its native library when it will `fence` (not under
/// `jhot run`, whose shim stops accepting), made ready before the new process starts; without the
/// channel the drain is SIGTERM alone (and the report says why).
pub async fn prepare_agent_drain(
    mode: DrainMode,
    old: &Old,
    attach_opts: &AttachOptions,
    fence: bool,
) -> Option<drain::AgentDrain> {
    if !drain::uses_agent(mode, old) {
        return None;
    }
    let target = old.target.as_ref()?;
    let session = match drain::agent_session(target, attach_opts, drain::AGENT_GRACE).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot reach the agent for a graceful drain; the old process will get SIGTERM only");
            return None;
        }
    };
    let lib = match fence.then(|| shim::install_jni(target)).transpose() {
        Ok(in_target) => in_target,
        Err(e) => {
            tracing::warn!(error = %e, "cannot install the agent's native library; the old process will not be fenced");
            None
        }
    };
    Some(drain::AgentDrain { session, lib })
}

/// Stops a new process that did not go live (not ready, interrupted, or the old one gone) without
/// failing what it accepted.
///
/// Why drain it rather than have it hold its accepts until jhot says "go": readiness itself is
/// learnt through the shared queue. ACCEPTING is reported when the server waits on it, and
/// `--ready-url`'s probe must be accepted by the new process from that same queue; an unmodified
/// server cannot be given a private path for the probe. So a new process takes some clients'
/// connections before jhot knows whether it is ready, and what matters is that those are finished,
/// never reset. The same machinery as the old process's drain does that:
/// * it stops taking connections: under `jhot run` the page's drain flag, which also hands idle
///   keep-alive connections back (`back_to`, the old generation, takes them through doorbells);
///   otherwise the refuse flag, as nothing could take them;
/// * SIGTERM runs its graceful stop, which finishes the requests it holds;
/// * SIGKILL only after `timeout` (--drain-timeout).
///
/// A server without a graceful stop still drops its requests in flight at SIGTERM, as in any drain.
pub async fn retire(
    g: &mut Generation,
    watch: &dyn generation::ExitWatch,
    back_to: Option<&mut Generation>,
    listeners: &[generation::Inherited],
    timeout: Duration,
) {
    if !g.has_exited() {
        if back_to.is_none() {
            g.page.set_refuse();
        }
        settle(g.pid).await;
        let drained = match Old::of(g, None) {
            Ok(old) => {
                let hand_back = back_to.is_some();
                let args = drain::DrainArgs {
                    agent: None,
                    fence: Vec::new(),
                    timeout,
                    old_gen: if hand_back { Some(&mut *g) } else { None },
                    new_gen: back_to,
                    listeners,
                    successor: None,
                };
                drain::drain(&old, args).await
            }
            Err(e) => Err(e),
        };
        match drained {
            Ok(r) => tracing::info!(
                pid = g.pid,
                outcome = %r.outcome,
                handed_back = r.handed_over,
                lost = r.lost,
                "stopped the new process"
            ),
            Err(e) => {
                tracing::warn!(pid = g.pid, error = %e, "could not stop the new process gracefully; SIGKILL");
                let _ = g.signal(rustix::process::Signal::KILL);
            }
        }
    }
    // Reaped here (a direct child) or by the supervisor's reaper.
    let until = Instant::now() + Duration::from_secs(5);
    while watch.exited(g.pid).is_none() && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Lets connections a process accepted just before it stopped taking new ones reach its server
/// before the graceful stop: such a stop finishes the exchanges in progress, but may reset a
/// connection whose request nobody has read yet (the JDK's HttpServer does, so the agent's drain
/// waits too). At least 150 ms, then until the process holds no connection with unread bytes,
/// at most 2 s.
async fn settle(pid: u32) {
    let started = Instant::now();
    tokio::time::sleep(Duration::from_millis(150)).await;
    while started.elapsed() < Duration::from_secs(2) {
        match listeners::unread_connections(pid) {
            Ok(0) | Err(_) => break,
            Ok(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

/// SIGINT, SIGTERM and SIGHUP, caught from the spawn of a new process on.
struct Interrupts {
    int: tokio::signal::unix::Signal,
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Interrupts {
    fn new() -> Result<Interrupts, TakeoverError> {
        use tokio::signal::unix::{SignalKind, signal};
        let catch = |k| signal(k).map_err(|e| TakeoverError::io("handling signals", e));
        Ok(Interrupts {
            int: catch(SignalKind::interrupt())?,
            term: catch(SignalKind::terminate())?,
            hup: catch(SignalKind::hangup())?,
        })
    }

    async fn next(&mut self) -> &'static str {
        tokio::select! {
            _ = self.int.recv() => "SIGINT",
            _ = self.term.recv() => "SIGTERM",
            _ = self.hup.recv() => "SIGHUP",
        }
    }
}

async fn old_exited(old: &Old) {
    match old.exit_watch() {
        Ok(afd) => {
            let _ = afd.readable().await;
        }
        // Without a watch the readiness wait still ends at its deadline.
        Err(_) => std::future::pending().await,
    }
}

/// The new process writes where the old one did (its stdout and stderr, copied), unless --log.
fn output_fds(
    copied: &fds::Copied,
    log: Option<&std::path::Path>,
    pid: u32,
    owner: Option<u32>,
) -> Result<(OwnedFd, OwnedFd, String), TakeoverError> {
    // Opened as root for a process that runs as the JVM's user: never through a final link (a
    // planted `app.log -> /etc/ld.so.preload`), never a FIFO or device, and only a file of root's
    // or that user's.
    let open_log = |p: &std::path::Path| -> Result<OwnedFd, TakeoverError> {
        use rustix::fs::{FileType, Mode, OFlags};
        let what = |e: std::io::Error| TakeoverError::io(&format!("opening the log file {}", p.display()), e);
        let fd = rustix::fs::open(
            p,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o640),
        )
        .map_err(|e| what(e.into()))?;
        let st = rustix::fs::fstat(&fd).map_err(|e| what(e.into()))?;
        let owner_ok = st.st_uid == 0 || st.st_uid == rustix::process::geteuid().as_raw() || Some(st.st_uid) == owner;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || !owner_ok {
            return Err(what(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!("it is not a regular file of root's or uid {}'s", owner.unwrap_or(0)),
            )));
        }
        rustix::fs::fcntl_setfl(&fd, OFlags::WRONLY | OFlags::APPEND).map_err(|e| what(e.into()))?;
        Ok(fd)
    };
    if let Some(p) = log {
        let a = open_log(p)?;
        let b = a.try_clone().map_err(|e| TakeoverError::io("duplicating the log descriptor", e))?;
        return Ok((a, b, p.display().to_string()));
    }
    let dup = |f: &Option<OwnedFd>| f.as_ref().and_then(|f| f.try_clone().ok());
    match (dup(&copied.stdout), dup(&copied.stderr)) {
        (Some(o), Some(e)) => {
            let where_ = jhot_attach::procfs::read_fd_link(pid, 1).map(|p| p.display().to_string()).unwrap_or_default();
            Ok((o, e, format!("the old process's stdout/stderr ({where_})")))
        }
        _ => {
            // In jhot's own verified directory, opened through its descriptor: never a link
            // someone planted, and never a descriptor to another file handed to the new process.
            let name = format!("replace-{pid}.log");
            let dir = crate::agent::private_dir::own(true)?.ok_or_else(|| {
                TakeoverError::io("creating jhot's private directory", std::io::ErrorKind::NotFound.into())
            })?;
            let a = dir.open_append(&name).map_err(|e| {
                TakeoverError::io(&format!("opening the log file {}", dir.shown_file(&name).display()), e)
            })?;
            let b = a.try_clone().map_err(|e| TakeoverError::io("duplicating the log descriptor", e))?;
            Ok((a, b, dir.shown_file(&name).display().to_string()))
        }
    }
}

/// Root replacing another user's process starts the new one as that user, with its groups.
fn creds_for(image: &ProcessImage) -> Option<(u32, u32, Vec<u32>)> {
    let (uid, gid) = (rustix::process::getuid().as_raw(), rustix::process::getgid().as_raw());
    // Supplementary groups count too: root's replacement of a root service started with
    // SupplementaryGroups= must not get the operator's groups.
    let mut groups: Vec<u32> = rustix::process::getgroups().unwrap_or_default().iter().map(|g| g.as_raw()).collect();
    let mut theirs = image.groups.clone();
    groups.sort_unstable();
    theirs.sort_unstable();
    if (image.uid, image.gid) == (uid, gid) && groups == theirs {
        return None;
    }
    Some((image.uid, image.gid, image.groups.clone()))
}

pub fn os(v: &[OsString]) -> Vec<String> {
    v.iter().map(|a| a.to_string_lossy().into_owned()).collect()
}
