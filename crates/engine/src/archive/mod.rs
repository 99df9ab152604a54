//! Where class bytes come from: `.class` files, directories of them, and jars. Every class is named
//! by its bytes, never by its file name, and checked completely before anything reaches a JVM.

pub mod index;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use jhot_classfile::ClassInfo;

/// One class to send to a JVM.
#[derive(Debug, Clone)]
pub struct ClassSource {
    pub info: ClassInfo,
    pub bytes: Vec<u8>,
    /// Where it was read from, for messages: a path, or `app.jar!/a/B.class`.
    pub origin: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("{path}: cannot read it: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{origin}: {source}")]
    BadClass { origin: String, source: jhot_classfile::ClassFileError },
    #[error("{path}: not a readable jar: {reason}")]
    BadJar { path: PathBuf, reason: String },
    #[error("{path}: contains no .class file")]
    NoClasses { path: PathBuf },
    #[error("class {name} is given twice in one batch: {first} and {second}; pass each class once")]
    Duplicate { name: String, first: String, second: String },
    #[error("{path}: not a .class file, a directory or a jar")]
    UnknownKind { path: PathBuf },
}

/// Class files in jars this large are almost certainly not what the user meant; also bounds memory
/// against a hostile archive that declares huge entries.
const MAX_CLASS_BYTES: u64 = 64 * 1024 * 1024;

/// Reads every class named by `paths`, in a stable order (sorted by class name). A class given
/// twice is an error: which of the two should the JVM run?
pub fn collect(paths: &[PathBuf]) -> Result<Vec<ClassSource>, ArchiveError> {
    let set = collect_set(paths)?;
    if let Some((name, (first, second))) = set.duplicates.into_iter().next() {
        return Err(ArchiveError::Duplicate { name, first, second });
    }
    Ok(set.classes.into_values().collect())
}

/// Every class under `paths`, keyed by binary name, plus the names found more than once (a fat jar
/// may carry a class in two nested libraries; the first one read is kept, as a class loader
/// searching in order would).
#[derive(Debug, Default)]
pub struct ClassSet {
    pub classes: BTreeMap<String, ClassSource>,
    /// name → (origin kept, origin ignored)
    pub duplicates: BTreeMap<String, (String, String)>,
}

pub fn collect_set(paths: &[PathBuf]) -> Result<ClassSet, ArchiveError> {
    let mut set = ClassSet::default();
    for path in paths {
        let mut found = Vec::new();
        read_path(path, &mut found)?;
        if found.is_empty() {
            return Err(ArchiveError::NoClasses { path: path.clone() });
        }
        for class in found {
            if let Some(prev) = set.classes.get(&class.info.name) {
                set.duplicates
                    .entry(class.info.name.clone())
                    .or_insert_with(|| (prev.origin.clone(), class.origin.clone()));
                continue;
            }
            set.classes.insert(class.info.name.clone(), class);
        }
    }
    Ok(set)
}

fn read_path(path: &Path, out: &mut Vec<ClassSource>) -> Result<(), ArchiveError> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => ArchiveError::Missing { path: path.to_path_buf() },
        _ => ArchiveError::Read { path: path.to_path_buf(), source: e },
    })?;
    if meta.is_dir() {
        return read_dir(path, out);
    }
    let bytes = fs::read(path).map_err(|e| ArchiveError::Read { path: path.to_path_buf(), source: e })?;
    if bytes.starts_with(&[0xCA, 0xFE, 0xBA, 0xBE]) || has_ext(path, "class") {
        out.push(parse(bytes, path.display().to_string())?);
        return Ok(());
    }
    if bytes.starts_with(b"PK") || has_ext(path, "jar") || has_ext(path, "zip") {
        return read_jar(path, bytes, out);
    }
    Err(ArchiveError::UnknownKind { path: path.to_path_buf() })
}

fn has_ext(path: &Path, ext: &str) -> bool {
    path.extension().is_some_and(|e| e.eq_ignore_ascii_case(ext))
}

/// Class bytes from elsewhere (a compiler), checked like a file's.
pub fn from_bytes(bytes: Vec<u8>, origin: String) -> Result<ClassSource, ArchiveError> {
    parse(bytes, origin)
}

fn parse(bytes: Vec<u8>, origin: String) -> Result<ClassSource, ArchiveError> {
    match jhot_classfile::read(&bytes) {
        Ok(info) => Ok(ClassSource { info, bytes, origin }),
        Err(source) => Err(ArchiveError::BadClass { origin, source }),
    }
}

fn read_dir(dir: &Path, out: &mut Vec<ClassSource>) -> Result<(), ArchiveError> {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = fs::read_dir(&d).map_err(|e| ArchiveError::Read { path: d.clone(), source: e })?;
        let mut entries: Vec<PathBuf> = Vec::new();
        for e in rd {
            entries.push(e.map_err(|e| ArchiveError::Read { path: d.clone(), source: e })?.path());
        }
        entries.sort();
        for p in entries {
            let ft = fs::symlink_metadata(&p).map_err(|e| ArchiveError::Read { path: p.clone(), source: e })?;
            if ft.is_dir() {
                stack.push(p);
            } else if has_ext(&p, "class") && !is_module_info(&p.to_string_lossy()) {
                let bytes = fs::read(&p).map_err(|e| ArchiveError::Read { path: p.clone(), source: e })?;
                out.push(parse(bytes, p.display().to_string())?);
            }
        }
    }
    Ok(())
}

fn is_module_info(name: &str) -> bool {
    name.ends_with("module-info.class") || name.ends_with("package-info.class")
}

fn read_jar(path: &Path, bytes: Vec<u8>, out: &mut Vec<ClassSource>) -> Result<(), ArchiveError> {
    read_zip(&path.display().to_string(), path, bytes, out, 0)
}

/// Spring Boot nests its libraries as jars inside the jar; a nested jar inside a nested jar is not
/// a layout any launcher uses, so the depth is bounded (also against zip bombs).
const MAX_NESTING: u32 = 1;

/// Reads the classes of one zip: `origin` names it in messages (`app.jar!/BOOT-INF/lib/x.jar`).
/// `BOOT-INF/classes/` and `WEB-INF/classes/` prefixes need no special case: names come from the
/// bytes. Jars under `BOOT-INF/lib/` and `WEB-INF/lib/` are read in place.
fn read_zip(
    origin: &str,
    path: &Path,
    bytes: Vec<u8>,
    out: &mut Vec<ClassSource>,
    depth: u32,
) -> Result<(), ArchiveError> {
    let bad = |reason: String| ArchiveError::BadJar { path: path.to_path_buf(), reason: format!("{origin}: {reason}") };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().map_err(|e| bad(e.to_string()))?.to_string();
        let nested = depth < MAX_NESTING
            && name.ends_with(".jar")
            && (name.starts_with("BOOT-INF/lib/") || name.starts_with("WEB-INF/lib/"));
        // Multi-release variants and the JDK's own metadata are not classes the JVM would load from
        // this path as-is; module and package descriptors cannot be redefined.
        let class = name.ends_with(".class") && !name.starts_with("META-INF/") && !is_module_info(&name);
        if entry.is_dir() || !(class || nested) {
            continue;
        }
        let limit = if nested { MAX_NESTED_JAR_BYTES } else { MAX_CLASS_BYTES };
        if entry.size() > limit {
            return Err(bad(format!("entry {name} declares {} bytes", entry.size())));
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        (&mut entry).take(limit + 1).read_to_end(&mut data).map_err(|e| bad(format!("entry {name}: {e}")))?;
        let here = format!("{origin}!/{name}");
        if nested {
            read_zip(&here, path, data, out, depth + 1)?;
        } else {
            out.push(parse(data, here)?);
        }
    }
    Ok(())
}

const MAX_NESTED_JAR_BYTES: u64 = 512 * 1024 * 1024;

/// Entries that change with every build without changing what the application does, or that no
/// class loader serves as a resource.
fn resource_ignored(name: &str) -> bool {
    name == "META-INF/MANIFEST.MF"
        || name.starts_with("META-INF/maven/")
        || name.ends_with(".SF")
        || name.ends_with(".RSA")
        || name.ends_with(".DSA")
        || name.starts_with("org/springframework/boot/loader/")
        || name.starts_with("BOOT-INF/lib/")
        || name.starts_with("WEB-INF/lib/")
        || (name.starts_with("BOOT-INF/") && name.ends_with(".idx"))
}

/// Content hashes of a build, by the names a class loader serves — without parsing a class. Used
/// to compare two builds (or a build with the jar a JVM has open) quickly; only what differs is
/// parsed and diffed.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// binary class name → SHA-256 hex of its bytes
    pub classes: BTreeMap<String, String>,
    /// Multi-release jars: binary class name → (Java feature, SHA-256) of `META-INF/versions/N/…`
    pub versioned: BTreeMap<String, Vec<(u32, String)>>,
    /// resource name → SHA-256 hex (what `ClassLoader.getResource` serves; see [`resources`])
    pub resources: BTreeMap<String, String>,
    /// dependency jar file name → SHA-256 hex
    pub libs: BTreeMap<String, String>,
    /// With [`snapshot_keeping_bytes`]: binary class name → (bytes, origin).
    pub bytes: BTreeMap<String, (Vec<u8>, String)>,
    /// A content hash of the whole build (SHA-256 hex): a single jar's own SHA-256 (what
    /// `sha256sum` prints), else one over each input — a jar's hash, or a directory's files by
    /// sorted relative path and content hash.
    pub digest: String,
    keep_bytes: bool,
}

impl Snapshot {
    /// The first copy of a class wins, as a class loader searching in order would have it.
    fn add_class(&mut self, name: String, bytes: Vec<u8>, origin: impl FnOnce() -> String) {
        if self.classes.contains_key(&name) {
            return;
        }
        self.classes.insert(name.clone(), sha_hex(&bytes));
        if self.keep_bytes {
            self.bytes.insert(name, (bytes, origin()));
        }
    }

    /// One class of the snapshot as a parsed class, for the few that need it (diffs, definitions).
    pub fn class(&self, name: &str) -> Option<Result<ClassSource, ArchiveError>> {
        let (bytes, origin) = self.bytes.get(name)?;
        Some(parse(bytes.clone(), origin.clone()))
    }

    /// The hash of `name` as a JVM of `feature` loads it: a multi-release jar's newest variant that
    /// applies, else the plain class file.
    pub fn effective(&self, name: &str, feature: u32) -> Option<&String> {
        if let Some(v) = self.versioned.get(name)
            && let Some((_, sha)) = v.iter().filter(|(f, _)| *f <= feature).max_by_key(|(f, _)| *f)
        {
            return Some(sha);
        }
        self.classes.get(name)
    }
}

/// SHA-256 in hex: how jhot names content.
pub fn sha_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|x| format!("{x:02x}")).collect()
}

/// `a/b/C.class` → `a.b.C`, for class files a loader would define: `package-info` too (a
/// loaded class like any other once something reads its package's annotations), not a module
/// descriptor (a resource: see [`is_module_descriptor`]).
fn class_name_of(path: &str) -> Option<String> {
    let stem = path.strip_suffix(".class")?;
    if is_module_descriptor(path) || stem.is_empty() || stem.ends_with('/') {
        return None;
    }
    Some(stem.replace('/', "."))
}

/// `module-info.class`: no loader defines it as a class; a changed one is a changed resource.
fn is_module_descriptor(path: &str) -> bool {
    path == "module-info.class" || path.ends_with("/module-info.class")
}

pub fn snapshot(paths: &[PathBuf]) -> Result<Snapshot, ArchiveError> {
    snapshot_into(paths, Snapshot::default())
}

/// A snapshot that also keeps every class's bytes (a build about to be deployed).
pub fn snapshot_keeping_bytes(paths: &[PathBuf]) -> Result<Snapshot, ArchiveError> {
    snapshot_into(paths, Snapshot { keep_bytes: true, ..Snapshot::default() })
}

fn snapshot_into(paths: &[PathBuf], mut snap: Snapshot) -> Result<Snapshot, ArchiveError> {
    use sha2::{Digest, Sha256};
    let mut digests: Vec<Vec<u8>> = Vec::new();
    for path in paths {
        let meta = fs::metadata(path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ArchiveError::Missing { path: path.clone() },
            _ => ArchiveError::Read { path: path.clone(), source: e },
        })?;
        if meta.is_dir() {
            let mut files: Vec<(String, Vec<u8>)> = Vec::new();
            let mut stack = vec![path.clone()];
            while let Some(d) = stack.pop() {
                for e in fs::read_dir(&d).map_err(|e| ArchiveError::Read { path: d.clone(), source: e })? {
                    let p = e.map_err(|e| ArchiveError::Read { path: d.clone(), source: e })?.path();
                    if p.is_dir() {
                        stack.push(p);
                        continue;
                    }
                    let rel = p.strip_prefix(path).unwrap_or(&p).to_string_lossy().replace('\\', "/");
                    let bytes = fs::read(&p).map_err(|e| ArchiveError::Read { path: p.clone(), source: e })?;
                    files.push((rel.clone(), Sha256::digest(&bytes).to_vec()));
                    match class_name_of(&rel) {
                        Some(n) => snap.add_class(n, bytes, || p.display().to_string()),
                        None if (is_module_descriptor(&rel) || !rel.ends_with(".class")) && !resource_ignored(&rel) => {
                            snap.resources.entry(rel).or_insert_with(|| sha_hex(&bytes));
                        }
                        None => {}
                    }
                }
            }
            files.sort();
            let mut h = Sha256::new();
            for (rel, d) in files {
                h.update(rel.as_bytes());
                h.update(d);
            }
            digests.push(h.finalize().to_vec());
        } else {
            let bytes = fs::read(path).map_err(|e| ArchiveError::Read { path: path.clone(), source: e })?;
            digests.push(Sha256::digest(&bytes).to_vec());
            snapshot_zip(path, bytes, &mut snap)?;
        }
    }
    let whole = match digests.as_slice() {
        [one] => one.clone(),
        many => many.iter().fold(Sha256::new(), |h, d| h.chain_update(d)).finalize().to_vec(),
    };
    snap.digest = whole.iter().map(|x| format!("{x:02x}")).collect();
    Ok(snap)
}

/// A jar's snapshot from its bytes (`path` names it in messages): a JVM's open copy can be read
/// through /proc even after the file on disk was replaced.
pub fn snapshot_zip(path: &Path, bytes: Vec<u8>, snap: &mut Snapshot) -> Result<(), ArchiveError> {
    zip_snapshot(path, bytes, snap, 0)
}

fn zip_snapshot(path: &Path, bytes: Vec<u8>, snap: &mut Snapshot, depth: u32) -> Result<(), ArchiveError> {
    zip_snapshot_at(&path.display().to_string(), path, bytes, snap, depth)
}

fn zip_snapshot_at(
    origin: &str,
    path: &Path,
    bytes: Vec<u8>,
    snap: &mut Snapshot,
    depth: u32,
) -> Result<(), ArchiveError> {
    let bad = |reason: String| ArchiveError::BadJar { path: path.to_path_buf(), reason };
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| bad(e.to_string()))?;
    // Spring Boot: the jar's root is the launcher's; the application is in BOOT-INF/.
    let boot = zip.file_names().any(|n| n.is_ok_and(|n| n.starts_with("BOOT-INF/")));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| bad(e.to_string()))?;
        let name = entry.name().map_err(|e| bad(e.to_string()))?.to_string();
        if entry.is_dir() {
            continue;
        }
        let lib = depth < MAX_NESTING
            && name.ends_with(".jar")
            && (name.starts_with("BOOT-INF/lib/") || name.starts_with("WEB-INF/lib/"));
        let served = name.strip_prefix("BOOT-INF/classes/").or_else(|| name.strip_prefix("WEB-INF/classes/"));
        let in_app = !boot || served.is_some() || lib;
        if !in_app {
            continue;
        }
        if entry.size() > MAX_NESTED_JAR_BYTES {
            return Err(bad(format!("entry {name} declares {} bytes", entry.size())));
        }
        let mut data = Vec::with_capacity(entry.size() as usize);
        (&mut entry)
            .take(MAX_NESTED_JAR_BYTES + 1)
            .read_to_end(&mut data)
            .map_err(|e| bad(format!("entry {name}: {e}")))?;
        if lib {
            let file = name.rsplit('/').next().unwrap_or(&name).to_string();
            snap.libs.insert(file, sha_hex(&data));
            zip_snapshot_at(&format!("{origin}!/{name}"), path, data, snap, depth + 1)?;
            continue;
        }
        let served = served.unwrap_or(&name);
        if let Some(rest) = served.strip_prefix("META-INF/versions/") {
            if let Some((feature, class_path)) = rest.split_once('/')
                && let (Ok(f), Some(n)) = (feature.parse::<u32>(), class_name_of(class_path))
            {
                snap.versioned.entry(n).or_default().push((f, sha_hex(&data)));
            }
            continue;
        }
        match class_name_of(served) {
            Some(n) if !served.starts_with("META-INF/") => snap.add_class(n, data, || format!("{origin}!/{name}")),
            Some(_) => {}
            None if depth == 0
                && (is_module_descriptor(served) || !served.ends_with(".class"))
                && !resource_ignored(served)
                && !resource_ignored(&name) =>
            {
                snap.resources.entry(served.to_string()).or_insert_with(|| sha_hex(&data));
            }
            None => {}
        }
    }
    Ok(())
}
