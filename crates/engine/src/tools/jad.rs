//! Decompiling what a JVM runs: the class's running bytes (jhot's patches and other agents'
//! changes included) and those of every class nested in it, named by the `InnerClasses` and
//! `NestMembers` attributes and fetched through the defining loader whether or not they ever
//! loaded (an anonymous class whose method never ran is still part of the source).

use std::time::Duration;

use serde::Serialize;

use super::{AgentClassPath, Compiler, Tools, ToolsError, detect_compiler};
use crate::agent::protocol::Loader;
use crate::changes;
use crate::error::Error;
use jhot_attach::{AttachOptions, Target};

/// At most this many nested classes are fetched (a generated class can have thousands).
const MAX_NESTED: usize = 2000;

#[derive(Debug, Clone, Serialize)]
pub struct NestedClass {
    pub name: String,
    /// `patched` (jhot's bytes), `running` (the JVM's current bytes) or `class_file` (never
    /// loaded: the loader's class file).
    pub source: String,
}

/// A decompiled class, with what `edit` needs to compile it back.
#[derive(Debug, Clone, Serialize)]
pub struct Decompiled {
    pub pid: u32,
    pub class: String,
    pub loader: Loader,
    /// jhot's redefinition is in force for the class.
    pub patched: bool,
    /// The class and its nested classes, in the order fetched.
    pub classes: Vec<NestedClass>,
    pub source: String,
    pub decompiler: String,
    /// Class-file major version of the running class (`--release` = major - 44).
    pub major_version: u16,
    /// The compiler that built the class, from its synthetic members.
    pub compiler: Compiler,
    /// The one method shown (`name` + descriptor), when the output was limited to it.
    pub method: Option<String>,
    /// What the decompiler reported as errors (a method it could not structure), and why a
    /// method filter was not applied.
    pub problems: Vec<String>,
    /// The helper JVM that decompiled it.
    pub helper: super::HelperInfo,
    /// The bytes decompiled, by binary name: for `edit`, to compare against.
    #[serde(skip)]
    pub bytes: Vec<(String, Vec<u8>)>,
    /// The redefinition rules of the JVM they came from (its version as its agent reports it).
    #[serde(skip)]
    pub vm: jhot_classfile::verdict::Vm,
}

/// Decompiles `class` as JVM `target` runs it; with `loader`, the copy that loader defined (needed
/// when several did). `method` limits the output to that method (Vineflower 1.12, JDK 17+
/// targets; older ones show the whole class).
pub async fn decompile(
    tools: &mut Tools,
    target: &Target,
    attach_opts: &AttachOptions,
    timeout: Duration,
    class: &str,
    method: Option<&str>,
    loader: Option<&str>,
) -> Result<Decompiled, Error> {
    let running =
        changes::running(target, vec![class.to_string()], loader.map(str::to_string), attach_opts, timeout).await?;
    tools.set_feature(running.vm.feature);
    let copies: Vec<_> = running.classes.iter().filter(|(n, _, _)| n == class).collect();
    let (_, defining, _) = match copies.as_slice() {
        [] => {
            return Err(
                ToolsError::NotLoaded { pid: target.pid, class: class.into(), loader: loader.map(Into::into) }.into()
            );
        }
        [one] => *one,
        many => {
            let loaders = many.iter().map(|(_, l, _)| show_loader(l.as_ref())).collect();
            return Err(ToolsError::SeveralLoaders { pid: target.pid, class: class.into(), loaders }.into());
        }
    };
    let loader = defining.clone().unwrap_or_else(|| Loader { id: "bootstrap".into(), name: "bootstrap".into() });
    let cp = AgentClassPath { target, attach_opts, timeout, loader: loader.id.clone() };

    // The outer class again through class_files: the agent reuses what `bytes` just captured and
    // says whether jhot's patch is in force.
    let mut bytes: Vec<(String, Vec<u8>)> = Vec::new();
    let mut classes: Vec<NestedClass> = Vec::new();
    let mut wanted = vec![class.to_string()];
    let mut patched = false;
    while !wanted.is_empty() && classes.len() <= MAX_NESTED {
        let got = cp.fetch(&wanted, true).await.map_err(Error::from)?;
        let mut next = Vec::new();
        for (entry, b) in got {
            let Some(b) = b else {
                // A nested class the loader cannot find (removed from the jar?) is left out; the
                // decompiler shows what it can without it.
                tracing::debug!(class = entry.name, "nested class not found through its loader");
                continue;
            };
            let source = entry.source.unwrap_or_else(|| "class_file".into());
            if entry.name == class {
                patched = source == "patched";
            }
            for n in jhot_classfile::nested_classes(&b).unwrap_or_default() {
                // Only the classes inside this one: InnerClasses also names the outer class's own
                // entry and other classes' members it refers to.
                if n.starts_with(&format!("{class}$"))
                    && !bytes.iter().any(|(k, _)| *k == n)
                    && !next.contains(&n)
                    && n != entry.name
                {
                    next.push(n);
                }
            }
            classes.push(NestedClass { name: entry.name.clone(), source });
            bytes.push((entry.name, b));
        }
        next.retain(|n| !bytes.iter().any(|(k, _)| k == n));
        wanted = next;
    }
    let Some((_, outer)) = bytes.iter().find(|(n, _)| n == class) else {
        return Err(ToolsError::NotLoaded { pid: target.pid, class: class.into(), loader: Some(loader.id) }.into());
    };
    let major_version =
        jhot_classfile::read(outer).map(|i| i.major_version).map_err(|e| Error::Input(format!("{class}: {e}")))?;
    let compiler = detect_compiler(bytes.iter().map(|(_, b)| b.as_slice()));
    let mut notes = Vec::new();
    let method = match method {
        None => None,
        Some(m) if tools.jars()?.decompiler.ends_with("1.10.1") => {
            notes.push(format!(
                "the whole class is shown: showing one method ({m}) needs Vineflower 1.12, which needs a JDK 17+ target"
            ));
            None
        }
        Some(m) => Some(method_key(class, outer, m)?),
    };

    let mut cp = cp;
    let mut referenced: Vec<String> = Vec::new();
    for (_, b) in &bytes {
        for r in jhot_classfile::referenced_classes(b).unwrap_or_default() {
            if !referenced.contains(&r) && !bytes.iter().any(|(n, _)| *n == r) {
                referenced.push(r);
            }
        }
    }
    tools.prefetch(&mut cp, referenced).await;
    let header = serde_json::json!({
        "op": "decompile",
        "outer": class,
        "method": method.as_deref(),
        "classes": bytes.iter().enumerate().map(|(i, (n, _))| serde_json::json!({ "name": n, "blob": i })).collect::<Vec<_>>(),
    });
    let (answer, _) = tools.call(header, bytes.iter().map(|(_, b)| b.clone()).collect(), &mut cp, false).await?;
    let helper = tools.info().await?;
    let text = |k: &str| answer.get(k).and_then(|v| v.as_str()).unwrap_or("").to_string();
    let mut problems: Vec<String> = answer
        .get("problems")
        .and_then(|p| p.as_array())
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    problems.extend(notes);
    Ok(Decompiled {
        pid: target.pid,
        class: class.to_string(),
        loader,
        patched,
        classes,
        source: text("source"),
        decompiler: text("decompiler"),
        major_version,
        compiler,
        method,
        problems,
        helper,
        bytes,
        vm: running.vm,
    })
}

/// The method `wanted` names (`greet`, or `greet(I)Ljava/lang/String;` among overloads) as
/// Vineflower's `method-to-decompile` takes it: name and descriptor.
pub fn method_key(class: &str, bytes: &[u8], wanted: &str) -> Result<String, ToolsError> {
    let info = jhot_classfile::read(bytes).map_err(|e| ToolsError::Input(format!("{class}: {e}")))?;
    let all: Vec<String> = info.shape.methods.iter().map(|m| format!("{}{}", m.name, m.descriptor)).collect();
    if all.iter().any(|k| k == wanted) {
        return Ok(wanted.to_string());
    }
    let named: Vec<&String> =
        info.shape.methods.iter().zip(&all).filter(|(m, _)| m.name == wanted).map(|(_, k)| k).collect();
    match named.as_slice() {
        [one] => Ok((*one).clone()),
        [] => {
            let mut names: Vec<&str> = info.shape.methods.iter().map(|m| m.name.as_str()).collect();
            names.dedup();
            Err(ToolsError::Input(format!("{class} has no method {wanted}; it has {}", names.join(", "))))
        }
        many => Err(ToolsError::Input(format!(
            "{class} has {} methods named {wanted}: {}; name one with its descriptor, e.g. '{}'",
            many.len(),
            many.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "),
            many[0]
        ))),
    }
}

pub(crate) fn show_loader(l: Option<&Loader>) -> String {
    match l {
        Some(l) if l.id == l.name => l.id.clone(),
        Some(l) => format!("{} ({})", l.id, l.name),
        None => "bootstrap".into(),
    }
}
