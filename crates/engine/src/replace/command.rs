//! The command a replacement runs: by default the old process's own command line (from /proc), with
//! its jar or class path swapped for the new build, in the same directory, environment and user.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use jhot_attach::procfs;
use serde::Serialize;

use super::TakeoverError;

/// What the old process was started with.
#[derive(Debug, Clone)]
pub struct ProcessImage {
    pub pid: u32,
    pub argv: Vec<OsString>,
    pub env: Vec<OsString>,
    pub cwd: PathBuf,
    pub exe: PathBuf,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
}

impl ProcessImage {
    pub fn read(pid: u32) -> Result<ProcessImage, TakeoverError> {
        let io = |what: &str, e: std::io::Error| TakeoverError::Inspect { pid, what: what.to_string(), source: e };
        let argv = procfs::read_argv(pid).map_err(|e| io("its command line", e))?;
        if argv.is_empty() {
            return Err(TakeoverError::Inspect {
                pid,
                what: "its command line".into(),
                source: std::io::Error::other("empty (a kernel thread or a zombie)"),
            });
        }
        let env = procfs::read_environ(pid).map_err(|e| io("its environment", e))?;
        let cwd = procfs::read_cwd(pid).map_err(|e| io("its working directory", e))?;
        let exe = procfs::read_exe(pid).map_err(|e| io("its executable", e))?;
        // Real ids: the replacement runs as the user the old process runs as.
        let status = procfs::read_status(pid).map_err(|e| io("its status", e))?;
        Ok(ProcessImage { pid, argv, env, cwd, exe, uid: status.uid, gid: status.gid, groups: status.groups })
    }
}

/// How the user asked the new command to differ from the old one.
#[derive(Debug, Clone, Default)]
pub enum NewBuild {
    /// Run the old command line again (e.g. the jar was rebuilt in place).
    #[default]
    Same,
    /// Swap the jar: `-jar X`, or the class-path entry that is the same artifact.
    Jar(PathBuf),
    /// Swap the whole class path.
    Classpath(OsString),
    /// An explicit command.
    Command(Vec<OsString>),
}

#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub argv: Vec<String>,
    /// What was changed in the old command line, for the report.
    pub change: String,
}

/// The new argv.
pub fn plan(old: &[OsString], build: &NewBuild) -> Result<(Vec<OsString>, String), TakeoverError> {
    match build {
        NewBuild::Same => Ok((old.to_vec(), "the old command line, unchanged".into())),
        NewBuild::Command(c) => {
            if c.is_empty() {
                return Err(TakeoverError::Usage("the command after -- is empty".into()));
            }
            Ok((c.clone(), "the command given after --".into()))
        }
        NewBuild::Jar(jar) => replace_jar(old, jar),
        NewBuild::Classpath(cp) => replace_classpath(old, cp),
    }
}

/// Index of the first argument that is the main class or `-jar` (the launcher stops reading its own
/// options there; everything after belongs to the application).
fn launcher_options_end(argv: &[OsString]) -> usize {
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].as_bytes();
        if a == b"-jar" || !a.starts_with(b"-") {
            return i;
        }
        // Launcher options that take their value as the next argument.
        if matches!(
            a,
            b"-cp"
                | b"-classpath"
                | b"--class-path"
                | b"-p"
                | b"--module-path"
                | b"--add-modules"
                | b"--add-opens"
                | b"--add-exports"
                | b"--add-reads"
                | b"--patch-module"
                | b"--limit-modules"
                | b"--upgrade-module-path"
                | b"--enable-native-access"
                | b"-m"
                | b"--module"
        ) {
            if matches!(a, b"-m" | b"--module") {
                return i;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    argv.len()
}

fn replace_jar(old: &[OsString], jar: &Path) -> Result<(Vec<OsString>, String), TakeoverError> {
    let end = launcher_options_end(old);
    let mut argv = old.to_vec();
    if end + 1 < argv.len() && argv[end].as_bytes() == b"-jar" {
        let was = argv[end + 1].to_string_lossy().into_owned();
        argv[end + 1] = jar.as_os_str().to_owned();
        return Ok((argv, format!("-jar {was} → {}", jar.display())));
    }
    // A class-path application: swap the entry that is the same artifact (same name up to the
    // version), so `app-1.4.jar` is replaced by `app-1.5.jar` and the libraries stay.
    let Some((cp_index, cp)) = classpath_arg(&argv[..end.min(argv.len())]) else {
        return Err(TakeoverError::Usage(format!(
            "the old command line has neither -jar nor a class path ({}); pass the new command after --",
            show(old)
        )));
    };
    let new_stem = artifact_stem(jar);
    let entries: Vec<&[u8]> = cp.as_bytes().split(|b| *b == b':').collect();
    let matching: Vec<usize> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| artifact_stem(Path::new(std::ffi::OsStr::from_bytes(e))) == new_stem)
        .map(|(i, _)| i)
        .collect();
    if matching.len() != 1 {
        return Err(TakeoverError::Usage(format!(
            "cannot tell which class-path entry {} replaces ({} entries named like it in {}); pass --classpath or the new command after --",
            jar.display(),
            matching.len(),
            cp.to_string_lossy()
        )));
    }
    let was = String::from_utf8_lossy(entries[matching[0]]).into_owned();
    let mut parts: Vec<Vec<u8>> = entries.iter().map(|e| e.to_vec()).collect();
    parts[matching[0]] = jar.as_os_str().as_bytes().to_vec();
    let joined = OsString::from_vec(parts.join(&b':'));
    set_classpath(&mut argv, cp_index, joined);
    Ok((argv, format!("class-path entry {was} → {}", jar.display())))
}

fn replace_classpath(old: &[OsString], cp: &OsString) -> Result<(Vec<OsString>, String), TakeoverError> {
    let end = launcher_options_end(old);
    let mut argv = old.to_vec();
    match classpath_arg(&argv[..end.min(argv.len())]) {
        Some((i, was)) => {
            let msg = format!("class path {} → {}", was.to_string_lossy(), cp.to_string_lossy());
            set_classpath(&mut argv, i, cp.clone());
            Ok((argv, msg))
        }
        None => Err(TakeoverError::Usage(format!(
            "the old command line has no -cp/-classpath/--class-path option ({}); pass the new command after --",
            show(old)
        ))),
    }
}

/// (index of the option, its value). Handles `-cp X`, `--class-path X` and `--class-path=X`.
fn classpath_arg(args: &[OsString]) -> Option<(usize, OsString)> {
    let mut found = None;
    let mut i = 1;
    while i < args.len() {
        let a = args[i].as_bytes();
        if matches!(a, b"-cp" | b"-classpath" | b"--class-path") && i + 1 < args.len() {
            found = Some((i, args[i + 1].clone()));
            i += 2;
            continue;
        }
        if let Some(v) = a.strip_prefix(b"--class-path=") {
            found = Some((i, OsString::from_vec(v.to_vec())));
        }
        i += 1;
    }
    found
}

fn set_classpath(argv: &mut [OsString], i: usize, value: OsString) {
    if argv[i].as_bytes().starts_with(b"--class-path=") {
        let mut v = b"--class-path=".to_vec();
        v.extend_from_slice(value.as_bytes());
        argv[i] = OsString::from_vec(v);
    } else {
        argv[i + 1] = value;
    }
}

/// `lib/app-1.4.2-SNAPSHOT.jar` → `app`: the file name without extension and without a trailing
/// version (the first `-` followed by a digit starts it).
pub fn artifact_stem(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let base = name.strip_suffix(".jar").unwrap_or(&name);
    let bytes = base.as_bytes();
    for (i, w) in bytes.windows(2).enumerate() {
        if w[0] == b'-' && w[1].is_ascii_digit() {
            return base[..i].to_string();
        }
    }
    base.to_string()
}

pub fn show(argv: &[OsString]) -> String {
    argv.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ")
}

/// Environment variables a replacement must not inherit from the old process: the socket-passing
/// protocol is per spawn, and the shim is added again by jhot.
pub fn scrub_env(env: &[OsString]) -> Vec<OsString> {
    env.iter()
        .filter(|kv| {
            let k = kv.as_bytes().split(|b| *b == b'=').next().unwrap_or_default();
            // JHOT_SUPERVISOR: set by older versions of `jhot run` and never read; it stops here.
            !matches!(k, b"LISTEN_PID" | b"LISTEN_FDS" | b"LISTEN_FDNAMES" | b"NOTIFY_SOCKET" | b"JHOT_SUPERVISOR")
                && !k.starts_with(b"JHOT_SHIM_")
        })
        .map(|kv| {
            // Take a previous generation's shim out of LD_PRELOAD; jhot puts the current one first.
            if let Some(v) = kv.as_bytes().strip_prefix(b"LD_PRELOAD=") {
                let kept: Vec<&[u8]> = v
                    .split(|b| *b == b':' || *b == b' ')
                    .filter(|e| !e.is_empty() && !e.ends_with(b"libjhot_shim.so") && !is_jhot_shim_name(e))
                    .collect();
                let mut out = b"LD_PRELOAD=".to_vec();
                out.extend_from_slice(&kept.join(&b':'));
                return OsString::from_vec(out);
            }
            kv.clone()
        })
        .filter(|kv| kv.as_bytes() != b"LD_PRELOAD=")
        .collect()
}

fn is_jhot_shim_name(path: &[u8]) -> bool {
    let name = path.rsplit(|b| *b == b'/').next().unwrap_or_default();
    name.starts_with(b"libjhot_shim") && name.ends_with(b".so")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn jar_is_swapped_after_launcher_options() {
        let old = v(&["java", "-Xmx1g", "-cp", "ignored", "-jar", "app-v1.jar", "--port=8080", "-jar", "x"]);
        let (new, what) = plan(&old, &NewBuild::Jar("/b/app-v2.jar".into())).expect("plan");
        assert_eq!(new, v(&["java", "-Xmx1g", "-cp", "ignored", "-jar", "/b/app-v2.jar", "--port=8080", "-jar", "x"]));
        assert!(what.contains("app-v1.jar"), "{what}");
    }

    #[test]
    fn classpath_entry_of_the_same_artifact_is_swapped() {
        let old = v(&["java", "-cp", "lib/guava-33.0.jar:build/app-1.4.jar:lib/x.jar", "com.acme.Main", "-cp", "arg"]);
        let (new, _) = plan(&old, &NewBuild::Jar("/b/app-1.5.jar".into())).expect("plan");
        assert_eq!(new[2], OsString::from("lib/guava-33.0.jar:/b/app-1.5.jar:lib/x.jar"));
        assert_eq!(new[5], OsString::from("arg"), "application arguments are not touched");
        let ambiguous = v(&["java", "-cp", "a/app-1.jar:b/app-2.jar", "Main"]);
        assert!(plan(&ambiguous, &NewBuild::Jar("app-3.jar".into())).is_err());
        let none = v(&["java", "-cp", "a/lib.jar", "Main"]);
        assert!(plan(&none, &NewBuild::Jar("app-3.jar".into())).is_err());
    }

    #[test]
    fn class_path_forms() {
        let old = v(&["java", "--class-path=a:b", "Main"]);
        let (new, _) = plan(&old, &NewBuild::Classpath("c:d".into())).expect("plan");
        assert_eq!(new[1], OsString::from("--class-path=c:d"));
        let old = v(&["java", "-classpath", "a", "Main"]);
        let (new, _) = plan(&old, &NewBuild::Classpath("z".into())).expect("plan");
        assert_eq!(new, v(&["java", "-classpath", "z", "Main"]));
        assert!(plan(&v(&["java", "-jar", "a.jar"]), &NewBuild::Classpath("z".into())).is_err());
    }

    #[test]
    fn stems() {
        assert_eq!(artifact_stem(Path::new("lib/app-1.4.2-SNAPSHOT.jar")), "app");
        assert_eq!(artifact_stem(Path::new("spring-boot-v1.jar")), "spring-boot-v1");
        assert_eq!(artifact_stem(Path::new("x/netty-epoll-4.2.jar")), "netty-epoll");
        assert_eq!(artifact_stem(Path::new("classes")), "classes");
    }

    #[test]
    fn env_scrubbing() {
        let env = v(&[
            "A=1",
            "LISTEN_FDS=2",
            "LD_PRELOAD=/tmp/.jhot-0/libjhot_shim-ab12.so:/usr/lib/libx.so",
            "JHOT_SHIM_DEBUG=1",
            "LD_PRELOAD_X=1",
        ]);
        assert_eq!(scrub_env(&env), v(&["A=1", "LD_PRELOAD=/usr/lib/libx.so", "LD_PRELOAD_X=1"]));
        assert_eq!(scrub_env(&v(&["LD_PRELOAD=/a/libjhot_shim.so"])), Vec::<OsString>::new());
        assert_eq!(scrub_env(&v(&["JHOT_SUPERVISOR=/tmp/.jhot-0/run-1.sock", "B=2"])), v(&["B=2"]));
    }

    #[test]
    fn reads_own_image() {
        let me = ProcessImage::read(std::process::id()).expect("read");
        assert!(!me.argv.is_empty());
        assert_eq!(me.cwd, std::env::current_dir().expect("cwd"));
        assert_eq!(me.uid, rustix::process::getuid().as_raw());
    }
}
