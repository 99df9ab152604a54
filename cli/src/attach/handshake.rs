//! Starting a JVM's attach listener: trigger file + SIGQUIT, then wait for the socket.
//!
//! HotSpot starts its listener lazily. On SIGQUIT its signal thread looks for
//! `.attach_pid<nspid>` in the JVM's cwd, then in /tmp; if the file is there and owned by the
//! JVM's euid or root, it starts the listener instead of printing a thread dump. The socket
//! `/tmp/.java_pid<nspid>` then appears within a few milliseconds.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal};

use super::error::{AttachError, Step};
use super::target::{Target, is_socket};

/// First poll interval: the socket usually appears 1–3 ms after the signal.
const FIRST_POLL: Duration = Duration::from_micros(250);
const MAX_POLL: Duration = Duration::from_millis(10);
/// A JVM younger than this may not have installed its SIGQUIT handler yet; wait for it.
const STARTUP_GRACE: Duration = Duration::from_secs(10);

/// Makes sure the attach socket exists, starting the listener if needed; returns its path.
/// Must run with the target's credentials (see `creds`) so the trigger file is trusted.
pub fn ensure_listener(target: &Target, timeout: Duration) -> Result<PathBuf, AttachError> {
    let socket = target.socket_path();
    // Never signal a JVM whose listener runs: SIGQUIT would print a thread dump.
    if is_socket(&socket) {
        return Ok(socket);
    }
    let pid = target.pid;
    if target.flags.attach_disabled {
        return Err(AttachError::AttachDisabled { pid });
    }
    let start = Instant::now();
    let deadline = start + timeout;
    wait_for_sigquit_handler(target, &socket, deadline)?;
    if is_socket(&socket) {
        return Ok(socket);
    }

    let _trigger = Trigger::create(target)?;
    send_sigquit(target)?;
    let signalled = Instant::now();
    let mut resent = false;
    let mut pause = FIRST_POLL;
    loop {
        if is_socket(&socket) {
            tracing::debug!(
                pid,
                signal_to_socket_us = signalled.elapsed().as_micros() as u64,
                "attach listener started"
            );
            return Ok(socket);
        }
        if !target.is_alive() {
            return Err(AttachError::Exited {
                pid,
                step: Step::Listener,
            });
        }
        let now = Instant::now();
        if now >= deadline {
            return Err(AttachError::Timeout {
                pid,
                step: Step::Listener,
                waited_ms: millis(start.elapsed()),
            });
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

/// Returns once SIGQUIT would reach the JVM's handler (or the socket exists).
///
/// SIGQUIT's default action kills the process, so a JVM without the handler is never
/// signalled: with -Xrs it has none (its socket, created at startup, must have been deleted),
/// and a JVM that is still starting installs it a little later.
fn wait_for_sigquit_handler(
    target: &Target,
    socket: &Path,
    deadline: Instant,
) -> Result<(), AttachError> {
    let pid = target.pid;
    let no_listener = || AttachError::NoAttachListener {
        pid,
        socket: socket.to_path_buf(),
    };
    let young = target.age().is_some_and(|age| age < STARTUP_GRACE);
    let start = Instant::now();
    loop {
        let catches = target.catches_sigquit().map_err(|_| AttachError::Exited {
            pid,
            step: Step::SignalHandlers,
        })?;
        if catches || is_socket(socket) {
            return Ok(());
        }
        if !young || target.flags.reduce_signal_usage {
            return Err(no_listener());
        }
        if !target.is_alive() {
            return Err(AttachError::Exited {
                pid,
                step: Step::SignalHandlers,
            });
        }
        if Instant::now() >= deadline {
            return Err(AttachError::Timeout {
                pid,
                step: Step::SignalHandlers,
                waited_ms: millis(start.elapsed()),
            });
        }
        thread::sleep(Duration::from_millis(5));
    }
}

fn send_sigquit(target: &Target) -> Result<(), AttachError> {
    let pid = target.pid;
    // A recycled pid must not receive the signal: it is probably not a JVM.
    if !target.is_alive() {
        return Err(AttachError::Exited {
            pid,
            step: Step::Listener,
        });
    }
    // A pid that does not fit a positive i32 would address a process group in kill(2).
    let raw = i32::try_from(pid)
        .ok()
        .filter(|&p| p > 0)
        .and_then(Pid::from_raw)
        .ok_or(AttachError::NoSuchProcess { pid })?;
    rustix::process::kill_process(raw, Signal::QUIT).map_err(|e| match e {
        rustix::io::Errno::SRCH => AttachError::Exited {
            pid,
            step: Step::Listener,
        },
        e => AttachError::io(format!("cannot send SIGQUIT to process {pid}"), e.into()),
    })
}

/// The `.attach_pid<nspid>` file; removed when dropped, whatever happened in between.
struct Trigger {
    path: PathBuf,
}

impl Trigger {
    /// Creates the trigger in the JVM's cwd, else in its /tmp.
    fn create(target: &Target) -> Result<Trigger, AttachError> {
        let name = format!(".attach_pid{}", target.nspid);
        // Not canonicalized: /proc/<pid>/cwd must stay a path through the target's namespace.
        let in_cwd = target.cwd().join(&name);
        let in_tmp = target.tmp().join(&name);
        let created = create_trusted(&in_cwd, target.euid)
            .map(|()| in_cwd.clone())
            .or_else(|e| {
                tracing::debug!(path = %in_cwd.display(), error = %e, "cannot use the cwd for the trigger");
                create_trusted(&in_tmp, target.euid).map(|()| in_tmp.clone())
            });
        match created {
            Ok(path) => {
                tracing::debug!(path = %path.display(), "attach trigger created");
                Ok(Trigger { path })
            }
            Err(e) => Err(AttachError::io(
                format!(
                    "cannot create the attach trigger {} (nor {})",
                    in_tmp.display(),
                    in_cwd.display()
                ),
                e,
            )),
        }
    }
}

impl Drop for Trigger {
    fn drop(&mut self) {
        if let Err(e) = fs::remove_file(&self.path) {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove the attach trigger file");
        }
    }
}

/// Creates `path` exclusively and checks that the JVM will trust its owner. Some mounted file
/// systems (NFS root squash, FUSE) give new files another owner; such a file is removed.
fn create_trusted(path: &Path, jvm_euid: u32) -> io::Result<()> {
    let file: File = match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o660)
        .open(path)
    {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            // Left by a client that crashed, or in use by one attaching right now: either way
            // the JVM accepts it if its owner is right. Like the JDK's client, we remove it
            // afterwards: a stale trigger would turn a later `kill -3` into a listener start.
            let owner = fs::metadata(path)?.uid();
            return if trusted(owner, jvm_euid) {
                Ok(())
            } else {
                Err(wrong_owner(owner, jvm_euid))
            };
        }
        Err(e) => return Err(e),
    };
    let owner = file.metadata()?.uid();
    if trusted(owner, jvm_euid) {
        return Ok(());
    }
    drop(file);
    let _ = fs::remove_file(path);
    Err(wrong_owner(owner, jvm_euid))
}

/// HotSpot's `matches_effective_uid_or_root`.
fn trusted(owner: u32, jvm_euid: u32) -> bool {
    owner == jvm_euid || owner == 0
}

fn wrong_owner(owner: u32, jvm_euid: u32) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!("file is owned by uid {owner}; the JVM (uid {jvm_euid}) would ignore it"),
    )
}

fn millis(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}
