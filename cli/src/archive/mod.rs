//! Where class bytes come from: `.class` files, directories of them, and jars. Every class is named
//! by its bytes, never by its file name, and checked completely before anything reaches a JVM.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::classfile::{self, ClassInfo};

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
    BadClass { origin: String, source: classfile::ClassFileError },
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

fn parse(bytes: Vec<u8>, origin: String) -> Result<ClassSource, ArchiveError> {
    match classfile::read(&bytes) {
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
fn read_zip(origin: &str, path: &Path, bytes: Vec<u8>, out: &mut Vec<ClassSource>, depth: u32) -> Result<(), ArchiveError> {
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
