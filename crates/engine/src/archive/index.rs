//! A jar read without inflating what a comparison does not need: its entries by name, and those
//! of the jars nested in it (Spring Boot's `BOOT-INF/lib/`, a WAR's `WEB-INF/lib/`), with where
//! their bytes are. Two builds are compared nested jar by nested jar — a dependency whose bytes
//! are identical in both has identical classes — and an entry is inflated and hashed only when it
//! may differ. On a 61 MB Spring Boot jar of 32,000 classes, where reading every class cost about
//! a second per build, this reads the two central directories and compares bytes.

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use zip::ZipArchive;

use super::{
    ArchiveError, ClassSource, MAX_NESTED_JAR_BYTES, Snapshot, class_name_of, is_module_descriptor, resource_ignored,
    sha_hex,
};

type Zip = ZipArchive<Cursor<Arc<[u8]>>>;

/// One zip: the outer jar (index 0) or a jar nested in it.
struct Archive {
    /// `""` for the outer jar, else its entry name (`BOOT-INF/lib/x.jar`).
    key: String,
    bytes: Arc<[u8]>,
    zip: Zip,
    /// Class entries of this archive: binary name → entry index.
    classes: HashMap<String, usize>,
    /// Entry names by index, for messages.
    names: Vec<String>,
}

/// Where one entry is: (archive, entry index).
pub type Loc = (usize, usize);

pub struct Index {
    pub path: PathBuf,
    archives: Vec<Archive>,
    by_key: HashMap<String, usize>,
    /// Binary class name → where the loader would find it first.
    pub classes: BTreeMap<String, Loc>,
    /// Multi-release variants: binary class name → (Java feature, where).
    pub versioned: BTreeMap<String, Vec<(u32, Loc)>>,
    /// The application's own resources (not its dependencies'): served name → where.
    pub resources: BTreeMap<String, Loc>,
    /// Spring Boot: the application's classes live under this prefix of the outer jar.
    prefix: &'static str,
}

fn bad(path: &Path, detail: String) -> ArchiveError {
    ArchiveError::BadJar { path: path.to_path_buf(), reason: detail }
}

impl Index {
    /// Indexes the jar `bytes` (shown as `path`).
    pub fn read(path: &Path, bytes: Vec<u8>) -> Result<Index, ArchiveError> {
        let bytes: Arc<[u8]> = bytes.into();
        let zip = ZipArchive::new(Cursor::new(bytes.clone())).map_err(|e| bad(path, e.to_string()))?;
        let mut index = Index {
            path: path.to_path_buf(),
            archives: Vec::new(),
            by_key: HashMap::new(),
            classes: BTreeMap::new(),
            versioned: BTreeMap::new(),
            resources: BTreeMap::new(),
            prefix: "",
        };
        index.archives.push(Archive { key: String::new(), bytes, zip, classes: HashMap::new(), names: Vec::new() });
        index.by_key.insert(String::new(), 0);
        let names: Vec<String> =
            index.archives[0].zip.file_names().map(|n| n.map(|c| c.into_owned()).unwrap_or_default()).collect();
        index.archives[0].names = names.clone();
        let boot = names.iter().any(|n| n.starts_with("BOOT-INF/"));
        let war = !boot && names.iter().any(|n| n.starts_with("WEB-INF/classes/") || n.starts_with("WEB-INF/lib/"));
        index.prefix = if boot {
            "BOOT-INF/classes/"
        } else if war {
            "WEB-INF/classes/"
        } else {
            ""
        };
        let mut nested = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if name.ends_with('/') {
                continue;
            }
            let lib = name.ends_with(".jar") && (name.starts_with("BOOT-INF/lib/") || name.starts_with("WEB-INF/lib/"));
            if lib {
                nested.push((i, name.clone()));
                continue;
            }
            let served = if index.prefix.is_empty() { Some(name.as_str()) } else { name.strip_prefix(index.prefix) };
            if let Some(served) = served {
                index.add(0, i, served, true);
            }
        }
        for (i, name) in nested {
            let mut data = Vec::new();
            {
                let mut entry = index.archives[0].zip.by_index(i).map_err(|e| bad(path, e.to_string()))?;
                if entry.size() > MAX_NESTED_JAR_BYTES {
                    return Err(bad(path, format!("entry {name} declares {} bytes", entry.size())));
                }
                (&mut entry)
                    .take(MAX_NESTED_JAR_BYTES + 1)
                    .read_to_end(&mut data)
                    .map_err(|e| bad(path, format!("entry {name}: {e}")))?;
            }
            let bytes: Arc<[u8]> = data.into();
            let zip = ZipArchive::new(Cursor::new(bytes.clone())).map_err(|e| bad(path, format!("{name}: {e}")))?;
            let a = index.archives.len();
            let entries: Vec<String> =
                zip.file_names().map(|n| n.map(|c| c.into_owned()).unwrap_or_default()).collect();
            index.archives.push(Archive {
                key: name.clone(),
                bytes,
                zip,
                classes: HashMap::new(),
                names: entries.clone(),
            });
            index.by_key.insert(name, a);
            for (j, e) in entries.iter().enumerate() {
                if !e.ends_with('/') {
                    index.add(a, j, e, false);
                }
            }
        }
        Ok(index)
    }

    fn add(&mut self, archive: usize, entry: usize, served: &str, own: bool) {
        if let Some(rest) = served.strip_prefix("META-INF/versions/") {
            if let Some((feature, class_path)) = rest.split_once('/')
                && let (Ok(f), Some(n)) = (feature.parse::<u32>(), class_name_of(class_path))
            {
                self.versioned.entry(n).or_default().push((f, (archive, entry)));
            }
            return;
        }
        match class_name_of(served) {
            Some(n) if !served.starts_with("META-INF/") => {
                self.archives[archive].classes.entry(n.clone()).or_insert(entry);
                self.classes.entry(n).or_insert((archive, entry));
            }
            Some(_) => {}
            None if own
                && (is_module_descriptor(served) || !served.ends_with(".class"))
                && !resource_ignored(served) =>
            {
                self.resources.entry(served.to_string()).or_insert((archive, entry));
            }
            None => {}
        }
    }

    /// Where the JVM of Java `feature` finds class `name` in this build.
    pub fn effective(&self, name: &str, feature: u32) -> Option<Loc> {
        if let Some(v) = self.versioned.get(name)
            && let Some((_, loc)) = v.iter().filter(|(f, _)| *f <= feature).max_by_key(|(f, _)| *f)
        {
            return Some(*loc);
        }
        self.classes.get(name).copied()
    }

    /// The archive a code source names (`""`, `BOOT-INF/classes/` → the outer jar; a nested jar's
    /// entry name), and where a JVM of Java `feature` finds class `name` in it (a multi-release
    /// jar's variant for that release, else the plain entry).
    pub fn in_unit(&self, unit: &str, name: &str, feature: u32) -> Option<Loc> {
        let key = if unit == self.prefix || unit.is_empty() { "" } else { unit };
        let a = *self.by_key.get(key)?;
        if let Some(v) = self.versioned.get(name)
            && let Some((_, loc)) = v.iter().filter(|(f, (va, _))| *va == a && *f <= feature).max_by_key(|(f, _)| *f)
        {
            return Some(*loc);
        }
        self.archives[a].classes.get(name).map(|e| (a, *e))
    }

    /// The nested jars (dependencies) by entry name.
    pub fn libs(&self) -> impl Iterator<Item = &str> {
        self.archives.iter().skip(1).map(|a| a.key.as_str())
    }

    /// True if nested jar `key` has the same bytes here and in `other`.
    pub fn same_lib(&self, other: &Index, key: &str) -> bool {
        match (self.by_key.get(key), other.by_key.get(key)) {
            (Some(&a), Some(&b)) if !key.is_empty() => self.archives[a].bytes == other.archives[b].bytes,
            _ => false,
        }
    }

    /// The bytes of an entry, inflated.
    pub fn bytes(&mut self, (a, e): Loc) -> Result<Vec<u8>, ArchiveError> {
        let path = self.path.clone();
        let mut entry = self.archives[a].zip.by_index(e).map_err(|x| bad(&path, x.to_string()))?;
        let mut out = Vec::with_capacity(entry.size().min(MAX_NESTED_JAR_BYTES) as usize);
        (&mut entry).take(MAX_NESTED_JAR_BYTES + 1).read_to_end(&mut out).map_err(|x| bad(&path, x.to_string()))?;
        Ok(out)
    }

    /// The SHA-256 (hex) of an entry's inflated bytes.
    pub fn sha(&mut self, loc: Loc) -> Result<String, ArchiveError> {
        Ok(sha_hex(&self.bytes(loc)?))
    }

    /// (CRC-32, size, raw compressed bytes) of an entry: equal raw bytes mean equal content
    /// without inflating.
    fn raw(&mut self, (a, e): Loc) -> Result<(u32, u64, Vec<u8>), ArchiveError> {
        let path = self.path.clone();
        let mut entry = self.archives[a].zip.by_index_raw(e).map_err(|x| bad(&path, x.to_string()))?;
        let (crc, size) = (entry.crc32(), entry.size());
        let mut out = Vec::new();
        (&mut entry).take(MAX_NESTED_JAR_BYTES + 1).read_to_end(&mut out).map_err(|x| bad(&path, x.to_string()))?;
        Ok((crc, size, out))
    }

    /// A class entry parsed, for a diff or a definition.
    pub fn class(&mut self, loc: Loc) -> Result<ClassSource, ArchiveError> {
        let origin = self.origin(loc);
        super::parse(self.bytes(loc)?, origin)
    }

    /// `app.jar!/BOOT-INF/lib/x.jar!/a/B.class`, for messages.
    pub fn origin(&self, (a, e): Loc) -> String {
        let name = self.archives[a].names.get(e).map(String::as_str).unwrap_or("?");
        if a == 0 {
            format!("{}!/{name}", self.path.display())
        } else {
            format!("{}!/{}!/{name}", self.path.display(), self.archives[a].key)
        }
    }

    /// The key of the archive an entry is in (`""` for the outer jar).
    pub fn unit_of(&self, (a, _): Loc) -> &str {
        &self.archives[a].key
    }

    /// A snapshot holding the bytes of just these classes (what a redefinition sends).
    pub fn snapshot_of<'a>(
        &mut self,
        names: impl IntoIterator<Item = &'a str>,
        feature: u32,
        digest: &str,
    ) -> Result<Snapshot, ArchiveError> {
        let mut snap = Snapshot { keep_bytes: true, ..Snapshot::default() };
        for name in names {
            if let Some(loc) = self.effective(name, feature) {
                let bytes = self.bytes(loc)?;
                let origin = self.origin(loc);
                snap.add_class(name.to_string(), bytes, || origin);
            }
        }
        snap.digest = digest.to_string();
        Ok(snap)
    }
}

/// Compares entries of two builds, remembering which nested jars are identical.
pub struct Pair<'a> {
    pub old: &'a mut Index,
    pub new: &'a mut Index,
    same: HashMap<String, bool>,
}

impl<'a> Pair<'a> {
    pub fn new(old: &'a mut Index, new: &'a mut Index) -> Pair<'a> {
        Pair { old, new, same: HashMap::new() }
    }

    fn same_unit(&mut self, key: &str) -> bool {
        if let Some(&s) = self.same.get(key) {
            return s;
        }
        let s = self.new.same_lib(self.old, key);
        self.same.insert(key.to_string(), s);
        s
    }

    /// Whether old entry `o` and new entry `n` hold the same bytes: the same nested jar with
    /// identical bytes, else equal raw (compressed) bytes, else equal inflated bytes.
    pub fn equal(&mut self, o: Loc, n: Loc) -> Result<bool, ArchiveError> {
        let (ko, kn) = (self.old.unit_of(o).to_string(), self.new.unit_of(n).to_string());
        if !ko.is_empty() && ko == kn && o.1 == n.1 && self.same_unit(&ko) {
            return Ok(true);
        }
        let (co, so, ro) = self.old.raw(o)?;
        let (cn, sn, rn) = self.new.raw(n)?;
        if co != cn || so != sn {
            return Ok(false);
        }
        if ro == rn {
            return Ok(true);
        }
        Ok(self.old.bytes(o)? == self.new.bytes(n)?)
    }

    /// Whether the nested jar `key` differs (or exists in one build only).
    pub fn lib_changed(&mut self, key: &str) -> bool {
        !self.same_unit(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn jar(entries: &[(&str, &[u8])], stored: bool) -> Vec<u8> {
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let method = if stored { zip::CompressionMethod::Stored } else { zip::CompressionMethod::Deflated };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        for (name, bytes) in entries {
            w.start_file(*name, opts).expect("start");
            w.write_all(bytes).expect("write");
        }
        w.finish().expect("finish").into_inner()
    }

    #[test]
    fn nested_jars_compare_whole_and_entries_by_bytes() {
        let lib = jar(&[("x/Lib.class", b"lib-bytes"), ("x/package-info.class", b"pi")], false);
        let lib2 = jar(&[("x/Lib.class", b"lib-bytes-2")], false);
        let old = jar(
            &[
                ("BOOT-INF/classes/a/A.class", b"one"),
                ("BOOT-INF/classes/app.properties", b"k=v"),
                ("BOOT-INF/lib/l.jar", &lib),
                ("BOOT-INF/lib/m.jar", &lib),
            ],
            true,
        );
        let new = jar(
            &[
                ("BOOT-INF/classes/a/A.class", b"two"),
                ("BOOT-INF/classes/app.properties", b"k=v"),
                ("BOOT-INF/lib/l.jar", &lib),
                ("BOOT-INF/lib/m.jar", &lib2),
            ],
            true,
        );
        let mut o = Index::read(Path::new("old.jar"), old).expect("old");
        let mut n = Index::read(Path::new("new.jar"), new).expect("new");
        assert!(n.classes.contains_key("x.package-info"), "package-info is a class like any other");
        assert_eq!(n.resources.keys().collect::<Vec<_>>(), vec!["app.properties"]);
        assert_eq!(o.in_unit("BOOT-INF/lib/l.jar", "x.Lib", 17), Some((1, 0)));
        assert_eq!(o.in_unit("BOOT-INF/classes/", "a.A", 17).map(|l| l.0), Some(0));
        let a_old = o.classes["a.A"];
        let a_new = n.classes["a.A"];
        let lib_old = o.in_unit("BOOT-INF/lib/l.jar", "x.Lib", 17).expect("lib");
        let lib_new = n.in_unit("BOOT-INF/lib/l.jar", "x.Lib", 17).expect("lib");
        let m_new = n.in_unit("BOOT-INF/lib/m.jar", "x.Lib", 17).expect("m");
        let m_old = o.in_unit("BOOT-INF/lib/m.jar", "x.Lib", 17).expect("m");
        let props = (o.resources["app.properties"], n.resources["app.properties"]);
        let mut p = Pair::new(&mut o, &mut n);
        assert!(!p.equal(a_old, a_new).expect("cmp"));
        assert!(p.equal(lib_old, lib_new).expect("cmp"));
        assert!(!p.equal(m_old, m_new).expect("cmp"));
        assert!(p.equal(props.0, props.1).expect("cmp"));
        assert!(!p.lib_changed("BOOT-INF/lib/l.jar"));
        assert!(p.lib_changed("BOOT-INF/lib/m.jar"));
        let snap = n.snapshot_of(["a.A"], 17, "d").expect("snap");
        assert_eq!(snap.bytes["a.A"].0, b"two");
    }
}
