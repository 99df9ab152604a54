//! Starting a JVM's attach listener: trigger file + SIGQUIT, then wait for the socket.
//!
//! HotSpot starts its listener lazily. On SIGQUIT its signal thread looks for
//! `.attach_pid<nspid>` in the JVM's cwd, then in /tmp; if the file is there and owned by the
//! JVM's euid or root, it starts the listener instead of printing a thread dump. The socket
//! `/tmp/.java_pid<nspid>` then appears within a few milliseconds.

use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rustix::fs::{self, AtFlags, Mode, OFlags};
use rustix::io::Errno;
use rustix::process::Signal;

use crate::error::{AttachError, Step};
use crate::target::Target;

/// First poll interval: the socket usually appears 1–3 ms after the signal.
const FIRST_POLL: Duration = Duration::from_micros(250);
const MAX_POLL: Duration = Duration::from_millis(10);
/// A JVM younger than this may not have installed its SIGQUIT handler yet; wait for it.
const STARTUP_GRACE: Duration = Duration::from_secs(10);

/// Makes sure the attach socket exists, starting the listener if needed; returns a path that
/// reaches it through the target's open `/tmp` (see [`Target::attach_socket`]: a socket that is
/// not the JVM's is refused, never connected to). Must run with the target's credentials (see
/// `creds`) so the trigger file is trusted.
pub fn ensure_listener(target: &Target, timeout: Duration) -> Result<PathBuf, AttachError> {
    let socket = target.socket_path();
    // Never signal a JVM whose listener runs: SIGQUIT would print a thread dump. Something else
    // standing there is refused rather than signalled around.
    if target.listener_running() {
        return found(target);
    }
    let pid = target.pid;
    if target.flags.attach_disabled {
        return Err(AttachError::AttachDisabled { pid });
    }
    let start = Instant::now();
    let deadline = start + timeout;
    wait_for_sigquit_handler(target, &socket, deadline)?;
    if target.listener_running() {
        return found(target);
    }

    let _trigger = Trigger::create(target)?;
    send_sigquit(target)?;
    let signalled = Instant::now();
    let mut resent = false;
    let mut pause = FIRST_POLL;
    loop {
        if target.listener_running() {
            tracing::debug!(
                pid,
                signal_to_socket_us = signalled.elapsed().as_micros() as u64,
                "attach listener started"
            );
            return found(target);
        }
        if !target.is_alive() {
            return Err(AttachError::Exited { pid, step: Step::Listener });
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(AttachError::Timeout { pid, step: Step::Listener, waited_ms: millis(start.elapsed()) });
        }
        // The JDK's own client sends a second signal halfway: the first may have been
        // coalesced with another SIGQUIT or arrived while the JVM was still booting.
        if !resent && now >= start + timeout / 2 {
            resent = true;
            tracing::debug!(pid, "no attach socket yet, sending SIGQUIT again");
            send_sigquit(target)?;
        }
        thread::sleep(pause.min(deadline - now));
        pause = (pause * 3 / 2).min(MAX_POLL);
    }
}

fn found(target: &Target) -> Result<PathBuf, AttachError> {
    target.attach_socket()?.ok_or(AttachError::Exited { pid: target.pid, step: Step::Listener })
}

/// Returns once SIGQUIT would reach the JVM's handler (or the socket exists).
///
/// SIGQUIT's default action kills the process, so a JVM without the handler is never
/// signalled: with -Xrs it has none (its socket, created at startup, must have been deleted),
/// and a JVM that is still starting installs it a little later.
fn wait_for_sigquit_handler(target: &Target, socket: &Path, deadline: Instant) -> Result<(), AttachError> {
    let pid = target.pid;
    let no_listener = || AttachError::NoAttachListener { pid, socket: socket.to_path_buf() };
    let young = target.age().is_some_and(|age| age < STARTUP_GRACE);
    let start = Instant::now();
    loop {
        let catches = target.catches_sigquit().map_err(|_| AttachError::Exited { pid, step: Step::SignalHandlers })?;
        if catches || target.listener_running() {
            return Ok(());
        }
        if !young || target.flags.reduce_signal_usage {
            return Err(no_listener());
        }
        if !target.is_alive() {
            return Err(AttachError::Exited { pid, step: Step::SignalHandlers });
        }
        if Instant::now() >= deadline {
            return Err(AttachError::Timeout { pid, step: Step::SignalHandlers, waited_ms: millis(start.elapsed()) });
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn send_sigquit(target: &Target) -> Result<(), AttachError> {
    let pid = target.pid;
    let exited = || AttachError::Exited { pid, step: Step::Listener };
    // A recycled pid must not receive the signal: it is probably not a JVM.
    let fd = crate::pidfd_of(pid, target.start_time).map_err(|_| exited())?.ok_or_else(exited)?;
    rustix::process::pidfd_send_signal(&fd, Signal::QUIT).map_err(|e| match e {
        Errno::SRCH => AttachError::Exited { pid, step: Step::Listener },
        e => AttachError::io(format!("cannot send SIGQUIT to process {pid}"), e.into()),
    })
}

/// The `.attach_pid<nspid>` file; removed when dropped, whatever happened in between.
///
/// It is created and removed relative to a handle on its directory: once the JVM has exited,
/// `/proc/<pid>/cwd` no longer resolves, but the handle still reaches the directory.
struct Trigger {
    dir: OwnedFd,
    name: String,
    path: PathBuf,
}

impl Trigger {
    /// Creates the trigger in the JVM's cwd, else in its /tmp.
    fn create(target: &Target) -> Result<Trigger, AttachError> {
        let name = format!(".attach_pid{}", target.nspid);
        // Not canonicalized: /proc/<pid>/cwd must stay a path through the target's namespace.
        let cwd = target.cwd();
        let foreign = |dir: &Path, owner| AttachError::ForeignTrigger {
            pid: target.pid,
            path: dir.join(&name),
            owner,
            jvm_uid: target.euid,
        };
        let cwd_fd = fs::open(&cwd, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty());
        match cwd_fd.map_err(CreateError::from).and_then(|fd| Trigger::create_in(fd, &cwd, &name, target.euid)) {
            Ok(trigger) => return Ok(trigger),
            // The JVM looks in /tmp only if its cwd has no trigger at all.
            Err(CreateError::Foreign(owner)) => return Err(foreign(&cwd, owner)),
            Err(CreateError::Io(e)) => {
                tracing::debug!(dir = %cwd.display(), error = %e, "cannot use the cwd for the trigger");
            }
        }
        let tmp_fd =
            rustix::io::dup(target.tmp_fd()).map_err(|e| AttachError::io("cannot duplicate a descriptor", e.into()))?;
        match Trigger::create_in(tmp_fd, target.tmp(), &name, target.euid) {
            Ok(trigger) => Ok(trigger),
            Err(CreateError::Foreign(owner)) => Err(foreign(target.tmp(), owner)),
            Err(CreateError::Io(e)) => {
                let path = target.tmp().join(&name);
                let context = format!("cannot create the attach trigger {} (nor one in the JVM's cwd)", path.display());
                Err(AttachError::io(context, e))
            }
        }
    }

    /// Creates `name` exclusively in the open directory `dir_fd` (shown as `dir`) and checks that
    /// the JVM will trust its owner.
    fn create_in(dir_fd: OwnedFd, dir: &Path, name: &str, jvm_euid: u32) -> Result<Trigger, CreateError> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::CLOEXEC;
        let owner = match fs::openat(&dir_fd, name, flags, Mode::from_raw_mode(0o660)) {
            Ok(file) => fs::fstat(&file)?.st_uid,
            // Left by a client that crashed, or in use by one attaching right now: the JVM
            // accepts it if its owner is right. Like the JDK's client, we remove it afterwards:
            // a stale trigger would turn a later `kill -3` into a listener start. Someone
            // else's file is not ours to remove, and it makes the JVM ignore the signal.
            Err(Errno::EXIST) => {
                let owner = fs::statat(&dir_fd, name, AtFlags::SYMLINK_NOFOLLOW)?.st_uid;
                if !trusted(owner, jvm_euid) {
                    return Err(CreateError::Foreign(owner));
                }
                owner
            }
            Err(e) => return Err(e.into()),
        };
        if !trusted(owner, jvm_euid) {
            // Some mounted file systems (NFS root squash, FUSE) give new files another owner.
            let _ = fs::unlinkat(&dir_fd, name, AtFlags::empty());
            return Err(CreateError::Io(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("new files here belong to uid {owner}; the JVM (uid {jvm_euid}) would ignore it"),
            )));
        }
        let path = dir.join(name);
        tracing::debug!(path = %path.display(), "attach trigger created");
        Ok(Trigger { dir: dir_fd, name: name.to_string(), path })
    }
}

enum CreateError {
    /// A trigger owned by a user the JVM does not trust is already there.
    Foreign(u32),
    Io(io::Error),
}

impl From<Errno> for CreateError {
    fn from(e: Errno) -> Self {
        CreateError::Io(e.into())
    }
}

impl Drop for Trigger {
    fn drop(&mut self) {
        if let Err(e) = fs::unlinkat(&self.dir, self.name.as_str(), AtFlags::empty()) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove the attach trigger file");
        }
    }
}

/// HotSpot's `matches_effective_uid_or_root`.
fn trusted(owner: u32, jvm_euid: u32) -> bool {
    owner == jvm_euid || owner == 0
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}
