//! The execution context a replacement keeps: what the old process was given by whoever started
//! it (systemd's `LimitNOFILE=`, `UMask=`, `NoNewPrivileges=`, `OOMScoreAdjust=`, `Nice=`,
//! `CPUAffinity=`, its cgroup; a container runtime's cgroup and capability bounding set) and what
//! fork/exec from jhot would otherwise replace with jhot's own (the operator's SSH session).
//!
//! [`ExecContext::read`] takes it from the old process (/proc through `jhot_attach::procfs`, and
//! `prlimit`/`getpriority`/`sched_getaffinity` for the values /proc only shows rounded or per
//! thread). [`ExecContext::prepare`] turns it into [`Prepared`]: every descriptor opened, every
//! buffer built, and what differs from jhot's own context only, so that the child of
//! `spawn::spawn` applies it between fork and exec with async-signal-safe system calls alone
//! ([`Prepared::apply_before_namespaces`], [`Prepared::apply_before_credentials`],
//! [`Prepared::apply_before_exec`]).
//!
//! What cannot be reproduced is not an error but a warning in the report: a seccomp filter (the
//! kernel gives no way to copy one without ptrace), a limit or priority above what jhot itself may
//! grant without the capability for it, no_new_privs that jhot itself has and the old process has
//! not.

use std::os::fd::{AsFd, AsRawFd, OwnedFd};

use jhot_attach::procfs::{self, CgroupMembership, CgroupMount};

use super::TakeoverError;

const CAP_SETPCAP: u32 = 8;
const CAP_SYS_ADMIN: u32 = 21;
const CAP_SYS_NICE: u32 = 23;
const CAP_SYS_RESOURCE: u32 = 24;
/// RLIMIT_NLIMITS: the kernel's 16 resources (CPU … RTTIME).
const RLIMITS: u32 = 16;

/// The old process's context, as read.
#[derive(Debug, Clone)]
pub struct ExecContext {
    pub pid: u32,
    pub cgroups: Vec<CgroupMembership>,
    /// Every resource, read exactly (`/proc/<pid>/limits` rounds nothing, but prints "unlimited").
    pub rlimits: Vec<(u32, libc::rlimit64)>,
    pub status: procfs::ExecStatus,
    pub oom_score_adj: i32,
    pub nice: i32,
    pub affinity: libc::cpu_set_t,
    /// (policy with SCHED_RESET_ON_FORK, priority).
    pub sched: (i32, i32),
}

fn rlimit_name(res: u32) -> &'static str {
    const NAMES: [&str; 16] = [
        "RLIMIT_CPU",
        "RLIMIT_FSIZE",
        "RLIMIT_DATA",
        "RLIMIT_STACK",
        "RLIMIT_CORE",
        "RLIMIT_RSS",
        "RLIMIT_NPROC",
        "RLIMIT_NOFILE",
        "RLIMIT_MEMLOCK",
        "RLIMIT_AS",
        "RLIMIT_LOCKS",
        "RLIMIT_SIGPENDING",
        "RLIMIT_MSGQUEUE",
        "RLIMIT_NICE",
        "RLIMIT_RTPRIO",
        "RLIMIT_RTTIME",
    ];
    NAMES.get(res as usize).copied().unwrap_or("RLIMIT_?")
}

fn get_rlimit(pid: u32, res: u32) -> std::io::Result<libc::rlimit64> {
    let mut out = libc::rlimit64 { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: prlimit64 reads a limit into `out`, which outlives the call; no new limit is passed.
    let r = unsafe { libc::prlimit64(pid as libc::pid_t, res as _, std::ptr::null(), &mut out) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(out)
}

fn get_nice(pid: u32) -> std::io::Result<i32> {
    // SAFETY: getpriority has no memory effects; -1 is a valid value, so errno tells errors apart.
    unsafe {
        *libc::__errno_location() = 0;
        let v = libc::getpriority(libc::PRIO_PROCESS, pid as libc::id_t);
        if v == -1 && *libc::__errno_location() != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(v)
    }
}

fn get_affinity(pid: u32) -> std::io::Result<libc::cpu_set_t> {
    // SAFETY: an all-zero cpu_set_t is valid; the kernel writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(pid as libc::pid_t, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(set)
    }
}

fn get_sched(pid: u32) -> std::io::Result<(i32, i32)> {
    // SAFETY: raw system calls that write a sched_param owned here (glibc's wrappers hide
    // SCHED_RESET_ON_FORK on some versions; the system call returns it).
    unsafe {
        let policy = libc::syscall(libc::SYS_sched_getscheduler, pid as libc::pid_t);
        if policy < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let mut param: libc::sched_param = std::mem::zeroed();
        if libc::syscall(libc::SYS_sched_getparam, pid as libc::pid_t, &mut param as *mut libc::sched_param) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((policy as i32, param.sched_priority))
    }
}

fn same_cpu_set(a: &libc::cpu_set_t, b: &libc::cpu_set_t) -> bool {
    // SAFETY: cpu_set_t is plain bytes.
    let bytes = |s: &libc::cpu_set_t| unsafe {
        std::slice::from_raw_parts((s as *const libc::cpu_set_t).cast::<u8>(), std::mem::size_of::<libc::cpu_set_t>())
            .to_vec()
    };
    bytes(a) == bytes(b)
}

impl ExecContext {
    /// Reads process `pid`'s context. A value that cannot be read is an error: a replacement that
    /// silently lost the service's limits is what this module exists to prevent.
    pub fn read(pid: u32) -> Result<ExecContext, TakeoverError> {
        let io = |what: &str, e: std::io::Error| TakeoverError::Inspect { pid, what: what.to_string(), source: e };
        let cgroups = procfs::read_cgroup(pid).map_err(|e| io("its cgroups", e))?;
        let mut rlimits = Vec::with_capacity(RLIMITS as usize);
        for res in 0..RLIMITS {
            match get_rlimit(pid, res) {
                Ok(l) => rlimits.push((res, l)),
                // prlimit on another user's process needs CAP_SYS_RESOURCE, which even root may
                // lack (a container, a capability-bounded service); /proc/<pid>/limits shows
                // the same exact values to anyone.
                Err(e) if e.raw_os_error() == Some(libc::EPERM) => {
                    tracing::debug!(pid, "prlimit refused; reading /proc/{pid}/limits");
                    let all = procfs::read_limits(pid).map_err(|e| io("its resource limits", e))?;
                    rlimits = all
                        .iter()
                        .take(RLIMITS as usize)
                        .enumerate()
                        .map(|(i, &(cur, max))| (i as u32, libc::rlimit64 { rlim_cur: cur, rlim_max: max }))
                        .collect();
                    if rlimits.len() != RLIMITS as usize {
                        return Err(io(
                            "its resource limits",
                            std::io::Error::other("/proc/<pid>/limits is incomplete"),
                        ));
                    }
                    break;
                }
                Err(e) => return Err(io(&format!("its {}", rlimit_name(res)), e)),
            }
        }
        let status = procfs::read_exec_status(pid).map_err(|e| io("its status", e))?;
        let oom_score_adj = procfs::read_oom_score_adj(pid).map_err(|e| io("its oom_score_adj", e))?;
        let nice = get_nice(pid).map_err(|e| io("its nice value", e))?;
        let affinity = get_affinity(pid).map_err(|e| io("its CPU affinity", e))?;
        let sched = get_sched(pid).map_err(|e| io("its scheduling policy", e))?;
        Ok(ExecContext { pid, cgroups, rlimits, status, oom_score_adj, nice, affinity, sched })
    }

    /// What the child must change so that its context is this one, opened and built now (before
    /// fork). Compared with jhot's own context, which the child inherits.
    pub fn prepare(&self) -> Result<Prepared, TakeoverError> {
        // The child inherits the forking thread's nice value, affinity and policy (per thread), and
        // the process's limits, cgroups and status: reading the thread reads both.
        let me = ExecContext::read(rustix::thread::gettid().as_raw_nonzero().get() as u32)?;
        let has_cap = |cap: u32| me.status.cap_eff & (1u64 << cap) != 0;
        let pid = self.pid;
        let mut p = Prepared::default();

        // Cgroups: one cgroup.procs per hierarchy where the old process is elsewhere than jhot.
        let mounts = procfs::read_own_cgroup_mounts().map_err(|e| TakeoverError::io("reading jhot's mounts", e))?;
        for m in &self.cgroups {
            let mine = me.cgroups.iter().find(|c| c.hierarchy == m.hierarchy && c.controllers == m.controllers);
            if mine.is_some_and(|c| c.path == m.path) {
                continue;
            }
            let shown = hierarchy_name(m);
            let Some((dir, rel)) = cgroup_dir(&mounts, m) else {
                p.warn(format!(
                    "the new process is not in the old one's {shown} cgroup {}: that hierarchy is not mounted where jhot \
                     runs (or the cgroup is outside jhot's cgroup namespace)",
                    m.path
                ));
                continue;
            };
            let file = if rel.is_empty() { "cgroup.procs".to_string() } else { format!("{rel}/cgroup.procs") };
            let opened = rustix::fs::open(
                &dir,
                rustix::fs::OFlags::PATH | rustix::fs::OFlags::DIRECTORY,
                rustix::fs::Mode::empty(),
            )
            .map_err(std::io::Error::from)
            .and_then(|d| {
                // A cgroup file system has no links; whatever names a tenant gave its delegated
                // cgroups, the path stays below the mount.
                jhot_attach::safe_fs::open_beneath(d.as_fd(), &file, rustix::fs::OFlags::WRONLY)
            });
            match opened {
                Ok(fd) => p.cgroups.push((fd, format!("{shown} cgroup {}", m.path))),
                Err(e) if !has_cap(CAP_SYS_ADMIN) && matches!(e.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => p
                    .warn(format!(
                        "the new process stays in jhot's {shown} cgroup, not the old one's {} ({e}; jhot runs without \
                     CAP_SYS_ADMIN)",
                        m.path
                    )),
                Err(e) => {
                    return Err(TakeoverError::io(
                        &format!("opening {}/{file} to put the new process in pid {pid}'s cgroup", dir.display()),
                        e,
                    ));
                }
            }
        }

        for (&(res, want), &(_, ours)) in self.rlimits.iter().zip(me.rlimits.iter()) {
            if (want.rlim_cur, want.rlim_max) == (ours.rlim_cur, ours.rlim_max) {
                continue;
            }
            let mut set = want;
            if want.rlim_max > ours.rlim_max && !has_cap(CAP_SYS_RESOURCE) {
                p.warn(format!(
                    "{} of the new process is capped at jhot's hard limit {} (the old process has {}): raising a hard \
                     limit needs CAP_SYS_RESOURCE",
                    rlimit_name(res),
                    show_limit(ours.rlim_max),
                    show_limit(want.rlim_max)
                ));
                set.rlim_max = ours.rlim_max;
                set.rlim_cur = set.rlim_cur.min(set.rlim_max);
            }
            p.rlimits.push((res, set));
        }

        if self.oom_score_adj != me.oom_score_adj {
            if self.oom_score_adj < me.oom_score_adj && !has_cap(CAP_SYS_RESOURCE) {
                p.warn(format!(
                    "oom_score_adj of the new process is jhot's {} (the old process has {}): lowering it needs \
                     CAP_SYS_RESOURCE",
                    me.oom_score_adj, self.oom_score_adj
                ));
            } else {
                p.oom_score_adj = Some(format!("{}", self.oom_score_adj).into_bytes());
            }
        }

        // A lower nice value than jhot's needs CAP_SYS_NICE, or RLIMIT_NICE (set just before).
        if self.nice != me.nice {
            let nice_limit = self.rlimits.get(13).map(|r| r.1.rlim_cur).unwrap_or(0);
            let allowed_by_rlimit = 20 - self.nice as i64 <= nice_limit as i64;
            if self.nice < me.nice && !has_cap(CAP_SYS_NICE) && !allowed_by_rlimit {
                p.warn(format!(
                    "the new process has jhot's nice value {} (the old process has {}): lowering it needs CAP_SYS_NICE",
                    me.nice, self.nice
                ));
            } else {
                p.nice = Some(self.nice);
            }
        }

        if !same_cpu_set(&self.affinity, &me.affinity) {
            p.affinity = Some(Box::new(self.affinity));
        }

        if self.sched != me.sched {
            let realtime = matches!(self.sched.0 & !libc::SCHED_RESET_ON_FORK, libc::SCHED_FIFO | libc::SCHED_RR);
            if realtime && !has_cap(CAP_SYS_NICE) {
                p.warn(format!(
                    "the new process runs with jhot's scheduling policy, not the old one's real-time policy {} \
                     (priority {}): that needs CAP_SYS_NICE",
                    self.sched.0, self.sched.1
                ));
            } else {
                p.sched = Some(self.sched);
            }
        }

        // Capabilities an exec could gain that the old process's could not (a container runtime's
        // reduced bounding set; systemd's CapabilityBoundingSet=).
        let drop = me.status.cap_bnd & !self.status.cap_bnd;
        if drop != 0 {
            if has_cap(CAP_SETPCAP) {
                p.cap_drop = (0..64).filter(|c| drop & (1u64 << c) != 0).collect();
            } else {
                p.warn(format!(
                    "the new process keeps jhot's capability bounding set {:#x}, not the old one's {:#x}: reducing it \
                     needs CAP_SETPCAP",
                    me.status.cap_bnd, self.status.cap_bnd
                ));
            }
        }

        if let Some(u) = self.status.umask
            && Some(u) != me.status.umask
        {
            p.umask = Some(u);
        }
        if self.status.no_new_privs && !me.status.no_new_privs {
            p.no_new_privs = true;
        } else if !self.status.no_new_privs && me.status.no_new_privs {
            p.warn("the new process has no_new_privs set (inherited from jhot, which cannot clear it); the old one did not".into());
        }
        // An AppArmor profile or SELinux context: not applied (untested here: no LSM on the test
        // machines), so said.
        if let Ok(Some(label)) = procfs::read_lsm_label(pid)
            && procfs::read_lsm_label(std::process::id()).ok().flatten().as_deref() != Some(label.as_str())
        {
            p.warn(format!(
                "pid {pid} runs under the security label {label:?} (AppArmor/SELinux); the new process gets jhot's"
            ));
        }
        if self.status.seccomp != 0 && self.status.seccomp != me.status.seccomp {
            p.warn(format!(
                "pid {pid} runs under a seccomp filter that cannot be copied: the new process runs without it"
            ));
        }
        for w in &p.warnings {
            tracing::warn!(pid, "{w}");
        }
        Ok(p)
    }
}

fn show_limit(v: u64) -> String {
    if v == libc::RLIM64_INFINITY { "unlimited".into() } else { v.to_string() }
}

fn hierarchy_name(m: &CgroupMembership) -> String {
    if m.is_unified() { "unified (v2)".into() } else { format!("{} (v1)", m.controllers.join(",")) }
}

/// The directory where hierarchy `m` is mounted in jhot's mount namespace, and `m`'s cgroup
/// relative to it (no leading `/`). None when it is not mounted or not below the mount's root.
fn cgroup_dir(mounts: &[CgroupMount], m: &CgroupMembership) -> Option<(std::path::PathBuf, String)> {
    if m.path.starts_with("/..") || !m.path.starts_with('/') {
        return None;
    }
    let mount = mounts.iter().find(|mt| {
        if m.is_unified() {
            return mt.unified;
        }
        let mut a = mt.controllers.clone();
        let mut b = m.controllers.clone();
        a.sort();
        b.sort();
        !mt.unified && a == b
    })?;
    let root = mount.root.trim_end_matches('/');
    let rel = m.path.strip_prefix(root)?;
    if !(rel.is_empty() || rel.starts_with('/')) || rel.split('/').any(|c| c == "..") {
        return None;
    }
    Some((mount.mount_point.clone(), rel.trim_start_matches('/').to_string()))
}

/// The changes the child makes, prepared before fork.
#[derive(Default)]
pub struct Prepared {
    /// `cgroup.procs` of each hierarchy to join, open for writing, and what it is for messages.
    cgroups: Vec<(OwnedFd, String)>,
    rlimits: Vec<(u32, libc::rlimit64)>,
    oom_score_adj: Option<Vec<u8>>,
    nice: Option<i32>,
    affinity: Option<Box<libc::cpu_set_t>>,
    sched: Option<(i32, i32)>,
    cap_drop: Vec<u32>,
    umask: Option<u32>,
    no_new_privs: bool,
    /// What is not reproduced, and why (also logged).
    pub warnings: Vec<String>,
}

/// The child's failure codes (see `spawn::fail`): a step, and for cgroups and limits which one.
pub const STEP_CGROUP: i32 = 100;
pub const STEP_RLIMIT: i32 = 200;
pub const STEP_OOM: i32 = 300;
pub const STEP_NICE: i32 = 301;
pub const STEP_AFFINITY: i32 = 302;
pub const STEP_SCHED: i32 = 303;
pub const STEP_CAPBSET: i32 = 304;
pub const STEP_NO_NEW_PRIVS: i32 = 305;

static OOM_PATH: &[u8] = b"/proc/self/oom_score_adj\0";

impl Prepared {
    fn warn(&mut self, w: String) {
        self.warnings.push(w);
    }

    /// True when nothing differs.
    pub fn is_empty(&self) -> bool {
        self.cgroups.is_empty()
            && self.rlimits.is_empty()
            && self.oom_score_adj.is_none()
            && self.nice.is_none()
            && self.affinity.is_none()
            && self.sched.is_none()
            && self.cap_drop.is_empty()
            && self.umask.is_none()
            && !self.no_new_privs
    }

    /// In the child, first: the cgroups (before a cgroup namespace is entered, which would hide
    /// the target cgroup from a v2 migration check, and before the placement of inherited
    /// descriptors could reuse the numbers of the open `cgroup.procs` files). Writing 0 moves the
    /// writer, whatever pid namespace it is in.
    ///
    /// # Safety
    /// Only in the forked child; async-signal-safe system calls on memory prepared before fork.
    pub unsafe fn apply_before_namespaces(&self) -> Result<(), (i32, i32)> {
        for (i, (fd, _)) in self.cgroups.iter().enumerate() {
            // SAFETY: write(2) of a static byte to an open descriptor.
            if unsafe { libc::write(fd.as_raw_fd(), b"0".as_ptr().cast(), 1) } != 1 {
                return Err((STEP_CGROUP + i as i32, errno()));
            }
        }
        // Limits before the priority (RLIMIT_NICE) and before the uid switch (raising a hard
        // limit needs CAP_SYS_RESOURCE, which the switch drops).
        for &(res, ref lim) in &self.rlimits {
            // SAFETY: prlimit64 on ourselves with a limit prepared before fork.
            if unsafe { libc::syscall(libc::SYS_prlimit64, 0, res, lim as *const libc::rlimit64, 0usize) } != 0 {
                return Err((STEP_RLIMIT + res as i32, errno()));
            }
        }
        if let Some(text) = &self.oom_score_adj {
            // /proc/self of jhot's proc mount, before the mount namespace changes; lowering the
            // value needs CAP_SYS_RESOURCE, so this precedes the uid switch too.
            // SAFETY: open/write/close on a static path and a prepared buffer.
            unsafe {
                let fd = libc::open(OOM_PATH.as_ptr().cast(), libc::O_WRONLY | libc::O_CLOEXEC);
                if fd < 0 || libc::write(fd, text.as_ptr().cast(), text.len()) != text.len() as isize {
                    return Err((STEP_OOM, errno()));
                }
                libc::close(fd);
            }
        }
        if let Some(nice) = self.nice {
            // SAFETY: setpriority on ourselves.
            if unsafe { libc::syscall(libc::SYS_setpriority, libc::PRIO_PROCESS, 0, nice) } != 0 {
                return Err((STEP_NICE, errno()));
            }
        }
        if let Some(set) = &self.affinity {
            // SAFETY: a cpu_set_t prepared before fork. After the cgroup join: the old cgroup's
            // cpuset is the one the mask must fit.
            let r = unsafe {
                libc::syscall(
                    libc::SYS_sched_setaffinity,
                    0,
                    std::mem::size_of::<libc::cpu_set_t>(),
                    &**set as *const libc::cpu_set_t,
                )
            };
            if r != 0 {
                return Err((STEP_AFFINITY, errno()));
            }
        }
        if let Some((policy, priority)) = self.sched {
            let param = libc::sched_param { sched_priority: priority };
            // SAFETY: a sched_param on the stack.
            if unsafe { libc::syscall(libc::SYS_sched_setscheduler, 0, policy, &param as *const libc::sched_param) }
                != 0
            {
                return Err((STEP_SCHED, errno()));
            }
        }
        Ok(())
    }

    /// In the child, after the namespaces and before the uid switch (it needs CAP_SETPCAP).
    ///
    /// # Safety
    /// As [`Prepared::apply_before_namespaces`].
    pub unsafe fn apply_before_credentials(&self) -> Result<(), (i32, i32)> {
        for &cap in &self.cap_drop {
            // SAFETY: prctl with integer arguments.
            if unsafe { libc::syscall(libc::SYS_prctl, libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } != 0 {
                return Err((STEP_CAPBSET, errno()));
            }
        }
        Ok(())
    }

    /// In the child, last before exec: the umask (nothing jhot creates in between), and
    /// no_new_privs (after the uid switch, which it does not hinder, and it cannot be undone).
    ///
    /// # Safety
    /// As [`Prepared::apply_before_namespaces`].
    pub unsafe fn apply_before_exec(&self) -> Result<(), (i32, i32)> {
        if let Some(mask) = self.umask {
            // SAFETY: umask cannot fail.
            unsafe { libc::syscall(libc::SYS_umask, mask) };
        }
        if self.no_new_privs {
            // SAFETY: prctl with integer arguments.
            if unsafe { libc::syscall(libc::SYS_prctl, libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
                return Err((STEP_NO_NEW_PRIVS, errno()));
            }
        }
        Ok(())
    }

    /// What a failure code from the child names, for the message.
    pub fn describe(&self, step: i32) -> Option<String> {
        Some(match step {
            s if (STEP_CGROUP..STEP_CGROUP + 100).contains(&s) => {
                format!("joining the old process's {}", self.cgroups.get((s - STEP_CGROUP) as usize)?.1)
            }
            s if (STEP_RLIMIT..STEP_RLIMIT + 100).contains(&s) => {
                let res = (s - STEP_RLIMIT) as u32;
                let lim = self.rlimits.iter().find(|r| r.0 == res)?.1;
                format!("setting {} to {}:{}", rlimit_name(res), show_limit(lim.rlim_cur), show_limit(lim.rlim_max))
            }
            STEP_OOM => format!(
                "setting oom_score_adj to {}",
                String::from_utf8_lossy(self.oom_score_adj.as_deref().unwrap_or_default())
            ),
            STEP_NICE => format!("setting the nice value to {}", self.nice.unwrap_or(0)),
            STEP_AFFINITY => "setting the CPU affinity".into(),
            STEP_SCHED => format!("setting the scheduling policy {:?}", self.sched.unwrap_or_default()),
            STEP_CAPBSET => "reducing the capability bounding set".into(),
            STEP_NO_NEW_PRIVS => "setting no_new_privs".into(),
            _ => return None,
        })
    }
}

fn errno() -> i32 {
    // SAFETY: reading the thread's errno.
    unsafe { *libc::__errno_location() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mount(unified: bool, controllers: &[&str], root: &str, at: &str) -> CgroupMount {
        CgroupMount {
            unified,
            controllers: controllers.iter().map(|s| s.to_string()).collect(),
            root: root.into(),
            mount_point: at.into(),
        }
    }

    fn member(h: u32, controllers: &[&str], path: &str) -> CgroupMembership {
        CgroupMembership {
            hierarchy: h,
            controllers: controllers.iter().map(|s| s.to_string()).collect(),
            path: path.into(),
        }
    }

    #[test]
    fn cgroup_directories_on_a_hybrid_setup() {
        let mounts = [
            mount(false, &["cpuacct", "cpu"], "/", "/sys/fs/cgroup/cpu,cpuacct"),
            mount(false, &["name=systemd"], "/", "/sys/fs/cgroup/systemd"),
            mount(true, &[], "/", "/sys/fs/cgroup/unified"),
            mount(false, &["memory"], "/kubepods", "/sys/fs/cgroup/memory"),
        ];
        let d = |m| cgroup_dir(&mounts, &m).map(|(p, r)| (p.display().to_string(), r));
        assert_eq!(
            d(member(1, &["cpu", "cpuacct"], "/system.slice/a.service")),
            Some(("/sys/fs/cgroup/cpu,cpuacct".into(), "system.slice/a.service".into()))
        );
        assert_eq!(d(member(0, &[], "/")), Some(("/sys/fs/cgroup/unified".into(), String::new())));
        assert_eq!(d(member(4, &["memory"], "/kubepods/pod1")), Some(("/sys/fs/cgroup/memory".into(), "pod1".into())));
        assert_eq!(d(member(4, &["memory"], "/other")), None, "outside the mounted sub-tree");
        assert_eq!(d(member(4, &["memory"], "/kubepodsX")), None, "a prefix of a name is not a parent");
        assert_eq!(d(member(2, &["pids"], "/a")), None, "not mounted");
        assert_eq!(d(member(0, &[], "/../../x")), None, "outside jhot's cgroup namespace");
    }

    #[test]
    fn reads_own_context_and_nothing_differs() {
        let me = ExecContext::read(rustix::thread::gettid().as_raw_nonzero().get() as u32).expect("read");
        assert_eq!(me.rlimits.len(), 16);
        assert!(!me.cgroups.is_empty());
        let p = me.prepare().expect("prepare");
        assert!(p.is_empty(), "jhot's own context needs no change");
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }
}
