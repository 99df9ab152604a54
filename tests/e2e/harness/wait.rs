//! Bounded waits.

use std::thread;
use std::time::{Duration, Instant};

use super::alive;

/// Polls `cond` every 20 ms until it is true or `timeout` passes; returns its last value.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (at most 5 s) for the agent's Unix socket in JVM `pid`: after a cold load it opens
/// beside the first request.
pub fn wait_for_agent_socket(pid: u32) -> String {
    let sock = format!("/tmp/.jhot-0/{pid}.sock");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !std::path::Path::new(&sock).exists() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    sock
}

/// Polls (every 20 ms, up to `timeout`) until `pid` is gone; returns whether it is.
pub fn wait_gone(pid: u32, timeout: Duration) -> bool {
    let until = Instant::now() + timeout;
    while Instant::now() < until {
        if !alive(pid) {
            return true;
        }
        thread::sleep(Duration::from_millis(20));
    }
    !alive(pid)
}
