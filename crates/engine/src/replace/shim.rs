//! The native libraries embedded in jhot: the shim preloaded into replacement processes, and the
//! JNI library the agent loads to send descriptors. Both are written content-addressed into the
//! target user's private directory, like the agent jar.

use std::path::PathBuf;

use crate::agent::AgentError;
use crate::agent::private_dir;
use crate::replace::TakeoverError;
use jhot_attach::Target;

pub static SHIM: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libjhot_shim.so"));
pub static JNI: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/libjhot_jni.so"));

/// `libjhot_shim-<hash>.so`: a new jhot never overwrites a library a running process has mapped.
pub fn file_name(prefix: &str, bytes: &[u8]) -> String {
    format!("{prefix}-{}.so", private_dir::content_hash(bytes))
}

/// Installs the shim into jhot's own private directory (`jhot run`: the application is not
/// started yet, and runs as jhot's user).
pub fn install_own_shim() -> Result<PathBuf, AgentError> {
    private_dir::write_own_file(&file_name("libjhot_shim", SHIM), SHIM)
}

/// Installs the shim for `target`'s user; returns its path as this process reaches it.
pub fn install_shim(target: &Target) -> Result<PathBuf, AgentError> {
    install(target, "libjhot_shim", SHIM)
}

/// Installs the shim for a process started beside `target` (in its mount namespace and root) and
/// returns the path its `LD_PRELOAD` names: the one inside the target's view, `/tmp/.jhot-<uid>/…`, not
/// the `/proc/<pid>/root/…` path jhot installs it through. That one is only valid while the pid
/// names the old process (a wrapper script's children read the variable long after it is gone,
/// when the pid may belong to a process in another namespace) and is closed to a non-dumpable old
/// process's user. Both paths must name the same file, the second resolved in the target's root.
///
/// Executables with file capabilities (`setcap cap_net_bind_service=+ep java`) run in
/// secure-execution mode, where ld.so ignores `LD_PRELOAD` entries containing a slash: the shim
/// never loads there, and the replacement fails as "not ready" with "the shim never started".
pub fn install_shim_for_spawn(target: &Target) -> Result<PathBuf, TakeoverError> {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let installed = install_shim(target)?;
    let name = file_name("libjhot_shim", SHIM);
    let inside = PathBuf::from(private_dir::in_target(target)).join(&name);
    let id = |p: &std::path::Path| std::fs::metadata(p).map(|m| (m.dev(), m.ino()));
    // The new process starts in the old one's root (replace::namespaces chroots it there when it
    // is not jhot's), so the path it is given is resolved inside that root, as it will be.
    let id_inside = |p: &std::path::Path| -> std::io::Result<(u64, u64)> {
        let root = jhot_attach::safe_fs::proc_root(target.pid)?;
        let fd = jhot_attach::safe_fs::open_in_root(root.as_fd(), &p.to_string_lossy(), rustix::fs::OFlags::PATH)?;
        let st = rustix::fs::fstat(&fd)?;
        Ok((st.st_dev, st.st_ino))
    };
    match (id(&installed), id_inside(&inside)) {
        (Ok(a), Ok(b)) if a == b => Ok(inside),
        _ => Err(TakeoverError::Usage(format!(
            "{} does not name the shim jhot installed for pid {} ({}): the process sees another /tmp (a chroot?); \
             run jhot where the process runs to replace it",
            inside.display(),
            target.pid,
            installed.display()
        ))),
    }
}

/// Installs the JNI library for `target`'s agent; returns its path as the JVM sees it (the agent
/// loads only files of its private directory, named that way).
pub fn install_jni(target: &Target) -> Result<String, AgentError> {
    install(target, "libjhot_jni", JNI)?;
    Ok(format!("{}/{}", private_dir::in_target(target), file_name("libjhot_jni", JNI)))
}

fn install(target: &Target, prefix: &str, bytes: &'static [u8]) -> Result<PathBuf, AgentError> {
    if bytes.is_empty() {
        return Err(AgentError::Install {
            path: PathBuf::from(prefix),
            source: std::io::Error::other("this jhot was built without its native libraries (a fuzzing build)"),
        });
    }
    let file = file_name(prefix, bytes);
    let dir = private_dir::of_target(target, true)?.ok_or_else(|| AgentError::Install {
        path: private_dir::host_path(target),
        source: std::io::ErrorKind::NotFound.into(),
    })?;
    // Compared through the verified directory, as a bounded regular file: the JVM's user owns it.
    if dir.read(&file, bytes.len() as u64).ok().as_deref() != Some(bytes) {
        private_dir::write_file(target, &dir, &file, bytes.to_vec())?;
    }
    Ok(private_dir::host_path(target).join(&file))
}
