//! Draining the old process once the new one accepts: its graceful stop (SIGTERM, or the agent's
//! for servers that have none), a hard deadline, then SIGKILL. Under `jhot run` the old process's
//! shim hands idle connections over meanwhile, and the relay rings them into the new process.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use serde::Serialize;

use super::TakeoverError;
use super::ctl::{FLAG_PENDING, Msg};
use super::generation::{Generation, Inherited};
use super::listeners;
use crate::agent::{self, protocol::FenceItem, protocol::Request};
use jhot_attach::{AttachOptions, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DrainMode {
    /// the agent first: it stops the servers it knows by name and fences the listeners of any
    /// other; then SIGTERM (after the requests in progress when the application has no shutdown hook)
    Auto,
    /// SIGTERM only: the server stops gracefully on its own
    Signal,
    /// the same as auto (kept for scripts that name it)
    Agent,
}

/// The process being drained.
pub struct Old {
    pub pid: u32,
    pub pidfd: OwnedFd,
    /// For the agent's drain (a JVM jhot may attach to).
    pub target: Option<Target>,
}

impl Old {
    /// The process `pid` that started at `start_time` (its identity when jhot looked at it). The
    /// start time is checked again once the pidfd is open: from then on the pidfd names that
    /// process, whatever happens to the pid.
    pub fn open(pid: u32, start_time: u64, target: Option<Target>) -> Result<Old, TakeoverError> {
        let pidfd = jhot_attach::pidfd_of(pid, start_time)
            .map_err(|e| TakeoverError::Inspect { pid, what: "a pidfd for it".into(), source: e })?
            .ok_or_else(|| TakeoverError::Inspect {
                pid,
                what: "it".into(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "it exited (or its pid now names another process)",
                ),
            })?;
        Ok(Old { pid, pidfd, target })
    }

    /// A generation jhot started, through the pidfd it took at spawn.
    pub fn of(g: &Generation, target: Option<Target>) -> Result<Old, TakeoverError> {
        let pidfd = g.pidfd.try_clone().map_err(|e| TakeoverError::io("duplicating a pidfd", e))?;
        Ok(Old { pid: g.pid, pidfd, target })
    }

    fn signal(&self, sig: rustix::process::Signal) -> std::io::Result<()> {
        rustix::process::pidfd_send_signal(&self.pidfd, sig).map_err(Into::into)
    }

    /// The pidfd registered with tokio: it polls readable once the process has exited.
    pub fn exit_watch(&self) -> std::io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
        super::ctl::watch(self.pidfd.try_clone()?, tokio::io::Interest::READABLE)
    }

    /// Whether it has exited (by now).
    pub fn exited(&self) -> bool {
        super::generation::pidfd_exited(self.pidfd.as_fd())
    }
}

#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct DrainReport {
    /// "SIGTERM", or "agent + SIGTERM".
    pub method: String,
    /// Servers the agent stopped gracefully.
    pub agent_stopped: Vec<String>,
    /// "exited", or "killed" at the deadline.
    pub outcome: String,
    pub drain_ms: f64,
    /// Connections the old process handed over at a request boundary.
    pub handed_over: u32,
    /// Of those, how many had the client's next request waiting.
    pub handed_over_with_request: u32,
    /// Doorbells the old process accepted before it stopped accepting; rung again.
    pub rerung: u32,
    /// Hand-overs that could not be delivered (the new process's control socket was gone).
    pub lost: u32,
    /// The servers recognised in the old process (`servers.rs`).
    #[serde(default)]
    pub servers: Vec<String>,
    /// Listeners the agent fenced (the old process stopped accepting on them), by descriptor.
    #[serde(default)]
    pub fenced: Vec<String>,
    /// The application's shutdown hooks, when the agent could read them: none means SIGTERM ends
    /// it mid-request, so jhot waited for the requests in progress first.
    #[serde(default)]
    pub shutdown_hooks: Option<Vec<String>>,
    /// That wait, when there was one.
    #[serde(default)]
    pub in_flight: Option<super::inflight::Waited>,
}

#[derive(serde::Deserialize)]
struct Drained {
    #[serde(default)]
    servers: Vec<DrainedServer>,
    #[serde(default)]
    fenced: Vec<FencedListener>,
    /// None: the agent could not read them.
    #[serde(default)]
    shutdown_hooks: Option<Vec<String>>,
}

#[derive(serde::Deserialize)]
struct FencedListener {
    fd: i32,
    /// 0 fenced, 1 gone (closed by a server stopped by name), 2 not listening, -errno.
    status: i64,
    #[serde(default)]
    woken: u32,
    #[serde(default)]
    blocked: u32,
}

#[derive(serde::Deserialize)]
struct DrainedServer {
    kind: String,
    #[serde(default)]
    address: String,
}

/// The servers `pid` runs, by its threads' names in /proc (without touching the JVM).
pub fn servers_of(pid: u32) -> Vec<&'static super::servers::Server> {
    super::servers::running(&jhot_attach::procfs::read_thread_names(pid).unwrap_or_default())
}

/// Whether the old process's drain goes through the agent: for every JVM jhot can attach to,
/// unless told the server stops well on SIGTERM alone. The agent stops the servers it knows by
/// name and fences the listeners of all others.
pub fn uses_agent(mode: DrainMode, old: &Old) -> bool {
    old.target.is_some() && mode != DrainMode::Signal
}

/// How long the agent lets a JDK HttpServer finish exchanges in progress. `ServerImpl.stop(n)`
/// waits the whole `n` on JDK 17 even when idle (fixed in 21), and under keep-alive load it keeps
/// serving until `n` on every JDK, so `n` is the drain's length: a few seconds, not the deadline.
pub const AGENT_GRACE: Duration = Duration::from_secs(2);

/// A channel to the old JVM's agent, loaded now if needed — before the new process starts, so the
/// load is not part of the swap. The drain must not ride with a load (agentmain would be busy for
/// the whole drain), so the load carries a cheap request and the drain goes over the channel.
pub async fn agent_session(
    target: &Target,
    attach_opts: &AttachOptions,
    grace: Duration,
) -> Result<agent::Session, crate::agent::AgentError> {
    let timeout = grace + Duration::from_secs(15);
    if let Some(s) = agent::connect_resident(target, timeout).await? {
        return Ok(s);
    }
    let call = agent::call_or_load::<serde_json::Value>(
        target,
        attach_opts,
        attach_opts.timeout,
        &Request::History {},
        Vec::new(),
    )
    .await?;
    call.answer?;
    if let Some(s) = call.session {
        return Ok(s);
    }
    agent::wait_for_channel(target, timeout).await
}

/// The old JVM's agent, ready to drain it: a channel and, for fencing, the native library's path
/// as the JVM sees it.
pub struct AgentDrain {
    pub session: agent::Session,
    pub lib: Option<String>,
}

pub struct DrainArgs<'a> {
    /// The agent when [`uses_agent`]; None falls back to SIGTERM alone.
    pub agent: Option<AgentDrain>,
    /// The old process's descriptors (and inodes) of the shared listeners the new process took
    /// over, for the agent to fence; empty under `jhot run`, where the shim stops accepting.
    pub fence: Vec<(i32, u64)>,
    pub timeout: Duration,
    /// The old generation's shim, when jhot started it (hand-over).
    pub old_gen: Option<&'a mut Generation>,
    /// The new generation, to ring handed-over connections into.
    pub new_gen: Option<&'a mut Generation>,
    /// The shared listeners, to find where a doorbell rings.
    pub listeners: &'a [Inherited],
    /// The process taking over: checked alive right before each step that cannot be undone.
    pub successor: Option<Successor>,
}

/// The process that takes over from the drained one, watched through (a copy of) its pidfd.
pub struct Successor {
    pub pid: u32,
    pidfd: OwnedFd,
}

impl Successor {
    pub fn of(g: &Generation) -> Result<Successor, TakeoverError> {
        let pidfd = g.pidfd.try_clone().map_err(|e| TakeoverError::io("duplicating a pidfd", e))?;
        Ok(Successor { pid: g.pid, pidfd })
    }
}

/// Refuses the next irreversible step when the process taking over has exited: the old one must
/// not be stopped for nothing. `stopped`: the agent already stopped the old process's servers.
fn check_successor(
    successor: Option<&Successor>,
    old: &Old,
    old_gen: Option<&mut Generation>,
    stopped: bool,
) -> Result<(), TakeoverError> {
    let Some(new) = successor.filter(|s| super::generation::pidfd_exited(s.pidfd.as_fd())) else { return Ok(()) };
    // Hand-over stops; the old process accepts again.
    if let Some(g) = old_gen {
        g.page.clear_drain();
    }
    Err(TakeoverError::NewGone { new_pid: new.pid, old_pid: old.pid, old_stopped: stopped })
}

/// How long the old process may take to read the requests of connections it accepted before it
/// stopped accepting.
const UNREAD_GRACE: Duration = Duration::from_secs(2);

pub async fn drain(old: &Old, args: DrainArgs<'_>) -> Result<DrainReport, TakeoverError> {
    let started = Instant::now();
    let deadline = started + args.timeout;
    let mut report = DrainReport::default();
    let DrainArgs { agent, fence, timeout, mut old_gen, mut new_gen, listeners, successor } = args;
    let fence_empty = fence.is_empty();
    report.servers = servers_of(old.pid).iter().map(|s| s.name.to_string()).collect();
    check_successor(successor.as_ref(), old, None, false)?;
    if let Some(g) = old_gen.as_deref_mut() {
        g.page.set_drain();
    }
    let mut relay = Relay::default();

    let agent_stops = agent.is_some();
    // The agent answered: the old process no longer takes connections from the shared listeners.
    let mut agent_drained = false;
    if let Some(AgentDrain { mut session, lib }) = agent {
        report.method = "agent + SIGTERM".into();
        let seconds = AGENT_GRACE.min(timeout).as_secs().max(1) as u32;
        let fence: Vec<FenceItem> = match &lib {
            Some(_) => fence.iter().map(|&(fd, inode)| FenceItem { fd, inode }).collect(),
            None => Vec::new(),
        };
        let lib = lib.filter(|_| !fence.is_empty());
        let request = Request::Drain { seconds, fence, lib };
        let call = async move { session.call::<Drained>(&request, Vec::new()).await };
        tokio::pin!(call);
        let answer = loop {
            tokio::select! {
                r = &mut call => break r,
                _ = tokio::time::sleep(Duration::from_millis(2)) => {
                    relay.run(old_gen.as_deref_mut(), new_gen.as_deref_mut(), listeners, &mut report);
                }
            }
        };
        match answer {
            Ok((d, _)) => {
                report.agent_stopped = d.servers.iter().map(|s| format!("{} {}", s.kind, s.address)).collect();
                for f in &d.fenced {
                    let what = match f.status {
                        0 if f.blocked > 0 => {
                            format!("fd {}: fenced, {} thread(s) left blocked in accept", f.fd, f.blocked)
                        }
                        0 if f.woken > 0 => {
                            format!("fd {}: fenced, woke {} thread(s) blocked in accept", f.fd, f.woken)
                        }
                        0 => format!("fd {}: fenced", f.fd),
                        1 => format!("fd {}: already closed by its server", f.fd),
                        2 => format!("fd {}: no longer listening", f.fd),
                        e => format!("fd {}: not fenced: {}", f.fd, std::io::Error::from_raw_os_error((-e) as i32)),
                    };
                    report.fenced.push(what);
                }
                report.shutdown_hooks = d.shutdown_hooks;
                agent_drained = true;
            }
            Err(e) => {
                // The signal still drains it; say why the agent did not.
                tracing::warn!(error = %e, "the agent could not stop the server gracefully; sending SIGTERM");
                report.agent_stopped.push(format!("(agent failed: {e})"));
            }
        }
    } else {
        report.method = "SIGTERM".into();
    }
    check_successor(successor.as_ref(), old, old_gen.as_deref_mut(), agent_stops)?;
    let no_graceful_stop = report.shutdown_hooks.as_ref().is_some_and(|h| h.is_empty());
    // Direct (no shim in the old process): the agent stopped its accepting, by name or fence. A
    // process still accepting would keep bringing new connections to close.
    let direct = agent_drained && !fence_empty;
    if direct || (no_graceful_stop && old_gen.is_some()) {
        // Idle keep-alive connections are closed (direct only: under `jhot run` the shim hands them
        // over), requests in progress finish, within the drain timeout (a little of it is kept
        // for the exit itself).
        let idle = if direct { super::inflight::Idle::Close } else { super::inflight::Idle::Keep };
        let ports: Vec<u16> = listeners.iter().map(|l| l.addr.port()).collect();
        let until = deadline - (timeout / 4).min(Duration::from_secs(2));
        let started = Instant::now();
        let mut snap = super::inflight::Snapshot::default();
        // By inode: a connection shut for reading is seen (and shut) again until its server closes.
        let mut closed = std::collections::HashSet::new();
        loop {
            relay.run(old_gen.as_deref_mut(), new_gen.as_deref_mut(), listeners, &mut report);
            if old.exited() {
                break;
            }
            match super::inflight::look(old.pid, old.pidfd.as_fd(), &ports, idle) {
                Ok(s) => snap = s,
                Err(_) => break,
            }
            closed.extend(snap.closed.iter().copied());
            let left = if direct { snap.connections - snap.closed.len() } else { snap.busy };
            // Without TCP_INFO nothing can be closed: the wait is for unread bytes only.
            if left == 0 || (direct && !snap.precise && snap.busy == 0) || Instant::now() >= until {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        report.in_flight = Some(super::inflight::Waited {
            waited_ms: crate::ms(started.elapsed()),
            busy_at_end: snap.busy as u32,
            open_at_end: (snap.connections - snap.closed.len()) as u32,
            closed_idle: closed.len() as u32,
            precise: snap.precise,
        });
        check_successor(successor.as_ref(), old, old_gen.as_deref_mut(), agent_stops)?;
    } else if agent_stops || old_gen.is_some() {
        // The old process no longer accepts, but connections it accepted just before may hold a
        // request it has not read yet. A graceful stop finishes requests in progress; a server may
        // close the others unanswered. So the signal waits (briefly) until the old process has
        // read everything it accepted.
        let until = Instant::now() + UNREAD_GRACE.min(timeout);
        let mut quiet = 0;
        while quiet < 3 && Instant::now() < until && !old.exited() {
            relay.run(old_gen.as_deref_mut(), new_gen.as_deref_mut(), listeners, &mut report);
            match super::listeners::unread_connections(old.pid) {
                Ok(0) => quiet += 1,
                Ok(_) => quiet = 0,
                Err(_) => break,
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // A process that exited by itself in the meantime cannot be signalled, and needs not be.
    if !old.exited()
        && let Err(e) = old.signal(rustix::process::Signal::TERM)
        && !old.exited()
    {
        return Err(TakeoverError::io("sending SIGTERM to the old process", e));
    }
    let pidfd = old.exit_watch().map_err(|e| TakeoverError::io("watching the old process", e))?;
    let mut killed = false;
    loop {
        relay.run(old_gen.as_deref_mut(), new_gen.as_deref_mut(), listeners, &mut report);
        if old.exited() {
            break;
        }
        let now = Instant::now();
        if now >= deadline && !killed {
            tracing::warn!(pid = old.pid, "the old process did not exit within the drain timeout; SIGKILL");
            // A killed JVM leaves its attach socket; a later JVM of another user with this pid
            // could not replace it in the sticky /tmp, and so could never be attached to.
            if let Some(target) = &old.target
                && let Err(e) = target.remove_attach_socket()
            {
                tracing::warn!(pid = old.pid, error = %e, "could not remove the old JVM's attach socket");
            }
            let _ = old.signal(rustix::process::Signal::KILL);
            killed = true;
        }
        if killed && now >= deadline + Duration::from_secs(5) {
            break;
        }
        let tick = Duration::from_millis(if relay.busy(&old_gen) { 1 } else { 10 });
        tokio::select! {
            g = pidfd.readable() => { if let Ok(mut g) = g { g.clear_ready(); } }
            _ = tokio::time::sleep(tick) => {}
        }
    }
    report.drain_ms = started.elapsed().as_secs_f64() * 1000.0;
    report.outcome = if killed { "killed".into() } else { "exited".into() };
    // Hand-overs sent just before the exit are still queued on the socket.
    let settle = Instant::now() + Duration::from_secs(2);
    loop {
        relay.run(old_gen.as_deref_mut(), new_gen.as_deref_mut(), listeners, &mut report);
        let old_done = old_gen.as_deref().is_none_or(|g| g.ctl_closed);
        if (old_done && relay.pending.is_empty()) || Instant::now() >= settle {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    report.lost += relay.pending.len() as u32;
    Ok(report)
}

/// Connections in transit from the old process to the new one.
#[derive(Default)]
struct Relay {
    /// Doorbell port → (the connection, the doorbell's client socket, when it was rung).
    pending: HashMap<u16, (OwnedFd, OwnedFd, Instant)>,
}

impl Relay {
    fn busy(&self, old_gen: &Option<&mut Generation>) -> bool {
        !self.pending.is_empty() || old_gen.as_ref().is_some_and(|g| !g.ctl_closed)
    }

    fn run(
        &mut self,
        old_gen: Option<&mut Generation>,
        new_gen: Option<&mut Generation>,
        listeners: &[Inherited],
        report: &mut DrainReport,
    ) {
        let Some(old_gen) = old_gen else { return };
        old_gen.pump();
        let arrived: Vec<(Msg, OwnedFd)> = std::mem::take(&mut old_gen.handovers);
        let Some(new_gen) = new_gen else {
            report.lost += arrived.len() as u32;
            return;
        };
        new_gen.pump();
        // Delivered: the new server accepted the doorbell and has the connection.
        let injected: Vec<u16> = new_gen.injected.drain().collect();
        for port in injected {
            self.pending.remove(&port);
        }
        for (msg, conn) in arrived {
            let peer = peer_addr(&conn);
            // Our own doorbell, accepted by the old process before it stopped accepting: ring
            // again for the connection it announced. Doorbells come from exactly 127.0.0.1 or ::1
            // (a port of 127.0.0.2 is anyone's).
            if let Some(doorbell) = peer.filter(|p| is_doorbell_source(p.ip())).map(|p| p.port())
                && let Some((original, _, _)) = self.pending.remove(&doorbell)
            {
                report.rerung += 1;
                self.ring(new_gen, original, listeners, report);
                continue;
            }
            report.handed_over += 1;
            if msg.flags & FLAG_PENDING != 0 {
                report.handed_over_with_request += 1;
            }
            self.ring(new_gen, conn, listeners, report);
        }
        // A doorbell unanswered for long means the new server stopped accepting; drop it.
        let stale: Vec<u16> = self
            .pending
            .iter()
            .filter(|(_, (_, _, at))| at.elapsed() > Duration::from_secs(10))
            .map(|(p, _)| *p)
            .collect();
        for p in stale {
            self.pending.remove(&p);
            report.lost += 1;
        }
    }

    fn ring(&mut self, new_gen: &mut Generation, conn: OwnedFd, listeners: &[Inherited], report: &mut DrainReport) {
        match ring(new_gen, &conn, listeners) {
            Ok((port, bell)) => {
                self.pending.insert(port, (conn, bell, Instant::now()));
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not hand a connection to the new process");
                report.lost += 1;
            }
        }
    }
}

/// The address a doorbell is bound to (see [`ring`]).
fn is_doorbell_source(ip: IpAddr) -> bool {
    ip == IpAddr::from(std::net::Ipv4Addr::LOCALHOST) || ip == IpAddr::from(std::net::Ipv6Addr::LOCALHOST)
}

fn peer_addr(fd: &OwnedFd) -> Option<SocketAddr> {
    let a = rustix::net::getpeername(fd).ok()??;
    let sa: SocketAddr = a.try_into().ok()?;
    Some(SocketAddr::new(listeners::normalise(sa.ip()), sa.port()))
}

/// Announces `conn` to the new process's shim and connects the doorbell it waits for.
fn ring(new_gen: &Generation, conn: &OwnedFd, listeners: &[Inherited]) -> std::io::Result<(u16, OwnedFd)> {
    let local = super::generation::local_addr(conn.as_fd())
        .ok_or_else(|| std::io::Error::other("connection without a local address"))?;
    let listener = listeners
        .iter()
        .find(|l| l.addr.port() == local.port() && (l.addr.ip().is_unspecified() || l.addr.ip() == local.ip()))
        .ok_or_else(|| std::io::Error::other(format!("no shared listener for a connection to {local}")))?;
    let to = listeners::connect_addr(listener.addr);
    let family = if to.is_ipv4() { rustix::net::AddressFamily::INET } else { rustix::net::AddressFamily::INET6 };
    let bell = rustix::net::socket_with(
        family,
        rustix::net::SocketType::STREAM,
        rustix::net::SocketFlags::CLOEXEC | rustix::net::SocketFlags::NONBLOCK,
        None,
    )?;
    let from: SocketAddr = match to.ip() {
        IpAddr::V4(_) => "127.0.0.1:0".parse().expect("literal"),
        IpAddr::V6(_) => "[::1]:0".parse().expect("literal"),
    };
    rustix::net::bind(&bell, &from)?;
    let port = super::generation::local_addr(bell.as_fd())
        .map(|a| a.port())
        .ok_or_else(|| std::io::Error::other("doorbell without a port"))?;
    // The announcement must be queued before the server can accept the doorbell.
    new_gen.send(&Msg::inject(port), Some(conn.as_fd()))?;
    new_gen.page.bump_inject_seq();
    // Non-blocking: a full accept queue must not stall the relay; the kernel finishes the handshake.
    match rustix::net::connect(&bell, &to) {
        Ok(()) | Err(rustix::io::Errno::INPROGRESS) => {}
        Err(e) => return Err(e.into()),
    }
    tracing::trace!(port, fd = conn.as_raw_fd(), "doorbell rung");
    Ok((port, bell))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pidfd_of(child: &std::process::Child) -> OwnedFd {
        let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("pid");
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).expect("pidfd_open")
    }

    /// The old process is never stopped for a successor that has died.
    #[test]
    fn a_dead_successor_calls_the_drain_off() {
        let mut old_child = std::process::Command::new("sleep").arg("30").spawn().expect("sleep");
        let mut new_child = std::process::Command::new("sleep").arg("30").spawn().expect("sleep");
        let old = Old { pid: old_child.id(), pidfd: pidfd_of(&old_child), target: None };
        let new = Successor { pid: new_child.id(), pidfd: pidfd_of(&new_child) };
        assert!(check_successor(Some(&new), &old, None, false).is_ok());
        assert!(check_successor(None, &old, None, false).is_ok());
        new_child.kill().expect("kill");
        new_child.wait().expect("wait");
        match check_successor(Some(&new), &old, None, true) {
            Err(TakeoverError::NewGone { new_pid, old_pid, old_stopped: true }) => {
                assert_eq!((new_pid, old_pid), (new_child.id(), old_child.id()));
            }
            other => panic!("expected NewGone, got {other:?}"),
        }
        assert!(!old.exited(), "the old process was not touched");
        old_child.kill().expect("kill");
        old_child.wait().expect("wait");
        assert!(old.exited());
    }
}
