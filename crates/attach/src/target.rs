//! One JVM process as seen from the host: who owns it, where its files are, how to reach it.

use std::fs;
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::AttachError;
use crate::hsperf;
use crate::procfs::{self, JvmFlags, VmKind};

/// A HotSpot JVM that jhot may attach to, as found by [`Target::open`]. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Target {
    /// The pid on the host (for `kill` and `/proc`).
    pub pid: u32,
    /// The pid as the JVM sees it, used in its file names; differs from `pid` in a container.
    pub nspid: u32,
    /// Effective uid and gid: the JVM trusts files and peers with these (or root).
    pub euid: u32,
    pub egid: u32,
    /// The owner's user name, from the host's `/etc/passwd`, else the target's (container).
    pub user: Option<String>,
    pub kind: VmKind,
    /// Attach-related options the JVM was started with.
    pub flags: JvmFlags,
    /// Field 22 of `/proc/<pid>/stat` (clock ticks after boot): with `pid`, it names this
    /// process even after the pid is reused. See [`process_alive`].
    pub start_time: u64,
    /// `java.version`, when the JVM publishes perf data (most do; `-XX:-UsePerfData` does not).
    pub java_version: Option<String>,
    /// The target's `/tmp` as shown in messages.
    tmp: PathBuf,
    /// The same directory, open: resolved once inside the target's root, so that what a tenant
    /// plants there (an absolute symlink) can never lead to the host.
    tmp_fd: Arc<OwnedFd>,
}

/// True while process `pid` that started at `start_time` (see [`Target::start_time`]) runs:
/// false once it has exited, is a zombie, or its pid belongs to a newer process.
pub fn process_alive(pid: u32, start_time: u64) -> bool {
    procfs::read_stat(pid).is_ok_and(|s| s.is_running() && s.start_ticks == start_time)
}

/// A pidfd for the process `pid` that started at `start_time`; `Ok(None)` when the pid names no
/// such process (any more). The start time is checked after the pidfd is open, so from then on the
/// pidfd names the process that was checked, whatever happens to the pid: signal through it.
pub fn pidfd_of(pid: u32, start_time: u64) -> io::Result<Option<OwnedFd>> {
    // A pid that does not fit a positive i32 would address a process group.
    let Some(raw) = i32::try_from(pid).ok().filter(|&p| p > 0).and_then(rustix::process::Pid::from_raw) else {
        return Ok(None);
    };
    let fd = match rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::SRCH) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    Ok(process_alive(pid, start_time).then_some(fd))
}

impl Target {
    /// Inspects process `pid` (a host pid) and checks that jhot can attach to it.
    ///
    /// Nothing is sent to the process here.
    pub fn open(pid: u32) -> Result<Target, AttachError> {
        let status = procfs::read_status(pid).map_err(|e| not_found_or(pid, e, "read the process status"))?;
        let stat = procfs::read_stat(pid).map_err(|e| not_found_or(pid, e, "read the process stat"))?;
        if !stat.is_running() {
            return Err(AttachError::NoSuchProcess { pid });
        }
        check_credentials(pid, status.euid, status.egid)?;

        let cmdline = procfs::read_cmdline(pid).map_err(|e| not_found_or(pid, e, "read the command line"))?;
        let user = procfs::user_name(status.euid).or_else(|| procfs::user_name_in(pid, status.euid));
        let perf = hsperf::find(pid, status.nspid, status.euid, user.as_deref())
            .and_then(|p| hsperf::read_for_process(p, stat.start_ticks));
        // HotSpot's perf data name the VM (OpenJ9 writes none). Only without them is the memory
        // map read for the VM library: it is two lines per thread, generated under the process's
        // memory-map lock, and was the largest cost of jhot's own in a warm command.
        let kind = if perf.as_ref().is_some_and(is_hotspot) {
            VmKind::HotSpot
        } else {
            let (kind, vm_lib) = procfs::read_maps(pid).map_err(|e| not_found_or(pid, e, "read the memory map"))?;
            match kind {
                VmKind::HotSpot => kind,
                VmKind::OpenJ9 => {
                    let vm = vm_lib.map_or_else(|| "OpenJ9".to_string(), |lib| format!("OpenJ9 ({lib})"));
                    return Err(AttachError::NotHotSpot { pid, vm });
                }
                VmKind::NotJvm | VmKind::Unknown => {
                    return Err(AttachError::NotAJvm { pid, exe: exe_name(pid, &cmdline, &status.name) });
                }
            }
        };

        let (tmp, tmp_fd) = tmp_dir(pid)?;
        // The JVM's own record of its options is preferred to the command line (it includes
        // @argfiles, environment variables, -XX:Flags= files), and gives the Java version.
        let (flags, java_version) = match perf {
            Some(d) => (d.jvm_flags(), d.str("java.property.java.version").map(std::borrow::Cow::into_owned)),
            None => (procfs::read_flags(pid, &cmdline), None),
        };
        let target = Target {
            pid,
            nspid: status.nspid,
            euid: status.euid,
            egid: status.egid,
            user,
            kind,
            flags,
            java_version,
            start_time: stat.start_ticks,
            tmp,
            tmp_fd: Arc::new(tmp_fd),
        };
        tracing::debug!(?target, "attach target");
        Ok(target)
    }

    /// The target's root directory: its mount namespace, seen from here.
    pub fn root(&self) -> PathBuf {
        procfs::proc_dir(self.pid).join("root")
    }

    /// The target's current directory, where the JVM looks for the attach trigger first.
    pub fn cwd(&self) -> PathBuf {
        procfs::proc_dir(self.pid).join("cwd")
    }

    /// The target's `/tmp` (HotSpot hard-codes `/tmp`, whatever `java.io.tmpdir` says).
    pub fn tmp(&self) -> &Path {
        &self.tmp
    }

    /// The target's `/tmp`, open (see the field).
    pub fn tmp_fd(&self) -> BorrowedFd<'_> {
        self.tmp_fd.as_fd()
    }

    /// The attach listener's socket, `<tmp>/.java_pid<nspid>`, for messages.
    pub fn socket_path(&self) -> PathBuf {
        self.tmp.join(self.socket_name())
    }

    fn socket_name(&self) -> String {
        format!(".java_pid{}", self.nspid)
    }

    /// A path to connect to the attach socket through the open `/tmp`, once the socket is shown
    /// to be the JVM's: a socket (not a link), owned by the JVM's uid, mode 0600 — what the JDK's
    /// own client checks. `Ok(None)`: there is no socket yet.
    pub fn attach_socket(&self) -> Result<Option<PathBuf>, AttachError> {
        match crate::safe_fs::owned_socket(self.tmp_fd(), &self.socket_name(), self.euid) {
            Ok(path) => Ok(Some(path)),
            Err(crate::safe_fs::SocketProblem::Missing(_)) => Ok(None),
            Err(crate::safe_fs::SocketProblem::Unsafe(reason)) => Err(match self.leftover_owner() {
                Some((owner, older_s)) => AttachError::LeftoverSocket {
                    pid: self.pid,
                    socket: self.socket_path(),
                    owner,
                    jvm_uid: self.euid,
                    older_s,
                },
                None => AttachError::UnsafeSocket { pid: self.pid, socket: self.socket_path(), reason },
            }),
        }
    }

    /// The owner of another user's socket at the JVM's socket path, and how many seconds before
    /// the JVM started it was made, if it was made at least a second before: an earlier process
    /// with this pid (killed, so it could not remove it) left it, and the JVM could not remove it
    /// at start-up as it does its own user's (the sticky `/tmp`). It only changes what the
    /// refusal says: the dates are the file owner's to set.
    fn leftover_owner(&self) -> Option<(u32, u64)> {
        let st = crate::safe_fs::stat_nofollow(self.tmp_fd(), &self.socket_name()).ok()?;
        let made_ms = u64::try_from(st.st_mtime).ok()?.checked_mul(1000)?;
        let started_ms = procfs::start_ms(self.start_time)?;
        let older_ms = started_ms.checked_sub(made_ms)?;
        (st.st_uid != self.euid && older_ms >= 1000).then_some((st.st_uid, older_ms / 1000))
    }

    /// Removes the JVM's own attach socket (a socket owned by its uid, mode 0600; anything else
    /// stays), for a JVM about to be killed, which cannot remove it then. Left behind, it keeps a
    /// later JVM of another user that gets this pid from starting its attach listener (see
    /// [`AttachError::LeftoverSocket`]). `Ok(false)`: there was none.
    pub fn remove_attach_socket(&self) -> io::Result<bool> {
        match crate::safe_fs::owned_socket(self.tmp_fd(), &self.socket_name(), self.euid) {
            Ok(_) => {
                rustix::fs::unlinkat(self.tmp_fd(), self.socket_name(), rustix::fs::AtFlags::empty())?;
                Ok(true)
            }
            Err(_) => Ok(false),
        }
    }

    /// True while this very process runs: a recycled pid has a different start time.
    pub fn is_alive(&self) -> bool {
        process_alive(self.pid, self.start_time)
    }

    /// True if the process is gone now or within `wait`. A dying process closes its sockets
    /// before /proc shows it gone, so a refused or dropped connection asks this before it is
    /// reported as anything else.
    pub fn exits_within(&self, wait: std::time::Duration) -> bool {
        let deadline = std::time::Instant::now() + wait;
        loop {
            if !self.is_alive() {
                return true;
            }
            if std::time::Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    /// True if the JVM was started with -XX:+EnableDynamicAgentLoading (JDK 21+ then loads
    /// agents without printing the JEP 451 warning).
    pub fn dynamic_agent_loading_flag(&self) -> bool {
        self.flags.dynamic_agent_loading == Some(true)
    }

    /// True if something stands where the JVM's attach socket would be (nothing is sent to the
    /// JVM, and nothing is followed: whether it is the JVM's is [`Target::attach_socket`]'s
    /// question).
    pub fn listener_running(&self) -> bool {
        crate::safe_fs::stat_nofollow(self.tmp_fd(), &self.socket_name()).is_ok()
    }

    /// True if SIGQUIT would reach the JVM's handler (read now: a starting JVM installs it late).
    pub(crate) fn catches_sigquit(&self) -> io::Result<bool> {
        procfs::read_status(self.pid).map(|s| s.catches_sigquit())
    }

    /// Time since the process started.
    pub fn age(&self) -> Option<std::time::Duration> {
        procfs::age(self.start_time)
    }
}

/// The JVM trusts a peer with its own euid and egid, or root (SO_PEERCRED). Root is handled by
/// switching credentials on a thread (see `creds`); anyone else must match exactly.
fn check_credentials(pid: u32, target_uid: u32, target_gid: u32) -> Result<(), AttachError> {
    let (our_euid, our_egid) = (rustix::process::geteuid().as_raw(), rustix::process::getegid().as_raw());
    if our_euid == 0 || (our_euid == target_uid && our_egid == target_gid) {
        return Ok(());
    }
    Err(AttachError::PermissionDenied { pid, target_uid, target_gid, our_euid, our_egid })
}

/// Perf data written by HotSpot: they name its VM (an OpenJ9 build that wrote such a file would
/// say so in the same place).
fn is_hotspot(d: &hsperf::PerfData) -> bool {
    d.str("java.property.java.vm.name").is_some_and(|vm| !vm.contains("J9"))
}

/// The target's `/tmp`, opened inside its root (`openat2` with `RESOLVE_IN_ROOT`): a `/tmp` that a
/// container made a link to `/tmp` or `/` resolves inside the container.
fn tmp_dir(pid: u32) -> Result<(PathBuf, OwnedFd), AttachError> {
    use rustix::fs::{Mode, OFlags};
    let shown = procfs::proc_dir(pid).join("root/tmp");
    match crate::safe_fs::target_tmp(pid) {
        Ok(fd) => Ok((shown, fd)),
        // /proc/<pid>/root needs ptrace-level access (e.g. denied under systemd hardening, or for
        // a non-dumpable process of our own user): such a process shares our mount namespace in
        // practice, and every socket found there is checked for its peer anyway.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
            tracing::debug!(path = %shown.display(), "target root not accessible, using /tmp");
            let fd = rustix::fs::open("/tmp", OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| AttachError::io("cannot open /tmp", e.into()))?;
            Ok((PathBuf::from("/tmp"), fd))
        }
        Err(e)
            if e.raw_os_error() == Some(libc::ESRCH)
                || e.kind() == io::ErrorKind::NotFound && !procfs::proc_dir(pid).exists() =>
        {
            Err(AttachError::NoSuchProcess { pid })
        }
        Err(e) => Err(AttachError::io(
            format!("cannot open the /tmp of process {pid} inside its root ({})", shown.display()),
            e,
        )),
    }
}

fn exe_name(pid: u32, cmdline: &[String], comm: &str) -> String {
    fs::read_link(procfs::proc_dir(pid).join("exe"))
        .map(|p| p.display().to_string())
        .ok()
        .or_else(|| cmdline.first().cloned())
        .unwrap_or_else(|| comm.to_string())
}

fn not_found_or(pid: u32, e: io::Error, what: &str) -> AttachError {
    // ESRCH: the process died between opening its /proc directory and reading the file.
    if e.kind() == io::ErrorKind::NotFound || e.raw_os_error() == Some(libc::ESRCH) {
        AttachError::NoSuchProcess { pid }
    } else {
        AttachError::io(format!("cannot {what} of process {pid} (/proc/{pid})"), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_test_process_is_not_a_jvm() {
        let pid = std::process::id();
        match Target::open(pid) {
            Err(AttachError::NotAJvm { pid: p, exe }) => assert!(p == pid && !exe.is_empty()),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn missing_process() {
        assert!(matches!(Target::open(0), Err(AttachError::NoSuchProcess { pid: 0 })));
    }

    #[test]
    fn alive_needs_the_same_start_time() {
        let pid = std::process::id();
        let start = procfs::read_stat(pid).unwrap().start_ticks;
        assert!(process_alive(pid, start));
        assert!(!process_alive(pid, start + 1));
    }
}
