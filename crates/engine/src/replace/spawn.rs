//! Starting a process with descriptors at fixed numbers (3, 4, … as systemd does) and `LISTEN_PID`
//! equal to its own pid. `std::process::Command` cannot do the second: the pid is only known after
//! fork, and Command builds the environment before. So this is a small fork/exec of our own: every
//! buffer is prepared before fork, and the child only makes async-signal-safe system calls.
//!
//! The child's steps, in order: the old process's execution context that must precede any
//! namespace change (cgroups, limits, oom_score_adj, priority, affinity: `context`), its
//! namespaces, root and working directory (`namespaces`), the capability bounding set, the
//! inherited descriptors, a new session, the user (setgroups, setgid, setuid: everything above
//! needs privileges this drops), then the umask and no_new_privs, and exec.

use std::ffi::{CString, OsString};
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

pub struct Spec<'a> {
    pub program: PathBuf,
    pub argv: Vec<OsString>,
    /// Without `LISTEN_PID`: spawn adds it.
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    /// Placed at 3, 4, … in this order, without close-on-exec.
    pub inherit: Vec<BorrowedFd<'a>>,
    /// None: /dev/null.
    pub stdin: Option<BorrowedFd<'a>>,
    pub stdout: BorrowedFd<'a>,
    pub stderr: BorrowedFd<'a>,
    /// (uid, gid, supplementary groups) to switch to; None keeps ours.
    pub creds: Option<(u32, u32, Vec<u32>)>,
    /// A new session: the process must not get the terminal's SIGHUP/SIGINT meant for jhot.
    pub setsid: bool,
    /// The old process's namespaces, root and working directory, when they are not ours.
    pub namespaces: Option<&'a super::namespaces::Namespaces>,
    /// The old process's execution context, where it differs from ours.
    pub context: Option<&'a super::context::Prepared>,
    /// Set `LISTEN_PID` (only when descriptors are passed).
    pub listen_pid: bool,
}

/// Starts the process; returns its pid once exec has succeeded.
///
/// With a pid namespace to enter, the fork happens on a thread of its own that entered it first
/// (`setns(CLONE_NEWPID)` applies to the calling thread's children only): no other thread of jhot
/// ever starts a process in the container by accident, and nothing has to be switched back.
pub fn spawn(spec: &Spec<'_>) -> std::io::Result<u32> {
    let Some(pidns) = spec.namespaces.and_then(|n| n.pidns()) else { return spawn_here(spec) };
    let pid = spec.namespaces.map(|n| n.pid).unwrap_or(0);
    std::thread::scope(|s| {
        s.spawn(|| {
            // SAFETY: setns on a descriptor we hold, for this thread only.
            if unsafe { libc::setns(pidns.as_raw_fd(), libc::CLONE_NEWPID) } != 0 {
                let e = std::io::Error::last_os_error();
                return Err(std::io::Error::new(e.kind(), format!("entering the pid namespace of pid {pid}: {e}")));
            }
            spawn_here(spec).map_err(|e| {
                if e.raw_os_error() == Some(libc::ENOMEM) {
                    std::io::Error::other(format!(
                        "the pid namespace of pid {pid} has no init process any more (every process of the container \
                         exited?): {e}"
                    ))
                } else {
                    e
                }
            })
        })
        .join()
        .unwrap_or_else(|_| Err(std::io::Error::other("the spawning thread panicked")))
    })
}

fn spawn_here(spec: &Spec<'_>) -> std::io::Result<u32> {
    let cstr = |s: &[u8]| {
        CString::new(s.to_vec()).map_err(|_| std::io::Error::other("a NUL byte in the command or environment"))
    };
    let program = cstr(spec.program.as_os_str().as_bytes())?;
    let argv: Vec<CString> = spec.argv.iter().map(|a| cstr(a.as_bytes())).collect::<Result<_, _>>()?;
    let mut env: Vec<CString> = spec.env.iter().map(|e| cstr(e.as_bytes())).collect::<Result<_, _>>()?;
    // Written by the child with its pid (ten digits fit any pid). Every access after this goes
    // through `lp`, the one raw pointer the environment array also holds.
    let mut listen_pid = Box::new(*b"LISTEN_PID=0000000000\0");
    let lp: *mut u8 = listen_pid.as_mut_ptr();
    let cwd = cstr(spec.cwd.as_os_str().as_bytes())?;
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    let mut env_ptrs: Vec<*const libc::c_char> = env.iter_mut().map(|e| e.as_ptr()).collect();
    if spec.listen_pid {
        env_ptrs.push(lp.cast_const().cast());
    }
    env_ptrs.push(std::ptr::null());
    let devnull = std::fs::OpenOptions::new().read(true).open("/dev/null")?;
    let stdin_fd = spec.stdin.map(|f| f.as_raw_fd()).unwrap_or(devnull.as_raw_fd());
    let sources: Vec<RawFd> = spec.inherit.iter().map(|f| f.as_raw_fd()).collect();
    let stdio = [stdin_fd, spec.stdout.as_raw_fd(), spec.stderr.as_raw_fd()];
    let groups: Vec<libc::gid_t> = spec.creds.as_ref().map(|c| c.2.clone()).unwrap_or_default();
    let namespaces = spec.namespaces.filter(|n| !n.is_empty());
    let context = spec.context.filter(|c| !c.is_empty());
    let chdir_by_path = !namespaces.is_some_and(|n| n.sets_cwd());

    let (err_r, err_w) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC)?;
    // SAFETY: the child only calls async-signal-safe functions on memory prepared above, then
    // execs or _exits.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: child side, see above.
        unsafe {
            let fail_with = |step: i32, e: i32| -> ! {
                let msg = [step, e];
                libc::write(err_w.as_raw_fd(), msg.as_ptr().cast(), 8);
                libc::_exit(127);
            };
            let fail = |step: i32| -> ! { fail_with(step, *libc::__errno_location()) };
            // Before any namespace change, and before the placement below can reuse the numbers
            // of the descriptors these steps hold.
            if let Some(c) = context
                && let Err((step, e)) = c.apply_before_namespaces()
            {
                fail_with(step, e);
            }
            if let Some(ns) = namespaces
                && let Err((step, e)) = ns.enter()
            {
                fail_with(step, e);
            }
            if let Some(c) = context
                && let Err((step, e)) = c.apply_before_credentials()
            {
                fail_with(step, e);
            }
            // Lift every source above the target range first, so placing one cannot clobber another.
            let floor = 3 + sources.len() as i32 + 3;
            let mut lifted = [0i32; 64];
            let n = sources.len().min(61);
            for (i, &src) in sources.iter().take(n).chain(stdio.iter()).enumerate() {
                let d = libc::fcntl(src, libc::F_DUPFD_CLOEXEC, floor);
                if d < 0 {
                    fail(2);
                }
                lifted[i] = d;
            }
            for (i, &fd) in lifted.iter().enumerate().take(n) {
                if libc::dup2(fd, 3 + i as i32) < 0 {
                    fail(3);
                }
            }
            for (k, target) in [0, 1, 2].into_iter().enumerate() {
                if libc::dup2(lifted[n + k], target) < 0 {
                    fail(4);
                }
            }
            if chdir_by_path && libc::chdir(cwd.as_ptr()) != 0 {
                fail(5);
            }
            if spec.setsid && libc::setsid() < 0 {
                fail(6);
            }
            if let Some((uid, gid, _)) = spec.creds {
                // Raw system calls: in the forked child there is one thread, and glibc's wrappers
                // would try to synchronise threads that no longer exist.
                if libc::syscall(libc::SYS_setgroups, groups.len(), groups.as_ptr()) != 0 {
                    fail(7);
                }
                if libc::syscall(libc::SYS_setresgid, gid, gid, gid) != 0 {
                    fail(8);
                }
                if libc::syscall(libc::SYS_setresuid, uid, uid, uid) != 0 {
                    fail(9);
                }
            }
            // jhot ignores SIGPIPE and may block signals on some thread; the child starts clean.
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigprocmask(libc::SIG_SETMASK, &set, std::ptr::null_mut());
            for sig in 1..32 {
                if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                    libc::signal(sig, libc::SIG_DFL);
                }
            }
            if let Some(c) = context
                && let Err((step, e)) = c.apply_before_exec()
            {
                fail_with(step, e);
            }
            if spec.listen_pid {
                // Left-aligned and NUL-terminated: no leading zeros for a strict parser.
                let mut p = libc::getpid() as u32;
                let mut digits = [0u8; 10];
                let mut n = 0;
                loop {
                    digits[n] = b'0' + (p % 10) as u8;
                    n += 1;
                    p /= 10;
                    if p == 0 || n == digits.len() {
                        break;
                    }
                }
                for i in 0..n {
                    *lp.add(11 + i) = digits[n - 1 - i];
                }
                *lp.add(11 + n) = 0;
            }
            libc::execve(program.as_ptr(), argv_ptrs.as_ptr(), env_ptrs.as_ptr());
            fail(10);
        }
    }
    drop(err_w);
    let mut buf = [0u8; 8];
    // The child has its own copy of the buffer; ours must live until here.
    let _ = &mut listen_pid;
    let n = read_full(&err_r, &mut buf);
    if n == 8 {
        let step = i32::from_ne_bytes([buf[0], buf[1], buf[2], buf[3]]);
        let errno = i32::from_ne_bytes([buf[4], buf[5], buf[6], buf[7]]);
        let mut status = 0;
        // SAFETY: reaping our own child that already failed.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        let described = namespaces.and_then(|n| n.describe(step)).or_else(|| context.and_then(|c| c.describe(step)));
        let what = match step {
            _ if described.is_some() => described.unwrap_or_default(),
            2..=4 => "placing the inherited descriptors".into(),
            5 => "changing to the working directory".into(),
            6 => "starting a new session".into(),
            7..=9 => "switching to the user".into(),
            _ => "executing the program".into(),
        };
        let e = std::io::Error::from_raw_os_error(errno);
        return Err(std::io::Error::new(e.kind(), format!("{what}: {e}")));
    }
    Ok(pid as u32)
}

fn read_full(fd: &OwnedFd, buf: &mut [u8]) -> usize {
    let mut got = 0;
    while got < buf.len() {
        match rustix::io::read(fd, &mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => continue,
            Err(_) => break,
        }
    }
    got
}

/// Resolves `argv0` like execvp would, with the PATH of the environment the process gets.
pub fn resolve_program(argv0: &Path, env: &[OsString], cwd: &Path) -> Option<PathBuf> {
    resolve_program_with(argv0, env, cwd, is_executable)
}

/// [`resolve_program`] with what counts as an executable file given: inside a container's root,
/// `executable` looks there.
pub fn resolve_program_with(
    argv0: &Path,
    env: &[OsString],
    cwd: &Path,
    executable: impl Fn(&Path) -> bool,
) -> Option<PathBuf> {
    if argv0.as_os_str().as_bytes().contains(&b'/') {
        let p = if argv0.is_absolute() { argv0.to_path_buf() } else { cwd.join(argv0) };
        return executable(&p).then_some(p);
    }
    let path = env
        .iter()
        .find_map(|kv| kv.as_bytes().strip_prefix(b"PATH=").map(|v| v.to_vec()))
        .unwrap_or_else(|| b"/usr/local/bin:/usr/bin:/bin".to_vec());
    for dir in path.split(|b| *b == b':') {
        let dir = if dir.is_empty() { cwd.to_path_buf() } else { PathBuf::from(std::ffi::OsStr::from_bytes(dir)) };
        let dir = if dir.is_absolute() { dir } else { cwd.join(dir) };
        let p = dir.join(argv0);
        if executable(&p) {
            return Some(p);
        }
    }
    None
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// Reaps `pid` if it has exited; Some(status description) then.
pub fn try_reap(pid: u32) -> Option<ExitStatus> {
    let mut status = 0;
    // SAFETY: waitpid on a child of ours with WNOHANG.
    let r = unsafe { libc::waitpid(pid as i32, &mut status, libc::WNOHANG) };
    if r == pid as i32 { Some(ExitStatus::from_raw(status)) } else { None }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ExitStatus {
    Code(i32),
    Signal(i32),
}

impl ExitStatus {
    pub fn from_raw(status: i32) -> ExitStatus {
        if libc::WIFSIGNALED(status) {
            ExitStatus::Signal(libc::WTERMSIG(status))
        } else {
            ExitStatus::Code(libc::WEXITSTATUS(status))
        }
    }

    /// The shell convention: the code, or 128 + the signal.
    pub fn shell_code(self) -> i32 {
        match self {
            ExitStatus::Code(c) => c,
            ExitStatus::Signal(s) => 128 + s,
        }
    }
}

impl std::fmt::Display for ExitStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExitStatus::Code(c) => write!(f, "exit status {c}"),
            ExitStatus::Signal(s) => write!(f, "killed by signal {s}"),
        }
    }
}

/// A spec for unit tests: `program argv…` in `/`, output to `out`, nothing else set.
#[cfg(test)]
pub(crate) fn test_spec<'a>(program: &str, argv: &[&str], out: BorrowedFd<'a>) -> Spec<'a> {
    Spec {
        program: program.into(),
        argv: argv.iter().map(OsString::from).collect(),
        env: vec![],
        cwd: "/".into(),
        inherit: vec![],
        stdin: None,
        stdout: out,
        stderr: out,
        creds: None,
        setsid: false,
        namespaces: None,
        context: None,
        listen_pid: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsFd;

    #[test]
    fn descriptors_land_at_3_and_listen_pid_is_the_child() {
        let dir = tempfile::tempdir().expect("tmp");
        let out = std::fs::File::create(dir.path().join("out")).expect("out");
        let a = std::fs::File::open("/proc/self/stat").expect("a");
        let b = std::net::TcpListener::bind("127.0.0.1:0").expect("b");
        let script = "echo pid=$$ lp=$LISTEN_PID; readlink /proc/$$/fd/3 /proc/$$/fd/4; test -e /proc/$$/fd/5 && echo extra; echo cwd=$(pwd)";
        let spec = Spec {
            program: "/bin/sh".into(),
            argv: vec!["sh".into(), "-c".into(), script.into()],
            env: vec!["PATH=/usr/bin:/bin".into()],
            cwd: dir.path().to_path_buf(),
            inherit: vec![a.as_fd(), b.as_fd()],
            stdin: None,
            stdout: out.as_fd(),
            stderr: out.as_fd(),
            creds: None,
            setsid: true,
            namespaces: None,
            context: None,
            listen_pid: true,
        };
        let pid = spawn(&spec).expect("spawn");
        let mut status = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(pid as i32, &mut status, 0) };
        let text = std::fs::read_to_string(dir.path().join("out")).expect("read");
        assert!(text.contains(&format!("pid={pid} lp={pid}")), "{text}");
        assert!(text.contains("/proc/") && text.contains("/stat"), "fd 3 is the file: {text}");
        assert!(text.contains("socket:["), "fd 4 is the socket: {text}");
        assert!(!text.contains("extra"), "nothing else is inherited: {text}");
        assert!(text.contains(&format!("cwd={}", dir.path().display())), "{text}");
    }

    #[test]
    fn exec_failure_is_reported() {
        let out = std::fs::File::create("/dev/null").expect("null");
        let spec = test_spec("/nonexistent/java", &["java"], out.as_fd());
        let e = spawn(&spec).expect_err("must fail");
        assert!(e.to_string().contains("executing the program"), "{e}");
    }

    fn own_context() -> super::super::context::ExecContext {
        let tid = rustix::thread::gettid().as_raw_nonzero().get() as u32;
        super::super::context::ExecContext::read(tid).expect("own context")
    }

    fn run_sh(script: &str, context: Option<&super::super::context::Prepared>) -> std::io::Result<String> {
        let dir = tempfile::tempdir().expect("tmp");
        let out = std::fs::File::create(dir.path().join("out")).expect("out");
        let spec = Spec {
            env: vec!["PATH=/usr/bin:/bin".into()],
            cwd: dir.path().to_path_buf(),
            context,
            ..test_spec("/bin/sh", &["sh", "-c", script], out.as_fd())
        };
        let pid = spawn(&spec)?;
        let mut status = 0;
        // SAFETY: our child.
        unsafe { libc::waitpid(pid as i32, &mut status, 0) };
        Ok(std::fs::read_to_string(dir.path().join("out")).expect("read"))
    }

    #[test]
    fn the_old_context_is_applied_between_fork_and_exec() {
        let mut ctx = own_context();
        ctx.status.umask = Some(0o027);
        // RLIMIT_NOFILE (7) lowered: no privilege needed.
        let nofile = &mut ctx.rlimits[7].1;
        (nofile.rlim_cur, nofile.rlim_max) = (nofile.rlim_cur.min(300), nofile.rlim_max.min(400));
        ctx.oom_score_adj = (ctx.oom_score_adj + 7).min(1000);
        ctx.nice = (ctx.nice + 3).min(19);
        let prepared = ctx.prepare().expect("prepare");
        assert!(prepared.warnings.is_empty(), "{:?}", prepared.warnings);
        let out = run_sh(
            "umask; ulimit -Sn; ulimit -Hn; cat /proc/$$/oom_score_adj; cut -d' ' -f19 /proc/$$/stat",
            Some(&prepared),
        )
        .expect("spawn");
        let want = format!(
            "0027\n{}\n{}\n{}\n{}\n",
            ctx.rlimits[7].1.rlim_cur, ctx.rlimits[7].1.rlim_max, ctx.oom_score_adj, ctx.nice
        );
        assert_eq!(out, want);
    }

    #[test]
    fn a_step_that_fails_is_named() {
        let mut ctx = own_context();
        // A soft limit above the hard one: the kernel refuses it (EINVAL) in the child.
        let nofile = &mut ctx.rlimits[7].1;
        (nofile.rlim_cur, nofile.rlim_max) = (200, 100);
        let prepared = ctx.prepare().expect("prepare");
        let e = run_sh("true", Some(&prepared)).expect_err("must fail");
        assert!(e.to_string().contains("setting RLIMIT_NOFILE to 200:100"), "{e}");
    }

    #[test]
    fn program_resolution() {
        let env = vec![OsString::from("PATH=/nonexistent:/bin")];
        assert_eq!(resolve_program(Path::new("sh"), &env, Path::new("/")), Some(PathBuf::from("/bin/sh")));
        assert_eq!(resolve_program(Path::new("no-such-program-x"), &env, Path::new("/")), None);
        assert_eq!(resolve_program(Path::new("bin/sh"), &env, Path::new("/")), Some(PathBuf::from("/bin/sh")));
    }
}
