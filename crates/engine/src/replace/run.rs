//! `jhot run`: starts an application under jhot's supervision and stays its parent. It holds a copy
//! of every listening socket the application opens (the shim reports them), forwards signals, reaps
//! zombies (so it can be PID 1 in a container), tells systemd the main pid, and performs
//! replacements asked for by `jhot replace` over a Unix socket in its private directory — with
//! idle keep-alive connections handed from the old generation to the new one.

use std::collections::HashMap;
use std::ffi::OsString;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::signal::unix::{SignalKind, signal};

use super::command::{self, NewBuild};
use super::drain::{self, DrainMode, Old};
use super::generation::{self, ExitWatch, Generation, Inherited, Launch};
use super::spawn::ExitStatus;
use super::{ReplaceOptions, ReplaceReport, TakeoverError, Timings, ready};
use crate::agent::{self, private_dir};
use crate::exit_code::ExitCode;
use jhot_attach::{AttachOptions, Target};

/// Where the supervisor with pid `sup` listens, for a process of user `uid`.
fn socket_path(uid: u32, sup: u32) -> PathBuf {
    PathBuf::from(format!("/tmp/.jhot-{uid}/run-{sup}.sock"))
}

/// A `jhot run` socket that may belong to the supervisor of a target, and what it must prove once
/// connected. The socket lives in `/tmp/.jhot-<uid>`, which another user may have created first
/// (after a boot or a /tmp clean) and filled with a listener of their own: the path proves
/// nothing, only the peer's credentials do.
pub struct Found {
    pub supervisor: u32,
    pub socket: PathBuf,
    /// The process `jhot replace` was given, and its start time.
    target: u32,
    target_start: u64,
    target_uid: u32,
    /// The supervisor's start time when it was found: the same pid later is the same process
    /// only if this has not changed.
    supervisor_start: u64,
    /// For a supervisor in a container: its private directory, resolved inside the container's
    /// root and held open, which `socket` names through /proc/self/fd.
    _dir: Option<Arc<OwnedFd>>,
}

/// Where a supervisor in another root (a container: `jhot run` as its PID 1) listens, as the host
/// reaches it: the container's `/tmp/.jhot-<uid>` resolved inside that root (a link the tenant
/// planted stays inside it), and the socket named by the supervisor's pid in the container.
fn socket_in_container(target: u32, uid: u32, sup: u32) -> Option<(PathBuf, Arc<OwnedFd>)> {
    use rustix::fs::OFlags;
    let root = jhot_attach::safe_fs::proc_root(target).ok()?;
    let dir = jhot_attach::safe_fs::open_in_root(
        root.as_fd(),
        &format!("/tmp/.jhot-{uid}"),
        OFlags::PATH | OFlags::DIRECTORY,
    )
    .ok()?;
    let name = format!("run-{}.sock", jhot_attach::procfs::read_status(sup).ok()?.nspid);
    jhot_attach::safe_fs::stat_nofollow(dir.as_fd(), &name).ok()?;
    Some((jhot_attach::safe_fs::fd_path(dir.as_fd(), &name), Arc::new(dir)))
}

/// The supervisor of `pid`, when `pid` is one (`jhot replace <supervisor pid>`) or its parent is.
/// Only a candidate: [`request_replace`] checks the peer before it sends anything.
pub fn find_for(pid: u32) -> Option<Found> {
    let uid = jhot_attach::procfs::read_status(pid).ok()?.euid;
    let stat = jhot_attach::procfs::read_stat(pid).ok()?;
    let in_container = super::namespaces::has_other_root(pid);
    for sup in [pid, stat.ppid] {
        if sup == 0 {
            continue;
        }
        let (socket, dir) = if in_container {
            let Some((socket, dir)) = socket_in_container(pid, uid, sup) else { continue };
            (socket, Some(dir))
        } else {
            let socket = socket_path(uid, sup);
            if std::fs::symlink_metadata(&socket).is_err() {
                continue;
            }
            (socket, None)
        };
        let Some(supervisor_start) = jhot_attach::procfs::start_ticks(sup) else { continue };
        return Some(Found {
            supervisor: sup,
            socket,
            target: pid,
            target_start: stat.start_ticks,
            target_uid: uid,
            supervisor_start,
            _dir: dir,
        });
    }
    None
}

/// Why the process at the other end of `stream` is not the supervisor `found` names, or None when
/// it is: the pid that listens there (SO_PEERCRED) is the target itself or the target's parent
/// right now, that process is the one found (same start time), and it runs as the target's user
/// or root. A pid cannot be faked in SO_PEERCRED, and the parent's pid cannot belong to another
/// process while the target lives.
fn impostor(stream: &UnixStream, found: &Found) -> Option<String> {
    let cred = match stream.peer_cred() {
        Ok(c) => c,
        Err(e) => return Some(format!("its credentials cannot be read ({e})")),
    };
    let Some(peer) = cred.pid().and_then(|p| u32::try_from(p).ok()) else {
        return Some("the kernel reports no pid for the process listening there".into());
    };
    let (sup, target) = (found.supervisor, found.target);
    let relation = if sup == target { "the process itself" } else { "its parent" };
    if peer != sup {
        return Some(format!(
            "the process listening there is pid {peer} (uid {}), not {relation} (pid {sup})",
            cred.uid()
        ));
    }
    if cred.uid() != found.target_uid && cred.uid() != 0 {
        return Some(format!(
            "pid {peer} listens there as uid {}, neither the process's uid {} nor root",
            cred.uid(),
            found.target_uid
        ));
    }
    if !jhot_attach::process_alive(sup, found.supervisor_start) {
        return Some(format!("pid {sup} is no longer the process jhot found (it exited or the pid was reused)"));
    }
    match jhot_attach::procfs::read_stat(target) {
        Ok(s) if s.start_ticks != found.target_start || !s.is_running() => {
            Some(format!("pid {target} exited (or its pid was reused) meanwhile"))
        }
        Ok(s) if sup != target && s.ppid != sup => Some(format!("pid {sup} is no longer the parent of pid {target}")),
        Ok(_) => None,
        Err(e) => Some(format!("pid {target} cannot be read any more ({e})")),
    }
}

/// An answer longer than this is not a report.
const MAX_ANSWER: u64 = 1 << 20;

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
enum Build {
    Same,
    Jar(PathBuf),
    Classpath(String),
    Command(Vec<String>),
}

#[derive(Debug, Serialize, Deserialize)]
struct Request {
    op: String,
    pid: u32,
    build: Build,
    ready_url: Option<String>,
    ready_timeout_ms: u64,
    drain_timeout_ms: u64,
    drain: DrainMode,
}

#[derive(Debug, Serialize, Deserialize)]
struct Response {
    ok: bool,
    report: Option<ReplaceReport>,
    message: Option<String>,
    exit_code: Option<u8>,
}

/// `jhot replace` for a supervised application: the supervisor does the work.
pub async fn request_replace(found: &Found, pid: u32, opts: &ReplaceOptions) -> Result<ReplaceReport, TakeoverError> {
    let sup = found.supervisor;
    let fail = |message: String, code: ExitCode| TakeoverError::Supervisor { supervisor: sup, message, code };
    let build = match &opts.build {
        NewBuild::Same => Build::Same,
        NewBuild::Jar(p) => Build::Jar(std::path::absolute(p).unwrap_or_else(|_| p.clone())),
        NewBuild::Classpath(c) => Build::Classpath(c.to_string_lossy().into_owned()),
        NewBuild::Command(c) => Build::Command(c.iter().map(|a| a.to_string_lossy().into_owned()).collect()),
    };
    let req = Request {
        op: "replace".into(),
        pid,
        build,
        ready_url: opts.ready_url.clone(),
        ready_timeout_ms: opts.ready_timeout.as_millis() as u64,
        drain_timeout_ms: opts.drain_timeout.as_millis() as u64,
        drain: opts.drain,
    };
    let connect = tokio::time::timeout(Duration::from_secs(5), UnixStream::connect(&found.socket));
    let mut stream = match connect.await {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => {
            return Err(fail(
                format!("cannot be reached at {}: {e}; is it still running?", found.socket.display()),
                ExitCode::Attach,
            ));
        }
        Err(_) => {
            return Err(fail(
                format!("did not accept a connection at {} within 5 s", found.socket.display()),
                ExitCode::Attach,
            ));
        }
    };
    // Nothing is sent before the peer is known: the request names the build and the fake would
    // learn it, and a fake's "ok" must never be reported as a replacement.
    if let Some(reason) = impostor(&stream, found) {
        return Err(TakeoverError::SupervisorImpostor { socket: found.socket.clone(), pid, reason });
    }
    let mut line = serde_json::to_vec(&req).map_err(|e| fail(e.to_string(), ExitCode::Internal))?;
    line.push(b'\n');
    stream.write_all(&line).await.map_err(|e| fail(format!("closed the connection: {e}"), ExitCode::Lost))?;
    let mut reader = BufReader::new(stream).take(MAX_ANSWER);
    let mut answer = String::new();
    let budget = opts.ready_timeout + opts.drain_timeout + Duration::from_secs(60);
    match tokio::time::timeout(budget, reader.read_line(&mut answer)).await {
        Err(_) => {
            return Err(fail(
                format!("did not answer within {} s; check its stderr", budget.as_secs()),
                ExitCode::Lost,
            ));
        }
        Ok(Err(e)) => return Err(fail(format!("closed the connection: {e}"), ExitCode::Lost)),
        Ok(Ok(0)) => {
            return Err(fail(
                "closed the connection without answering; did it exit? Check its stderr".into(),
                ExitCode::Lost,
            ));
        }
        Ok(Ok(_)) if !answer.ends_with('\n') && reader.limit() == 0 => {
            return Err(fail(format!("sent an answer longer than {MAX_ANSWER} bytes"), ExitCode::Internal));
        }
        Ok(Ok(_)) => {}
    }
    let resp: Response = serde_json::from_str(&answer)
        .map_err(|e| fail(format!("sent an unreadable answer: {e}"), ExitCode::Internal))?;
    match (resp.ok, resp.report) {
        (true, Some(r)) => Ok(r),
        _ => {
            let code = resp
                .exit_code
                .and_then(ExitCode::from_code)
                .filter(|c| *c != ExitCode::Ok)
                .unwrap_or(ExitCode::Replace);
            Err(fail(resp.message.unwrap_or_else(|| "failed".into()), code))
        }
    }
}

// ---- the supervisor -----------------------------------------------------------------------------

#[derive(Clone)]
pub struct RunOptions {
    pub command: Vec<OsString>,
    /// Load jhot's agent at start (`-javaagent`): redefinition without attaching, and a graceful
    /// drain for servers that have none.
    pub agent: bool,
    pub pid_file: Option<PathBuf>,
    /// Where the supervisor's events go (the binary prints them; the engine never does).
    pub events: crate::events::Events,
}

/// Statuses of children the supervisor reaped.
#[derive(Default)]
struct Reaper {
    exited: Mutex<HashMap<u32, ExitStatus>>,
    /// Held from a spawn until the child's pidfd is open: a child reaped in between would leave
    /// its pid free for another process, which the pidfd would then name.
    spawning: Mutex<()>,
}

impl Reaper {
    fn hold(&self) -> std::sync::MutexGuard<'_, ()> {
        self.spawning.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reap_all(&self) {
        let _spawning = self.hold();
        loop {
            let mut status = 0;
            // SAFETY: waitpid on any child with WNOHANG.
            let pid = unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) };
            if pid <= 0 {
                break;
            }
            if let Ok(mut m) = self.exited.lock() {
                m.insert(pid as u32, ExitStatus::from_raw(status));
            }
        }
    }
}

impl ExitWatch for Reaper {
    fn exited(&self, pid: u32) -> Option<ExitStatus> {
        self.reap_all();
        self.exited.lock().ok().and_then(|m| m.get(&pid).copied())
    }
}

struct Supervisor {
    opts: RunOptions,
    env: Vec<OsString>,
    cwd: PathBuf,
    shim: PathBuf,
    current: Generation,
    /// Every listening socket the application has opened, held so none closes between generations.
    held: Vec<Inherited>,
    reaper: Arc<Reaper>,
    live: Arc<Live>,
    /// Removed when the supervisor ends (dropped with it).
    pid_file: Option<PidFile>,
}

/// The generations signals are forwarded to: the current one, and during a replacement the new
/// one. Held as pidfds, so a forwarded signal never reaches a process that reused a reaped pid.
#[derive(Default)]
struct Live {
    current: Mutex<Option<OwnedFd>>,
    incoming: Mutex<Option<OwnedFd>>,
}

impl Live {
    fn set(slot: &Mutex<Option<OwnedFd>>, g: Option<&Generation>) {
        let v = g.and_then(|g| g.pidfd.try_clone().ok());
        *slot.lock().unwrap_or_else(|p| p.into_inner()) = v;
    }

    /// Stopping signals go to every live generation: a replacement in progress must not outlive
    /// the application it replaces. The others (SIGQUIT's thread dump, SIGUSR1/2) to the current one.
    fn forward(&self, sig: rustix::process::Signal) {
        use rustix::process::Signal;
        let to_all = matches!(sig, Signal::TERM | Signal::INT | Signal::HUP);
        let slots: &[&Mutex<Option<OwnedFd>>] =
            if to_all { &[&self.current, &self.incoming] } else { &[&self.current] };
        for slot in slots {
            if let Some(fd) = slot.lock().unwrap_or_else(|p| p.into_inner()).as_ref() {
                let _ = rustix::process::pidfd_send_signal(fd, sig);
            }
        }
    }
}

/// Runs the application until it exits; returns the exit code `jhot run` should exit with.
pub async fn run(opts: RunOptions) -> Result<i32, TakeoverError> {
    if opts.command.is_empty() {
        return Err(TakeoverError::Usage(
            "nothing to run: put the command after --, e.g. jhot run -- java -jar app.jar".into(),
        ));
    }
    // Orphaned grandchildren are reparented to us and reaped, as PID 1 would.
    // SAFETY: prctl with integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
    let shim = super::shim::install_own_shim()?;
    let me = std::process::id();
    // Bound through jhot's own verified directory, held open for the supervisor's lifetime.
    let own = private_dir::own(true)?
        .ok_or_else(|| TakeoverError::io("creating jhot's private directory", std::io::ErrorKind::NotFound.into()))?;
    let name = format!("run-{me}.sock");
    own.remove(&name);
    let socket = jhot_attach::safe_fs::fd_path(own.fd(), &name);
    let listener = UnixListener::bind(&socket)
        .map_err(|e| TakeoverError::io(&format!("creating {}", own.shown_file(&name).display()), e))?;
    let _cleanup = Remove(socket.clone());

    let cwd = std::env::current_dir().map_err(|e| TakeoverError::io("reading the current directory", e))?;
    let env = command::scrub_env(
        &std::env::vars_os()
            .map(|(k, v)| {
                let mut kv = k;
                kv.push("=");
                kv.push(v);
                kv
            })
            .collect::<Vec<_>>(),
    );
    let mut argv = opts.command.clone();
    if opts.agent {
        argv = with_agent(argv)?;
    }
    let reaper = Arc::new(Reaper::default());
    let live = Arc::new(Live::default());
    spawn_signal_tasks(reaper.clone(), live.clone())?;

    let first = {
        let _hold = reaper.hold();
        launch(&env, &cwd, &shim, argv, &[], None)?
    };
    Live::set(&live.current, Some(&first));
    let pid_file = opts.pid_file.clone().map(PidFile::new);
    let mut sup = Supervisor { opts, env, cwd, shim, current: first, held: Vec::new(), reaper, live, pid_file };
    sup.event("started", serde_json::json!({ "pid": sup.current.pid, "command": super::os(&sup.current.argv) }));
    sup.write_pid_file();
    let mut notified_ready = false;
    loop {
        sup.absorb_listeners();
        if !notified_ready && !sup.current.accepting.is_empty() {
            notified_ready = true;
            notify_systemd(&format!("READY=1\nMAINPID={}", sup.current.pid));
            sup.event("accepting", serde_json::json!({ "pid": sup.current.pid, "listeners": sup.held.iter().map(|l| l.addr.to_string()).collect::<Vec<_>>() }));
        }
        if let Some(status) = sup.reaper.exited(sup.current.pid) {
            sup.event("exited", serde_json::json!({ "pid": sup.current.pid, "status": status.to_string(), "code": status.shell_code() }));
            return Ok(status.shell_code());
        }
        tokio::select! {
            conn = listener.accept() => {
                if let Ok((stream, _)) = conn {
                    sup.serve(stream).await;
                }
            }
            _ = sup.current.wait_message(Duration::from_millis(50)) => {}
        }
    }
}

impl Supervisor {
    fn event(&self, what: &str, detail: serde_json::Value) {
        self.opts.events.event(what, &detail);
    }

    fn write_pid_file(&self) {
        if let Some(f) = &self.pid_file {
            f.write(self.current.pid);
        }
    }

    /// Takes the listeners the current generation reported into the held set.
    fn absorb_listeners(&mut self) {
        self.current.pump();
        for l in self.current.own_listeners.drain(..) {
            if !self.held.iter().any(|h| h.inode == l.inode) {
                self.held.push(l);
            }
        }
    }

    async fn serve(&mut self, stream: UnixStream) {
        let (read, mut write) = stream.into_split();
        // The user who started `jhot run`, and root, who may drive any user's process.
        let peer_ok = match write.as_ref().peer_cred() {
            Ok(c) => c.uid() == rustix::process::geteuid().as_raw() || c.uid() == 0,
            Err(_) => false,
        };
        let respond = |r: Response| {
            let mut v = serde_json::to_vec(&r).unwrap_or_default();
            v.push(b'\n');
            v
        };
        if !peer_ok {
            let r = Response {
                ok: false,
                report: None,
                message: Some("only the user who started `jhot run`, or root, may drive it".into()),
                exit_code: Some(ExitCode::Permission.code()),
            };
            let _ = write.write_all(&respond(r)).await;
            return;
        }
        let mut reader = BufReader::new(read);
        let mut line = String::new();
        if tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line)).await.is_err() {
            return;
        }
        let resp = match serde_json::from_str::<Request>(&line) {
            Ok(req) if req.op == "replace" => match self.replace(&req).await {
                Ok(report) => Response { ok: true, report: Some(report), message: None, exit_code: None },
                Err(e) => {
                    self.event("replace-failed", serde_json::json!({ "error": e.to_string() }));
                    Response {
                        ok: false,
                        report: None,
                        message: Some(e.to_string()),
                        exit_code: Some(e.exit_code().code()),
                    }
                }
            },
            Ok(req) => Response {
                ok: false,
                report: None,
                message: Some(format!("unknown request {:?}", req.op)),
                exit_code: Some(ExitCode::Usage.code()),
            },
            Err(e) => Response {
                ok: false,
                report: None,
                message: Some(format!("unreadable request: {e}")),
                exit_code: Some(ExitCode::Usage.code()),
            },
        };
        let _ = write.write_all(&respond(resp)).await;
    }

    async fn replace(&mut self, req: &Request) -> Result<ReplaceReport, TakeoverError> {
        let t0 = Instant::now();
        self.absorb_listeners();
        let build = match &req.build {
            Build::Same => NewBuild::Same,
            Build::Jar(p) => NewBuild::Jar(p.clone()),
            Build::Classpath(c) => NewBuild::Classpath(c.into()),
            Build::Command(c) => NewBuild::Command(c.iter().map(OsString::from).collect()),
        };
        // What runs now, after any `exec` in a start script (`sh -c '… exec java …'`).
        let running =
            command::ProcessImage::read(self.current.pid).map(|i| i.argv).unwrap_or_else(|_| self.current.argv.clone());
        let (mut argv, change) = command::plan(&running, &build)?;
        if matches!(build, NewBuild::Command(_)) && self.opts.agent {
            argv = with_agent(argv)?;
        }
        if self.held.is_empty() {
            return Err(TakeoverError::NoListeners { pid: self.current.pid, skipped: Vec::new() });
        }
        let ready_url = req.ready_url.as_deref().map(ready::ReadyUrl::parse).transpose()?;
        let old_pid = self.current.pid;
        let old = Old::of(&self.current, Target::open(old_pid).ok())?;
        let attach_opts = AttachOptions::default();
        let session = super::prepare_agent_drain(req.drain, &old, &attach_opts, false).await;
        self.event("replacing", serde_json::json!({ "old_pid": old_pid, "change": change }));
        // The first generation inherited the supervisor's context; what was changed on the running
        // one since (`prlimit --pid`, `renice`, a move to another cgroup, `taskset`) stays.
        let exec_context = super::context::ExecContext::read(old_pid)?.prepare()?;
        let spawned_at = Instant::now();
        let mut new = {
            let _hold = self.reaper.hold();
            launch(&self.env, &self.cwd, &self.shim, argv.clone(), &self.held, Some(&exec_context))?
        };
        Live::set(&self.live.incoming, Some(&new));
        let drain_timeout = Duration::from_millis(req.drain_timeout_ms);
        let shared_ports: Vec<u16> = self.held.iter().map(|l| l.addr.port()).collect();
        let deadline = spawned_at + Duration::from_millis(req.ready_timeout_ms);
        let reaper = self.reaper.clone();
        let new_pid = new.pid;
        // The application exiting meanwhile ends the replacement at once, as it ends `jhot run`.
        let ready = tokio::select! {
            r = generation::wait_ready(&mut new, reaper.as_ref(), deadline, ready_url.as_ref(), &shared_ports, generation::Adoption::Every, &[]) => r,
            _ = super::old_exited(&old) => Err(TakeoverError::OldGone { pid: old_pid, new_pid }),
        };
        let ready = match ready {
            Ok(r) => r,
            Err(e) => {
                // Connections it took go back to the old generation, unless that one is gone.
                let back_to = if matches!(e, TakeoverError::OldGone { .. }) { None } else { Some(&mut self.current) };
                super::retire(&mut new, reaper.as_ref(), back_to, &self.held, drain_timeout).await;
                Live::set(&self.live.incoming, None);
                return Err(e);
            }
        };
        let overhead_ms = ready.accepting_at.map(|a| crate::ms(a.elapsed())).unwrap_or(0.0);
        let listeners = std::mem::take(&mut self.held);
        // Without a copy of the pidfd (out of descriptors) the drain goes on unchecked.
        let successor = drain::Successor::of(&new).ok();
        let drained = drain::drain(
            &old,
            drain::DrainArgs {
                agent: session,
                fence: Vec::new(),
                timeout: drain_timeout,
                old_gen: Some(&mut self.current),
                new_gen: Some(&mut new),
                listeners: &listeners,
                successor,
            },
        )
        .await;
        self.held = listeners;
        if let Err(e @ TakeoverError::NewGone { .. }) = drained {
            // The old generation was not stopped (or nothing can be done about it): it stays.
            super::retire(&mut new, reaper.as_ref(), None, &self.held, drain_timeout).await;
            Live::set(&self.live.incoming, None);
            return Err(e);
        }
        // Whatever else the drain's outcome, the new generation is the live one now.
        let report_listeners = self
            .held
            .iter()
            .enumerate()
            .map(|(i, l)| super::ListenerReport {
                addr: l.addr.to_string(),
                fd_in_old: -1,
                fd_in_new: new.adopted.get(i).copied().flatten(),
                auxiliary: None,
            })
            .collect();
        let new_pid = new.pid;
        self.current = new;
        Live::set(&self.live.current, Some(&self.current));
        Live::set(&self.live.incoming, None);
        self.write_pid_file();
        notify_systemd(&format!("MAINPID={new_pid}"));
        let drained = drained?;
        self.event(
            "replaced",
            serde_json::json!({ "old_pid": old_pid, "new_pid": new_pid, "handed_over": drained.handed_over }),
        );
        Ok(ReplaceReport {
            old_pid,
            new_pid,
            command: super::os(&argv),
            change,
            listeners: report_listeners,
            skipped: Vec::new(),
            not_taken_over: Vec::new(),
            fd_source: "supervisor".into(),
            fd_fallback: None,
            output: "the supervisor's stdout/stderr".into(),
            supervised: true,
            ready_url_status: ready.url_status,
            timings_ms: Timings {
                collect_ms: 0.0,
                start_ms: ready.spawn_to_accepting_ms,
                overhead_ms,
                drain_ms: drained.drain_ms,
                total_ms: crate::ms(t0.elapsed()),
            },
            drain: drained,
            recovered: Vec::new(),
            warnings: exec_context.warnings.clone(),
        })
    }
}

fn launch(
    env: &[OsString],
    cwd: &Path,
    shim: &Path,
    argv: Vec<OsString>,
    held: &[Inherited],
    context: Option<&super::context::Prepared>,
) -> Result<Generation, TakeoverError> {
    let argv0 = PathBuf::from(argv.first().cloned().unwrap_or_default());
    let program = super::spawn::resolve_program(&argv0, env, cwd)
        .ok_or_else(|| TakeoverError::Usage(format!("cannot find the program {} on PATH", argv0.display())))?;
    // SAFETY: our own stdout and stderr stay open for the supervisor's lifetime.
    let (stdout, stderr) = unsafe { (BorrowedFd::borrow_raw(1), BorrowedFd::borrow_raw(2)) };
    generation::launch(&Launch {
        program,
        argv,
        env: env.to_vec(),
        cwd: cwd.to_path_buf(),
        listeners: held,
        shim: shim.to_path_buf(),
        stdout: stdout.as_fd(),
        stderr: stderr.as_fd(),
        creds: None,
        namespaces: None,
        context,
        // The terminal's signals reach jhot, which forwards them once.
        setsid: true,
        extra_env: Vec::new(),
    })
}

/// `java …` gets `-javaagent:<jar>` right after the launcher name; anything else (a start script)
/// gets it through JAVA_TOOL_OPTIONS would be the alternative, but that changes every JVM the
/// script starts — so only a direct `java` command is given the agent.
fn with_agent(argv: Vec<OsString>) -> Result<Vec<OsString>, TakeoverError> {
    let is_java = argv.first().and_then(|a| Path::new(a).file_name()).is_some_and(|n| n == "java");
    if !is_java {
        return Ok(argv);
    }
    if argv
        .iter()
        .any(|a| a.as_bytes().starts_with(b"-javaagent:") && a.as_bytes().windows(10).any(|w| w == b"jhot-agent"))
    {
        return Ok(argv);
    }
    let jar = private_dir::write_own_file(&private_dir::jar_name(agent::AGENT_JAR), agent::AGENT_JAR)?;
    let mut out = Vec::with_capacity(argv.len() + 1);
    let mut it = argv.into_iter();
    if let Some(first) = it.next() {
        out.push(first);
    }
    let mut flag = OsString::from("-javaagent:");
    flag.push(jar.as_os_str());
    out.push(flag);
    out.extend(it);
    Ok(out)
}

fn spawn_signal_tasks(reaper: Arc<Reaper>, live: Arc<Live>) -> Result<(), TakeoverError> {
    let mut chld = signal(SignalKind::child()).map_err(|e| TakeoverError::io("handling SIGCHLD", e))?;
    tokio::spawn(async move {
        while chld.recv().await.is_some() {
            reaper.reap_all();
        }
    });
    let forwarded = [
        (SignalKind::terminate(), rustix::process::Signal::TERM),
        (SignalKind::interrupt(), rustix::process::Signal::INT),
        (SignalKind::hangup(), rustix::process::Signal::HUP),
        (SignalKind::quit(), rustix::process::Signal::QUIT),
        (SignalKind::user_defined1(), rustix::process::Signal::USR1),
        (SignalKind::user_defined2(), rustix::process::Signal::USR2),
    ];
    for (kind, sig) in forwarded {
        let mut s = signal(kind).map_err(|e| TakeoverError::io("handling signals", e))?;
        let live = live.clone();
        tokio::spawn(async move {
            // The supervisor ends when the application does, whatever the signal.
            while s.recv().await.is_some() {
                live.forward(sig);
            }
        });
    }
    Ok(())
}

/// sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (`@` = abstract namespace).
fn notify_systemd(state: &str) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else { return };
    let Ok(sock) = std::os::unix::net::UnixDatagram::unbound() else { return };
    let bytes = path.as_bytes();
    let result = if let Some(name) = bytes.strip_prefix(b"@") {
        use std::os::linux::net::SocketAddrExt;
        std::os::unix::net::SocketAddr::from_abstract_name(name).and_then(|a| sock.send_to_addr(state.as_bytes(), &a))
    } else {
        sock.send_to(state.as_bytes(), Path::new(&path))
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "NOTIFY_SOCKET");
    }
}

/// `--pid-file`: the current generation's pid, for scripts and service managers. Written beside
/// and renamed (a reader never sees a half-written file), through a temporary file created
/// exclusively (never through a symlink or a file someone prepared), mode 0644 whatever the umask
/// (it is for others to read). Removed when the supervisor ends, if it still holds our pid.
struct PidFile {
    path: PathBuf,
    last: std::sync::atomic::AtomicU32,
}

impl PidFile {
    fn new(path: PathBuf) -> PidFile {
        PidFile { path, last: std::sync::atomic::AtomicU32::new(0) }
    }

    fn write(&self, pid: u32) {
        match write_pid_file(&self.path, pid) {
            Ok(()) => self.last.store(pid, std::sync::atomic::Ordering::SeqCst),
            Err(e) => tracing::warn!(path = %self.path.display(), error = %e, "cannot write the pid file"),
        }
    }
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let last = self.last.load(std::sync::atomic::Ordering::SeqCst);
        let ours = std::fs::read_to_string(&self.path).is_ok_and(|t| t.trim() == last.to_string());
        if last != 0 && ours {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

fn write_pid_file(path: &Path, pid: u32) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    use std::io::Write;
    let name = path.file_name().ok_or_else(|| std::io::Error::other("the pid file has no file name"))?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".{}.tmp", std::process::id()));
    let tmp = path.with_file_name(tmp_name);
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(&tmp, flags, Mode::from_raw_mode(0o600)) {
        Err(rustix::io::Errno::EXIST) => {
            // Left by a supervisor with our pid that died mid-write; unlink removes a link, not its target.
            std::fs::remove_file(&tmp)?;
            rustix::fs::open(&tmp, flags, Mode::from_raw_mode(0o600))?
        }
        r => r?,
    };
    let mut f = std::fs::File::from(fd);
    let written = f
        .write_all(format!("{pid}\n").as_bytes())
        .and_then(|()| rustix::fs::fchmod(&f, Mode::from_raw_mode(0o644)).map_err(Into::into))
        .and_then(|()| std::fs::rename(&tmp, path));
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

struct Remove(PathBuf);

impl Drop for Remove {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn pid_file_is_created_fresh_readable_and_removed() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("app.pid");
        let canary = dir.path().join("canary");
        std::fs::write(&canary, "untouched").expect("canary");
        // Links where the temporary file and the pid file go: neither is written through.
        let tmp = dir.path().join(format!(".app.pid.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&canary, &tmp).expect("symlink");
        std::os::unix::fs::symlink(&canary, &path).expect("symlink");
        let f = PidFile::new(path.clone());
        f.write(4242);
        assert_eq!(std::fs::read_to_string(&canary).expect("canary"), "untouched");
        assert_eq!(std::fs::read_to_string(&path).expect("pid file"), "4242\n");
        let meta = std::fs::symlink_metadata(&path).expect("meta");
        assert!(meta.is_file(), "a regular file replaced the link");
        assert_eq!(meta.permissions().mode() & 0o7777, 0o644, "created 0600, then 0644 whatever the umask");
        assert!(!tmp.exists());
        f.write(4343);
        assert_eq!(std::fs::read_to_string(&path).expect("pid file"), "4343\n");
        drop(f);
        assert!(!path.exists(), "removed when the supervisor ends");

        // A pid file someone else rewrote meanwhile is theirs now.
        let f = PidFile::new(path.clone());
        f.write(1);
        std::fs::write(&path, "999\n").expect("rewrite");
        drop(f);
        assert_eq!(std::fs::read_to_string(&path).expect("kept"), "999\n");
    }
}
