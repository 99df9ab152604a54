//! The functions the hooks stand in for, found with `dlsym(RTLD_NEXT, …)`.
//!
//! Resolved on first use rather than in the constructor: another preloaded library's constructor,
//! or the dynamic loader's own start-up, may call `close` or `read` before ours has run. A pointer
//! is cached in an atomic; two threads racing to resolve it store the same value. Should `dlsym`
//! ever come back empty, the call is made as a raw system call instead of failing, so that no
//! application call is ever lost to the shim.

use core::ffi::{c_char, c_int, c_long, c_void};
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

/// Marks a symbol `dlsym` could not find.
const MISSING: usize = 1;

/// `name` must end in NUL.
fn resolve(slot: &AtomicUsize, name: &str) -> usize {
    let p = slot.load(Relaxed);
    if p != 0 {
        return p;
    }
    let saved = crate::sys::errno();
    // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT finds the definition after ours (libc).
    let f = unsafe { libc::dlsym(libc::RTLD_NEXT, name.as_ptr() as *const c_char) } as usize;
    crate::sys::set_errno(saved);
    let f = if f == 0 { MISSING } else { f };
    slot.store(f, Relaxed);
    f
}

/// Declares `pub unsafe fn name(args) -> ret` calling the next definition of `name`, with a raw
/// system call as the fallback.
macro_rules! real {
    ($( fn $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty = $fallback:expr ; )*) => {
        $(
            /// Calls the real function of this name.
            ///
            /// # Safety
            /// The caller's arguments go to the kernel or libc untouched: the C contract applies.
            #[allow(clippy::too_many_arguments)]
            pub unsafe fn $name($($arg: $ty),*) -> $ret {
                static SLOT: AtomicUsize = AtomicUsize::new(0);
                let p = resolve(&SLOT, concat!(stringify!($name), "\0"));
                if p == MISSING {
                    // SAFETY: the caller's contract; the fallback is the matching system call.
                    return unsafe { $fallback } as $ret;
                }
                // SAFETY: p is the address of the libc function with exactly this signature.
                let f: unsafe extern "C" fn($($ty),*) -> $ret = unsafe { core::mem::transmute(p) };
                // SAFETY: the caller's contract.
                unsafe { f($($arg),*) }
            }
        )*
    };
}

use libc::{SYS_accept4, SYS_bind, SYS_close, SYS_dup3, SYS_epoll_ctl, SYS_fcntl, SYS_ioctl, SYS_listen};
use libc::{SYS_read, SYS_readv, SYS_recvfrom, SYS_recvmsg, SYS_sendfile, SYS_sendmsg, SYS_sendto};
use libc::{SYS_shutdown, SYS_write, SYS_writev, sockaddr, socklen_t};
use libc::{epoll_event, iovec, msghdr, off_t, off64_t, size_t, ssize_t, syscall};

type L = c_long;

real! {
    fn bind(fd: c_int, addr: *const sockaddr, len: socklen_t) -> c_int
        = syscall(SYS_bind, fd as L, addr as L, len as L);
    fn listen(fd: c_int, backlog: c_int) -> c_int
        = syscall(SYS_listen, fd as L, backlog as L);
    fn accept(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> c_int
        = syscall(SYS_accept4, fd as L, addr as L, len as L, 0 as L);
    fn accept4(fd: c_int, addr: *mut sockaddr, len: *mut socklen_t, flags: c_int) -> c_int
        = syscall(SYS_accept4, fd as L, addr as L, len as L, flags as L);
    fn epoll_ctl(epfd: c_int, op: c_int, fd: c_int, ev: *mut epoll_event) -> c_int
        = syscall(SYS_epoll_ctl, epfd as L, op as L, fd as L, ev as L);
    fn fcntl(fd: c_int, cmd: c_int, arg: usize) -> c_int
        = syscall(SYS_fcntl, fd as L, cmd as L, arg as L);
    fn fcntl64(fd: c_int, cmd: c_int, arg: usize) -> c_int
        = fcntl(fd, cmd, arg);
    fn ioctl(fd: c_int, req: usize, arg: usize) -> c_int
        = syscall(SYS_ioctl, fd as L, req as L, arg as L);
    fn shutdown(fd: c_int, how: c_int) -> c_int
        = syscall(SYS_shutdown, fd as L, how as L);
    fn close(fd: c_int) -> c_int
        = syscall(SYS_close, fd as L);
    fn dup2(old: c_int, new: c_int) -> c_int
        = dup2_fallback(old, new);
    fn dup3(old: c_int, new: c_int, flags: c_int) -> c_int
        = syscall(SYS_dup3, old as L, new as L, flags as L);
    fn read(fd: c_int, buf: *mut c_void, n: size_t) -> ssize_t
        = syscall(SYS_read, fd as L, buf as L, n as L);
    fn readv(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t
        = syscall(SYS_readv, fd as L, iov as L, cnt as L);
    fn recv(fd: c_int, buf: *mut c_void, n: size_t, flags: c_int) -> ssize_t
        = syscall(SYS_recvfrom, fd as L, buf as L, n as L, flags as L, 0 as L, 0 as L);
    fn recvfrom(fd: c_int, buf: *mut c_void, n: size_t, flags: c_int, addr: *mut sockaddr, len: *mut socklen_t) -> ssize_t
        = syscall(SYS_recvfrom, fd as L, buf as L, n as L, flags as L, addr as L, len as L);
    fn recvmsg(fd: c_int, msg: *mut msghdr, flags: c_int) -> ssize_t
        = syscall(SYS_recvmsg, fd as L, msg as L, flags as L);
    fn write(fd: c_int, buf: *const c_void, n: size_t) -> ssize_t
        = syscall(SYS_write, fd as L, buf as L, n as L);
    fn writev(fd: c_int, iov: *const iovec, cnt: c_int) -> ssize_t
        = syscall(SYS_writev, fd as L, iov as L, cnt as L);
    fn send(fd: c_int, buf: *const c_void, n: size_t, flags: c_int) -> ssize_t
        = syscall(SYS_sendto, fd as L, buf as L, n as L, flags as L, 0 as L, 0 as L);
    fn sendto(fd: c_int, buf: *const c_void, n: size_t, flags: c_int, addr: *const sockaddr, len: socklen_t) -> ssize_t
        = syscall(SYS_sendto, fd as L, buf as L, n as L, flags as L, addr as L, len as L);
    fn sendmsg(fd: c_int, msg: *const msghdr, flags: c_int) -> ssize_t
        = syscall(SYS_sendmsg, fd as L, msg as L, flags as L);
    fn sendfile(out: c_int, inp: c_int, off: *mut off_t, n: size_t) -> ssize_t
        = syscall(SYS_sendfile, out as L, inp as L, off as L, n as L);
    fn sendfile64(out: c_int, inp: c_int, off: *mut off64_t, n: size_t) -> ssize_t
        = syscall(SYS_sendfile, out as L, inp as L, off as L, n as L);
}

/// dup2 has no system call on every architecture (aarch64 lacks it): dup3, except that dup2 of a
/// descriptor onto itself is a validity check.
unsafe fn dup2_fallback(old: c_int, new: c_int) -> c_long {
    if old == new {
        return match crate::sys::fcntl(old, libc::F_GETFD, 0) {
            Ok(_) => old as c_long,
            Err(_) => -1,
        };
    }
    // SAFETY: descriptor numbers only.
    unsafe { syscall(SYS_dup3, old as L, new as L, 0 as L) }
}
