//! What `/proc` says about a process: its namespaces' pids, children, threads and listening
//! sockets.

use std::fs;

/// The `NSpid` line of `/proc/<pid>/status`: the pid in each nested pid namespace, outermost
/// first.
pub fn ns_pids(pid: u32) -> Option<Vec<u32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    Some(line.split_whitespace().filter_map(|x| x.parse().ok()).collect())
}

/// `(ppid, comm)` from `/proc/<pid>/stat` (comm may contain spaces and parentheses).
pub(super) fn proc_stat(pid: u32) -> Option<(u32, String)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let mut rest = stat[close + 1..].split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((ppid, comm))
}

/// The children of `parent`, by scanning `/proc/*/stat`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                && proc_stat(pid).is_some_and(|(ppid, _)| ppid == parent)
            {
                out.push(pid);
            }
        }
    }
    out
}

/// The names of the threads of a process (`/proc/<pid>/task/*/comm`, 15 characters at most).
pub fn thread_names(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(format!("/proc/{pid}/task")) {
        for e in rd.flatten() {
            if let Ok(c) = fs::read_to_string(e.path().join("comm")) {
                out.push(c.trim_end().to_string());
            }
        }
    }
    out.sort();
    out
}

/// Local addresses of the TCP sockets `pid` listens on (IPv4 and IPv6), as `addr:port` hex pairs
/// decoded to text.
pub fn listening_addresses(pid: u32) -> Vec<String> {
    let mut inodes = std::collections::HashSet::new();
    if let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in rd.flatten() {
            if let Ok(target) = std::fs::read_link(e.path()) {
                let t = target.to_string_lossy().to_string();
                if let Some(ino) = t.strip_prefix("socket:[").and_then(|s| s.strip_suffix(']')) {
                    inodes.insert(ino.to_string());
                }
            }
        }
    }
    let mut out = Vec::new();
    for (file, v6) in [("tcp", false), ("tcp6", true)] {
        let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/net/{file}")) else { continue };
        for line in text.lines().skip(1) {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() < 10 || f[3] != "0A" || !inodes.contains(f[9]) {
                continue;
            }
            out.push(decode_addr(f[1], v6));
        }
    }
    out
}

fn decode_addr(hex: &str, v6: bool) -> String {
    let (addr, port) = hex.split_once(':').unwrap_or((hex, "0"));
    let port = u16::from_str_radix(port, 16).unwrap_or(0);
    if !v6 {
        let n = u32::from_str_radix(addr, 16).unwrap_or(0);
        let ip = std::net::Ipv4Addr::from(n.to_le_bytes());
        return format!("{ip}:{port}");
    }
    let mut bytes = [0u8; 16];
    for i in 0..4 {
        let word = u32::from_str_radix(&addr[i * 8..i * 8 + 8], 16).unwrap_or(0);
        bytes[i * 4..i * 4 + 4].copy_from_slice(&word.to_le_bytes());
    }
    let ip = std::net::Ipv6Addr::from(bytes);
    match ip.to_ipv4_mapped() {
        Some(v4) => format!("{v4}:{port}"),
        None => format!("[{ip}]:{port}"),
    }
}

/// True if an address is loopback (127.0.0.0/8 or ::1).
pub fn is_loopback(addr: &str) -> bool {
    addr.starts_with("127.") || addr.starts_with("[::1]")
}

/// Whether `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| !rest.trim_start().starts_with('Z')))
        .unwrap_or(false)
}

/// The tests that count helper JVMs (`jad`, `mc`, `edit`, the shell) check that none outlives a
/// command: they take this lock so that they never overlap.
pub fn one_helper_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(|p| p.into_inner())
}

/// Pids of helper JVMs of the jhot under test that are running (none once a command has
/// returned). A helper whose parent is another jhot binary (a benchmark, a developer's shell) is
/// not counted; one whose jhot has gone (an orphan) is.
pub fn helper_jvms() -> Vec<u32> {
    let ours = super::jhot_bin();
    let mut out = Vec::new();
    for e in fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        let Ok(cmd) = fs::read(format!("/proc/{pid}/cmdline")) else { continue };
        if !cmd.windows(20).any(|w| w == b"dev.jhot.helper.Main") {
            continue;
        }
        let parent = fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| s.rsplit_once(')').and_then(|(_, r)| r.split_whitespace().nth(1).map(str::to_string)))
            .and_then(|p| fs::read_link(format!("/proc/{p}/exe")).ok());
        let another_jhot =
            parent.as_ref().is_some_and(|exe| exe != &ours && exe.file_name().is_some_and(|f| f == "jhot"));
        if !another_jhot {
            out.push(pid);
        }
    }
    out
}

/// The effective uid of `/proc/<pid>` (`"self"` for this process): the second field of the
/// `Uid:` line ("real effective saved fs").
pub fn euid_of(pid: &str) -> Option<u32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("Uid:"))?.split_whitespace().nth(1)?.parse().ok()
}

/// Removes `path` if it is a Unix socket (not a link) whose owner `remove` accepts; true if it did.
pub fn remove_socket(path: &std::path::Path, remove: impl Fn(u32) -> bool) -> bool {
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket() && remove(m.uid()))
        && fs::remove_file(path).is_ok()
}

/// Removes another user's socket where JVM `pid` (not attached to yet) will put its attach
/// socket: an earlier process with this pid, killed before it could, left it, and the JVM could
/// not remove it at start-up as it does its own user's (the sticky `/tmp`). This machine may hold
/// leftovers of runs before [`super::kill_jvm`] existed. jhot's refusal of them is tested by
/// `a_leftover_socket_of_an_earlier_process_is_named_as_such`; elsewhere they would fail any test
/// by chance, one pid in 32768 per leftover. Only for a `java` process: a pid a sample printed
/// from inside a container is not the host's.
pub fn clear_leftover_attach_socket(pid: u32) {
    if proc_stat(pid).is_none_or(|(_, comm)| comm != "java") {
        return;
    }
    let (Some(euid), Some(nspid)) = (euid_of(&pid.to_string()), ns_pids(pid).and_then(|p| p.last().copied())) else {
        return;
    };
    let socket = std::path::PathBuf::from(format!("/proc/{pid}/root/tmp/.java_pid{nspid}"));
    if remove_socket(&socket, |owner| owner != euid) {
        eprintln!("removed {}: left by an earlier process with pid {nspid}", socket.display());
    }
}
