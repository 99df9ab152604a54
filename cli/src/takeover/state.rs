//! A replacement in progress leaves a record in jhot's private directory, so that if jhot dies in
//! the middle (SIGKILL, a lost terminal) a later jhot command can say what happened and clean up:
//! a new process that was never made live is stopped; one that was already live stays.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::agent::private_dir;
use crate::attach::process_alive;

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
    path: PathBuf,
    pub record: Record,
}

fn path_for(old_pid: u32) -> PathBuf {
    private_dir::own_dir().join(format!("replace-{old_pid}.json"))
}

fn start_of(pid: u32) -> u64 {
    crate::attach::proc::start_ticks(pid).unwrap_or(0)
}

impl StateFile {
    pub fn begin(old_pid: u32) -> std::io::Result<StateFile> {
        let me = std::process::id();
        let record = Record {
            jhot_pid: me,
            jhot_start: start_of(me),
            old_pid,
            old_start: start_of(old_pid),
            new_pid: None,
            new_start: None,
            phase: "starting".into(),
            started_unix_ms: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0),
        };
        let f = StateFile { path: path_for(old_pid), record };
        f.save()?;
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

    /// Written beside and renamed, without fsync: the record is for a jhot that dies, not for a
    /// machine that does, and it is written inside the swap.
    fn save(&self) -> std::io::Result<()> {
        let bytes = serde_json::to_vec_pretty(&self.record).map_err(std::io::Error::other)?;
        let dir = private_dir::own_dir();
        if !dir.is_dir() {
            private_dir::write_own_file(".keep", b"").map_err(|e| std::io::Error::other(e.to_string()))?;
        }
        let tmp = dir.join(format!(".replace-{}.{}.tmp", self.record.old_pid, std::process::id()));
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.path)
    }

    pub fn finish(self) {
        let _ = std::fs::remove_file(&self.path);
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
pub fn recover_all() -> Vec<Recovered> {
    let Ok(dir) = std::fs::read_dir(private_dir::own_dir()) else { return Vec::new() };
    let mut out = Vec::new();
    for e in dir.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !(name.starts_with("replace-") && name.ends_with(".json")) {
            continue;
        }
        let Ok(bytes) = std::fs::read(e.path()) else { continue };
        let Ok(rec) = serde_json::from_slice::<Record>(&bytes) else {
            let _ = std::fs::remove_file(e.path());
            continue;
        };
        if process_alive(rec.jhot_pid, rec.jhot_start) {
            continue;
        }
        out.push(recover(&rec));
        let _ = std::fs::remove_file(e.path());
    }
    out
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
            signal(pid, rustix::process::Signal::KILL);
            format!("stopped the new process {pid}, which was never made live; pid {} keeps serving", rec.old_pid)
        }
        ("draining", true, true) => {
            signal(rec.old_pid, rustix::process::Signal::TERM);
            format!(
                "the new process {} is live; sent SIGTERM to finish draining pid {}",
                rec.new_pid.unwrap_or(0),
                rec.old_pid
            )
        }
        (_, true, false) => format!("the new process {} is live; pid {} has exited", rec.new_pid.unwrap_or(0), rec.old_pid),
        _ => "neither process is running any more".to_string(),
    };
    Recovered { old_pid: rec.old_pid, new_pid: rec.new_pid, phase: rec.phase.clone(), action }
}

fn signal(pid: u32, sig: rustix::process::Signal) {
    if let Some(p) = rustix::process::Pid::from_raw(pid as i32) {
        let _ = rustix::process::kill_process(p, sig);
    }
}
