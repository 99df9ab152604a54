//! Finding JVMs on this machine without a JDK (`jhot ps`, `jhot info`).
//!
//! A process is a JVM if `libjvm.so` is mapped into it. Details come from HotSpot's
//! perf-data file ([`hsperf`]) when the JVM writes one (not with `-XX:-UsePerfData`) and we
//! may read it, else from what `/proc` shows. Other users' JVMs are listed with what `/proc`
//! lets anyone see (pid, user, command line).

use std::collections::HashSet;
use std::fs;
use std::path::Path;
use std::time::Duration;

use crate::AttachError;
use crate::hsperf::{self, PerfData};
use crate::procfs::{self, JvmFlags, Status, VmKind};

/// One JVM process, for display.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JvmProcess {
    /// Host pid.
    pub pid: u32,
    /// The pid inside the JVM's pid namespace (differs in containers).
    pub nspid: u32,
    /// Effective uid.
    pub uid: u32,
    pub user: Option<String>,
    pub kind: VmKind,
    /// `java.version`, e.g. `17.0.15`.
    pub java_version: Option<String>,
    /// `java.vm.name` and `java.vm.version`, e.g. `OpenJDK 64-Bit Server VM 17.0.15+6`.
    pub vm: Option<String>,
    pub vm_vendor: Option<String>,
    /// Main class, `-jar` jar, or `-m` module/class.
    pub main: Option<String>,
    /// Main class/jar and program arguments (`sun.rt.javaCommand`), else the whole command line.
    pub command: Option<String>,
    /// JVM options from the command line and `JAVA_TOOL_OPTIONS` (`java.rt.vmArgs`).
    pub vm_args: Option<String>,
    /// When the JVM started, in ms since the Unix epoch.
    pub start_ms: Option<u64>,
    #[serde(rename = "uptime_ms", serialize_with = "as_millis")]
    pub uptime: Option<Duration>,
    /// Attach-related flags seen on the command line.
    pub flags: JvmFlags,
    /// True if the attach listener's socket exists (it was attached to before, or `-Xrs`).
    pub attach_listener: bool,
}

fn as_millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&(d.as_millis() as u64)),
        None => s.serialize_none(),
    }
}

/// All JVMs on this machine (all pid namespaces visible from here), by pid.
pub fn list() -> Vec<JvmProcess> {
    let host_perf = host_perf_pids();
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut pids: Vec<u32> = dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect();
    pids.sort_unstable();
    let me = std::process::id();
    pids.into_iter().filter(|&pid| pid != me).filter_map(|pid| inspect(pid, &host_perf, false).ok().flatten()).collect()
}

/// One process, for `jhot info`. Errors: `NoSuchProcess`, `NotAJvm`, or `PermissionDenied`
/// when it belongs to another user and nothing visible says it is a JVM.
pub fn probe(pid: u32) -> Result<JvmProcess, AttachError> {
    match inspect(pid, &host_perf_pids(), true)? {
        Some(jvm) => Ok(jvm),
        None => {
            let exe = fs::read_link(procfs::proc_dir(pid).join("exe"))
                .map(|p| p.display().to_string())
                .or_else(|_| procfs::read_cmdline(pid).map(|c| c.first().cloned().unwrap_or_default()))
                .unwrap_or_default();
            Err(AttachError::NotAJvm { pid, exe })
        }
    }
}

/// Pids with a perf-data file in this namespace's /tmp: cheap evidence of a HotSpot JVM.
fn host_perf_pids() -> HashSet<u32> {
    let Ok(tmp) = fs::read_dir("/tmp") else {
        return HashSet::new();
    };
    tmp.flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("hsperfdata_"))
        .filter_map(|e| fs::read_dir(e.path()).ok())
        .flat_map(|d| d.flatten().filter_map(|f| f.file_name().to_str()?.parse().ok()))
        .collect()
}

/// Describes `pid` if it is a JVM. `Ok(None)`: not a JVM; `Err`: no such process.
///
/// Reading every process's memory map is the slow part of a scan, so `list` only reads it for
/// processes that look like a JVM: a perf-data file, `java` as the program, a SIGQUIT handler
/// (every JVM without -Xrs), or an attach socket (JVMs with -Xrs). That still finds JVMs run
/// with -XX:-UsePerfData under a custom launcher.
fn inspect(pid: u32, host_perf: &HashSet<u32>, thorough: bool) -> Result<Option<JvmProcess>, AttachError> {
    let status = procfs::read_status(pid).map_err(|_| AttachError::NoSuchProcess { pid })?;
    let stat = procfs::read_stat(pid).map_err(|_| AttachError::NoSuchProcess { pid })?;
    if !stat.is_running() {
        return Err(AttachError::NoSuchProcess { pid });
    }
    let cmdline = procfs::read_cmdline(pid).unwrap_or_default();
    if cmdline.is_empty() {
        return Ok(None); // kernel thread, or exiting
    }
    let root = procfs::proc_dir(pid).join("root");
    let tmp = root.join("tmp");
    let socket = tmp.join(format!(".java_pid{}", status.nspid));
    let perf_file = find_perf_file(&status, pid, host_perf);
    let java_launcher = cmdline.first().is_some_and(|a| Path::new(a).file_name().is_some_and(|f| f == "java"));
    let looks_like_jvm = thorough
        || perf_file.is_some()
        || java_launcher
        || status.catches_sigquit()
        || fs::symlink_metadata(&socket).is_ok();
    if !looks_like_jvm {
        return Ok(None);
    }

    let (kind, vm_lib) = match procfs::read_maps(pid) {
        Ok(found) => found,
        // Another user's process: only a perf-data file (HotSpot's alone) or the launcher's
        // name tell us. Reading maps of such a process fails with EACCES.
        Err(_) if perf_file.is_some() => (VmKind::HotSpot, None),
        Err(_) if java_launcher => (VmKind::Unknown, None),
        Err(_) if thorough => return Err(permission_denied(pid, &status)),
        Err(_) => return Ok(None),
    };
    if kind == VmKind::NotJvm {
        return Ok(None);
    }

    let uptime = procfs::age(stat.start_ticks);
    let perf = perf_file.and_then(|p| hsperf::read_for_process(p, stat.start_ticks));
    let pstr = |name: &str| perf.as_ref()?.str(name).filter(|s| !s.is_empty()).map(std::borrow::Cow::into_owned);

    let java_command = pstr("sun.rt.javaCommand");
    // Other launchers (javac, custom ones) have their own syntax: name them by their program.
    let (launcher_args, program) = if java_launcher {
        split_command_line(&cmdline)
    } else {
        let name = cmdline.first().and_then(|a| Path::new(a).file_name());
        (Vec::new(), name.map(|n| n.to_string_lossy().into_owned()))
    };
    let vm = match (pstr("java.property.java.vm.name"), pstr("java.property.java.vm.version")) {
        (Some(name), Some(version)) => Some(format!("{name} {version}")),
        (name, _) => name,
    };
    Ok(Some(JvmProcess {
        pid,
        nspid: status.nspid,
        uid: status.euid,
        user: procfs::user_name(status.euid).or_else(|| procfs::user_name_in(pid, status.euid)),
        kind,
        java_version: pstr("java.property.java.version").or_else(|| vm_lib.and_then(|l| release_version(pid, &l))),
        vm,
        vm_vendor: pstr("java.property.java.vm.vendor"),
        main: java_command.as_deref().and_then(main_of_java_command).or_else(|| program.clone()),
        command: java_command.or_else(|| Some(cmdline.join(" "))),
        vm_args: pstr("java.rt.vmArgs").or_else(|| (!launcher_args.is_empty()).then(|| launcher_args.join(" "))),
        start_ms: perf
            .as_ref()
            .and_then(|d| u64::try_from(d.long("sun.rt.createVmBeginTime")?).ok())
            .or_else(|| procfs::start_ms(stat.start_ticks)),
        uptime,
        flags: perf.as_ref().map_or_else(|| procfs::read_flags(pid, &cmdline), PerfData::jvm_flags),
        attach_listener: is_socket(&socket),
    }))
}

fn permission_denied(pid: u32, status: &Status) -> AttachError {
    AttachError::PermissionDenied {
        pid,
        target_uid: status.euid,
        target_gid: status.egid,
        our_euid: rustix::process::geteuid().as_raw(),
        our_egid: rustix::process::getegid().as_raw(),
    }
}

fn is_socket(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

/// The perf-data file of `pid`, skipping the directory scan for processes of this namespace
/// that have none (most of them).
fn find_perf_file(status: &Status, pid: u32, host_perf: &HashSet<u32>) -> Option<hsperf::PerfFile> {
    if status.nspid == pid && !host_perf.contains(&pid) {
        return None;
    }
    hsperf::find(pid, status.nspid, status.euid, None)
}

/// `JAVA_VERSION` from the `release` file of the JDK that contains `vm_lib`
/// (`<home>/lib/server/libjvm.so`; JDK 8: `<home>/jre/lib/amd64/server/libjvm.so`).
///
/// Read inside the process's root, as a small regular file: the JVM's user may own that JDK
/// and make `release` a FIFO or a link to a host file.
fn release_version(pid: u32, vm_lib: &str) -> Option<String> {
    use std::os::fd::AsFd;
    let root = crate::safe_fs::proc_root(pid).ok()?;
    let lib = Path::new(vm_lib).strip_prefix("/").ok()?;
    lib.ancestors().skip(3).take(4).find_map(|home| {
        let path = home.join("release");
        let bytes = crate::safe_fs::read_in_root(root.as_fd(), path.to_str()?, crate::safe_fs::SMALL_FILE).ok()?;
        procfs::parse_release_version(&String::from_utf8_lossy(&bytes))
    })
}

/// The main class or jar: the first word of `sun.rt.javaCommand`.
fn main_of_java_command(command: &str) -> Option<String> {
    command.split_whitespace().next().map(str::to_string)
}

/// Launcher options that take the next argument as their value.
const OPTIONS_WITH_VALUE: &[&str] = &[
    "-cp",
    "-classpath",
    "--class-path",
    "-p",
    "--module-path",
    "--upgrade-module-path",
    "--add-modules",
    "--limit-modules",
    "--add-reads",
    "--add-exports",
    "--add-opens",
    "--patch-module",
    "--enable-native-access",
    "--source",
];

/// Splits a java command line into JVM options and the program (main class, `-jar` jar,
/// or `-m` module), from what the launcher would do.
pub fn split_command_line(cmdline: &[String]) -> (Vec<String>, Option<String>) {
    let mut options = Vec::new();
    let mut args = cmdline.iter().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-jar" | "-m" | "--module" => return (options, args.next().cloned()),
            a if OPTIONS_WITH_VALUE.contains(&a) => {
                options.push(arg.clone());
                options.extend(args.next().cloned());
            }
            a if a.starts_with('-') || a.starts_with('@') => options.push(arg.clone()),
            _ => return (options, Some(arg.clone())),
        }
    }
    (options, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn program_from_command_line() {
        assert_eq!(
            split_command_line(&args("java -Xmx1g -cp a.jar:b com.x.Main --port 1")),
            (args("-Xmx1g -cp a.jar:b"), Some("com.x.Main".into()))
        );
        assert_eq!(split_command_line(&args("java -jar app.jar x")).1.as_deref(), Some("app.jar"));
        assert_eq!(
            split_command_line(&args("java --module-path m -m app/app.Main")).1.as_deref(),
            Some("app/app.Main")
        );
        assert_eq!(split_command_line(&args("java -version")).1, None);
        assert_eq!(split_command_line(&args("java")).1, None);
    }

    #[test]
    fn main_from_java_command() {
        assert_eq!(main_of_java_command("com.x.Main --port 1").as_deref(), Some("com.x.Main"));
        assert_eq!(main_of_java_command("/opt/app.jar").as_deref(), Some("/opt/app.jar"));
        assert_eq!(main_of_java_command(""), None);
    }

    #[test]
    fn json_shape() {
        let p = JvmProcess {
            pid: 10,
            nspid: 1,
            uid: 0,
            user: Some("root".into()),
            kind: VmKind::HotSpot,
            java_version: Some("17.0.15".into()),
            vm: None,
            vm_vendor: None,
            main: Some("Main".into()),
            command: None,
            vm_args: None,
            start_ms: Some(5),
            uptime: Some(Duration::from_millis(1500)),
            flags: JvmFlags::default(),
            attach_listener: false,
        };
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.contains("\"uptime_ms\":1500"), "{json}");
        assert!(json.contains("\"kind\":\"hotspot\""), "{json}");
    }
}
