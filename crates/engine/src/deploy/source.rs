//! What the JVM was started from: its jars or class path, read as the JVM has them, and where a
//! new build goes in its command line.

use std::path::{Path, PathBuf};

use super::error::DeployError;
use crate::archive;
use crate::replace::command::{NewBuild, ProcessImage};

/// Whether a class-file URL the application's loader serves points into one of the jars or
/// directories the JVM was started with: `file:/dir/a/B.class`, `jar:file:/x.jar!/…`, Spring
/// Boot's `jar:nested:/x.jar/!BOOT-INF/classes/!/…`.
pub(super) fn served_from(url: &str, started: &[PathBuf]) -> bool {
    let path = if let Some(rest) = url.strip_prefix("jar:file:") {
        rest.split("!/").next().unwrap_or(rest)
    } else if let Some(rest) = url.strip_prefix("jar:nested:") {
        rest.split("/!").next().unwrap_or(rest)
    } else if let Some(rest) = url.strip_prefix("file:") {
        rest
    } else {
        return false;
    };
    let path = PathBuf::from(percent_decode(path));
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let path = canon(&path);
    started.iter().map(|s| canon(s)).any(|s| path == s || path.starts_with(&s) && s.is_dir())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Where in the JVM's jar a code source is: `jar:nested:/app.jar/!BOOT-INF/lib/x.jar!/` →
/// `BOOT-INF/lib/x.jar`, `…/!BOOT-INF/classes/!/` → `BOOT-INF/classes/`, `file:/app.jar` → `""`
/// (Spring Boot before 3.2 writes `jar:file:/app.jar!/BOOT-INF/lib/x.jar!/`). None for another jar.
pub(super) fn unit_of_location(location: &str, jar: &Path) -> Option<String> {
    let (outer, inner) = if let Some(rest) = location.strip_prefix("jar:nested:") {
        let (o, i) = rest.split_once("/!")?;
        (o, i.trim_end_matches("!/").trim_end_matches('!'))
    } else if let Some(rest) = location.strip_prefix("jar:file:") {
        let (o, i) = rest.split_once("!/")?;
        (o, i.trim_end_matches("!/").trim_end_matches('!'))
    } else if let Some(rest) = location.strip_prefix("file:") {
        (rest, "")
    } else {
        return None;
    };
    let canon = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    if canon(Path::new(&percent_decode(outer))) != canon(jar) {
        return None;
    }
    let inner =
        if inner == "BOOT-INF/classes" || inner == "WEB-INF/classes" { format!("{inner}/") } else { inner.to_string() };
    Some(inner)
}

/// The build the JVM was started from (`-jar X`, or the jars of its class path), read as the JVM
/// has it: through its open descriptor when the file was replaced on disk since (a rebuild in
/// place), else from disk if it has not changed since the JVM started. None when any entry cannot
/// be read that way, or is a directory.
pub(super) fn old_build(image: &ProcessImage, jvm_start_ticks: u64) -> Option<archive::Snapshot> {
    let mut snap = archive::Snapshot::default();
    for (entry, bytes) in old_jars(image, jvm_start_ticks)? {
        archive::snapshot_zip(&entry, bytes, &mut snap).ok()?;
    }
    Some(snap)
}

/// The jars the JVM was started with, read as the JVM has them (see [`old_build`]).
pub(super) fn old_jars(image: &ProcessImage, jvm_start_ticks: u64) -> Option<Vec<(PathBuf, Vec<u8>)>> {
    let pid = image.pid;
    let entries = started_from(image);
    if entries.is_empty() {
        return None;
    }
    let started = jhot_attach::procfs::start_ms(jvm_start_ticks)?;
    let open: Vec<(String, PathBuf)> = jhot_attach::procfs::read_fds(pid)
        .ok()?
        .into_iter()
        .map(|f| (f.target.to_string_lossy().into_owned(), f.path))
        .collect();
    let mut jars = Vec::new();
    for entry in entries {
        if entry.is_dir() {
            return None;
        }
        let shown = entry.display().to_string();
        let held = open.iter().find(|(l, _)| *l == shown || *l == format!("{shown} (deleted)")).map(|(_, p)| p.clone());
        let unchanged_on_disk =
            std::fs::metadata(&entry).ok().and_then(|m| modified_ms(&m)).is_some_and(|t| t <= started);
        // The JVM's user controls what these paths are: a FIFO or a device must not hang or
        // exhaust root's jhot.
        let bytes = match held {
            Some(fd) => read_unchanged_since(&fd, started)?,
            None if unchanged_on_disk => jhot_attach::safe_fs::read_regular(&entry, MAX_JAR).ok()?,
            None => return None,
        };
        jars.push((entry, bytes));
    }
    Some(jars)
}

/// The jar the JVM holds open, if its file has not been written since the JVM started (judged on
/// the descriptor read). A build that rewrites the jar in place (Maven's jar plugin keeps the
/// inode) leaves the JVM's descriptor on the new bytes while the JVM's zip index still describes
/// the old ones: those bytes are not what the JVM started with, and what it will load for a class
/// not loaded yet is only known by asking its loader, which the general plan does.
fn read_unchanged_since(held: &Path, started_ms: u64) -> Option<Vec<u8>> {
    use rustix::fs::{Mode, OFlags};
    let fd = rustix::fs::open(held, OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC, Mode::empty()).ok()?;
    let file = std::fs::File::from(fd);
    if written_after_opening(&file.metadata().ok()?, started_ms) {
        tracing::debug!(jar = %held.display(), "the jar the JVM holds was rewritten in place since it started");
        return None;
    }
    jhot_attach::safe_fs::read_fd(file.into(), MAX_JAR).ok()
}

/// The jars the JVM was started with that it holds open and that were written since it started
/// (rebuilt in place, same file): see [`read_unchanged_since`].
pub(super) fn rewritten_in_place(image: &ProcessImage, jvm_start_ticks: u64) -> Vec<PathBuf> {
    let Some(started) = jhot_attach::procfs::start_ms(jvm_start_ticks) else { return vec![] };
    let Ok(fds) = jhot_attach::procfs::read_fds(image.pid) else { return vec![] };
    started_from(image)
        .into_iter()
        .filter(|entry| !entry.is_dir())
        .filter(|entry| {
            let shown = entry.display().to_string();
            fds.iter().any(|f| {
                f.target.to_string_lossy() == shown
                    && std::fs::metadata(&f.path).is_ok_and(|m| written_after_opening(&m, started))
            })
        })
        .collect()
}

/// When a file was last written, in ms since the Unix epoch.
fn modified_ms(m: &std::fs::Metadata) -> Option<u64> {
    let t = m.modified().ok()?.duration_since(std::time::UNIX_EPOCH).ok()?;
    u64::try_from(t.as_millis()).ok()
}

/// Whether a jar the JVM holds was written after the JVM opened it (see [`OPENED_WITHIN_MS`]).
fn written_after_opening(m: &std::fs::Metadata, started_ms: u64) -> bool {
    modified_ms(m).is_some_and(|t| t > started_ms + OPENED_WITHIN_MS)
}

/// A jar written this soon after the JVM's start counts as written before the JVM opened it. The
/// start time is known to a few clock ticks only (a jar copied right before `java -jar` can look
/// younger than its JVM), and the launcher opens a `-jar` to read its manifest before the JVM
/// even starts: a rebuild in place this early is not told apart.
const OPENED_WITHIN_MS: u64 = 1000;

/// The largest jar jhot reads from what a JVM was started with.
const MAX_JAR: u64 = 4 * 1024 * 1024 * 1024;

/// Where the build goes in the old command line: the same path (rebuilt in place) runs again as is;
/// a jar elsewhere replaces `-jar X` or the class-path entry of the same artifact.
pub(super) fn replacement_build(image: &ProcessImage, build: &[PathBuf]) -> Result<NewBuild, DeployError> {
    let pid = image.pid;
    let [one] = build else {
        return Err(DeployError::OneBuild);
    };
    // The new process of a container JVM starts in the container (replace::namespaces): the
    // path on its command line is read there.
    if crate::replace::namespaces::same_file_in_root_of(pid, one) == Some(false) {
        return Err(DeployError::NotInContainer { pid, build: one.clone() });
    }
    if started_from(image).iter().any(|p| same_file(p, one)) {
        return Ok(NewBuild::Same);
    }
    if one.is_dir() {
        return Err(DeployError::WhichEntry { pid, build: one.clone() });
    }
    Ok(NewBuild::Jar(one.clone()))
}

/// The jar or class-path entries the process was started from, absolute.
pub(super) fn started_from(image: &ProcessImage) -> Vec<PathBuf> {
    let args: Vec<String> = image.argv.iter().map(|a| a.to_string_lossy().into_owned()).collect();
    let mut out = Vec::new();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "-jar" if i + 1 < args.len() => {
                out.push(image.cwd.join(&args[i + 1]));
                break;
            }
            "-cp" | "-classpath" | "--class-path" if i + 1 < args.len() => {
                out.extend(args[i + 1].split(':').map(|e| image.cwd.join(e)));
                i += 2;
                continue;
            }
            a if !a.starts_with('-') => break,
            _ => {}
        }
        i += 1;
    }
    out
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// After a redefinition, the JVM runs the build; if its command line starts something else, a
/// restart would bring that back.
pub(super) fn disk_warning(image: &ProcessImage, build: &[PathBuf]) -> Option<String> {
    let pid = image.pid;
    let started = started_from(image);
    if build.iter().all(|b| started.iter().any(|s| same_file(s, b))) {
        return None;
    }
    let shown: Vec<String> = started.iter().map(|p| p.display().to_string()).collect();
    Some(format!(
        "pid {pid} now runs {}, but its command line starts {}: a restart, or `jhot replace {pid}` without --jar, would bring \
         back that code. Copy the build there, or deploy it with `jhot replace {pid} --jar …`",
        build.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" "),
        if shown.is_empty() { "something else".to_string() } else { shown.join(":") }
    ))
}

#[cfg(test)]
mod code_source_tests {
    use super::unit_of_location;

    #[test]
    fn code_sources_name_units_of_the_jvms_jar() {
        let dir = tempfile::tempdir().expect("tmp");
        let jar = dir.path().join("app 1.jar");
        std::fs::write(&jar, b"").expect("jar");
        let j = jar.display().to_string().replace(' ', "%20");
        assert_eq!(
            unit_of_location(&format!("jar:nested:{j}/!BOOT-INF/lib/x.jar!/"), &jar).as_deref(),
            Some("BOOT-INF/lib/x.jar")
        );
        assert_eq!(
            unit_of_location(&format!("jar:nested:{j}/!BOOT-INF/classes/!/"), &jar).as_deref(),
            Some("BOOT-INF/classes/")
        );
        assert_eq!(
            unit_of_location(&format!("jar:file:{j}!/BOOT-INF/lib/x.jar!/"), &jar).as_deref(),
            Some("BOOT-INF/lib/x.jar")
        );
        assert_eq!(
            unit_of_location(&format!("jar:file:{j}!/BOOT-INF/classes!/"), &jar).as_deref(),
            Some("BOOT-INF/classes/")
        );
        assert_eq!(unit_of_location(&format!("file:{j}"), &jar).as_deref(), Some(""));
        // Another jar, or no jar at all: not the JVM's build.
        assert_eq!(unit_of_location("file:/elsewhere/lib.jar", &jar), None);
        assert_eq!(unit_of_location("jrt:/java.base", &jar), None);
    }
}

#[cfg(test)]
mod served_from_tests {
    use super::served_from;

    #[test]
    fn class_file_urls_point_into_what_the_jvm_was_started_with() {
        let dir = tempfile::tempdir().expect("tmp");
        let classes = dir.path().join("classes");
        std::fs::create_dir_all(&classes).expect("mkdir");
        let other = dir.path().join("lib.jar");
        std::fs::write(&other, b"").expect("jar");
        let started = std::slice::from_ref(&classes);
        assert!(served_from(&format!("file:{}/a/Gone.class", classes.display()), started));
        assert!(!served_from(&format!("jar:file:{}!/b/Elsewhere.class", other.display()), started));
        assert!(served_from(&format!("jar:file:{}!/b/Elsewhere.class", other.display()), std::slice::from_ref(&other)));
        // Spring Boot's nested URLs point into the fat jar the JVM was started with.
        let fat = dir.path().join("app with space.jar");
        std::fs::write(&fat, b"").expect("jar");
        let url =
            format!("jar:nested:{}/!BOOT-INF/classes/!/a/Nested.class", fat.display().to_string().replace(' ', "%20"));
        assert!(served_from(&url, std::slice::from_ref(&fat)));
        assert!(!served_from(&url, &[other]));
        assert!(!served_from("jrt:/java.base/java/lang/Object.class", &[fat]));
    }
}
