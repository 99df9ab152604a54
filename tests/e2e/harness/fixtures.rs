//! Compiled fixtures: the hello-http sample, its patches, the two small test agents, and other
//! trees compiled with [`javac`] (the redefinition corpus).
//!
//! Fixtures are compiled once per test process, with `javac --release 11`, into
//! `<target>/e2e-fixtures/<hash of samples/>/` (`<target>` = the directory cargo builds into).
//! Every item is built in a private temporary directory and renamed into place, so test threads
//! and separate test processes (nextest) never see a half-written fixture, and a later run with
//! unchanged `samples/` reuses them. The tree is world-readable, because
//! [`App::start_as`](super::App::start_as) runs the JVM as another user.

use std::collections::HashMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use super::{samples_dir, target_dir, try_jdks};

/// The patches in `samples/hello-http/patches/`.
pub const PATCHES: &[&str] = &["body", "hot", "lazy", "lambda", "structural"];
/// The agents in `samples/` that [`agent_jar`] builds.
pub const AGENTS: &[&str] = &["retransformer-agent", "minimal-agent"];

/// The `javac` the fixtures are compiled with: `$JHOT_JAVAC`, else JDK 17's, else JDK 25's (from
/// `jdks.env`), else the Debian JDK 17, else `javac` on PATH.
pub fn javac() -> PathBuf {
    static JAVAC: OnceLock<PathBuf> = OnceLock::new();
    JAVAC
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("JHOT_JAVAC").filter(|p| !p.is_empty()) {
                return PathBuf::from(p);
            }
            if let Ok(all) = try_jdks() {
                for f in [17, 25] {
                    if let Some(p) = all.iter().find(|j| j.feature == f).and_then(|j| j.tool("javac")) {
                        return p;
                    }
                }
            }
            let debian = PathBuf::from("/usr/lib/jvm/java-17-openjdk-amd64/bin/javac");
            if debian.is_file() {
                return debian;
            }
            PathBuf::from("javac")
        })
        .clone()
}

/// The `jar` tool next to [`javac`] (or on PATH).
pub fn jar_tool() -> PathBuf {
    let javac = javac();
    match javac.parent() {
        Some(dir) if dir.join("jar").is_file() => dir.join("jar"),
        _ => PathBuf::from("jar"),
    }
}

/// The `.java` files under `dir` (recursively; no symlink following), sorted.
pub fn java_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    walk(dir, &mut |p| {
        if p.extension().is_some_and(|e| e == "java") {
            out.push(p.to_path_buf());
        }
    });
    out.sort();
    out
}

/// Calls `f` on every file under `dir` (recursively; no symlink following). Panics on I/O errors.
fn walk(dir: &Path, f: &mut dyn FnMut(&Path)) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read dir {}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("read dir {}: {e}", dir.display())).path())
        .collect();
    entries.sort();
    for p in entries {
        let meta = fs::symlink_metadata(&p).unwrap_or_else(|e| panic!("stat {}: {e}", p.display()));
        if meta.is_dir() {
            walk(&p, f);
        } else {
            f(&p);
        }
    }
}

/// Compiles every `.java` file under `srcs_dir` into `out` with `javac --release <release> -g`
/// (debug info, as the samples are built by `scripts/build-samples.sh`), optionally against
/// `classpath`. Creates `out`. Panics with javac's output on failure.
pub fn compile(srcs_dir: &Path, out: &Path, release: u32, classpath: Option<&Path>) {
    let sources = java_sources(srcs_dir);
    assert!(!sources.is_empty(), "no .java file under {}", srcs_dir.display());
    fs::create_dir_all(out).unwrap_or_else(|e| panic!("create {}: {e}", out.display()));
    let javac = javac();
    let mut cmd = Command::new(&javac);
    cmd.arg("--release")
        .arg(release.to_string())
        .args(["-g", "-encoding", "UTF-8", "-Xlint:-options", "-implicit:none", "-d"])
        .arg(out);
    if let Some(cp) = classpath {
        cmd.arg("-cp").arg(cp);
    }
    cmd.args(&sources);
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run scripts/jdks.sh or set JHOT_JAVAC)", javac.display()));
    assert!(
        output.status.success(),
        "javac failed on {} ({}):\n{}{}",
        srcs_dir.display(),
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// 64-bit FNV-1a: a small stable hash for the fixture cache key (std's hasher may change between
/// Rust releases; this one does not).
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn bytes(&mut self, b: &[u8]) {
        for &x in b {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
        // length-delimit so that ("ab","c") and ("a","bc") differ
        for &x in &(b.len() as u64).to_le_bytes() {
            self.0 ^= u64::from(x);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Bumped when the way fixtures are built changes, to invalidate old caches.
const FIXTURE_FORMAT: &str = "e2e-fixtures v1";

/// `<target>/e2e-fixtures/<hash>`: the hash covers every file in `samples/`, the javac path and
/// [`FIXTURE_FORMAT`]. Created world-readable.
pub fn fixtures_dir() -> PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let samples = samples_dir();
        let mut h = Fnv::new();
        h.bytes(FIXTURE_FORMAT.as_bytes());
        h.bytes(javac().as_os_str().as_encoded_bytes());
        walk(&samples, &mut |p| {
            let rel = p.strip_prefix(&samples).expect("under samples/");
            h.bytes(rel.as_os_str().as_encoded_bytes());
            h.bytes(&fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())));
        });
        let base = target_dir().join("e2e-fixtures");
        let dir = base.join(format!("{:016x}", h.0));
        fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        for d in [&base, &dir] {
            let _ = fs::set_permissions(d, fs::Permissions::from_mode(0o755));
        }
        dir
    })
    .clone()
}

static TMP_SEQ: AtomicU64 = AtomicU64::new(0);

/// A fresh private directory next to the fixtures, for building one item before renaming it.
fn fresh_tmp(root: &Path, what: &str) -> PathBuf {
    let n = TMP_SEQ.fetch_add(1, Ordering::Relaxed);
    let p = root.join(format!(".tmp-{what}-{}-{n}", std::process::id()));
    let _ = fs::remove_dir_all(&p);
    fs::create_dir_all(&p).unwrap_or_else(|e| panic!("create {}: {e}", p.display()));
    p
}

/// Makes a tree readable (and its directories searchable) by everyone.
fn make_world_readable(path: &Path) {
    let set = |p: &Path, dir: bool| {
        let mode = if dir { 0o755 } else { 0o644 };
        fs::set_permissions(p, fs::Permissions::from_mode(mode))
            .unwrap_or_else(|e| panic!("chmod {}: {e}", p.display()));
    };
    if path.is_dir() {
        set(path, true);
        let mut dirs = vec![path.to_path_buf()];
        while let Some(d) = dirs.pop() {
            for e in fs::read_dir(&d).unwrap_or_else(|e| panic!("read dir {}: {e}", d.display())) {
                let p = e.expect("dir entry").path();
                let is_dir = fs::symlink_metadata(&p).map(|m| m.is_dir()).unwrap_or(false);
                set(&p, is_dir);
                if is_dir {
                    dirs.push(p);
                }
            }
        }
    } else {
        set(path, false);
    }
}

/// Builds `final_path` (a directory or a file) once, atomically: `build` writes into a fresh
/// temporary directory next to `final_path` and returns the path of its result there, which is
/// made world-readable and renamed to `final_path`. A fixture that exists is reused; when two
/// builders (threads or processes) race, the first rename wins. Creates `final_path`'s parent.
pub fn build_fixture_once(final_path: &Path, what: &str, build: impl FnOnce(&Path) -> PathBuf) -> PathBuf {
    if final_path.exists() {
        return final_path.to_path_buf();
    }
    let root = final_path.parent().expect("fixture has a parent");
    fs::create_dir_all(root).unwrap_or_else(|e| panic!("create {}: {e}", root.display()));
    let tmp = fresh_tmp(root, what);
    let result = build(&tmp);
    make_world_readable(&result);
    let renamed = fs::rename(&result, final_path);
    let _ = fs::remove_dir_all(&tmp);
    match renamed {
        Ok(()) => {}
        Err(_) if final_path.exists() => {} // a concurrent builder won; same inputs, same result
        Err(e) => panic!("rename {} to {}: {e}", result.display(), final_path.display()),
    }
    final_path.to_path_buf()
}

/// The compiled hello-http sample (a classpath directory with `hello/Main.class` ...).
pub fn sample_classes() -> PathBuf {
    static CLASSES: OnceLock<PathBuf> = OnceLock::new();
    CLASSES
        .get_or_init(|| {
            let dst = fixtures_dir().join("hello-http-classes");
            build_fixture_once(&dst, "hello-http", |tmp| {
                let out = tmp.join("classes");
                compile(&samples_dir().join("hello-http/src"), &out, 11, None);
                out
            })
        })
        .clone()
}

/// One class of the compiled sample, e.g. `sample_class("hello.Greeter")`.
pub fn sample_class(class: &str) -> PathBuf {
    let p = sample_classes().join(format!("{}.class", class.replace('.', "/")));
    assert!(p.is_file(), "the sample has no {}", p.display());
    p
}

/// One class of a compiled patch, e.g. `patch_class("body", "hello.Greeter")`.
pub fn patch_class(patch: &str, class: &str) -> PathBuf {
    let p = patch_classes(patch).join(format!("{}.class", class.replace('.', "/")));
    assert!(p.is_file(), "patch {patch:?} has no {}", p.display());
    p
}

/// The compiled patch `samples/hello-http/patches/<name>` (one of [`PATCHES`]), compiled against
/// [`sample_classes`]: a directory with `hello/<Class>.class` for the changed class only.
pub fn patch_classes(name: &str) -> PathBuf {
    static PATCHES_BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let src = samples_dir().join("hello-http/patches").join(name);
    assert!(src.is_dir(), "no patch {name:?}: {} does not exist (patches: {PATCHES:?})", src.display());
    let map = PATCHES_BUILT.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = map.get(name) {
        return p.clone();
    }
    let classes = sample_classes();
    let dst = fixtures_dir().join(format!("patch-{name}"));
    let built = build_fixture_once(&dst, &format!("patch-{name}"), |tmp| {
        let out = tmp.join("classes");
        compile(&src, &out, 11, Some(&classes));
        out
    });
    map.insert(name.to_string(), built.clone());
    built
}

/// The jar of one of the small agents in `samples/` ([`AGENTS`]: `"retransformer-agent"`,
/// `"minimal-agent"`), built with the `jar` tool and the agent's `MANIFEST.MF`.
pub fn agent_jar(sample: &str) -> PathBuf {
    static JARS: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let dir = samples_dir().join(sample);
    assert!(
        dir.join("MANIFEST.MF").is_file() && dir.join("src").is_dir(),
        "no agent sample {sample:?} at {} (agents: {AGENTS:?})",
        dir.display()
    );
    let map = JARS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(p) = map.get(sample) {
        return p.clone();
    }
    let dst = fixtures_dir().join(format!("{sample}.jar"));
    let built = build_fixture_once(&dst, sample, |tmp| {
        let classes = tmp.join("classes");
        compile(&dir.join("src"), &classes, 11, None);
        let jar = tmp.join(format!("{sample}.jar"));
        let tool = jar_tool();
        let output = Command::new(&tool)
            .arg("--create")
            .arg("--file")
            .arg(&jar)
            .arg("--manifest")
            .arg(dir.join("MANIFEST.MF"))
            .arg("-C")
            .arg(&classes)
            .arg(".")
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", tool.display()));
        assert!(
            output.status.success(),
            "jar failed for {sample}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        jar
    });
    map.insert(sample.to_string(), built.clone());
    built
}

/// A stable hex hash of every file under `dir` (relative paths and contents, sorted), of
/// `extra`, of the javac path and of the fixture format: the cache key of a fixture built from
/// that directory.
pub fn tree_hash(dir: &Path, extra: &[&[u8]]) -> String {
    let mut h = Fnv::new();
    h.bytes(FIXTURE_FORMAT.as_bytes());
    h.bytes(javac().as_os_str().as_encoded_bytes());
    for e in extra {
        h.bytes(e);
    }
    walk(dir, &mut |p| {
        let rel = p.strip_prefix(dir).expect("under dir");
        h.bytes(rel.as_os_str().as_encoded_bytes());
        h.bytes(&fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display())));
    });
    format!("{:016x}", h.0)
}

/// Runs [`javac`] once on `sources`: `javac --release <release> <options> -encoding UTF-8
/// -Xlint:-options -implicit:none -d <out> <sources>` (no `-g` unless `options` has it).
/// Creates `out`. Panics with javac's output on failure.
pub fn javac_run(sources: &[PathBuf], out: &Path, release: u32, options: &[String]) {
    assert!(!sources.is_empty(), "javac_run: no sources for {}", out.display());
    fs::create_dir_all(out).unwrap_or_else(|e| panic!("create {}: {e}", out.display()));
    let javac = javac();
    let mut cmd = Command::new(&javac);
    cmd.arg("--release")
        .arg(release.to_string())
        .args(options)
        .args(["-encoding", "UTF-8", "-Xlint:-options", "-implicit:none", "-d"])
        .arg(out)
        .args(sources);
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e} (run scripts/jdks.sh or set JHOT_JAVAC)", javac.display()));
    assert!(
        output.status.success(),
        "javac --release {release} {options:?} failed ({}):\n{}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
