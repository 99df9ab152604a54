//! The exported functions that interpose on libc.
//!
//! Every hook starts the same way: one relaxed load of the mode, one table lookup, and a call of
//! the real function when the descriptor is none of the shim's business. Only the rare calls that
//! concern a tracked descriptor go further. fcntl, fcntl64 and ioctl are variadic in C; on the
//! x86-64 and aarch64 Linux ABIs a third integer-sized argument is passed exactly like a fixed
//! one, so it is taken as `usize` and handed on untouched.

use core::ffi::{c_int, c_ulong, c_void};
use core::sync::atomic::{Ordering::Acquire, fence};

use libc::{epoll_event, iovec, msghdr, off_t, off64_t, size_t, sockaddr, socklen_t, ssize_t};

use crate::fdtab::{self, C_GONE, CTL, INHERITED, NONE, is_conn, is_listener};
use crate::handover::Seen;
use crate::log::debug;
use crate::{accept, adopt, ctl, handover, real, sys};

/// The descriptor's state, or NONE when the shim is inactive.
#[inline(always)]
fn state(fd: c_int) -> u8 {
    if crate::mode() & crate::ACTIVE == 0 {
        return NONE;
    }
    fdtab::get(fd)
}

// ---- listeners --------------------------------------------------------------------------------

#[unsafe(no_mangle)]
pub unsafe extern "C" fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int {
    let mode = crate::mode();
    // SAFETY: the caller's contract, passed on.
    unsafe {
        if mode == 0 {
            return real::bind(fd, addr, len);
        }
        adopt::bind(fd, addr, len, mode)
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn listen(fd: c_int, backlog: c_int) -> c_int {
    let st = state(fd);
    if fdtab::listener_kind(st) == fdtab::L_ADOPTED {
        // Already listening, with the old process's backlog; nothing to do.
        debug!("listen(fd {fd}): adopted listener, no-op");
        return 0;
    }
    // SAFETY: the caller's contract.
    let r = unsafe { real::listen(fd, backlog) };
    if r == 0 && st == fdtab::BOUND {
        let e = sys::errno();
        adopt::listened(fd);
        sys::set_errno(e);
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int {
    let st = state(fd);
    // SAFETY: the caller's contract.
    unsafe {
        if !is_listener(st) {
            return real::accept(fd, addr, len);
        }
        accept::accept(fd, st, addr, len, None)
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int {
    let st = state(fd);
    // SAFETY: the caller's contract.
    unsafe {
        if !is_listener(st) {
            return real::accept4(fd, addr, len, flags);
        }
        accept::accept(fd, st, addr, len, Some(flags))
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, ev: *mut epoll_event) -> c_int {
    let st = state(fd);
    // SAFETY: the caller's contract.
    let r = unsafe { real::epoll_ctl(epfd, op, fd, ev) };
    if is_listener(st)
        && st & fdtab::L_ACCEPTING == 0
        && r == 0
        && (op == libc::EPOLL_CTL_ADD || op == libc::EPOLL_CTL_MOD)
        && !ev.is_null()
    {
        // SAFETY: ev is the caller's valid event (epoll_event is packed on x86-64).
        let events = unsafe { core::ptr::read_unaligned(core::ptr::addr_of!((*ev).events)) };
        if events & libc::EPOLLIN as u32 != 0 {
            let e = sys::errno();
            fence(Acquire);
            accept::report_accepting(fd, "epoll_ctl");
            sys::set_errno(e);
        }
    }
    r
}

#[inline(always)]
fn setfl_arg(fd: c_int, cmd: c_int, arg: usize) -> usize {
    if cmd == libc::F_GETFL {
        let st = state(fd);
        if fdtab::listener_kind(st) == fdtab::L_ADOPTED {
            adopt::app_manages_flags(fd);
        }
        return arg;
    }
    if cmd != libc::F_SETFL {
        return arg;
    }
    let st = state(fd);
    if !is_listener(st) {
        return arg;
    }
    let e = sys::errno();
    let arg = adopt::guard_setfl(fd, st, arg);
    sys::set_errno(e);
    arg
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    let arg = setfl_arg(fd, cmd, arg);
    // SAFETY: the caller's contract.
    unsafe { real::fcntl(fd, cmd, arg) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int {
    let arg = setfl_arg(fd, cmd, arg);
    // SAFETY: the caller's contract.
    unsafe { real::fcntl64(fd, cmd, arg) }
}

/// FIONBIO is the other way to clear O_NONBLOCK (CPython's setblocking uses it).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ioctl(fd: c_int, req: c_ulong, arg: usize) -> c_int {
    if req == libc::FIONBIO as c_ulong {
        let st = state(fd);
        // SAFETY: FIONBIO's argument is the caller's int pointer.
        if is_listener(st) && unsafe { adopt::skip_fionbio(fd, st, arg) } {
            return 0;
        }
    }
    // SAFETY: the caller's contract.
    unsafe { real::ioctl(fd, req as usize, arg) }
}

// ---- descriptors going away -------------------------------------------------------------------

#[unsafe(no_mangle)]
pub unsafe extern "C" fn shutdown(fd: c_int, how: c_int) -> c_int {
    let st = state(fd);
    if is_listener(st) {
        // On Linux this would stop the socket listening for every process that shares it.
        debug!("shutdown(fd {fd}, {how}): shared listener, ignored");
        return 0;
    }
    if is_conn(st) {
        fence(Acquire);
        if let Some(r) = handover::on_shutdown(fd, st) {
            return r;
        }
    }
    // SAFETY: the caller's contract.
    unsafe { real::shutdown(fd, how) }
}

/// `fd` is about to be closed or replaced by the application: hand a connection over if it may
/// leave, forget whatever the shim knew about the number.
fn release(fd: c_int) {
    let st = state(fd);
    if st == NONE {
        return;
    }
    fence(Acquire);
    if !crate::is_owner() {
        // A vfork child closing descriptors before exec shares our memory: the parent's state
        // must survive it.
        return;
    }
    let e = sys::errno();
    match st {
        CTL => ctl::forget(fd),
        INHERITED => adopt::forget_inherited(fd),
        s if is_conn(s) => handover::on_release(fd, s),
        _ => {}
    }
    fdtab::clear(fd);
    sys::set_errno(e);
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn close(fd: c_int) -> c_int {
    release(fd);
    // SAFETY: the caller's contract.
    unsafe { real::close(fd) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup2(old: c_int, new: c_int) -> c_int {
    if old != new {
        release(new);
    }
    // SAFETY: the caller's contract.
    unsafe { real::dup2(old, new) }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int {
    if old != new {
        release(new);
    }
    // SAFETY: the caller's contract.
    unsafe { real::dup3(old, new, flags) }
}

// ---- reads ------------------------------------------------------------------------------------

/// A read of connection data. `seen` is where the data lands (only looked at when the state
/// changes, and only within what the call returned).
#[inline(always)]
fn read_like(fd: c_int, peek: bool, seen: impl FnOnce() -> Seen, call: impl FnOnce() -> ssize_t) -> ssize_t {
    let st = state(fd);
    if !is_conn(st) {
        return call();
    }
    fence(Acquire);
    if let Some(r) = handover::before_read(fd, st) {
        return r;
    }
    let r = call();
    if r > 0 {
        let e = sys::errno();
        handover::after_read(fd, r, peek, seen());
        sys::set_errno(e);
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn read(fd: c_int, buf: *mut c_void, n: size_t) -> ssize_t {
    // SAFETY: the caller's contract: buf is valid for n bytes.
    read_like(fd, false, || unsafe { Seen::new(buf as *const u8, n) }, || unsafe { real::read(fd, buf, n) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    // SAFETY: the caller's contract: cnt valid iovecs.
    read_like(fd, false, || unsafe { Seen::iov(iov, cnt.max(0) as usize) }, || unsafe { real::readv(fd, iov, cnt) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn recv(fd: c_int, buf: *mut c_void, n: size_t, flags: c_int) -> ssize_t {
    let peek = flags & libc::MSG_PEEK != 0;
    // SAFETY: the caller's contract.
    read_like(fd, peek, || unsafe { Seen::new(buf as *const u8, n) }, || unsafe { real::recv(fd, buf, n, flags) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvfrom(
    fd: c_int,
    buf: *mut c_void,
    n: size_t,
    flags: c_int,
    addr: *mut sockaddr,
    len: *mut socklen_t,
) -> ssize_t {
    let peek = flags & libc::MSG_PEEK != 0;
    // SAFETY: the caller's contract.
    read_like(
        fd,
        peek,
        || unsafe { Seen::new(buf as *const u8, n) },
        || unsafe { real::recvfrom(fd, buf, n, flags, addr, len) },
    )
}

/// The data buffers of a msghdr.
///
/// # Safety
/// `msg` must be null or a valid msghdr.
unsafe fn msg_seen(msg: *const msghdr) -> Seen {
    if msg.is_null() {
        return Seen::NOTHING;
    }
    // SAFETY: the caller's contract.
    #[allow(clippy::unnecessary_cast)] // msg_iovlen is not size_t on every libc
    unsafe {
        Seen::iov((*msg).msg_iov, (*msg).msg_iovlen as usize)
    }
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t {
    let peek = flags & libc::MSG_PEEK != 0;
    let st = state(fd);
    if st == C_GONE && !msg.is_null() {
        // End of stream carries no control data.
        // SAFETY: the caller's msghdr.
        unsafe {
            (*msg).msg_controllen = 0;
            (*msg).msg_flags = 0;
        }
    }
    // SAFETY: the caller's contract.
    read_like(fd, peek, || unsafe { msg_seen(msg) }, || unsafe { real::recvmsg(fd, msg, flags) })
}

// ---- writes -----------------------------------------------------------------------------------

/// A write of connection data; `seen` is the data given (read only when the state changes).
#[inline(always)]
fn write_like(fd: c_int, seen: impl FnOnce() -> Seen, call: impl FnOnce() -> ssize_t) -> ssize_t {
    let st = state(fd);
    if !is_conn(st) {
        return call();
    }
    if let Some(r) = handover::before_write(st) {
        return r;
    }
    let r = call();
    if r > 0 {
        let e = sys::errno();
        handover::after_write(fd, r, seen());
        sys::set_errno(e);
    }
    r
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn write(fd: c_int, buf: *const c_void, n: size_t) -> ssize_t {
    // SAFETY: the caller's contract: buf is valid for n bytes.
    write_like(fd, || unsafe { Seen::new(buf as *const u8, n) }, || unsafe { real::write(fd, buf, n) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t {
    // SAFETY: the caller's contract.
    write_like(fd, || unsafe { Seen::iov(iov, cnt.max(0) as usize) }, || unsafe { real::writev(fd, iov, cnt) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn send(fd: c_int, buf: *const c_void, n: size_t, flags: c_int) -> ssize_t {
    // SAFETY: the caller's contract.
    write_like(fd, || unsafe { Seen::new(buf as *const u8, n) }, || unsafe { real::send(fd, buf, n, flags) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendto(
    fd: c_int,
    buf: *const c_void,
    n: size_t,
    flags: c_int,
    addr: *const sockaddr,
    len: socklen_t,
) -> ssize_t {
    // SAFETY: the caller's contract.
    write_like(
        fd,
        || unsafe { Seen::new(buf as *const u8, n) },
        || unsafe { real::sendto(fd, buf, n, flags, addr, len) },
    )
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t {
    // SAFETY: the caller's contract.
    write_like(fd, || unsafe { msg_seen(msg) }, || unsafe { real::sendmsg(fd, msg, flags) })
}

/// sendfile's data is in a file the shim does not read: a body after the head was written, or
/// a whole response it cannot classify (treated as final, the contract's default).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendfile(out: c_int, inp: c_int, off: *mut off_t, n: size_t) -> ssize_t {
    // SAFETY: the caller's contract.
    write_like(out, || Seen::NOTHING, || unsafe { real::sendfile(out, inp, off, n) })
}

#[unsafe(no_mangle)]
pub unsafe extern "C" fn sendfile64(out: c_int, inp: c_int, off: *mut off64_t, n: size_t) -> ssize_t {
    // SAFETY: the caller's contract.
    write_like(out, || Seen::NOTHING, || unsafe { real::sendfile64(out, inp, off, n) })
}
