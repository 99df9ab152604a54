//! `cmd | local command` and `cmd > file`: while the jhot command runs, this process's stdout is
//! the write end of a pipe into `/bin/sh -c TAIL`; then it is put back and the local command is
//! waited for. Everything a command prints goes through fd 1, so no command needs to know.

use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::{Child, Command, Stdio};

pub struct Redirect {
    saved: OwnedFd,
    child: Child,
}

impl Redirect {
    pub fn start(tail: &str) -> std::io::Result<Redirect> {
        std::io::stdout().flush()?;
        let mut child = Command::new("/bin/sh").arg("-c").arg(tail).stdin(Stdio::piped()).spawn()?;
        let Some(pipe) = child.stdin.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::other("the local command has no stdin"));
        };
        // SAFETY: fcntl duplicates fd 1 into a new descriptor we own (close-on-exec, so no
        // process started meanwhile inherits it).
        let saved = unsafe { libc::fcntl(1, libc::F_DUPFD_CLOEXEC, 3) };
        if saved < 0 {
            let e = std::io::Error::last_os_error();
            drop(pipe);
            let _ = child.wait();
            return Err(e);
        }
        // SAFETY: `saved` was just returned by fcntl and is owned by nothing else.
        let saved = unsafe { OwnedFd::from_raw_fd(saved) };
        // SAFETY: dup2 onto fd 1 of a pipe end we hold; fd 1 is ours.
        if unsafe { libc::dup2(pipe.as_raw_fd(), 1) } < 0 {
            let e = std::io::Error::last_os_error();
            drop(pipe);
            let _ = child.wait();
            return Err(e);
        }
        crate::render::set_pipe_may_close(true);
        Ok(Redirect { saved, child })
    }

    /// Puts stdout back, lets the local command see the end of its input, and returns its exit
    /// code (128 + the signal if a signal ended it).
    pub fn finish(mut self) -> u8 {
        let _ = std::io::stdout().flush();
        // SAFETY: dup2 of our saved copy back onto fd 1; this closes the last write end of the
        // pipe in this process.
        unsafe { libc::dup2(self.saved.as_raw_fd(), 1) };
        crate::render::set_pipe_may_close(false);
        match self.child.wait() {
            Ok(status) => {
                use std::os::unix::process::ExitStatusExt;
                match (status.code(), status.signal()) {
                    (Some(c), _) => c.clamp(0, 255) as u8,
                    (None, Some(sig)) => (128 + sig).clamp(0, 255) as u8,
                    _ => 1,
                }
            }
            Err(_) => 1,
        }
    }
}
