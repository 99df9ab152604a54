//! The namespaces and root of an old process that runs in a container, held open so that the new
//! process starts inside the same ones, from the host: mount, pid, network, UTS, IPC and cgroup
//! namespaces, the same root directory (`/proc/<pid>/root`) and working directory.
//!
//! Where each is entered, and why there:
//! * pid: `setns(CLONE_NEWPID)` only changes the namespace of the caller's future children, and
//!   only for the calling thread. `spawn` forks from a thread of its own that entered it first, so
//!   the child is in the container (a pid there, `LISTEN_PID` right) and still a direct child of
//!   jhot (waitpid and pidfds work), and no other thread of jhot is affected.
//! * mount: refused by the kernel for a multithreaded caller (a shared `fs_struct`), so the forked
//!   child enters it, then `fchdir` to the old process's root (opened here, before fork) and
//!   `chroot(".")`: a runtime's `pivot_root` or a plain chroot give the same root. The working
//!   directory is the old process's, also through a descriptor (never a path resolved on the host).
//! * ipc, uts, net, cgroup: in the child too, the cgroup namespace after the cgroup join
//!   (`context`).
//!
//! Every descriptor is opened while the old process is known to live; a held namespace stays
//! valid even if every process in it exits, except a pid namespace without its init, where fork
//! fails (ENOMEM) and the replacement ends before anything started.
//!
//! Paths the new process is given (its program, the shim) are the container's view; jhot checks
//! them through the old process's root with `openat2(RESOLVE_IN_ROOT)` (`safe_fs`), never by
//! following a link the container controls on the host.

use std::ffi::OsString;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use jhot_attach::{procfs, safe_fs};
use rustix::fs::{Mode, OFlags};

use super::TakeoverError;

/// The kinds entered in the child, in this order (the mount namespace last: after it, only the
/// container's files are visible).
const IN_CHILD: [(&str, libc::c_int); 5] = [
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("mnt", libc::CLONE_NEWNS),
];

/// The child's failure codes for [`Namespaces`] (see `spawn`).
pub const STEP_SETNS: i32 = 20;
pub const STEP_ROOT: i32 = 40;
pub const STEP_CWD: i32 = 41;

/// What the new process must enter to run where the old one runs; empty for a process beside jhot.
pub struct Namespaces {
    pub pid: u32,
    /// Entered in the child, in [`IN_CHILD`] order: only the ones that differ from jhot's.
    in_child: Vec<(&'static str, libc::c_int, OwnedFd)>,
    /// Entered by the forking thread before fork.
    pidns: Option<OwnedFd>,
    /// The old process's root and working directory (`O_PATH`), when its root is not jhot's.
    root: Option<(OwnedFd, OwnedFd)>,
}

fn differs(pid: u32, kind: &str) -> Result<bool, TakeoverError> {
    let theirs = procfs::read_ns(pid, kind).map_err(|e| TakeoverError::Inspect {
        pid,
        what: format!("its {kind} namespace"),
        source: e,
    })?;
    // A kind this kernel does not have (no cgroup namespaces before 4.6) is one namespace for all.
    match procfs::read_own_ns(kind) {
        Ok(ours) => Ok(ours != theirs),
        Err(_) => Ok(false),
    }
}

fn open_dir(path: &Path) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?)
}

fn same_file(a: BorrowedFd<'_>, b: BorrowedFd<'_>) -> bool {
    match (rustix::fs::fstat(a), rustix::fs::fstat(b)) {
        (Ok(x), Ok(y)) => (x.st_dev, x.st_ino) == (y.st_dev, y.st_ino),
        _ => false,
    }
}

impl Namespaces {
    /// Opens the namespaces of `pid` that are not jhot's, and its root and working directory when
    /// its root is not jhot's.
    pub fn of(pid: u32) -> Result<Namespaces, TakeoverError> {
        Self::open(pid, true)
    }

    /// As [`Namespaces::of`], also for a container's PID 1: for a helper process (`jad`, `mc`) that
    /// may end with the container, where a replacement must not.
    pub fn of_helper(pid: u32) -> Result<Namespaces, TakeoverError> {
        Self::open(pid, false)
    }

    fn open(pid: u32, refuse_init: bool) -> Result<Namespaces, TakeoverError> {
        let inspect = |what: &str, e: std::io::Error| TakeoverError::Inspect { pid, what: what.to_string(), source: e };
        if differs(pid, "user")? {
            return Err(TakeoverError::Usage(format!(
                "pid {pid} runs in another user namespace (a rootless container); jhot cannot start a process in it \
                 from outside: run jhot inside the container (or as `jhot run`, its PID 1)"
            )));
        }
        let mut in_child = Vec::new();
        for (kind, flag) in IN_CHILD {
            if differs(pid, kind)? {
                let fd = procfs::open_ns(pid, kind).map_err(|e| inspect(&format!("its {kind} namespace"), e))?;
                in_child.push((kind, flag, OwnedFd::from(fd)));
            }
        }
        // The kernel kills every process of a pid namespace when its init exits: the new process
        // would die with the old one at the end of the drain (and jhot with them, when it runs in
        // that container too).
        let nspid = procfs::read_status(pid).map(|s| s.nspid).map_err(|e| inspect("its status", e))?;
        if nspid == 1 && refuse_init {
            return Err(TakeoverError::Usage(format!(
                "pid {pid} is PID 1 of its container: when it exits the kernel ends every process of the container, \
                 the new one too. Start the JVM under `jhot run` (as the container's PID 1) and run jhot replace \
                 against the JVM; nothing was changed"
            )));
        }
        let pidns = if differs(pid, "pid")? {
            Some(OwnedFd::from(procfs::open_ns(pid, "pid").map_err(|e| inspect("its pid namespace", e))?))
        } else {
            None
        };
        if differs(pid, "time").unwrap_or(false) {
            tracing::warn!(pid, "the old process is in another time namespace; the new one is not");
        }
        let root = open_dir(&procfs::proc_dir(pid).join("root")).map_err(|e| inspect("its root directory", e))?;
        let own_root = open_dir(Path::new("/")).map_err(|e| TakeoverError::io("opening /", e))?;
        let mnt_differs = in_child.iter().any(|(k, _, _)| *k == "mnt");
        let root = if mnt_differs || !same_file(root.as_fd(), own_root.as_fd()) {
            let cwd = open_dir(&procfs::proc_dir(pid).join("cwd")).map_err(|e| inspect("its working directory", e))?;
            Some((root, cwd))
        } else {
            None
        };
        let ns = Namespaces { pid, in_child, pidns, root };
        if !ns.is_empty() {
            tracing::info!(pid, entered = ?ns.kinds(), chroot = ns.root.is_some(), "the new process starts in the old one's namespaces");
        }
        Ok(ns)
    }

    /// True when the old process runs beside jhot (nothing to enter).
    pub fn is_empty(&self) -> bool {
        self.in_child.is_empty() && self.pidns.is_none() && self.root.is_none()
    }

    /// The kinds entered, for logs and reports.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut v: Vec<&'static str> = self.in_child.iter().map(|(k, _, _)| *k).collect();
        if self.pidns.is_some() {
            v.push("pid");
        }
        v
    }

    /// The network namespace, when it is not jhot's.
    pub fn net(&self) -> Option<BorrowedFd<'_>> {
        self.in_child.iter().find(|(k, _, _)| *k == "net").map(|(_, _, f)| f.as_fd())
    }

    /// The pid namespace the forking thread enters.
    pub fn pidns(&self) -> Option<BorrowedFd<'_>> {
        self.pidns.as_ref().map(|f| f.as_fd())
    }

    /// The old process's root, when the new process is chrooted into it: paths it is given are
    /// resolved inside it.
    pub fn root(&self) -> Option<BorrowedFd<'_>> {
        self.root.as_ref().map(|(r, _)| r.as_fd())
    }

    /// True when the child changes to the old process's working directory itself (so the path
    /// jhot read is not used).
    pub fn sets_cwd(&self) -> bool {
        self.root.is_some()
    }

    /// In the child: the namespaces, then the root and the working directory.
    ///
    /// # Safety
    /// Only in the forked (single-threaded) child; async-signal-safe system calls on descriptors
    /// opened before fork.
    pub unsafe fn enter(&self) -> Result<(), (i32, i32)> {
        let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
        for (i, (_, flag, fd)) in self.in_child.iter().enumerate() {
            // SAFETY: setns on a descriptor opened before fork.
            if unsafe { libc::setns(fd.as_raw_fd(), *flag) } != 0 {
                return Err((STEP_SETNS + i as i32, errno()));
            }
        }
        if let Some((root, cwd)) = &self.root {
            // SAFETY: fchdir/chroot on descriptors opened before fork and a static path.
            unsafe {
                if libc::fchdir(root.as_raw_fd()) != 0 || libc::chroot(c".".as_ptr()) != 0 {
                    return Err((STEP_ROOT, errno()));
                }
                if libc::fchdir(cwd.as_raw_fd()) != 0 {
                    return Err((STEP_CWD, errno()));
                }
            }
        }
        Ok(())
    }

    /// A failed replacement whose old process is gone too, in a pid namespace of its own: the
    /// container ended (its init exited and the kernel killed the rest, the new process too), which
    /// the generic "the new process ended … the old one kept serving" would misstate.
    pub fn explain(&self, e: TakeoverError, old_alive: bool) -> TakeoverError {
        match e {
            TakeoverError::NewExited { pid: new_pid, .. } | TakeoverError::OldGone { new_pid, .. }
                if self.pidns.is_some() && !old_alive =>
            {
                TakeoverError::ContainerGone { pid: self.pid, new_pid }
            }
            e => e,
        }
    }

    /// What a failure code from the child names.
    pub fn describe(&self, step: i32) -> Option<String> {
        let pid = self.pid;
        match step {
            s if (STEP_SETNS..STEP_SETNS + IN_CHILD.len() as i32).contains(&s) => {
                let (kind, _, _) = self.in_child.get((s - STEP_SETNS) as usize)?;
                Some(format!("entering the {kind} namespace of pid {pid}"))
            }
            STEP_ROOT => Some(format!("changing to the root directory of pid {pid}")),
            STEP_CWD => Some(format!("changing to the working directory of pid {pid}")),
            _ => None,
        }
    }
}

/// A TCP socket created in network namespace `netns` (a socket stays in the namespace it was
/// created in): made on a short-lived thread that entered it, so no thread of jhot changes
/// namespace.
pub fn tcp_socket_in(netns: BorrowedFd<'_>, v4: bool) -> std::io::Result<OwnedFd> {
    let raw = netns.as_raw_fd();
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: setns for this thread only, on a descriptor the caller holds.
            if unsafe { libc::setns(raw, libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let family = if v4 { rustix::net::AddressFamily::INET } else { rustix::net::AddressFamily::INET6 };
            Ok(rustix::net::socket_with(
                family,
                rustix::net::SocketType::STREAM,
                rustix::net::SocketFlags::CLOEXEC | rustix::net::SocketFlags::NONBLOCK,
                None,
            )?)
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the socket thread panicked")))
    })
}

/// Whether `path` names an executable regular file inside `root`, resolved there (links stay
/// inside it).
fn executable_in(root: BorrowedFd<'_>, path: &Path) -> bool {
    let Some(p) = path.to_str() else { return false };
    let Ok(fd) = safe_fs::open_in_root(root, p, OFlags::PATH) else { return false };
    rustix::fs::fstat(&fd).is_ok_and(|st| {
        rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile && st.st_mode & 0o111 != 0
    })
}

/// The program a replacement in a container runs, as the container sees it: the old process's
/// own executable when that path (read from the host) still names it inside the container, else
/// `argv0` resolved like execvp inside the container (its PATH, its working directory `cwd`).
pub fn program_in(
    ns: &Namespaces,
    root: BorrowedFd<'_>,
    exe: Option<&Path>,
    argv0: &Path,
    env: &[OsString],
    cwd: &Path,
) -> Option<PathBuf> {
    if let Some(exe) = exe
        && exe.is_absolute()
        && let Ok(real) = open_dir_or_file(&procfs::proc_dir(ns.pid).join("exe"))
        && let Some(inside) = exe.to_str().and_then(|p| safe_fs::open_in_root(root, p, OFlags::PATH).ok())
        && same_file(real.as_fd(), inside.as_fd())
    {
        return Some(exe.to_path_buf());
    }
    super::spawn::resolve_program_with(argv0, env, cwd, |p| executable_in(root, p))
}

/// True when process `pid` has another root than jhot (another mount namespace, or a chroot).
pub fn has_other_root(pid: u32) -> bool {
    let other_mnt = differs(pid, "mnt").unwrap_or(false);
    let root = open_dir(&procfs::proc_dir(pid).join("root"));
    let own = open_dir(Path::new("/"));
    match (root, own) {
        (Ok(r), Ok(o)) => other_mnt || !same_file(r.as_fd(), o.as_fd()),
        _ => other_mnt,
    }
}

/// For a process whose root is not jhot's (a container): whether `path`, as that process sees it,
/// is a regular file there (resolved inside its root). None when the process shares jhot's root.
/// An error when the process cannot be replaced in its namespaces at all (why is in it).
pub fn file_in_root_of(pid: u32, path: &Path) -> Result<Option<bool>, TakeoverError> {
    if !has_other_root(pid) {
        return Ok(None);
    }
    let root = safe_fs::proc_root(pid).map_err(|e| TakeoverError::Inspect {
        pid,
        what: "its root directory".into(),
        source: e,
    })?;
    let Some(p) = path.to_str().filter(|p| p.starts_with('/')) else { return Ok(Some(false)) };
    let is_file = safe_fs::open_in_root(root.as_fd(), p, OFlags::PATH).is_ok_and(|fd| {
        rustix::fs::fstat(&fd)
            .is_ok_and(|st| rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile)
    });
    Ok(Some(is_file))
}

/// For a process whose root is not jhot's: whether the host's file `host_path` is there at the
/// same path (a bind mount), so a command line naming it means the same file in the container.
/// None when the process shares jhot's root.
pub fn same_file_in_root_of(pid: u32, host_path: &Path) -> Option<bool> {
    if !has_other_root(pid) {
        return None;
    }
    let root = safe_fs::proc_root(pid).ok()?;
    let Some(p) = host_path.to_str().filter(|p| p.starts_with('/')) else { return Some(false) };
    let (Ok(inside), Ok(host)) = (safe_fs::open_in_root(root.as_fd(), p, OFlags::PATH), open_dir_or_file(host_path))
    else {
        return Some(false);
    };
    Some(same_file(inside.as_fd(), host.as_fd()))
}

fn open_dir_or_file(path: &Path) -> std::io::Result<OwnedFd> {
    Ok(rustix::fs::open(path, OFlags::PATH | OFlags::CLOEXEC, Mode::empty())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_process_needs_nothing() {
        let ns = Namespaces::of(std::process::id()).expect("own namespaces");
        assert!(ns.is_empty(), "{:?}", ns.kinds());
        assert!(ns.root().is_none() && ns.pidns().is_none());
    }

    #[test]
    fn programs_resolve_inside_a_root() {
        let ns = Namespaces { pid: std::process::id(), in_child: Vec::new(), pidns: None, root: None };
        let dir = tempfile::tempdir().expect("tmp");
        let bin = dir.path().join("usr/bin");
        std::fs::create_dir_all(&bin).expect("bin");
        std::fs::copy("/bin/sh", bin.join("java")).expect("copy");
        // A link that points at the host's /bin/sh by an absolute path resolves inside the root.
        std::os::unix::fs::symlink("/usr/bin/java", bin.join("link")).expect("link");
        std::os::unix::fs::symlink("/bin/sh", bin.join("sh")).expect("host link");
        let root = open_dir(dir.path()).expect("root");
        let env = vec![OsString::from("PATH=/nonexistent:/usr/bin")];
        let r = root.as_fd();
        assert_eq!(program_in(&ns, r, None, Path::new("java"), &env, Path::new("/")), Some("/usr/bin/java".into()));
        assert_eq!(program_in(&ns, r, None, Path::new("link"), &env, Path::new("/")), Some("/usr/bin/link".into()));
        assert_eq!(program_in(&ns, r, None, Path::new("sh"), &env, Path::new("/")), None, "/bin/sh is not in the root");
        assert_eq!(
            program_in(&ns, r, None, Path::new("bin/java"), &env, Path::new("/usr")),
            Some("/usr/bin/java".into())
        );
        // Our own executable is not inside this root.
        let exe = std::env::current_exe().expect("exe");
        assert_eq!(program_in(&ns, r, Some(&exe), Path::new("nothing"), &env, Path::new("/")), None);
    }

    fn children_of(parent: u32) -> Vec<u32> {
        std::fs::read_dir("/proc")
            .map(|d| {
                d.flatten()
                    .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
                    .filter(|&p| procfs::read_stat(p).is_ok_and(|s| s.ppid == parent))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The container's processes all exit after jhot opened its namespaces: the fork in its pid
    /// namespace fails, with a message that says why, and nothing starts. Needs root (unshare).
    #[test]
    fn a_pid_namespace_without_its_init_fails_the_spawn_clearly() {
        use std::os::fd::AsFd;
        if !rustix::process::geteuid().is_root() {
            eprintln!("skipped: needs root");
            return;
        }
        let mut unshare = std::process::Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "sh", "-c", "sleep 30 & exec sleep 31"])
            .spawn()
            .expect("unshare");
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let (init, member) = loop {
            let init = children_of(unshare.id()).first().copied();
            if let Some(member) = init.and_then(|i| children_of(i).first().copied()) {
                break (init.unwrap_or_default(), member);
            }
            assert!(std::time::Instant::now() < until, "the namespace did not start");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        let ns = Namespaces::of(member).expect("namespaces");
        assert_eq!(ns.kinds(), ["pid"]);
        // SAFETY: kill(2) of a process this test started.
        unsafe { libc::kill(init as i32, libc::SIGKILL) };
        let _ = unshare.wait();
        let out = std::fs::File::create("/dev/null").expect("null");
        let spec = super::super::spawn::Spec {
            namespaces: Some(&ns),
            ..super::super::spawn::test_spec("/bin/true", &["true"], out.as_fd())
        };
        let e = super::super::spawn::spawn(&spec).expect_err("no process can start there");
        assert!(e.to_string().contains("has no init process any more"), "{e}");
    }
}
