//! Writing class files under a directory (`jhot dump`) without ever following a symbolic link
//! planted inside it. jhot runs as root, and the directory may be shared (`/tmp/dump`): a link
//! `dir/com -> /etc` or `dir/com/acme/Foo.class -> /etc/shadow` would otherwise make root write
//! where its owner cannot. Every directory below `dir` is opened with `O_NOFOLLOW` relative to
//! its parent's descriptor (created with `mkdirat` when missing), and each file is written to a
//! new name (`O_CREAT | O_EXCL | O_NOFOLLOW`) and renamed into place, so neither a link nor a
//! file another user opened beforehand is written through. A link found anywhere is refused
//! before anything is written.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Component, Path, PathBuf};

use rustix::fs::{self, AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;

use crate::exit_code::ExitCode;

#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    #[error(
        "refusing to write {path}: {reason}; nothing was written (remove it, or dump into a directory of your own)"
    )]
    Unsafe { path: PathBuf, reason: String },
    #[error("cannot write {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("class name {name:?} cannot be a file path (an empty, `.` or `..` segment)")]
    BadName { name: String },
}

impl DumpError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            // A link in the way is the "prepared by another user" case of SECURITY.md.
            DumpError::Unsafe { .. } => ExitCode::Permission,
            DumpError::Io { .. } | DumpError::BadName { .. } => ExitCode::Input,
        }
    }

    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            DumpError::Unsafe { path, .. } | DumpError::Io { path, .. } => {
                Some(serde_json::json!({ "path": path.display().to_string() }))
            }
            DumpError::BadName { .. } => None,
        }
    }
}

/// `a.b.C$D` → `a/b/C$D.class`.
pub fn class_path(name: &str) -> Result<PathBuf, DumpError> {
    let mut p = PathBuf::new();
    let segments: Vec<&str> = name.split('.').collect();
    for (i, s) in segments.iter().enumerate() {
        if s.is_empty() || *s == ".." || s.contains(['/', '\0']) {
            return Err(DumpError::BadName { name: name.to_string() });
        }
        if i + 1 == segments.len() {
            p.push(format!("{s}.class"));
        } else {
            p.push(s);
        }
    }
    Ok(p)
}

/// The subdirectory of one loader's copies: `app-0x1b6d3586`, `bootstrap`; characters other than
/// letters, digits, `.`, `_` and `-` become `_` (a loader's name is the application's choice).
pub fn loader_dir(name: &str, id: &str) -> String {
    let raw = if name == id || id == "bootstrap" { id.to_string() } else { format!("{name}-{id}") };
    let s: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    if s.starts_with('.') { format!("_{s}") } else { s }
}

/// Writes each `(relative path, bytes)` under `dir` (created if missing). Checks every path
/// first, so a link anywhere refuses the whole dump before a byte is written; the write itself
/// refuses links again, should one appear meanwhile.
pub fn write_all(dir: &Path, files: &[(PathBuf, &[u8])]) -> Result<(), DumpError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| DumpError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // `dir` itself is the user's own choice, links and all.
    let root = fs::open(dir, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| io(dir)(e.into()))?;
    for (rel, _) in files {
        check(root.as_fd(), dir, rel)?;
    }
    for (rel, bytes) in files {
        write_one(root.as_fd(), dir, rel, bytes)?;
    }
    Ok(())
}

fn parts(rel: &Path) -> Result<Vec<&str>, DumpError> {
    rel.components()
        .map(|c| match c {
            Component::Normal(s) => s.to_str().ok_or(()),
            _ => Err(()),
        })
        .collect::<Result<Vec<_>, ()>>()
        .map_err(|_| DumpError::BadName { name: rel.display().to_string() })
}

/// Refuses a link or a non-directory on the way to `rel`, and a link or non-regular file at it.
fn check(root: BorrowedFd<'_>, dir: &Path, rel: &Path) -> Result<(), DumpError> {
    let parts = parts(rel)?;
    let mut shown = dir.to_path_buf();
    let mut at: Option<OwnedFd> = None;
    for (i, part) in parts.iter().enumerate() {
        shown.push(part);
        let cur = at.as_ref().map_or(root, |f| f.as_fd());
        let st = match fs::statat(cur, *part, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(()), // nothing below exists yet
            Err(e) => return Err(DumpError::Io { path: shown, source: e.into() }),
        };
        let kind = FileType::from_raw_mode(st.st_mode);
        let last = i + 1 == parts.len();
        match (kind, last) {
            (FileType::Symlink, _) => return Err(unsafe_at(shown, "it is a symbolic link")),
            (FileType::RegularFile, true) => return Ok(()),
            (_, true) => return Err(unsafe_at(shown, "it exists and is not a regular file")),
            (FileType::Directory, false) => at = Some(open_dir(cur, part, &shown)?),
            (_, false) => return Err(unsafe_at(shown, "it is not a directory")),
        }
    }
    Ok(())
}

fn unsafe_at(path: PathBuf, reason: &str) -> DumpError {
    DumpError::Unsafe { path, reason: reason.to_string() }
}

fn open_dir(at: BorrowedFd<'_>, name: &str, shown: &Path) -> Result<OwnedFd, DumpError> {
    match fs::openat(at, name, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty()) {
        Ok(fd) => Ok(fd),
        Err(Errno::LOOP) => Err(unsafe_at(shown.to_path_buf(), "it is a symbolic link")),
        Err(Errno::NOTDIR) => Err(unsafe_at(shown.to_path_buf(), "it is not a directory")),
        Err(e) => Err(DumpError::Io { path: shown.to_path_buf(), source: e.into() }),
    }
}

fn write_one(root: BorrowedFd<'_>, dir: &Path, rel: &Path, bytes: &[u8]) -> Result<(), DumpError> {
    let parts = parts(rel)?;
    let Some((file, dirs)) = parts.split_last() else {
        return Err(DumpError::BadName { name: rel.display().to_string() });
    };
    let mut shown = dir.to_path_buf();
    let mut at: Option<OwnedFd> = None;
    for part in dirs {
        shown.push(part);
        let cur = at.as_ref().map_or(root, |f| f.as_fd());
        match fs::mkdirat(cur, *part, Mode::from_raw_mode(0o755)) {
            Ok(()) | Err(Errno::EXIST) => {}
            Err(e) => return Err(DumpError::Io { path: shown, source: e.into() }),
        }
        at = Some(open_dir(cur, part, &shown)?);
    }
    shown.push(file);
    let cur = at.as_ref().map_or(root, |f| f.as_fd());
    match fs::statat(cur, *file, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
            return Err(unsafe_at(shown, "it is a symbolic link"));
        }
        Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile => {
            return Err(unsafe_at(shown, "it exists and is not a regular file"));
        }
        _ => {}
    }
    let tmp = format!(".{file}.jhot-{}", std::process::id());
    let io = |source: std::io::Error| DumpError::Io { path: shown.clone(), source };
    // A leftover of an earlier run that died here: unlinking removes a link itself, never its target.
    let _ = fs::unlinkat(cur, tmp.as_str(), AtFlags::empty());
    let fd = fs::openat(
        cur,
        tmp.as_str(),
        OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::from_raw_mode(0o644),
    )
    .map_err(|e| io(e.into()))?;
    let written = std::fs::File::from(fd).write_all(bytes);
    if let Err(e) = written {
        let _ = fs::unlinkat(cur, tmp.as_str(), AtFlags::empty());
        return Err(io(e));
    }
    // rename replaces whatever has the name now (a link included) and never writes through it.
    fs::renameat(cur, tmp.as_str(), cur, *file).map_err(|e| {
        let _ = fs::unlinkat(cur, tmp.as_str(), AtFlags::empty());
        io(e.into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_become_paths_and_odd_names_are_refused() {
        assert_eq!(class_path("a.b.C$D").expect("path"), PathBuf::from("a/b/C$D.class"));
        assert_eq!(class_path("Top").expect("path"), PathBuf::from("Top.class"));
        for bad in ["a..B", ".a.B", "a.B.", "a/b.C", "a.\0.B"] {
            assert!(class_path(bad).is_err(), "{bad}");
        }
        assert_eq!(loader_dir("app", "0x1b6d3586"), "app-0x1b6d3586");
        assert_eq!(loader_dir("bootstrap", "bootstrap"), "bootstrap");
        assert_eq!(loader_dir("../x y", "0x1"), "_.._x_y-0x1");
    }

    #[test]
    fn files_are_written_and_rewritten_below_the_directory() {
        let t = tempfile::tempdir().expect("tempdir");
        let dir = t.path().join("out");
        let files = vec![(PathBuf::from("a/b/C.class"), &b"one"[..]), (PathBuf::from("D.class"), &b"two"[..])];
        write_all(&dir, &files).expect("write");
        assert_eq!(std::fs::read(dir.join("a/b/C.class")).expect("read"), b"one");
        write_all(&dir, &[(PathBuf::from("a/b/C.class"), &b"three"[..])]).expect("rewrite");
        assert_eq!(std::fs::read(dir.join("a/b/C.class")).expect("read"), b"three");
    }

    #[test]
    fn a_planted_link_refuses_the_dump_and_nothing_is_written() {
        let t = tempfile::tempdir().expect("tempdir");
        let (dir, outside) = (t.path().join("out"), t.path().join("outside"));
        std::fs::create_dir_all(dir.join("a")).expect("mkdir");
        std::fs::create_dir_all(&outside).expect("mkdir");
        std::os::unix::fs::symlink(&outside, dir.join("a/b")).expect("symlink");
        let files = vec![(PathBuf::from("z/First.class"), &b"x"[..]), (PathBuf::from("a/b/C.class"), &b"x"[..])];
        let e = write_all(&dir, &files).expect_err("refused");
        assert!(matches!(e, DumpError::Unsafe { .. }), "{e}");
        assert_eq!(e.exit_code(), ExitCode::Permission);
        assert!(!dir.join("z").exists(), "checked before anything was written");
        assert_eq!(std::fs::read_dir(&outside).expect("ls").count(), 0);

        // A link at the file's own name.
        std::fs::remove_file(dir.join("a/b")).expect("rm");
        std::fs::create_dir_all(dir.join("a/b")).expect("mkdir");
        let victim = outside.join("victim");
        std::fs::write(&victim, b"keep").expect("write");
        std::os::unix::fs::symlink(&victim, dir.join("a/b/C.class")).expect("symlink");
        assert!(matches!(write_all(&dir, &files), Err(DumpError::Unsafe { .. })));
        assert_eq!(std::fs::read(&victim).expect("read"), b"keep");
    }
}
