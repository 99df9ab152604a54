//! accept/accept4 on a service listener: readiness (ACCEPTING), refusal while draining, INJECT
//! delivery, PROBE, and tracking of the accepted connection.

use core::ffi::c_int;
use core::sync::atomic::{Ordering::Acquire, fence};

use crate::addr::NormAddr;
use crate::ctl;
use crate::fdtab::{self, C_FRESH, L_ACCEPTING};
use crate::log::debug;
use crate::{adopt, handover, page, sys};

/// Sends ACCEPTING the first time the server waits on listener `fd`.
pub fn report_accepting(fd: c_int, how: &str) {
    if fdtab::mark_accepting(fd) {
        let index = adopt::index_of_listener(fd);
        let port = fdtab::port(fd);
        ctl::send(&ctl::msg(ctl::Kind::Accepting, fd, index, port as u32), -1);
        debug!("{how}(fd {fd}, port {port}): accepting (listener index {index})");
    }
}

/// The accept hook for a service listener.
///
/// # Safety
/// The C contract of accept(2)/accept4(2).
pub unsafe fn accept(
    lfd: c_int,
    st: u8,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
    flags: Option<c_int>,
) -> c_int {
    fence(Acquire);
    if st & L_ACCEPTING == 0 {
        report_accepting(lfd, if flags.is_some() { "accept4" } else { "accept" });
    }
    // An application that accepts in blocking mode (a native acceptor such as the JDWP agent's)
    // on an adopted listener, whose shared description stays non-blocking: block for it.
    let blocking = crate::fdtab::listener_kind(st) == crate::fdtab::L_ADOPTED && crate::adopt::app_blocking(lfd);
    let cap = if addr.is_null() || len.is_null() {
        0
    } else {
        // SAFETY: the caller's contract.
        unsafe { *len }
    };
    // Still the adopted listener: a close or dup2 over it (a JDK close wakes its acceptor that
    // way) clears its state, and the blocking wait must then end.
    let still_ours = || crate::fdtab::listener_kind(crate::fdtab::get(lfd)) == crate::fdtab::L_ADOPTED;
    let nfd = loop {
        let blocking = blocking && still_ours();
        if handover::draining() || page::refusing() {
            // A draining process, or a new one jhot rolls back, takes no new connection: they stay
            // queued for the other process. The pause keeps a selector loop, which sees the
            // listener readable, from spinning.
            sys::sleep_1ms();
            if blocking {
                continue;
            }
            sys::set_errno(libc::EAGAIN);
            return -1;
        }
        if !addr.is_null() && !len.is_null() {
            // SAFETY: the caller's contract; a retried accept gets the caller's capacity back.
            unsafe { *len = cap };
        }
        // SAFETY: the caller's contract.
        let nfd = unsafe {
            match flags {
                Some(f) => crate::real::accept4(lfd, addr, len, f),
                None => crate::real::accept(lfd, addr, len),
            }
        };
        if nfd < 0 && blocking && sys::errno() == libc::EAGAIN {
            sys::wait_readable(lfd, 100);
            continue;
        }
        break nfd;
    };
    if nfd < 0 {
        return nfd;
    }
    let saved = sys::errno();
    // SAFETY: addr/len as returned by the real accept.
    let keep = unsafe { accepted(lfd, nfd, addr, len, cap) };
    if keep {
        sys::set_errno(saved);
        nfd
    } else {
        sys::set_errno(libc::EAGAIN);
        -1
    }
}

/// Everything after the kernel gave us `nfd`. False when the connection left the process.
unsafe fn accepted(
    lfd: c_int,
    nfd: c_int,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
    cap: libc::socklen_t,
) -> bool {
    let index = adopt::index_of_listener(lfd);
    // The peer as accept reported it; when the caller's buffer was missing or too small, ask.
    // SAFETY: len is valid when addr is, per the caller's contract.
    let given =
        unsafe { if !addr.is_null() && !len.is_null() && *len <= cap { NormAddr::from_raw(addr, *len) } else { None } };
    let peer = given.or_else(|| sys::getpeername(nfd).and_then(|a| NormAddr::from_sock(&a)));
    if let Some(p) = peer {
        if let Some(conn) = p.is_jhot_loopback().then(|| ctl::inject_for(p.port)).flatten() {
            // SAFETY: forwarded caller contract.
            unsafe { inject(nfd, conn, addr, len, cap, p.port, index) };
        } else if let Some(dst) = page::probe_for(&p) {
            // The source is jhot's; the destination completes the 4-tuple jhot announced.
            let local = sys::getsockname(nfd).and_then(|a| NormAddr::from_sock(&a));
            if local == Some(dst) {
                ctl::send(&ctl::msg(ctl::Kind::Probe, nfd, index, p.port as u32), -1);
                debug!("accept(fd {lfd}) -> fd {nfd}: jhot's readiness probe from {p}");
            } else {
                debug!("accept(fd {lfd}) -> fd {nfd}: from a probe's source {p} but not to {dst}: not jhot's probe");
            }
        }
    }
    // Connections are tracked only where they could ever be handed over.
    if ctl::alive() && page::present() {
        fdtab::set(nfd, C_FRESH, fdtab::port(lfd));
    } else {
        fdtab::clear(nfd);
    }
    // A call that was already inside accept when the drain began: this connection is not ours.
    if handover::draining() && fdtab::get(nfd) == C_FRESH && handover::try_handover(nfd) {
        fdtab::clear(nfd);
        sys::close(nfd);
        debug!("accept(fd {lfd}): connection accepted while draining was handed over at once");
        return false;
    }
    true
}

/// Puts the connection jhot announced for doorbell `port` in place of the doorbell `nfd`.
unsafe fn inject(
    nfd: c_int,
    conn: c_int,
    addr: *mut libc::sockaddr,
    len: *mut libc::socklen_t,
    cap: libc::socklen_t,
    port: u16,
    index: i32,
) {
    // The server asked for these flags on the connection it accepted (accept4 SOCK_CLOEXEC,
    // SOCK_NONBLOCK); the injected connection gets the same.
    let cloexec = matches!(sys::fcntl(nfd, libc::F_GETFD, 0), Ok(f) if f & libc::FD_CLOEXEC != 0);
    let nonblock = sys::is_nonblocking(nfd);
    if let Err(e) = sys::dup3(conn, nfd, if cloexec { libc::O_CLOEXEC } else { 0 }) {
        debug!("accept -> fd {nfd}: dup3 of injected connection failed (errno {e}); dropped");
        sys::close(conn);
        return;
    }
    sys::set_nonblocking(nfd, nonblock);
    sys::close(conn);
    if !addr.is_null() && !len.is_null() {
        // SAFETY: the caller's buffer, with its original capacity.
        unsafe { sys::getpeername_into(nfd, addr, len, cap) };
    }
    ctl::send(&ctl::msg(ctl::Kind::Injected, nfd, index, port as u32), -1);
    if crate::log::enabled() {
        let real = sys::getpeername(nfd).and_then(|a| NormAddr::from_sock(&a));
        match real {
            Some(r) => debug!("accept -> fd {nfd}: injected connection from {r} (doorbell port {port})"),
            None => debug!("accept -> fd {nfd}: injected connection (doorbell port {port})"),
        }
    }
}
