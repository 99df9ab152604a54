//! Applying patches to a running JVM: one atomic batch per `redefine`, `rollback` to the bytes that
//! ran before jhot first touched a class, and the history of both. The agent keeps the state (it
//! lives as long as the JVM does, which is exactly as long as the changes do); this module drives
//! it and turns its answers into reports.
//!
//! Every redefinition goes through here: `jhot redefine` ([`redefine`]) and `jhot deploy` (which
//! builds a [`Batch`] from its plan and [`apply`]s it) send the same request and read the JVM's
//! refusal the same way.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::agent::protocol::{
    ClassBytes, ClassRef, DefineRef, DeployMark, DeployRecord, History, Redefined, Request, RolledBack,
};
use crate::agent::{self, AgentError, Connection, FailureKind, Session};
use crate::archive::ClassSource;
use crate::changes::{self, ChangesError};
use crate::exit_code::ExitCode;
use jhot_attach::{AttachOptions, Target};
use jhot_classfile::verdict::Verdict;

/// Why a patch was not applied, or not undone. Nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum PatchError {
    #[error(transparent)]
    Agent(#[from] AgentError),
    #[error(transparent)]
    Changes(#[from] ChangesError),
    /// A structural change, with jhot's verdict. `refused_by_jvm`: the JVM was sent the batch and
    /// refused it (one-request redefine); otherwise the pre-flight stopped it before anything was
    /// sent.
    #[error("{}", structural_message(.entries, *.refused_by_jvm))]
    Structural { entries: Vec<changes::Entry>, connection: Connection, refused_by_jvm: bool },
    /// The JVM refused the batch. `connection` is how `jhot redefine` reached the agent (its notes
    /// are shown with the error); None where the caller reports the connection itself.
    #[error("{}", rejected_message(.jvm_message, .culprits))]
    Rejected { jvm_message: String, culprits: Vec<Culprit>, connection: Option<Connection> },
    /// A rollback of classes in a JVM where jhot's agent was never loaded.
    #[error(
        "jhot has not changed {} in JVM {pid}: its agent is not resident there, so nothing was changed",
        .classes.join(", ")
    )]
    NeverChanged { classes: Vec<String>, pid: u32 },
}

impl PatchError {
    pub fn exit_code(&self) -> ExitCode {
        match self {
            PatchError::Agent(e) => e.exit_code(),
            PatchError::Changes(e) => e.exit_code(),
            PatchError::Structural { .. } | PatchError::Rejected { .. } => ExitCode::Rejected,
            PatchError::NeverChanged { .. } => ExitCode::Input,
        }
    }

    /// Machine-readable particulars for `--json`: which classes, and why.
    pub fn details(&self) -> Option<serde_json::Value> {
        match self {
            PatchError::Agent(e) => e.details(),
            PatchError::Changes(e) => e.details(),
            PatchError::Structural { entries, .. } => {
                serde_json::to_value(entries).ok().map(|v| serde_json::json!({ "classes": v }))
            }
            PatchError::Rejected { jvm_message, culprits, .. } => {
                Some(serde_json::json!({ "jvm_message": jvm_message, "classes": culprits }))
            }
            PatchError::NeverChanged { .. } => None,
        }
    }

    /// How the agent was reached, when the error carries it (its notes are worth showing).
    pub fn connection(&self) -> Option<&Connection> {
        match self {
            PatchError::Structural { connection, .. } => Some(connection),
            PatchError::Rejected { connection, .. } => connection.as_ref(),
            _ => None,
        }
    }
}

fn structural_message(entries: &[changes::Entry], refused_by_jvm: bool) -> String {
    let mut s = String::from(if refused_by_jvm {
        "not redefined: the change is structural, which a running JVM cannot take; the JVM refused it and nothing was changed."
    } else {
        "not redefined: the change is structural, which a running JVM cannot take; nothing was sent to the JVM."
    });
    for e in entries {
        let loader = e.loader.as_ref().map(|l| format!(" [{} {}]", l.name, l.id)).unwrap_or_default();
        s.push_str(&format!("\n  {}{loader}", e.diff.name));
        for r in &e.diff.reasons {
            s.push_str(&format!("\n    - {} (the JVM would say: {})", r.message, r.jvm_error));
        }
        for x in &e.diff.explanations {
            s.push_str(&format!("\n      {x}"));
        }
    }
    s.push_str(if refused_by_jvm {
        "\n  Restart the JVM with the new build (`jhot deploy` replaces the process without refusing a connection)."
    } else {
        "\n  Restart the JVM with the new build, or pass --force to let the JVM decide anyway."
    });
    s
}

fn rejected_message(jvm: &str, culprits: &[Culprit]) -> String {
    let mut s =
        format!("the JVM refused the redefinition; nothing was changed and the old code keeps running.\n  JVM: {jvm}");
    for c in culprits {
        if c.differences.is_empty() {
            s.push_str(&format!("\n  {}", c.class));
        } else {
            s.push_str(&format!("\n  {}: {}", c.class, c.differences.join("; ")));
        }
    }
    s.push_str("\n  Only method bodies can be redefined in a running JVM; a structural change needs a restart.");
    s
}

#[derive(Debug, Clone)]
pub struct RedefineOptions {
    /// Only classes defined by this loader (id, name or class name); `None` = every loader.
    pub loader: Option<String>,
    /// Register classes that are not loaded yet so their new bytes are used when they load; when
    /// false such a class fails the whole batch.
    pub allow_pending: bool,
    /// Skip jhot's own verdict and let the JVM decide.
    pub force: bool,
    pub timeout: Duration,
}

#[derive(Debug, Serialize)]
pub struct RedefineReport {
    pub pid: u32,
    pub connection: Connection,
    /// jhot's verdict on the bytes the classes ran before (absent with --force).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preflight: Option<changes::Summary>,
    pub classes: Vec<SentClass>,
    pub result: Redefined,
    pub elapsed_ms: f64,
}

#[derive(Debug, Serialize)]
pub struct SentClass {
    pub name: String,
    pub origin: String,
    pub bytes: usize,
}

/// A class the JVM would not take, and why (as far as its shape tells).
#[derive(Debug, Clone, Serialize)]
pub struct Culprit {
    pub class: String,
    pub differences: Vec<String>,
}

/// One atomic batch for the agent's `redefine`: new classes defined, then classes redefined (or
/// registered until they load), all or nothing.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    /// Classes to redefine: (name, new bytes).
    pub classes: Vec<(String, Vec<u8>)>,
    /// New classes to define first, in this order: (name, bytes, id of the loader to define in).
    pub define: Vec<(String, Vec<u8>, String)>,
    /// Only classes defined by this loader (id, name or class name); `None` = every loader.
    pub loader: Option<String>,
    /// Register classes that are not loaded yet, so their new bytes are used when they load;
    /// when false such a class fails the whole batch.
    pub pending: bool,
    /// Marks the batch as the deploy of a build, listed and undone as one.
    pub deploy: Option<DeployMark>,
    /// Classes of `classes` planned as not loaded: if one has loaded since, the agent changes
    /// nothing and refuses with [`FailureKind::LoadedSincePlan`].
    pub unloaded: Vec<String>,
    /// Ask for the bytes each class ran before (see [`Redefined::before`]).
    pub before: bool,
}

impl Batch {
    /// The request and its blobs: the definitions' bytes first, then the redefinitions'.
    fn request(self) -> (Request, Vec<Vec<u8>>) {
        let mut blobs = Vec::with_capacity(self.define.len() + self.classes.len());
        let mut define = Vec::with_capacity(self.define.len());
        for (name, bytes, loader) in self.define {
            define.push(DefineRef { name, blob: blobs.len(), loader });
            blobs.push(bytes);
        }
        let mut classes = Vec::with_capacity(self.classes.len());
        for (name, bytes) in self.classes {
            classes.push(ClassRef { name, blob: blobs.len() });
            blobs.push(bytes);
        }
        let request = Request::Redefine {
            classes,
            loader: self.loader,
            pending: self.pending,
            define,
            deploy: self.deploy,
            unloaded: self.unloaded,
            before: self.before,
        };
        (request, blobs)
    }
}

/// Applies `batch` over an open session. The JVM's refusal is [`PatchError::Rejected`], without
/// culprits (naming them takes another request; [`redefine`] does it).
pub async fn apply(session: &mut Session, batch: Batch) -> Result<Redefined, PatchError> {
    let (request, blobs) = batch.request();
    let (result, _) = session.call::<Redefined>(&request, blobs).await.map_err(refusal)?;
    Ok(result)
}

/// How a failed `redefine` request reads: the JVM's refusal as [`PatchError::Rejected`], anything
/// else as the agent's error.
fn refusal(e: AgentError) -> PatchError {
    match e {
        AgentError::Refused(f) if f.kind == FailureKind::Rejected => {
            PatchError::Rejected { jvm_message: f.message, culprits: Vec::new(), connection: None }
        }
        e => PatchError::Agent(e),
    }
}

/// Redefines `classes` in `target` in one atomic batch, judged by HotSpot's rules for that JDK
/// (unless `opts.force`): a structural change fails with its reasons and nothing changes. On a JVM
/// with the standard rules the JVM's own refusal stands in for the pre-flight (one request; see
/// `judged_alike`); otherwise the classes are compared first and the new bytes are never sent.
pub async fn redefine(
    target: &Target,
    classes: Vec<ClassSource>,
    opts: &RedefineOptions,
    attach_opts: &AttachOptions,
) -> Result<RedefineReport, PatchError> {
    let started = Instant::now();
    let (request, blobs) = Batch {
        classes: classes.iter().map(|c| (c.info.name.clone(), c.bytes.clone())).collect(),
        loader: opts.loader.clone(),
        pending: opts.allow_pending,
        ..Batch::default()
    }
    .request();
    let (answer, session, connection, preflight) = if opts.force {
        // One request that nothing follows (a refusal's culprits wait for the channel).
        let call = agent::call_or_load_alone::<Redefined>(target, attach_opts, opts.timeout, &request, blobs).await?;
        (call.answer, call.session, call.connection, None)
    } else if judged_alike(target) {
        // One request: the agent redefines and answers with what each class ran before, and the
        // verdict is taken on that. HotSpot refuses exactly what the verdict calls structural
        // (the corpus checks it on every JDK), atomically and before changing anything, so the
        // outcome is the pre-flight's; a refusal is judged on the bytes the JVM still runs.
        let mut request = request;
        if let Request::Redefine { before, .. } = &mut request {
            *before = true;
        }
        let mut call =
            agent::call_or_load_alone::<Redefined>(target, attach_opts, opts.timeout, &request, blobs).await?;
        if let Ok((result, ran)) = &mut call.answer {
            fill_hashes(result, ran, &classes);
        }
        let preflight = match &call.answer {
            Ok((result, ran)) => judged_after(target, result, ran, &classes),
            Err(_) => None,
        };
        let mut session = call.session;
        if let Err(AgentError::Refused(f)) = &call.answer
            && f.kind == FailureKind::Rejected
        {
            if session.is_none() {
                session = agent::wait_for_channel(target, opts.timeout).await.ok();
            }
            if let Some(s) = session.as_mut() {
                let structural = structural_now(s, target, &classes, opts).await;
                if !structural.is_empty() {
                    return Err(PatchError::Structural {
                        entries: structural,
                        connection: call.connection,
                        refused_by_jvm: true,
                    });
                }
            }
        }
        (call.answer, session, call.connection, preflight)
    } else {
        let names = classes.iter().map(|c| c.info.name.clone()).collect();
        let check = Request::Bytes { classes: names, loader: opts.loader.clone() };
        // The verdict is taken between the two requests, inside the conversation with the agent.
        let mut verdict: Result<Vec<changes::Entry>, ChangesError> = Ok(Vec::new());
        let pair = agent::call_then::<ClassBytes, Redefined, _>(
            target,
            attach_opts,
            opts.timeout,
            &check,
            |answer, running| {
                verdict = changes::unpack(target, answer, running)
                    .map_err(ChangesError::from)
                    .and_then(|(vm, running)| changes::against(&vm, &running, &classes));
                match &verdict {
                    Ok(entries) if changes::Summary::of(entries).redefinable => Some((request.clone(), blobs.clone())),
                    _ => None,
                }
            },
        )
        .await?;
        let entries = verdict?;
        let summary = changes::Summary::of(&entries);
        match pair.second {
            Some(answer) => (answer, pair.session, pair.connection, Some(summary)),
            None => {
                let structural = entries.into_iter().filter(|e| e.diff.verdict == Verdict::Structural).collect();
                return Err(PatchError::Structural {
                    entries: structural,
                    connection: pair.connection,
                    refused_by_jvm: false,
                });
            }
        }
    };
    match answer {
        Ok((result, _)) => Ok(RedefineReport {
            pid: target.pid,
            connection,
            preflight,
            classes: classes
                .iter()
                .map(|c| SentClass { name: c.info.name.clone(), origin: c.origin.clone(), bytes: c.bytes.len() })
                .collect(),
            result,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        }),
        Err(e) => match refusal(e) {
            PatchError::Rejected { jvm_message, .. } => {
                // HotSpot's message does not say which class of a batch it refused; compare each
                // new class with the bytes the JVM runs to name it.
                let session = match session {
                    Some(s) => Some(s),
                    None => agent::wait_for_channel(target, opts.timeout).await.ok(),
                };
                let culprits = match session {
                    Some(mut s) => name_culprits(&mut s, &classes, opts).await,
                    None => Vec::new(),
                };
                Err(PatchError::Rejected { jvm_message, culprits, connection: Some(connection) })
            }
            e => Err(e),
        },
    }
}

/// Whether the JVM applies exactly the rules the verdict follows, so that it may judge a batch in
/// place of the pre-flight: not under `-XX:+AllowRedefinitionToAddDeleteMethods` or an enhanced
/// redefinition (JetBrains Runtime, DCEVM), which accept some changes the verdict calls structural.
fn judged_alike(target: &Target) -> bool {
    !target.flags.allow_add_delete_methods && !target.flags.enhanced_redefinition
}

/// The verdict on an applied batch, from the bytes each class ran before (`ran`). None when the
/// agent did not send them (an older agent, resident from an earlier jhot, ignores `before`; the
/// agent that honours it always sends its `java_version` with them).
fn judged_after(
    target: &Target,
    result: &Redefined,
    ran: &[Vec<u8>],
    classes: &[ClassSource],
) -> Option<changes::Summary> {
    result.java_version.as_ref()?;
    let before = ClassBytes { classes: result.before.clone(), java_version: result.java_version.clone() };
    let entries = changes::unpack(target, &before, ran)
        .map_err(ChangesError::from)
        .and_then(|(vm, running)| changes::against(&vm, &running, classes));
    match entries {
        Ok(entries) => Some(changes::Summary::of(&entries)),
        Err(e) => {
            tracing::debug!(error = %e, "no verdict on the bytes the classes ran before");
            None
        }
    }
}

/// The hashes an agent leaves out of a `before` answer (it would compute them interpreted, inside
/// the command's time): of the bytes sent, and of the bytes each class ran before. An older agent
/// sends them; they are kept.
fn fill_hashes(result: &mut Redefined, ran: &[Vec<u8>], classes: &[ClassSource]) {
    for change in &mut result.redefined {
        if change.to_sha256.is_none() {
            change.to_sha256 =
                classes.iter().find(|c| c.info.name == change.name).map(|c| crate::classes::sha256_hex(&c.bytes));
        }
        if change.from_sha256.is_none() {
            let id = change.loader.as_ref().map(|l| l.id.as_str());
            change.from_sha256 = result
                .before
                .iter()
                .find(|b| b.name == change.name && b.loader.as_ref().map(|l| l.id.as_str()) == id)
                .and_then(|b| ran.get(b.blob))
                .map(|bytes| crate::classes::sha256_hex(bytes));
        }
    }
}

/// After the JVM refused a batch: the classes the verdict calls structural, judged on the bytes
/// the JVM runs (unchanged by the refusal). Empty when none is, or the bytes cannot be had.
async fn structural_now(
    session: &mut Session,
    target: &Target,
    classes: &[ClassSource],
    opts: &RedefineOptions,
) -> Vec<changes::Entry> {
    let names = classes.iter().map(|c| c.info.name.clone()).collect();
    let request = Request::Bytes { classes: names, loader: opts.loader.clone() };
    let entries = match session.call::<ClassBytes>(&request, vec![]).await {
        Ok((answer, running)) => changes::unpack(target, &answer, &running)
            .map_err(ChangesError::from)
            .and_then(|(vm, running)| changes::against(&vm, &running, classes)),
        Err(e) => Err(ChangesError::from(e)),
    };
    match entries {
        Ok(entries) => entries.into_iter().filter(|e| e.diff.verdict == Verdict::Structural).collect(),
        Err(e) => {
            tracing::debug!(error = %e, "could not judge the refused batch");
            Vec::new()
        }
    }
}

async fn name_culprits(session: &mut Session, classes: &[ClassSource], opts: &RedefineOptions) -> Vec<Culprit> {
    let names = classes.iter().map(|c| c.info.name.clone()).collect();
    let current =
        match session.call::<ClassBytes>(&Request::Bytes { classes: names, loader: opts.loader.clone() }, vec![]).await
        {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(error = %e, "could not fetch the running bytes to name the refused class");
                return Vec::new();
            }
        };
    let (entries, blobs) = current;
    // The running JDK's rules (its version comes with the bytes, or from the agent's hello). The
    // JVM refused the batch, so list every structural reason, whatever the flag would allow.
    let version = entries.java_version.clone().unwrap_or_else(|| session.hello.java_version.clone());
    let feature = match agent::java_feature(&version) {
        0 => changes::DEFAULT_JDK,
        f => f,
    };
    let vm = jhot_classfile::verdict::Vm { feature, allow_add_delete_methods: false };
    let mut out = Vec::new();
    for class in classes {
        let mut reasons: Vec<String> = Vec::new();
        for entry in entries.classes.iter().filter(|e| e.name == class.info.name) {
            let Some(running) = blobs.get(entry.blob) else { continue };
            match jhot_classfile::verdict::diff_class(running, &class.bytes, &vm) {
                Ok(d) => {
                    for r in d.reasons {
                        if !reasons.contains(&r.message) {
                            reasons.push(r.message);
                        }
                    }
                }
                Err(e) => tracing::debug!(class = %class.info.name, error = %e, "running bytes do not parse"),
            }
        }
        if !reasons.is_empty() {
            out.push(Culprit { class: class.info.name.clone(), differences: reasons });
        }
    }
    if out.is_empty() && classes.len() == 1 {
        // A lone class is the culprit even when its shape looks the same (e.g. a verify error).
        out.push(Culprit { class: classes[0].info.name.clone(), differences: Vec::new() });
    }
    out
}

#[derive(Debug, Serialize)]
pub struct RollbackReport {
    pub pid: u32,
    /// False when no agent was resident: jhot had changed nothing in this JVM.
    pub agent_resident: bool,
    /// The deploy undone, when the rollback undid the last `jhot deploy`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deploy: Option<DeployRecord>,
    pub result: RolledBack,
}

/// Restores the original bytes of `classes`. With no class named: undoes the last `jhot deploy`
/// applied by redefinition if one is live (unless `all`), else every class jhot changed. Never
/// loads the agent: a JVM without it has nothing of jhot's to undo.
pub async fn rollback(
    target: &Target,
    classes: Vec<String>,
    all: bool,
    timeout: Duration,
) -> Result<RollbackReport, PatchError> {
    let Some(mut session) = agent::connect_resident(target, timeout).await? else {
        if !classes.is_empty() {
            return Err(PatchError::NeverChanged { classes, pid: target.pid });
        }
        return Ok(RollbackReport {
            pid: target.pid,
            agent_resident: false,
            deploy: None,
            result: RolledBack { rolled_back: vec![], unpending: vec![] },
        });
    };
    let mut deploy = None;
    if classes.is_empty() && !all {
        let (history, _) = session.call::<History>(&Request::History {}, vec![]).await?;
        deploy = history.deploys.into_iter().rev().find(|d| !d.rolled_back);
    }
    let request = Request::Rollback { classes, deploy: deploy.as_ref().map(|d| d.id.clone()) };
    let (result, _) = session.call::<RolledBack>(&request, vec![]).await?;
    Ok(RollbackReport { pid: target.pid, agent_resident: true, deploy, result })
}

#[derive(Debug, Serialize)]
pub struct HistoryReport {
    pub pid: u32,
    pub agent_resident: bool,
    pub history: History,
}

/// What jhot changed in `target`. Read-only: never loads the agent.
pub async fn history(target: &Target, timeout: Duration) -> Result<HistoryReport, PatchError> {
    let Some(mut session) = agent::connect_resident(target, timeout).await? else {
        return Ok(HistoryReport {
            pid: target.pid,
            agent_resident: false,
            history: History { entries: vec![], deploys: vec![] },
        });
    };
    let (history, _) = session.call::<History>(&Request::History {}, vec![]).await?;
    Ok(HistoryReport { pid: target.pid, agent_resident: true, history })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::protocol::Envelope;

    fn json(batch: Batch) -> (serde_json::Value, Vec<Vec<u8>>) {
        let (request, blobs) = batch.request();
        (serde_json::to_value(Envelope { id: 1, request: &request, events: false }).expect("json"), blobs)
    }

    #[test]
    fn a_redefinition_sends_its_classes_in_order() {
        let (v, blobs) = json(Batch {
            classes: vec![("a.B".into(), vec![1]), ("a.C".into(), vec![2])],
            pending: true,
            ..Batch::default()
        });
        assert_eq!(
            v,
            serde_json::json!({"id": 1, "op": "redefine", "loader": null, "pending": true,
                "classes": [{"name": "a.B", "blob": 0}, {"name": "a.C", "blob": 1}]})
        );
        assert_eq!(blobs, vec![vec![1], vec![2]]);
    }

    #[test]
    fn a_deploy_defines_first_and_names_what_it_planned_as_not_loaded() {
        let mark = DeployMark { build: "app.jar".into(), sha256: "ab".into(), id: "d1".into() };
        let (v, blobs) = json(Batch {
            classes: vec![("a.Body".into(), vec![1]), ("a.Lazy".into(), vec![2])],
            define: vec![("a.New".into(), vec![3], "0x1".into())],
            loader: None,
            pending: true,
            deploy: Some(mark),
            unloaded: vec!["a.Lazy".into()],
            before: false,
        });
        assert_eq!(
            v,
            serde_json::json!({"id": 1, "op": "redefine", "loader": null, "pending": true,
                "define": [{"name": "a.New", "blob": 0, "loader": "0x1"}],
                "classes": [{"name": "a.Body", "blob": 1}, {"name": "a.Lazy", "blob": 2}],
                "deploy": {"build": "app.jar", "sha256": "ab", "id": "d1"},
                "unloaded": ["a.Lazy"]})
        );
        assert_eq!(blobs, vec![vec![3], vec![1], vec![2]]);
    }

    #[test]
    fn only_the_jvms_refusal_is_rejected() {
        let failure =
            |kind| AgentError::Refused(crate::agent::AgentFailure { kind, message: "m".into(), classes: vec![] });
        assert!(matches!(
            refusal(failure(FailureKind::Rejected)),
            PatchError::Rejected { jvm_message, culprits, connection: None } if jvm_message == "m" && culprits.is_empty()
        ));
        assert!(matches!(
            refusal(failure(FailureKind::LoadedSincePlan)),
            PatchError::Agent(AgentError::Refused(f)) if f.kind == FailureKind::LoadedSincePlan
        ));
    }
}
