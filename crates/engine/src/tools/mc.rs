//! Compiling Java sources against exactly what one class loader of a JVM sees, in the helper:
//! javac when the target's java has it and the running class was built by javac, else ECJ (which
//! runs on a JRE). `--release` defaults to the running class's class-file version, so the result
//! can redefine it.

use std::time::Duration;

use serde::Serialize;

use super::{AgentClassPath, ClassPath, Compiler, Tools, ToolsError, detect_compiler};
use crate::agent::protocol::Loader;
use crate::changes;
use crate::error::Error;
use jhot_attach::{AttachOptions, Target};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Diagnostic {
    pub file: Option<String>,
    pub line: u64,
    pub column: u64,
    /// `error` or `warning`.
    pub severity: String,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.as_deref().unwrap_or("<unknown>");
        let kind = if self.severity == "warning" { "warning: " } else { "" };
        write!(f, "{file}:{}:{}: {kind}{}", self.line, self.column, self.message)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Compiled {
    pub pid: u32,
    pub loader: Loader,
    pub compiler: Compiler,
    pub release: u32,
    /// Why this compiler: `javac-built original`, `ecj-built original`, `no javac in the target's java`.
    pub compiler_reason: String,
    /// Binary names of the class files produced, in the compiler's order.
    pub classes: Vec<String>,
    /// Warnings (errors fail the compile).
    pub diagnostics: Vec<Diagnostic>,
    /// The helper JVM that compiled it.
    pub helper: super::HelperInfo,
    #[serde(skip)]
    pub bytes: Vec<(String, Vec<u8>)>,
}

/// The binary name a source declares as its main class: its package and file name.
pub fn main_class(path: &str, source: &[u8]) -> String {
    let text = String::from_utf8_lossy(source);
    let stem = std::path::Path::new(path).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    match package_of(&text) {
        Some(p) if !p.is_empty() => format!("{p}.{stem}"),
        _ => stem,
    }
}

/// The `package` declaration, after comments are skipped.
pub fn package_of(text: &str) -> Option<String> {
    let mut rest = text;
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.split_once('\n').map(|x| x.1).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix("/*") {
            rest = r.split_once("*/").map(|x| x.1).unwrap_or("");
        } else if let Some(r) = rest.strip_prefix('@') {
            // A package annotation (package-info.java): skip its name.
            rest = r.trim_start_matches(|c: char| c.is_alphanumeric() || c == '.' || c == '_');
        } else {
            break;
        }
    }
    let r = rest.strip_prefix("package")?;
    if !r.starts_with(char::is_whitespace) {
        return None;
    }
    let (name, _) = r.split_once(';')?;
    Some(name.chars().filter(|c| !c.is_whitespace()).collect())
}

/// What a compile is against: the loader, the release and the compiler, from the running class of
/// the first source's main class (or `loader` when it is not loaded).
pub struct Plan {
    pub loader: Loader,
    pub release: u32,
    pub compiler: Compiler,
    pub reason: String,
    /// Compiled by the helper on this machine's JDK, not the target's.
    pub on_host: bool,
}

/// Compiles `sources` (path as shown, contents) against the loader that defined the running class
/// of the first source's name (or `loader`). `release` defaults to that class's class-file
/// version. Compiler errors are [`ToolsError::Compile`] (exit 6).
pub async fn compile(
    tools: &mut Tools,
    target: &Target,
    attach_opts: &AttachOptions,
    timeout: Duration,
    sources: &[(String, Vec<u8>)],
    loader: Option<&str>,
    release: Option<u32>,
) -> Result<Compiled, Error> {
    let Some((first_path, first)) = sources.first() else {
        return Err(Error::Input("name at least one .java file".into()));
    };
    let class = main_class(first_path, first);
    let running =
        changes::running(target, vec![class.clone()], loader.map(str::to_string), attach_opts, timeout).await?;
    tools.set_feature(running.vm.feature);
    let copies: Vec<_> = running.classes.iter().filter(|(n, _, _)| *n == class).collect();
    let info = tools.info().await?;
    let plan = match (copies.as_slice(), loader) {
        ([], None) => {
            return Err(ToolsError::Input(format!(
                "{class} is not loaded in JVM {}: name the class loader to compile against with --loader (`jhot sc` \
                 shows loaders)",
                target.pid
            ))
            .into());
        }
        ([], Some(l)) => Plan {
            loader: Loader { id: l.to_string(), name: l.to_string() },
            release: release.unwrap_or(running.vm.feature),
            compiler: if info.javac { Compiler::Javac } else { Compiler::Ecj },
            reason: if info.javac {
                "no running original; javac".into()
            } else {
                "no javac in the target's java".into()
            },
            on_host: false,
        },
        ([(_, l, bytes)], _) => {
            let major = jhot_classfile::read(bytes).map(|i| i.major_version).unwrap_or(0);
            let built = detect_compiler([bytes.as_slice()]);
            let release = release.unwrap_or_else(|| u32::from(major).saturating_sub(44).max(8));
            let (compiler, reason, on_host) = match (built, info.javac) {
                (Compiler::Javac, true) => (Compiler::Javac, "javac-built original".to_string(), false),
                (Compiler::Ecj, _) => (Compiler::Ecj, "ecj-built original".to_string(), false),
                (Compiler::Javac, false) => match tools.host_jdk(release) {
                    Some(jdk) => (
                        Compiler::Javac,
                        format!(
                            "javac-built original; the target's java has no javac, so javac of this machine's JDK {} \
                             (--release {release})",
                            jdk.home.display()
                        ),
                        true,
                    ),
                    None => (Compiler::Ecj, "no javac in the target's java nor on this machine".to_string(), false),
                },
            };
            Plan {
                loader: l.clone().unwrap_or_else(|| Loader { id: "bootstrap".into(), name: "bootstrap".into() }),
                release,
                compiler,
                reason,
                on_host,
            }
        }
        (many, _) => {
            let loaders = many.iter().map(|(_, l, _)| super::jad::show_loader(l.as_ref())).collect();
            return Err(ToolsError::SeveralLoaders { pid: target.pid, class, loaders }.into());
        }
    };
    let mut cp = AgentClassPath { target, attach_opts, timeout, loader: plan.loader.id.clone() };
    let out = compile_with(tools, &mut cp, sources, plan.release, plan.compiler, plan.on_host).await?;
    Ok(Compiled {
        pid: target.pid,
        loader: plan.loader,
        compiler: plan.compiler,
        release: plan.release,
        compiler_reason: plan.reason,
        classes: out.0.iter().map(|(n, _)| n.clone()).collect(),
        diagnostics: out.1,
        helper: info,
        bytes: out.0,
    })
}

/// Compiles `sources` against any class path (the engine of [`compile`], and of `edit`); errors
/// are [`ToolsError::Compile`]. Returns the class files and the warnings.
pub async fn compile_with<C: ClassPath>(
    tools: &mut Tools,
    cp: &mut C,
    sources: &[(String, Vec<u8>)],
    release: u32,
    compiler: Compiler,
    on_host: bool,
) -> Result<(Vec<(String, Vec<u8>)>, Vec<Diagnostic>), ToolsError> {
    let header = serde_json::json!({
        "op": "compile",
        "compiler": compiler.as_str(),
        "release": release,
        "sources": sources.iter().enumerate().map(|(i, (p, _))| serde_json::json!({ "path": p, "blob": i })).collect::<Vec<_>>(),
    });
    let (answer, mut blobs) = tools.call(header, sources.iter().map(|(_, b)| b.clone()).collect(), cp, on_host).await?;
    let diagnostics: Vec<Diagnostic> = answer
        .get("diagnostics")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|e| ToolsError::Protocol(format!("diagnostics: {e}")))?
        .unwrap_or_default();
    if answer.get("success").and_then(|s| s.as_bool()) != Some(true) {
        return Err(ToolsError::Compile { compiler, diagnostics });
    }
    let mut classes = Vec::new();
    for c in answer.get("classes").and_then(|c| c.as_array()).into_iter().flatten() {
        let name = c.get("name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
        let i = c.get("blob").and_then(|b| b.as_u64()).unwrap_or(u64::MAX) as usize;
        let bytes =
            blobs.get_mut(i).map(std::mem::take).ok_or_else(|| ToolsError::Protocol(format!("no blob for {name}")))?;
        classes.push((name, bytes));
    }
    Ok((classes, diagnostics.into_iter().filter(|d| d.severity != "error").collect()))
}

/// The helper runs as the target's user, who may control its JDK: what it returns is checked
/// before jhot (root) writes it under a path made from its name. The bytes must define the class
/// they are named for, and the name must be a plain binary name (no path tricks).
pub fn check_class(name: &str, bytes: &[u8]) -> Result<(), ToolsError> {
    let plain = !name.is_empty()
        && name.split('.').all(|seg| {
            !seg.is_empty() && seg != ".." && !seg.chars().any(|c| matches!(c, '/' | '\\' | '\0') || c.is_control())
        });
    if !plain {
        return Err(ToolsError::Protocol(format!("the helper returned a class named {name:?}")));
    }
    match jhot_classfile::class_name(bytes) {
        Ok(defined) if defined == name => Ok(()),
        Ok(defined) => Err(ToolsError::Protocol(format!("the helper's class file for {name} defines {defined}"))),
        Err(e) => Err(ToolsError::Protocol(format!("the helper's class file for {name}: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_from_the_helper_cannot_leave_the_output_directory() {
        for bad in ["", "a..b", "../../etc/x", "a/b", "a.b\\c", "a.\u{1b}x"] {
            assert!(check_class(bad, b"").is_err(), "{bad:?}");
        }
        assert!(check_class("a.B", b"not a class").is_err());
    }

    #[test]
    fn the_main_class_is_the_package_and_file_name() {
        let src = b"/* licence; package not.this; */\n// package nor.this;\npackage com.acme ;\nclass X {}";
        assert_eq!(main_class("src/Greeter.java", src), "com.acme.Greeter");
        assert_eq!(main_class("Top.java", b"class Top {}"), "Top");
        assert_eq!(package_of("@Deprecated\npackage a.b;"), Some("a.b".into()));
        assert_eq!(package_of("packagex a;"), None);
    }

    #[test]
    fn diagnostics_read_like_a_compiler() {
        let d = Diagnostic {
            file: Some("Greeter.java".into()),
            line: 3,
            column: 9,
            severity: "error".into(),
            message: "cannot find symbol".into(),
        };
        assert_eq!(d.to_string(), "Greeter.java:3:9: cannot find symbol");
        let e = ToolsError::Compile { compiler: Compiler::Ecj, diagnostics: vec![d] };
        assert_eq!(e.to_string(), "Greeter.java:3:9: cannot find symbol\n1 error; nothing was written");
        assert_eq!(e.exit_code(), crate::ExitCode::Input);
    }
}
