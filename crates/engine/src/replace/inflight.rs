//! Requests a drained process is still serving, told from the kernel's view of its connections.
//!
//! Once the old process no longer accepts (fenced or stopped by name by its agent), the clients it
//! still holds would meet its stop: a server with no graceful stop dies with its requests at
//! SIGTERM, and a graceful one answers 503 to the next request on a keep-alive connection (Jetty,
//! Undertow) or resets a connection it has not read yet (Vert.x). So before the signal jhot closes
//! each keep-alive connection at a moment it carries no request, as a graceful server does with
//! idle ones, and waits for the others to finish theirs; the clients' next requests go on new
//! connections to the new process. What "carries a request" means is read from each connection's
//! `TCP_INFO` (through a `pidfd_getfd` copy, closed at once): bytes received and not read, a
//! connection that has not sent its first byte yet, or data received more recently than data sent
//! (a request whose answer has not started). Under `jhot run` the old process's shim hands idle
//! connections over instead, and only the wait is done, for an application with no shutdown hook.
//!
//! Without ptrace rights over the process (the agent copied the listeners), only unread bytes
//! can be seen; the wait is weaker then, and the report says so.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

use jhot_attach::procfs::{self, TCP_CLOSE_WAIT, TCP_ESTABLISHED};

/// One connection's activity as the kernel counts it (`struct tcp_info`, fields by offset).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TcpActivity {
    /// Milliseconds since data was last sent / received.
    pub since_sent_ms: u32,
    pub since_received_ms: u32,
    pub bytes_received: u64,
    /// None on kernels before 4.19.
    pub bytes_sent: Option<u64>,
}

/// `tcpi_last_data_sent`, `tcpi_last_data_recv`, `tcpi_bytes_received`, `tcpi_bytes_sent`.
const OFF_LAST_SENT: usize = 44;
const OFF_LAST_RECV: usize = 52;
const OFF_BYTES_RECEIVED: usize = 128;
const OFF_BYTES_SENT: usize = 200;

/// Decodes the bytes `getsockopt(TCP_INFO)` filled; None when too short to hold the times.
pub fn parse_tcp_info(b: &[u8]) -> Option<TcpActivity> {
    let u32_at = |o: usize| b.get(o..o + 4).map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]));
    let u64_at = |o: usize| b.get(o..o + 8).map(|s| u64::from_ne_bytes(s.try_into().unwrap_or([0; 8])));
    Some(TcpActivity {
        since_sent_ms: u32_at(OFF_LAST_SENT)?,
        since_received_ms: u32_at(OFF_LAST_RECV)?,
        bytes_received: u64_at(OFF_BYTES_RECEIVED)?,
        bytes_sent: u64_at(OFF_BYTES_SENT),
    })
}

/// How long a connection that has sent nothing yet counts as a request about to arrive (a
/// browser's pre-connection may sit idle for much longer).
const FIRST_BYTE_GRACE_MS: u32 = 1000;

/// Whether a connection carries a request in progress.
pub fn is_busy(unread: u64, a: Option<TcpActivity>) -> bool {
    if unread > 0 {
        return true;
    }
    let Some(a) = a else { return false };
    if a.bytes_received == 0 {
        return a.since_received_ms < FIRST_BYTE_GRACE_MS;
    }
    if a.bytes_sent == Some(0) {
        return true;
    }
    // Times are in jiffies (4 ms at HZ=250): a fast answer in the same tick reads as idle.
    a.since_received_ms < a.since_sent_ms
}

fn tcp_info(fd: BorrowedFd<'_>) -> Option<TcpActivity> {
    let mut buf = [0u8; 256];
    let mut len = buf.len() as libc::socklen_t;
    // SAFETY: buf is writable for len bytes; the kernel writes at most len and updates it.
    let r = unsafe {
        libc::getsockopt(fd.as_raw_fd(), libc::IPPROTO_TCP, libc::TCP_INFO, buf.as_mut_ptr().cast(), &mut len)
    };
    if r != 0 {
        return None;
    }
    parse_tcp_info(buf.get(..len as usize)?)
}

/// The connections of `pid` accepted on `ports`, and how many of them are busy.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub connections: usize,
    pub busy: usize,
    /// The socket inodes of the idle ones closed by this look ([`Idle::Close`]). A connection
    /// shut for reading stays until its server closes it, so a later look may close it again.
    pub closed: Vec<u64>,
    /// Whether TCP_INFO could be read (else only unread bytes count).
    pub precise: bool,
}

/// What to do with an idle connection while looking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idle {
    Keep,
    /// Shut it for reading through the copy: the server reads end-of-stream (after finishing an
    /// answer it had begun) and closes the connection, as a graceful server closes an idle
    /// keep-alive one, and the client sends its next request on a new connection — to the process
    /// that accepts now. Counted in [`Snapshot::closed`].
    Close,
}

/// The connections of `pid` accepted on `ports`; idle ones closed when `idle` says so.
pub fn look(pid: u32, pidfd: BorrowedFd<'_>, ports: &[u16], idle: Idle) -> std::io::Result<Snapshot> {
    let mut conns: Vec<(u64, u64)> = Vec::new();
    for v6 in [false, true] {
        match procfs::read_net_tcp(pid, v6) {
            Ok(sockets) => conns.extend(
                sockets
                    .iter()
                    .filter(|s| {
                        (s.state == TCP_ESTABLISHED || s.state == TCP_CLOSE_WAIT)
                            && s.inode != 0
                            && ports.contains(&s.local.port())
                    })
                    .map(|s| (s.inode, s.rx_queue)),
            ),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && v6 => {}
            Err(e) => return Err(e),
        }
    }
    let mut snap = Snapshot { precise: true, ..Snapshot::default() };
    if conns.is_empty() {
        return Ok(snap);
    }
    for open in procfs::read_fds(pid)? {
        let Some(inode) = open.socket_inode() else { continue };
        let Some(&(_, unread)) = conns.iter().find(|(i, _)| *i == inode) else { continue };
        snap.connections += 1;
        let copy: Option<OwnedFd> =
            rustix::process::pidfd_getfd(pidfd, open.fd, rustix::process::PidfdGetfdFlags::empty()).ok();
        // The copy must be that socket (the number may have been reused) and is closed right
        // away: held past the process's exit it would keep the client's connection open.
        let copy = copy.filter(|c| rustix::fs::fstat(c).is_ok_and(|st| st.st_ino == inode));
        let activity = copy.as_ref().and_then(|c| tcp_info(c.as_fd()));
        if activity.is_none() {
            snap.precise = false;
        }
        if is_busy(unread, activity) {
            snap.busy += 1;
        } else if let (Idle::Close, Some(c), Some(_)) = (idle, &copy, activity)
            // The read side only: "idle" is judged in jiffies, and an answer begun within the tick
            // of the one before reads as idle. Shut both ways, such an answer was cut short (the
            // client had part of it and could not retry); shut for reading, the server finishes it,
            // then reads end-of-stream and closes, and the client sends its next request elsewhere.
            && rustix::net::shutdown(c, rustix::net::Shutdown::Read).is_ok()
        {
            snap.closed.push(inode);
        }
    }
    Ok(snap)
}

/// What the drain's wait for requests in progress saw, for the report.
#[derive(Debug, Clone, Copy, Default, serde::Serialize, serde::Deserialize)]
pub struct Waited {
    pub waited_ms: f64,
    /// Connections with a request in progress when the wait ended (0 unless it timed out).
    pub busy_at_end: u32,
    /// Connections the process still held then (idle keep-alive ones, unless jhot closed them).
    pub open_at_end: u32,
    /// Idle keep-alive connections jhot closed before the signal, each at a moment it carried no
    /// request, so that the client's next request goes to the new process.
    #[serde(default)]
    pub closed_idle: u32,
    /// False when only unread bytes could be seen (no ptrace rights over the process).
    pub precise: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::Duration;

    fn activity(sent: u32, recv: u32, rx: u64, tx: Option<u64>) -> Option<TcpActivity> {
        Some(TcpActivity { since_sent_ms: sent, since_received_ms: recv, bytes_received: rx, bytes_sent: tx })
    }

    #[test]
    fn busy_is_a_request_without_its_answer() {
        assert!(is_busy(10, None), "unread bytes");
        assert!(!is_busy(0, None), "nothing known");
        assert!(is_busy(0, activity(50, 50, 0, Some(0))), "fresh connection, first byte pending");
        assert!(!is_busy(0, activity(5000, 5000, 0, Some(0))), "a pre-connection idle for long");
        assert!(is_busy(0, activity(40, 40, 120, Some(0))), "request read, nothing answered");
        assert!(is_busy(0, activity(300, 20, 240, Some(100))), "received after the last answer");
        assert!(!is_busy(0, activity(20, 300, 240, Some(200))), "answered after the last request");
        assert!(!is_busy(0, activity(20, 20, 240, Some(200))), "same tick");
    }

    #[test]
    fn parses_the_kernel_layout() {
        let mut b = [0u8; 232];
        b[44..48].copy_from_slice(&7u32.to_ne_bytes());
        b[52..56].copy_from_slice(&9u32.to_ne_bytes());
        b[128..136].copy_from_slice(&100u64.to_ne_bytes());
        b[200..208].copy_from_slice(&42u64.to_ne_bytes());
        assert_eq!(parse_tcp_info(&b), activity(7, 9, 100, Some(42)));
        assert_eq!(parse_tcp_info(&b[..150]).map(|a| a.bytes_sent), Some(None));
        assert_eq!(parse_tcp_info(&b[..40]), None);
    }

    /// A real connection of this process: busy while its request is unanswered, idle after.
    #[test]
    fn a_served_request_leaves_the_connection_idle() {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = l.local_addr().expect("addr").port();
        let mut client = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let (mut conn, _) = l.accept().expect("accept");
        let pid = std::process::id();
        let me = rustix::process::pidfd_open(
            rustix::process::Pid::from_raw(pid as i32).expect("pid"),
            rustix::process::PidfdFlags::empty(),
        )
        .expect("pidfd");
        let busy = |ports: &[u16]| look(pid, me.as_fd(), ports, Idle::Keep).expect("look");
        assert_eq!(busy(&[port]).busy, 1, "connected, first byte pending");
        client.write_all(b"GET / HTTP/1.1\r\n\r\n").expect("write");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(busy(&[port]).busy, 1, "unread request");
        let mut req = [0u8; 18];
        conn.read_exact(&mut req).expect("read");
        std::thread::sleep(Duration::from_millis(30));
        let s = busy(&[port]);
        assert!(s.precise, "pidfd_getfd on ourselves works");
        assert_eq!(s.busy, 1, "read, not answered");
        conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").expect("answer");
        std::thread::sleep(Duration::from_millis(30));
        assert_eq!(busy(&[port]), Snapshot { connections: 1, busy: 0, closed: vec![], precise: true });
        let closed = look(pid, me.as_fd(), &[port], Idle::Close).expect("look");
        assert_eq!((closed.connections, closed.closed.len()), (1, 1));
        // Shut for reading: the server's next read is end-of-stream, and it closes, as servers do.
        let mut more = [0u8; 1];
        assert_eq!(conn.read(&mut more).expect("read after the close"), 0, "the server reads end-of-stream");
        drop(conn);
        let mut rest = Vec::new();
        client.read_to_end(&mut rest).expect("the client sees the server's close after the answer");
        assert!(rest.starts_with(b"HTTP/1.1 200"), "the answer came first");
        assert_eq!(busy(&[port.wrapping_add(1)]).connections, 0, "other ports are not looked at");
    }
}
