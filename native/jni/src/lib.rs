//! libjhot_jni.so — the native half of the agent's `send_fds` op (docs/protocol.md).
//!
//! When jhot may not copy a JVM's listening sockets with `pidfd_getfd` (Yama ptrace scope, another
//! user), the agent loads this library and hands the descriptors over itself: it connects to the
//! Unix socket jhot listens on and sends one message with the descriptors attached (SCM_RIGHTS).
//! jhot checks the peer's credentials (SO_PEERCRED) on its side.
//!
//! It also fences listeners for a drain (`fence`, see that module): the JVM being replaced stops
//! taking connections from the sockets it shares with its successor.
//!
//! Exported: `dev.jhot.agent.Native.sendFds(String socketPath, int[] fds) -> int` and
//! `dev.jhot.agent.Native.fence(int[] fds, long[] inodes) -> long[]`.
//! Errors become Java exceptions (`IOException`, `IllegalArgumentException`,
//! `NullPointerException`); a panic never crosses into the JVM (`EnvUnowned::with_env` catches it
//! and the policy turns it into a `RuntimeException`). Keep `panic = "unwind"`: with `abort` a panic
//! would kill the application's JVM.

use std::ffi::OsStr;
use std::fmt;
use std::io::IoSlice;
use std::mem::MaybeUninit;
use std::os::fd::{BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::Duration;

pub mod fence;

use jni::errors::ThrowRuntimeExAndDefault;
use jni::objects::{JClass, JIntArray, JLongArray, JString};
use jni::strings::JNIString;
use jni::sys::jint;
use jni::sys::jlong;
use jni::{Env, EnvUnowned, jni_mangle, jni_str};
use rustix::io::Errno;
use rustix::net::{
    self, AddressFamily, SendAncillaryBuffer, SendAncillaryMessage, SendFlags, SocketAddrUnix, SocketFlags, SocketType,
};

/// SCM_RIGHTS carries at most 253 descriptors (SCM_MAX_FD); jhot never needs more than a handful
/// of listeners, and a fixed bound keeps the control buffer on the stack.
pub const MAX_FDS: usize = 32;

/// How long connecting or sending may block: jhot accepts at once, so a stall means jhot is gone
/// or stuck, and the agent's control connection must not hang with it.
const TIMEOUT: Duration = Duration::from_secs(5);

/// Why a send failed, and which Java exception says so.
#[derive(Debug, PartialEq, Eq)]
pub enum SendError {
    /// `java.lang.IllegalArgumentException`
    Argument(String),
    /// `java.io.IOException`
    Io(String),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::Argument(m) | SendError::Io(m) => f.write_str(m),
        }
    }
}

fn errno_text(e: Errno) -> String {
    std::io::Error::from(e).to_string()
}

/// Sends `fds` to the Unix stream socket at `socket` in one message (payload: the count as a
/// little-endian u32), then closes the connection. Returns the count.
pub fn send_fds(socket: &Path, fds: &[RawFd]) -> Result<usize, SendError> {
    if fds.is_empty() || fds.len() > MAX_FDS {
        return Err(SendError::Argument(format!("sendFds takes 1 to {MAX_FDS} descriptors, not {}", fds.len())));
    }
    let mut borrowed = Vec::with_capacity(fds.len());
    for &fd in fds {
        // BorrowedFd may not hold -1, and no negative number is an open descriptor.
        if fd < 0 {
            return Err(SendError::Io(format!("fd {fd} is not an open file descriptor: {}", errno_text(Errno::BADF))));
        }
        // SAFETY: fd is non-negative; the borrow lives only for this call, during which the JVM
        // keeps its descriptors open (jhot names listeners the application holds), and the kernel
        // rejects a closed one below (F_GETFD) or in sendmsg (EBADF) rather than misbehaving.
        let b = unsafe { BorrowedFd::borrow_raw(fd) };
        match rustix::io::fcntl_getfd(b) {
            Ok(_) => borrowed.push(b),
            Err(e) if e == Errno::BADF => {
                return Err(SendError::Io(format!("fd {fd} is not an open file descriptor: {}", errno_text(e))));
            }
            Err(e) => return Err(SendError::Io(format!("checking fd {fd} (fcntl F_GETFD): {}", errno_text(e)))),
        }
    }
    let shown = socket.display();
    let addr =
        SocketAddrUnix::new(socket).map_err(|e| SendError::Io(format!("socket path {shown}: {}", errno_text(e))))?;
    let sock: OwnedFd = net::socket_with(AddressFamily::UNIX, SocketType::STREAM, SocketFlags::CLOEXEC, None)
        .map_err(|e| SendError::Io(format!("creating a Unix socket: {}", errno_text(e))))?;
    // A Unix-domain connect waits for backlog room up to the send timeout.
    net::sockopt::set_socket_timeout(&sock, net::sockopt::Timeout::Send, Some(TIMEOUT))
        .map_err(|e| SendError::Io(format!("setting SO_SNDTIMEO: {}", errno_text(e))))?;
    retry(|| net::connect(&sock, &addr))
        .map_err(|e| SendError::Io(format!("connecting to {shown}: {}", errno_text(e))))?;

    let payload = (fds.len() as u32).to_le_bytes();
    let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&borrowed)) {
        // Unreachable with the bound above; an error rather than a panic all the same.
        return Err(SendError::Io(format!("{} descriptors do not fit the control buffer", fds.len())));
    }
    let flags = SendFlags::NOSIGNAL;
    let mut sent = retry(|| net::sendmsg(&sock, &[IoSlice::new(&payload)], &mut control, flags))
        .map_err(|e| SendError::Io(format!("sending {} descriptors to {shown}: {}", fds.len(), errno_text(e))))?;
    // The descriptors travel with the first byte; a short write (never seen for 4 bytes) only
    // leaves plain bytes to send.
    while sent < payload.len() {
        let n = retry(|| net::send(&sock, &payload[sent..], flags))
            .map_err(|e| SendError::Io(format!("sending to {shown}: {}", errno_text(e))))?;
        if n == 0 {
            return Err(SendError::Io(format!("sending to {shown}: the peer stopped reading")));
        }
        sent += n;
    }
    drop(sock);
    Ok(fds.len())
}

fn retry<T>(mut f: impl FnMut() -> rustix::io::Result<T>) -> rustix::io::Result<T> {
    loop {
        match f() {
            Err(Errno::INTR) => continue,
            r => return r,
        }
    }
}

/// `static native int sendFds(String socketPath, int[] fds) throws IOException`
#[jni_mangle("dev.jhot.agent.Native", "sendFds")]
pub fn send_fds_native<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    socket_path: JString<'local>,
    fds: JIntArray<'local>,
) -> jint {
    env.with_env(|env| -> jni::errors::Result<jint> { send_fds_java(env, &socket_path, &fds) })
        .resolve::<ThrowRuntimeExAndDefault>()
}

/// Returns as soon as it has thrown: JNI allows almost no call while an exception is pending
/// (under -Xcheck:jni such a call is fatal), and the value returned then is ignored by Java.
fn send_fds_java(env: &mut Env<'_>, socket_path: &JString<'_>, fds: &JIntArray<'_>) -> jni::errors::Result<jint> {
    if socket_path.is_null() || fds.is_null() {
        env.throw_new(
            jni_str!("java/lang/NullPointerException"),
            jni_str!("sendFds: socketPath and fds must not be null"),
        )?;
        return Ok(0);
    }
    let path = socket_path.try_to_string(env)?;
    let len = fds.len(env)?;
    if len > MAX_FDS {
        let msg = JNIString::from(format!("sendFds takes 1 to {MAX_FDS} descriptors, not {len}"));
        env.throw_new(jni_str!("java/lang/IllegalArgumentException"), msg)?;
        return Ok(0);
    }
    let mut buf = vec![0 as jint; len];
    fds.get_region(env, 0, &mut buf)?;
    match send_fds(Path::new(OsStr::from_bytes(path.as_bytes())), &buf) {
        Ok(n) => Ok(n as jint),
        Err(SendError::Argument(m)) => {
            env.throw_new(jni_str!("java/lang/IllegalArgumentException"), JNIString::from(m))?;
            Ok(0)
        }
        Err(SendError::Io(m)) => {
            env.throw_new(jni_str!("java/io/IOException"), JNIString::from(m))?;
            Ok(0)
        }
    }
}

/// `static native long[] fence(int[] fds, long[] inodes)`: three numbers per descriptor,
/// [`fence::Outcome::encode`].
#[jni_mangle("dev.jhot.agent.Native", "fence")]
pub fn fence_native<'local>(
    mut env: EnvUnowned<'local>,
    _class: JClass<'local>,
    fds: JIntArray<'local>,
    inodes: JLongArray<'local>,
) -> JLongArray<'local> {
    env.with_env(|env| -> jni::errors::Result<JLongArray<'local>> { fence_java(env, &fds, &inodes) })
        .resolve::<ThrowRuntimeExAndDefault>()
}

fn fence_java<'local>(
    env: &mut Env<'local>,
    fds: &JIntArray<'_>,
    inodes: &JLongArray<'_>,
) -> jni::errors::Result<JLongArray<'local>> {
    if fds.is_null() || inodes.is_null() {
        env.throw_new(jni_str!("java/lang/NullPointerException"), jni_str!("fence: fds and inodes must not be null"))?;
        return Ok(JLongArray::null());
    }
    let (n, m) = (fds.len(env)?, inodes.len(env)?);
    if n != m || n > MAX_FDS {
        let msg =
            JNIString::from(format!("fence takes up to {MAX_FDS} descriptors with one inode each, not {n} and {m}"));
        env.throw_new(jni_str!("java/lang/IllegalArgumentException"), msg)?;
        return Ok(JLongArray::null());
    }
    let mut fd_buf = vec![0 as jint; n];
    fds.get_region(env, 0, &mut fd_buf)?;
    let mut ino_buf = vec![0 as jlong; n];
    inodes.get_region(env, 0, &mut ino_buf)?;
    let inos: Vec<u64> = ino_buf.iter().map(|&i| i as u64).collect();
    let out: Vec<jlong> = fence::fence_all(&fd_buf, &inos).into_iter().flat_map(|o| o.encode()).collect();
    let arr = env.new_long_array(out.len())?;
    arr.set_region(env, 0, &out)?;
    Ok(arr)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::IoSliceMut;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixListener;

    fn listener(tag: &str) -> (UnixListener, std::path::PathBuf, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("jhot-jni-unit-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir(&dir).unwrap();
        let path = dir.join("s.sock");
        (UnixListener::bind(&path).unwrap(), path, dir)
    }

    #[test]
    fn sends_the_count_and_the_descriptors() {
        let (l, path, dir) = listener("ok");
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let fds = [file.as_raw_fd(), 2];
        assert_eq!(send_fds(&path, &fds), Ok(2));
        let (conn, _) = l.accept().unwrap();
        let mut payload = [0u8; 8];
        let mut space = [MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(MAX_FDS))];
        let mut control = net::RecvAncillaryBuffer::new(&mut space);
        let got = net::recvmsg(&conn, &mut [IoSliceMut::new(&mut payload)], &mut control, net::RecvFlags::CMSG_CLOEXEC)
            .unwrap();
        assert_eq!(got.bytes, 4);
        assert_eq!(u32::from_le_bytes(payload[..4].try_into().unwrap()), 2);
        let mut received: Vec<OwnedFd> = Vec::new();
        for m in control.drain() {
            if let net::RecvAncillaryMessage::ScmRights(fds) = m {
                received.extend(fds);
            }
        }
        assert_eq!(received.len(), 2);
        let (a, b) = (rustix::fs::fstat(&received[0]).unwrap(), rustix::fs::fstat(&file).unwrap());
        assert_eq!((a.st_dev, a.st_ino), (b.st_dev, b.st_ino));
        // The sender closed its end: nothing more follows.
        assert_eq!(net::recv(&conn, &mut payload, net::RecvFlags::empty()).unwrap().0, 0);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rejects_bad_descriptors_and_counts() {
        let (_l, path, dir) = listener("bad");
        match send_fds(&path, &[0, 1_000_000]) {
            Err(SendError::Io(m)) => assert!(m.contains("fd 1000000") && m.contains("Bad file descriptor"), "{m}"),
            r => panic!("{r:?}"),
        }
        assert!(matches!(send_fds(&path, &[-1]), Err(SendError::Io(m)) if m.contains("fd -1")));
        assert!(matches!(send_fds(&path, &[1; 33]), Err(SendError::Argument(_))));
        assert!(matches!(send_fds(&path, &[]), Err(SendError::Argument(_))));
        assert_eq!(send_fds(&path, &[1; 32]), Ok(32));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn says_what_it_was_doing_when_connecting_fails() {
        match send_fds(Path::new("/nonexistent/jhot.sock"), &[1]) {
            Err(SendError::Io(m)) => {
                assert!(m.starts_with("connecting to /nonexistent/jhot.sock: No such file"), "{m}")
            }
            r => panic!("{r:?}"),
        }
    }
}
