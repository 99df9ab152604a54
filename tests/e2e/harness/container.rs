//! A container built the way a container runtime builds one, without a runtime: podman/crun/runc
//! cannot run a container on the test machines (hybrid cgroups; no image registry), so the
//! harness does by hand what runc does, with util-linux only (`unshare`, `nsenter`, `mount`,
//! `pivot_root`, `ip`):
//!
//! * a cgroup of its own, created by the harness under the test process's own cgroup in every
//!   hierarchy that matters: the cgroup v2 tree when `/sys/fs/cgroup` is cgroup2, else the v1
//!   `cpu`, `memory` and `pids` hierarchies plus the unified (v2) one when it is mounted (hybrid),
//!   with a memory and a pids limit. Every process of the container is in it (`start` and `exec`
//!   enter it before they enter the namespaces, as a runtime's `exec` does);
//! * new mount, pid, net, uts, ipc and cgroup namespaces (`unshare --fork`: the first process is
//!   PID 1 inside);
//! * a root file system of its own on a tmpfs, entered with `pivot_root` (the host's root is
//!   unmounted, not only hidden): read-only bind mounts of the host's `/usr` and `/etc`, the
//!   `/bin`, `/lib`, `/lib64`, `/sbin` links (or binds) as on the host, every JDK of `jdks.env` at
//!   its own path, the takeover sample jars at `/app`, the `jhot` binary at `/opt/jhot/jhot`; its
//!   own tmpfs `/tmp` and `/dev/shm`, `/proc` of its pid namespace, a read-only `/sys` with the
//!   cgroup hierarchies mounted through the cgroup namespace (the JVM sees its limits as in a
//!   container), a minimal `/dev` (null, zero, random, urandom), a hostname and `/etc/hosts`;
//! * only loopback, brought up inside the network namespace: tests reach the container's ports
//!   from inside it ([`super::Load::start_in`] with [`Container::init_pid`]).
//!
//! Dropping a [`Container`] kills its PID 1 (the kernel then kills everything in the pid
//! namespace), then, by pid, whatever of it is still in its cgroup, and removes the cgroups and the
//! (empty) mount point; the mounts go with the mount namespace. Every wait is bounded.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use super::{Outcome, Proc, alive, jar, jdks, jhot_bin, kill, ns_pids, output, wait_gone, wait_until};

/// The namespaces a container has of its own (and that `nsenter --all` enters).
pub const CONTAINER_NAMESPACES: [&str; 6] = ["mnt", "pid", "net", "uts", "ipc", "cgroup"];

/// Where the takeover sample jars are inside a container.
pub const APP_DIR: &str = "/app";

/// Where the jhot binary under test is inside a container.
pub const JHOT_IN_CONTAINER: &str = "/opt/jhot/jhot";

/// What the set-up script prints on stderr just before PID 1 execs its program.
const SET_UP: &str = "container: set up";

/// A PATH for processes in the container (it has no environment of the host's).
const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// One running container: the host-side `unshare` process (whose output is PID 1's), the
/// cgroups it is in, and the host directory its root is mounted on (empty as the host sees it).
pub struct Container {
    proc: Option<Proc>,
    init: u32,
    cgroups: Vec<PathBuf>,
    root: Option<tempfile::TempDir>,
    hostname: String,
}

impl Container {
    /// A container whose PID 1 runs `argv` (paths as the container sees them: see
    /// [`container_java_cmd`]); returns once its set-up is done and PID 1 execs `argv`.
    pub fn start(argv: &[String]) -> Container {
        assert!(super::is_root(), "a container needs root (namespaces, mounts, cgroups)");
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!("jhot-ctr-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst));
        let cgroups = create_cgroups(&name);
        let root = tempfile::Builder::new().prefix("jhot-ctr-root-").tempdir().expect("root mount point");
        let script = setup_script(root.path(), &name);
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(format!("{} exec \"$@\"", enter_cgroups(&cgroups))).arg("sh");
        cmd.args([
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--pid",
            "--fork",
            "--kill-child",
            "--net",
            "--uts",
            "--ipc",
            "--cgroup",
            "--",
            "/bin/sh",
            "-c",
            &script,
            "container-init",
        ]);
        cmd.args(argv);
        cmd.env_clear().env("PATH", PATH).env("HOME", "/root").env("HOSTNAME", &name).current_dir("/");
        if let Some(v) = std::env::var_os("JHOT_LOG") {
            cmd.env("JHOT_LOG", v);
        }
        let mut c = Container { proc: None, init: 0, cgroups, root: Some(root), hostname: name };
        let proc = Proc::spawn_cmd(cmd);
        let unshare = proc.pid();
        c.proc = Some(proc);
        // The set-up script says when it is done, just before it execs the program.
        let p = c.proc.as_ref().expect("proc");
        let ok = wait_until(Duration::from_secs(30), || p.stderr().contains(SET_UP));
        assert!(ok, "the container was not set up: {argv:?}\nstdout:\n{}\nstderr:\n{}", p.stdout(), p.stderr());
        // PID 1 is unshare's only child.
        c.init = super::children_of(unshare).first().copied().expect("the container's PID 1");
        assert_eq!(ns_pids(c.init).and_then(|p| p.last().copied()), Some(1), "PID 1 of its pid namespace");
        c
    }

    /// The host pid of the container's PID 1.
    pub fn init_pid(&self) -> u32 {
        self.init
    }

    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// The cgroup directories the container's processes are in (one per hierarchy).
    pub fn cgroups(&self) -> &[PathBuf] {
        &self.cgroups
    }

    /// What PID 1 (and whatever inherits its stdout) printed.
    pub fn stdout(&self) -> String {
        self.proc.as_ref().map(Proc::stdout).unwrap_or_default()
    }

    pub fn stderr(&self) -> String {
        self.proc.as_ref().map(Proc::stderr).unwrap_or_default()
    }

    /// Waits for the `READY … pid=N` line number `nth` (1-based), printed inside the container;
    /// returns `(N, the host pid of N)`.
    pub fn wait_ready(&self, nth: usize, timeout: Duration) -> (u32, u32) {
        let inside = self.proc.as_ref().expect("proc").wait_ready(nth, timeout);
        let host = self.host_pid(inside).unwrap_or_else(|| panic!("pid {inside} of the container is not running"));
        (inside, host)
    }

    /// The host pid of the container's pid `inside`.
    pub fn host_pid(&self, inside: u32) -> Option<u32> {
        let ns = fs::read_link(format!("/proc/{}/ns/pid", self.init)).ok()?;
        fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
            let pid: u32 = e.file_name().to_str()?.parse().ok()?;
            let here = ns_pids(pid)?;
            (here.last() == Some(&inside) && here.len() > 1 && fs::read_link(format!("/proc/{pid}/ns/pid")).ok()? == ns)
                .then_some(pid)
        })
    }

    /// Whether host pid `pid` is a process of the container (in its pid namespace).
    pub fn contains(&self, pid: u32) -> bool {
        let ns = |p: u32| fs::read_link(format!("/proc/{p}/ns/pid")).ok();
        pid != 0 && ns(pid).is_some() && ns(pid) == ns(self.init)
    }

    /// The pid inside the container of host pid `host` (the last of its `NSpid`), if it is one of
    /// the container's processes.
    pub fn inside_pid(&self, host: u32) -> Option<u32> {
        if !self.contains(host) {
            return None;
        }
        ns_pids(host)?.last().copied()
    }

    /// A command run inside the container as a runtime's `exec` runs it: in its cgroups, then in
    /// all its namespaces and its root (`nsenter --all`), with the container's environment.
    pub fn exec_cmd(&self, argv: &[&str]) -> Command {
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(format!("{} exec \"$@\"", enter_cgroups(&self.cgroups))).arg("sh");
        cmd.args(["nsenter", "--all", "--target", &self.init.to_string(), "--root", "--wd", "--"]).args(argv);
        cmd.env_clear().env("PATH", PATH).env("HOME", "/root").env("HOSTNAME", &self.hostname).current_dir("/");
        if let Some(v) = std::env::var_os("JHOT_LOG") {
            cmd.env("JHOT_LOG", v);
        }
        cmd
    }

    /// Runs `argv` inside the container to completion (bounded: 120 s).
    pub fn exec(&self, argv: &[&str]) -> Outcome {
        output(&mut self.exec_cmd(argv))
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        // SIGKILL to a pid namespace's init kills every process in the namespace.
        if self.init != 0 && alive(self.init) {
            kill(self.init, libc::SIGKILL);
            wait_gone(self.init, Duration::from_secs(10));
        }
        drop(self.proc.take());
        // What is left in the cgroups (an `exec`'s nsenter, outside the pid namespace) was
        // started by this container.
        for cg in &self.cgroups {
            let _ = wait_until(Duration::from_secs(10), || {
                let procs = fs::read_to_string(cg.join("cgroup.procs")).unwrap_or_default();
                let pids: Vec<u32> = procs.lines().filter_map(|l| l.trim().parse().ok()).collect();
                for &p in &pids {
                    kill(p, libc::SIGKILL);
                }
                pids.is_empty()
            });
            if let Err(e) = fs::remove_dir(cg) {
                eprintln!("container: could not remove the cgroup {}: {e}", cg.display());
            }
        }
        // The mounts were in the container's mount namespace, gone with its last process; the
        // host's mount point is an empty directory.
        if let Some(root) = self.root.take()
            && let Err(e) = root.close()
        {
            eprintln!("container: could not remove its root's mount point: {e}");
        }
    }
}

/// `GET path` on the container's loopback (from a thread in its network namespace): the body.
pub fn get_in(netns_pid: u32, port: u16, path: &str) -> String {
    let path = path.to_string();
    std::thread::spawn(move || {
        let ns = fs::File::open(format!("/proc/{netns_pid}/ns/net")).expect("open netns");
        // SAFETY: setns on a descriptor we opened, for this thread only.
        let r = unsafe { libc::setns(std::os::fd::AsRawFd::as_raw_fd(&ns), libc::CLONE_NEWNET) };
        assert_eq!(r, 0, "setns: {}", std::io::Error::last_os_error());
        super::get(port, &path)
    })
    .join()
    .expect("GET in the container's network namespace")
}

/// A java command line of a takeover sample (`java_cmd`'s flags), as the container sees it: the
/// JDK at its own path (bind-mounted), the jar under `/app`.
pub fn container_java_cmd(app: &str, version: &str, port: u16, extra_app_args: &[&str]) -> Vec<String> {
    let mut v = super::java_cmd(app, version, port, extra_app_args);
    let host_jar = jar(app, version).display().to_string();
    for a in &mut v {
        if *a == host_jar {
            *a = container_jar(app, version);
        }
    }
    v
}

/// A takeover sample's jar as the container sees it.
pub fn container_jar(app: &str, version: &str) -> String {
    format!("{APP_DIR}/{app}-{version}.jar")
}

/// `/proc/<pid>/ns/<kind>` for every kind a container has: what a process's namespaces are.
pub fn namespaces(pid: u32) -> Vec<(String, PathBuf)> {
    CONTAINER_NAMESPACES
        .iter()
        .map(|ns| (ns.to_string(), fs::read_link(format!("/proc/{pid}/ns/{ns}")).unwrap_or_default()))
        .collect()
}

/// `/proc/<pid>/cgroup`, as the host sees it (needs a reader in the host's cgroup namespace).
pub fn cgroup_of(pid: u32) -> String {
    fs::read_to_string(format!("/proc/{pid}/cgroup")).unwrap_or_default()
}

/// Where `/proc/<pid>/root` is, identified by device and inode (`readlink` says `/` for a
/// process inside a pivoted root): two processes with the same answer have the same root.
pub fn root_of(pid: u32) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fs::metadata(format!("/proc/{pid}/root/")).ok().map(|m| (m.dev(), m.ino()))
}

/// The cgroup hierarchies to create the container's cgroup in: `(mount point, controllers as in
/// /proc/self/cgroup)`.
fn hierarchies() -> Vec<(PathBuf, String)> {
    let mounts = fs::read_to_string("/proc/self/mounts").expect("read /proc/self/mounts");
    let mut out = Vec::new();
    for line in mounts.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() < 4 {
            continue;
        }
        let (dir, fstype, opts) = (f[1], f[2], f[3]);
        if !dir.starts_with("/sys/fs/cgroup") {
            continue;
        }
        if fstype == "cgroup2" {
            out.push((PathBuf::from(dir), String::new()));
        } else if fstype == "cgroup" {
            let ctrls: Vec<&str> =
                opts.split(',').filter(|o| ["cpu", "cpuacct", "memory", "pids"].contains(o)).collect();
            if ctrls.iter().any(|c| ["cpu", "memory", "pids"].contains(c)) {
                out.push((PathBuf::from(dir), ctrls.join(",")));
            }
        }
    }
    assert!(!out.is_empty(), "no cgroup hierarchy under /sys/fs/cgroup");
    out
}

/// Creates `name` under the test process's own cgroup in each hierarchy (a runtime creates the
/// container's cgroup under its own slice), with a memory and a pids limit where the hierarchy
/// has them. The limits are generous: they are there to be seen, not to bite.
fn create_cgroups(name: &str) -> Vec<PathBuf> {
    let own = fs::read_to_string("/proc/self/cgroup").expect("read /proc/self/cgroup");
    let mut out = Vec::new();
    for (mount, ctrls) in hierarchies() {
        // v2: `0::/path`; v1: `N:cpu,cpuacct:/path` (the same controllers, in the kernel's order).
        let want: std::collections::BTreeSet<&str> = ctrls.split(',').filter(|c| !c.is_empty()).collect();
        let path = own.lines().find_map(|l| {
            let mut parts = l.splitn(3, ':');
            let (_, c, p) = (parts.next()?, parts.next()?, parts.next()?);
            let have: std::collections::BTreeSet<&str> = c.split(',').filter(|c| !c.is_empty()).collect();
            (have == want).then(|| p.to_string())
        });
        let Some(path) = path else { continue };
        let dir = mount.join(path.trim_start_matches('/')).join(name);
        fs::create_dir(&dir).unwrap_or_else(|e| panic!("create the cgroup {}: {e}", dir.display()));
        for (file, value) in
            [("memory.limit_in_bytes", "3221225472"), ("memory.max", "3221225472"), ("pids.max", "2048")]
        {
            let f = dir.join(file);
            if f.exists() {
                fs::write(&f, value).unwrap_or_else(|e| panic!("set {}: {e}", f.display()));
            }
        }
        out.push(dir);
    }
    out
}

/// Shell that moves itself (`$$`) into every cgroup of the container.
fn enter_cgroups(cgroups: &[PathBuf]) -> String {
    cgroups.iter().map(|c| format!("echo $$ > {} &&", quote(&c.join("cgroup.procs").display().to_string()))).collect()
}

/// Single-quoted for sh.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The script PID 1 runs first, in its new namespaces and still in the host's root: it builds
/// the root file system on a tmpfs mounted on `root`, pivots into it, mounts `/proc`, brings up
/// loopback and execs its arguments.
fn setup_script(root: &Path, hostname: &str) -> String {
    let r = quote(&root.display().to_string());
    let mut s = String::from("set -eu\n");
    s += &format!("mount -t tmpfs -o mode=0755,size=64m rootfs {r}\ncd {r}\n");
    s += "mkdir -p usr etc proc sys dev tmp run root opt/jhot var/tmp app\n";
    // /bin, /lib, /lib64, /sbin: the same links as on the host (merged /usr), or binds.
    for d in ["bin", "sbin", "lib", "lib32", "lib64", "libx32"] {
        let host = Path::new("/").join(d);
        match fs::read_link(&host) {
            Ok(target) => s += &format!("ln -s {} {d}\n", quote(&target.display().to_string())),
            Err(_) if host.is_dir() => s += &format!("mkdir -p {d}\nmount --bind -o ro /{d} {d}\n"),
            Err(_) => {}
        }
    }
    let mut binds: Vec<(String, String)> = vec![("/usr".into(), "usr".into()), ("/etc".into(), "etc".into())];
    for jdk in jdks() {
        let home = jdk.home.display().to_string();
        if !home.starts_with("/usr/") {
            binds.push((home.clone(), home.trim_start_matches('/').to_string()));
        }
    }
    let sample_dir = jar("jdk-httpserver", "v1").parent().expect("samples dir").display().to_string();
    // At /app, and at the host's path too: a command line jhot builds on the host from a jar path
    // it was given is valid inside the container either way.
    binds.push((sample_dir.clone(), APP_DIR.trim_start_matches('/').to_string()));
    binds.push((sample_dir.clone(), sample_dir.trim_start_matches('/').to_string()));
    for (src, dst) in &binds {
        s += &format!("mkdir -p {d}\nmount --bind -o ro {} {d}\n", quote(src), d = quote(dst));
    }
    let jhot_dst = JHOT_IN_CONTAINER.trim_start_matches('/');
    s += &format!("touch {jhot_dst}\nmount --bind -o ro {} {jhot_dst}\n", quote(&jhot_bin().display().to_string()));
    s += "mount -t tmpfs -o mode=1777,size=512m,nosuid,nodev tmpfs tmp\n";
    s += "mount -t tmpfs -o mode=0755,size=64k,nosuid tmpfs dev\n";
    s += "for d in null zero random urandom; do touch dev/$d; mount --bind /dev/$d dev/$d; done\n";
    s += "mkdir dev/shm && mount -t tmpfs -o mode=1777,size=64m,nosuid,nodev shm dev/shm\n";
    s += "ln -s /proc/self/fd dev/fd && ln -s /proc/self/fd/0 dev/stdin && ln -s /proc/self/fd/1 dev/stdout \
          && ln -s /proc/self/fd/2 dev/stderr\n";
    // /sys read-only, and the cgroup hierarchies through the cgroup namespace (the container's
    // cgroup is their root), as runtimes mount them.
    s += "mount -t sysfs -o ro,nosuid,nodev,noexec sysfs sys\n";
    let hierarchies = hierarchies();
    let v2_only = hierarchies.iter().any(|(m, _)| m == Path::new("/sys/fs/cgroup"));
    if !v2_only {
        s += "mount -t tmpfs -o mode=0755,size=64k,nosuid,nodev,noexec cgroup sys/fs/cgroup\n";
    }
    for (mount, ctrls) in hierarchies {
        let rel = mount.strip_prefix("/sys/fs/cgroup").expect("under /sys/fs/cgroup").display().to_string();
        let d = quote(&format!("sys/fs/cgroup/{}", rel.trim_start_matches('/')));
        if ctrls.is_empty() {
            s += &format!("mkdir -p {d} && mount -t cgroup2 -o ro,nosuid,nodev,noexec cgroup2 {d}\n");
        } else {
            s += &format!("mkdir -p {d} && mount -t cgroup -o ro,nosuid,nodev,noexec,{ctrls} cgroup {d}\n");
        }
    }
    if !v2_only {
        s += "mount -o remount,ro,bind sys/fs/cgroup\n";
    }
    s += &format!(
        "hostname {h}\nprintf '127.0.0.1 localhost %s\\n::1 localhost\\n' {h} > run/hosts\n",
        h = quote(hostname)
    );
    s += "if [ -f etc/hosts ]; then mount --bind run/hosts etc/hosts; fi\n";
    s += "mkdir .old-root\npivot_root . .old-root\ncd /\n";
    s += "mount -t proc -o nosuid,nodev,noexec proc /proc\n";
    s += "umount -l /.old-root\nrmdir /.old-root\n";
    s += "ip link set lo up\n";
    s += &format!("echo '{SET_UP}' >&2\nexec \"$@\"\n");
    s
}
