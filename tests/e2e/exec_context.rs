//! The execution context a replacement keeps (issue 12, finding M6): a server started in a cgroup
//! the test creates (the unified hierarchy and two v1 ones on a hybrid machine, the unified one
//! alone elsewhere), with non-default limits, umask, oom_score_adj, nice value, CPU affinity and
//! no_new_privs, is replaced, and `/proc/<old>` (read before) is compared with `/proc/<new>` field
//! by field. Under `jhot run`, the generation being replaced is the reference, not the supervisor.

use std::ffi::CString;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::{Pids, Proc, free_port, jar, java_cmd, jhot, jhot_bin, lock};

/// Cgroups the test created, removed when it ends (after its processes: declare it first).
struct Cgroups(Vec<PathBuf>);

impl Cgroups {
    /// `name` in the unified hierarchy, and in the `cpu` and `pids` v1 hierarchies when mounted.
    fn create(name: &str) -> Cgroups {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").expect("mountinfo");
        let mut dirs = Vec::new();
        for line in mountinfo.lines() {
            let Some((left, right)) = line.split_once(" - ") else { continue };
            let (l, r): (Vec<&str>, Vec<&str>) = (left.split(' ').collect(), right.split(' ').collect());
            let v1_wanted = r[0] == "cgroup" && r[2].split(',').any(|o| o == "cpu" || o == "pids");
            if (r[0] == "cgroup2" || v1_wanted) && l[3] == "/" {
                let dir = Path::new(l[4]).join(name);
                std::fs::create_dir(&dir).unwrap_or_else(|e| panic!("mkdir {}: {e}", dir.display()));
                dirs.push(dir);
            }
        }
        assert!(!dirs.is_empty(), "no writable cgroup hierarchy");
        Cgroups(dirs)
    }

    fn procs_files(&self) -> Vec<CString> {
        self.0.iter().map(|d| CString::new(d.join("cgroup.procs").display().to_string()).expect("path")).collect()
    }

    fn move_pid(&self, pid: u32) {
        for d in &self.0 {
            std::fs::write(d.join("cgroup.procs"), pid.to_string()).expect("move to the cgroup");
        }
    }
}

impl Drop for Cgroups {
    fn drop(&mut self) {
        let until = Instant::now() + Duration::from_secs(10);
        for d in &self.0 {
            while std::fs::remove_dir(d).is_err() && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

/// What the test compares, as /proc shows it.
#[derive(Debug, PartialEq)]
struct Context {
    cgroup: String,
    /// `limits`, except the soft RLIMIT_NOFILE: HotSpot raises it to the hard one when it starts
    /// (-XX:+MaxFDLimit), so a new JVM never shows the old one's if that was changed later.
    limits: String,
    umask: String,
    no_new_privs: String,
    cap_bnd: String,
    groups: String,
    cpus_allowed: String,
    oom_score_adj: String,
    nice: String,
    policy: String,
    uid_gid: String,
    /// The environment, without what each spawn sets afresh.
    env: Vec<String>,
}

fn status_line(status: &str, key: &str) -> String {
    status.lines().find_map(|l| l.strip_prefix(key)).map(|v| v.trim().to_string()).unwrap_or_default()
}

impl Context {
    fn of(pid: u32) -> Context {
        let read = |f: &str| std::fs::read_to_string(format!("/proc/{pid}/{f}")).unwrap_or_else(|e| panic!("{f}: {e}"));
        let status = read("status");
        let stat = read("stat");
        let fields: Vec<&str> = stat.rsplit_once(')').map(|(_, r)| r.split_whitespace().collect()).unwrap_or_default();
        let environ = std::fs::read(format!("/proc/{pid}/environ")).expect("environ");
        let mut env: Vec<String> = environ
            .split(|b| *b == 0)
            .filter(|e| !e.is_empty())
            .map(|e| String::from_utf8_lossy(e).into_owned())
            .filter(|e| !["LD_PRELOAD=", "LISTEN_", "JHOT_"].iter().any(|p| e.starts_with(p)))
            .collect();
        env.sort();
        Context {
            cgroup: read("cgroup"),
            limits: read("limits")
                .lines()
                .map(|l| match l.strip_prefix("Max open files") {
                    Some(rest) => {
                        format!("Max open files (hard) {}", rest.split_whitespace().nth(1).unwrap_or_default())
                    }
                    None => l.to_string(),
                })
                .collect::<Vec<_>>()
                .join("\n"),
            umask: status_line(&status, "Umask:"),
            no_new_privs: status_line(&status, "NoNewPrivs:"),
            cap_bnd: status_line(&status, "CapBnd:"),
            groups: status_line(&status, "Groups:"),
            cpus_allowed: status_line(&status, "Cpus_allowed_list:"),
            oom_score_adj: read("oom_score_adj").trim().to_string(),
            // stat fields 19 (nice) and 41 (policy), counted from field 3.
            nice: fields.get(16).map(|s| s.to_string()).unwrap_or_default(),
            policy: fields.get(38).map(|s| s.to_string()).unwrap_or_default(),
            uid_gid: format!("{} / {}", status_line(&status, "Uid:"), status_line(&status, "Gid:")),
            env,
        }
    }

    fn assert_same(&self, other: &Context, what: &str) {
        macro_rules! same {
            ($f:ident) => {
                assert_eq!(self.$f, other.$f, "{what}: {} differs", stringify!($f));
            };
        }
        same!(cgroup);
        same!(limits);
        same!(umask);
        same!(no_new_privs);
        same!(cap_bnd);
        same!(groups);
        same!(cpus_allowed);
        same!(oom_score_adj);
        same!(nice);
        same!(policy);
        same!(uid_gid);
        same!(env);
    }
}

/// A command that starts with the test's context: the cgroups, RLIMIT_NOFILE 4096:8192 and
/// RLIMIT_NPROC 3000:4000, umask 027, oom_score_adj 300, nice 5, CPU 0 only, no_new_privs.
fn with_context(mut cmd: Command, cgroups: &Cgroups) -> Command {
    let files = cgroups.procs_files();
    // SAFETY: the closure runs between fork and exec and only makes system calls on memory
    // prepared before fork.
    unsafe {
        cmd.pre_exec(move || {
            for f in &files {
                let fd = libc::open(f.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::close(fd);
            }
            let limits = [(libc::RLIMIT_NOFILE, 4096, 8192), (libc::RLIMIT_NPROC, 3000, 4000)];
            for (res, cur, max) in limits {
                if libc::setrlimit(res, &libc::rlimit { rlim_cur: cur, rlim_max: max }) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            libc::umask(0o027);
            let fd = libc::open(c"/proc/self/oom_score_adj".as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
            if fd < 0 || libc::write(fd, b"300".as_ptr().cast(), 3) != 3 {
                return Err(std::io::Error::last_os_error());
            }
            libc::close(fd);
            if libc::setpriority(libc::PRIO_PROCESS, 0, 5) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(0, &mut set);
            if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd
}

fn replace_json(pid: u32, version: &str) -> Value {
    let out = jhot(&[
        "replace".to_string(),
        pid.to_string(),
        "--jar".into(),
        jar("jdk-httpserver", version).display().to_string(),
        "--json".into(),
        "--drain-timeout".into(),
        "20".into(),
    ]);
    assert_eq!(out.code, 0, "jhot replace failed: {out:?}");
    out.json()
}

fn warnings(v: &Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .map(|a| a.iter().filter_map(|w| w.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn replace_keeps_the_execution_context() {
    let _g = lock();
    let cgroups = Cgroups::create(&format!("jhot-e2e-ctx-{}", std::process::id()));
    let pids = Pids::default();
    let port = free_port();
    let argv = java_cmd("jdk-httpserver", "v1", port, &[]);
    let mut cmd = Command::new(&argv[0]);
    cmd.args(&argv[1..]).current_dir(std::env::temp_dir());
    let server = Proc::spawn_cmd(with_context(cmd, &cgroups));
    let old = server.wait_ready(1, Duration::from_secs(60));
    let before = Context::of(old);
    assert!(before.cgroup.contains("jhot-e2e-ctx-"), "the server is in the test's cgroup: {}", before.cgroup);
    assert_eq!((before.umask.as_str(), before.oom_score_adj.as_str(), before.nice.as_str()), ("0027", "300", "5"));
    assert_eq!((before.no_new_privs.as_str(), before.cpus_allowed.as_str()), ("1", "0"));
    let jhot_ctx = Context::of(std::process::id());
    assert_ne!(before.limits, jhot_ctx.limits, "the test's limits differ from jhot's");

    let v = replace_json(old, "v2");
    let new = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new);
    let after = Context::of(new);
    after.assert_same(&before, "the replacement of a JVM jhot did not start");
    assert!(warnings(&v).is_empty(), "nothing was left out: {:?}", warnings(&v));
}

/// Another user's JVM, replaced by root: its limits cannot be read with prlimit where root lacks
/// CAP_SYS_RESOURCE (as on this machine), so they come from /proc/<pid>/limits; the new process
/// gets them, its groups and the rest of its context, as that user.
#[test]
fn replace_of_another_users_jvm_keeps_its_context() {
    let _g = lock();
    let (uid, gid) = crate::harness::ensure_user("jhot-t1");
    let cgroups = Cgroups::create(&format!("jhot-e2e-ctx-user-{}", std::process::id()));
    let pids = Pids::default();
    let port = free_port();
    let mut cmd = Command::new("setpriv");
    cmd.args(["--reuid", &uid.to_string(), "--regid", &gid.to_string(), "--groups", &format!("{gid},100")])
        .args(java_cmd("jdk-httpserver", "v1", port, &[]))
        .current_dir("/tmp");
    let server = Proc::spawn_cmd(with_context(cmd, &cgroups));
    let old = server.wait_ready(1, Duration::from_secs(60));
    let before = Context::of(old);
    assert!(before.uid_gid.starts_with(&uid.to_string()), "{}", before.uid_gid);
    let v = replace_json(old, "v2");
    let new = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new);
    Context::of(new).assert_same(&before, "the replacement of another user's JVM");
    assert!(warnings(&v).is_empty(), "nothing was left out: {:?}", warnings(&v));
}

#[test]
fn run_replacement_keeps_the_context_of_the_generation_it_replaces() {
    let _g = lock();
    let name = format!("jhot-e2e-ctx-run-{}", std::process::id());
    let cgroups = Cgroups::create(&name);
    let moved = Cgroups::create(&format!("{name}-moved"));
    let pids = Pids::default();
    let port = free_port();
    let mut cmd = Command::new(jhot_bin());
    cmd.arg("run").arg("--").args(java_cmd("jdk-httpserver", "v1", port, &[])).current_dir(std::env::temp_dir());
    let sup = Proc::spawn_cmd(with_context(cmd, &cgroups));
    pids.add(sup.pid());
    let first = sup.wait_ready(1, Duration::from_secs(60));
    // The first generation inherits the supervisor's context.
    let sup_ctx = Context::of(sup.pid());
    let first_ctx = Context::of(first);
    for (a, b, what) in [
        (&sup_ctx.cgroup, &first_ctx.cgroup, "cgroup"),
        (&sup_ctx.limits, &first_ctx.limits, "limits"),
        (&sup_ctx.umask, &first_ctx.umask, "umask"),
        (&sup_ctx.oom_score_adj, &first_ctx.oom_score_adj, "oom_score_adj"),
        (&sup_ctx.nice, &first_ctx.nice, "nice"),
        (&sup_ctx.no_new_privs, &first_ctx.no_new_privs, "no_new_privs"),
    ] {
        assert_eq!(a, b, "the first generation has the supervisor's {what}");
    }
    // What an operator changes on the running generation stays with its successor.
    moved.move_pid(first);
    let st =
        Command::new("prlimit").args(["--pid", &first.to_string(), "--nofile=2048:4096"]).status().expect("prlimit");
    assert!(st.success());
    let st = Command::new("renice").args(["-n", "7", "-p", &first.to_string()]).status().expect("renice");
    assert!(st.success());
    let before = Context::of(first);
    assert!(before.cgroup.contains("-moved"), "{}", before.cgroup);
    assert_ne!(before.limits, sup_ctx.limits);

    let v = replace_json(first, "v2");
    let new = v["new_pid"].as_u64().expect("new_pid") as u32;
    assert_eq!(v["supervised"], Value::Bool(true), "{v}");
    let after = Context::of(new);
    // jhot run keeps its own environment for every generation; the rest is the old generation's.
    let mut want = before;
    want.env = after.env.clone();
    after.assert_same(&want, "a replacement under jhot run");
    assert!(warnings(&v).is_empty(), "nothing was left out: {:?}", warnings(&v));
    drop(sup);
}

// ---- containers: the new process starts in the old one's namespaces, root and cgroups --------

/// A container made by hand as a runtime makes one (until the harness's own container is merged):
/// new mount, pid, net, uts, ipc and cgroup namespaces, a tmpfs root entered with pivot_root
/// holding read-only `/usr` (the JDK 17 lives there), `/etc`, the sample jars at `/app`, its own
/// `/tmp` and `/proc`, loopback only, and cgroups of its own. PID 1 is `sleep` (the JVM its child)
/// unless `java_is_init`.
struct MiniContainer {
    /// Kept for its captured output and stopped with the container.
    _unshare: Proc,
    init: u32,
    java: u32,
    /// The (empty, as the host sees it) mount point of the root.
    root: PathBuf,
}

impl Drop for MiniContainer {
    fn drop(&mut self) {
        // The kernel ends every process of the pid namespace with its PID 1.
        crate::harness::kill(self.init, libc::SIGKILL);
        crate::harness::wait_gone(self.init, Duration::from_secs(10));
        let _ = std::fs::remove_dir(&self.root);
    }
}

impl MiniContainer {
    fn start(port: u16, cgroups: &Cgroups, java_is_init: bool) -> MiniContainer {
        MiniContainer::start_with(port, cgroups, if java_is_init { Pid1::Java } else { Pid1::Sleep })
    }

    fn start_with(port: u16, cgroups: &Cgroups, pid1: Pid1) -> MiniContainer {
        let java = crate::harness::jdk(17).java();
        assert!(java.starts_with("/usr/"), "the container's /usr holds JDK 17: {}", java.display());
        let jars = jar("jdk-httpserver", "v1").parent().expect("jar dir").to_path_buf();
        let root = tempfile::Builder::new().prefix("jhot-ctr-root-").tempdir().expect("root").keep();
        let r = root.display();
        let run = format!(
            "{} -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar /app/jdk-httpserver-v1.jar --port={port}",
            java.display()
        );
        let tail = match pid1 {
            Pid1::Java => format!("exec {run}"),
            Pid1::Sleep => format!("{run} &\nexec sleep 100000"),
            Pid1::JhotRun => format!("exec {JHOT_INSIDE} run -- {run}"),
        };
        let script = format!(
            "set -e\nmount -t tmpfs tmpfs {r}\nmkdir -p {r}/usr {r}/etc {r}/tmp {r}/proc {r}/dev {r}/app {r}/old\n\
             for l in bin lib lib64 sbin; do ln -s usr/$l {r}/$l; done\n\
             mount --rbind -o ro /usr {r}/usr\nmount --rbind /etc {r}/etc\nmount --bind {jars} {r}/app\n\
             mount -t tmpfs tmpfs {r}/tmp\nmount --rbind /dev {r}/dev\nhostname jhot-h12\nip link set lo up\n\
             mkdir -p {r}/opt/jhot\ntouch {r}{JHOT_INSIDE}\nmount --bind {jhot} {r}{JHOT_INSIDE}\n\
             mkdir -p {r}{jars}\nmount --bind {jars} {r}{jars}\n\
             cd {r}\npivot_root . old\ncd /\nmount -t proc proc /proc\numount -l /old\ncd /app\n{tail}\n",
            jars = jars.display(),
            jhot = jhot_bin().display()
        );
        let mut cmd = Command::new("unshare");
        cmd.args(["--mount", "--propagation", "private", "--pid", "--fork", "--kill-child"])
            .args(["--net", "--uts", "--ipc", "--cgroup", "sh", "-c", &script]);
        let files = cgroups.procs_files();
        // SAFETY: system calls on memory prepared before fork.
        unsafe {
            cmd.pre_exec(move || {
                for f in &files {
                    let fd = libc::open(f.as_ptr(), libc::O_WRONLY | libc::O_CLOEXEC);
                    if fd < 0 || libc::write(fd, b"0".as_ptr().cast(), 1) != 1 {
                        return Err(std::io::Error::last_os_error());
                    }
                    libc::close(fd);
                }
                Ok(())
            });
        }
        let unshare = Proc::spawn_cmd(cmd);
        unshare.wait_ready(1, Duration::from_secs(60));
        let init = crate::harness::children_of(unshare.pid()).first().copied().expect("the container's PID 1");
        let java = if pid1 == Pid1::Java {
            init
        } else {
            crate::harness::children_of(init).first().copied().expect("the JVM under PID 1")
        };
        MiniContainer { _unshare: unshare, init, java, root }
    }
}

/// What the container's PID 1 is.
#[derive(Clone, Copy, PartialEq)]
enum Pid1 {
    /// `sleep`, the JVM its child (a JVM started by a runtime's `exec`, or by an init script).
    Sleep,
    /// The JVM itself.
    Java,
    /// `jhot run` with the JVM as its child (the Kubernetes pattern).
    JhotRun,
}

/// Where the jhot under test is inside the container.
const JHOT_INSIDE: &str = "/opt/jhot/jhot";

fn jhot_replace(pid: u32, jar_in_container: &str) -> crate::harness::Outcome {
    jhot(&["replace", &pid.to_string(), "--jar", jar_in_container, "--json", "--drain-timeout", "20"])
}

#[test]
fn replace_in_a_container_from_the_host() {
    let _g = lock();
    let cgroups = Cgroups::create(&format!("jhot-e2e-ctr-{}", std::process::id()));
    let pids = Pids::default();
    let port = free_port();
    let ctr = MiniContainer::start(port, &cgroups, false);
    pids.add(ctr.init);
    let old = ctr.java;
    let before = Context::of(old);
    let old_ns = crate::harness::namespaces(old);
    assert_ne!(old_ns, crate::harness::namespaces(std::process::id()), "the JVM runs in namespaces of its own");
    let close = crate::harness::Load::start_in(
        Some(old),
        "close, in the container",
        port,
        "/",
        jhot_loadgen::Mode::Close,
        4,
        false,
    );
    std::thread::sleep(Duration::from_millis(500));

    // --ready-url names the container's loopback: the probe is made in its network namespace.
    let url = format!("http://127.0.0.1:{port}/");
    let out = jhot(&[
        "replace",
        &old.to_string(),
        "--jar",
        "/app/jdk-httpserver-v2.jar",
        "--ready-url",
        &url,
        "--json",
        "--drain-timeout",
        "20",
    ]);
    assert_eq!(out.code, 0, "jhot replace failed: {out:?}");
    let v = out.json();
    assert_eq!(v["ready_url_status"], 200, "{v}");
    let new = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new);
    std::thread::sleep(Duration::from_millis(500));
    let load = close.finish();
    crate::harness::assert_no_failures(&load, "close clients inside the container");
    assert!(load.gens.contains_key("v2"), "the new version served");

    assert_eq!(
        crate::harness::namespaces(new),
        old_ns,
        "mnt, pid, net, uts, ipc and cgroup namespaces are the old process's"
    );
    assert_eq!(std::fs::read_link(format!("/proc/{new}/cwd")).expect("cwd"), PathBuf::from("/app"));
    assert_eq!(std::fs::read_link(format!("/proc/{new}/root")).expect("root"), PathBuf::from("/"));
    let nspids = crate::harness::ns_pids(new).expect("NSpid");
    assert_eq!(nspids.len(), 2, "a pid in the container: {nspids:?}");
    let environ = std::fs::read(format!("/proc/{new}/environ")).expect("environ");
    let environ = String::from_utf8_lossy(&environ);
    assert!(environ.split('\0').any(|e| e == format!("LISTEN_PID={}", nspids[1])), "LISTEN_PID is the pid inside");
    assert!(
        environ.split('\0').any(|e| e.starts_with("LD_PRELOAD=/tmp/.jhot-0/")),
        "the shim is named by its path inside the container"
    );
    Context::of(new).assert_same(&before, "the replacement of a JVM in a container");
    assert!(crate::harness::wait_gone(old, Duration::from_secs(20)), "the old JVM was drained");
}

/// `jhot run` as the container's PID 1: replaced from the host (jhot finds the supervisor's socket
/// inside the container's root and asks it), then from inside the container, under load.
#[test]
fn run_as_a_container_pid_1_is_replaced_from_the_host_and_from_inside() {
    let _g = lock();
    let cgroups = Cgroups::create(&format!("jhot-e2e-ctr3-{}", std::process::id()));
    let pids = Pids::default();
    let port = free_port();
    let ctr = MiniContainer::start_with(port, &cgroups, Pid1::JhotRun);
    pids.add(ctr.init);
    let old_ns = crate::harness::namespaces(ctr.java);
    let close = crate::harness::Load::start_in(
        Some(ctr.java),
        "close, in the container",
        port,
        "/",
        jhot_loadgen::Mode::Close,
        4,
        false,
    );
    std::thread::sleep(Duration::from_millis(500));

    let out = jhot_replace(ctr.java, "/app/jdk-httpserver-v2.jar");
    assert_eq!(out.code, 0, "jhot replace from the host failed: {out:?}");
    let v = out.json();
    assert_eq!(v["supervised"], Value::Bool(true), "through the supervisor: {v}");
    let second = crate::harness::children_of(ctr.init);
    assert_eq!(second.len(), 1, "one generation under jhot run: {second:?}");
    assert_eq!(crate::harness::namespaces(second[0]), old_ns, "in the container's namespaces");

    let inner = crate::harness::ns_pids(second[0]).expect("NSpid").last().copied().expect("pid inside");
    let out =
        crate::harness::output(Command::new("nsenter").args(["-t", &ctr.init.to_string(), "-a", "-r", "-w"]).args([
            JHOT_INSIDE,
            "replace",
            &inner.to_string(),
            "--jar",
            "/app/jdk-httpserver-v1.jar",
            "--json",
        ]));
    assert_eq!(out.code, 0, "jhot replace inside the container failed: {out:?}");
    assert_eq!(out.json()["supervised"], Value::Bool(true));
    std::thread::sleep(Duration::from_millis(500));
    let load = close.finish();
    crate::harness::assert_no_failures(&load, "close clients inside the container");
    assert!(load.gens.contains_key("v2") && load.gens.contains_key("v1"), "both versions served");
}

/// `jhot deploy` goes through the same replacement: a build the container cannot see at the same
/// path is refused before anything starts; one it sees there (a bind mount of the same directory,
/// as the sample jars are here) is deployed into it.
#[test]
fn deploy_into_a_container_needs_the_build_visible_there() {
    let _g = lock();
    let cgroups = Cgroups::create(&format!("jhot-e2e-ctr4-{}", std::process::id()));
    let pids = Pids::default();
    let port = free_port();
    let ctr = MiniContainer::start(port, &cgroups, false);
    pids.add(ctr.init);
    let v2 = jar("jdk-httpserver", "v2");
    let elsewhere = tempfile::tempdir().expect("tmp");
    let copy = elsewhere.path().join("jdk-httpserver-v2.jar");
    std::fs::copy(&v2, &copy).expect("copy");
    let deploy = |build: &Path| {
        jhot(&["deploy".to_string(), ctr.java.to_string(), build.display().to_string(), "--json".into()])
    };
    let out = deploy(&copy);
    assert_eq!(out.code, 6, "refused as bad input: {out:?}");
    assert!(out.stdout.contains("runs in a container"), "{out:?}");
    assert_eq!(crate::harness::children_of(ctr.init), [ctr.java], "nothing was started");

    let out = deploy(&v2);
    assert_eq!(out.code, 0, "{out:?}");
    let v = out.json();
    let new = v["replacement"]["new_pid"].as_u64().unwrap_or_else(|| panic!("a replacement: {v}")) as u32;
    pids.add(new);
    assert_eq!(crate::harness::namespaces(new), crate::harness::namespaces(ctr.init), "deployed into the container");
}
