//! Fencing: the JVM being replaced stops taking connections from a listener it shares with its
//! successor, while the listener itself (one open file, held by both processes) notices nothing.
//!
//! jhot cannot close the old process's descriptor from outside, and anything done to the socket
//! (`shutdown`, `close` of the last reference) would hit the new process too. So, inside the old
//! JVM, the descriptor *number* is pointed elsewhere: `dup3` puts a decoy there, a TCP listener on
//! loopback port 0 that nobody connects to. Whatever the server does next with that number —
//! `accept` (non-blocking: EAGAIN; blocking: waits), `poll`, re-registering it — sees an idle
//! listener, never an error it might react to by exiting.
//!
//! Two things hold the real socket past the `dup3` and are dealt with first or after:
//! * epoll registrations are keyed by (open file, number) and outlive the number's reuse: a level-
//!   triggered selector would report the shared socket readable for as long as its queue is not
//!   empty and spin on accepts that find nothing. Each registration of the socket is modified to
//!   watch no event before the `dup3` (found in `/proc/self/fdinfo` of every epoll descriptor).
//! * a thread blocked in `accept(2)` holds the real socket until a connection arrives, and would
//!   take one more from the shared queue. Such a thread (its `/proc/self/task/*/syscall` says
//!   accept on that number) is woken with the signal the JDK itself uses to interrupt blocking I/O
//!   (SIGRTMAX-2, installed without SA_RESTART by the JDK's NativeThread); the JDK retries the
//!   accept on the number, which is now the decoy. Only when this JVM catches that signal: its
//!   default action would kill the process.

use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

use rustix::io::Errno;
use rustix::net::{self, AddressFamily, SocketFlags, SocketType};

/// What [`fence`] did with one descriptor. The numbers are the JNI contract (`Native.fence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Fenced; the count of threads woken from a blocked accept on it.
    Fenced { woken: u32, blocked_unwoken: u32 },
    /// The number no longer names that socket (the server closed it): nothing to do.
    Gone,
    /// Not a listening socket (any more).
    NotListening,
    /// A system call failed; nothing was changed.
    Failed(Errno),
}

impl Outcome {
    /// `[status, woken, blocked_unwoken]`: status 0 fenced, 1 gone, 2 not listening, -errno.
    pub fn encode(self) -> [i64; 3] {
        match self {
            Outcome::Fenced { woken, blocked_unwoken } => [0, woken.into(), blocked_unwoken.into()],
            Outcome::Gone => [1, 0, 0],
            Outcome::NotListening => [2, 0, 0],
            Outcome::Failed(e) => [-i64::from(e.raw_os_error()), 0, 0],
        }
    }
}

/// Fences descriptor `fd` of this process if it still is the socket with inode `inode`.
pub fn fence(fd: RawFd, inode: u64) -> Outcome {
    if fd < 0 {
        return Outcome::Gone;
    }
    // SAFETY: fd is non-negative and only borrowed for this call; a closed number is caught by
    // fstat (EBADF) below, and a reused one by the inode check.
    let held = unsafe { BorrowedFd::borrow_raw(fd) };
    let st = match rustix::fs::fstat(held) {
        Ok(st) => st,
        Err(Errno::BADF) => return Outcome::Gone,
        Err(e) => return Outcome::Failed(e),
    };
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::Socket || st.st_ino != inode {
        return Outcome::Gone;
    }
    if !net::sockopt::socket_acceptconn(held).unwrap_or(false) {
        return Outcome::NotListening;
    }
    // A thread blocked in accept on it is a blocking acceptor (the JDWP agent's, a plain
    // ServerSocket on some JDKs): when woken it retries on the decoy, which must block for it
    // rather than say EAGAIN, which such an acceptor may take as fatal. The shared description's
    // O_NONBLOCK says nothing here: the successor's shim sets it.
    let blocked = threads_in_accept(fd);
    let decoy = match decoy_like(held, blocked.is_empty()) {
        Ok(d) => d,
        Err(e) => return Outcome::Failed(e),
    };
    silence_epoll(fd, inode);
    let cloexec = rustix::io::fcntl_getfd(held).map(|f| f.contains(rustix::io::FdFlags::CLOEXEC)).unwrap_or(true);
    // SAFETY: both are open descriptors of this process; dup3 atomically replaces what `fd` names,
    // which is the point (see the module comment). The decoy's own number is closed on drop.
    let r = unsafe { libc::dup3(decoy.as_raw_fd(), fd, if cloexec { libc::O_CLOEXEC } else { 0 }) };
    if r < 0 {
        return Outcome::Failed(Errno::from_raw_os_error(std::io::Error::last_os_error().raw_os_error().unwrap_or(0)));
    }
    drop(decoy);
    let (woken, blocked_unwoken) = wake(&blocked);
    Outcome::Fenced { woken, blocked_unwoken }
}

/// A listener on loopback port 0 of the same family as `like`; with its O_NONBLOCK when
/// `copy_nonblock`, else blocking.
fn decoy_like(like: BorrowedFd<'_>, copy_nonblock: bool) -> Result<OwnedFd, Errno> {
    let family = net::sockopt::socket_domain(like)?;
    let decoy = net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
    let at: std::net::SocketAddr = if family == AddressFamily::INET6 {
        (std::net::Ipv6Addr::LOCALHOST, 0).into()
    } else {
        (std::net::Ipv4Addr::LOCALHOST, 0).into()
    };
    net::bind(&decoy, &at)?;
    net::listen(&decoy, 1)?;
    let flags = rustix::fs::fcntl_getfl(like)?;
    if copy_nonblock && flags.contains(rustix::fs::OFlags::NONBLOCK) {
        rustix::fs::fcntl_setfl(&decoy, rustix::fs::OFlags::NONBLOCK)?;
    }
    Ok(decoy)
}

/// One registration of a descriptor in an epoll set, from `/proc/self/fdinfo/<epfd>`.
#[derive(Debug, PartialEq, Eq)]
pub struct Registration {
    pub fd: RawFd,
    pub events: u32,
    pub data: u64,
    pub inode: u64,
}

/// Parses the `tfd:` lines of an epoll descriptor's fdinfo.
pub fn parse_epoll_fdinfo(text: &str) -> Vec<Registration> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut it = line.split_whitespace();
        if it.next() != Some("tfd:") {
            continue;
        }
        let Some(fd) = it.next().and_then(|v| v.parse().ok()) else { continue };
        let (mut events, mut data, mut inode) = (None, None, None);
        while let Some(key) = it.next() {
            match key {
                "events:" => events = it.next().and_then(|v| u32::from_str_radix(v, 16).ok()),
                "data:" => data = it.next().and_then(|v| u64::from_str_radix(v, 16).ok()),
                k if k.starts_with("ino:") => inode = u64::from_str_radix(&k[4..], 16).ok(),
                _ => {}
            }
        }
        if let (Some(events), Some(data), Some(inode)) = (events, data, inode) {
            out.push(Registration { fd, events, data, inode });
        }
    }
    out
}

/// Makes every epoll registration of (`fd`, socket `inode`) in this process watch nothing.
fn silence_epoll(fd: RawFd, inode: u64) {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return };
    for entry in dir.flatten() {
        let Some(epfd) = entry.file_name().to_str().and_then(|n| n.parse::<RawFd>().ok()) else { continue };
        if std::fs::read_link(entry.path()).ok().and_then(|l| l.to_str().map(|s| s == "anon_inode:[eventpoll]"))
            != Some(true)
        {
            continue;
        }
        let Ok(info) = std::fs::read_to_string(format!("/proc/self/fdinfo/{epfd}")) else { continue };
        for reg in parse_epoll_fdinfo(&info) {
            if reg.fd != fd || reg.inode != inode {
                continue;
            }
            let mut ev = libc::epoll_event { events: 0, u64: reg.data };
            // SAFETY: epfd is an epoll descriptor of this process (a race with its close makes
            // the call fail, harmlessly); ev is a valid event. MOD keeps the registration and its
            // data, so the application's own later MOD or DEL still finds it.
            unsafe { libc::epoll_ctl(epfd, libc::EPOLL_CTL_MOD, fd, &mut ev) };
        }
    }
}

/// Parses `/proc/<tid>/syscall`: the system call number and first argument of a blocked thread.
pub fn parse_syscall(text: &str) -> Option<(i64, u64)> {
    let mut it = text.split_whitespace();
    let nr = it.next()?.parse().ok()?;
    let arg0 = u64::from_str_radix(it.next()?.trim_start_matches("0x"), 16).ok()?;
    Some((nr, arg0))
}

/// Whether this process catches `sig`, from the `SigCgt:` mask of /proc/self/status.
pub fn catches(status: &str, sig: i32) -> bool {
    status
        .lines()
        .find_map(|l| l.strip_prefix("SigCgt:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .is_some_and(|mask| (1..=64).contains(&sig) && mask & (1u64 << (sig - 1)) != 0)
}

/// The JDK's signal for interrupting a thread blocked in I/O (NativeThread, linux_close.c).
fn jdk_wakeup_signal() -> i32 {
    libc::SIGRTMAX() - 2
}

/// Threads of this process (but the calling one) blocked in accept on `fd`.
fn threads_in_accept(fd: RawFd) -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    let me = rustix::thread::gettid().as_raw_nonzero().get();
    let mut out = Vec::new();
    for task in tasks.flatten() {
        let Some(tid) = task.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if tid == me {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(task.path().join("syscall")) else { continue };
        let Some((nr, arg0)) = parse_syscall(&text) else { continue };
        if (nr == libc::SYS_accept || nr == libc::SYS_accept4) && arg0 == fd as u64 {
            out.push(tid);
        }
    }
    out
}

/// Wakes `tids` out of their accept with the JDK's interrupt signal: (woken, left blocked).
fn wake(tids: &[i32]) -> (u32, u32) {
    if tids.is_empty() {
        return (0, 0);
    }
    let sig = jdk_wakeup_signal();
    let caught = std::fs::read_to_string("/proc/self/status").map(|s| catches(&s, sig)).unwrap_or(false);
    if !caught {
        return (0, tids.len() as u32);
    }
    let (mut woken, mut left) = (0, 0);
    for &tid in tids {
        // SAFETY: tgkill to a thread of this very process (the tgid check in the kernel makes a
        // tid reused by another process a no-op), with a signal the JVM catches.
        let r = unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), tid, sig) };
        if r == 0 { woken += 1 } else { left += 1 }
    }
    (woken, left)
}

/// Fences every (fd, inode) pair; the same order out.
pub fn fence_all(fds: &[RawFd], inodes: &[u64]) -> Vec<Outcome> {
    fds.iter().zip(inodes).map(|(&fd, &ino)| fence(fd, ino)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::os::unix::fs::MetadataExt;

    fn inode_of(fd: RawFd) -> u64 {
        std::fs::metadata(format!("/proc/self/fd/{fd}")).map(|m| m.ino()).unwrap_or(0)
    }

    #[test]
    fn parses_epoll_fdinfo() {
        let text = "pos:\t0\nflags:\t02000002\nmnt_id:\t15\nino:\t1057\n\
                    tfd:        7 events:       19 data:                7  pos:0 ino:1b1f sdev:8\n\
                    tfd:       12 events: 80000001 data:     7f00aa000001  pos:0 ino:2a sdev:8\n";
        assert_eq!(
            parse_epoll_fdinfo(text),
            vec![
                Registration { fd: 7, events: 0x19, data: 7, inode: 0x1b1f },
                Registration { fd: 12, events: 0x8000_0001, data: 0x7f00_aa00_0001, inode: 0x2a },
            ]
        );
    }

    #[test]
    fn parses_syscall_and_sigcgt() {
        assert_eq!(parse_syscall("43 0x5 0x7ffd 0x7ffe 0x0 0x0 0x0 0x7ffd 0x7f"), Some((43, 5)));
        assert_eq!(parse_syscall("running"), None);
        let status = "Name:\tjava\nSigBlk:\t0000000000000000\nSigCgt:\t2000000181005ccf\n";
        assert!(catches(status, 62), "bit 61 is set in 0x2000000000000000");
        assert!(catches(status, 1));
        assert!(!catches(status, 6 + 8));
    }

    /// After the fence, connections to the shared socket are accepted only through another
    /// descriptor of the same socket (the successor's), and the fenced number sees nothing.
    #[test]
    fn a_fenced_number_no_longer_accepts_but_the_socket_does() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let successor = listener.try_clone().expect("dup");
        let fd = listener.as_raw_fd();
        let ino = inode_of(fd);
        assert_eq!(fence(fd, ino + 1), Outcome::Gone, "another inode is left alone");
        assert!(matches!(fence(fd, ino), Outcome::Fenced { woken: 0, blocked_unwoken: 0 }));
        assert_ne!(inode_of(fd), ino, "the number names the decoy");
        assert_eq!(fence(fd, ino), Outcome::Gone, "a second fence finds the decoy");

        let mut client = TcpStream::connect(addr).expect("the socket still listens");
        client.write_all(b"x").expect("write");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(listener.accept().is_err(), "the fenced number accepts nothing (EAGAIN on the decoy)");
        let (mut conn, _) = successor.accept().expect("the successor's descriptor takes it");
        let mut b = [0u8; 1];
        conn.read_exact(&mut b).expect("read");
        assert_eq!(&b, b"x");
    }

    /// A thread blocked in accept(2) on the number is not left holding the real socket when the
    /// process catches the wake-up signal; here nobody catches it, so it is reported, not sent.
    #[test]
    fn a_blocked_accept_without_a_handler_is_reported_not_signalled() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let fd = listener.as_raw_fd();
        let ino = inode_of(fd);
        let successor = listener.try_clone().expect("dup");
        let t = std::thread::spawn(move || {
            let _ = listener.accept();
            listener
        });
        std::thread::sleep(std::time::Duration::from_millis(100));
        let status = std::fs::read_to_string("/proc/self/status").expect("status");
        let expected_left = u32::from(!catches(&status, jdk_wakeup_signal()));
        match fence(fd, ino) {
            Outcome::Fenced { woken, blocked_unwoken } => {
                assert_eq!(blocked_unwoken, expected_left);
                assert_eq!(woken, 1 - expected_left);
            }
            other => panic!("{other:?}"),
        }
        // Release the blocked thread through the real socket.
        let _c = TcpStream::connect(addr).expect("connect");
        let listener = t.join().expect("join");
        drop((listener, successor));
    }
}
