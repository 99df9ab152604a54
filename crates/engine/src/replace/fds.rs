//! Copying the old process's listening sockets (and its stdout/stderr) into jhot: with
//! pidfd_getfd, which needs no help from the process but ptrace rights over it, or through the agent,
//! whose native library sends them over SCM_RIGHTS.

use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixListener;
use std::time::{Duration, Instant};

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

use super::TakeoverError;
use super::generation::Inherited;
use super::listeners::Listener;
use crate::agent::{self, private_dir, protocol::Request};
use jhot_attach::{AttachOptions, Target};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FdSource {
    /// pidfd_getfd, and the agent where the kernel refuses
    Auto,
    /// pidfd_getfd only
    Pidfd,
    /// the agent only (SCM_RIGHTS from inside the JVM)
    Agent,
}

pub struct Copied {
    pub listeners: Vec<Inherited>,
    pub stdout: Option<OwnedFd>,
    pub stderr: Option<OwnedFd>,
    /// "pidfd" or "agent".
    pub source: &'static str,
    /// Why pidfd_getfd was not used, when the agent was.
    pub fallback_reason: Option<String>,
}

pub async fn copy(
    target: &Target,
    listeners: &[Listener],
    source: FdSource,
    attach_opts: &AttachOptions,
    timeout: Duration,
) -> Result<Copied, TakeoverError> {
    if source != FdSource::Agent {
        match by_pidfd(target.pid, listeners) {
            Ok(c) => return Ok(c),
            Err(e) if source == FdSource::Auto && e.raw_os_error() == Some(libc::EPERM) => {
                tracing::debug!(error = %e, "pidfd_getfd refused; asking the agent");
                let mut c = by_agent(target, listeners, attach_opts, timeout).await?;
                c.fallback_reason = Some(format!("pidfd_getfd: {e}"));
                return Ok(c);
            }
            Err(e) => {
                return Err(TakeoverError::CopyFds {
                    pid: target.pid,
                    how: "pidfd_getfd",
                    source: e,
                    hint: if source == FdSource::Pidfd { "; try --fd-source agent" } else { "" },
                });
            }
        }
    }
    by_agent(target, listeners, attach_opts, timeout).await
}

fn by_pidfd(pid: u32, listeners: &[Listener]) -> std::io::Result<Copied> {
    let raw = rustix::process::Pid::from_raw(pid as i32).ok_or_else(|| std::io::Error::other("pid 0"))?;
    let pidfd = rustix::process::pidfd_open(raw, rustix::process::PidfdFlags::empty())?;
    let get = |fd: i32| rustix::process::pidfd_getfd(&pidfd, fd, rustix::process::PidfdGetfdFlags::empty());
    let mut out = Vec::new();
    for l in listeners {
        let fd = get(l.fd)?;
        verify(&fd, l)?;
        out.push(Inherited { addr: l.addr, inode: l.inode, fd });
    }
    // Output goes where the old process's went; a closed stdout is not an error.
    let stdout = get(1).ok();
    let stderr = get(2).ok();
    Ok(Copied { listeners: out, stdout, stderr, source: "pidfd", fallback_reason: None })
}

/// A copy must be the very socket /proc listed: a descriptor number can be reused in between.
fn verify(fd: &OwnedFd, l: &Listener) -> std::io::Result<()> {
    let st = rustix::fs::fstat(fd)?;
    if st.st_ino != l.inode {
        return Err(std::io::Error::other(format!(
            "descriptor {} no longer holds the listener on {} (it was closed or reused)",
            l.fd, l.addr
        )));
    }
    Ok(())
}

#[derive(serde::Deserialize)]
struct Sent {
    #[allow(dead_code)]
    sent: u32,
}

async fn by_agent(
    target: &Target,
    listeners: &[Listener],
    attach_opts: &AttachOptions,
    timeout: Duration,
) -> Result<Copied, TakeoverError> {
    let lib = super::shim::install_jni(target)?;
    let sock_name = format!("fds-{}-{}.sock", std::process::id(), nanos());
    let dir = private_dir::verify(target)?;
    // Bound through the verified directory's descriptor, never through a path the JVM's user (or
    // a container) could redirect; created as the JVM's user: it must be allowed to connect.
    let bind_path = jhot_attach::safe_fs::fd_path(dir.fd(), &sock_name);
    let listener = jhot_attach::as_target(target, move || UnixListener::bind(&bind_path))
        .map_err(|e| TakeoverError::Agent(e.into()))?
        .map_err(|e| TakeoverError::io("creating the socket the agent sends descriptors to", e))?;
    let _cleanup = RemoveOnDrop(dir.clone(), sock_name.clone());
    listener.set_nonblocking(true).map_err(|e| TakeoverError::io("configuring the descriptor socket", e))?;
    let mut fds: Vec<i32> = listeners.iter().map(|l| l.fd).collect();
    fds.extend([1, 2]);
    let request =
        Request::SendFds { lib, socket: format!("{}/{}", private_dir::in_target(target), sock_name), fds: fds.clone() };
    let call = agent::call_or_load::<Sent>(target, attach_opts, timeout, &request, Vec::new()).await?;
    call.answer?;
    let deadline = Instant::now() + timeout;
    let stream = loop {
        match listener.accept() {
            Ok((s, _)) => break s,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            Err(e) => return Err(TakeoverError::io("waiting for the agent's descriptors", e)),
        }
    };
    let cred = rustix::net::sockopt::socket_peercred(&stream)
        .map_err(|e| TakeoverError::io("reading the sender's credentials", e.into()))?;
    if cred.pid.as_raw_nonzero().get() as u32 != target.pid {
        return Err(TakeoverError::CopyFds {
            pid: target.pid,
            how: "the agent",
            source: std::io::Error::other(format!(
                "descriptors came from pid {}, not from the JVM",
                cred.pid.as_raw_nonzero()
            )),
            hint: "",
        });
    }
    stream.set_nonblocking(false).map_err(|e| TakeoverError::io("configuring the descriptor socket", e))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| TakeoverError::io("configuring the descriptor socket", e))?;
    let mut count = [0u8; 4];
    let mut space = vec![MaybeUninit::<u8>::uninit(); rustix::cmsg_space!(ScmRights(40))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    rustix::net::recvmsg(&stream, &mut [IoSliceMut::new(&mut count)], &mut control, RecvFlags::CMSG_CLOEXEC)
        .map_err(|e| TakeoverError::io("receiving the agent's descriptors", e.into()))?;
    let mut got: Vec<OwnedFd> = Vec::new();
    for m in control.drain() {
        if let RecvAncillaryMessage::ScmRights(it) = m {
            got.extend(it);
        }
    }
    if got.len() != fds.len() || u32::from_le_bytes(count) as usize != fds.len() {
        return Err(TakeoverError::CopyFds {
            pid: target.pid,
            how: "the agent",
            source: std::io::Error::other(format!("asked for {} descriptors, received {}", fds.len(), got.len())),
            hint: "",
        });
    }
    let stderr = got.pop();
    let stdout = got.pop();
    let mut out = Vec::new();
    for (l, fd) in listeners.iter().zip(got) {
        verify(&fd, l).map_err(|source| TakeoverError::CopyFds {
            pid: target.pid,
            how: "the agent",
            source,
            hint: "",
        })?;
        out.push(Inherited { addr: l.addr, inode: l.inode, fd });
    }
    let _ = stream.as_fd();
    Ok(Copied { listeners: out, stdout, stderr, source: "agent", fallback_reason: None })
}

struct RemoveOnDrop(jhot_attach::safe_fs::PrivateDir, String);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        self.0.remove(&self.1);
    }
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}
