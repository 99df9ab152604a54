//! The private directory jhot and its agent share inside the target's mount namespace:
//! `/tmp/.jhot-<uid>`, owned by the JVM's user, mode 0700. Everything the agent trusts (its jar, its
//! socket, its port and token) lives there, so the directory is checked before every use: another
//! user who could create or swap files in it could run code in the JVM.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::AgentError;
use crate::attach::{self, Target};

/// The directory as the target sees it.
pub fn in_target(target: &Target) -> String {
    format!("/tmp/.jhot-{}", target.euid)
}

/// The same directory as this process reaches it (through `/proc/<pid>/root`).
pub fn host_path(target: &Target) -> PathBuf {
    target.tmp().join(format!(".jhot-{}", target.euid))
}

/// jhot's own private directory (`jhot run` keeps its control socket and the shim there).
pub fn own_dir() -> PathBuf {
    PathBuf::from(format!("/tmp/.jhot-{}", rustix::process::geteuid().as_raw()))
}

/// Writes `bytes` as `name` into jhot's own private directory (created 0700 if needed).
pub fn write_own_file(name: &str, bytes: &[u8]) -> Result<PathBuf, AgentError> {
    let dir = own_dir();
    write_private(&dir, rustix::process::geteuid().as_raw(), name, bytes)?;
    Ok(dir.join(name))
}

/// Refuses a directory another user could have prepared: it must be a real directory (not a
/// symlink), owned by the target's uid, with no group or other permissions.
pub fn verify(target: &Target) -> Result<(), AgentError> {
    check_dir(&host_path(target), target.euid)
}

pub fn check_dir(path: &Path, uid: u32) -> Result<(), AgentError> {
    let meta = fs::symlink_metadata(path).map_err(|e| AgentError::Install { path: path.into(), source: e })?;
    let unsafe_because = if meta.file_type().is_symlink() {
        Some("it is a symbolic link".to_string())
    } else if !meta.is_dir() {
        Some("it is not a directory".to_string())
    } else if meta.uid() != uid {
        Some(format!("it is owned by uid {}, not by the JVM's uid {uid}", meta.uid()))
    } else if meta.mode() & 0o077 != 0 {
        Some(format!("its mode is {:o}; it must be 0700", meta.mode() & 0o7777))
    } else {
        None
    };
    match unsafe_because {
        Some(reason) => Err(AgentError::PrivateDirUnsafe { path: path.into(), reason }),
        None => Ok(()),
    }
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
/// into it unless an identical one is there. Returns the jar's path inside the target.
pub fn install_jar(target: &Target, jar: &'static [u8]) -> Result<String, AgentError> {
    let dir = host_path(target);
    let name = jar_name(jar);
    let uid = target.euid;
    let dir2 = dir.clone();
    let name2 = name.clone();
    attach::as_target(target, move || write_private(&dir2, uid, &name2, jar))??;
    Ok(format!("{}/{}", in_target(target), name))
}

/// Writes `bytes` as `name` in the private directory (as the target's user, mode 0600) and returns
/// its path as this process sees it.
pub fn write_file(target: &Target, name: &str, bytes: Vec<u8>) -> Result<PathBuf, AgentError> {
    let dir = host_path(target);
    let uid = target.euid;
    let name = name.to_string();
    let path = dir.join(&name);
    attach::as_target(target, move || write_private(&dir, uid, &name, &bytes))??;
    Ok(path)
}

fn write_private(dir: &Path, uid: u32, name: &str, bytes: &[u8]) -> Result<(), AgentError> {
    match fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(AgentError::Install { path: dir.into(), source: e }),
    }
    check_dir(dir, uid)?;
    let path = dir.join(name);
    if let Ok(meta) = fs::symlink_metadata(&path)
        && meta.is_file()
        && meta.uid() == uid
        && meta.len() == bytes.len() as u64
        && fs::read(&path).is_ok_and(|existing| existing == bytes)
    {
        return Ok(());
    }
    // Write beside it and rename, so the JVM never opens a half-written jar.
    let tmp = dir.join(format!(".{}.{}.tmp", name, std::process::id()));
    let _ = fs::remove_file(&tmp);
    let io = |e| AgentError::Install { path: tmp.clone(), source: e };
    let mut f = fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    drop(f);
    fs::rename(&tmp, &path).map_err(|e| AgentError::Install { path: path.clone(), source: e })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_open_or_foreign_or_linked_dirs() {
        let t = tempfile::tempdir().expect("tempdir");
        let me = fs::metadata(t.path()).expect("meta").uid();
        let good = t.path().join("good");
        fs::DirBuilder::new().mode(0o700).create(&good).expect("mkdir");
        assert!(check_dir(&good, me).is_ok());
        assert!(matches!(check_dir(&good, me + 1), Err(AgentError::PrivateDirUnsafe { .. })));
        let open = t.path().join("open");
        fs::DirBuilder::new().mode(0o755).create(&open).expect("mkdir");
        fs::set_permissions(&open, std::os::unix::fs::PermissionsExt::from_mode(0o755)).expect("chmod");
        assert!(matches!(check_dir(&open, me), Err(AgentError::PrivateDirUnsafe { .. })));
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&good, &link).expect("symlink");
        assert!(matches!(check_dir(&link, me), Err(AgentError::PrivateDirUnsafe { .. })));
    }

    #[test]
    fn writes_jar_once_and_privately() {
        let t = tempfile::tempdir().expect("tempdir");
        let me = fs::metadata(t.path()).expect("meta").uid();
        let dir = t.path().join(".jhot-x");
        write_private(&dir, me, "a.jar", b"one").expect("write");
        let meta = fs::metadata(dir.join("a.jar")).expect("jar");
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(fs::metadata(&dir).expect("dir").mode() & 0o777, 0o700);
        write_private(&dir, me, "a.jar", b"one").expect("same bytes again");
        write_private(&dir, me, "a.jar", b"two").expect("replaced");
        assert_eq!(fs::read(dir.join("a.jar")).expect("read"), b"two");
        assert_ne!(jar_name(b"one"), jar_name(b"two"));
    }
}
