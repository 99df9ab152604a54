//! One request/reply exchange on the attach socket, with deadlines on every step.
//!
//! The listener serves one connection at a time and has no timeouts of its own, so every
//! blocking call here is bounded; a hung JVM becomes a `Timeout`, never a hung jhot.

use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use rustix::io::Errno;
use rustix::net::{AddressFamily, SendFlags, Shutdown, SocketAddrUnix, SocketFlags, SocketType};

use crate::error::{AttachError, Step};
use crate::target::Target;

/// A reply larger than this is not an attach reply (class histograms of huge heaps are a few MB).
const MAX_REPLY: u64 = 256 * 1024 * 1024;

/// Sends `request` and reads the whole reply (the JVM closes the connection when done).
pub fn roundtrip(
    target: &Target,
    socket: &Path,
    request: &[u8],
    timeout: Duration,
    read_timeout: Duration,
) -> Result<Vec<u8>, AttachError> {
    let stream = connect(target, socket, Instant::now() + timeout)?;
    send_all(target, &stream, request, Instant::now() + timeout)?;
    // End of request: should the JVM count fewer strings than we meant, it sees EOF instead
    // of waiting forever with its single listener thread blocked.
    let _ = rustix::net::shutdown(&stream, Shutdown::Write);
    read_to_end(target, stream, Instant::now() + read_timeout)
}

fn connect(target: &Target, socket: &Path, deadline: Instant) -> Result<UnixStream, AttachError> {
    let pid = target.pid;
    let addr = SocketAddrUnix::new(socket)
        .map_err(|e| AttachError::io(format!("socket path {} is too long", socket.display()), e.into()))?;
    let start = Instant::now();
    loop {
        // Non-blocking so that a full backlog (another client holding the listener) yields
        // EAGAIN instead of blocking past the deadline.
        let fd = rustix::net::socket_with(
            AddressFamily::UNIX,
            SocketType::STREAM,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .map_err(|e| AttachError::io("cannot create a Unix socket", e.into()))?;
        match rustix::net::connect(&fd, &addr) {
            Ok(()) => {
                // Whatever the path led to, only the JVM itself may get the request: the
                // listening end must be the target process (SO_PEERCRED is who called listen).
                if let Err(reason) = crate::safe_fs::check_peer(fd.as_fd(), target.pid, target.start_time) {
                    return Err(AttachError::UnsafeSocket { pid, socket: target.socket_path(), reason });
                }
                let stream = UnixStream::from(fd);
                stream.set_nonblocking(false).map_err(|e| AttachError::io("cannot configure the socket", e))?;
                return Ok(stream);
            }
            Err(Errno::AGAIN) if Instant::now() < deadline => thread::sleep(Duration::from_millis(1)),
            Err(Errno::AGAIN) => {
                return Err(AttachError::Timeout { pid, step: Step::Connect, waited_ms: millis(start.elapsed()) });
            }
            Err(Errno::CONNREFUSED) => {
                return Err(AttachError::StaleSocket { pid, socket: target.socket_path() });
            }
            Err(Errno::NOENT) if !target.is_alive() => {
                return Err(AttachError::Exited { pid, step: Step::Connect });
            }
            Err(e) => {
                return Err(AttachError::io(format!("cannot connect to {}", target.socket_path().display()), e.into()));
            }
        }
    }
}

fn send_all(target: &Target, stream: &UnixStream, mut buf: &[u8], deadline: Instant) -> Result<(), AttachError> {
    let pid = target.pid;
    let start = Instant::now();
    while !buf.is_empty() {
        set_timeout(stream, deadline, true).ok_or(AttachError::Timeout {
            pid,
            step: Step::Request,
            waited_ms: millis(start.elapsed()),
        })?;
        // NOSIGNAL: a JVM that drops us (credentials mismatch) must give EPIPE, not kill jhot.
        match rustix::net::send(stream, buf, SendFlags::NOSIGNAL) {
            Ok(n) => buf = &buf[n..],
            Err(Errno::INTR) => {}
            Err(Errno::AGAIN) => {
                return Err(AttachError::Timeout { pid, step: Step::Request, waited_ms: millis(start.elapsed()) });
            }
            Err(Errno::PIPE | Errno::CONNRESET) => return Err(dropped(target, Step::Request)),
            Err(e) => return Err(AttachError::io("cannot send the attach request", e.into())),
        }
    }
    Ok(())
}

fn read_to_end(target: &Target, stream: UnixStream, deadline: Instant) -> Result<Vec<u8>, AttachError> {
    let pid = target.pid;
    let start = Instant::now();
    let mut reply = Vec::new();
    let mut limited = (&stream).take(MAX_REPLY + 1);
    let mut chunk = [0u8; 16 * 1024];
    loop {
        set_timeout(&stream, deadline, false).ok_or(AttachError::Timeout {
            pid,
            step: Step::Reply,
            waited_ms: millis(start.elapsed()),
        })?;
        match limited.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => reply.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {
                return Err(AttachError::Timeout { pid, step: Step::Reply, waited_ms: millis(start.elapsed()) });
            }
            // The JVM closed on us without reading everything: same meaning as an empty reply.
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset && reply.is_empty() => break,
            Err(e) => return Err(AttachError::io("cannot read the attach reply", e)),
        }
    }
    if reply.len() as u64 > MAX_REPLY {
        return Err(AttachError::protocol(format!("the reply is larger than {MAX_REPLY} bytes")));
    }
    if reply.is_empty() && !target.is_alive() {
        return Err(AttachError::Exited { pid, step: Step::Reply });
    }
    Ok(reply)
}

/// Sets the socket timeout to what is left until `deadline`; `None` once it has passed.
fn set_timeout(stream: &UnixStream, deadline: Instant, write: bool) -> Option<()> {
    let left = deadline.checked_duration_since(Instant::now()).filter(|d| !d.is_zero())?;
    let r = if write { stream.set_write_timeout(Some(left)) } else { stream.set_read_timeout(Some(left)) };
    r.ok()
}

/// The JVM closed the connection before taking the request.
fn dropped(target: &Target, step: Step) -> AttachError {
    if !target.is_alive() {
        return AttachError::Exited { pid: target.pid, step };
    }
    AttachError::protocol(
        "the JVM closed the connection without answering (request rejected: too long, or \
         credentials mismatch)",
    )
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}
