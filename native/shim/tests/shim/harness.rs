//! What the tests need to play jhot's part: the shared page, the control socket, spawning a
//! server with inherited descriptors under the shim, and a minimal HTTP/1.1 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::ops::Deref;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

use jhot_shim_protocol::page::{self as layout, probe};
pub use jhot_shim_protocol::{Kind, MSG_LEN};

/// Every wait in the tests is bounded by this (a JVM compiling its source file on a busy
/// two-core machine takes a few seconds).
pub const TIMEOUT: Duration = Duration::from_secs(60);

fn check(r: libc::c_int, what: &str) -> libc::c_int {
    assert!(r >= 0, "{what}: {}", std::io::Error::last_os_error());
    r
}

/// The library under test, `<target>/<profile>/libjhot_shim.so`, next to the `deps/` directory
/// the test executable runs from. Cargo does not build a cdylib-only library for integration
/// tests, so the first call builds it, with the same cargo, target directory and profile (a
/// no-op when it is up to date).
pub fn shim_path() -> PathBuf {
    static SO: OnceLock<PathBuf> = OnceLock::new();
    SO.get_or_init(|| {
        let exe = std::env::current_exe().expect("current_exe");
        let profile_dir = exe.parent().and_then(Path::parent).expect("<target>/<profile>");
        let target = profile_dir.parent().expect("<target>");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "--locked", "-p", "jhot-shim", "--manifest-path"])
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
            .arg("--target-dir")
            .arg(target);
        if profile_dir.file_name() == Some("release".as_ref()) {
            cmd.arg("--release");
        }
        let mut child = cmd.spawn().expect("run cargo build for the shim");
        let deadline = Instant::now() + Duration::from_secs(600);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for cargo") {
                break status;
            }
            assert!(Instant::now() < deadline, "cargo build of the shim took more than 10 minutes");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "cargo build of the shim failed");
        let so = profile_dir.join("libjhot_shim.so");
        assert!(so.exists(), "{} not built", so.display());
        so
    })
    .clone()
}

/// The real Python interpreter (not a pyenv shim script), so that LISTEN_PID=$$ names it.
pub fn python() -> &'static str {
    static PY: OnceLock<String> = OnceLock::new();
    PY.get_or_init(|| {
        let out = Command::new("python3")
            .args(["-c", "import sys; print(sys.executable)"])
            .output()
            .expect("python3 is needed for the shim tests");
        String::from_utf8(out.stdout).expect("utf-8").trim().to_string()
    })
}

pub fn server_py() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shim/server.py").to_string()
}

pub fn server_java() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/shim/Server.java").to_string()
}

/// A port nobody listens on right now (for a server's own explicit bind).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

// ---- the shared page ---------------------------------------------------------------------------

pub struct Page {
    fd: OwnedFd,
    base: *mut AtomicU32,
}

// SAFETY: the mapping is only accessed through atomics.
unsafe impl Send for Page {}
unsafe impl Sync for Page {}

impl Page {
    pub fn new() -> Page {
        // SAFETY: plain system calls on a fresh memfd.
        unsafe {
            let fd = check(libc::memfd_create(c"jhot-page".as_ptr(), libc::MFD_CLOEXEC), "memfd_create");
            check(libc::ftruncate(fd, layout::LEN as libc::off_t), "ftruncate");
            let p = libc::mmap(
                std::ptr::null_mut(),
                layout::LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            );
            assert!(p != libc::MAP_FAILED, "mmap");
            let page = Page { fd: OwnedFd::from_raw_fd(fd), base: p as *mut AtomicU32 };
            page.set(0, layout::MAGIC);
            page
        }
    }

    fn field(&self, off: usize) -> &AtomicU32 {
        assert!(off.is_multiple_of(4) && off < layout::LEN);
        // SAFETY: in range and aligned.
        unsafe { &*self.base.add(off / 4) }
    }

    fn set(&self, off: usize, v: u32) {
        self.field(off).store(v.to_le(), Ordering::SeqCst);
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    pub fn set_drain(&self, on: bool) {
        self.set(layout::DRAIN, on as u32);
    }

    pub fn bump_inject_seq(&self) {
        self.field(layout::INJECT_SEQ).fetch_add(1, Ordering::SeqCst);
    }

    pub fn set_refuse(&self, on: bool) {
        self.set(layout::REFUSE, on as u32);
    }

    /// Probe slot `i` names a connection from `src` to `dst` (IPv4 here), as jhot writes it:
    /// sequence odd while writing, then even.
    pub fn set_probe(&self, i: usize, src: SocketAddr, dst: SocketAddr) {
        let slot = layout::probe_slot(i).expect("a probe slot");
        let seq = self.field(slot + probe::SEQ).fetch_add(1, Ordering::SeqCst);
        let v4 = |a: SocketAddr| match a.ip() {
            std::net::IpAddr::V4(ip) => u32::from_ne_bytes(ip.octets()),
            std::net::IpAddr::V6(_) => panic!("IPv4 only"),
        };
        self.field(slot + probe::FAMILIES).store(0, Ordering::SeqCst);
        self.field(slot + probe::SRC).store(v4(src), Ordering::SeqCst);
        self.field(slot + probe::DST).store(v4(dst), Ordering::SeqCst);
        self.set(slot + probe::PORTS, probe::ports(src.port(), dst.port()));
        self.field(slot + probe::SEQ).store(seq + 2, Ordering::SeqCst);
    }
}

impl Drop for Page {
    fn drop(&mut self) {
        // SAFETY: our mapping.
        unsafe { libc::munmap(self.base as *mut libc::c_void, layout::LEN) };
    }
}

// ---- the control socket ------------------------------------------------------------------------

/// A message from the shim and the descriptor that came with it; its fields read as the message's.
#[derive(Debug)]
pub struct Msg {
    pub msg: jhot_shim_protocol::Msg,
    pub file: Option<OwnedFd>,
}

impl Deref for Msg {
    type Target = jhot_shim_protocol::Msg;

    fn deref(&self) -> &jhot_shim_protocol::Msg {
        &self.msg
    }
}

pub struct Ctl {
    mine: OwnedFd,
    theirs: Option<OwnedFd>,
}

impl Ctl {
    pub fn new() -> Ctl {
        let mut sv = [0; 2];
        // SAFETY: sv has room for two descriptors.
        check(
            unsafe { libc::socketpair(libc::AF_UNIX, libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC, 0, sv.as_mut_ptr()) },
            "socketpair",
        );
        // SAFETY: fresh descriptors we own.
        unsafe { Ctl { mine: OwnedFd::from_raw_fd(sv[0]), theirs: Some(OwnedFd::from_raw_fd(sv[1])) } }
    }

    /// The end the server inherits.
    pub fn child_end(&self) -> RawFd {
        self.theirs.as_ref().expect("child end already given away").as_raw_fd()
    }

    /// After the spawn: only the server holds its end, so its exit shows as end of stream.
    pub fn spawned(&mut self) {
        self.theirs = None;
    }

    /// The next message within `timeout`; None when there is none. Panics at end of stream.
    pub fn recv_within(&self, timeout: Duration) -> Option<Msg> {
        let mut pfd = libc::pollfd { fd: self.mine.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd.
        let n = check(unsafe { libc::poll(&mut pfd, 1, timeout.as_millis() as libc::c_int) }, "poll");
        if n == 0 {
            return None;
        }
        let mut data = [0u8; 64];
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr() as *mut libc::c_void, iov_len: data.len() };
        #[repr(C, align(8))]
        struct Cbuf([u8; 64]);
        let mut cbuf = Cbuf([0; 64]);
        // SAFETY: a zeroed msghdr pointing at our buffers.
        let n = unsafe {
            let mut mh: libc::msghdr = std::mem::zeroed();
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            mh.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
            mh.msg_controllen = cbuf.0.len() as _;
            let n = check(
                libc::recvmsg(self.mine.as_raw_fd(), &mut mh, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) as i32,
                "recvmsg",
            );
            let mut file = None;
            let c = libc::CMSG_FIRSTHDR(&mh);
            if !c.is_null() && (*c).cmsg_type == libc::SCM_RIGHTS {
                let fd = std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::c_int);
                file = Some(OwnedFd::from_raw_fd(fd));
            }
            (n, file)
        };
        let (n, file) = n;
        assert!(n != 0, "control socket closed: the server exited");
        let msg = jhot_shim_protocol::Msg::decode(&data[..n as usize])
            .unwrap_or_else(|e| panic!("not a message from the shim: {e}"));
        Some(Msg { msg, file })
    }

    /// The next message, which must be of `kind`.
    pub fn expect(&self, kind: Kind) -> Msg {
        let m = self.recv_within(TIMEOUT).unwrap_or_else(|| panic!("no message (waiting for {kind:?})"));
        assert_eq!(m.kind, kind, "unexpected message {m:?}");
        m
    }

    /// A message already sent, if any: for checking that something did *not* happen once the
    /// server has done what would have sent it.
    pub fn pending(&self) -> Option<Msg> {
        self.recv_within(Duration::ZERO)
    }

    pub fn send_inject(&self, conn: RawFd, doorbell_port: u16) {
        let mut data = jhot_shim_protocol::Msg { fd: conn, ..jhot_shim_protocol::Msg::inject(doorbell_port) }.encode();
        let mut iov = libc::iovec { iov_base: data.as_mut_ptr() as *mut libc::c_void, iov_len: MSG_LEN };
        #[repr(C, align(8))]
        struct Cbuf([u8; 32]);
        let mut cbuf = Cbuf([0; 32]);
        // SAFETY: a zeroed msghdr with one SCM_RIGHTS descriptor.
        unsafe {
            let mut mh: libc::msghdr = std::mem::zeroed();
            mh.msg_iov = &mut iov;
            mh.msg_iovlen = 1;
            mh.msg_control = cbuf.0.as_mut_ptr() as *mut libc::c_void;
            mh.msg_controllen = libc::CMSG_SPACE(4) as _;
            let c = libc::CMSG_FIRSTHDR(&mh);
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(4) as _;
            std::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut libc::c_int, conn);
            let n = libc::sendmsg(self.mine.as_raw_fd(), &mh, libc::MSG_NOSIGNAL);
            assert_eq!(n, MSG_LEN as isize, "send INJECT: {}", std::io::Error::last_os_error());
        }
    }
}

// ---- the server process ------------------------------------------------------------------------

pub struct Server {
    pub pid: u32,
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
    seen: Vec<String>,
    stderr: Arc<(Mutex<String>, Condvar)>,
}

pub struct Spawn<'a> {
    pub program: Vec<String>,
    /// Descriptors the server inherits at 3, 4, …, with their LISTEN_FDNAMES names.
    pub fds: Vec<(RawFd, &'a str)>,
    pub env: Vec<(&'a str, String)>,
    /// LD_PRELOAD; the shim when None.
    pub preload: Option<String>,
    /// Start through `sh -c 'LISTEN_PID=$$ exec "$@"'` (LISTEN_PID names the server).
    pub listen_pid_here: bool,
}

impl<'a> Spawn<'a> {
    pub fn new(program: &[&str]) -> Spawn<'a> {
        Spawn {
            program: program.iter().map(|s| s.to_string()).collect(),
            fds: Vec::new(),
            env: Vec::new(),
            preload: None,
            listen_pid_here: true,
        }
    }

    pub fn python() -> Spawn<'a> {
        Spawn::new(&[python(), "-B", "-u", &server_py()])
    }

    pub fn fd(mut self, fd: RawFd, name: &'a str) -> Self {
        self.fds.push((fd, name));
        self
    }

    pub fn env(mut self, k: &'a str, v: &str) -> Self {
        self.env.push((k, v.to_string()));
        self
    }

    pub fn start_with_preload(mut self, preload: &str) -> Server {
        self.preload = Some(preload.to_string());
        self.start()
    }

    pub fn start(self) -> Server {
        let mut cmd = if self.listen_pid_here {
            let mut c = Command::new("/bin/sh");
            c.arg("-c").arg("LISTEN_PID=$$ exec \"$@\"").arg("sh").args(&self.program);
            c
        } else {
            let mut c = Command::new(&self.program[0]);
            c.args(&self.program[1..]);
            c
        };
        let names: Vec<&str> = self.fds.iter().map(|(_, n)| *n).collect();
        cmd.env_remove("LISTEN_PID")
            .env("LISTEN_FDS", self.fds.len().to_string())
            .env("LISTEN_FDNAMES", names.join(":"))
            .env("LD_PRELOAD", self.preload.unwrap_or_else(|| shim_path().display().to_string()))
            .env("JHOT_SHIM_DEBUG", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let mut src = [-1 as RawFd; 8];
        assert!(self.fds.len() <= src.len());
        for (i, (fd, _)) in self.fds.iter().enumerate() {
            src[i] = *fd;
        }
        let n = self.fds.len();
        // SAFETY: only async-signal-safe calls (fcntl, dup2) on plain integers between fork and exec.
        unsafe {
            cmd.pre_exec(move || {
                // First out of the way (a source may already sit at 3, 4, …), then into place.
                let mut tmp = [-1; 8];
                for (t, s) in tmp.iter_mut().zip(src).take(n) {
                    *t = libc::fcntl(s, libc::F_DUPFD_CLOEXEC, 100);
                    if *t < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                for (target, t) in (3..).zip(tmp).take(n) {
                    // dup2 leaves FD_CLOEXEC clear on the new descriptor.
                    if libc::dup2(t, target) < 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                }
                Ok(())
            });
        }
        let mut child = cmd.spawn().expect("spawn server");
        let pid = child.id();
        let (tx, lines) = channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new((Mutex::new(String::new()), Condvar::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                let mut s = sink.0.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
                sink.1.notify_all();
            }
        });
        let stdin = child.stdin.take();
        Server { pid, child, stdin, lines, seen: Vec::new(), stderr }
    }
}

impl Server {
    /// The next stdout line starting with `prefix` (earlier lines are kept for the failure log).
    pub fn line(&mut self, prefix: &str) -> String {
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(l) => {
                    self.seen.push(l.clone());
                    if l.starts_with(prefix) {
                        return l;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no line starting with {prefix:?} within {TIMEOUT:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("server exited before printing {prefix:?}"),
            }
        }
    }

    /// Sends a command line on the server's stdin.
    pub fn cmd(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin");
        writeln!(stdin, "{line}").expect("write command");
        stdin.flush().unwrap();
    }

    pub fn stderr(&self) -> String {
        self.stderr.0.lock().unwrap().clone()
    }

    /// Waits until the server's stderr (the shim's debug lines) contains `needle`.
    pub fn stderr_has(&self, needle: &str) {
        let (text, more) = &*self.stderr;
        let deadline = Instant::now() + TIMEOUT;
        let mut s = text.lock().unwrap();
        while !s.contains(needle) {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(!left.is_zero(), "stderr never showed {needle:?}:\n{s}");
            s = more.wait_timeout(s, left).unwrap().0;
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // SHIM_TEST_LOG=1 shows every server's output, not only a failing test's.
        if std::thread::panicking() || std::env::var_os("SHIM_TEST_LOG").is_some() {
            while let Ok(l) = self.lines.try_recv() {
                self.seen.push(l);
            }
            eprintln!("--- server {} stdout:\n{}", self.pid, self.seen.join("\n"));
            eprintln!("--- server {} stderr:\n{}", self.pid, self.stderr());
        }
    }
}

// ---- sockets -------------------------------------------------------------------------------------

pub fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

pub fn connect(port: u16) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s
}

/// A TCP socket bound to a fresh loopback port, not connected yet: jhot's doorbell and probe
/// connections come from a port announced before the connect.
pub struct Bound {
    pub fd: OwnedFd,
    pub port: u16,
}

pub fn bound_socket() -> Bound {
    bound_socket_at([127, 0, 0, 1], 0)
}

/// A TCP socket bound to `ip`:`port` (0: a fresh port), not connected yet: what another local user
/// can do with jhot's port on another loopback address.
pub fn bound_socket_at(ip: [u8; 4], port: u16) -> Bound {
    // SAFETY: plain socket calls on a fresh descriptor.
    unsafe {
        let fd = check(libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0), "socket");
        let fd = OwnedFd::from_raw_fd(fd);
        let mut a: libc::sockaddr_in = std::mem::zeroed();
        a.sin_family = libc::AF_INET as libc::sa_family_t;
        a.sin_port = port.to_be();
        a.sin_addr.s_addr = u32::from_ne_bytes(ip);
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        check(libc::bind(fd.as_raw_fd(), &a as *const _ as *const libc::sockaddr, len), "bind");
        let mut len2 = len;
        check(libc::getsockname(fd.as_raw_fd(), &mut a as *mut _ as *mut libc::sockaddr, &mut len2), "getsockname");
        Bound { port: u16::from_be(a.sin_port), fd }
    }
}

impl Bound {
    pub fn connect(self, port: u16) -> TcpStream {
        // SAFETY: connect on our socket.
        unsafe {
            let mut a: libc::sockaddr_in = std::mem::zeroed();
            a.sin_family = libc::AF_INET as libc::sa_family_t;
            a.sin_port = port.to_be();
            a.sin_addr.s_addr = u32::from_ne_bytes([127, 0, 0, 1]);
            let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
            check(libc::connect(self.fd.as_raw_fd(), &a as *const _ as *const libc::sockaddr, len), "connect");
        }
        let s = TcpStream::from(self.fd);
        s.set_read_timeout(Some(TIMEOUT)).unwrap();
        s
    }
}

/// Waits (bounded) for a connection on a listener the test holds a copy of.
pub fn accept_within(fd: RawFd) -> (TcpStream, SocketAddr) {
    let mut pfd = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one pollfd.
    let n = unsafe { libc::poll(&mut pfd, 1, TIMEOUT.as_millis() as libc::c_int) };
    assert_eq!(n, 1, "no connection to accept within {TIMEOUT:?}");
    // SAFETY: fd is a listening socket owned elsewhere; borrow it for one accept.
    let l = std::mem::ManuallyDrop::new(unsafe { TcpListener::from_raw_fd(fd) });
    let (s, a) = l.accept().expect("accept");
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s.set_nonblocking(false).unwrap();
    (s, a)
}

pub fn nonblocking(fd: RawFd) -> bool {
    // SAFETY: F_GETFL on a valid descriptor.
    let fl = check(unsafe { libc::fcntl(fd, libc::F_GETFL) }, "F_GETFL");
    fl & libc::O_NONBLOCK != 0
}

pub fn set_nonblocking(fd: RawFd, on: bool) {
    // SAFETY: F_GETFL/F_SETFL on a valid descriptor.
    unsafe {
        let fl = check(libc::fcntl(fd, libc::F_GETFL), "F_GETFL");
        let fl = if on { fl | libc::O_NONBLOCK } else { fl & !libc::O_NONBLOCK };
        check(libc::fcntl(fd, libc::F_SETFL, fl), "F_SETFL");
    }
}

pub fn inode(fd: RawFd) -> u64 {
    // SAFETY: fstat into a zeroed struct.
    unsafe {
        let mut st: libc::stat = std::mem::zeroed();
        check(libc::fstat(fd, &mut st), "fstat");
        st.st_ino
    }
}

/// The socket inode process `pid` holds as descriptor `fd`.
pub fn inode_in(pid: u32, fd: i32) -> u64 {
    let link = std::fs::read_link(format!("/proc/{pid}/fd/{fd}")).expect("readlink /proc/pid/fd");
    let s = link.to_string_lossy();
    s.strip_prefix("socket:[")
        .and_then(|s| s.strip_suffix(']'))
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("/proc/{pid}/fd/{fd} is {s}, not a socket"))
}

pub fn local_port(fd: RawFd) -> u16 {
    // SAFETY: getsockname into a zeroed sockaddr_storage.
    unsafe {
        let mut a: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        check(libc::getsockname(fd, &mut a as *mut _ as *mut libc::sockaddr, &mut len), "getsockname");
        match a.ss_family as i32 {
            libc::AF_INET => u16::from_be((*(&a as *const _ as *const libc::sockaddr_in)).sin_port),
            _ => u16::from_be((*(&a as *const _ as *const libc::sockaddr_in6)).sin6_port),
        }
    }
}

// ---- HTTP/1.1 ------------------------------------------------------------------------------------

pub fn request(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: test\r\n\r\n")
}

/// Reads one response (Content-Length framed) and returns its body.
pub fn read_response(s: &mut TcpStream) -> String {
    let head = read_head(s);
    let text = String::from_utf8_lossy(&head.0).to_string();
    assert!(text.starts_with("HTTP/1.1 200"), "response: {text}");
    let len: usize = text
        .lines()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
        .expect("content-length");
    let mut body = head.1;
    while body.len() < len {
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).expect("read body");
        assert!(n > 0, "connection closed in the body");
        body.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(body).unwrap()
}

/// Reads up to the end of a header block: (head, bytes already read past it).
pub fn read_head(s: &mut TcpStream) -> (Vec<u8>, Vec<u8>) {
    let mut data = Vec::new();
    loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let rest = data.split_off(i + 4);
            return (data, rest);
        }
        let mut buf = [0u8; 4096];
        let n = s.read(&mut buf).expect("read head");
        assert!(n > 0, "connection closed before the end of the head ({} bytes)", data.len());
        data.extend_from_slice(&buf[..n]);
    }
}

pub fn get(s: &mut TcpStream, path: &str) -> String {
    s.write_all(request(path).as_bytes()).unwrap();
    read_response(s)
}

/// The peer has closed: the next read returns end of stream.
pub fn assert_eof(s: &mut TcpStream) {
    let mut buf = [0u8; 64];
    match s.read(&mut buf) {
        Ok(0) => {}
        Ok(n) => panic!("expected end of stream, got {:?}", String::from_utf8_lossy(&buf[..n])),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("expected end of stream: {e}"),
    }
}

pub fn respond(s: &mut TcpStream, body: &str) {
    write!(s, "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len()).unwrap();
}
