//! How reports reach the user: aligned text for people, one JSON document on stdout for `--json`,
//! and a spinner on stderr for anything that takes more than a second.

// Human output carries strings other users control (command lines, JVM and agent messages): on a
// terminal their control characters are shown escaped, so that a JVM started as
// `java -jar $'\e]…'` cannot drive root's terminal. JSON needs nothing: serde escapes them.
macro_rules! say {
    () => { println!() };
    ($($a:tt)*) => { println!("{}", crate::output::clean(&format!($($a)*), crate::output::Stream::Out)) };
}
macro_rules! say_raw {
    ($($a:tt)*) => { print!("{}", crate::output::clean(&format!($($a)*), crate::output::Stream::Out)) };
}
macro_rules! esay {
    () => { eprintln!() };
    ($($a:tt)*) => { eprintln!("{}", crate::output::clean(&format!($($a)*), crate::output::Stream::Err)) };
}

#[derive(Clone, Copy)]
pub enum Stream {
    Out,
    Err,
}

/// `text` with every control character but newline and tab replaced by its escape, when the
/// stream is a terminal; unchanged otherwise (pipes and files get the bytes as they are).
pub fn clean(text: &str, stream: Stream) -> std::borrow::Cow<'_, str> {
    use std::io::IsTerminal;
    let tty = match stream {
        Stream::Out => std::io::stdout().is_terminal(),
        Stream::Err => std::io::stderr().is_terminal(),
    };
    if !tty {
        return std::borrow::Cow::Borrowed(text);
    }
    escape_controls(text)
}

pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(
                |c| {
                    if c.is_control() && c != '\n' && c != '\t' {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                },
            )
            .collect(),
    )
}

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use jhot::ExitCode;
use jhot::agent::{self, Connection};
use jhot::classfile::diff::Verdict;
use jhot::compare::Report;
use jhot::deploy::{Decision, DeployReport};
use jhot::inspect::{InfoReport, PsEntry};
use jhot::patch::{HistoryReport, RedefineReport, RollbackReport};
use jhot::takeover::{ReplaceReport, state::Recovered};
use serde::Serialize;
use serde_json::json;

/// `jhot run`'s events, on stderr: its stdout belongs to the application it runs.
pub fn run_event_json(what: &str, detail: &serde_json::Value) {
    let mut v = json!({ "event": what, "supervisor": std::process::id() });
    if let (Some(o), serde_json::Value::Object(d)) = (v.as_object_mut(), detail) {
        o.extend(d.clone());
    }
    eprintln!("{v}");
}

pub fn run_event_text(what: &str, detail: &serde_json::Value) {
    let mut line = format!("jhot run: {what}");
    if let serde_json::Value::Object(d) = detail {
        for (k, v) in d {
            let v = match v {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string()))
                    .collect::<Vec<_>>()
                    .join(" "),
                other => other.to_string(),
            };
            line.push_str(&format!(" {k}={v}"));
        }
    }
    esay!("{line}");
}

pub struct Out {
    json: bool,
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json }
    }

    fn emit_json<T: Serialize>(&self, value: &T) {
        let mut v = serde_json::to_value(value).unwrap_or_else(|e| json!({ "serialization_error": e.to_string() }));
        if let Some(obj) = v.as_object_mut() {
            obj.insert("ok".into(), json!(true));
        }
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    }

    pub fn error(&self, message: &str, code: ExitCode, details: Option<serde_json::Value>) {
        if self.json {
            let mut error = json!({ "kind": code.kind(), "exit_code": code.code(), "message": message });
            if let (Some(obj), Some(serde_json::Value::Object(more))) = (error.as_object_mut(), details) {
                obj.extend(more);
            }
            let v = json!({ "ok": false, "error": error });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        } else {
            esay!("jhot: error: {message}");
        }
    }

    fn note(&self, message: &str) {
        // Notes go to stderr in both modes so they never corrupt the JSON on stdout.
        esay!("{message}");
    }

    pub fn connection_notes(&self, c: &Connection) {
        if c.jep451_warning {
            self.note(agent::JEP451_NOTE);
        }
    }

    pub fn ps(&self, list: &[PsEntry]) {
        if self.json {
            self.emit_json(&json!({ "jvms": list }));
            return;
        }
        let mut rows =
            vec![vec!["PID".to_string(), "USER".into(), "JDK".into(), "UPTIME".into(), "AGENT".into(), "MAIN".into()]];
        for e in list {
            let agent = match e.agent.resident {
                Some(true) => "resident",
                Some(false) => "-",
                None => "?",
            };
            rows.push(vec![
                e.jvm.pid.to_string(),
                e.jvm.user.clone().unwrap_or_else(|| e.jvm.uid.to_string()),
                e.jvm.java_version.clone().unwrap_or_else(|| "?".into()),
                e.jvm.uptime.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "?".into()),
                agent.into(),
                e.jvm.main.clone().unwrap_or_else(|| "?".into()),
            ]);
        }
        print_table(&rows);
        if list.is_empty() {
            esay!("no JVM found (only JVMs this user may see are listed; try as root)");
        }
    }

    pub fn info(&self, r: &InfoReport) {
        if self.json {
            self.emit_json(r);
            return;
        }
        let j = &r.jvm;
        say!("pid        {} (in its namespace: {})", j.pid, j.nspid);
        say!("user       {}", j.user.clone().unwrap_or_else(|| j.uid.to_string()));
        say!("java       {}", j.java_version.as_deref().unwrap_or("?"));
        say!("vm         {} ({})", j.vm.as_deref().unwrap_or("?"), j.vm_vendor.as_deref().unwrap_or("?"));
        if let Some(v) = &r.vm_version {
            say!("           {}", v.replace('\n', "\n           "));
        }
        say!("main       {}", j.main.as_deref().unwrap_or("?"));
        say!("uptime     {}", j.uptime.map(|d| human_duration(d.as_secs())).unwrap_or_else(|| "?".into()));
        match &r.attach_error {
            Some(e) => say!("attach     not possible: {e}"),
            None => {
                say!("flags");
                for f in &r.flags {
                    say!("  {:<38} {:<8} ({})", f.name, f.value, f.origin);
                }
            }
        }
        match (&r.agent.resident, &r.agent.hello) {
            (Some(true), Some(h)) => say!(
                "agent      resident (jhot agent {}, {} mode, {} channel, loaded {}x, {} class(es) patched, {} pending)",
                h.agent,
                h.mode,
                h.channel,
                h.loads,
                h.patched,
                h.pending
            ),
            (Some(false), _) => say!("agent      not resident (jhot has changed nothing in this JVM)"),
            _ => say!("agent      unknown: {}", r.agent.error.as_deref().unwrap_or("?")),
        }
        if !r.class_loaders.is_empty() {
            say!("class loaders");
            let mut rows = vec![vec!["LOADER".to_string(), "PARENT".into(), "CLASSES".into(), "TYPE".into()]];
            for l in &r.class_loaders {
                rows.push(vec![l.loader.clone(), l.parent.clone(), l.classes.to_string(), l.type_name.clone()]);
            }
            print_table_indented(&rows, "  ");
        }
    }

    pub fn redefined(&self, r: &RedefineReport) {
        self.connection_notes(&r.connection);
        if self.json {
            self.emit_json(r);
            return;
        }
        let res = &r.result;
        let how = if r.connection.loaded_now {
            format!("agent loaded now in {:.1} ms", r.connection.load_ms.unwrap_or(0.0))
        } else {
            "agent was resident".to_string()
        };
        say!(
            "redefined {} class(es) in JVM {} in {:.1} ms ({how}; the JVM took {:.1} ms)",
            res.redefined.len(),
            r.pid,
            r.elapsed_ms,
            res.elapsed_us as f64 / 1000.0
        );
        for c in &res.redefined {
            let loader =
                c.loader.as_ref().map(|l| format!("{} {}", l.name, l.id)).unwrap_or_else(|| "bootstrap".into());
            say!(
                "  {}  [{}]  {} -> {}",
                c.name,
                loader,
                short(c.from_sha256.as_deref()),
                short(c.to_sha256.as_deref())
            );
        }
        for p in &res.pending {
            say!("  {p}  not loaded yet: its new bytes will be used when it loads");
        }
        for u in &res.unchanged {
            say!("  {u}  unchanged: the JVM already runs these bytes");
        }
        if let Some(p) = &r.preflight {
            say!("  (checked first: {} body-only, {} unchanged, {} not loaded)", p.body_only, p.unchanged, p.new);
        }
    }

    pub fn diff(&self, r: &Report) {
        if self.json {
            self.emit_json(r);
            return;
        }
        let mut rows = vec![vec!["CLASS".to_string(), "VERDICT".into(), "WHY".into()]];
        for e in &r.classes {
            let name = match &e.loader {
                Some(l) => format!("{} [{} {}]", e.diff.name, l.name, l.id),
                None => e.diff.name.clone(),
            };
            let why = if e.diff.reasons.is_empty() {
                e.diff.changed_methods.join(", ")
            } else {
                e.diff.reasons.iter().map(|x| x.message.as_str()).collect::<Vec<_>>().join("; ")
            };
            rows.push(vec![name, verdict_word(e.diff.verdict).into(), why]);
        }
        print_table(&rows);
        for e in r.classes.iter().filter(|e| !e.diff.explanations.is_empty()) {
            say!();
            say!("{}:", e.diff.name);
            for x in &e.diff.explanations {
                say!("  {x}");
            }
        }
        for d in &r.duplicates {
            say!("note: {} is in {} and {}; compared the first", d.class, d.kept, d.ignored);
        }
        let s = &r.summary;
        let total = s.unchanged + s.body_only + s.structural + s.new + s.removed;
        let verdict = if s.redefinable {
            "hot-redefinable".to_string()
        } else {
            format!("needs a restart ({} structural)", s.structural)
        };
        say!();
        say!(
            "{total} class(es): {} body-only, {} unchanged, {} structural, {} new, {} removed — {verdict} on JDK {}{}",
            s.body_only,
            s.unchanged,
            s.structural,
            s.new,
            s.removed,
            r.jdk,
            if r.allow_add_delete_methods { " with AllowRedefinitionToAddDeleteMethods" } else { "" }
        );
    }

    pub fn javap(&self, listings: &[(String, String)]) {
        if self.json {
            let v: Vec<_> = listings.iter().map(|(source, text)| json!({ "source": source, "text": text })).collect();
            self.emit_json(&json!({ "classes": v }));
            return;
        }
        for (i, (source, text)) in listings.iter().enumerate() {
            if listings.len() > 1 || source.contains("JVM") {
                if i > 0 {
                    say!();
                }
                say!("// {source}");
            }
            say_raw!("{text}");
            if !text.ends_with('\n') {
                say!();
            }
        }
    }

    pub fn rolled_back(&self, r: &RollbackReport) {
        if self.json {
            self.emit_json(r);
            return;
        }
        if !r.agent_resident {
            say!("nothing to roll back: jhot's agent is not resident in JVM {}, so jhot changed nothing there", r.pid);
            return;
        }
        if r.result.rolled_back.is_empty() && r.result.unpending.is_empty() {
            say!("nothing to roll back: jhot has no change in effect in JVM {}", r.pid);
            return;
        }
        match &r.deploy {
            Some(d) => say!(
                "undid deploy {} ({}) in JVM {}: {} class(es) back to what ran before it",
                d.id,
                d.build,
                r.pid,
                r.result.rolled_back.len()
            ),
            None => say!("rolled back {} class(es) in JVM {}", r.result.rolled_back.len(), r.pid),
        }
        for c in &r.result.rolled_back {
            say!("  {}  {} -> {}", c.name, short(c.from_sha256.as_deref()), short(c.to_sha256.as_deref()));
        }
        for p in &r.result.unpending {
            say!("  {p}  pending patch dropped (it had not loaded)");
        }
    }

    pub fn history(&self, r: &HistoryReport) {
        if self.json {
            self.emit_json(r);
            return;
        }
        if r.history.entries.is_empty() {
            if r.agent_resident {
                say!("jhot has changed nothing in JVM {}", r.pid);
            } else {
                say!("jhot has changed nothing in JVM {} (its agent is not resident)", r.pid);
            }
            return;
        }
        let mut rows = vec![vec![
            "#".to_string(),
            "TIME (UTC)".into(),
            "ACTION".into(),
            "CLASS".into(),
            "FROM".into(),
            "TO".into(),
        ]];
        for e in &r.history.entries {
            for c in &e.classes {
                rows.push(vec![
                    e.seq.to_string(),
                    utc(e.time_ms),
                    e.action.clone(),
                    c.name.clone(),
                    short(c.from_sha256.as_deref()),
                    short(c.to_sha256.as_deref()),
                ]);
            }
        }
        print_table(&rows);
        if !r.history.deploys.is_empty() {
            say!();
            let mut rows = vec![vec![
                "DEPLOY".to_string(),
                "TIME (UTC)".into(),
                "BUILD".into(),
                "SHA-256".into(),
                "CLASSES".into(),
                "STATE".into(),
            ]];
            for d in &r.history.deploys {
                rows.push(vec![
                    d.id.clone(),
                    utc(d.time_ms),
                    d.build.clone(),
                    short(Some(&d.sha256)),
                    format!(
                        "{} redefined, {} pending, {} defined",
                        d.redefined.len(),
                        d.pending.len(),
                        d.defined.len()
                    ),
                    if d.rolled_back { "rolled back".into() } else { "live".into() },
                ]);
            }
            print_table(&rows);
        }
    }

    /// What a later command found after a `jhot replace` that was killed mid-way; always on stderr.
    pub fn recovered(&self, list: &[Recovered]) {
        for r in list {
            self.note(&format!("jhot: note: {r}"));
        }
    }

    pub fn deployed(&self, r: &DeployReport) {
        if self.json {
            self.emit_json(r);
            return;
        }
        let p = &r.plan;
        let c = &p.counts;
        say!("plan for JVM {} ← {}", p.pid, p.build);
        if let Some(l) = &p.loader {
            say!(
                "  loader        {} {} ({} classes loaded in the JVM, {} in the build)",
                l.name,
                l.id,
                p.loaded_classes,
                p.build_classes
            );
        }
        say!(
            "  classes       {} unchanged, {} body-only, {} structural, {} new, {} not loaded yet, {} removed",
            c.unchanged,
            c.body_only,
            c.structural,
            c.new,
            c.pending,
            c.removed
        );
        for x in p.classes.iter().take(40) {
            say!("    {:<10} {}", x.change, x.name);
            for why in &x.reasons {
                say!("               - {why}");
            }
        }
        if p.classes.len() > 40 {
            say!("    … and {} more (--json lists them all)", p.classes.len() - 40);
        }
        for res in &p.resources {
            say!("  resource      {} ({})", res.name, res.change);
        }
        if !p.dependencies.is_empty() {
            say!("  dependencies  {}", p.dependencies.join(", "));
        }
        let what = match p.decision {
            Decision::Nothing => "nothing to do",
            Decision::Redefine => "redefine",
            Decision::Replace => "replace the process",
        };
        say!("  decision      {what}");
        for why in &p.reasons {
            say!("    - {why}");
        }
        if r.dry_run {
            say!("dry run: nothing was changed (planned in {:.0} ms)", r.timings_ms.plan);
        } else if let Some(a) = &r.redefinition {
            say!(
                "redefined {} class(es), registered {} not loaded yet, defined {} new, in one batch (deploy {}); planned in {:.0} ms, applied in {:.0} ms",
                a.redefined,
                a.pending,
                a.defined,
                a.deploy_id,
                r.timings_ms.plan,
                r.timings_ms.apply
            );
        } else if let Some(rep) = &r.replacement {
            say!();
            self.replaced(rep);
        }
        for w in &r.warnings {
            self.note(&format!("jhot: warning: {w}"));
        }
    }

    pub fn replaced(&self, r: &ReplaceReport) {
        if self.json {
            self.emit_json(r);
            return;
        }
        self.recovered(&r.recovered);
        for w in &r.warnings {
            self.note(&format!("jhot: warning: {w}"));
        }
        say!(
            "replaced pid {} with pid {}{}",
            r.old_pid,
            r.new_pid,
            if r.supervised { " (under jhot run)" } else { "" }
        );
        say!("  new command   {}", r.command.join(" "));
        say!("  change        {}", r.change);
        for l in &r.listeners {
            let fds = match (l.fd_in_old, l.fd_in_new) {
                (o, Some(n)) if o >= 0 => format!("fd {o} → fd {n}"),
                (_, Some(n)) => format!("fd {n}"),
                _ => "?".into(),
            };
            say!("  listener      {} ({fds}, shared: one accept queue)", l.addr);
        }
        if !r.skipped.is_empty() {
            say!("  not shared    {} (ephemeral ports; --port to include)", r.skipped.join(", "));
        }
        let via = match (&r.fd_source[..], &r.fd_fallback) {
            (s, Some(why)) => format!("{s} ({why})"),
            (s, None) => s.to_string(),
        };
        say!("  sockets via   {via}");
        say!("  output        {}", r.output);
        let t = &r.timings_ms;
        say!(
            "  timings       new process accepting after {:.0} ms; jhot's own share {:.1} ms; old drained in {:.0} ms; total {:.0} ms",
            t.start_ms,
            t.overhead_ms,
            t.drain_ms,
            t.total_ms
        );
        if let Some(code) = r.ready_url_status {
            say!("  ready url     HTTP {code} from the new process");
        }
        let d = &r.drain;
        let stopped = if d.agent_stopped.is_empty() {
            String::new()
        } else {
            format!("; agent stopped {}", d.agent_stopped.join(", "))
        };
        say!("  drain         {}, old process {}{stopped}", d.method, d.outcome);
        if r.supervised {
            say!(
                "  hand-over     {} idle connection(s) moved to the new process ({} with a request waiting){}",
                d.handed_over,
                d.handed_over_with_request,
                if d.lost > 0 { format!("; {} could not be delivered", d.lost) } else { String::new() }
            );
        }
    }

    pub fn javaagent_flag(&self, path: &Path) {
        if self.json {
            self.emit_json(&json!({ "jar": path, "option": format!("-javaagent:{}", path.display()) }));
        } else {
            say!("-javaagent:{}", path.display());
        }
    }
}

fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Unchanged => "unchanged",
        Verdict::BodyOnly => "body-only",
        Verdict::Structural => "STRUCTURAL",
        Verdict::New => "new",
        Verdict::Removed => "removed",
    }
}

fn short(hash: Option<&str>) -> String {
    match hash {
        Some(h) if h.len() >= 12 => h[..12].to_string(),
        Some(h) => h.to_string(),
        None => "-".into(),
    }
}

fn human_duration(secs: u64) -> String {
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{:02}s", s / 60, s % 60),
        s if s < 86400 => format!("{}h{:02}m", s / 3600, (s % 3600) / 60),
        s => format!("{}d{:02}h", s / 86400, (s % 86400) / 3600),
    }
}

/// `YYYY-MM-DD HH:MM:SS.mmm` in UTC, without a date crate (civil-from-days, Howard Hinnant).
fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86400);
    let sod = secs.rem_euclid(86400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}",
        sod / 3600,
        (sod % 3600) / 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

fn print_table(rows: &[Vec<String>]) {
    print_table_indented(rows, "");
}

fn print_table_indented(rows: &[Vec<String>], indent: &str) {
    let cols = rows.iter().map(|r| r.len()).max().unwrap_or(0);
    let widths: Vec<usize> =
        (0..cols).map(|c| rows.iter().map(|r| r.get(c).map_or(0, |s| s.chars().count())).max().unwrap_or(0)).collect();
    let stdout = std::io::stdout();
    let mut w = stdout.lock();
    for r in rows {
        let mut line = String::from(indent);
        for (i, cell) in r.iter().enumerate() {
            if i + 1 == r.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{:<width$}  ", cell, width = widths[i]));
            }
        }
        let _ = writeln!(w, "{}", line.trim_end());
    }
}

/// A spinner on stderr that appears only if the operation is still running after a second, and
/// only on a terminal (never in `--json` mode or when piped).
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn start(out: &Out, message: &str) -> Progress {
        if out.json || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::hidden());
        bar.set_message(message.to_string());
        let shown = bar.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if !shown.is_finished() {
                shown.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Progress { bar: Some(bar) }
    }

    pub fn finish(self) {
        if let Some(b) = self.bar {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00.000");
        assert_eq!(utc(1_763_770_001_234), "2025-11-22 00:06:41.234");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00.000");
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(5), "5s");
        assert_eq!(human_duration(125), "2m05s");
        assert_eq!(human_duration(7260), "2h01m");
        assert_eq!(human_duration(90000), "1d01h");
    }
}

#[cfg(test)]
mod clean_tests {
    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(super::escape_controls("plain\ttext\n"), "plain\ttext\n");
        assert_eq!(super::escape_controls("java -jar \u{1b}]0;pwned\u{7}.jar"), "java -jar \\u{1b}]0;pwned\\u{7}.jar");
        assert_eq!(super::escape_controls("a\rb\u{9b}c"), "a\\rb\\u{9b}c");
    }
}
