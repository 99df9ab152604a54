//! Looking at JVMs and classes without changing them (`jhot ps`, `jhot info`, `jhot javap`): what
//! /proc and hsperfdata say, what the attach listener answers, whether jhot's agent is resident, and
//! the bytes of a class. Nothing here changes a JVM (reading a class from one loads the agent).

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::{agent, archive, changes};
use jhot_attach::discover::{self, JvmProcess};
use jhot_attach::{AttachOptions, Target};

/// Whether jhot's agent is resident in a JVM, and what it reports.
#[derive(Debug, Clone, Serialize)]
pub struct AgentStatus {
    /// `Some(true)`: resident; `Some(false)`: not; `None`: could not tell (e.g. another user's JVM).
    pub resident: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hello: Option<agent::protocol::Hello>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

pub async fn agent_status(pid: u32, timeout: Duration) -> AgentStatus {
    let target = match Target::open(pid) {
        Ok(t) => t,
        Err(e) => return AgentStatus { resident: None, hello: None, error: Some(e.to_string()) },
    };
    if !agent::channel::advertised(&target) {
        return AgentStatus { resident: Some(false), hello: None, error: None };
    }
    match agent::connect_resident(&target, timeout).await {
        Ok(Some(s)) => AgentStatus { resident: Some(true), hello: Some(s.hello.clone()), error: None },
        Ok(None) => AgentStatus { resident: Some(false), hello: None, error: None },
        Err(e) => AgentStatus { resident: None, hello: None, error: Some(e.to_string()) },
    }
}

#[derive(Debug, Serialize)]
pub struct PsEntry {
    #[serde(flatten)]
    pub jvm: JvmProcess,
    pub agent: AgentStatus,
}

pub async fn ps(timeout: Duration) -> Vec<PsEntry> {
    let mut out = Vec::new();
    for jvm in discover::list() {
        let agent = agent_status(jvm.pid, timeout).await;
        out.push(PsEntry { jvm, agent });
    }
    out
}

/// The one running JVM whose main class, jar or command line (its JVM options included) contains
/// `text` (`--select`). None
/// or several is an error that lists what there is: a JVM is never picked by guessing.
///
/// Two kinds of JVM are never matched: jhot's own ancestors (the Maven or Gradle JVM that runs
/// jhot from a build: its command line carries the very text), and a JVM whose command line holds
/// the text only as the value of a `jhot.select=` setting (the build tool's client, handing it on).
pub fn select(text: &str) -> Result<JvmProcess, Error> {
    let ancestors = ancestors();
    select_from(discover::list().into_iter().filter(|j| !ancestors.contains(&j.pid)).collect(), text)
}

/// The pids of this process's parent, its parent, and so on.
fn ancestors() -> Vec<u32> {
    let mut out = Vec::new();
    let mut pid = std::process::id();
    while let Ok(stat) = jhot_attach::procfs::read_stat(pid) {
        if stat.ppid <= 1 || out.len() > 64 {
            break;
        }
        pid = stat.ppid;
        out.push(pid);
    }
    out
}

/// Whether `line` (a command line) contains `text` outside a `jhot.select=` argument.
fn mentions(line: &str, text: &str) -> bool {
    line.split_whitespace().filter(|arg| !arg.contains("jhot.select=")).any(|arg| arg.contains(text))
        || (text.contains(char::is_whitespace) && line.contains(text) && !line.contains("jhot.select="))
}

/// The JVM whose pid `path` holds (`--pid-file`). The file must be a small regular file (never a
/// FIFO that would hang a root jhot), and not stale: its process must be running and must have
/// started before the file was last written (else the pid was reused, or the file is left over).
pub fn from_pid_file(path: &std::path::Path) -> Result<u32, Error> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let shown = path.display();
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| Error::Input(format!("--pid-file {shown}: {e}")))?;
    let meta = file.metadata().map_err(|e| Error::Input(format!("--pid-file {shown}: {e}")))?;
    if !meta.is_file() || meta.len() > 64 {
        return Err(Error::Input(format!("--pid-file {shown} is not a pid file (a small regular file)")));
    }
    let mut text = String::new();
    file.read_to_string(&mut text).map_err(|e| Error::Input(format!("--pid-file {shown}: {e}")))?;
    let pid: u32 = text
        .trim()
        .parse()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::Input(format!("--pid-file {shown} holds {:?}, not a pid", text.trim())))?;
    let Ok(stat) = jhot_attach::procfs::read_stat(pid) else {
        return Err(Error::NoTarget(format!("--pid-file {shown} is stale: process {pid} is not running")));
    };
    let written =
        meta.modified().ok().and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok()).map(|d| d.as_millis() as u64);
    if let (Some(started), Some(written)) = (jhot_attach::procfs::start_ms(stat.start_ticks), written)
        // A second of slack for the clock tick the start time is counted in.
        && started > written + 1_000
    {
        return Err(Error::NoTarget(format!(
            "--pid-file {shown} is stale: process {pid} started after the file was written (the pid was reused, or \
             the file was left behind)"
        )));
    }
    Ok(pid)
}

/// The one JVM listening on TCP `port` (`--port`), in whatever network namespace it runs.
pub fn listening_on(port: u16) -> Result<u32, Error> {
    let holders: Vec<JvmProcess> = discover::list()
        .into_iter()
        .filter(|j| {
            crate::replace::listeners::of_process(j.pid).is_ok_and(|ls| ls.iter().any(|l| l.addr.port() == port))
        })
        .collect();
    match holders.as_slice() {
        [one] => Ok(one.pid),
        [] => {
            Err(Error::NoTarget(format!("no JVM this user can see listens on port {port} (`jhot ps` lists the JVMs)")))
        }
        many => Err(Error::Usage(format!(
            "{} JVMs listen on port {port} (in different network namespaces); name one by its pid: {}",
            many.len(),
            many.iter().map(|j| j.pid.to_string()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

fn select_from(jvms: Vec<JvmProcess>, text: &str) -> Result<JvmProcess, Error> {
    let describe = |j: &JvmProcess| {
        format!("  {:>7}  {}", j.pid, j.command.as_deref().or(j.main.as_deref()).unwrap_or("(command line unknown)"))
    };
    let all: Vec<String> = jvms.iter().map(describe).collect();
    let mut matching: Vec<JvmProcess> = jvms
        .into_iter()
        .filter(|j| [&j.main, &j.command, &j.vm_args].into_iter().flatten().any(|s| mentions(s, text)))
        .collect();
    match matching.len() {
        1 => Ok(matching.remove(0)),
        0 if all.is_empty() => Err(Error::NoTarget(format!(
            "no JVM matches --select {text:?}: this user sees no running HotSpot JVM (`jhot ps` lists them)"
        ))),
        0 => Err(Error::NoTarget(format!(
            "no JVM matches --select {text:?}; the running JVMs are:\n{}\nGive a word of one main class, jar or command line, \
             or its pid",
            all.join("\n")
        ))),
        _ => Err(Error::Usage(format!(
            "{} JVMs match --select {text:?}; name one by a longer text or by its pid:\n{}",
            matching.len(),
            matching.iter().map(describe).collect::<Vec<_>>().join("\n")
        ))),
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Flag {
    pub name: String,
    pub value: String,
    /// Where the value came from, as the JVM says (`default`, `command line`, `ergonomic`, ...).
    pub origin: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct LoaderStat {
    pub loader: String,
    pub parent: String,
    pub classes: u64,
    #[serde(rename = "type")]
    pub type_name: String,
}

#[derive(Debug, Serialize)]
pub struct InfoReport {
    #[serde(flatten)]
    pub jvm: JvmProcess,
    /// `VM.version` as the JVM prints it.
    pub vm_version: Option<String>,
    /// The flags that decide what jhot can do.
    pub flags: Vec<Flag>,
    pub class_loaders: Vec<LoaderStat>,
    /// Why the attach listener could not be asked, if it could not.
    pub attach_error: Option<String>,
    pub agent: AgentStatus,
}

/// Flags that matter for hot updates.
pub const FLAGS: &[&str] = &[
    "EnableDynamicAgentLoading",
    "ReduceSignalUsage",
    "DisableAttachMechanism",
    "StartAttachListener",
    "AllowRedefinitionToAddDeleteMethods",
    "UsePerfData",
];

pub async fn info(pid: u32, opts: &AttachOptions, timeout: Duration) -> Result<InfoReport, Error> {
    let target = Target::open(pid)?;
    let jvm = discover::probe(pid)?;
    let agent = agent_status(pid, timeout).await;
    let t = target.clone();
    let o = *opts;
    let asked = tokio::task::spawn_blocking(move || -> Result<(String, String, String), jhot_attach::AttachError> {
        let version = jhot_attach::jcmd(&t, "VM.version", &o)?;
        let flags = jhot_attach::jcmd(&t, "VM.flags -all", &o)?;
        let loaders = jhot_attach::jcmd(&t, "VM.classloader_stats", &o).unwrap_or_default();
        Ok((version, flags, loaders))
    })
    .await
    .map_err(|e| Error::Input(format!("internal: attach task failed: {e}")))?;
    let (vm_version, flags, class_loaders, attach_error) = match asked {
        Ok((v, f, l)) => (Some(v.trim().to_string()), parse_flags(&f, FLAGS), parse_loader_stats(&l), None),
        // The JVM is still worth describing from /proc and hsperfdata.
        Err(e) => (None, Vec::new(), Vec::new(), Some(e.to_string())),
    };
    Ok(InfoReport { jvm, vm_version, flags, class_loaders, attach_error, agent })
}

/// Picks `wanted` out of `jcmd VM.flags -all`, whose lines look like
/// `     bool EnableDynamicAgentLoading                = true          {product} {default}`.
pub fn parse_flags(text: &str, wanted: &[&str]) -> Vec<Flag> {
    let mut out = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        let Some(eq) = tokens.iter().position(|t| *t == "=") else { continue };
        if eq < 1 || !wanted.contains(&tokens[eq - 1]) {
            continue;
        }
        let rest = &tokens[eq + 1..];
        let value_end = rest.iter().position(|t| t.starts_with('{')).unwrap_or(rest.len());
        // The origin is the last `{...}` group and may contain spaces (`{command line}`).
        let origin = line
            .rfind('{')
            .and_then(|open| line[open + 1..].find('}').map(|close| line[open + 1..open + 1 + close].to_string()))
            .unwrap_or_default();
        out.push(Flag { name: tokens[eq - 1].to_string(), value: rest[..value_end].join(" "), origin });
    }
    out.sort_by_key(|f| wanted.iter().position(|w| *w == f.name));
    out
}

/// Parses `jcmd VM.classloader_stats`: rows of
/// `ClassLoader Parent CLD* Classes ChunkSz BlockSz Type`, addresses in hex.
pub fn parse_loader_stats(text: &str) -> Vec<LoaderStat> {
    let mut out = Vec::new();
    for line in text.lines() {
        let tokens: Vec<&str> = line.split_whitespace().collect();
        if tokens.len() < 7 || !tokens[0].starts_with("0x") || !tokens[1].starts_with("0x") {
            continue;
        }
        let Ok(classes) = tokens[3].parse::<u64>() else { continue };
        out.push(LoaderStat {
            loader: tokens[0].to_string(),
            parent: tokens[1].to_string(),
            classes,
            type_name: tokens[6..].join(" "),
        });
    }
    out
}

/// Where `jhot javap` reads a class from.
pub enum ClassLocation<'a> {
    /// The bytes a running JVM runs, optionally only those of one class loader.
    Jvm { pid: u32, loader: Option<String> },
    /// A .class file, a directory, a jar, or `jar!path/Entry.class`.
    Path(&'a str),
}

/// The class bytes `jhot javap` shows, each with a label saying where they came from.
pub async fn class_bytes(
    source: ClassLocation<'_>,
    class: Option<&str>,
    attach_opts: &AttachOptions,
    timeout: Duration,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let wanted = |name: &str| class.is_none_or(|c| c == name);
    let path = match source {
        ClassLocation::Path(p) => p,
        ClassLocation::Jvm { pid, loader } => return running_class(pid, class, loader, attach_opts, timeout).await,
    };

    // `app.jar!com/acme/Greeter.class`: one entry of a jar.
    if let Some((jar, entry)) = path.split_once('!') {
        let set = archive::collect_set(&[PathBuf::from(jar)])?;
        let entry = entry.trim_start_matches('/');
        let found: Vec<_> = set
            .classes
            .values()
            .filter(|c| {
                c.origin.ends_with(&format!("!/{entry}"))
                    || c.info.name == entry.trim_end_matches(".class").replace('/', ".")
            })
            .map(|c| (c.origin.clone(), c.bytes.clone()))
            .collect();
        return match found.len() {
            0 => Err(Error::Input(format!("{jar} has no class entry {entry}"))),
            _ => Ok(found),
        };
    }
    let set = archive::collect_set(&[PathBuf::from(path)])?;
    let found: Vec<_> =
        set.classes.values().filter(|c| wanted(&c.info.name)).map(|c| (c.origin.clone(), c.bytes.clone())).collect();
    match (found.len(), class) {
        (0, Some(c)) => Err(Error::Input(format!("{path} has no class {c}"))),
        (n, None) if n > 1 => Err(Error::Input(format!("{path} holds {n} classes; name the one to show"))),
        _ => Ok(found),
    }
}

async fn running_class(
    pid: u32,
    class: Option<&str>,
    loader: Option<String>,
    attach_opts: &AttachOptions,
    timeout: Duration,
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let class = class
        .map(str::to_string)
        .ok_or_else(|| Error::Input("name the class to show, e.g. `jhot javap 4242 com.acme.Greeter`".into()))?;
    let target = Target::open(pid)?;
    let running = changes::running(&target, vec![class.clone()], loader, attach_opts, timeout).await?;
    let found: Vec<(String, Vec<u8>)> = running
        .classes
        .into_iter()
        .map(|(name, loader, bytes)| {
            let l = loader.map(|l| format!("{} {}", l.name, l.id)).unwrap_or_else(|| "bootstrap".into());
            (format!("{name} in JVM {pid}, loader {l}"), bytes)
        })
        .collect();
    if found.is_empty() {
        return Err(Error::Input(format!("{class} is not loaded in JVM {pid}")));
    }
    Ok(found)
}

#[cfg(test)]
mod tests {

    #[test]
    fn select_ignores_a_build_tools_own_jhot_select_setting() {
        assert!(super::mentions("/opt/shop/shop.jar --server.port=8080", "shop.jar"));
        assert!(!super::mentions("org.gradle.launcher.GradleMain jar jhotDeploy -Pjhot.select=shop.jar", "shop.jar"));
        assert!(!super::mentions(
            "org.codehaus.plexus.classworlds.launcher.Launcher -Djhot.select=shop.jar",
            "shop.jar"
        ));
        assert!(super::mentions("-Dapp.name=my shop -jar x.jar", "my shop"));
    }

    use super::*;

    #[test]
    fn flags_are_picked_from_vm_flags_all() {
        let text = "\
[Global flags]
      int ActiveProcessorCount                     = -1                                        {product} {default}
     bool EnableDynamicAgentLoading                = true                                      {product} {default}
     bool ReduceSignalUsage                        = true                                      {product} {command line}
    ccstr AllocateHeapAt                           =                                           {product} {default}
";
        let f = parse_flags(text, FLAGS);
        assert_eq!(f.len(), 2);
        assert_eq!(f[0].name, "EnableDynamicAgentLoading");
        assert_eq!(f[0].value, "true");
        assert_eq!(f[0].origin, "default");
        assert_eq!(f[1].name, "ReduceSignalUsage");
        assert_eq!(f[1].origin, "command line");
    }

    #[test]
    fn loader_rows_are_parsed_and_footers_skipped() {
        let text = "\
ClassLoader         Parent              CLD*               Classes   ChunkSz   BlockSz  Type
0x00000008000c9d18  0x00000008000c9c58  0x00007f1c8c2a5b70       3      6144      4360  jdk.internal.loader.ClassLoaders$AppClassLoader
                                                                  1      1024       600   + hidden classes
0x0000000000000000  0x0000000000000000  0x00007f1c8c1371d0     512   2818048   2810528  <boot class loader>
Total = 2                                                      515   2824192   2814888
ChunkSz: Total size of all allocated metaspace chunks
";
        let l = parse_loader_stats(text);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].classes, 3);
        assert_eq!(l[0].type_name, "jdk.internal.loader.ClassLoaders$AppClassLoader");
        assert_eq!(l[1].type_name, "<boot class loader>");
    }
}
