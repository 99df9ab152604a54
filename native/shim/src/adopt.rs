//! Listeners: adopting inherited ones in `bind`, reporting the server's own, and the guards that
//! keep a shared listener working for every process that holds it.

use core::cell::UnsafeCell;
use core::ffi::{c_int, c_long};
use core::sync::atomic::{AtomicI32, AtomicU8, AtomicUsize, Ordering::*};

use crate::addr::NormAddr;
use crate::ctl;
use crate::fdtab::{self, BOUND, L_ADOPTED, L_OWN};
use crate::log::debug;
use crate::sys;

pub const MAX_INHERITED: usize = 32;

#[derive(Clone, Copy)]
struct Inherited {
    fd: c_int,
    /// Position among the listener names.
    index: i32,
    addr: NormAddr,
}

/// Written only by the constructor, before the shim is published as active (a Release store
/// that every reader's Acquire fence pairs with); read-only afterwards.
struct Frozen(UnsafeCell<[Inherited; MAX_INHERITED]>);
// SAFETY: see above: no write after publication.
unsafe impl Sync for Frozen {}

static INHERITED: Frozen =
    Frozen(UnsafeCell::new([Inherited { fd: -1, index: -1, addr: NormAddr::UNSET }; MAX_INHERITED]));
static COUNT: AtomicUsize = AtomicUsize::new(0);

const AVAILABLE: u8 = 0;
const TAKEN: u8 = 1;
static SLOT_STATE: [AtomicU8; MAX_INHERITED] = [const { AtomicU8::new(AVAILABLE) }; MAX_INHERITED];
/// The application's descriptor that adopted each slot, or -1.
static ADOPTED_FD: [AtomicI32; MAX_INHERITED] = [const { AtomicI32::new(-1) }; MAX_INHERITED];
/// Whether the accept hook blocks for the application on an adopted listener: its socket was
/// blocking when it bound it, and it has not looked at or set the flags since (the shared
/// description is kept non-blocking, see `adopt`). An application that manages the flags (every
/// JDK channel does, and handles EAGAIN in blocking mode itself) is left alone; a native acceptor
/// that never does (the JDWP agent) would take EAGAIN as fatal.
static APP_BLOCKING: [AtomicU8; MAX_INHERITED] = [const { AtomicU8::new(0) }; MAX_INHERITED];

fn adopted_slot(fd: c_int) -> Option<usize> {
    ADOPTED_FD.iter().position(|a| a.load(Relaxed) == fd)
}

/// The application expects accept on adopted listener `fd` to block.
pub fn app_blocking(fd: c_int) -> bool {
    adopted_slot(fd).and_then(|i| APP_BLOCKING.get(i)).is_some_and(|b| b.load(Relaxed) == 1)
}

/// The application read or set the flags of adopted listener `fd`: it manages blocking itself.
pub fn app_manages_flags(fd: c_int) {
    if let Some(b) = adopted_slot(fd).and_then(|i| APP_BLOCKING.get(i)) {
        b.store(0, Relaxed);
    }
}

fn inherited() -> &'static [Inherited] {
    // SAFETY: see Frozen.
    let all = unsafe { &*INHERITED.0.get() };
    all.get(..COUNT.load(Acquire)).unwrap_or(&[])
}

/// Constructor only: records inherited listener `index` at `fd`.
pub fn add_inherited(fd: c_int, index: i32) {
    let n = COUNT.load(Relaxed);
    let listening = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_ACCEPTCONN) == Some(1);
    let addr = sys::getsockname(fd).and_then(|a| NormAddr::from_sock(&a));
    let (Some(addr), true) = (addr, listening) else {
        debug!("inherited fd {fd} (listener {index}) is not a listening TCP socket: ignored");
        return;
    };
    // SAFETY: constructor, single-threaded, before publication.
    let all = unsafe { &mut *INHERITED.0.get() };
    let Some(slot) = all.get_mut(n) else {
        debug!("more than {MAX_INHERITED} inherited listeners: fd {fd} ignored");
        return;
    };
    *slot = Inherited { fd, index, addr };
    fdtab::set(fd, fdtab::INHERITED, addr.port);
    COUNT.store(n + 1, Release);
    debug!("inherited listener {index}: fd {fd} {addr}");
}

pub fn inherited_count() -> usize {
    inherited().len()
}

/// The application closed or replaced an inherited descriptor it did not know about: that slot
/// cannot be adopted any more.
pub fn forget_inherited(fd: c_int) {
    for (i, l) in inherited().iter().enumerate() {
        if l.fd == fd
            && let Some(s) = SLOT_STATE.get(i)
            && s.compare_exchange(AVAILABLE, TAKEN, AcqRel, Relaxed).is_ok()
        {
            debug!("inherited listener {} (fd {fd}) closed by the application", l.index);
        }
    }
}

/// The inherited listener index adopted as `fd`, or -1 (the server's own listener).
pub fn index_of_listener(fd: c_int) -> i32 {
    for (i, l) in inherited().iter().enumerate() {
        if ADOPTED_FD.get(i).map(|a| a.load(Relaxed)) == Some(fd) {
            return l.index;
        }
    }
    -1
}

/// The inherited listener a connection with local address `local` belongs to, or -1.
pub fn index_of_local(local: &NormAddr) -> i32 {
    inherited()
        .iter()
        .find(|l| l.addr == *local || (l.addr.is_wildcard() && l.addr.port == local.port))
        .map_or(-1, |l| l.index)
}

/// A TCP socket (not SCTP, not UNIX): only those are adopted, reported or given SO_REUSEPORT.
fn is_tcp(fd: c_int) -> bool {
    let domain = sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_DOMAIN);
    matches!(domain, Some(libc::AF_INET | libc::AF_INET6))
        && sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_TYPE) == Some(libc::SOCK_STREAM)
        && sys::getsockopt_int(fd, libc::SOL_SOCKET, libc::SO_PROTOCOL) == Some(libc::IPPROTO_TCP)
}

/// The `bind` hook for a process where the shim is active or JHOT_SHIM_REUSEPORT is set.
///
/// # Safety
/// The C contract of bind(2).
pub unsafe fn bind(fd: c_int, addr: *const libc::sockaddr, len: libc::socklen_t, mode: u8) -> c_int {
    core::sync::atomic::fence(Acquire);
    let saved = sys::errno();
    // SAFETY: the caller's contract.
    let want = unsafe { NormAddr::from_raw(addr, len) };
    let active = mode & crate::ACTIVE != 0;
    // Only a bind that could be adopted, reported or given SO_REUSEPORT needs the socket type.
    let relevant = matches!(want, Some(w) if mode & crate::REUSEPORT != 0 || (active && w.port != 0));
    let tcp = relevant && is_tcp(fd);
    if tcp && mode & crate::REUSEPORT != 0 {
        let ok = sys::setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_REUSEPORT, 1);
        debug!("bind(fd {fd}): SO_REUSEPORT set: {ok}");
    }
    if let (Some(w), true, true) = (want, tcp, active)
        && w.port != 0
        && adopt(fd, &w)
    {
        sys::set_errno(saved);
        return 0;
    }
    sys::set_errno(saved);
    // SAFETY: the caller's contract.
    let r = unsafe { crate::real::bind(fd, addr, len) };
    if let (0, Some(w), true, true) = (r, want, tcp, active)
        && w.port != 0
    {
        fdtab::set(fd, BOUND, w.port);
    }
    r
}

/// Puts the inherited listener for `want` in place of the application's socket `fd`.
fn adopt(fd: c_int, want: &NormAddr) -> bool {
    let mut matching = inherited().iter().enumerate().filter(|(_, l)| l.addr == *want).peekable();
    if matching.peek().is_none() {
        return false;
    }
    if !fdtab::trackable(fd) {
        // Without a table entry the listen, fcntl and shutdown guards could not protect it.
        debug!("bind(fd {fd}, {want}): descriptor too large to track, not adopted");
        return false;
    }
    // Two concurrent binds of the same address must not both take one slot.
    let claimed = matching.find_map(|(i, l)| {
        let state = SLOT_STATE.get(i)?;
        state.compare_exchange(AVAILABLE, TAKEN, AcqRel, Relaxed).ok()?;
        Some((i, l, state))
    });
    let Some((i, l, state)) = claimed else {
        debug!("bind(fd {fd}, {want}): inherited listener already adopted; real bind");
        return false;
    };
    let cloexec = matches!(sys::fcntl(fd, libc::F_GETFD, 0), Ok(f) if f & libc::FD_CLOEXEC != 0);
    // What the application's own socket was: a native acceptor (the JDWP agent) blocks on it.
    let blocking = !sys::is_nonblocking(fd);
    if let Err(e) = sys::dup3(l.fd, fd, if cloexec { libc::O_CLOEXEC } else { 0 }) {
        state.store(AVAILABLE, Release);
        debug!("bind(fd {fd}, {want}): dup3 of inherited fd {} failed (errno {e}); real bind", l.fd);
        return false;
    }
    // The description is shared with jhot and the old process: one blocking acceptor among them
    // stalls a selector-driven server (research §3.3). JDKs retry an accept that says EAGAIN.
    let nonblock = sys::set_nonblocking(fd, true);
    fdtab::clear(l.fd);
    sys::close(l.fd);
    fdtab::set(fd, L_ADOPTED, want.port);
    if let Some(b) = APP_BLOCKING.get(i) {
        b.store(u8::from(blocking), Relaxed);
    }
    if let Some(a) = ADOPTED_FD.get(i) {
        a.store(fd, Release);
    }
    ctl::send(&ctl::msg(ctl::Kind::Adopted, fd, l.index, want.port as u32), -1);
    debug!("bind(fd {fd}, {want}): adopted inherited listener {} (fd {}), O_NONBLOCK set: {nonblock}", l.index, l.fd);
    true
}

/// After a successful real `listen`: a socket bound to an explicit port is reported, with the
/// socket attached, and becomes a service listener.
pub fn listened(fd: c_int) {
    core::sync::atomic::fence(Acquire);
    let port = fdtab::port(fd);
    if !ctl::alive() {
        debug!("listen(fd {fd}, port {port}): no control socket, not reported");
        return;
    }
    if ctl::send(&ctl::msg(ctl::Kind::Listening, fd, -1, port as u32), fd) {
        fdtab::set(fd, L_OWN, port);
        debug!("listen(fd {fd}, port {port}): reported LISTENING to jhot");
    } else {
        debug!("listen(fd {fd}, port {port}): LISTENING could not be sent");
    }
}

/// Should clearing O_NONBLOCK on listener `fd` (state `st`) be refused?
fn keep_nonblocking(fd: c_int, st: u8) -> bool {
    match fdtab::listener_kind(st) {
        L_ADOPTED => true,
        // The server's own listener is shared once reported; keep the flag if it is set, but do
        // not impose it on a server that never asked for it.
        L_OWN => sys::is_nonblocking(fd),
        _ => false,
    }
}

/// fcntl(F_SETFL) on a listener: the argument with O_NONBLOCK kept where it must stay.
pub fn guard_setfl(fd: c_int, st: u8, arg: usize) -> usize {
    if fdtab::listener_kind(st) == L_ADOPTED {
        app_manages_flags(fd);
    }
    if arg as c_long as c_int & libc::O_NONBLOCK != 0 || !keep_nonblocking(fd, st) {
        return arg;
    }
    debug!("fcntl(fd {fd}, F_SETFL): O_NONBLOCK kept on shared listener");
    arg | libc::O_NONBLOCK as usize
}

/// ioctl(FIONBIO, 0) on a listener: true when the call must be skipped (reported as done).
///
/// # Safety
/// `arg` is the application's ioctl argument: a pointer to int for FIONBIO.
pub unsafe fn skip_fionbio(fd: c_int, st: u8, arg: usize) -> bool {
    if arg == 0 {
        return false;
    }
    // SAFETY: FIONBIO takes a pointer to int; the caller passed it.
    let clear = unsafe { core::ptr::read_unaligned(arg as *const c_int) } == 0;
    if fdtab::listener_kind(st) == L_ADOPTED {
        app_manages_flags(fd);
    }
    if clear && keep_nonblocking(fd, st) {
        debug!("ioctl(fd {fd}, FIONBIO, 0): O_NONBLOCK kept on shared listener");
        return true;
    }
    false
}
