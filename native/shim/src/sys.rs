//! Raw system calls for the shim's own work, and errno handling.
//!
//! The shim exports `close`, `fcntl`, `recv`, `sendmsg`, … itself, so calling the libc functions of
//! those names from inside the library would come straight back into the hooks. Everything the
//! shim does on its own behalf therefore goes through `syscall(2)`; only the pass-through to the
//! application's real call uses the functions `real` resolves.

use core::ffi::{c_int, c_long, c_void};
use core::mem::size_of;

pub fn errno() -> c_int {
    // SAFETY: __errno_location always returns the calling thread's errno slot.
    unsafe { *libc::__errno_location() }
}

pub fn set_errno(e: c_int) {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = e }
}

/// The result of a system call: the value, or the errno it failed with.
#[inline]
fn ret(r: c_long) -> Result<c_long, c_int> {
    if r < 0 { Err(errno()) } else { Ok(r) }
}

pub fn getpid() -> c_int {
    // SAFETY: no arguments, cannot fail.
    unsafe { libc::syscall(libc::SYS_getpid) as c_int }
}

pub fn close(fd: c_int) {
    // SAFETY: closing a descriptor number; the caller owns it.
    unsafe {
        libc::syscall(libc::SYS_close, fd as c_long);
    }
}

pub fn dup3(old: c_int, new: c_int, flags: c_int) -> Result<c_int, c_int> {
    // SAFETY: descriptor numbers only.
    ret(unsafe { libc::syscall(libc::SYS_dup3, old as c_long, new as c_long, flags as c_long) }).map(|r| r as c_int)
}

pub fn fcntl(fd: c_int, cmd: c_int, arg: c_long) -> Result<c_int, c_int> {
    // SAFETY: only integer commands (F_GETFD/F_SETFD/F_GETFL/F_SETFL) are used.
    ret(unsafe { libc::syscall(libc::SYS_fcntl, fd as c_long, cmd as c_long, arg) }).map(|r| r as c_int)
}

pub fn set_cloexec(fd: c_int) {
    if let Ok(f) = fcntl(fd, libc::F_GETFD, 0) {
        let _ = fcntl(fd, libc::F_SETFD, (f | libc::FD_CLOEXEC) as c_long);
    }
}

pub fn is_nonblocking(fd: c_int) -> bool {
    matches!(fcntl(fd, libc::F_GETFL, 0), Ok(fl) if fl & libc::O_NONBLOCK != 0)
}

/// Sets or clears O_NONBLOCK on the open file description behind `fd`.
pub fn set_nonblocking(fd: c_int, on: bool) -> bool {
    let Ok(fl) = fcntl(fd, libc::F_GETFL, 0) else { return false };
    let want = if on { fl | libc::O_NONBLOCK } else { fl & !libc::O_NONBLOCK };
    want == fl || fcntl(fd, libc::F_SETFL, want as c_long).is_ok()
}

pub fn getsockopt_int(fd: c_int, level: c_int, opt: c_int) -> Option<c_int> {
    let mut v: c_int = 0;
    let mut len = size_of::<c_int>() as libc::socklen_t;
    // SAFETY: v and len are valid for the kernel to write.
    let r = unsafe {
        libc::syscall(
            libc::SYS_getsockopt,
            fd as c_long,
            level as c_long,
            opt as c_long,
            &mut v as *mut c_int as c_long,
            &mut len as *mut libc::socklen_t as c_long,
        )
    };
    (r == 0).then_some(v)
}

pub fn setsockopt_bytes(fd: c_int, level: c_int, opt: c_int, val: *const c_void, len: usize) -> bool {
    // SAFETY: val points to len readable bytes (callers pass references to locals).
    unsafe {
        libc::syscall(libc::SYS_setsockopt, fd as c_long, level as c_long, opt as c_long, val as c_long, len as c_long)
            == 0
    }
}

pub fn setsockopt_int(fd: c_int, level: c_int, opt: c_int, v: c_int) -> bool {
    setsockopt_bytes(fd, level, opt, &v as *const c_int as *const c_void, size_of::<c_int>())
}

/// A socket address buffer large enough for any family.
pub struct SockAddr {
    pub storage: libc::sockaddr_storage,
    pub len: libc::socklen_t,
}

impl SockAddr {
    pub fn zeroed() -> SockAddr {
        // SAFETY: sockaddr_storage is plain old data; all zeroes is a valid (AF_UNSPEC) value.
        SockAddr { storage: unsafe { core::mem::zeroed() }, len: size_of::<libc::sockaddr_storage>() as _ }
    }
    pub fn as_ptr(&self) -> *const libc::sockaddr {
        &self.storage as *const libc::sockaddr_storage as *const libc::sockaddr
    }
    fn as_mut_ptr(&mut self) -> *mut libc::sockaddr {
        &mut self.storage as *mut libc::sockaddr_storage as *mut libc::sockaddr
    }
}

fn name_call(nr: c_long, fd: c_int) -> Option<SockAddr> {
    let mut a = SockAddr::zeroed();
    // SAFETY: storage and len are valid for the kernel to write.
    let r = unsafe {
        libc::syscall(nr, fd as c_long, a.as_mut_ptr() as c_long, &mut a.len as *mut libc::socklen_t as c_long)
    };
    (r == 0).then_some(a)
}

pub fn getsockname(fd: c_int) -> Option<SockAddr> {
    name_call(libc::SYS_getsockname, fd)
}

pub fn getpeername(fd: c_int) -> Option<SockAddr> {
    name_call(libc::SYS_getpeername, fd)
}

/// `getpeername` into a caller's buffer, with the caller's capacity: truncates and reports the
/// full length exactly as `accept` would have.
///
/// # Safety
/// `addr` must be valid for `cap` bytes and `len` for writing.
pub unsafe fn getpeername_into(fd: c_int, addr: *mut libc::sockaddr, len: *mut libc::socklen_t, cap: libc::socklen_t) {
    // SAFETY: the caller's contract.
    unsafe {
        *len = cap;
        libc::syscall(libc::SYS_getpeername, fd as c_long, addr as c_long, len as c_long);
    }
}

/// Peeks at what the peer has sent, without blocking or consuming it: Ok(0) = the peer has
/// closed, Ok(n) = n bytes copied into `buf`.
pub fn peek(fd: c_int, buf: &mut [u8]) -> Result<isize, c_int> {
    loop {
        // SAFETY: buf is writable for its length.
        let r = unsafe {
            libc::syscall(
                libc::SYS_recvfrom,
                fd as c_long,
                buf.as_mut_ptr() as c_long,
                buf.len() as c_long,
                (libc::MSG_PEEK | libc::MSG_DONTWAIT) as c_long,
                0 as c_long,
                0 as c_long,
            )
        };
        match ret(r) {
            Err(libc::EINTR) => continue,
            other => return other.map(|n| n as isize),
        }
    }
}

pub fn sendmsg(fd: c_int, msg: &libc::msghdr, flags: c_int) -> Result<isize, c_int> {
    // SAFETY: msg and the buffers it points to are valid for the duration of the call.
    ret(unsafe {
        libc::syscall(libc::SYS_sendmsg, fd as c_long, msg as *const libc::msghdr as c_long, flags as c_long)
    })
    .map(|n| n as isize)
}

pub fn recvmsg(fd: c_int, msg: &mut libc::msghdr, flags: c_int) -> Result<isize, c_int> {
    // SAFETY: msg and the buffers it points to are valid for the duration of the call.
    ret(unsafe { libc::syscall(libc::SYS_recvmsg, fd as c_long, msg as *mut libc::msghdr as c_long, flags as c_long) })
        .map(|n| n as isize)
}

pub fn write_all(fd: c_int, mut buf: &[u8]) {
    while !buf.is_empty() {
        // SAFETY: buf is a valid slice.
        let r = unsafe { libc::syscall(libc::SYS_write, fd as c_long, buf.as_ptr() as c_long, buf.len() as c_long) };
        match ret(r) {
            Ok(n) if n > 0 => buf = buf.get(n as usize..).unwrap_or(&[]),
            Err(libc::EINTR) => {}
            _ => return,
        }
    }
}

/// Waits up to `ms` for `fd` to become readable (a connection to accept).
pub fn wait_readable(fd: c_int, ms: c_int) {
    let mut p = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
    // SAFETY: one valid pollfd.
    unsafe {
        libc::poll(&mut p, 1, ms);
    }
}

pub fn sleep_1ms() {
    let ts = libc::timespec { tv_sec: 0, tv_nsec: 1_000_000 };
    // SAFETY: ts is valid; the remainder is not wanted.
    unsafe {
        libc::nanosleep(&ts, core::ptr::null_mut());
    }
}
