//! Per-descriptor state for descriptors below 65,536.
//!
//! Every hook on a hot path (read, write, close, fcntl…) looks its descriptor up here, and nothing
//! else, before deciding to pass through: the table must be lock-free and cheap. Descriptors of
//! 65,536 and above are never tracked (`get` says NONE).
//!
//! A state is cleared *before* the real close/dup2 releases the number: once the number is free
//! another thread may get it from accept() and set a new state, which a late clear would wipe.

use core::ffi::c_int;
use core::sync::atomic::{AtomicU8, AtomicU16, Ordering::Relaxed};

pub const MAX_FD: usize = 65536;

pub const NONE: u8 = 0;
/// An inherited listener not adopted yet (its number is the shim's, not the application's).
pub const INHERITED: u8 = 0x01;
/// The control socket.
pub const CTL: u8 = 0x02;
/// A TCP socket the application bound to an explicit port, not yet reported as listening.
pub const BOUND: u8 = 0x03;

/// Service listeners: `s & LISTENER_MASK == LISTENER`.
pub const L_ADOPTED: u8 = 0x10;
pub const L_OWN: u8 = 0x11;
/// Set on a listener once ACCEPTING has been sent for it.
pub const L_ACCEPTING: u8 = 0x40;
const LISTENER_MASK: u8 = 0x30;
const LISTENER: u8 = 0x10;

/// Connections accepted from a service listener: `s & 0xF0 == 0x20`.
pub const C_FRESH: u8 = 0x20;
pub const C_IN_FLIGHT: u8 = 0x21;
pub const C_BOUNDARY: u8 = 0x22;
pub const C_GONE: u8 = 0x23;
/// Not plain HTTP/1.x, or about to end: never handed over (see http.rs).
pub const C_PINNED: u8 = 0x24;

static STATE: [AtomicU8; MAX_FD] = [const { AtomicU8::new(NONE) }; MAX_FD];
/// The local port of a service listener or tracked connection: lets a hand-over check that the
/// number still names the same connection, and tells jhot where the connection belongs.
static PORT: [AtomicU16; MAX_FD] = [const { AtomicU16::new(0) }; MAX_FD];

#[inline]
fn slot(fd: c_int) -> Option<&'static AtomicU8> {
    // A negative fd becomes a huge index and misses.
    STATE.get(fd as u32 as usize)
}

#[inline]
pub fn get(fd: c_int) -> u8 {
    match slot(fd) {
        Some(s) => s.load(Relaxed),
        None => NONE,
    }
}

pub fn trackable(fd: c_int) -> bool {
    slot(fd).is_some()
}

pub fn set(fd: c_int, state: u8, port: u16) {
    if let (Some(s), Some(p)) = (slot(fd), PORT.get(fd as u32 as usize)) {
        p.store(port, Relaxed);
        s.store(state, Relaxed);
    }
}

pub fn clear(fd: c_int) {
    set(fd, NONE, 0);
}

pub fn port(fd: c_int) -> u16 {
    match PORT.get(fd as u32 as usize) {
        Some(p) => p.load(Relaxed),
        None => 0,
    }
}

/// Moves `fd` from `from` to `to`; false when the state was not `from`.
pub fn transition(fd: c_int, from: u8, to: u8) -> bool {
    match slot(fd) {
        Some(s) => s.compare_exchange(from, to, Relaxed, Relaxed).is_ok(),
        None => false,
    }
}

/// Sets the ACCEPTING bit of a listener; true for the one caller that set it.
pub fn mark_accepting(fd: c_int) -> bool {
    let Some(s) = slot(fd) else { return false };
    let mut cur = s.load(Relaxed);
    loop {
        if !is_listener(cur) || cur & L_ACCEPTING != 0 {
            return false;
        }
        match s.compare_exchange_weak(cur, cur | L_ACCEPTING, Relaxed, Relaxed) {
            Ok(_) => return true,
            Err(now) => cur = now,
        }
    }
}

#[inline]
pub fn is_listener(s: u8) -> bool {
    s & LISTENER_MASK == LISTENER
}

#[inline]
pub fn listener_kind(s: u8) -> u8 {
    s & !L_ACCEPTING
}

#[inline]
pub fn is_conn(s: u8) -> bool {
    s & 0xF0 == 0x20
}
