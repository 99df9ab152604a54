//! Running code as the target JVM's user.
//!
//! HotSpot trusts a trigger file owned by its euid (or root) and a peer whose euid and egid
//! both match its own (or root). Files jhot creates for the JVM should belong to the JVM's
//! user too. So when root attaches to another user's JVM, the work runs on a fresh thread
//! whose credentials are switched with the raw `setresgid`/`setresuid` syscalls: on Linux
//! these change only the calling thread (glibc's wrappers would broadcast the change to every
//! thread of the process). The thread ends afterwards, so the rest of jhot stays root.

use std::io;
use std::panic;
use std::thread;

use crate::error::AttachError;
use crate::target::Target;

/// Runs `f` with the target's effective uid and gid, on a dedicated thread when a switch is
/// needed, else inline. Fails with `PermissionDenied` (before running anything) when jhot is
/// not root and not the target's user.
pub fn as_target<R, F>(target: &Target, f: F) -> Result<R, AttachError>
where
    R: Send + 'static,
    F: FnOnce() -> R + Send + 'static,
{
    let (our_euid, our_egid) = (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw());
    let (uid, gid) = (target.euid, target.egid);
    if (our_euid, our_egid) == (uid, gid) {
        return Ok(f());
    }
    if our_euid != 0 {
        return Err(AttachError::PermissionDenied {
            pid: target.pid,
            target_uid: uid,
            target_gid: gid,
            our_euid,
            our_egid,
        });
    }
    let worker = thread::Builder::new()
        .name(format!("jhot-as-uid-{uid}"))
        .spawn(move || -> Result<R, AttachError> {
            become_thread(uid, gid)?;
            Ok(f())
        })
        .map_err(|e| AttachError::io("cannot start a thread to switch credentials", e))?;
    match worker.join() {
        Ok(result) => result,
        Err(payload) => panic::resume_unwind(payload),
    }
}

/// Drops this thread's supplementary groups, then sets its effective gid, then uid (after the
/// uid switch the thread may no longer change its groups). Without the first step the thread
/// would keep root's groups (gid 0 among them) while acting as the JVM's user, and could open
/// root-group files and sockets that user cannot. Real and saved ids stay root, which is
/// harmless: the thread ends soon.
fn become_thread(uid: u32, gid: u32) -> Result<(), AttachError> {
    const KEEP: libc::c_long = -1;
    // SAFETY: raw setgroups with an empty list reads no memory; unlike glibc's wrapper, the raw
    // syscall changes only this thread.
    let rc = unsafe { libc::syscall(libc::SYS_setgroups, 0 as libc::c_long, std::ptr::null::<libc::gid_t>()) };
    if rc != 0 {
        return Err(AttachError::io("cannot drop this thread's supplementary groups", io::Error::last_os_error()));
    }
    // SAFETY: raw setresgid/setresuid take three integer ids and touch no memory.
    let rc = unsafe { libc::syscall(libc::SYS_setresgid, KEEP, libc::c_long::from(gid), KEEP) };
    if rc != 0 {
        return Err(AttachError::io(format!("cannot switch this thread to gid {gid}"), io::Error::last_os_error()));
    }
    // SAFETY: as above.
    let rc = unsafe { libc::syscall(libc::SYS_setresuid, KEEP, libc::c_long::from(uid), KEEP) };
    if rc != 0 {
        return Err(AttachError::io(format!("cannot switch this thread to uid {uid}"), io::Error::last_os_error()));
    }
    tracing::debug!(uid, gid, "thread credentials switched to the target's");
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Needs root: the switch must stay on the worker thread.
    #[test]
    #[ignore = "needs root"]
    fn switch_is_per_thread() {
        assert_eq!(rustix::process::geteuid().as_raw(), 0);
        let inner = std::thread::spawn(|| {
            super::become_thread(65534, 65534).unwrap();
            (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw())
        })
        .join()
        .unwrap();
        assert_eq!(inner, (65534, 65534));
        // The worker had no groups left; the process keeps its own.
        let groups = std::thread::spawn(|| {
            super::become_thread(65534, 65534).unwrap();
            std::fs::read_to_string("/proc/thread-self/status").unwrap()
        })
        .join()
        .unwrap();
        let line = groups.lines().find(|l| l.starts_with("Groups:")).unwrap();
        assert_eq!(line.trim(), "Groups:", "{line}");
        assert_eq!(rustix::process::geteuid().as_raw(), 0);
        assert_eq!(rustix::process::getegid().as_raw(), 0);
    }
}
