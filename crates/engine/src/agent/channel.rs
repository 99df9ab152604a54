//! The client side of the agent's control channel: finding it in the target's private directory,
//! connecting (a Unix socket on JDK 16+, a loopback port plus token on JDK 11–15), and exchanging
//! frames with timeouts that notice when the JVM dies.

use std::time::Duration;

use serde::de::DeserializeOwned;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use super::protocol::{Envelope, Frame, PROTOCOL_VERSION, Request, ResponseHead};
use super::{AgentError, private_dir};
use jhot_attach::Target;
use jhot_attach::safe_fs::PrivateDir;

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// An open control channel to a resident agent. Dropped, it closes, or goes back to the pool of
/// kept sessions (`super::pool`) when the process keeps them and no request is half done.
pub struct Session {
    stream: Box<dyn Stream>,
    next_id: u64,
    /// Requests sent whose final reply has not been read: the stream is mid-conversation.
    pending: u32,
    pid: u32,
    start_time: u64,
    pub hello: super::protocol::Hello,
    pub timeout: Duration,
}

/// The names of the channel files of `target` in its private directory.
pub struct ChannelFiles {
    pub socket: String,
    pub port: String,
    /// Present while a just-loaded agent opens its channel.
    pub opening: String,
}

pub fn channel_files(target: &Target) -> ChannelFiles {
    ChannelFiles {
        socket: format!("{}.sock", target.nspid),
        port: format!("{}.port", target.nspid),
        opening: format!("{}.opening", target.nspid),
    }
}

/// True if an agent channel file exists for `target` in a private directory that passes the
/// checks; cheap, for listings.
pub fn advertised(target: &Target) -> bool {
    let f = channel_files(target);
    matches!(private_dir::of_target(target, false), Ok(Some(d)) if d.exists(&f.socket) || d.exists(&f.port) || d.exists(&f.opening))
}

/// A marker left by this JVM's agent, not by a dead JVM that had the same pid: written after the
/// JVM started, and recently (opening takes well under a second).
fn opening_now(target: &Target, dir: &PrivateDir, marker: &str) -> bool {
    let Some(modified) = dir.modified(marker) else { return false };
    let Ok(marker_age) = std::time::SystemTime::now().duration_since(modified) else { return true };
    marker_age < Duration::from_secs(30) && target.age().is_none_or(|age| marker_age <= age + Duration::from_secs(1))
}

/// Waits while the agent opens its channel (right after a cold load), so that a command run
/// meanwhile finds the agent instead of concluding it is absent and loading it again. Until the
/// marker is gone, not just until the socket file is there: Java binds a Unix socket, which
/// makes the file, before it listens, and a connect in between is refused as if nobody were
/// there (seen in CI: the second command of a test loaded the agent again).
async fn wait_while_opening(target: &Target, dir: &PrivateDir, files: &ChannelFiles) {
    if !opening_now(target, dir, &files.opening) {
        return;
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while dir.exists(&files.opening) && target.is_alive() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Connects to the resident agent, if there is one. `Ok(None)` means no agent is listening (no
/// channel file, or a file left behind by a JVM that died).
pub async fn connect(target: &Target, timeout: Duration) -> Result<Option<Session>, AgentError> {
    Ok(connect_with::<serde::de::IgnoredAny>(target, timeout, None).await?.map(|(s, _)| s))
}

/// Like [`connect`], and sends `first` right behind the hello instead of after its answer, saving
/// a round trip. A request that changes something goes behind the hello only on a Unix socket,
/// whose peer was shown to be the target process before anything was sent; on the loopback port
/// it waits for the hello's answer. A request that changes nothing always goes behind it: should
/// the hello show that the channel belongs to another JVM, its answer is dropped.
///
/// Nothing is sent before the other end is shown to be the target JVM: the Unix socket's peer
/// must be the target process (SO_PEERCRED), and the loopback port of JDK 11–15 must be a
/// listening socket the target process holds. A channel file that leads elsewhere is refused
/// (exit 4), not connected to.
pub async fn connect_with<T: DeserializeOwned>(
    target: &Target,
    timeout: Duration,
    first: Option<(&Request, Vec<Vec<u8>>)>,
) -> Result<Option<(Session, Option<Result<(T, Vec<Vec<u8>>), AgentError>>)>, AgentError> {
    if let Some(mut session) = super::pool::take(target.pid, target.start_time) {
        session.timeout = timeout;
        let answer = match first {
            Some((r, blobs)) => Some(session.call::<T>(r, blobs).await),
            None => None,
        };
        return Ok(Some((session, answer)));
    }
    let Some(dir) = private_dir::of_target(target, false)? else { return Ok(None) };
    let files = channel_files(target);
    wait_while_opening(target, &dir, &files).await;
    let unsafe_channel =
        |name: &str, reason: String| AgentError::PrivateDirUnsafe { path: dir.shown_file(name), reason };
    let (stream, token): (Box<dyn Stream>, Option<String>) = if dir.exists(&files.socket) {
        let path = match dir.socket(&files.socket) {
            Ok(p) => p,
            Err(jhot_attach::safe_fs::SocketProblem::Missing(_)) => return Ok(None),
            Err(jhot_attach::safe_fs::SocketProblem::Unsafe(reason)) => {
                return Err(unsafe_channel(&files.socket, reason));
            }
        };
        match tokio::time::timeout(timeout, tokio::net::UnixStream::connect(&path)).await {
            Err(_) => return Err(AgentError::Timeout { what: "connecting to the agent", secs: timeout.as_secs() }),
            // Refused: a socket left by an earlier JVM with this pid, or this one dying (whose
            // attach socket would refuse too, and read as stale rather than as the exit it is).
            Ok(Err(e)) if stale(&e) && !target.is_alive() => return Err(AgentError::Exited { pid: target.pid }),
            Ok(Err(e)) if stale(&e) => return Ok(None),
            Ok(Err(e)) => return Err(AgentError::Connect { path: dir.shown_file(&files.socket), source: e }),
            Ok(Ok(s)) => {
                use std::os::fd::AsFd;
                if let Err(reason) = jhot_attach::safe_fs::check_peer(s.as_fd(), target.pid, target.start_time) {
                    if !target.is_alive() {
                        return Err(AgentError::Exited { pid: target.pid });
                    }
                    return Err(unsafe_channel(&files.socket, reason));
                }
                (Box::new(s), None)
            }
        }
    } else if dir.exists(&files.port) {
        let (port, token) = read_port_file(&dir, &files.port)?;
        use crate::replace::listeners::{PortHolder, loopback_listener};
        match loopback_listener(target.pid, port) {
            Ok(PortHolder::Target) => {}
            // A port file left by an earlier JVM with this pid: no agent here.
            Ok(PortHolder::Nobody) => return Ok(None),
            // Someone else's listener on that port: the token goes to nobody but the target.
            Ok(PortHolder::Other) if !target.is_alive() => return Err(AgentError::Exited { pid: target.pid }),
            Ok(PortHolder::Other) => {
                tracing::debug!(port, "the port in the channel file is not the target's listener");
                return Err(unsafe_channel(
                    &files.port,
                    format!(
                        "port {port} on 127.0.0.1 is not a listening socket of process {}; the file is stale or planted",
                        target.pid
                    ),
                ));
            }
            Err(e) => return Err(AgentError::Connect { path: dir.shown_file(&files.port), source: e }),
        }
        match connect_tcp(target, port, timeout).await {
            Ok(s) => (Box::new(s), Some(token)),
            Err(e) if stale(&e) => return Ok(None),
            Err(e) => return Err(AgentError::Connect { path: dir.shown_file(&files.port), source: e }),
        }
    } else {
        return Ok(None);
    };
    let mut session = Session {
        stream,
        next_id: 1,
        pending: 0,
        pid: target.pid,
        start_time: target.start_time,
        hello: placeholder_hello(),
        timeout,
    };
    let read_only = |r: &Request| matches!(r, Request::Bytes { .. } | Request::History {});
    // token: the loopback channel, whose peer is only known by the hello. A cancellable request
    // waits for the hello too: whether it may stream events depends on the ops the hello lists.
    let (behind, after) = match first {
        Some((r, blobs)) if (token.is_none() || read_only(r)) && !r.cancellable() => (Some((r, blobs)), None),
        other => (None, other),
    };
    let changing_sent = behind.as_ref().is_some_and(|(r, _)| !read_only(r));
    let hello_request =
        Request::Hello { protocol: PROTOCOL_VERSION, client: format!("jhot {}", env!("CARGO_PKG_VERSION")), token };
    let sent = match session.send(&hello_request, vec![]).await {
        Ok(hello_id) => match behind {
            Some((r, blobs)) => session.send(r, blobs).await.map(|id| (hello_id, Some(id))),
            None => Ok((hello_id, None)),
        },
        Err(e) => Err(e),
    };
    let (hello_id, then_id) = match sent {
        Ok(ids) => ids,
        Err(AgentError::Closed | AgentError::Io(_)) if exiting(target.pid, target.start_time).await => {
            return Err(AgentError::Exited { pid: target.pid });
        }
        Err(e) => return Err(e),
    };
    let hello: super::protocol::Hello = match session.receive(hello_id).await {
        Ok((h, _)) => h,
        // The agent closed on us before answering: a socket file outliving its JVM looks the same.
        Err(AgentError::Closed | AgentError::Io(_)) if exiting(target.pid, target.start_time).await => {
            return Err(AgentError::Exited { pid: target.pid });
        }
        Err(e) => return Err(e),
    };
    if hello.protocol != PROTOCOL_VERSION {
        return Err(AgentError::Version { agent: hello.agent, protocol: hello.protocol });
    }
    if changing_sent && (hello.pid != i64::from(target.nspid) || !started_with(&hello, target)) {
        // The peer check said it was the target; never treat this as "no agent" and load one,
        // which would send the change a second time.
        return Err(AgentError::Protocol(format!(
            "the agent on JVM {}'s channel answered as process {} after a request was sent; `jhot history {}` shows \
             whether anything changed",
            target.pid, hello.pid, target.pid
        )));
    }
    if hello.pid != i64::from(target.nspid) || !started_with(&hello, target) {
        tracing::debug!(
            agent_pid = hello.pid,
            nspid = target.nspid,
            start_ms = hello.start_ms,
            "channel belongs to another process; ignoring it"
        );
        return Ok(None);
    }
    session.hello = hello;
    tracing::debug!("agent channel open");
    let answer = match (then_id, after) {
        (Some(id), _) => Some(session.receive::<T>(id).await),
        (None, Some((r, blobs))) => Some(session.call::<T>(r, blobs).await),
        (None, None) => None,
    };
    Ok(Some((session, answer)))
}

/// The agent's `start_ms` (the JVM's start, epoch milliseconds) agrees with when the target
/// process started: an agent of an earlier JVM with the same pid does not.
fn started_with(hello: &super::protocol::Hello, target: &Target) -> bool {
    match (jhot_attach::procfs::start_ms(target.start_time), u64::try_from(hello.start_ms)) {
        // The JVM takes its start time a little after exec; allow for the tick granularity and
        // a slow start, not for another process.
        (Some(started), Ok(jvm)) if hello.start_ms > 0 => jvm + 2_000 >= started && jvm <= started + 120_000,
        _ => true,
    }
}

fn stale(e: &std::io::Error) -> bool {
    matches!(e.kind(), std::io::ErrorKind::ConnectionRefused | std::io::ErrorKind::NotFound)
}

/// The loopback port of the agent's channel in `target` (JDK 11–15: no Unix channel there), when
/// its port file is present and sound. A listener on it is jhot's, not the application's.
pub fn agent_tcp_port(target: &Target) -> Option<u16> {
    let files = channel_files(target);
    let dir = private_dir::of_target(target, false).ok().flatten()?;
    if !dir.exists(&files.port) {
        return None;
    }
    read_port_file(&dir, &files.port).ok().map(|(port, _)| port)
}

fn read_port_file(dir: &PrivateDir, name: &str) -> Result<(u16, String), AgentError> {
    // Regular, the JVM user's, not a link, not a FIFO, and small: the file is the JVM user's to
    // write, and root reads it in every `jhot ps`.
    let bytes = dir.read(name, 4096).map_err(|e| AgentError::PrivateDirUnsafe {
        path: dir.shown_file(name),
        reason: format!("the port file cannot be used: {e}"),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let mut parts = text.split_whitespace();
    let port = parts.next().and_then(|p| p.parse::<u16>().ok());
    let token = parts.next();
    match (port, token) {
        (Some(port), Some(token)) if port != 0 && token.len() >= 32 => Ok((port, token.to_string())),
        _ => Err(AgentError::Protocol(format!("{} does not hold '<port> <token>'", dir.shown_file(name).display()))),
    }
}

/// Connects to the agent's loopback port. A JVM in another network namespace (a container) has its
/// own loopback, so the connect happens on a thread that has joined that namespace; the socket
/// keeps working after the thread ends.
async fn connect_tcp(target: &Target, port: u16, timeout: Duration) -> std::io::Result<tokio::net::TcpStream> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let pid = target.pid;
    let ours = jhot_attach::procfs::read_own_ns("net").ok();
    let theirs = jhot_attach::procfs::read_ns(pid, "net").ok();
    let std_stream = if ours == theirs {
        tokio::task::spawn_blocking(move || std::net::TcpStream::connect_timeout(&addr, timeout))
            .await
            .map_err(std::io::Error::other)??
    } else {
        std::thread::spawn(move || -> std::io::Result<std::net::TcpStream> {
            use std::os::fd::AsRawFd;
            let ns = jhot_attach::procfs::open_ns(pid, "net")?;
            // SAFETY: setns on this thread only; CLONE_NEWNET may be joined by one thread of a
            // multi-threaded process, and this thread ends right after connecting.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            std::net::TcpStream::connect_timeout(&addr, timeout)
        })
        .join()
        .map_err(|_| std::io::Error::other("network-namespace thread panicked"))??
    };
    std_stream.set_nodelay(true)?;
    std_stream.set_nonblocking(true)?;
    tokio::net::TcpStream::from_std(std_stream)
}

fn placeholder_hello() -> super::protocol::Hello {
    super::protocol::Hello {
        protocol: 0,
        agent: String::new(),
        pid: 0,
        start_ms: 0,
        java_version: String::new(),
        vm_name: String::new(),
        vm_vendor: String::new(),
        mode: String::new(),
        loads: 0,
        patched: 0,
        pending: 0,
        channel: String::new(),
        ops: Vec::new(),
    }
}

impl Session {
    pub(super) fn pid(&self) -> u32 {
        self.pid
    }

    pub(super) fn start_time(&self) -> u64 {
        self.start_time
    }

    pub(super) fn is_to(&self, pid: u32, start_time: u64) -> bool {
        self.pid == pid && self.start_time == start_time
    }

    /// Sends one request and waits for its response. A refused request becomes
    /// `AgentError::Refused` with the agent's reason.
    ///
    /// A request that can take long ([`Request::cancellable`]) opts into events towards an agent
    /// that lists `cancel`, so that dropping the session mid-request (closing the socket) cancels
    /// it in the agent; event frames are skipped and the timeout applies between frames, so
    /// heartbeats keep a long request alive.
    pub async fn call<T: DeserializeOwned>(
        &mut self,
        request: &Request,
        blobs: Vec<Vec<u8>>,
    ) -> Result<(T, Vec<Vec<u8>>), AgentError> {
        self.call_with_events(request, blobs, |_| {}).await
    }

    /// As [`Session::call`], handing each event frame (heartbeats included) to `on_event`.
    pub async fn call_with_events<T: DeserializeOwned>(
        &mut self,
        request: &Request,
        blobs: Vec<Vec<u8>>,
        mut on_event: impl FnMut(&Frame),
    ) -> Result<(T, Vec<Vec<u8>>), AgentError> {
        // Only requests that can take long opt in: the agent runs an opted-in request on a thread
        // of its own, which a quick one does not need.
        let events = request.cancellable() && self.hello.ops.iter().any(|op| op == "cancel");
        let id = self.send_envelope(request, blobs, events).await?;
        loop {
            let frame = self.receive_frame().await?;
            if events && is_event(&frame, id)? {
                on_event(&frame);
                continue;
            }
            // The final reply (even a refusal): the conversation is back in step.
            self.pending -= 1;
            tracing::debug!(id, "agent answered");
            return parse_response(frame, id);
        }
    }

    /// Writes a request without waiting; its answer comes from [`Session::receive`], in order.
    async fn send(&mut self, request: &Request, blobs: Vec<Vec<u8>>) -> Result<u64, AgentError> {
        self.send_envelope(request, blobs, false).await
    }

    async fn send_envelope(&mut self, request: &Request, blobs: Vec<Vec<u8>>, events: bool) -> Result<u64, AgentError> {
        let id = self.next_id;
        self.next_id += 1;
        self.pending += 1;
        let frame =
            Frame::new(&Envelope { id, request, events }, blobs).map_err(|e| AgentError::Protocol(e.to_string()))?;
        let bytes = frame.encode().map_err(|e| AgentError::Protocol(e.to_string()))?;
        let write = async {
            self.stream.write_all(&bytes).await?;
            self.stream.flush().await
        };
        match tokio::time::timeout(self.timeout, write).await {
            Err(_) => Err(AgentError::Timeout { what: "sending to the agent", secs: self.timeout.as_secs() }),
            Ok(Err(_)) if exiting(self.pid, self.start_time).await => Err(AgentError::Exited { pid: self.pid }),
            Ok(Err(e)) => Err(e.into()),
            Ok(Ok(())) => Ok(id),
        }
    }

    /// Reads the answer to request `id`.
    async fn receive<T: DeserializeOwned>(&mut self, id: u64) -> Result<(T, Vec<Vec<u8>>), AgentError> {
        let reply = self.receive_frame().await?;
        self.pending -= 1;
        parse_response(reply, id)
    }

    /// Reads the next frame, within the timeout.
    async fn receive_frame(&mut self) -> Result<Frame, AgentError> {
        let pid = self.pid;
        let start_time = self.start_time;
        // Poll the target while waiting: a JVM that dies mid-request is reported as such, not as a
        // timeout.
        let watchdog = async move {
            loop {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if !jhot_attach::process_alive(pid, start_time) {
                    return;
                }
            }
        };
        tokio::select! {
            r = tokio::time::timeout(self.timeout, read_frame(&mut self.stream)) => match r {
                Err(_) => Err(AgentError::Timeout { what: "waiting for the agent's answer", secs: self.timeout.as_secs() }),
                Ok(Err(e)) => {
                    if exiting(pid, start_time).await {
                        return Err(AgentError::Exited { pid });
                    }
                    Err(e)
                }
                Ok(Ok(f)) => Ok(f),
            },
            _ = watchdog => Err(AgentError::Exited { pid }),
        }
    }
}

/// An event frame (an `event` and no `ok`) of request `id`, rather than its final reply.
fn is_event(frame: &Frame, id: u64) -> Result<bool, AgentError> {
    #[derive(serde::Deserialize)]
    struct Head {
        id: u64,
        #[serde(default)]
        ok: Option<bool>,
        #[serde(default)]
        event: Option<String>,
    }
    let head: Head =
        serde_json::from_slice(&frame.header).map_err(|e| AgentError::Protocol(format!("bad frame header: {e}")))?;
    match (head.event, head.ok) {
        (Some(_), None) if head.id == id => Ok(true),
        (Some(_), None) => Err(AgentError::Protocol(format!("event of request {} while waiting for {id}", head.id))),
        _ => Ok(false),
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.pending > 0 || self.hello.protocol == 0 {
            return;
        }
        // Move the open stream into a session the pool can keep; this one closes nothing then.
        let stream =
            std::mem::replace(&mut self.stream, Box::new(tokio::io::join(tokio::io::empty(), tokio::io::sink())));
        let kept = Session {
            stream,
            next_id: self.next_id,
            pending: 0,
            pid: self.pid,
            start_time: self.start_time,
            hello: std::mem::replace(&mut self.hello, placeholder_hello()),
            timeout: self.timeout,
        };
        if let Some(mut refused) = super::pool::offer(kept) {
            // Not kept: mark it so its own drop does not offer it again.
            refused.hello.protocol = 0;
        }
    }
}

/// Checks a response frame against the request `id` and decodes its body; a refusal becomes
/// `AgentError::Refused`.
pub fn parse_response<T: DeserializeOwned>(reply: Frame, id: u64) -> Result<(T, Vec<Vec<u8>>), AgentError> {
    let head: ResponseHead =
        serde_json::from_slice(&reply.header).map_err(|e| AgentError::Protocol(format!("bad response header: {e}")))?;
    if !head.ok {
        let failure = head.error.ok_or_else(|| AgentError::Protocol("failed response without error".into()))?;
        return Err(AgentError::Refused(failure));
    }
    if head.id != id {
        return Err(AgentError::Protocol(format!("response id {} does not match request id {id}", head.id)));
    }
    let body: T =
        serde_json::from_slice(&reply.header).map_err(|e| AgentError::Protocol(format!("bad response body: {e}")))?;
    Ok((body, reply.blobs))
}

/// Whether the process is exiting. A dying process's sockets close before it becomes a zombie,
/// so a broken connection may be seen while /proc still calls the process running: give it a
/// moment to finish dying before blaming the connection.
async fn exiting(pid: u32, start_time: u64) -> bool {
    for _ in 0..50 {
        if !jhot_attach::process_alive(pid, start_time) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    false
}

async fn read_frame(stream: &mut Box<dyn Stream>) -> Result<Frame, AgentError> {
    let mut prefix = [0u8; 4];
    match stream.read_exact(&mut prefix).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(AgentError::Closed),
        Err(e) => return Err(e.into()),
    }
    let len = Frame::body_len(prefix).map_err(|e| AgentError::Protocol(e.to_string()))?;
    // Grow the buffer as bytes arrive instead of trusting the length up front.
    let mut body = Vec::new();
    let n = stream.take(len as u64).read_to_end(&mut body).await?;
    if n != len {
        return Err(AgentError::Closed);
    }
    Frame::decode_body(&body).map_err(|e| AgentError::Protocol(e.to_string()))
}
