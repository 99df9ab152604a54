//! The agent jar for loading at JVM start-up (`jhot agent --javaagent-flag`) instead of attaching
//! later: written once, readable by the JVM's user, in a directory nobody else can write to.

use std::path::PathBuf;

use crate::error::Error;

/// `$XDG_DATA_HOME/jhot`, else `~/.local/share/jhot`.
pub fn default_agent_dir() -> Result<PathBuf, Error> {
    if let Some(d) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(d).join("jhot"));
    }
    match std::env::var_os("HOME").filter(|h| !h.is_empty()) {
        Some(h) => Ok(PathBuf::from(h).join(".local/share/jhot")),
        None => Err(Error::Input("neither XDG_DATA_HOME nor HOME is set; pass --dir".into())),
    }
}

/// Writes the agent jar for startup use. Readable by everyone (0644) because the JVM that loads it
/// may run as another user. The directory must be writable only by its owner (root or us), and an
/// existing jar must be ours: otherwise someone else could have placed it, or swap it later.
pub fn write_agent_jar(dir: &std::path::Path) -> Result<PathBuf, Error> {
    use rustix::fs::{AtFlags, Mode, OFlags};
    use std::io::Write;
    let io = |p: &std::path::Path, e: std::io::Error| Error::Input(format!("cannot write {}: {e}", p.display()));
    std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    let dir = std::fs::canonicalize(dir).map_err(|e| io(dir, e))?;
    let me = rustix::process::geteuid().as_raw();
    let dfd = rustix::fs::open(&dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io(&dir, e.into()))?;
    let st = rustix::fs::fstat(&dfd).map_err(|e| io(&dir, e.into()))?;
    if (st.st_uid != 0 && st.st_uid != me) || st.st_mode & 0o022 != 0 {
        return Err(super::AgentError::PrivateDirUnsafe {
            path: dir,
            reason: format!(
                "it is owned by uid {} with mode {:o}; the agent jar needs a directory only its owner (root or uid {me}) can write to",
                st.st_uid,
                st.st_mode & 0o7777
            ),
        }
        .into());
    }
    let name = super::private_dir::jar_name(super::AGENT_JAR);
    let path = dir.join(&name);
    if let Ok(fd) = rustix::fs::openat(
        &dfd,
        name.as_str(),
        OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    ) && rustix::fs::fstat(&fd).is_ok_and(|st| st.st_uid == me && st.st_mode & 0o022 == 0)
        && jhot_attach::safe_fs::read_fd(fd, super::AGENT_JAR.len() as u64).ok().as_deref() == Some(super::AGENT_JAR)
    {
        return Ok(path);
    }
    let tmp = format!(".jhot-agent.{}.tmp", std::process::id());
    let _ = rustix::fs::unlinkat(&dfd, tmp.as_str(), AtFlags::empty());
    let fd = rustix::fs::openat(
        &dfd,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|e| io(&dir.join(&tmp), e.into()))?;
    // The umask must not take the JVM user's read access away.
    rustix::fs::fchmod(&fd, Mode::from_raw_mode(0o644)).map_err(|e| io(&dir.join(&tmp), e.into()))?;
    let mut f = std::fs::File::from(fd);
    f.write_all(super::AGENT_JAR).map_err(|e| io(&dir.join(&tmp), e))?;
    drop(f);
    rustix::fs::renameat(&dfd, tmp.as_str(), &dfd, name.as_str()).map_err(|e| io(&path, e.into()))?;
    if path.to_string_lossy().contains('=') {
        return Err(Error::Input(format!(
            "{}: a -javaagent path cannot contain '='; pass another --dir",
            path.display()
        )));
    }
    Ok(path)
}
