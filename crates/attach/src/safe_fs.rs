//! Files, directories and sockets that another user can touch, used the only safe way: on open
//! descriptors, never through a symbolic link, never blocking on a FIFO, and read with a bound.
//!
//! jhot runs as root against other users' JVMs and containers. Whatever lives in a shared `/tmp`
//! or inside a target's mount namespace may have been prepared by someone else: a symlink that
//! points at `/etc/shadow`, a FIFO that never answers, a sparse file of 10 GiB, a directory swapped
//! between a check and its use. So a path is resolved once into a descriptor, checked with `fstat`
//! on that descriptor, and everything after that is relative to it (`openat`, `renameat`,
//! `unlinkat`). Paths inside a target go through `openat2(RESOLVE_IN_ROOT)` from its
//! `/proc/<pid>/root`, so that an absolute symlink planted in a container resolves inside the
//! container, never on the host.

use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};

use rustix::fs::{self, AtFlags, FileType, Mode, OFlags, ResolveFlags};
use rustix::io::Errno;

/// Small files another user writes (`.port`, `release`, a request header): anything bigger is not
/// what jhot expects there.
pub const SMALL_FILE: u64 = 1024 * 1024;

/// An `O_PATH` descriptor of the root directory of process `pid` (its mount namespace).
pub fn proc_root(pid: u32) -> io::Result<OwnedFd> {
    Ok(fs::open(format!("/proc/{pid}/root"), OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?)
}

/// Opens `path` as if `root` were `/`: `..` and absolute symlinks stay inside `root`, and
/// `/proc/<pid>/…`-style magic links are refused. What a container has planted can only lead
/// somewhere inside the container.
pub fn open_in_root(root: BorrowedFd<'_>, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
    let path = path.trim_start_matches('/');
    let path = if path.is_empty() { "." } else { path };
    loop {
        match fs::openat2(
            root,
            path,
            flags | OFlags::CLOEXEC,
            Mode::empty(),
            ResolveFlags::IN_ROOT | ResolveFlags::NO_MAGICLINKS,
        ) {
            // openat2 asks to retry when a rename raced with the lookup.
            Err(Errno::AGAIN) => continue,
            r => return Ok(r?),
        }
    }
}

/// Opens `path` below `dir` without following any symbolic link on the way (the JVM creates the
/// directories jhot reads there, such as `hsperfdata_<user>`, as real directories).
pub fn open_beneath(dir: BorrowedFd<'_>, path: &str, flags: OFlags) -> io::Result<OwnedFd> {
    loop {
        let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        match fs::openat2(dir, path, flags | OFlags::CLOEXEC, Mode::empty(), how) {
            Err(Errno::AGAIN) => continue,
            r => return Ok(r?),
        }
    }
}

/// The `/tmp` of process `pid`, resolved inside its root; `None` when its root is closed to us.
pub fn target_tmp(pid: u32) -> io::Result<OwnedFd> {
    let root = proc_root(pid)?;
    open_in_root(root.as_fd(), "/tmp", OFlags::PATH | OFlags::DIRECTORY)
}

/// Reads a whole regular file of at most `cap` bytes from an open descriptor. A FIFO, a device or
/// a directory is refused before any read, and a file longer than `cap` is an error rather than a
/// truncated answer.
pub fn read_fd(fd: OwnedFd, cap: u64) -> io::Result<Vec<u8>> {
    let st = fs::fstat(&fd)?;
    if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
        return Err(io::Error::new(io::ErrorKind::InvalidData, "not a regular file"));
    }
    // Sized from the file (capped), so a regular file is read in one call, not in doubling steps.
    let size = u64::try_from(st.st_size).unwrap_or(0).min(cap);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0) + 1);
    std::fs::File::from(fd).take(cap + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("larger than {cap} bytes")));
    }
    Ok(bytes)
}

/// Reads a regular file by path (links followed: it is a path the user gave, or one a JVM was
/// started with), never blocking on a FIFO and never beyond `cap` bytes.
pub fn read_regular(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    read_fd(fs::open(path, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty())?, cap)
}

/// Reads file `name` in directory `dir`, not following a symlink and not blocking on a FIFO.
pub fn read_at(dir: BorrowedFd<'_>, name: &str, cap: u64) -> io::Result<Vec<u8>> {
    let fd =
        fs::openat(dir, name, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty())?;
    read_fd(fd, cap)
}

/// Reads `path` inside `root` (see [`open_in_root`]) as a small regular file.
pub fn read_in_root(root: BorrowedFd<'_>, path: &str, cap: u64) -> io::Result<Vec<u8>> {
    read_fd(open_in_root(root, path, OFlags::RDONLY | OFlags::NONBLOCK)?, cap)
}

/// Why a directory or file is not safe to use, in words for the user.
pub fn unsafe_dir_reason(st: &fs::Stat, uid: u32) -> Option<String> {
    if FileType::from_raw_mode(st.st_mode) != FileType::Directory {
        return Some("it is not a directory".into());
    }
    if st.st_uid != uid {
        return Some(format!("it is owned by uid {}, not by uid {uid}", st.st_uid));
    }
    if st.st_mode & 0o077 != 0 {
        return Some(format!("its mode is {:o}; it must be 0700", st.st_mode & 0o7777));
    }
    None
}

/// Why a parent directory lets someone other than root and `uid` rename or replace what is in it:
/// it is writable by others (or by its group) without the sticky bit, or owned by a third user.
/// `/tmp` (root, 1777) passes; a Kubernetes `emptyDir` mounted 0777 does not.
pub fn unsafe_parent_reason(st: &fs::Stat, uid: u32) -> Option<String> {
    let sticky = st.st_mode & 0o1000 != 0;
    if st.st_uid != 0 && st.st_uid != uid {
        return Some(format!("it belongs to uid {}, who could replace anything in it", st.st_uid));
    }
    if st.st_mode & 0o022 != 0 && !sticky {
        return Some(format!(
            "its mode is {:o}: others may write to it and it has no sticky bit, so another user could swap jhot's \
             directory between a check and its use (mount it with mode 1777, or set TMPDIR-independent /tmp)",
            st.st_mode & 0o7777
        ));
    }
    None
}

/// A path that reaches `name` inside an open directory without resolving the directory's path
/// again: for the calls that only take paths (`connect(2)` on a Unix socket). The directory
/// cannot be swapped under it; the last component is checked by the caller with
/// [`stat_nofollow`] first.
pub fn fd_path(dir: BorrowedFd<'_>, name: &str) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}/{name}", dir.as_raw_fd()))
}

/// `lstat` of `name` in `dir`.
pub fn stat_nofollow(dir: BorrowedFd<'_>, name: &str) -> io::Result<fs::Stat> {
    Ok(fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW)?)
}

/// Checks that `name` in `dir` is a Unix socket owned by `uid` with no group or other
/// permissions (as the JDK's own attach client requires of `.java_pid<pid>`), and returns a path
/// that reaches it through the directory's descriptor.
pub fn owned_socket(dir: BorrowedFd<'_>, name: &str, uid: u32) -> Result<PathBuf, SocketProblem> {
    let st = socket_of(dir, name, uid)?;
    if st.st_mode & 0o077 != 0 {
        return Err(SocketProblem::Unsafe(format!("its mode is {:o}; the JVM creates it 0600", st.st_mode & 0o7777)));
    }
    Ok(fd_path(dir, name))
}

/// `name` in `dir` is a socket (not a link) owned by `uid`: its `lstat`.
fn socket_of(dir: BorrowedFd<'_>, name: &str, uid: u32) -> Result<fs::Stat, SocketProblem> {
    let st = stat_nofollow(dir, name).map_err(SocketProblem::Missing)?;
    let kind = FileType::from_raw_mode(st.st_mode);
    if kind != FileType::Socket {
        return Err(SocketProblem::Unsafe(match kind {
            FileType::Symlink => "it is a symbolic link".into(),
            _ => "it is not a socket".into(),
        }));
    }
    if st.st_uid != uid {
        return Err(SocketProblem::Unsafe(format!("it is owned by uid {}, not by the JVM's uid {uid}", st.st_uid)));
    }
    Ok(st)
}

#[derive(Debug)]
pub enum SocketProblem {
    /// Not there (or not reachable): the caller decides what absence means.
    Missing(io::Error),
    /// There, but not something the JVM made.
    Unsafe(String),
}

/// The process, uid and gid at the other end of a connected Unix socket (`SO_PEERCRED`: for a
/// client, who called `listen`). The pid is as this process's pid namespace sees it.
pub fn peer_credentials(sock: BorrowedFd<'_>) -> io::Result<(u32, u32, u32)> {
    let cred = rustix::net::sockopt::socket_peercred(sock)?;
    let pid = cred.pid.as_raw_nonzero().get();
    Ok((pid as u32, cred.uid.as_raw(), cred.gid.as_raw()))
}

/// Checks that the peer of a connected Unix socket is process `pid` (by pid, and by start time,
/// re-read after the connect so that a recycled pid does not pass).
pub fn check_peer(sock: BorrowedFd<'_>, pid: u32, start_ticks: u64) -> Result<(), String> {
    let (peer_pid, peer_uid, _) =
        peer_credentials(sock).map_err(|e| format!("cannot read its peer credentials: {e}"))?;
    if peer_pid != pid {
        return Err(format!("it is served by process {peer_pid} (uid {peer_uid}), not by the JVM {pid}"));
    }
    if !crate::process_alive(pid, start_ticks) {
        return Err(format!("process {pid} is no longer the JVM jhot looked at"));
    }
    Ok(())
}

/// A verified private directory: a real directory (not a symlink), owned by `uid`, mode 0700, in a
/// parent that nobody else can rename it out of. Held open; every use is relative to the
/// descriptor, so swapping the path after the check changes nothing for jhot.
#[derive(Debug, Clone)]
pub struct PrivateDir {
    fd: std::sync::Arc<OwnedFd>,
    uid: u32,
    /// Where it is, for messages.
    shown: PathBuf,
}

/// What went wrong opening a private directory.
#[derive(Debug)]
pub enum DirProblem {
    /// It does not exist (and was not to be created).
    Missing,
    /// It, or its parent, fails the checks: the reason, in words.
    Unsafe {
        path: PathBuf,
        reason: String,
    },
    Io {
        path: PathBuf,
        source: io::Error,
    },
}

impl PrivateDir {
    /// Opens (creating it 0700 when `create`) directory `name` in the open directory `parent`,
    /// which is shown as `parent_shown` in messages, and checks both. Must run with the
    /// credentials of `uid` when creating, so that the directory is `uid`'s.
    pub fn open(
        parent: BorrowedFd<'_>,
        parent_shown: &Path,
        name: &str,
        uid: u32,
        create: bool,
    ) -> Result<PrivateDir, DirProblem> {
        let shown = parent_shown.join(name);
        let io = |source: Errno| DirProblem::Io { path: shown.clone(), source: source.into() };
        let pst = fs::fstat(parent).map_err(|e| DirProblem::Io { path: parent_shown.into(), source: e.into() })?;
        if let Some(reason) = unsafe_parent_reason(&pst, uid) {
            return Err(DirProblem::Unsafe { path: parent_shown.into(), reason });
        }
        if create {
            match fs::mkdirat(parent, name, Mode::from_raw_mode(0o700)) {
                Ok(()) | Err(Errno::EXIST) => {}
                Err(e) => return Err(io(e)),
            }
        }
        let fd = match fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Err(DirProblem::Missing),
            // O_NOFOLLOW on a symlink (ELOOP, or ENOTDIR with O_DIRECTORY), O_DIRECTORY on a file.
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let link = stat_nofollow(parent, name)
                    .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Symlink);
                let reason = if link { "it is a symbolic link" } else { "it is not a directory" };
                return Err(DirProblem::Unsafe { path: shown, reason: reason.into() });
            }
            Err(e) => return Err(io(e)),
        };
        let st = fs::fstat(&fd).map_err(io)?;
        if let Some(reason) = unsafe_dir_reason(&st, uid) {
            return Err(DirProblem::Unsafe { path: shown, reason });
        }
        Ok(PrivateDir { fd: std::sync::Arc::new(fd), uid, shown })
    }

    /// Opens a private directory by absolute path on this host (`/tmp/.jhot-<uid>`, `--dir`).
    pub fn open_path(path: &Path, uid: u32, create: bool) -> Result<PrivateDir, DirProblem> {
        let parent = path.parent().unwrap_or(Path::new("/"));
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| DirProblem::Unsafe { path: path.into(), reason: "it has no usable file name".into() })?;
        // The parent path itself is trusted only as far as the kernel resolves it now; from here
        // on everything goes through descriptors.
        let pfd = fs::open(parent, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| DirProblem::Io { path: parent.into(), source: e.into() })?;
        PrivateDir::open(pfd.as_fd(), parent, name, uid, create)
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The directory's path, for messages only.
    pub fn shown(&self) -> &Path {
        &self.shown
    }

    /// `name` inside it, for messages only.
    pub fn shown_file(&self, name: &str) -> PathBuf {
        self.shown.join(name)
    }

    /// True if `name` exists (whatever it is; links are not followed).
    pub fn exists(&self, name: &str) -> bool {
        stat_nofollow(self.fd(), name).is_ok()
    }

    /// Modification time of `name`, if it exists.
    pub fn modified(&self, name: &str) -> Option<std::time::SystemTime> {
        let st = stat_nofollow(self.fd(), name).ok()?;
        let secs = u64::try_from(st.st_mtime).ok()?;
        Some(std::time::UNIX_EPOCH + std::time::Duration::new(secs, st.st_mtime_nsec as u32))
    }

    /// Reads regular file `name`, owned by the directory's owner, of at most `cap` bytes.
    pub fn read(&self, name: &str, cap: u64) -> io::Result<Vec<u8>> {
        let fd = fs::openat(
            self.fd(),
            name,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::empty(),
        )?;
        let st = fs::fstat(&fd)?;
        if st.st_uid != self.uid {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("owned by uid {}, not {}", st.st_uid, self.uid),
            ));
        }
        read_fd(fd, cap)
    }

    /// Writes `bytes` as `name` (mode 0600) atomically: into a temporary file created exclusively
    /// beside it, then renamed over it. Never follows a link; a reader never sees half a file.
    ///
    /// Not fsynced: what jhot writes here serves processes of this boot (a request the JVM answers
    /// within the command, the replace record of a jhot that dies), or is compared by content
    /// before use (the agent jar, the shim libraries), so a file a crash left short is rewritten.
    /// An fsync on a disk-backed /tmp cost a cold command 0.3 ms per file here, more on a busy disk.
    pub fn write(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write;
        let tmp = format!(".{name}.{}.{:x}.tmp", std::process::id(), nonce());
        let fd = fs::openat(
            self.fd(),
            tmp.as_str(),
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let mut f = std::fs::File::from(fd);
        let written = f.write_all(bytes);
        drop(f);
        let renamed = written.and_then(|()| Ok(fs::renameat(self.fd(), tmp.as_str(), self.fd(), name)?));
        if renamed.is_err() {
            let _ = fs::unlinkat(self.fd(), tmp.as_str(), AtFlags::empty());
        }
        renamed
    }

    /// Writes `bytes` as `name` unless an identical file of the owner's is there already.
    pub fn write_once(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        if self.read(name, bytes.len() as u64).is_ok_and(|existing| existing == bytes) {
            return Ok(());
        }
        self.write(name, bytes)
    }

    /// Opens `name` for appending (created 0600 if missing), never through a link, and only if it
    /// is a regular file of the owner's.
    pub fn open_append(&self, name: &str) -> io::Result<OwnedFd> {
        let fd = fs::openat(
            self.fd(),
            name,
            OFlags::WRONLY | OFlags::APPEND | OFlags::CREATE | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )?;
        let st = fs::fstat(&fd)?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile || st.st_uid != self.uid {
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, "not a regular file of the directory's owner"));
        }
        rustix::fs::fcntl_setfl(&fd, OFlags::WRONLY | OFlags::APPEND)?;
        Ok(fd)
    }

    /// Removes `name` if it is there.
    pub fn remove(&self, name: &str) {
        let _ = fs::unlinkat(self.fd(), name, AtFlags::empty());
    }

    /// The names in the directory.
    pub fn names(&self) -> io::Result<Vec<String>> {
        let dup = fs::openat(self.fd(), ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())?;
        let mut out = Vec::new();
        for entry in fs::Dir::read_from(&dup)? {
            let entry = entry?;
            if let Ok(name) = entry.file_name().to_str()
                && name != "."
                && name != ".."
            {
                out.push(name.to_string());
            }
        }
        Ok(out)
    }

    /// A path reaching socket `name` through the directory's descriptor, after checking that it
    /// is a socket of the owner's (see [`owned_socket`]).
    /// (Unlike the attach socket, no mode is required: the agent narrows it to 0600 right after
    /// `bind`, and a client may look in between; the directory is private anyway.)
    pub fn socket(&self, name: &str) -> Result<PathBuf, SocketProblem> {
        socket_of(self.fd(), name, self.uid)?;
        Ok(fd_path(self.fd(), name))
    }
}

fn nonce() -> u64 {
    let mut b = [0u8; 8];
    // SAFETY: getrandom writes at most `b.len()` bytes into `b`.
    if unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) } != 8 {
        // Uniqueness only matters against our own earlier temp files; O_EXCL catches the rest.
        return std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
    }
    u64::from_le_bytes(b)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};

    fn me() -> u32 {
        rustix::process::geteuid().as_raw()
    }

    fn private_tmp() -> tempfile::TempDir {
        let t = tempfile::tempdir().expect("tempdir");
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
        t
    }

    #[test]
    fn refuses_open_foreign_linked_or_non_directories() {
        let t = private_tmp();
        let good = t.path().join("good");
        std::fs::DirBuilder::new().mode(0o700).create(&good).expect("mkdir");
        assert!(PrivateDir::open_path(&good, me(), false).is_ok());
        assert!(matches!(PrivateDir::open_path(&good, me() + 1, false), Err(DirProblem::Unsafe { .. })));
        let open = t.path().join("open");
        std::fs::DirBuilder::new().mode(0o755).create(&open).expect("mkdir");
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        assert!(matches!(PrivateDir::open_path(&open, me(), false), Err(DirProblem::Unsafe { .. })));
        let link = t.path().join("link");
        std::os::unix::fs::symlink(&good, &link).expect("symlink");
        match PrivateDir::open_path(&link, me(), true) {
            Err(DirProblem::Unsafe { reason, .. }) => assert!(reason.contains("symbolic link"), "{reason}"),
            other => panic!("{other:?}"),
        }
        std::fs::write(t.path().join("file"), b"x").expect("file");
        assert!(matches!(PrivateDir::open_path(&t.path().join("file"), me(), false), Err(DirProblem::Unsafe { .. })));
        assert!(matches!(PrivateDir::open_path(&t.path().join("absent"), me(), false), Err(DirProblem::Missing)));
    }

    #[test]
    fn refuses_a_parent_others_may_write_without_the_sticky_bit() {
        let t = private_tmp();
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o777)).expect("chmod");
        match PrivateDir::open_path(&t.path().join(".jhot-x"), me(), true) {
            Err(DirProblem::Unsafe { reason, .. }) => assert!(reason.contains("sticky"), "{reason}"),
            other => panic!("{other:?}"),
        }
        assert!(!t.path().join(".jhot-x").exists(), "nothing is created in an unsafe parent");
        std::fs::set_permissions(t.path(), std::fs::Permissions::from_mode(0o1777)).expect("chmod");
        assert!(PrivateDir::open_path(&t.path().join(".jhot-x"), me(), true).is_ok());
    }

    #[test]
    fn writes_atomically_privately_and_never_through_links() {
        let t = private_tmp();
        let dir = PrivateDir::open_path(&t.path().join("d"), me(), true).expect("dir");
        assert_eq!(std::fs::metadata(t.path().join("d")).expect("meta").mode() & 0o777, 0o700);
        dir.write("a", b"one").expect("write");
        assert_eq!(std::fs::metadata(t.path().join("d/a")).expect("meta").mode() & 0o777, 0o600);
        dir.write_once("a", b"one").expect("same");
        dir.write("a", b"two").expect("again");
        assert_eq!(dir.read("a", 16).expect("read"), b"two");
        // A link in place of the file is replaced, its target untouched.
        let victim = t.path().join("victim");
        std::fs::write(&victim, b"precious").expect("victim");
        std::os::unix::fs::symlink(&victim, t.path().join("d/b")).expect("link");
        dir.write("b", b"new").expect("write over link");
        assert_eq!(std::fs::read(&victim).expect("victim"), b"precious");
        assert!(dir.read("missing", 16).is_err());
        // Reads refuse links and bound sizes.
        std::os::unix::fs::symlink(&victim, t.path().join("d/c")).expect("link");
        assert!(dir.read("c", 64).is_err());
        assert!(dir.read("a", 2).is_err(), "over the cap");
        assert!(dir.open_append("c").is_err());
        assert!(dir.names().expect("names").contains(&"a".to_string()));
        // Only temp files of our own remain nowhere.
        assert!(!dir.names().expect("names").iter().any(|n| n.ends_with(".tmp")));
    }

    #[test]
    fn fifos_are_refused_without_blocking() {
        let t = private_tmp();
        let dir = PrivateDir::open_path(&t.path().join("d"), me(), true).expect("dir");
        rustix::fs::mknodat(dir.fd(), "fifo", FileType::Fifo, Mode::from_raw_mode(0o600), 0).expect("mkfifo");
        let e = dir.read("fifo", 64).expect_err("a FIFO is not a file");
        assert_eq!(e.kind(), io::ErrorKind::InvalidData);
    }

    #[test]
    fn paths_in_a_root_cannot_escape_it() {
        let t = private_tmp();
        let root = t.path().join("root");
        std::fs::create_dir_all(root.join("tmp")).expect("mkdir");
        std::fs::write(t.path().join("host-secret"), b"host").expect("host file");
        std::fs::write(root.join("host-secret"), b"inside").expect("inside file");
        // Absolute and `..` links resolve inside the root.
        std::os::unix::fs::symlink("/host-secret", root.join("tmp/abs")).expect("link");
        std::os::unix::fs::symlink("../../../../host-secret", root.join("tmp/rel")).expect("link");
        let rfd = fs::open(&root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).expect("root");
        assert_eq!(read_in_root(rfd.as_fd(), "/tmp/abs", 64).expect("abs"), b"inside");
        assert_eq!(read_in_root(rfd.as_fd(), "tmp/rel", 64).expect("rel"), b"inside");
    }
}
