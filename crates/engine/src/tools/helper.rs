//! The helper JVM's process: started with the target's own `java` (`/proc/<pid>/exe`, a path in
//! the target's mount namespace), in the target's namespaces and as the target's user, so it reads
//! the same JDK the target runs and nothing it could not read itself; with no capabilities,
//! no_new_privs, a new session, a lower priority and a higher OOM score than jhot (a production
//! host's CPU and memory belong to its application first), a small heap, and its jars as memfds
//! (`-cp /proc/self/fd/3:…`: nothing is written to the target's disk). Frames on stdin/stdout
//! (docs/protocol.md, "The helper JVM"); stderr is kept, bounded, for error messages.
//!
//! Killed and reaped by pid when dropped: it is jhot's child and never reaped before, so the pid
//! cannot have been reused.

use std::collections::HashMap;
use std::io::Read;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;

use super::{ClassPath, JarSet, ToolsError};
use crate::agent::protocol::Frame;
use crate::replace::context::ExecContext;
use crate::replace::namespaces::Namespaces;
use crate::replace::spawn::{self, Spec};

/// The most of the helper's stderr kept for messages (its last bytes: a stack trace's cause).
const STDERR_KEEP: usize = 8 * 1024;
const CAP_SETPCAP: u32 = 8;

/// What the helper said in its `hello`.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
pub struct HelperInfo {
    pub java_version: String,
    /// The user it runs as (`user.name`): the target's.
    #[serde(default)]
    pub user: String,
    /// The runtime has the jdk.compiler module.
    pub javac: bool,
}

/// The callback answers of a [`super::Tools`], for one class path.
pub(crate) struct Cache<'a> {
    pub key: String,
    pub classes: &'a mut HashMap<(String, String), Option<Vec<u8>>>,
    pub packages: &'a mut HashMap<(String, String), Vec<String>>,
}

pub(crate) struct Helper {
    pub pid: u32,
    pub info: HelperInfo,
    stdin: pipe::Sender,
    stdout: pipe::Receiver,
    stderr: Arc<Mutex<Vec<u8>>>,
    next_id: u64,
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> ToolsError + '_ {
    move |source| ToolsError::Start { what: what.to_string(), source }
}

fn memfd(name: &str, bytes: &[u8]) -> Result<OwnedFd, ToolsError> {
    use rustix::fs::{MemfdFlags, SealFlags};
    let fd = rustix::fs::memfd_create(name, MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING)
        .map_err(|e| ToolsError::Start { what: "memfd_create".into(), source: e.into() })?;
    let mut file = std::fs::File::from(fd);
    std::io::Write::write_all(&mut file, bytes).map_err(io("writing a jar into a memfd"))?;
    let fd = OwnedFd::from(file);
    // The helper runs as another user; it must not be able to change what jhot gave it.
    rustix::fs::fcntl_add_seals(&fd, SealFlags::SHRINK | SealFlags::GROW | SealFlags::WRITE | SealFlags::SEAL)
        .map_err(|e| ToolsError::Start { what: "sealing a memfd".into(), source: e.into() })?;
    Ok(fd)
}

impl Helper {
    /// Starts the helper with the target's own java (`host_java: None`), in its namespaces; or
    /// with a JDK of this machine (`Some(java)`), here, for javac when the target's java has none.
    /// Either way as the target's user.
    pub async fn start(
        pid: u32,
        uid: u32,
        gid: u32,
        jars: &JarSet,
        timeout: Duration,
        host_java: Option<&std::path::Path>,
    ) -> Result<Helper, ToolsError> {
        let (exe, ns) = match host_java {
            Some(java) => (java.to_path_buf(), None),
            None => {
                let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
                    .map_err(io("reading the target's /proc/<pid>/exe"))?;
                if exe.to_string_lossy().ends_with(" (deleted)") {
                    return Err(ToolsError::Start {
                        what: format!("the target's java {} was deleted (the JDK was upgraded?)", exe.display()),
                        source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    });
                }
                let ns = Namespaces::of_helper(pid).map_err(|e| ToolsError::Start {
                    what: "entering the target's namespaces".into(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                (exe, Some(ns))
            }
        };
        let me = rustix::thread::gettid().as_raw_nonzero().get() as u32;
        let mut ctx = ExecContext::read(me).map_err(|e| ToolsError::Start {
            what: "reading jhot's execution context".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        ctx.status.no_new_privs = true;
        if ctx.status.cap_eff & (1 << CAP_SETPCAP) != 0 {
            ctx.status.cap_bnd = 0;
        }
        ctx.nice = (ctx.nice + 10).min(19);
        ctx.oom_score_adj = (ctx.oom_score_adj + 500).min(1000);
        let prepared = ctx.prepare().map_err(|e| ToolsError::Start {
            what: "preparing the helper's execution context".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        let fds = [
            memfd("jhot-helper.jar", jars.jars[0])?,
            memfd("decompiler.jar", jars.jars[1])?,
            memfd("ecj.jar", jars.jars[2])?,
        ];

        let pipe = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).map_err(std::io::Error::from);
        let (in_r, in_w) = pipe().map_err(io("pipe"))?;
        let (out_r, out_w) = pipe().map_err(io("pipe"))?;
        let (err_r, err_w) = pipe().map_err(io("pipe"))?;
        let root = rustix::process::geteuid().is_root();
        let creds = if root {
            Some((uid, gid, vec![]))
        } else if rustix::process::geteuid().as_raw() == uid {
            None
        } else {
            return Err(ToolsError::Start {
                what: format!("the target runs as uid {uid}; jhot must run as root or as that user"),
                source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
            });
        };
        let argv: Vec<std::ffi::OsString> = [
            "java",
            "-Xmx256m",
            "-Xss16m",
            "-XX:+UseSerialGC",
            // Full tiered compilation: the helper lives as long as the shell, and C2 makes the
            // decompiler's second and later runs on a large class about 15 % faster than C1 alone.
            "-Xshare:auto",
            // No hsperfdata file (`jhot ps` would list the helper) and nobody attaches to it.
            "-XX:-UsePerfData",
            "-XX:+DisableAttachMechanism",
            "-Djava.awt.headless=true",
            "-cp",
            "/proc/self/fd/3:/proc/self/fd/4:/proc/self/fd/5",
            "dev.jhot.helper.Main",
        ]
        .iter()
        .map(Into::into)
        .collect();
        let spec = Spec {
            program: exe.clone(),
            argv,
            // Not the target's environment: a JAVA_TOOL_OPTIONS there would load its agents here.
            env: vec!["PATH=/usr/local/bin:/usr/bin:/bin".into(), "LC_ALL=C.UTF-8".into()],
            cwd: "/".into(),
            inherit: fds.iter().map(|f| f.as_fd()).collect(),
            stdin: Some(in_r.as_fd()),
            stdout: out_w.as_fd(),
            stderr: err_w.as_fd(),
            creds,
            setsid: true,
            namespaces: ns.as_ref(),
            context: Some(&prepared),
            listen_pid: false,
        };
        let child = spawn::spawn(&spec).map_err(io("starting the target's java"))?;
        drop(spec);
        drop((in_r, out_w, err_w, fds));
        tracing::debug!(pid = child, java = %exe.display(), "helper JVM started");

        let stderr = Arc::new(Mutex::new(Vec::new()));
        {
            let keep = stderr.clone();
            let mut file = std::fs::File::from(err_r);
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                // Ends at EOF, when the helper exits.
                while let Ok(n) = file.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let Ok(mut k) = keep.lock() else { break };
                    k.extend_from_slice(&buf[..n]);
                    if k.len() > STDERR_KEEP {
                        let cut = k.len() - STDERR_KEEP;
                        k.drain(..cut);
                    }
                }
            });
        }
        let to_tools = |e: std::io::Error| ToolsError::Start { what: "the helper's pipes".into(), source: e };
        let stdin = pipe::Sender::from_owned_fd(in_w).map_err(to_tools)?;
        let stdout = pipe::Receiver::from_owned_fd(out_r).map_err(to_tools)?;
        let mut h = Helper {
            pid: child,
            info: HelperInfo { java_version: String::new(), user: String::new(), javac: false },
            stdin,
            stdout,
            stderr,
            next_id: 1,
        };
        let mut none = NoClassPath;
        let mut classes = HashMap::new();
        let mut packages = HashMap::new();
        let mut cache = Cache { key: String::new(), classes: &mut classes, packages: &mut packages };
        let (hello, _) = h.call(serde_json::json!({ "op": "hello" }), vec![], &mut none, &mut cache, timeout).await?;
        h.info = serde_json::from_value(hello).map_err(|e| ToolsError::Protocol(format!("hello: {e}")))?;
        Ok(h)
    }

    /// Some(status) once the helper has exited (it is reaped then).
    pub fn exited(&mut self) -> Option<String> {
        spawn::try_reap(self.pid).map(|s| {
            self.pid = 0;
            s.to_string()
        })
    }

    fn stderr(&self) -> String {
        let k = self.stderr.lock().map(|k| k.clone()).unwrap_or_default();
        String::from_utf8_lossy(&k).into_owned()
    }

    pub async fn call<C: ClassPath>(
        &mut self,
        mut header: serde_json::Value,
        blobs: Vec<Vec<u8>>,
        cp: &mut C,
        cache: &mut Cache<'_>,
        timeout: Duration,
    ) -> Result<(serde_json::Value, Vec<Vec<u8>>), ToolsError> {
        let id = self.next_id;
        self.next_id += 1;
        header["id"] = id.into();
        let op = header.get("op").and_then(|o| o.as_str()).unwrap_or("").to_string();
        let r = tokio::time::timeout(timeout, self.exchange(id, &header, blobs, cp, cache)).await;
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(ToolsError::Io { what, source })) => {
                // The pipe broke: the helper died. Its status and stderr say why.
                let pid = self.pid;
                let status = self.kill_and_reap();
                tracing::debug!(op, "helper pipe: {what}: {source}");
                // Let the stderr thread drain what the helper wrote last.
                tokio::time::sleep(Duration::from_millis(50)).await;
                Err(ToolsError::Died {
                    pid,
                    status,
                    doing: if op == "hello" { "exited at start" } else { "exited during the request" },
                    stderr: self.stderr(),
                })
            }
            Ok(Err(e)) => Err(e),
            Err(_) => {
                self.kill_and_reap();
                Err(ToolsError::Timeout { secs: timeout.as_secs(), stderr: self.stderr() })
            }
        }
    }

    async fn exchange<C: ClassPath>(
        &mut self,
        id: u64,
        header: &serde_json::Value,
        blobs: Vec<Vec<u8>>,
        cp: &mut C,
        cache: &mut Cache<'_>,
    ) -> Result<(serde_json::Value, Vec<Vec<u8>>), ToolsError> {
        self.send(header, blobs).await?;
        loop {
            let frame = self.receive().await?;
            let v: serde_json::Value = serde_json::from_slice(&frame.header)
                .map_err(|e| ToolsError::Protocol(format!("a header that is not JSON: {e}")))?;
            if v.get("id").and_then(|i| i.as_u64()) != Some(id) {
                return Err(ToolsError::Protocol(format!("an answer for another request: {v}")));
            }
            match v.get("callback").and_then(|c| c.as_str()) {
                None => {
                    if v.get("ok").and_then(|o| o.as_bool()) == Some(true) {
                        return Ok((v, frame.blobs));
                    }
                    let kind = v.pointer("/error/kind").and_then(|k| k.as_str()).unwrap_or("internal").to_string();
                    let message = v.pointer("/error/message").and_then(|k| k.as_str()).unwrap_or("").to_string();
                    let message = if kind == "input" { message } else { format!("the helper JVM failed: {message}") };
                    return Err(ToolsError::Helper { kind, message });
                }
                Some("class_file") => {
                    let name = v.get("name").and_then(|n| n.as_str()).unwrap_or("").to_string();
                    let key = (cache.key.clone(), name.clone());
                    let bytes = match cache.classes.get(&key) {
                        Some(b) => b.clone(),
                        None => {
                            let b = cp.class_files(std::slice::from_ref(&name)).await?.into_iter().next().flatten();
                            cache.classes.insert(key, b.clone());
                            b
                        }
                    };
                    let found = bytes.is_some();
                    self.send(&serde_json::json!({ "id": id, "found": found }), bytes.into_iter().collect()).await?;
                }
                Some("list_package") => {
                    let package = v.get("package").and_then(|n| n.as_str()).unwrap_or("").to_string();
                    let key = (cache.key.clone(), package.clone());
                    let names = match cache.packages.get(&key) {
                        Some(n) => n.clone(),
                        None => {
                            let n = cp.package(&package).await?;
                            cache.packages.insert(key, n.clone());
                            n
                        }
                    };
                    self.send(&serde_json::json!({ "id": id, "names": names }), vec![]).await?;
                }
                Some(other) => return Err(ToolsError::Protocol(format!("unknown callback {other:?}"))),
            }
        }
    }

    async fn send(&mut self, header: &serde_json::Value, blobs: Vec<Vec<u8>>) -> Result<(), ToolsError> {
        let bytes = Frame::new(header, blobs)
            .map_err(|e| ToolsError::Protocol(e.to_string()))?
            .encode()
            .map_err(|e| ToolsError::Input(format!("a request too large for the helper: {e}")))?;
        self.stdin
            .write_all(&bytes)
            .await
            .map_err(|source| ToolsError::Io { what: "writing to the helper".into(), source })
    }

    async fn receive(&mut self) -> Result<Frame, ToolsError> {
        let broke = |source| ToolsError::Io { what: "reading from the helper".into(), source };
        let mut prefix = [0u8; 4];
        self.stdout.read_exact(&mut prefix).await.map_err(broke)?;
        let len = Frame::body_len(prefix).map_err(|e| ToolsError::Protocol(e.to_string()))?;
        let mut body = vec![0u8; len];
        self.stdout.read_exact(&mut body).await.map_err(broke)?;
        Frame::decode_body(&body).map_err(|e| ToolsError::Protocol(e.to_string()))
    }

    /// Kills and reaps the helper; its exit status, described.
    fn kill_and_reap(&mut self) -> String {
        if self.pid == 0 {
            return "had exited".into();
        }
        let pid = self.pid as i32;
        // SAFETY: our own child, not reaped yet, so the pid is still ours.
        unsafe { libc::kill(pid, libc::SIGKILL) };
        let mut status = 0;
        // SAFETY: waiting for our own child, which SIGKILL ends.
        let r = unsafe { libc::waitpid(pid, &mut status, 0) };
        self.pid = 0;
        if r == pid { spawn::ExitStatus::from_raw(status).to_string() } else { "exited".into() }
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        self.kill_and_reap();
    }
}

/// For `hello`, which asks nothing back.
struct NoClassPath;

impl ClassPath for NoClassPath {
    fn key(&self) -> String {
        String::new()
    }
    async fn class_files(&mut self, names: &[String]) -> Result<Vec<Option<Vec<u8>>>, ToolsError> {
        Ok(names.iter().map(|_| None).collect())
    }
    async fn package(&mut self, _package: &str) -> Result<Vec<String>, ToolsError> {
        Ok(Vec::new())
    }
}
