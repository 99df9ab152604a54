//! What `/proc` says about a process: ids, namespaces, signal masks, command line, loaded VM,
//! open descriptors, TCP sockets, threads.
//!
//! The `parse_*` functions are pure (text in, facts out) so they are tested on literal text;
//! the `read_*` functions only add the file access.

use std::ffi::OsString;
use std::fs;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// SIGQUIT is signal 3, i.e. bit 2 of the `SigCgt`/`SigIgn` masks.
const SIGQUIT_BIT: u64 = 1 << 2;

/// The lines of `/proc/<pid>/status` that attaching needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// `Name:` (the kernel's 15-byte comm, e.g. `java`).
    pub name: String,
    /// Real uid: the first field of `Uid:` (the user a replacement runs as).
    pub uid: u32,
    /// Real gid: the first field of `Gid:`.
    pub gid: u32,
    /// Effective uid: the second field of `Uid:`; HotSpot compares the peer against its euid.
    pub euid: u32,
    /// Effective gid: the second field of `Gid:`.
    pub egid: u32,
    /// Supplementary groups: `Groups:` (may be empty).
    pub groups: Vec<u32>,
    /// The pid as the process itself sees it (innermost pid namespace).
    pub nspid: u32,
    pub sig_cgt: u64,
    pub sig_ign: u64,
}

impl Status {
    /// True if SIGQUIT reaches a handler. Otherwise the default action (core dump) would kill it.
    pub fn catches_sigquit(&self) -> bool {
        self.sig_cgt & SIGQUIT_BIT != 0 && self.sig_ign & SIGQUIT_BIT == 0
    }
}

/// Parses `/proc/<pid>/status`. `pid` is the fallback nspid for kernels without `NSpid:`.
pub fn parse_status(text: &str, pid: u32) -> Option<Status> {
    let mut name = None;
    let (mut uid, mut gid, mut euid, mut egid) = (None, None, None, None);
    let mut groups = Vec::new();
    let (mut nspid, mut nstgid) = (None, None);
    let (mut sig_cgt, mut sig_ign) = (0, 0);
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "Name" => name = Some(value.to_string()),
            "Uid" => (uid, euid) = (nth_number(value, 0), nth_number(value, 1)),
            "Gid" => (gid, egid) = (nth_number(value, 0), nth_number(value, 1)),
            "Groups" => groups = value.split_whitespace().filter_map(|g| g.parse().ok()).collect(),
            // The last field is the innermost namespace: the pid the JVM puts in its file names.
            "NSpid" => nspid = value.split_whitespace().last().and_then(|v| v.parse().ok()),
            "NStgid" => nstgid = value.split_whitespace().last().and_then(|v| v.parse().ok()),
            "SigCgt" => sig_cgt = u64::from_str_radix(value, 16).ok()?,
            "SigIgn" => sig_ign = u64::from_str_radix(value, 16).ok()?,
            _ => {}
        }
    }
    Some(Status {
        name: name.unwrap_or_default(),
        uid: uid?,
        gid: gid?,
        euid: euid?,
        egid: egid?,
        groups,
        nspid: nspid.or(nstgid).unwrap_or(pid),
        sig_cgt,
        sig_ign,
    })
}

fn nth_number(value: &str, n: usize) -> Option<u32> {
    value.split_whitespace().nth(n)?.parse().ok()
}

/// Splits `/proc/<pid>/cmdline` (NUL-separated, usually NUL-terminated) into arguments.
pub fn parse_cmdline(bytes: &[u8]) -> Vec<String> {
    let bytes = bytes.strip_suffix(b"\0").unwrap_or(bytes);
    if bytes.is_empty() {
        return Vec::new();
    }
    bytes.split(|&b| b == 0).map(|a| String::from_utf8_lossy(a).into_owned()).collect()
}

/// The entries of a NUL-separated file (`cmdline`, `environ`) as the bytes they are, for running
/// them again. Empty entries are dropped: the terminating NUL, and the padding a process leaves
/// when it rewrites its argv.
pub fn parse_nul_list(bytes: &[u8]) -> Vec<OsString> {
    bytes.split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| OsString::from_vec(s.to_vec())).collect()
}

/// Which virtual machine, if any, a process has loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum VmKind {
    HotSpot,
    OpenJ9,
    NotJvm,
    /// The process's memory map could not be read (another user's process).
    Unknown,
}

/// Classifies a process from `/proc/<pid>/maps`; also returns the path of the VM library.
pub fn classify_maps(text: &str) -> (VmKind, Option<String>) {
    let mut openj9 = None;
    for line in text.lines() {
        // The path is the 6th column; it may contain spaces, so take everything after column 5.
        let Some(path) = line.splitn(6, char::is_whitespace).nth(5).map(str::trim) else {
            continue;
        };
        // A JDK upgraded in place keeps running its old, deleted library.
        let path = path.strip_suffix(" (deleted)").unwrap_or(path);
        let file = path.rsplit('/').next().unwrap_or(path);
        if file == "libjvm.so" {
            return (VmKind::HotSpot, Some(path.to_string()));
        }
        if openj9.is_none()
            && (file.starts_with("libj9vm") || file.starts_with("libopenj9") || file.starts_with("libj9"))
        {
            openj9 = Some(path.to_string());
        }
    }
    match openj9 {
        Some(path) => (VmKind::OpenJ9, Some(path)),
        None => (VmKind::NotJvm, None),
    }
}

/// Fields of `/proc/<pid>/stat` that identify a process instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    /// Field 3: `R`, `S`, `Z` (zombie), ...
    pub state: char,
    /// Field 4: the parent's pid (whoever reaps it: the process that started it, or a subreaper).
    pub ppid: u32,
    /// Field 22: clock ticks after boot. With the pid, it names one process even if the pid
    /// is reused.
    pub start_ticks: u64,
}

impl Stat {
    /// A zombie has exited; its /proc entry only waits for its parent.
    pub fn is_running(&self) -> bool {
        !matches!(self.state, 'Z' | 'X' | 'x')
    }
}

/// Parses `/proc/<pid>/stat`. The command name (field 2) may contain spaces and parentheses,
/// so fields are counted from the last `)`.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace(); // field 3 onwards
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let start_ticks = fields.nth(22 - 5)?.parse().ok()?;
    Some(Stat { state, ppid, start_ticks })
}

/// JVM options that decide whether and how jhot may attach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct JvmFlags {
    /// `-Xrs` / `-XX:+ReduceSignalUsage`: no SIGQUIT handler; the listener starts at VM startup.
    pub reduce_signal_usage: bool,
    /// `-XX:+DisableAttachMechanism`: no listener ever; SIGQUIT only prints a thread dump.
    pub attach_disabled: bool,
    /// `-XX:±EnableDynamicAgentLoading` if given (the last occurrence wins, as in HotSpot).
    pub dynamic_agent_loading: Option<bool>,
    /// `-XX:+AllowRedefinitionToAddDeleteMethods` (JDK 13+): changes what a redefinition may do.
    pub allow_add_delete_methods: bool,
    /// `-XX:+AllowEnhancedClassRedefinition` (JetBrains Runtime, DCEVM): a redefinition may change
    /// a class's shape.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub enhanced_redefinition: bool,
}

/// Reads the flags from JVM options (command-line arguments, or `JAVA_TOOL_OPTIONS` words).
pub fn parse_flags<'a>(args: impl IntoIterator<Item = &'a str>) -> JvmFlags {
    let mut flags = JvmFlags::default();
    for arg in args {
        match arg {
            "-Xrs" | "-XX:+ReduceSignalUsage" => flags.reduce_signal_usage = true,
            "-XX:-ReduceSignalUsage" => flags.reduce_signal_usage = false,
            "-XX:+DisableAttachMechanism" => flags.attach_disabled = true,
            "-XX:-DisableAttachMechanism" => flags.attach_disabled = false,
            "-XX:+EnableDynamicAgentLoading" => flags.dynamic_agent_loading = Some(true),
            "-XX:-EnableDynamicAgentLoading" => flags.dynamic_agent_loading = Some(false),
            "-XX:+AllowRedefinitionToAddDeleteMethods" => flags.allow_add_delete_methods = true,
            "-XX:-AllowRedefinitionToAddDeleteMethods" => flags.allow_add_delete_methods = false,
            "-XX:+AllowEnhancedClassRedefinition" => flags.enhanced_redefinition = true,
            "-XX:-AllowEnhancedClassRedefinition" => flags.enhanced_redefinition = false,
            _ => {}
        }
    }
    flags
}

/// The JVM options that the environment adds to a JVM's command line, in the order HotSpot
/// applies them: `(before, after)` the command line. `JAVA_TOOL_OPTIONS` and (for the `java`
/// launcher) `JDK_JAVA_OPTIONS` come first, `_JAVA_OPTIONS` last, overriding everything.
/// Split on whitespace (quotes are rare in these variables).
pub fn env_jvm_options(environ: &[u8]) -> (Vec<String>, Vec<String>) {
    let (mut before, mut after) = (Vec::new(), Vec::new());
    for kv in environ.split(|&b| b == 0) {
        let kv = String::from_utf8_lossy(kv);
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        let words = v.split_whitespace().map(str::to_string);
        match k {
            "JAVA_TOOL_OPTIONS" | "JDK_JAVA_OPTIONS" => before.extend(words),
            "_JAVA_OPTIONS" => after.extend(words),
            _ => {}
        }
    }
    (before, after)
}

/// Flags from HotSpot's own record of its options (perf-data `java.rt.vmFlags`, the
/// `-XX:Flags=` file as `+Name`/`-Name`, applied first; then `java.rt.vmArgs`, with the
/// environment variables and @argfiles already expanded).
pub fn flags_from_vm_record(vm_flags: &str, vm_args: &str) -> JvmFlags {
    let from_file = vm_flags.split_whitespace().filter(|w| w.starts_with(['+', '-'])).map(|w| format!("-XX:{w}"));
    let words: Vec<String> = from_file.chain(vm_args.split_whitespace().map(str::to_string)).collect();
    parse_flags(words.iter().map(String::as_str))
}

/// Looks up a user name in passwd-format text.
pub fn parse_passwd_name(text: &str, uid: u32) -> Option<String> {
    text.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id: u32 = f.nth(1)?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_string())
    })
}

/// The user name of `uid` in the passwd file under `root` (`/` for the host).
pub fn user_name(uid: u32) -> Option<String> {
    let text = fs::read_to_string("/etc/passwd").ok()?;
    parse_passwd_name(&text, uid)
}

/// The user name of `uid` in the `/etc/passwd` of process `pid`'s root (a container's), read
/// inside that root with a bound: its owner may have made it a FIFO or a link to a host file.
pub fn user_name_in(pid: u32, uid: u32) -> Option<String> {
    use std::os::fd::AsFd;
    let root = crate::safe_fs::proc_root(pid).ok()?;
    let bytes = crate::safe_fs::read_in_root(root.as_fd(), "/etc/passwd", 16 * crate::safe_fs::SMALL_FILE).ok()?;
    parse_passwd_name(&String::from_utf8_lossy(&bytes), uid)
}

/// The inode of a socket from the target of a `/proc/<pid>/fd/N` link: `socket:[12345]` → 12345.
pub fn parse_socket_link(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?.strip_suffix(']')?.parse().ok()
}

/// `st` of a `/proc/net/tcp` line: the kernel's TCP states that jhot looks for.
pub const TCP_ESTABLISHED: u8 = 0x01;
pub const TCP_LISTEN: u8 = 0x0A;
/// The peer closed its side; the process has not closed its own yet.
pub const TCP_CLOSE_WAIT: u8 = 0x08;

/// One line of `/proc/<pid>/net/tcp` or `tcp6`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpSocket {
    /// As the kernel has it: an IPv4-mapped address in `tcp6` stays an IPv6 address.
    pub local: SocketAddr,
    /// `st`: [`TCP_LISTEN`], [`TCP_ESTABLISHED`], ...
    pub state: u8,
    /// Bytes received and not read yet; for a listener, its accept backlog.
    pub rx_queue: u64,
    /// 0 for a socket that no descriptor holds any more (TIME_WAIT, ...).
    pub inode: u64,
}

/// The lines of `/proc/<pid>/net/tcp` (`v6` false) or `tcp6` (true), after the header. A line that
/// does not parse is left out.
pub fn parse_net_tcp(text: &str, v6: bool) -> Vec<TcpSocket> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            if cols.len() < 10 {
                return None;
            }
            Some(TcpSocket {
                local: parse_net_addr(cols[1], v6)?,
                state: u8::from_str_radix(cols[3], 16).ok()?,
                rx_queue: u64::from_str_radix(cols[4].split_once(':')?.1, 16).ok()?,
                inode: cols[9].parse().ok()?,
            })
        })
        .collect()
}

/// The kernel prints addresses as the in-memory words in hex: each 32-bit word in host byte order,
/// the port in network order.
fn parse_net_addr(s: &str, v6: bool) -> Option<SocketAddr> {
    let (ip_hex, port_hex) = s.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let ip = if v6 {
        if ip_hex.len() != 32 {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (w, out) in bytes.chunks_exact_mut(4).enumerate() {
            let word = u32::from_str_radix(ip_hex.get(w * 8..w * 8 + 8)?, 16).ok()?;
            out.copy_from_slice(&word.to_ne_bytes());
        }
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        if ip_hex.len() != 8 {
            return None;
        }
        let word = u32::from_str_radix(ip_hex, 16).ok()?;
        IpAddr::V4(Ipv4Addr::from(word.to_ne_bytes()))
    };
    Some(SocketAddr::new(ip, port))
}

/// Parses `JAVA_VERSION="17.0.15"` from a JDK's `release` file.
pub fn parse_release_version(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("JAVA_VERSION="))
        .map(|v| v.trim().trim_matches('"').to_string())
        .filter(|v| !v.is_empty())
}

/// What `/proc/<pid>/status` says about a process's execution context, beyond its ids: what a
/// replacement must reproduce (see the engine's `replace::context`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ExecStatus {
    /// `Umask:` (Linux 4.7+; None on older kernels).
    pub umask: Option<u32>,
    /// `NoNewPrivs:` is 1.
    pub no_new_privs: bool,
    /// `Seccomp:`: 0 none, 1 strict, 2 filter. A filter cannot be copied into another process.
    pub seccomp: u32,
    /// `CapEff:`, the effective capabilities.
    pub cap_eff: u64,
    /// `CapBnd:`, the capability bounding set (what an exec can gain).
    pub cap_bnd: u64,
}

/// Parses the execution-context lines of `/proc/<pid>/status`.
pub fn parse_exec_status(text: &str) -> ExecStatus {
    let mut out = ExecStatus::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match key {
            "Umask" => out.umask = u32::from_str_radix(value, 8).ok(),
            "NoNewPrivs" => out.no_new_privs = value == "1",
            "Seccomp" => out.seccomp = value.parse().unwrap_or(0),
            "CapEff" => out.cap_eff = u64::from_str_radix(value, 16).unwrap_or(0),
            "CapBnd" => out.cap_bnd = u64::from_str_radix(value, 16).unwrap_or(0),
            _ => {}
        }
    }
    out
}

/// `/proc/<pid>/limits`: (soft, hard) per resource, in the kernel's order (RLIMIT_CPU = 0 …),
/// `u64::MAX` for "unlimited". The values are the exact ones (the kernel prints them raw); used
/// where `prlimit` on the process is refused (another user's process, without CAP_SYS_RESOURCE),
/// as this file is readable by anyone.
pub fn parse_limits(text: &str) -> Vec<(u64, u64)> {
    let value = |v: &str| if v == "unlimited" { Some(u64::MAX) } else { v.parse().ok() };
    text.lines()
        .skip(1)
        // "%-25s %-20s %-20s %-10s": the name may contain spaces, the values start at column 26.
        .filter_map(|line| {
            let mut f = line.get(26..)?.split_whitespace();
            Some((value(f.next()?)?, value(f.next()?)?))
        })
        .collect()
}

/// `/proc/<pid>/attr/current`: the LSM label (SELinux context, AppArmor profile with its mode),
/// None when empty or "unconfined".
pub fn parse_lsm_label(text: &str) -> Option<String> {
    let label = text.trim_end_matches(['\0', '\n']).trim();
    (!label.is_empty() && label != "unconfined").then(|| label.to_string())
}

/// `/proc/<pid>/oom_score_adj`: -1000 to 1000.
pub fn parse_oom_score_adj(text: &str) -> Option<i32> {
    text.trim().parse().ok().filter(|v: &i32| (-1000..=1000).contains(v))
}

/// One line of `/proc/<pid>/cgroup`: `hierarchy-ID:controller-list:cgroup-path`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMembership {
    /// 0 for the unified (v2) hierarchy.
    pub hierarchy: u32,
    /// The v1 controllers of the hierarchy (`cpu,cpuacct`, `name=systemd`); empty for v2.
    pub controllers: Vec<String>,
    /// The cgroup, relative to the reader's cgroup namespace root (`/../..` when outside it).
    pub path: String,
}

impl CgroupMembership {
    pub fn is_unified(&self) -> bool {
        self.hierarchy == 0 && self.controllers.is_empty()
    }
}

/// Parses `/proc/<pid>/cgroup`. The path is everything after the second colon (it may contain
/// colons).
pub fn parse_cgroup(text: &str) -> Vec<CgroupMembership> {
    text.lines()
        .filter_map(|line| {
            let mut f = line.splitn(3, ':');
            let hierarchy = f.next()?.parse().ok()?;
            let controllers = f.next()?.split(',').filter(|c| !c.is_empty()).map(str::to_string).collect();
            let path = f.next()?.to_string();
            Some(CgroupMembership { hierarchy, controllers, path })
        })
        .collect()
}

/// A cgroup file system mounted in jhot's mount namespace (from `/proc/self/mountinfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupMount {
    /// `cgroup2` rather than `cgroup`.
    pub unified: bool,
    /// For v1: the controllers of the hierarchy (super options that name one, and `name=…`).
    pub controllers: Vec<String>,
    /// The cgroup that is the mount's root (field 4; `/` unless a sub-tree is bind-mounted).
    pub root: String,
    pub mount_point: PathBuf,
}

/// The cgroup mounts in mountinfo text. Mount points are unescaped (`\040` is a space).
pub fn parse_cgroup_mounts(text: &str) -> Vec<CgroupMount> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some((left, right)) = line.split_once(" - ") else { continue };
        let l: Vec<&str> = left.split(' ').collect();
        let r: Vec<&str> = right.split(' ').collect();
        if l.len() < 5 || r.len() < 3 {
            continue;
        }
        let unified = match r[0] {
            "cgroup2" => true,
            "cgroup" => false,
            _ => continue,
        };
        const NOT_CONTROLLERS: [&str; 10] = [
            "rw",
            "ro",
            "nsdelegate",
            "memory_recursiveprot",
            "noprefix",
            "xattr",
            "clone_children",
            "cpuset_v2_mode",
            "favordynmods",
            "memory_localevents",
        ];
        let controllers = if unified {
            Vec::new()
        } else {
            r[2].split(',')
                .filter(|o| !o.is_empty() && !NOT_CONTROLLERS.contains(o) && !o.starts_with("release_agent="))
                .map(str::to_string)
                .collect()
        };
        out.push(CgroupMount {
            unified,
            controllers,
            root: unescape_mountinfo(l[3]),
            mount_point: PathBuf::from(unescape_mountinfo(l[4])),
        });
    }
    out
}

/// mountinfo writes space, tab, newline and backslash as `\ooo`.
fn unescape_mountinfo(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c)) {
            out.push((b[i + 1] - b'0') * 64 + (b[i + 2] - b'0') * 8 + (b[i + 3] - b'0'));
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub fn proc_dir(pid: u32) -> PathBuf {
    PathBuf::from(format!("/proc/{pid}"))
}

/// Reads a `/proc` file. They report a size of 0, so std's readers start with a 32-byte probe and
/// double from there: `status` took nine read(2) calls, and every warm command reads four such
/// files. A page is enough for each of them in one call.
fn read_proc(path: impl AsRef<std::path::Path>) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(4096);
    fs::File::open(path)?.read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn read_proc_text(path: impl AsRef<std::path::Path>) -> io::Result<String> {
    String::from_utf8(read_proc(path)?).map_err(|e| invalid(e.to_string()))
}

pub fn read_status(pid: u32) -> io::Result<Status> {
    let text = read_proc_text(proc_dir(pid).join("status"))?;
    parse_status(&text, pid).ok_or_else(|| invalid(format!("/proc/{pid}/status has no Uid/Gid lines")))
}

/// When process `pid` started (clock ticks after boot, stat field 22); with the pid, it names
/// that process even after the pid is reused. None once it is gone.
pub fn start_ticks(pid: u32) -> Option<u64> {
    read_stat(pid).ok().map(|s| s.start_ticks)
}

pub fn read_stat(pid: u32) -> io::Result<Stat> {
    let text = read_proc_text(proc_dir(pid).join("stat"))?;
    parse_stat(&text).ok_or_else(|| invalid(format!("cannot parse /proc/{pid}/stat")))
}

pub fn read_cmdline(pid: u32) -> io::Result<Vec<String>> {
    read_proc(proc_dir(pid).join("cmdline")).map(|b| parse_cmdline(&b))
}

/// The command line as the bytes the process was started with (see [`parse_nul_list`]).
pub fn read_argv(pid: u32) -> io::Result<Vec<OsString>> {
    fs::read(proc_dir(pid).join("cmdline")).map(|b| parse_nul_list(&b))
}

/// The environment the process was started with, `KEY=value` entries as bytes.
pub fn read_environ(pid: u32) -> io::Result<Vec<OsString>> {
    fs::read(proc_dir(pid).join("environ")).map(|b| parse_nul_list(&b))
}

/// The process's working directory, as its `cwd` link shows it.
pub fn read_cwd(pid: u32) -> io::Result<PathBuf> {
    fs::read_link(proc_dir(pid).join("cwd"))
}

/// The process's executable, as its `exe` link shows it.
pub fn read_exe(pid: u32) -> io::Result<PathBuf> {
    fs::read_link(proc_dir(pid).join("exe"))
}

/// What descriptor `fd` of process `pid` refers to, as its link shows it (a path, `socket:[N]`,
/// `pipe:[N]`, ...).
pub fn read_fd_link(pid: u32, fd: i32) -> io::Result<PathBuf> {
    fs::read_link(proc_dir(pid).join("fd").join(fd.to_string()))
}

/// One open descriptor of a process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenFd {
    /// Its number in the process.
    pub fd: i32,
    /// Where its link points (see [`read_fd_link`]).
    pub target: PathBuf,
    /// `/proc/<pid>/fd/<fd>`: opening it opens what the process holds, even a file deleted or
    /// replaced on disk since.
    pub path: PathBuf,
}

impl OpenFd {
    /// The socket's inode, when the descriptor is a socket.
    pub fn socket_inode(&self) -> Option<u64> {
        parse_socket_link(&self.target.to_string_lossy())
    }
}

/// The open descriptors of process `pid`, in the order `/proc/<pid>/fd` lists them. One that
/// closes while they are listed (or whose link cannot be read) is left out.
pub fn read_fds(pid: u32) -> io::Result<Vec<OpenFd>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(proc_dir(pid).join("fd"))?.flatten() {
        let Ok(fd) = entry.file_name().to_string_lossy().parse::<i32>() else { continue };
        let path = entry.path();
        let Ok(target) = fs::read_link(&path) else { continue };
        out.push(OpenFd { fd, target, path });
    }
    Ok(out)
}

/// The TCP sockets of the network namespace process `pid` is in: `net/tcp` (`v6` false) or
/// `net/tcp6` (true), which a kernel without IPv6 does not have (`NotFound`).
pub fn read_net_tcp(pid: u32, v6: bool) -> io::Result<Vec<TcpSocket>> {
    let file = if v6 { "net/tcp6" } else { "net/tcp" };
    fs::read_to_string(proc_dir(pid).join(file)).map(|text| parse_net_tcp(&text, v6))
}

/// The names of process `pid`'s threads (`task/*/comm`: the kernel keeps the first 15 bytes of
/// each). A thread that ends while they are listed is left out.
pub fn read_thread_names(pid: u32) -> io::Result<Vec<String>> {
    let tasks = fs::read_dir(proc_dir(pid).join("task"))?;
    Ok(tasks
        .flatten()
        .filter_map(|t| fs::read_to_string(t.path().join("comm")).ok())
        .map(|c| c.trim_end().to_string())
        .collect())
}

/// The identity of process `pid`'s namespace of kind `ns` (`net`, `mnt`, ...): its `ns/<ns>` link,
/// e.g. `net:[4026531840]`. Two processes are in the same namespace when these are equal.
pub fn read_ns(pid: u32, ns: &str) -> io::Result<PathBuf> {
    fs::read_link(proc_dir(pid).join("ns").join(ns))
}

/// [`read_ns`] for jhot itself (`/proc/self`, right even where jhot's pid is not the one `/proc`
/// knows it by).
pub fn read_own_ns(ns: &str) -> io::Result<PathBuf> {
    fs::read_link(PathBuf::from("/proc/self/ns").join(ns))
}

/// Process `pid`'s namespace of kind `ns`, opened (for `setns`).
pub fn open_ns(pid: u32, ns: &str) -> io::Result<fs::File> {
    fs::File::open(proc_dir(pid).join("ns").join(ns))
}

/// The execution-context lines of `/proc/<pid>/status` (see [`parse_exec_status`]).
pub fn read_exec_status(pid: u32) -> io::Result<ExecStatus> {
    fs::read_to_string(proc_dir(pid).join("status")).map(|t| parse_exec_status(&t))
}

/// The limits of process `pid` (see [`parse_limits`]).
pub fn read_limits(pid: u32) -> io::Result<Vec<(u64, u64)>> {
    let text = fs::read_to_string(proc_dir(pid).join("limits"))?;
    let limits = parse_limits(&text);
    if limits.is_empty() {
        return Err(invalid(format!("cannot parse /proc/{pid}/limits")));
    }
    Ok(limits)
}

/// The LSM label of process `pid` (see [`parse_lsm_label`]); an error where no LSM provides one.
pub fn read_lsm_label(pid: u32) -> io::Result<Option<String>> {
    fs::read_to_string(proc_dir(pid).join("attr").join("current")).map(|t| parse_lsm_label(&t))
}

pub fn read_oom_score_adj(pid: u32) -> io::Result<i32> {
    let text = fs::read_to_string(proc_dir(pid).join("oom_score_adj"))?;
    parse_oom_score_adj(&text).ok_or_else(|| invalid(format!("cannot parse /proc/{pid}/oom_score_adj")))
}

/// The cgroups process `pid` is in, one per hierarchy, as jhot's cgroup namespace shows them.
pub fn read_cgroup(pid: u32) -> io::Result<Vec<CgroupMembership>> {
    fs::read_to_string(proc_dir(pid).join("cgroup")).map(|t| parse_cgroup(&t))
}

/// The cgroup file systems mounted where jhot runs.
pub fn read_own_cgroup_mounts() -> io::Result<Vec<CgroupMount>> {
    fs::read_to_string("/proc/self/mountinfo").map(|t| parse_cgroup_mounts(&t))
}

pub fn read_maps(pid: u32) -> io::Result<(VmKind, Option<String>)> {
    let text = fs::read_to_string(proc_dir(pid).join("maps"))?;
    Ok(classify_maps(&text))
}

/// Flags from the command line and the environment. Misses @argfiles and `-XX:Flags=` files;
/// prefer [`flags_from_vm_record`] when the perf-data file is readable.
pub fn read_flags(pid: u32, cmdline: &[String]) -> JvmFlags {
    let (before, after) = fs::read(proc_dir(pid).join("environ")).map(|e| env_jvm_options(&e)).unwrap_or_default();
    let args = before.iter().chain(cmdline.iter().skip(1)).chain(after.iter());
    parse_flags(args.map(String::as_str))
}

/// When a process started (its stat field 22), in ms since the Unix epoch.
pub fn start_ms(start_ticks: u64) -> Option<u64> {
    let age = age(start_ticks)?;
    let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?;
    u64::try_from(now.checked_sub(age)?.as_millis()).ok()
}

/// How long ago a process started (its stat field 22).
pub fn age(start_ticks: u64) -> Option<Duration> {
    let since_boot = system_uptime()?;
    let started = start_ticks as f64 / clock_ticks_per_second() as f64;
    Some(Duration::from_secs_f64((since_boot - started).max(0.0)))
}

/// Seconds since boot, from `/proc/uptime`.
pub fn system_uptime() -> Option<f64> {
    read_proc_text("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()
}

pub fn clock_ticks_per_second() -> u64 {
    // SAFETY: sysconf has no memory effects; it returns -1 on error, handled below.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as u64 } else { 100 }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS_JVM: &str = "Name:\tjava\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t2932\n\
        Pid:\t2932\nPPid:\t2931\nUid:\t1001\t1002\t1002\t1002\nGid:\t2001\t2002\t2002\t2002\n\
        NStgid:\t2932\t7\nNSpid:\t2932\t1\nSigQ:\t0/7823\nSigPnd:\t0000000000000000\n\
        SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\nSigCgt:\t0000000101005ccc\n";

    #[test]
    fn status_takes_effective_ids_and_innermost_nspid() {
        let s = parse_status(STATUS_JVM, 2932).unwrap();
        assert_eq!((s.name.as_str(), s.euid, s.egid, s.nspid), ("java", 1002, 2002, 1));
        assert!(s.catches_sigquit());
    }

    #[test]
    fn status_real_ids_and_groups() {
        let s = parse_status(STATUS_JVM, 2932).unwrap();
        assert_eq!((s.uid, s.gid), (1001, 2001));
        assert!(s.groups.is_empty(), "no Groups: line");
        let with_groups = STATUS_JVM.replace("NStgid:", "Groups:\t4 24 27 1000 \nNStgid:");
        assert_eq!(parse_status(&with_groups, 1).unwrap().groups, [4, 24, 27, 1000]);
        let no_groups = STATUS_JVM.replace("NStgid:", "Groups:\t\nNStgid:");
        assert!(parse_status(&no_groups, 1).unwrap().groups.is_empty());
    }

    #[test]
    fn status_nspid_falls_back_to_nstgid_then_pid() {
        let no_nspid = STATUS_JVM.replace("NSpid:\t2932\t1\n", "");
        assert_eq!(parse_status(&no_nspid, 2932).unwrap().nspid, 7);
        let neither = no_nspid.replace("NStgid:\t2932\t7\n", "");
        assert_eq!(parse_status(&neither, 2932).unwrap().nspid, 2932);
    }

    #[test]
    fn status_sigquit_masks() {
        // -Xrs JVM: handlers for other signals only.
        let xrs = STATUS_JVM.replace("0000000101005ccc", "0000000101001cc8");
        assert!(!parse_status(&xrs, 1).unwrap().catches_sigquit());
        let ignored = STATUS_JVM.replace("SigIgn:\t0000000000000000", "SigIgn:\t0000000000000004");
        assert!(!parse_status(&ignored, 1).unwrap().catches_sigquit());
    }

    #[test]
    fn status_without_ids_is_rejected() {
        assert_eq!(parse_status("Name:\tx\n", 1), None);
    }

    #[test]
    fn cmdline_splits_on_nul() {
        assert_eq!(parse_cmdline(b"java\0-Xrs\0-cp\0/a b\0Main\0"), ["java", "-Xrs", "-cp", "/a b", "Main"]);
        assert_eq!(parse_cmdline(b"sleep 100"), ["sleep 100"]); // rewritten argv
        assert!(parse_cmdline(b"").is_empty());
    }

    #[test]
    fn nul_lists_keep_bytes_and_drop_empty_entries() {
        let got = parse_nul_list(b"java\0-Dx=\xff\0\0-jar\0app.jar\0");
        let want: Vec<OsString> =
            vec!["java".into(), OsString::from_vec(b"-Dx=\xff".to_vec()), "-jar".into(), "app.jar".into()];
        assert_eq!(got, want);
        assert_eq!(parse_nul_list(b"PATH=/bin\0LANG=C"), [OsString::from("PATH=/bin"), OsString::from("LANG=C")]);
        assert!(parse_nul_list(b"").is_empty());
        assert!(parse_nul_list(b"\0\0").is_empty());
    }

    #[test]
    fn socket_links() {
        assert_eq!(parse_socket_link("socket:[64413]"), Some(64413));
        assert_eq!(parse_socket_link("pipe:[5]"), None);
        assert_eq!(parse_socket_link("/dev/null"), None);
        assert_eq!(parse_socket_link("socket:[x]"), None);
    }

    const NET_TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000003 00:00000000 00000000     0        0 64413 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1F90 0100007F:C350 01 00000000:0000004E 00:00000000 00000000     0        0 64999 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C351 0100007F:1F90 06 00000000:00000000 03:00001770 00000000     0        0 0 3 0000000000000000
   3: garbage
";
    const NET_TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:46A0 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 64457 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:1F92 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 778 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn net_tcp_lines() {
        let v4 = parse_net_tcp(NET_TCP, false);
        assert_eq!(
            v4,
            [
                TcpSocket { local: "127.0.0.1:8080".parse().unwrap(), state: TCP_LISTEN, rx_queue: 3, inode: 64413 },
                TcpSocket {
                    local: "127.0.0.1:8080".parse().unwrap(),
                    state: TCP_ESTABLISHED,
                    rx_queue: 0x4E,
                    inode: 64999
                },
                TcpSocket { local: "127.0.0.1:50001".parse().unwrap(), state: 0x06, rx_queue: 0, inode: 0 },
            ]
        );
        // The kernel's words, not normalised: a v4-mapped address stays IPv6 here.
        let v6 = parse_net_tcp(NET_TCP6, true);
        assert_eq!(
            v6.iter().map(|s| s.local).collect::<Vec<_>>(),
            ["[::ffff:127.0.0.1]:18080".parse::<SocketAddr>().unwrap(), "[::1]:8082".parse().unwrap(),]
        );
        assert_eq!(v6[1].inode, 778);
        // A v4 table read as v6 (or the other way round) gives nothing, not wrong addresses.
        assert!(parse_net_tcp(NET_TCP, true).is_empty());
        assert!(parse_net_tcp(NET_TCP6, false).is_empty());
        assert!(parse_net_tcp("header only\n", false).is_empty());
    }

    #[test]
    fn reads_own_process() {
        let pid = std::process::id();
        assert_eq!(read_argv(pid).unwrap().first(), std::env::args_os().next().as_ref());
        assert_eq!(read_cwd(pid).unwrap(), std::env::current_dir().unwrap());
        assert_eq!(read_exe(pid).unwrap(), std::env::current_exe().unwrap());
        assert!(read_environ(pid).is_ok());
        assert!(!read_thread_names(pid).unwrap().is_empty());
        assert_eq!(read_ns(pid, "net").unwrap(), read_own_ns("net").unwrap());
        assert!(read_ns(pid, "net").unwrap().to_string_lossy().starts_with("net:["));
        assert!(open_ns(pid, "net").is_ok());
        let file = fs::File::open("/proc/self/stat").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file);
        let open = read_fds(pid).unwrap();
        let me = open.iter().find(|f| f.fd == fd).expect("the open file is listed");
        assert_eq!(me.target, read_fd_link(pid, fd).unwrap());
        assert_eq!(me.path, proc_dir(pid).join("fd").join(fd.to_string()));
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let lfd = std::os::fd::AsRawFd::as_raw_fd(&l);
        let inode = read_fds(pid).unwrap().iter().find(|f| f.fd == lfd).and_then(OpenFd::socket_inode).unwrap();
        let listening = read_net_tcp(pid, false).unwrap();
        assert!(
            listening.iter().any(|s| s.inode == inode && s.state == TCP_LISTEN && s.local == l.local_addr().unwrap())
        );
    }

    #[test]
    fn maps_classify_vm() {
        let hotspot = "7f1c2a000000-7f1c2a2c3000 r--p 00000000 08:01 1234 /usr/lib/jvm/java-17/lib/server/libjvm.so\n";
        assert_eq!(classify_maps(hotspot), (VmKind::HotSpot, Some("/usr/lib/jvm/java-17/lib/server/libjvm.so".into())));
        let j9 = "7f00-7f10 r-xp 0 08:01 9 /opt/ibm/jre/lib/default/libj9vm29.so\n";
        assert_eq!(classify_maps(j9).0, VmKind::OpenJ9);
        let plain = "5555-5556 r-xp 0 08:01 3 /usr/bin/sleep\n7ff0-7ff1 rw-p 0 00:00 0 [stack]\n";
        assert_eq!(classify_maps(plain), (VmKind::NotJvm, None));
        let spaced = "7f00-7f10 r-xp 0 08:01 9 /opt/my jdk/lib/server/libjvm.so\n";
        assert_eq!(classify_maps(spaced).1.as_deref(), Some("/opt/my jdk/lib/server/libjvm.so"));
        // A file merely named like the library in its directory part is not the library.
        assert_eq!(classify_maps("7f00-7f10 r--p 0 08:01 9 /tmp/libjvm.so.d/x\n").0, VmKind::NotJvm);
        assert_eq!(classify_maps("7f00-7f10 r--p 0 08:01 9 /jdk/lib/server/libjvm.so (deleted)\n").0, VmKind::HotSpot);
    }

    #[test]
    fn stat_counts_fields_after_comm() {
        let text = "4242 (my (odd) prog) S 1 4242 4242 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 12 0 987654 \
            1000000 200 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
        assert_eq!(parse_stat(text), Some(Stat { state: 'S', ppid: 1, start_ticks: 987654 }));
        assert!(!parse_stat(&text.replace(") S ", ") Z ")).unwrap().is_running());
        assert_eq!(parse_stat("garbage"), None);
    }

    #[test]
    fn flags_last_one_wins() {
        let f = parse_flags(["java", "-Xrs", "-XX:-EnableDynamicAgentLoading", "-XX:+EnableDynamicAgentLoading"]);
        assert_eq!(
            f,
            JvmFlags {
                reduce_signal_usage: true,
                attach_disabled: false,
                dynamic_agent_loading: Some(true),
                allow_add_delete_methods: false,
                enhanced_redefinition: false,
            }
        );
        assert!(parse_flags(["-XX:+AllowRedefinitionToAddDeleteMethods"]).allow_add_delete_methods);
        assert!(parse_flags(["-XX:+AllowEnhancedClassRedefinition"]).enhanced_redefinition);
        assert!(
            !parse_flags(["-XX:+AllowRedefinitionToAddDeleteMethods", "-XX:-AllowRedefinitionToAddDeleteMethods"])
                .allow_add_delete_methods
        );
        assert!(parse_flags(["-XX:+DisableAttachMechanism"]).attach_disabled);
        assert_eq!(parse_flags(["Main", "-Xrsx"]), JvmFlags::default());
    }

    #[test]
    fn env_options_are_found() {
        let env = b"PATH=/bin\0JAVA_TOOL_OPTIONS=-Xmx1g -XX:+DisableAttachMechanism\0_JAVA_OPTIONS=-Xrs\0";
        let (before, after) = env_jvm_options(env);
        assert_eq!(before, ["-Xmx1g", "-XX:+DisableAttachMechanism"]);
        assert_eq!(after, ["-Xrs"]);
    }

    #[test]
    fn flags_from_hotspot_record() {
        let f = flags_from_vm_record("+DisableAttachMechanism -UseCompressedOops", "-Dtool=1 -Xrs");
        assert!(f.attach_disabled && f.reduce_signal_usage);
        // The command line overrides the flags file.
        assert!(!flags_from_vm_record("+DisableAttachMechanism", "-XX:-DisableAttachMechanism").attach_disabled);
        assert_eq!(flags_from_vm_record("", ""), JvmFlags::default());
    }

    #[test]
    fn passwd_and_release() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\njhot-t1:x:1001:1001::/home/jhot-t1:/bin/sh\n";
        assert_eq!(parse_passwd_name(passwd, 1001).as_deref(), Some("jhot-t1"));
        assert_eq!(parse_passwd_name(passwd, 7), None);
        assert_eq!(parse_release_version("IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"17.0.15\"\n").as_deref(), Some("17.0.15"));
    }

    #[test]
    fn exec_status_lines() {
        let text = STATUS_JVM.replace(
            "SigQ:",
            "NoNewPrivs:\t1\nSeccomp:\t2\nCapEff:\t000001ffffffffff\nCapBnd:\t000001fffeffffff\nSigQ:",
        );
        let s = parse_exec_status(&text);
        let want = ExecStatus {
            umask: Some(0o022),
            no_new_privs: true,
            seccomp: 2,
            cap_eff: 0x1ff_ffff_ffff,
            cap_bnd: 0x1ff_feff_ffff,
        };
        assert_eq!(s, want);
        let old_kernel = parse_exec_status("Name:\tjava\nNoNewPrivs:\t0\n");
        assert_eq!(old_kernel, ExecStatus::default());
        assert_eq!(parse_exec_status("Umask:\t0027\n").umask, Some(0o027));
    }

    #[test]
    fn oom_score_adj_values() {
        assert_eq!(parse_oom_score_adj("300\n"), Some(300));
        assert_eq!(parse_oom_score_adj("-1000\n"), Some(-1000));
        assert_eq!(parse_oom_score_adj("1001\n"), None);
        assert_eq!(parse_oom_score_adj("x"), None);
    }

    #[test]
    fn cgroup_lines_hybrid_and_unified() {
        let hybrid = "9:name=systemd:/system.slice/app.service\n4:memory:/process_api/0c86\n1:cpu,cpuacct:/\n0::/system.slice/app.service\n";
        let m = parse_cgroup(hybrid);
        assert_eq!(m.len(), 4);
        assert_eq!(m[0].controllers, ["name=systemd"]);
        assert_eq!(m[2].controllers, ["cpu", "cpuacct"]);
        assert!(m[3].is_unified() && !m[0].is_unified());
        assert_eq!(m[3].path, "/system.slice/app.service");
        assert_eq!(parse_cgroup("0::/a:b\n")[0].path, "/a:b", "a colon in the path");
        assert!(parse_cgroup("garbage\n").is_empty());
    }

    #[test]
    fn cgroup_mounts_from_mountinfo() {
        let text = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
            32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n\
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n\
            41 31 0:38 /sub /sys/fs/cgroup/uni\\040fied rw,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate\n";
        let m = parse_cgroup_mounts(text);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].controllers, ["cpu", "cpuacct"]);
        assert_eq!(m[1].controllers, ["name=systemd"]);
        assert!(m[2].unified && m[2].controllers.is_empty());
        assert_eq!(m[2].root, "/sub");
        assert_eq!(m[2].mount_point, PathBuf::from("/sys/fs/cgroup/uni fied"));
    }

    #[test]
    fn limits_file() {
        let text = "Limit                     Soft Limit           Hard Limit           Units     \n\
            Max cpu time              unlimited            unlimited            seconds   \n\
            Max file size             unlimited            unlimited            bytes     \n\
            Max data size             unlimited            unlimited            bytes     \n\
            Max stack size            8388608              unlimited            bytes     \n\
            Max core file size        0                    unlimited            bytes     \n\
            Max resident set          unlimited            unlimited            bytes     \n\
            Max processes             3000                 4000                 processes \n\
            Max open files            4096                 8192                 files     \n\
            Max locked memory         8388608              8388608              bytes     \n\
            Max address space         unlimited            unlimited            bytes     \n\
            Max file locks            unlimited            unlimited            locks     \n\
            Max pending signals       96367                96367                signals   \n\
            Max msgqueue size         819200               819200               bytes     \n\
            Max nice priority         0                    0                    \n\
            Max realtime priority     0                    0                    \n\
            Max realtime timeout      unlimited            unlimited            us        \n";
        let l = parse_limits(text);
        assert_eq!(l.len(), 16);
        assert_eq!(l[0], (u64::MAX, u64::MAX));
        assert_eq!(l[3], (8388608, u64::MAX));
        assert_eq!(l[6], (3000, 4000));
        assert_eq!(l[7], (4096, 8192));
        assert_eq!(l[13], (0, 0));
        let own = read_limits(std::process::id()).unwrap();
        assert_eq!(own.len(), 16);
    }

    #[test]
    fn lsm_labels() {
        assert_eq!(parse_lsm_label("docker-default (enforce)\n").as_deref(), Some("docker-default (enforce)"));
        assert_eq!(
            parse_lsm_label("system_u:system_r:container_t:s0:c1,c2\0").as_deref(),
            Some("system_u:system_r:container_t:s0:c1,c2")
        );
        assert_eq!(parse_lsm_label("unconfined\n"), None);
        assert_eq!(parse_lsm_label(""), None);
    }
}
