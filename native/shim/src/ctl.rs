//! The control socket `jhot-ctl`: 24-byte messages over a connected SOCK_SEQPACKET socket, with at
//! most one descriptor attached (SCM_RIGHTS). See docs/shim-protocol.md.

use core::ffi::{c_int, c_void};
use core::mem::size_of;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering::*};

use crate::log::debug;
use crate::sys;

pub use jhot_shim_protocol::{FLAG_PENDING, Kind, MSG_LEN as LEN, Msg};

static FD: AtomicI32 = AtomicI32::new(-1);
static ALIVE: AtomicBool = AtomicBool::new(false);

/// A message from this process's shim: `pid` is the process the shim is active in.
pub fn msg(kind: Kind, fd: i32, index: i32, port: u32) -> Msg {
    Msg { kind, flags: 0, fd, index, port, pid: crate::owner_pid() as u32 }
}

/// Space for a few descriptors: jhot attaches one, more are closed.
const MAX_FDS: usize = 4;

#[repr(C, align(8))]
struct Cmsg([u8; 64]);

/// Takes `fd` as the control socket if it is a SOCK_SEQPACKET socket.
pub fn init(fd: c_int) -> bool {
    if sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TYPE) != Some(libc::SOCK_SEQPACKET) {
        return false;
    }
    // A jhot that stops reading must not hang the server's threads for good: a send that cannot
    // complete within a second fails, and the shim carries on as if jhot were gone.
    let tv = libc::timeval { tv_sec: 1, tv_usec: 0 };
    sys::setsockopt_bytes(
        fd,
        libc::SOL_SOCKET,
        libc::SO_SNDTIMEO,
        &tv as *const libc::timeval as *const c_void,
        size_of::<libc::timeval>(),
    );
    FD.store(fd, Relaxed);
    ALIVE.store(true, Release);
    crate::fdtab::set(fd, crate::fdtab::CTL, 0);
    true
}

pub fn alive() -> bool {
    ALIVE.load(Acquire)
}

pub fn fd() -> c_int {
    FD.load(Relaxed)
}

/// The application closed or replaced the descriptor: it is no longer the control socket.
pub fn forget(fd: c_int) {
    if FD.compare_exchange(fd, -1, AcqRel, Relaxed).is_ok() {
        ALIVE.store(false, Release);
        debug!("control socket fd {fd} closed by the application: jhot no longer reachable");
    }
}

fn gone(err: c_int) {
    if ALIVE.swap(false, AcqRel) {
        debug!("control socket: jhot has gone away (errno {err}); carrying on without it");
    }
}

/// Sends `msg`, with `attach` (or nothing when -1). errno is preserved. False when it did not go
/// out: callers that hand a connection over must then keep it.
pub fn send(msg: &Msg, attach: c_int) -> bool {
    if !alive() {
        return false;
    }
    let saved = sys::errno();
    let ok = send_inner(msg, attach);
    sys::set_errno(saved);
    ok
}

fn send_inner(msg: &Msg, attach: c_int) -> bool {
    let ctl = fd();
    let mut data = msg.encode();
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr() as *mut c_void, iov_len: LEN };
    let mut cbuf = Cmsg([0; 64]);
    // SAFETY: zeroed msghdr is valid; every pointer set below points to a live local.
    let mut mh: libc::msghdr = unsafe { core::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    if attach >= 0 {
        // SAFETY: CMSG_* on a buffer large enough for one descriptor.
        unsafe {
            let space = libc::CMSG_SPACE(size_of::<c_int>() as u32) as usize;
            mh.msg_control = cbuf.0.as_mut_ptr() as *mut c_void;
            mh.msg_controllen = space as _;
            let c = libc::CMSG_FIRSTHDR(&mh);
            if c.is_null() {
                return false;
            }
            (*c).cmsg_level = libc::SOL_SOCKET;
            (*c).cmsg_type = libc::SCM_RIGHTS;
            (*c).cmsg_len = libc::CMSG_LEN(size_of::<c_int>() as u32) as _;
            core::ptr::write_unaligned(libc::CMSG_DATA(c) as *mut c_int, attach);
        }
    }
    loop {
        match sys::sendmsg(ctl, &mh, libc::MSG_NOSIGNAL) {
            Ok(n) if n as usize == LEN => return true,
            Ok(_) => return false,
            Err(libc::EINTR) => continue,
            Err(e @ (libc::EAGAIN | libc::ENOBUFS | libc::ENOMEM)) => {
                debug!("control socket: send of kind {} failed (errno {e})", msg.kind.code());
                return false;
            }
            Err(e) => {
                gone(e);
                return false;
            }
        }
    }
}

// ---- INJECT: connections jhot announces for a doorbell port ---------------------------------

const SLOTS: usize = 128;
/// Slot states in PORTS: 0 free, BUSY while one thread fills or empties it, else a doorbell port.
const BUSY: u32 = u32::MAX;

static PORTS: [AtomicU32; SLOTS] = [const { AtomicU32::new(0) }; SLOTS];
static FDS: [AtomicI32; SLOTS] = [const { AtomicI32::new(-1) }; SLOTS];
/// INJECT messages read so far; compared with the page's inject_seq.
static INJECTS_READ: AtomicU32 = AtomicU32::new(0);
/// Held while one thread reads the control socket, so that a thread that accepted a doorbell
/// can wait for an INJECT another thread has received but not stored yet.
static READING: AtomicBool = AtomicBool::new(false);

fn store_inject(port: u32, fd: c_int) -> bool {
    for (p, f) in PORTS.iter().zip(FDS.iter()) {
        if p.compare_exchange(0, BUSY, Acquire, Relaxed).is_ok() {
            f.store(fd, Relaxed);
            p.store(port, Release);
            return true;
        }
    }
    false
}

fn take_inject(port: u16) -> Option<c_int> {
    let want = port as u32;
    for (p, f) in PORTS.iter().zip(FDS.iter()) {
        if p.load(Relaxed) == want && p.compare_exchange(want, BUSY, Acquire, Relaxed).is_ok() {
            let fd = f.swap(-1, Relaxed);
            p.store(0, Release);
            return Some(fd);
        }
    }
    None
}

/// Could an INJECT be waiting on the control socket? With the page: its counter differs from
/// ours. Without a page there is no counter, so every loopback accept looks.
fn maybe_pending() -> bool {
    match crate::page::inject_seq() {
        Some(seq) => seq != INJECTS_READ.load(Acquire),
        None => alive(),
    }
}

/// The connection jhot announced for doorbell `port`, if any: reads pending INJECTs first.
pub fn inject_for(port: u16) -> Option<c_int> {
    if let Some(fd) = take_inject(port) {
        return Some(fd);
    }
    if !maybe_pending() && !READING.load(Acquire) {
        return None;
    }
    read_pending();
    take_inject(port)
}

fn read_pending() {
    if READING.compare_exchange(false, true, Acquire, Relaxed).is_err() {
        // Another thread is reading: wait (bounded) until what it read is in the table. Its
        // reads never block, so this is short.
        for _ in 0..10_000 {
            if !READING.load(Acquire) {
                break;
            }
            // SAFETY: no arguments.
            unsafe { libc::sched_yield() };
        }
        return;
    }
    let saved = sys::errno();
    for _ in 0..256 {
        if !read_one() {
            break;
        }
    }
    READING.store(false, Release);
    sys::set_errno(saved);
}

/// Reads one message without blocking; false when there is none (or jhot is gone).
fn read_one() -> bool {
    let ctl = fd();
    if ctl < 0 || !alive() {
        return false;
    }
    let mut data = [0u8; LEN];
    let mut iov = libc::iovec { iov_base: data.as_mut_ptr() as *mut c_void, iov_len: LEN };
    let mut cbuf = Cmsg([0; 64]);
    // SAFETY: zeroed msghdr is valid; pointers below point to live locals.
    let mut mh: libc::msghdr = unsafe { core::mem::zeroed() };
    mh.msg_iov = &mut iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cbuf.0.as_mut_ptr() as *mut c_void;
    // SAFETY: const computation.
    mh.msg_controllen = unsafe { libc::CMSG_SPACE((MAX_FDS * size_of::<c_int>()) as u32) } as _;
    let n = loop {
        match sys::recvmsg(ctl, &mut mh, libc::MSG_DONTWAIT | libc::MSG_CMSG_CLOEXEC) {
            Err(libc::EINTR) => continue,
            Err(libc::EAGAIN) => return false,
            Err(e) => {
                gone(e);
                return false;
            }
            Ok(0) => {
                gone(0);
                return false;
            }
            Ok(n) => break n as usize,
        }
    };
    let mut fds = [-1 as c_int; MAX_FDS];
    let mut nfds = 0;
    // SAFETY: walking the control messages the kernel just wrote into cbuf.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&mh);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_RIGHTS {
                let header = libc::CMSG_LEN(0) as usize;
                let count = ((*c).cmsg_len as usize).saturating_sub(header) / size_of::<c_int>();
                let data = libc::CMSG_DATA(c) as *const c_int;
                for i in 0..count {
                    let fd = core::ptr::read_unaligned(data.add(i));
                    match fds.get_mut(nfds) {
                        Some(slot) => {
                            *slot = fd;
                            nfds += 1;
                        }
                        None => sys::close(fd),
                    }
                }
            }
            c = libc::CMSG_NXTHDR(&mh, c);
        }
    }
    let msg = Msg::decode(data.get(..n).unwrap_or(&[])).ok();
    let mut kept = -1;
    if let Some(m) = msg.as_ref().filter(|m| m.kind == Kind::Inject) {
        let port = m.port;
        if (1..=65535).contains(&port) && nfds >= 1 {
            if store_inject(port, fds[0]) {
                kept = fds[0];
                debug!("INJECT: connection fd {} queued for doorbell port {port}", fds[0]);
            } else {
                debug!("INJECT: table full, dropping connection for doorbell port {port}");
            }
        } else {
            debug!("INJECT without a descriptor or with port {port}: ignored");
        }
        // Counted once stored, so that equal counters mean "everything announced is in the table".
        INJECTS_READ.fetch_add(1, Release);
    }
    for &fd in fds.iter().take(nfds) {
        if fd != kept {
            sys::close(fd);
        }
    }
    true
}
