//! The private directory jhot and its agent share inside the target's mount namespace:
//! `/tmp/.jhot-<uid>`, owned by the JVM's user, mode 0700. Everything the agent trusts (its jar, its
//! socket, its port and token) lives there, so the directory is checked before every use: another
//! user who could create or swap files in it could run code in the JVM.

use std::os::fd::AsFd;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::AgentError;
use jhot_attach::Target;
use jhot_attach::safe_fs::{DirProblem, PrivateDir};

/// The directory as the target sees it.
pub fn in_target(target: &Target) -> String {
    format!("/tmp/.jhot-{}", target.euid)
}

fn name_for(uid: u32) -> String {
    format!(".jhot-{uid}")
}

/// The target's directory as shown in messages (through `/proc/<pid>/root`). Never opened by
/// this path: see [`of_target`].
pub fn host_path(target: &Target) -> PathBuf {
    target.tmp().join(name_for(target.euid))
}

/// Where jhot's own private directory is (`jhot run` keeps its control socket and the shim
/// there, and `jhot replace` its records), for messages and for paths handed to processes jhot
/// starts in its own mount namespace. Never opened by this path: see [`own`].
pub fn own_path() -> PathBuf {
    PathBuf::from(format!("/tmp/{}", name_for(rustix::process::geteuid().as_raw())))
}

fn problem(e: DirProblem, path: PathBuf) -> AgentError {
    match e {
        DirProblem::Missing => AgentError::Install { path, source: std::io::ErrorKind::NotFound.into() },
        DirProblem::Unsafe { path, reason } => AgentError::PrivateDirUnsafe { path, reason },
        DirProblem::Io { path, source } => AgentError::Install { path, source },
    }
}

/// jhot's own private directory, verified (owner = the effective uid, 0700, not a link, in a
/// parent nobody else can rename it out of) and held open. `Ok(None)`: it does not exist and
/// `create` was false. A directory that fails the checks is an error (exit 4): jhot then never
/// reads, signals or writes anything because of what is in it.
pub fn own(create: bool) -> Result<Option<PrivateDir>, AgentError> {
    let path = own_path();
    match PrivateDir::open_path(&path, rustix::process::geteuid().as_raw(), create) {
        Ok(dir) => Ok(Some(dir)),
        Err(DirProblem::Missing) => Ok(None),
        Err(e) => Err(problem(e, path)),
    }
}

/// Writes `bytes` as `name` into jhot's own private directory (created 0700 if needed) unless an
/// identical file is there; returns its path for processes jhot starts.
pub fn write_own_file(name: &str, bytes: &[u8]) -> Result<PathBuf, AgentError> {
    let dir = own(true)?.ok_or_else(|| problem(DirProblem::Missing, own_path()))?;
    dir.write_once(name, bytes).map_err(|e| AgentError::Install { path: dir.shown_file(name), source: e })?;
    Ok(own_path().join(name))
}

/// The target's private directory, opened inside its mount namespace (through its `/tmp`,
/// resolved in its root) and verified like [`own`]. Created as the target's user when `create`.
pub fn of_target(target: &Target, create: bool) -> Result<Option<PrivateDir>, AgentError> {
    let name = name_for(target.euid);
    let shown = target.tmp().to_path_buf();
    let uid = target.euid;
    let tmp =
        rustix::io::dup(target.tmp_fd()).map_err(|e| AgentError::Install { path: shown.clone(), source: e.into() })?;
    let open = move || PrivateDir::open(tmp.as_fd(), &shown, &name, uid, create);
    let opened = if create { jhot_attach::as_target(target, open)? } else { open() };
    match opened {
        Ok(dir) => Ok(Some(dir)),
        Err(DirProblem::Missing) => Ok(None),
        Err(e) => Err(problem(e, host_path(target))),
    }
}

/// The target's private directory, which must exist.
pub fn verify(target: &Target) -> Result<PrivateDir, AgentError> {
    of_target(target, false)?.ok_or_else(|| problem(DirProblem::Missing, host_path(target)))
}

/// Refuses a directory another user could have prepared (see [`PrivateDir::open_path`]).
pub fn check_dir(path: &Path, uid: u32) -> Result<(), AgentError> {
    PrivateDir::open_path(path, uid, false).map(|_| ()).map_err(|e| problem(e, path.into()))
}

/// A file name that changes whenever the agent's bytes do, so a JVM never picks up a jar that was
/// rewritten under it and an upgraded jhot never reuses an old agent jar.
pub fn jar_name(jar: &[u8]) -> String {
    format!("jhot-agent-{}.jar", content_hash(jar))
}

/// The first 8 bytes of the SHA-256 in hex: what names every file jhot installs by content.
pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// Creates the private directory (as the target's user, so it owns it) and writes the agent jar
/// into it unless an identical one is there. Returns the directory and the jar's path inside the
/// target.
pub fn install_jar(target: &Target, jar: &'static [u8]) -> Result<(PrivateDir, String), AgentError> {
    let dir = of_target(target, true)?.ok_or_else(|| problem(DirProblem::Missing, host_path(target)))?;
    let name = jar_name(jar);
    write_file(target, &dir, &name, jar.to_vec())?;
    Ok((dir, format!("{}/{}", in_target(target), name)))
}

/// Writes `bytes` as `name` in the target's private directory, as the target's user (mode 0600,
/// atomically, never through a link), unless an identical file is there.
pub fn write_file(target: &Target, dir: &PrivateDir, name: &str, bytes: Vec<u8>) -> Result<(), AgentError> {
    let (d, n) = (dir.clone(), name.to_string());
    jhot_attach::as_target(target, move || d.write_once(&n, &bytes))?
        .map_err(|e| AgentError::Install { path: dir.shown_file(name), source: e })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_change_with_the_bytes() {
        assert_ne!(jar_name(b"one"), jar_name(b"two"));
        assert_eq!(content_hash(b"one").len(), 16);
    }
}
