//! The native libraries embedded in jhot: the shim preloaded into replacement processes, and the
//! JNI library the agent loads to send descriptors. Both are written content-addressed into the
//! target user's private directory, like the agent jar.

use std::path::PathBuf;

use crate::agent::AgentError;
use crate::agent::private_dir;
use crate::attach::Target;

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

/// Installs the shim for `target`'s user; returns its path.
pub fn install_shim(target: &Target) -> Result<PathBuf, AgentError> {
    install(target, "libjhot_shim", SHIM)
}

pub fn install_jni(target: &Target) -> Result<PathBuf, AgentError> {
    install(target, "libjhot_jni", JNI)
}

fn install(target: &Target, prefix: &str, bytes: &'static [u8]) -> Result<PathBuf, AgentError> {
    if bytes.is_empty() {
        return Err(AgentError::Install {
            path: PathBuf::from(prefix),
            source: std::io::Error::other("this jhot was built without its native libraries (a fuzzing build)"),
        });
    }
    let file = file_name(prefix, bytes);
    let dir = private_dir::of_target(target, true)?
        .ok_or_else(|| AgentError::Install { path: private_dir::host_path(target), source: std::io::ErrorKind::NotFound.into() })?;
    // Compared through the verified directory, as a bounded regular file: the JVM's user owns it.
    if dir.read(&file, bytes.len() as u64).ok().as_deref() != Some(bytes) {
        private_dir::write_file(target, &dir, &file, bytes.to_vec())?;
    }
    Ok(private_dir::host_path(target).join(&file))
}
