//! A replacement in progress leaves a record in jhot's private directory, so that if jhot dies in
//! the middle (SIGKILL, a lost terminal) a later jhot command can say what happened and clean up:
//! a new process that was never made live is stopped; one that was already live stays.

use serde::{Deserialize, Serialize};

use crate::agent::{AgentError, private_dir};
use jhot_attach::process_alive;
use jhot_attach::safe_fs::PrivateDir;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    pub jhot_pid: u32,
    pub jhot_start: u64,
    pub old_pid: u32,
    pub old_start: u64,
    pub new_pid: Option<u32>,
    pub new_start: Option<u64>,
    /// "starting": the new process is not live yet; "draining": it is, the old one is stopping.
    pub phase: String,
    pub started_unix_ms: u64,
}

pub struct StateFile {
    /// jhot's own private directory, verified and open: the record is never written through a
    /// path someone else could have prepared.
    dir: PrivateDir,
    name: String,
    pub record: Record,
}

fn name_for(old_pid: u32) -> String {
    format!("replace-{old_pid}.json")
}

/// A record is a few hundred bytes; anything larger was not written by jhot.
const MAX_RECORD: u64 = 64 * 1024;

fn start_of(pid: u32) -> u64 {
    jhot_attach::procfs::start_ticks(pid).unwrap_or(0)
}

impl StateFile {
    /// Fails closed: without a safe place for the record there is no replacement.
    pub fn begin(old_pid: u32) -> Result<StateFile, AgentError> {
        let me = std::process::id();
        let record = Record {
            jhot_pid: me,
            jhot_start: start_of(me),
            old_pid,
            old_start: start_of(old_pid),
            new_pid: None,
            new_start: None,
            phase: "starting".into(),
            started_unix_ms: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0),
        };
        let dir = private_dir::own(true)?.ok_or_else(|| AgentError::Install {
            path: private_dir::own_path(),
            source: std::io::ErrorKind::NotFound.into(),
        })?;
        let f = StateFile { dir, name: name_for(old_pid), record };
        f.save().map_err(|e| AgentError::Install { path: f.dir.shown_file(&f.name), source: e })?;
        Ok(f)
    }

    pub fn set_new(&mut self, pid: u32, start: u64) -> std::io::Result<()> {
        self.record.new_pid = Some(pid);
        self.record.new_start = Some(start);
        self.save()
    }

    pub fn set_phase(&mut self, phase: &str) -> std::io::Result<()> {
        self.record.phase = phase.into();
        self.save()
    }

    /// Written beside and renamed (exclusively created, never through a link), without fsync:
    /// the record is for a jhot that dies, not for a machine that does, and it is written inside
    /// the swap.
    fn save(&self) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.record).map_err(std::io::Error::other)?;
        self.dir.write(&self.name, &bytes)
    }

    pub fn finish(self) {
        self.dir.remove(&self.name);
    }
}

/// What a later command found and did about an interrupted replacement.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Recovered {
    pub old_pid: u32,
    pub new_pid: Option<u32>,
    pub phase: String,
    pub action: String,
}

impl std::fmt::Display for Recovered {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "an interrupted `jhot replace` of pid {} (phase: {}): {}", self.old_pid, self.phase, self.action)
    }
}

/// Cleans up after every replacement whose jhot is gone. Replacements still running are left alone.
///
/// Records are read only from jhot's own directory once it has passed every check; a directory
/// another user could have prepared is an error (exit 4), and then nothing in it is read or acted
/// on — a planted record must never make jhot signal a process.
pub fn recover_all() -> Result<Vec<Recovered>, AgentError> {
    let Some(dir) = private_dir::own(false)? else { return Ok(Vec::new()) };
    let names = dir.names().map_err(|e| AgentError::Install { path: dir.shown().into(), source: e })?;
    let mut out = Vec::new();
    for name in names {
        if !(name.starts_with("replace-") && name.ends_with(".json")) {
            continue;
        }
        let Ok(bytes) = dir.read(&name, MAX_RECORD) else { continue };
        let Ok(rec) = serde_json::from_slice::<Record>(&bytes) else {
            dir.remove(&name);
            continue;
        };
        if process_alive(rec.jhot_pid, rec.jhot_start) {
            continue;
        }
        out.push(recover(&rec));
        dir.remove(&name);
    }
    Ok(out)
}

fn recover(rec: &Record) -> Recovered {
    let old_alive = process_alive(rec.old_pid, rec.old_start);
    let new_alive = match (rec.new_pid, rec.new_start) {
        (Some(p), Some(s)) => process_alive(p, s),
        _ => false,
    };
    let action = match (rec.phase.as_str(), new_alive, old_alive) {
        (_, false, true) => format!("pid {} keeps serving; the new process is gone", rec.old_pid),
        ("starting", true, true) => {
            let pid = rec.new_pid.unwrap_or(0);
            // Never made live: it shares the listener but must not stay half-started.
            signal(pid, rec.new_start.unwrap_or(0), rustix::process::Signal::KILL);
            format!("stopped the new process {pid}, which was never made live; pid {} keeps serving", rec.old_pid)
        }
        ("draining", true, true) => {
            signal(rec.old_pid, rec.old_start, rustix::process::Signal::TERM);
            format!(
                "the new process {} is live; sent SIGTERM to finish draining pid {}",
                rec.new_pid.unwrap_or(0),
                rec.old_pid
            )
        }
        (_, true, false) => {
            format!("the new process {} is live; pid {} has exited", rec.new_pid.unwrap_or(0), rec.old_pid)
        }
        _ => "neither process is running any more".to_string(),
    };
    Recovered { old_pid: rec.old_pid, new_pid: rec.new_pid, phase: rec.phase.clone(), action }
}

/// Signals the process that started at `start`, never a process that reused its pid.
fn signal(pid: u32, start: u64, sig: rustix::process::Signal) {
    if let Ok(Some(fd)) = jhot_attach::pidfd_of(pid, start) {
        let _ = rustix::process::pidfd_send_signal(&fd, sig);
    }
}
