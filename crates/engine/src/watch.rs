//! `jhot watch`: applies each completed build of class directories or jars to a running JVM, as one
//! atomic redefinition through [`patch::redefine`] (the path `jhot redefine` takes).
//!
//! Builds write many files in bursts and write class files in place (javac truncates, then
//! writes), so an event says only that something moved. A build is considered after a quiet
//! period with no event; then the whole build is read and compared by content hash with what was
//! last applied or seen (Maven rewrites unchanged files); every changed class must parse to its end
//! and every nested class it lists must be there, or nothing is applied and the next quiet period
//! decides again. Deletions and structural changes are reported and left alone, unless
//! `--replace`: then a structural build goes in by process replacement through [`deploy::deploy`]
//! (as `jhot deploy --mode replace`), which also covers that build's deletions (the new process
//! starts from the build), and watch follows the new pid. inotify (rustix,
//! one watch per directory) says when to look; when a watch cannot be added (the per-user limit)
//! or the queue overflowed, the build is compared by polling instead, so nothing is missed.

use std::collections::{BTreeMap, BTreeSet};
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use jhot_attach::{AttachOptions, Target};
use rustix::fs::inotify;
use serde::Serialize;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

use crate::agent::{self, AgentError};
use crate::archive::{self, ArchiveError, ClassSource, Snapshot};
use crate::changes;
use crate::deploy::{self, DeployOptions, Mode};
use crate::patch::{self, PatchError, RedefineOptions};

#[derive(Clone)]
pub struct WatchOptions {
    /// Class directories or jars; a directory is watched with its subdirectories, a jar through
    /// its directory (builds replace jars).
    pub paths: Vec<PathBuf>,
    /// No event for this long: the build is considered.
    pub quiet: Duration,
    /// How often the build is compared when inotify cannot tell (watch limit, overflow).
    pub poll: Duration,
    /// Compare by polling only, never inotify (network file systems send no events).
    pub polling: bool,
    pub redefine: RedefineOptions,
    /// Some: a structural build replaces the process (its `mode` is forced to replace); None: a
    /// structural build is reported and left alone.
    pub replace: Option<DeployOptions>,
}

/// One line of `jhot watch`'s output (`--json`: one object per line, docs/json.md).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum WatchEvent {
    /// The baseline is recorded; nothing was applied.
    Started { pid: u32, paths: Vec<String>, classes: usize, mode: &'static str, quiet_ms: u64 },
    /// One build applied as one atomic redefinition.
    Applied {
        build: u64,
        redefined: Vec<String>,
        /// Not loaded yet: their new bytes are used when they load.
        pending: Vec<String>,
        elapsed_ms: f64,
        jvm_ms: f64,
    },
    /// Nothing applied, and why: `incomplete` (waits for the next quiet period), `empty`,
    /// `deleted` (left alone).
    Skipped { reason: &'static str, classes: Vec<String>, message: String },
    /// A structural change: nothing applied; the classes and the verdict's reasons.
    Structural { classes: Vec<changes::Entry> },
    /// `--replace`: a structural build replaced the process; watch now follows `new_pid`.
    Replaced {
        build: u64,
        old_pid: u32,
        new_pid: u32,
        /// The changed classes of the build (structural and body-only alike: all went in).
        classes: Vec<String>,
        /// Classes gone from the build: the new process does not have them.
        deleted: Vec<String>,
        elapsed_ms: f64,
    },
    /// The JVM refused the batch, or something else failed; nothing applied.
    Error { message: String, exit_code: u8 },
    /// The watched JVM has exited: watch stops (exit code 8).
    Exited { pid: u32 },
    /// inotify cannot tell any more (a watch limit, the queue overflowed): comparing by polling.
    Polling { reason: String },
}

/// Whether the watched files may have changed since the last look.
struct Notifier {
    /// None: polling only. Registered with the runtime so that an event wakes watch at once: the
    /// quiet period then counts from the event, not from the next tick.
    fd: Option<AsyncFd<OwnedFd>>,
    roots: Vec<PathBuf>,
}

fn watch_dirs(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut dirs = BTreeSet::new();
    for p in paths {
        if p.is_dir() {
            let mut stack = vec![p.clone()];
            while let Some(d) = stack.pop() {
                if let Ok(rd) = std::fs::read_dir(&d) {
                    for e in rd.flatten() {
                        if e.file_type().is_ok_and(|t| t.is_dir()) {
                            stack.push(e.path());
                        }
                    }
                }
                dirs.insert(d);
            }
        } else if let Some(parent) = p.parent() {
            let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
            dirs.insert(parent.to_path_buf());
        }
    }
    dirs.into_iter().collect()
}

impl Notifier {
    fn new(roots: &[PathBuf], polling: bool) -> (Notifier, Option<String>) {
        let mut n = Notifier { fd: None, roots: roots.to_vec() };
        if polling {
            return (n, None);
        }
        match inotify::init(inotify::CreateFlags::CLOEXEC | inotify::CreateFlags::NONBLOCK) {
            // SAFETY: the OwnedFd moves into the AsyncFd, which keeps it open (the same
            // descriptor) until it is dropped.
            Ok(fd) => match unsafe { AsyncFd::register_with_interest(fd, Interest::READABLE) } {
                Ok(fd) => n.fd = Some(fd),
                Err(e) => return (n, Some(format!("inotify cannot be waited on ({e})"))),
            },
            Err(e) => return (n, Some(format!("inotify is not available ({e})"))),
        }
        let why = n.add_watches();
        (n, why)
    }

    /// Watches every directory under the roots (again: new ones appear during builds). A failure
    /// (ENOSPC: the per-user watch limit) turns inotify off.
    fn add_watches(&mut self) -> Option<String> {
        let fd = self.fd.as_ref()?.get_ref();
        let flags = inotify::WatchFlags::CREATE
            | inotify::WatchFlags::CLOSE_WRITE
            | inotify::WatchFlags::MODIFY
            | inotify::WatchFlags::DELETE
            | inotify::WatchFlags::DELETE_SELF
            | inotify::WatchFlags::MOVED_FROM
            | inotify::WatchFlags::MOVED_TO
            | inotify::WatchFlags::MOVE_SELF;
        for d in watch_dirs(&self.roots) {
            match inotify::add_watch(fd, &d, flags) {
                Ok(_) => {}
                // Gone between listing and watching: the next look lists again.
                Err(rustix::io::Errno::NOENT) => {}
                Err(e) => {
                    self.fd = None;
                    return Some(format!(
                        "cannot watch {} ({e}; the limits are fs.inotify.max_user_watches and max_user_instances, per user namespace in /proc/sys/user/)",
                        d.display()
                    ));
                }
            }
        }
        None
    }

    /// Returns when an event is queued or after `timeout`, whichever comes first.
    async fn wait(&self, timeout: Duration) {
        let Some(fd) = &self.fd else {
            tokio::time::sleep(timeout).await;
            return;
        };
        // Cleared before the queue is drained: what arrives in between wakes the next wait early,
        // which finds nothing, rather than being missed.
        if let Ok(Ok(mut ready)) = tokio::time::timeout(timeout, fd.readable()).await {
            ready.clear_ready();
        }
    }

    /// Drains the queue: (any event, a full rescan is needed or polling is now on).
    fn drain(&mut self) -> (bool, Option<String>) {
        let Some(fd) = self.fd.as_ref().map(AsyncFd::get_ref) else { return (false, None) };
        let mut buf = [MaybeUninit::<u8>::uninit(); 8192];
        let mut reader = inotify::Reader::new(fd, &mut buf);
        let mut any = false;
        let mut rewatch = false;
        let mut overflow = false;
        loop {
            match reader.next() {
                Ok(ev) => {
                    any = true;
                    let f = ev.events();
                    if f.contains(inotify::ReadFlags::QUEUE_OVERFLOW) {
                        overflow = true;
                    }
                    if f.contains(inotify::ReadFlags::ISDIR) || f.contains(inotify::ReadFlags::IGNORED) {
                        rewatch = true;
                    }
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    self.fd = None;
                    return (true, Some(format!("inotify failed ({e})")));
                }
            }
        }
        let mut why = None;
        if rewatch || overflow {
            why = self.add_watches();
        }
        (any, why)
    }
}

/// What was last applied or seen, by class name: SHA-256 of its bytes.
type Seen = BTreeMap<String, String>;

/// The verdict on a build that looks complete: what to send, what was deleted.
#[derive(Debug)]
enum Look {
    /// No class at all (a clean, or a failed build that removed its outputs): nothing changes.
    Empty,
    /// Not complete yet (a class that does not parse, a nested class missing, a jar half written).
    Incomplete {
        classes: Vec<String>,
        message: String,
    },
    Ready {
        changed: Vec<ClassSource>,
        deleted: Vec<String>,
        seen: Seen,
    },
}

/// The top-level class a binary name belongs to (`a.B$C$1` → `a.B`).
fn top_level(name: &str) -> &str {
    let simple = name.rfind('.').map_or(0, |i| i + 1);
    match name[simple..].find('$') {
        Some(i) => &name[..simple + i],
        None => name,
    }
}

/// Reads the build and compares it with `seen`.
fn look(paths: &[PathBuf], seen: &Seen) -> Look {
    let snap: Snapshot = match archive::snapshot_keeping_bytes(paths) {
        Ok(s) => s,
        Err(ArchiveError::Missing { path }) | Err(ArchiveError::NoClasses { path }) => {
            tracing::debug!(path = %path.display(), "nothing to read");
            return Look::Empty;
        }
        Err(e) => return Look::Incomplete { classes: vec![], message: e.to_string() },
    };
    if snap.classes.is_empty() {
        return Look::Empty;
    }
    let mut changed = Vec::new();
    let mut bad = Vec::new();
    let mut message = String::new();
    for (name, sha) in &snap.classes {
        if seen.get(name) == Some(sha) {
            continue;
        }
        match snap.class(name) {
            Some(Ok(c)) if c.info.name == *name => changed.push(c),
            Some(Ok(c)) => {
                bad.push(name.clone());
                message = format!("{}: holds class {}, not {name}", c.origin, c.info.name);
            }
            Some(Err(e)) => {
                bad.push(name.clone());
                message = e.to_string();
            }
            None => {}
        }
    }
    // A changed class names its nested classes; those of its own nest are written by the same
    // compile, so one missing means the build is still being written.
    for c in &changed {
        let Ok(nested) = jhot_classfile::nested_classes(&c.bytes) else { continue };
        for n in nested {
            if top_level(&n) == top_level(&c.info.name) && !snap.classes.contains_key(&n) {
                bad.push(n.clone());
                message = format!("{} lists nested class {n}, which is not there", c.info.name);
            }
        }
    }
    if !bad.is_empty() {
        return Look::Incomplete { classes: bad, message };
    }
    let deleted = seen.keys().filter(|k| !snap.classes.contains_key(*k)).cloned().collect();
    Look::Ready { changed, deleted, seen: snap.classes }
}

/// Watches `opts.paths` and applies each completed build to `target` until the JVM exits, which is
/// [`AgentError::Exited`] (exit code 8, `lost`). Every event is passed to `emit` as it happens.
pub async fn run(
    target: Target,
    attach_opts: &AttachOptions,
    opts: &WatchOptions,
    mut emit: impl FnMut(&WatchEvent),
) -> Result<(), crate::Error> {
    // A replacement makes its successor the target.
    let mut target = target;
    // An unfinished or empty build at start: the first complete one is the baseline instead.
    let (mut seen, mut baseline_taken) = match look(&opts.paths, &Seen::new()) {
        Look::Ready { seen, .. } => (seen, true),
        _ => (Seen::new(), false),
    };
    // The agent is loaded now, not by the first build: that build then costs a redefinition only,
    // and a JVM jhot cannot attach to fails watch at once.
    let loaded = agent::call_or_load::<serde::de::IgnoredAny>(
        &target,
        attach_opts,
        opts.redefine.timeout,
        &crate::agent::protocol::Request::History {},
        vec![],
    )
    .await?;
    loaded.answer?;
    let (mut notifier, why) = Notifier::new(&opts.paths, opts.polling);
    emit(&WatchEvent::Started {
        pid: target.pid,
        paths: opts.paths.iter().map(|p| p.display().to_string()).collect(),
        classes: seen.len(),
        mode: if notifier.fd.is_some() { "inotify" } else { "polling" },
        quiet_ms: opts.quiet.as_millis() as u64,
    });
    if let Some(reason) = why {
        emit(&WatchEvent::Polling { reason });
    }
    let tick = (opts.quiet / 4).clamp(Duration::from_millis(10), Duration::from_millis(100));
    let mut last_event: Option<Instant> = None;
    let mut last_poll = Instant::now();
    let mut polled_digest = archive::snapshot(&opts.paths).map(|s| s.digest).ok();
    let mut build = 0u64;
    let mut waiting_reported: Option<Vec<String>> = None;
    loop {
        if !target.is_alive() {
            emit(&WatchEvent::Exited { pid: target.pid });
            return Err(AgentError::Exited { pid: target.pid }.into());
        }
        let was_on = notifier.fd.is_some();
        let (any, why) = notifier.drain();
        if let Some(reason) = why {
            emit(&WatchEvent::Polling { reason });
        }
        if any {
            last_event = Some(Instant::now());
        }
        // Polling: a digest that moved is an event.
        if (!was_on || notifier.fd.is_none()) && last_poll.elapsed() >= opts.poll {
            last_poll = Instant::now();
            let digest = archive::snapshot(&opts.paths).map(|s| s.digest).ok();
            if digest != polled_digest {
                polled_digest = digest;
                last_event = Some(Instant::now());
            }
        }
        let due = last_event.is_some_and(|t| t.elapsed() >= opts.quiet);
        if !due {
            // Woken by the next event, at the end of the quiet period, or after a tick (the JVM's
            // liveness, polling).
            let wait = last_event.map_or(tick, |t| opts.quiet.saturating_sub(t.elapsed()).min(tick));
            notifier.wait(wait.max(Duration::from_millis(1))).await;
            continue;
        }
        last_event = None;
        match look(&opts.paths, &seen) {
            Look::Empty => emit(&WatchEvent::Skipped {
                reason: "empty",
                classes: vec![],
                message: "no class in the watched paths: nothing changed".into(),
            }),
            Look::Incomplete { classes, message } => {
                // Reported once per distinct set; the next event (the writer finishing) retries.
                if waiting_reported.as_ref() != Some(&classes) {
                    emit(&WatchEvent::Skipped { reason: "incomplete", classes: classes.clone(), message });
                    waiting_reported = Some(classes);
                }
                // A writer that finished without an event we saw: look again after the poll period.
                if notifier.fd.is_none() {
                    polled_digest = None;
                }
            }
            Look::Ready { seen: now, .. } if !baseline_taken => {
                waiting_reported = None;
                baseline_taken = true;
                seen = now;
            }
            Look::Ready { changed, deleted, seen: now } => {
                waiting_reported = None;
                if changed.is_empty() {
                    report_deleted(&mut emit, deleted);
                    seen = now;
                    continue;
                }
                let names: Vec<String> = changed.iter().map(|c| c.info.name.clone()).collect();
                let started = Instant::now();
                let mut deleted = Some(deleted);
                match patch::redefine(&target, changed, &opts.redefine, attach_opts).await {
                    Ok(report) => {
                        build += 1;
                        emit(&WatchEvent::Applied {
                            build,
                            redefined: report.result.redefined.iter().map(|c| c.name.clone()).collect(),
                            pending: report.result.pending.clone(),
                            elapsed_ms: crate::ms(started.elapsed()),
                            jvm_ms: report.result.elapsed_us as f64 / 1000.0,
                        });
                    }
                    Err(PatchError::Structural { entries, .. }) => match &opts.replace {
                        None => emit(&WatchEvent::Structural { classes: entries }),
                        Some(d) => match replace(&target, &opts.paths, d).await {
                            Ok((successor, new_pid)) => {
                                build += 1;
                                emit(&WatchEvent::Replaced {
                                    build,
                                    old_pid: target.pid,
                                    new_pid,
                                    classes: names,
                                    deleted: deleted.take().unwrap_or_default(),
                                    elapsed_ms: crate::ms(started.elapsed()),
                                });
                                target = successor;
                            }
                            // The old JVM is unchanged (a replacement that fails leaves it serving).
                            Err(e) => {
                                if !target.is_alive() {
                                    emit(&WatchEvent::Exited { pid: target.pid });
                                    return Err(AgentError::Exited { pid: target.pid }.into());
                                }
                                emit(&WatchEvent::Error { message: e.to_string(), exit_code: e.exit_code().code() })
                            }
                        },
                    },
                    Err(e) => {
                        if !target.is_alive() {
                            emit(&WatchEvent::Exited { pid: target.pid });
                            return Err(AgentError::Exited { pid: target.pid }.into());
                        }
                        emit(&WatchEvent::Error { message: e.to_string(), exit_code: e.exit_code().code() });
                    }
                }
                report_deleted(&mut emit, deleted.unwrap_or_default());
                // Applied, replaced or refused: the same bytes are not tried again until they
                // change. After a replacement this is the new JVM's state too: it started from
                // these paths (deploy refuses a replacement whose build is not what the new
                // process runs).
                seen = now;
            }
        }
    }
}

fn report_deleted(emit: &mut impl FnMut(&WatchEvent), deleted: Vec<String>) {
    if !deleted.is_empty() {
        emit(&WatchEvent::Skipped {
            reason: "deleted",
            message: "deleted classes stay in the JVM; a restart or `jhot deploy` removes them".into(),
            classes: deleted,
        });
    }
}

/// The build as a process replacement (`jhot deploy --mode replace`): the successor, opened.
async fn replace(target: &Target, paths: &[PathBuf], opts: &DeployOptions) -> Result<(Target, u32), crate::Error> {
    let opts = DeployOptions { mode: Mode::Replace, dry_run: false, ..opts.clone() };
    let report = deploy::deploy(target.pid, paths, &opts).await?;
    let Some(r) = report.replacement else {
        // Mode::Replace always decides a replacement; a report without one is a bug upstream.
        return Err(crate::Error::Usage("the deploy did not replace the process".into()));
    };
    Ok((Target::open(r.new_pid)?, r.new_pid))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_names_belong_to_their_top_level_class() {
        assert_eq!(top_level("a.b.C$D$1"), "a.b.C");
        assert_eq!(top_level("C$D"), "C");
        assert_eq!(top_level("a.b.C"), "a.b.C");
    }

    #[test]
    fn an_empty_directory_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut seen = Seen::new();
        seen.insert("a.B".into(), "00".into());
        assert!(matches!(look(&[dir.path().to_path_buf()], &seen), Look::Empty));
    }

    #[test]
    fn a_truncated_class_file_is_incomplete() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("B.class"), [0xca, 0xfe, 0xba, 0xbe, 0, 0, 0, 61, 0, 9, 1]).expect("write");
        match look(&[dir.path().to_path_buf()], &Seen::new()) {
            Look::Incomplete { classes, .. } => assert_eq!(classes, vec!["B".to_string()]),
            other => panic!("{other:?}"),
        }
    }
}
