//! One generation of a server started by jhot: spawned with the listeners inherited and the shim
//! preloaded, then watched through the shim's control socket until it accepts on every listener.

use std::collections::HashSet;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

use super::ctl::{self, Kind, Msg, Page};
use super::spawn::{self, ExitStatus};
use super::{TakeoverError, ready};

/// jhot's copy of a listening socket the new process inherits.
#[derive(Debug)]
pub struct Inherited {
    pub addr: SocketAddr,
    pub inode: u64,
    pub fd: OwnedFd,
}

/// A process jhot started, with its end of the control socket and its page.
pub struct Generation {
    pub pid: u32,
    pub start_time: u64,
    /// Taken before anything could reap the process: every signal jhot sends it goes through
    /// this, so none can reach a later process that reuses the pid.
    pub pidfd: OwnedFd,
    pub ctl: AsyncFd<OwnedFd>,
    pub page: Page,
    pub argv: Vec<OsString>,
    /// Listening sockets the server opened itself (reported by the shim with LISTENING).
    pub own_listeners: Vec<Inherited>,
    pub hello: bool,
    /// Per inherited listener: the descriptor number the server adopted it as.
    pub adopted: Vec<Option<i32>>,
    /// Descriptor numbers of listeners the server accepts on.
    pub accepting: HashSet<i32>,
    /// Doorbell ports whose connection reached the server.
    pub injected: HashSet<u16>,
    /// Probe ports the server accepted.
    pub probes: HashSet<u16>,
    /// Hand-overs received from this process while it drains.
    pub handovers: Vec<(Msg, OwnedFd)>,
    pub ctl_closed: bool,
    /// The network namespace the process runs in when it is not jhot's (a container): jhot's own
    /// connections to it (the --ready-url probe) are made there.
    pub netns: Option<OwnedFd>,
}

pub struct Launch<'a> {
    pub program: PathBuf,
    pub argv: Vec<OsString>,
    /// Already scrubbed of an earlier generation's variables.
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub listeners: &'a [Inherited],
    pub shim: PathBuf,
    pub stdout: BorrowedFd<'a>,
    pub stderr: BorrowedFd<'a>,
    pub creds: Option<(u32, u32, Vec<u32>)>,
    /// The old process's namespaces and root (a container), when not jhot's.
    pub namespaces: Option<&'a super::namespaces::Namespaces>,
    /// The old process's execution context, where it differs from jhot's.
    pub context: Option<&'a super::context::Prepared>,
    pub setsid: bool,
    /// Extra environment (jhot run: the agent option, the supervisor's socket).
    pub extra_env: Vec<OsString>,
}

pub fn launch(l: &Launch<'_>) -> Result<Generation, TakeoverError> {
    let (ours, theirs) = ctl::pair().map_err(|e| TakeoverError::io("creating the control socket", e))?;
    let page = Page::new().map_err(|e| TakeoverError::io("creating the shared page", e))?;
    let mut names: Vec<String> = (0..l.listeners.len()).map(|i| format!("listen-{i}")).collect();
    names.push("jhot-ctl".into());
    names.push("jhot-page".into());
    let mut inherit: Vec<BorrowedFd<'_>> = l.listeners.iter().map(|x| x.fd.as_fd()).collect();
    inherit.push(theirs.as_fd());
    inherit.push(page.fd());

    let mut env: Vec<OsString> =
        l.env.iter().filter(|kv| !kv.to_string_lossy().starts_with("LD_PRELOAD=")).cloned().collect();
    let old_preload = l.env.iter().find_map(|kv| kv.to_string_lossy().strip_prefix("LD_PRELOAD=").map(str::to_string));
    let mut preload = l.shim.as_os_str().to_owned().into_vec();
    if let Some(rest) = old_preload.filter(|r| !r.is_empty()) {
        preload.push(b':');
        preload.extend_from_slice(rest.as_bytes());
    }
    let mut kv = b"LD_PRELOAD=".to_vec();
    kv.extend_from_slice(&preload);
    env.push(OsString::from_vec(kv));
    env.push(format!("LISTEN_FDS={}", inherit.len()).into());
    env.push(format!("LISTEN_FDNAMES={}", names.join(":")).into());
    env.extend(l.extra_env.iter().cloned());

    let spec = spawn::Spec {
        program: l.program.clone(),
        argv: l.argv.clone(),
        env,
        cwd: l.cwd.clone(),
        inherit,
        stdin: None,
        stdout: l.stdout,
        stderr: l.stderr,
        creds: l.creds.clone(),
        setsid: l.setsid,
        namespaces: l.namespaces,
        context: l.context,
        listen_pid: true,
    };
    let pid = spawn::spawn(&spec).map_err(|source| TakeoverError::Spawn { program: l.program.clone(), source })?;
    drop(theirs);
    // The child is ours and not reaped yet (this runs without yielding, and a supervisor holds its
    // reaper back meanwhile), so the pid still names it.
    let pidfd = rustix::process::Pid::from_raw(pid as i32)
        .ok_or_else(|| std::io::Error::other("pid 0"))
        .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()).map_err(Into::into))
        .map_err(|e| TakeoverError::io("opening a pidfd for the new process", e))?;
    let start_time = jhot_attach::procfs::start_ticks(pid).unwrap_or(0);
    rustix::io::ioctl_fionbio(&ours, true)
        .map_err(|e| TakeoverError::io("configuring the control socket", e.into()))?;
    let ctl = ctl::watch(ours, tokio::io::Interest::READABLE)
        .map_err(|e| TakeoverError::io("watching the control socket", e))?;
    Ok(Generation {
        pid,
        start_time,
        pidfd,
        ctl,
        page,
        argv: l.argv.clone(),
        own_listeners: Vec::new(),
        hello: false,
        adopted: vec![None; l.listeners.len()],
        accepting: HashSet::new(),
        injected: HashSet::new(),
        probes: HashSet::new(),
        handovers: Vec::new(),
        ctl_closed: false,
        netns: l.namespaces.and_then(|n| n.net()).and_then(|f| f.try_clone_to_owned().ok()),
    })
}

/// How jhot learns that a child exited: directly with waitpid, or from a supervisor's reaper.
pub trait ExitWatch {
    fn exited(&self, pid: u32) -> Option<ExitStatus>;
}

/// For a process whose parent is this one and nothing else reaps.
pub struct DirectChild;

impl ExitWatch for DirectChild {
    fn exited(&self, pid: u32) -> Option<ExitStatus> {
        spawn::try_reap(pid)
    }
}

impl Generation {
    /// Handles every message waiting on the control socket; returns how many.
    pub fn pump(&mut self) -> usize {
        let mut n = 0;
        if self.ctl_closed {
            return 0;
        }
        loop {
            match ctl::recv(self.ctl.get_ref().as_fd()) {
                Ok(Some((msg, fd))) => {
                    n += 1;
                    self.on_message(msg, fd);
                }
                Ok(None) => {
                    self.ctl_closed = true;
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                    tracing::warn!(pid = self.pid, "ignoring a malformed message from the shim");
                }
                Err(e) => {
                    tracing::debug!(pid = self.pid, error = %e, "control socket failed");
                    self.ctl_closed = true;
                    break;
                }
            }
        }
        n
    }

    fn on_message(&mut self, msg: Msg, fd: Option<OwnedFd>) {
        tracing::trace!(pid = self.pid, ?msg, "shim message");
        match msg.kind {
            Kind::Hello => self.hello = true,
            Kind::Adopted => {
                if let Some(slot) = usize::try_from(msg.index).ok().and_then(|i| self.adopted.get_mut(i)) {
                    *slot = Some(msg.fd);
                }
            }
            Kind::Accepting => {
                self.accepting.insert(msg.fd);
            }
            Kind::Listening => {
                if let Some(fd) = fd {
                    match local_addr(fd.as_fd()) {
                        Some(addr) => {
                            let inode = rustix::fs::fstat(&fd).map(|s| s.st_ino).unwrap_or(0);
                            self.own_listeners.retain(|l| l.addr != addr);
                            self.own_listeners.push(Inherited { addr, inode, fd });
                        }
                        None => tracing::warn!(pid = self.pid, "LISTENING with a socket that has no address"),
                    }
                }
            }
            Kind::Injected => {
                self.injected.insert(msg.port as u16);
            }
            Kind::Probe => {
                self.probes.insert(msg.port as u16);
            }
            Kind::Handover => match fd {
                Some(fd) => self.handovers.push((msg, fd)),
                None => tracing::warn!(pid = self.pid, "HANDOVER without a descriptor"),
            },
            Kind::Inject | Kind::Other(_) => {}
        }
    }

    /// Waits until a message arrives or `timeout` passes.
    pub async fn wait_message(&mut self, timeout: Duration) {
        if self.ctl_closed {
            tokio::time::sleep(timeout).await;
            return;
        }
        if let Ok(Ok(mut guard)) = tokio::time::timeout(timeout, self.ctl.readable()).await {
            guard.clear_ready();
        }
        self.pump();
    }

    /// True when the server adopted every inherited listener and waits for connections on each.
    pub fn accepts_on_all(&self) -> bool {
        self.adopted.iter().all(|a| a.is_some_and(|fd| self.accepting.contains(&fd)))
    }

    /// Signals the process through its pidfd; a process that has exited (reaped or not) is not
    /// an error.
    pub fn signal(&self, sig: rustix::process::Signal) -> std::io::Result<()> {
        match rustix::process::pidfd_send_signal(&self.pidfd, sig) {
            Ok(()) | Err(rustix::io::Errno::SRCH) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// True once the process has exited (a pidfd polls readable then, reaped or not).
    pub fn has_exited(&self) -> bool {
        pidfd_exited(self.pidfd.as_fd())
    }

    pub fn send(&self, msg: &Msg, fd: Option<BorrowedFd<'_>>) -> std::io::Result<()> {
        ctl::send(self.ctl.get_ref().as_fd(), msg, fd)
    }
}

/// True once the process behind `pidfd` has exited.
pub fn pidfd_exited(pidfd: BorrowedFd<'_>) -> bool {
    let mut fds = [rustix::event::PollFd::new(&pidfd, rustix::event::PollFlags::IN)];
    matches!(rustix::event::poll(&mut fds, Some(&rustix::time::Timespec { tv_sec: 0, tv_nsec: 0 })), Ok(n) if n > 0)
}

pub fn local_addr(fd: BorrowedFd<'_>) -> Option<SocketAddr> {
    let addr = rustix::net::getsockname(fd).ok()?;
    let sa: SocketAddr = addr.try_into().ok()?;
    Some(SocketAddr::new(super::listeners::normalise(sa.ip()), sa.port()))
}

/// Which inherited listeners the new process must take up before it counts as ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Adoption {
    /// Every one (the user named them with --port, or `jhot run` shares them all).
    Every,
    /// Those it takes up: once it accepts on at least one and has taken up no other for
    /// [`ADOPT_GRACE`], the rest are reported as not taken over. A listener the application does
    /// not serve any more (or a port-0 one of a library) must not hold a replacement back.
    Taken,
}

/// How long a new process that accepts on some inherited listeners has to take up the others.
pub const ADOPT_GRACE: Duration = Duration::from_secs(2);

/// What readiness found, for the report.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Ready {
    /// Inherited listeners the new process did not take up (indices), under [`Adoption::Taken`].
    pub not_taken_over: Vec<usize>,
    pub spawn_to_accepting_ms: f64,
    /// When the last listener was reported accepting.
    #[serde(skip)]
    pub accepting_at: Option<Instant>,
    pub url_status: Option<u16>,
}

/// Waits until `g` accepts on the inherited listeners `adoption` asks for (and `url` answers 2xx,
/// when given).
pub async fn wait_ready(
    g: &mut Generation,
    watch: &dyn ExitWatch,
    deadline: Instant,
    url: Option<&ready::ReadyUrl>,
    shared_ports: &[u16],
    adoption: Adoption,
    optional: &[bool],
) -> Result<Ready, TakeoverError> {
    let required = |i: usize| !optional.get(i).copied().unwrap_or(false);
    let started = Instant::now();
    let mut accepting_at = None;
    // When the set of listeners it accepts on last grew.
    let mut taken = 0;
    let mut last_taken_at = started;
    loop {
        g.pump();
        if let Some(status) = watch.exited(g.pid) {
            return Err(TakeoverError::NewExited { pid: g.pid, status });
        }
        let accepting_on = |i: &Option<i32>| i.is_some_and(|fd| g.accepting.contains(&fd));
        let now_taken = g.adopted.iter().enumerate().filter(|(i, a)| required(*i) && accepting_on(a)).count();
        if now_taken != taken {
            taken = now_taken;
            last_taken_at = Instant::now();
        }
        let each_required = |ok: &dyn Fn(&Option<i32>) -> bool| {
            g.adopted.iter().enumerate().filter(|(i, _)| required(*i)).all(|(_, a)| ok(a))
        };
        // Optional ones are never waited for; taken up ones must all accept; under `Taken` the
        // others are given up after the grace.
        let all_required = each_required(&|a| accepting_on(a));
        let settled = adoption == Adoption::Taken
            && taken > 0
            && each_required(&|a| a.is_none() || accepting_on(a))
            && last_taken_at.elapsed() >= ADOPT_GRACE;
        if all_required || settled {
            let not_taken_over = g.adopted.iter().enumerate().filter(|(_, a)| a.is_none()).map(|(i, _)| i).collect();
            let at = *accepting_at.get_or_insert_with(Instant::now);
            let url_status = match url {
                Some(u) => Some(ready::probe_until_ok(g, watch, u, shared_ports, deadline).await?),
                None => None,
            };
            return Ok(Ready {
                not_taken_over,
                spawn_to_accepting_ms: at.duration_since(started).as_secs_f64() * 1000.0,
                accepting_at: Some(at),
                url_status,
            });
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(not_ready(g, deadline.saturating_duration_since(started)));
        }
        g.wait_message((deadline - now).min(Duration::from_millis(20))).await;
    }
}

pub fn not_ready(g: &Generation, waited: Duration) -> TakeoverError {
    let missing: Vec<usize> = g
        .adopted
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.is_some_and(|fd| g.accepting.contains(&fd)))
        .map(|(i, _)| i)
        .collect();
    TakeoverError::NotReady { pid: g.pid, secs: waited.as_secs_f64(), shim_loaded: g.hello, missing, url: None }
}
