//! Sessions kept open between commands, for a process that runs many (the shell switches it on).
//!
//! Every engine function connects through [`super::channel::connect_with`]; with keeping switched
//! on ([`keep_sessions`]), a session that ends cleanly goes back here when it is dropped, and the
//! next connection to the same process (same pid, same start time) takes it instead of opening a
//! socket, checking the peer and saying hello again. A one-shot `jhot` never switches it on, so
//! nothing changes for it.
//!
//! A session dropped in the middle of a request (a command cancelled with Ctrl-C, a timeout, a
//! broken socket) is not kept: its socket closes, which is what tells the agent to stop a request
//! that opted into cancellation (docs/protocol.md), and the next command connects afresh. Nor is
//! one handed out after KEEP_FOR: the agent closes idle connections.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::channel::Session;

/// How long a kept session is handed out again. The agent closes a connection idle for 60 s
/// (docs/protocol.md, "Connection limits"): a shell left alone for a minute had its next command
/// fail with a broken pipe. Past this, the next command connects afresh.
const KEEP_FOR: Duration = Duration::from_secs(45);

static KEEP: AtomicBool = AtomicBool::new(false);
/// Each with the time it was kept.
static KEPT: Mutex<Vec<(Session, Instant)>> = Mutex::new(Vec::new());

/// From now on, keep sessions that end cleanly for the next command of this process.
pub fn keep_sessions() {
    KEEP.store(true, Ordering::Relaxed);
}

/// Closes every kept session (the agents stay resident) and stops keeping new ones.
pub fn close_all() {
    KEEP.store(false, Ordering::Relaxed);
    let kept = std::mem::take(&mut *KEPT.lock().unwrap_or_else(|p| p.into_inner()));
    drop(kept);
}

/// A kept session to process `pid` started at `start_time`, if there is one. A session whose
/// process has gone, or that waited too long for the agent to still hold it, is closed here
/// rather than handed out.
pub(super) fn take(pid: u32, start_time: u64) -> Option<Session> {
    if !KEEP.load(Ordering::Relaxed) {
        return None;
    }
    let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    let i = kept.iter().position(|(s, _)| s.is_to(pid, start_time))?;
    let (session, kept_at) = kept.swap_remove(i);
    drop(kept);
    if kept_at.elapsed() < KEEP_FOR && jhot_attach::process_alive(pid, start_time) {
        return Some(session);
    }
    close(session);
    None
}

/// Closes a session instead of letting its drop offer it back.
fn close(mut session: Session) {
    session.hello.protocol = 0;
}

/// Called when a session is dropped: `Some(session)` back to the caller when it is not kept.
pub(super) fn offer(session: Session) -> Option<Session> {
    if !KEEP.load(Ordering::Relaxed) {
        return Some(session);
    }
    let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
    // One per process: a second session to the same JVM (a command that opened two) is closed.
    if kept.iter().any(|(s, _)| s.is_to(session.pid(), session.start_time())) {
        return Some(session);
    }
    kept.push((session, Instant::now()));
    None
}
