//! `jhot-loadgen`: an HTTP/1.1 load generator that counts every kind of failure separately, for
//! the takeover tests and benchmarks (CLI and JSON fields: README.md beside Cargo.toml).
//!
//! * N workers, each with its own connection, built with hyper 1's low-level client
//!   (`hyper::client::conn::http1`) so every connect, reuse and close is ours.
//!   Keep-alive mode reuses the connection; close mode sends `Connection: close` and opens a new
//!   connection per request.
//! * Closed loop by default; `rate` caps the total requests per second (a shared schedule).
//! * Failure classes: `refused` (one per connect attempt, then 1 ms back-off), `connect_other`,
//!   `reset_fresh`/`reset_reused`, `eof_fresh`/`eof_reused` (`eof_partial`/`reset_partial`: of
//!   those, how many had already received response bytes), `timeout`, `other`.
//!   `failed` is their sum; `non2xx` is counted apart (a response arrived). A request is *fresh*
//!   when it was the first on its connection.
//! * A keep-alive connection the server closed between two requests, noticed before the next
//!   request was written (hyper returns it unsent), is reopened like any pooled client does and
//!   counted as `idle_closed`, not as a failure. A close that races a request already written is
//!   a failure (`eof_reused`/`reset_reused`).
//! * `retry` mimics Go/OkHttp: one retry on a new connection, only when a *reused* connection
//!   failed (reset or EOF) before any response byte arrived (`client_retries`, `retries_ok`).
//! * Latency runs from the start of the request (from the successful connect attempt for a new
//!   connection; from the first attempt for a retried request) to the end of the body, for every
//!   response (2xx or not). Log-linear histograms ([`hist`]), overall and per time bucket; a
//!   request belongs to the bucket in which it started.

mod config;
pub mod hist;
mod io;
mod report;
mod stats;
mod worker;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::{sleep, sleep_until, timeout_at};

pub use config::{Config, ConfigError, Mode};
pub use hist::Histogram;
pub use report::{Bucket, ConfigEcho, Counts, Latency, Report, Window};
use stats::Stats;
use worker::{Shared, worker};

/// Start/stop control shared with the caller of [`run_with`].
#[derive(Debug)]
pub struct Control {
    stop: watch::Sender<bool>,
    started: watch::Sender<bool>,
}

impl Control {
    pub fn new() -> Arc<Control> {
        Arc::new(Control { stop: watch::Sender::new(false), started: watch::Sender::new(false) })
    }

    /// Ask the run to stop: no new requests; requests in flight get up to `timeout` to finish.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// Resolves once every worker has had a response, or 2 s after the start, or at the end.
    pub async fn started(&self) {
        let mut rx = self.started.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// Resolves once the flag is true (or its sender is gone).
pub(crate) async fn wait_true(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|v| *v).await;
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Runs the load with a private [`Control`] (stops on the deadline, `max_requests` or the stop file).
pub async fn run(config: Config) -> Report {
    run_with(config, Control::new()).await
}

/// Runs the load; `control` lets the caller wait for [`Control::started`] and [`Control::stop`] it.
/// The config should have passed [`Config::validate`].
pub async fn run_with(config: Config, control: Arc<Control>) -> Report {
    let start_sys = SystemTime::now();
    let start = Instant::now();
    let start_unix = unix_ms(start_sys);
    let deadline = start + config.duration;
    let n = config.connections;
    let sh = Arc::new(Shared {
        cfg: config,
        start,
        deadline,
        issued: AtomicU64::new(0),
        slot: AtomicU64::new(0),
        responding: AtomicUsize::new(0),
    });
    let abort = watch::Sender::new(false);

    let mut aux = JoinSet::new();
    if let Some(path) = sh.cfg.stop_file.clone() {
        aux.spawn(watch_stop_file(path, control.clone()));
    }
    let started_at = Arc::new(AtomicU64::new(0));
    aux.spawn(watch_started(sh.clone(), control.clone(), started_at.clone()));

    let mut set = JoinSet::new();
    for _ in 0..n {
        set.spawn(worker(sh.clone(), control.stop.subscribe(), abort.subscribe()));
    }
    let (stats, end) = collect(set, &sh, &control, &abort).await;
    control.stop();
    aux.abort_all();
    while aux.join_next().await.is_some() {}
    if started_at.load(Relaxed) == 0 && sh.responding.load(Relaxed) >= n {
        // finished (max_requests) before the monitor's next look
        started_at.store(unix_ms(SystemTime::now()), Relaxed);
        if sh.cfg.announce {
            eprintln!("LOADGEN started workers={n} responding={n}");
        }
    }
    control.started.send_replace(true);
    let end = end.unwrap_or_else(Instant::now).max(start);
    Report::new(&sh.cfg, stats, start_unix, end - start, started_at.load(Relaxed))
}

/// Stops the run once `path` exists (checked every 10 ms).
async fn watch_stop_file(path: PathBuf, control: Arc<Control>) {
    while !control.is_stopped() {
        if path.exists() {
            control.stop();
            break;
        }
        sleep(Duration::from_millis(10)).await;
    }
}

/// `LOADGEN started`: once every worker has had a response, or 2 s after the start, records when
/// (unix ms, in `started_at`), says so on stderr with `announce`, and resolves
/// [`Control::started`]. Gives up when the run stops first.
async fn watch_started(sh: Arc<Shared>, control: Arc<Control>, started_at: Arc<AtomicU64>) {
    let n = sh.cfg.connections;
    loop {
        if control.is_stopped() {
            break;
        }
        let responding = sh.responding.load(Relaxed);
        if responding >= n || sh.start.elapsed() >= Duration::from_secs(2) {
            started_at.store(unix_ms(SystemTime::now()), Relaxed);
            if sh.cfg.announce {
                eprintln!("LOADGEN started workers={n} responding={responding}");
            }
            control.started.send_replace(true);
            break;
        }
        sleep(Duration::from_millis(10)).await;
    }
}

/// Merges the workers' stats as they return. The cutoff is the deadline, or the timeout (+ 100 ms)
/// after a stop, for the requests in flight; at the cutoff the workers are aborted at their next
/// await point and get 2 s more to return their stats. Also returns when the run ended (the stop,
/// or the cutoff).
async fn collect(
    mut set: JoinSet<Stats>,
    sh: &Shared,
    control: &Control,
    abort: &watch::Sender<bool>,
) -> (Stats, Option<Instant>) {
    let mut stats = Stats::default();
    let mut stop_rx = control.stop.subscribe();
    let mut cutoff = sh.deadline;
    let mut stopping = false;
    let mut end = None;
    loop {
        tokio::select! {
            r = set.join_next() => match r {
                None => break,
                Some(Ok(s)) => stats.merge(s),
                Some(Err(e)) => stats.note_error(format!("worker task: {e}")),
            },
            _ = wait_true(&mut stop_rx), if !stopping => {
                stopping = true;
                end = Some(Instant::now());
                cutoff = cutoff.min(Instant::now() + sh.cfg.timeout + Duration::from_millis(100));
            }
            _ = sleep_until(cutoff.into()) => {
                end.get_or_insert(cutoff);
                control.stop();
                abort.send_replace(true);
                // workers return at their next await point
                let grace = Instant::now() + Duration::from_secs(2);
                while let Ok(Some(r)) = timeout_at(grace.into(), set.join_next()).await {
                    match r {
                        Ok(s) => stats.merge(s),
                        Err(e) => stats.note_error(format!("worker task: {e}")),
                    }
                }
                set.abort_all();
                break;
            }
        }
    }
    (stats, end)
}
