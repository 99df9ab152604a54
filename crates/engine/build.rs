//! Builds what the jhot binary embeds: the Java agent (`agent-java/`) into `$OUT_DIR/jhot-agent.jar`,
//! the helper JVM of `jad`/`mc` (`helper-java/`) into `$OUT_DIR/jhot-helper.jar` next to the
//! third-party jars it runs with (Vineflower, ECJ: `scripts/fetch-tools.sh`, pinned by SHA-256),
//! and the two native libraries (`native/shim`, `native/jni`) into `$OUT_DIR/*.so`.
//!
//! The jar is never committed: it is compiled here with
//! `javac --release 11` so one jar serves JDK 11 to 25, and zipped with fixed timestamps so the
//! same sources give the same bytes (and the same content-addressed file name in the target).

use std::env;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let manifest_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let agent_src = manifest_dir.join("../../agent-java/src/main/java");
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    println!("cargo:rerun-if-changed={}", agent_src.display());
    println!("cargo:rerun-if-env-changed=JAVA_HOME");
    println!("cargo:rerun-if-env-changed=JHOT_JAVAC");

    let sources = java_sources(&agent_src);
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
    }
    let classes = out_dir.join("agent-classes");
    let _ = fs::remove_dir_all(&classes);
    fs::create_dir_all(&classes).expect("create agent-classes dir");

    let javac = find_javac();
    let status = Command::new(&javac)
        // Inline string concatenation: the indy form bootstraps StringConcatFactory on first use,
        // milliseconds that would land inside the first redefinition of a fresh JVM.
        .args([
            "--release",
            "11",
            "-g:source,lines",
            "-XDstringConcat=inline",
            "-Xlint:-options",
            "-encoding",
            "UTF-8",
            "-d",
        ])
        .arg(&classes)
        .args(&sources)
        .status()
        .unwrap_or_else(|e| {
            panic!("cannot run {} to build the agent (install a JDK 11+ or set JHOT_JAVAC): {e}", javac.display())
        });
    assert!(status.success(), "javac failed to compile agent-java");

    let jar = out_dir.join("jhot-agent.jar");
    write_agent_jar(&classes, &jar);

    build_helper(&manifest_dir.join("../.."), &out_dir, &javac);

    build_native(&manifest_dir.join("../.."), &out_dir);
}

/// The shim and the JNI library are cdylibs of this workspace. Cargo cannot depend on a cdylib's
/// file (artifact dependencies are nightly-only), so a nested cargo builds them, in release (the
/// shim sits on every read and write of the server it is preloaded into), into a target directory
/// of its own under OUT_DIR so it never waits for the outer build's lock.
fn build_native(workspace: &Path, out_dir: &Path) {
    // The shim's sources include the protocol crate it shares with jhot.
    for dir in ["native/shim", "native/shim-protocol", "native/jni"] {
        println!("cargo:rerun-if-changed={}", workspace.join(dir).join("src").display());
        println!("cargo:rerun-if-changed={}", workspace.join(dir).join("Cargo.toml").display());
        for s in rust_sources(&workspace.join(dir).join("src")) {
            println!("cargo:rerun-if-changed={}", s.display());
        }
    }
    println!("cargo:rerun-if-changed={}", workspace.join("Cargo.lock").display());
    let libs = ["libjhot_shim.so", "libjhot_jni.so"];
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = out_dir.join("native-target");
    let status = Command::new(cargo)
        .current_dir(workspace)
        .args(["build", "--release", "-p", "jhot-shim", "-p", "jhot-jni", "--target-dir"])
        .arg(&target_dir)
        // The outer build's flags (a sanitizer, a coverage tool) are not meant for these libraries.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("CARGO_BUILD_TARGET")
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build native/shim and native/jni: {e}"));
    assert!(status.success(), "building native/shim and native/jni failed");
    for l in libs {
        fs::copy(target_dir.join("release").join(l), out_dir.join(l)).unwrap_or_else(|e| panic!("copy {l}: {e}"));
    }
}

fn rust_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return out };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(rust_sources(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

fn find_javac() -> PathBuf {
    if let Ok(p) = env::var("JHOT_JAVAC") {
        return PathBuf::from(p);
    }
    if let Ok(home) = env::var("JAVA_HOME") {
        let p = Path::new(&home).join("bin/javac");
        if p.exists() {
            return p;
        }
    }
    PathBuf::from("javac")
}

fn java_sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display()));
        for e in entries {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "java") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn files_under(dir: &Path, base: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = fs::read_dir(dir).expect("read classes").map(|e| e.expect("entry").path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, base, out);
        } else {
            let rel = p.strip_prefix(base).expect("under base").to_string_lossy().replace('\\', "/");
            out.push((rel, p));
        }
    }
}

const AGENT_MANIFEST: (&str, &str) = (
    "jhot-agent",
    "Agent-Class: dev.jhot.agent.Boot\r\n\
     Premain-Class: dev.jhot.agent.Boot\r\n\
     Can-Redefine-Classes: true\r\n\
     Can-Retransform-Classes: true\r\n",
);

/// The third-party jars the helper runs with, as `scripts/fetch-tools.sh` names them.
const TOOL_JARS: [&str; 4] =
    ["vineflower-1.12.0-slim.jar", "vineflower-1.10.1.jar", "ecj-3.46.100.jar", "ecj-3.33.0.jar"];

/// The helper JVM: compiled against the Java-11 versions of Vineflower and ECJ (their APIs used
/// here are the same in the Java-17 versions it also runs with), with the agent's frame classes
/// from its source path, so both sides of the helper's pipe share one implementation.
fn build_helper(workspace: &Path, out_dir: &Path, javac: &Path) {
    let tools = env::var_os("JHOT_TOOLS_DIR").map(PathBuf::from).unwrap_or_else(|| workspace.join(".cache/tools"));
    println!("cargo:rerun-if-env-changed=JHOT_TOOLS_DIR");
    let script = workspace.join("scripts/fetch-tools.sh");
    println!("cargo:rerun-if-changed={}", script.display());
    if TOOL_JARS.iter().any(|j| !tools.join(j).exists()) {
        let status = Command::new("sh").arg(&script).arg(&tools).status();
        if !status.is_ok_and(|s| s.success()) {
            panic!(
                "the jars of `jhot jad`/`jhot mc` (Vineflower, ECJ) are missing from {} and scripts/fetch-tools.sh \
                 could not download them from Maven Central. Run `scripts/fetch-tools.sh` where there is network \
                 (or copy the four jars it names into that directory, or point JHOT_TOOLS_DIR at one that has them) \
                 and build again",
                tools.display()
            );
        }
    }
    for j in TOOL_JARS {
        println!("cargo:rerun-if-changed={}", tools.join(j).display());
        fs::copy(tools.join(j), out_dir.join(j)).unwrap_or_else(|e| panic!("copy {j}: {e}"));
    }
    let src = workspace.join("helper-java/src/main/java");
    println!("cargo:rerun-if-changed={}", src.display());
    let sources = java_sources(&src);
    for s in &sources {
        println!("cargo:rerun-if-changed={}", s.display());
    }
    let classes = out_dir.join("helper-classes");
    let _ = fs::remove_dir_all(&classes);
    fs::create_dir_all(&classes).expect("create helper-classes dir");
    let cp = format!("{}:{}", tools.join("vineflower-1.10.1.jar").display(), tools.join("ecj-3.33.0.jar").display());
    let status = Command::new(javac)
        .args(["--release", "11", "-g:source,lines", "-Xlint:-options", "-encoding", "UTF-8", "-cp"])
        .arg(&cp)
        .arg("-sourcepath")
        .arg(workspace.join("agent-java/src/main/java"))
        .arg("-d")
        .arg(&classes)
        .args(&sources)
        .status()
        .unwrap_or_else(|e| panic!("cannot run {} to build the helper: {e}", javac.display()));
    assert!(status.success(), "javac failed to compile helper-java");
    write_jar(&classes, &out_dir.join("jhot-helper.jar"), ("jhot-helper", ""));
}

/// The agent jar: `dev.jhot.agent.Boot` (and its nested classes) as class entries, every other
/// class in one entry, `dev/jhot/agent/classes.bin`, that Boot defines in a loader of its own (see
/// Boot.java for why and for the layout: per class, u2 name length, binary name, u4 length, bytes).
fn write_agent_jar(classes: &Path, jar: &Path) {
    let mut files = Vec::new();
    files_under(classes, classes, &mut files);
    let (boot, rest): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|(name, _)| name == "dev/jhot/agent/Boot.class" || name.starts_with("dev/jhot/agent/Boot$"));
    assert!(!boot.is_empty(), "agent-java has no dev.jhot.agent.Boot");
    let mut blob = Vec::new();
    for (name, path) in rest {
        let binary =
            name.strip_suffix(".class").unwrap_or_else(|| panic!("not a class file: {name}")).replace('/', ".");
        let bytes = fs::read(&path).expect("read class");
        blob.extend_from_slice(&u16::try_from(binary.len()).expect("class name length").to_be_bytes());
        blob.extend_from_slice(binary.as_bytes());
        blob.extend_from_slice(&u32::try_from(bytes.len()).expect("class length").to_be_bytes());
        blob.extend_from_slice(&bytes);
    }
    let mut entries: Vec<(String, Vec<u8>)> =
        boot.into_iter().map(|(name, path)| (name, fs::read(&path).expect("read class"))).collect();
    entries.push(("dev/jhot/agent/classes.bin".to_string(), blob));
    write_jar_entries(jar, AGENT_MANIFEST, entries);
}

fn write_jar(classes: &Path, jar: &Path, manifest: (&str, &str)) {
    let mut files = Vec::new();
    files_under(classes, classes, &mut files);
    let entries = files.into_iter().map(|(name, path)| (name, fs::read(&path).expect("read class"))).collect();
    write_jar_entries(jar, manifest, entries);
}

/// `(title, attributes)`: the manifest's title and its lines after the version.
fn write_jar_entries(jar: &Path, (title, attributes): (&str, &str), entries: Vec<(String, Vec<u8>)>) {
    use zip::write::SimpleFileOptions;
    let version = env::var("CARGO_PKG_VERSION").expect("cargo sets CARGO_PKG_VERSION");
    let manifest = format!(
        "Manifest-Version: 1.0\r\nImplementation-Title: {title}\r\nImplementation-Version: {version}\r\n{attributes}\r\n"
    );
    let file = fs::File::create(jar).expect("create jar");
    let mut zip = zip::ZipWriter::new(file);
    // A fixed timestamp keeps the jar reproducible.
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    zip.add_directory("META-INF/", opts).expect("zip dir");
    zip.start_file("META-INF/MANIFEST.MF", opts).expect("zip manifest");
    zip.write_all(manifest.as_bytes()).expect("write manifest");
    for (name, bytes) in entries {
        zip.start_file(name, opts).expect("zip entry");
        zip.write_all(&bytes).expect("write entry");
    }
    zip.finish().expect("finish jar");
}
