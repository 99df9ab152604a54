//! Connection hand-over in a draining process (docs/shim-protocol.md, "Hand-over").
//!
//! The state of a connection accepted from a service listener follows its traffic: fresh until
//! the first read, in flight from a read that returned data until a write that sent some, at a
//! boundary after that. Only a fresh or boundary connection holds no request the server has
//! started on, so only those leave: the kernel socket goes to jhot and whatever the client has
//! sent since stays in its receive queue for the next process.
//!
//! Boundaries only mean something for plain HTTP/1.x, so the first bytes of each request and
//! response are checked (http.rs) and any other connection is pinned here for good: one the
//! server wrote to first, one whose requests do not look like HTTP/1.x (TLS, HTTP/2), one that
//! switched protocols (101), and one whose response says it is the last (HTTP/1.0,
//! `Connection: close`), whose client may be reading to end of stream.

use core::ffi::c_int;

use crate::addr::NormAddr;
use crate::ctl;
use crate::fdtab::{self, C_BOUNDARY, C_FRESH, C_GONE, C_IN_FLIGHT, C_PINNED};
use crate::http::{self, Response};
use crate::log::debug;
use crate::sys;

/// Hand-over is armed: jhot set the page's drain flag and is still reachable.
pub fn draining() -> bool {
    crate::page::draining() && ctl::alive()
}

fn movable(st: u8) -> bool {
    st == C_FRESH || st == C_BOUNDARY
}

/// The start of the data a read returned or a write was given.
#[derive(Clone, Copy)]
pub struct Seen {
    ptr: *const u8,
    len: usize,
}

impl Seen {
    pub const NOTHING: Seen = Seen { ptr: core::ptr::null(), len: 0 };

    /// # Safety
    /// `ptr` must be readable for `len` bytes for as long as the hook runs.
    pub unsafe fn new(ptr: *const u8, len: usize) -> Seen {
        if ptr.is_null() { Seen::NOTHING } else { Seen { ptr, len } }
    }

    /// The first buffer of an iovec array: only it is looked at (servers write a head in one
    /// piece, and read a request start into the first buffer).
    ///
    /// # Safety
    /// `iov` must be null or point to `cnt` valid iovecs.
    pub unsafe fn iov(iov: *const libc::iovec, cnt: usize) -> Seen {
        if iov.is_null() || cnt == 0 {
            return Seen::NOTHING;
        }
        // SAFETY: the caller's contract.
        let first = unsafe { &*iov };
        // SAFETY: an iovec describes readable memory of iov_len bytes.
        unsafe { Seen::new(first.iov_base as *const u8, first.iov_len) }
    }

    fn bytes(&self, max: usize) -> &[u8] {
        if self.ptr.is_null() {
            return &[];
        }
        // SAFETY: see new().
        unsafe { core::slice::from_raw_parts(self.ptr, self.len.min(max)) }
    }
}

/// Moves a live connection from `from` to `to`, unless another thread moved it meanwhile.
fn set(fd: c_int, from: u8, to: u8) {
    if from != to && fdtab::transition(fd, from, to) && to == C_PINNED {
        debug!("fd {fd}: not a plain HTTP/1.x exchange at this point; pinned to this process");
    }
}

/// Hands connection `fd` to jhot if it is fresh or at a boundary, its client has not closed, and
/// the message goes out. The application's descriptor stays open (state gone) until it closes it.
/// errno is preserved.
pub fn try_handover(fd: c_int) -> bool {
    if !crate::is_owner() {
        // Between vfork and exec the child shares our memory but must not act for us.
        return false;
    }
    let saved = sys::errno();
    let ok = handover(fd);
    sys::set_errno(saved);
    ok
}

fn handover(fd: c_int) -> bool {
    let st = fdtab::get(fd);
    if !movable(st) {
        return false;
    }
    // The number may have been released by a call the shim does not see (close_range, a raw
    // system call) and reused: only a socket on the recorded local port is the same connection.
    let local = sys::getsockname(fd).and_then(|a| NormAddr::from_sock(&a));
    let Some(local) = local.filter(|l| l.port == fdtab::port(fd)) else {
        debug!("fd {fd}: no longer the tracked connection; forgotten");
        fdtab::transition(fd, st, fdtab::NONE);
        return false;
    };
    let mut next = [0u8; 24];
    let pending = match sys::peek(fd, &mut next) {
        Ok(0) => {
            debug!("fd {fd}: client has closed; not handed over");
            return false;
        }
        Ok(n) => {
            // After a response, what follows must be the next request (on a fresh connection
            // anything may start it): late request body bytes, say, are not.
            let seen = next.get(..n as usize).unwrap_or(&[]);
            if st == C_BOUNDARY && !http::request_start(seen) {
                debug!("fd {fd}: waiting bytes do not start a request; not handed over");
                return false;
            }
            true
        }
        Err(libc::EAGAIN) => false,
        Err(e) => {
            debug!("fd {fd}: connection error (errno {e}); not handed over");
            return false;
        }
    };
    if !fdtab::transition(fd, st, C_GONE) {
        return false;
    }
    let mut m = ctl::msg(ctl::Kind::Handover, fd, crate::adopt::index_of_local(&local), local.port as u32);
    m.flags = if pending { ctl::FLAG_PENDING } else { 0 };
    if !ctl::send(&m, fd) {
        fdtab::transition(fd, C_GONE, st);
        debug!("fd {fd}: HANDOVER could not be sent; the connection stays here");
        return false;
    }
    debug!("fd {fd}: connection handed over to jhot (request waiting: {pending})");
    true
}

/// Before a read on connection `fd` (state `st`): `Some(0)` ends the stream for the server
/// (handed over now or earlier), `None` lets the read go ahead.
pub fn before_read(fd: c_int, st: u8) -> Option<isize> {
    if st == C_GONE {
        return Some(0);
    }
    if movable(st) && draining() && try_handover(fd) {
        return Some(0);
    }
    None
}

/// After a read: data read means a request is in flight (or, if it does not start an HTTP/1.x
/// request, that the connection is pinned). A peek consumes nothing and changes nothing.
pub fn after_read(fd: c_int, r: isize, peek: bool, seen: Seen) {
    if r <= 0 || peek {
        return;
    }
    let st = fdtab::get(fd);
    if movable(st) {
        let start = seen.bytes(r as usize);
        set(fd, st, if http::request_start(start) { C_IN_FLIGHT } else { C_PINNED });
    }
}

/// Before a write on connection `fd`: a handed-over connection is no longer this process's to
/// write to (`Some(-1)` with EPIPE).
pub fn before_write(st: u8) -> Option<isize> {
    if st == C_GONE {
        sys::set_errno(libc::EPIPE);
        return Some(-1);
    }
    None
}

/// After a write: data sent on a request in flight answers it, unless it is an interim (1xx)
/// response. A server that writes first is not serving HTTP.
pub fn after_write(fd: c_int, r: isize, seen: Seen) {
    if r <= 0 {
        return;
    }
    let st = fdtab::get(fd);
    let to = match st {
        C_FRESH => C_PINNED,
        C_IN_FLIGHT => match http::response(seen.bytes(usize::MAX)) {
            Response::Interim => C_IN_FLIGHT,
            Response::KeepAlive => C_BOUNDARY,
            Response::Last => C_PINNED,
        },
        _ => return,
    };
    set(fd, st, to);
}

/// shutdown() of a connection: `Some(0)` when it must not reach the kernel (the connection is,
/// or just became, jhot's: a FIN would end it for the client).
pub fn on_shutdown(fd: c_int, st: u8) -> Option<c_int> {
    if st == C_GONE {
        debug!("shutdown(fd {fd}): handed-over connection, no FIN sent");
        return Some(0);
    }
    if movable(st) && draining() && try_handover(fd) {
        return Some(0);
    }
    None
}

/// close/dup2/dup3 is about to release connection `fd`: hand it over first when it may leave.
pub fn on_release(fd: c_int, st: u8) {
    if movable(st) && draining() {
        try_handover(fd);
    }
}
