//! What a run counted: [`Counts`] (and the failure classes they count), latency summaries, the
//! timeline, and the [`Report`] they end up in.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::config::{Config, Mode};
use crate::hist::Histogram;
use crate::stats::Stats;

/// Counters. `failed` = refused + connect_other + reset_* + eof_* + timeout + other.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Counts {
    /// Requests started (written or attempted on a connection); a retried request counts once.
    pub requests: u64,
    pub ok: u64,
    pub non2xx: u64,
    pub failed: u64,
    pub refused: u64,
    pub connect_other: u64,
    pub reset_fresh: u64,
    pub reset_reused: u64,
    pub eof_fresh: u64,
    pub eof_reused: u64,
    /// Of the resets, how many came after some response bytes had arrived.
    pub reset_partial: u64,
    /// Of the EOFs, how many came after some response bytes had arrived.
    pub eof_partial: u64,
    pub timeout: u64,
    pub other: u64,
    pub client_retries: u64,
    pub retries_ok: u64,
    /// Connections opened.
    pub connections: u64,
    /// Keep-alive connections found closed by the server before the next request was written
    /// (reopened; not failures).
    pub idle_closed: u64,
    /// Keep-alive responses that carried `Connection: close` (connection reopened; not failures).
    pub server_closed: u64,
    /// Requests still in flight when the run was cut off (not counted anywhere else).
    pub unfinished: u64,
}

impl Counts {
    pub(crate) fn merge(&mut self, o: &Counts) {
        self.requests += o.requests;
        self.ok += o.ok;
        self.non2xx += o.non2xx;
        self.failed += o.failed;
        self.refused += o.refused;
        self.connect_other += o.connect_other;
        self.reset_fresh += o.reset_fresh;
        self.reset_reused += o.reset_reused;
        self.eof_fresh += o.eof_fresh;
        self.eof_reused += o.eof_reused;
        self.reset_partial += o.reset_partial;
        self.eof_partial += o.eof_partial;
        self.timeout += o.timeout;
        self.other += o.other;
        self.client_retries += o.client_retries;
        self.retries_ok += o.retries_ok;
        self.connections += o.connections;
        self.idle_closed += o.idle_closed;
        self.server_closed += o.server_closed;
        self.unfinished += o.unfinished;
    }

    pub(crate) fn add_fail(&mut self, f: Fail) {
        self.failed += 1;
        match f {
            Fail::Refused => self.refused += 1,
            Fail::ConnectOther => self.connect_other += 1,
            Fail::Reset { fresh, partial } => {
                if fresh {
                    self.reset_fresh += 1
                } else {
                    self.reset_reused += 1
                }
                if partial {
                    self.reset_partial += 1
                }
            }
            Fail::Eof { fresh, partial } => {
                if fresh {
                    self.eof_fresh += 1
                } else {
                    self.eof_reused += 1
                }
                if partial {
                    self.eof_partial += 1
                }
            }
            Fail::Timeout => self.timeout += 1,
            Fail::Other => self.other += 1,
        }
    }

    /// The failure classes in the order of the `RESULT` line.
    pub fn classes(&self) -> [(&'static str, u64); 10] {
        [
            ("refused", self.refused),
            ("connect_other", self.connect_other),
            ("reset_fresh", self.reset_fresh),
            ("reset_reused", self.reset_reused),
            ("eof_fresh", self.eof_fresh),
            ("eof_reused", self.eof_reused),
            ("eof_partial", self.eof_partial),
            ("reset_partial", self.reset_partial),
            ("timeout", self.timeout),
            ("other", self.other),
        ]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    Refused,
    ConnectOther,
    Reset { fresh: bool, partial: bool },
    Eof { fresh: bool, partial: bool },
    Timeout,
    Other,
}

/// Latency summary in milliseconds.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Latency {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

fn ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl Latency {
    fn of(h: &Histogram) -> Latency {
        Latency {
            count: h.count(),
            mean: (h.mean()).round() / 1000.0,
            p50: ms(h.quantile(0.50)),
            p90: ms(h.quantile(0.90)),
            p99: ms(h.quantile(0.99)),
            p999: ms(h.quantile(0.999)),
            max: ms(h.max()),
        }
    }
}

/// One timeline bucket. Latencies (ms) are over the responses of requests that started in it;
/// `None` when there were none.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Bucket {
    /// Start of the bucket, unix ms.
    pub t: u64,
    pub ok: u64,
    pub failed: u64,
    pub non2xx: u64,
    pub p50: Option<f64>,
    pub p99: Option<f64>,
    pub max: Option<f64>,
}

/// Counters and latency over a time window (whole buckets that overlap it).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Window {
    pub from_unix_ms: u64,
    pub to_unix_ms: u64,
    /// The buckets actually covered.
    pub buckets_from_unix_ms: u64,
    pub buckets_to_unix_ms: u64,
    #[serde(flatten)]
    pub counts: Counts,
    pub latency_ms: Latency,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConfigEcho {
    pub url: String,
    pub addr: String,
    pub path: String,
    pub connections: usize,
    pub mode: Mode,
    pub keepalive: bool,
    pub rate: Option<f64>,
    pub duration_ms: u64,
    pub stop_file: Option<String>,
    pub max_requests: Option<u64>,
    pub timeout_ms: u64,
    pub retry: bool,
    pub bucket_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: &'static str,
    pub config: ConfigEcho,
    pub start_unix_ms: u64,
    /// When `LOADGEN started` was reached (all workers had a response, or 2 s).
    pub started_unix_ms: Option<u64>,
    pub end_unix_ms: u64,
    pub elapsed_ms: u64,
    #[serde(flatten)]
    pub counts: Counts,
    /// `ok` per second of `elapsed_ms`.
    pub rps: f64,
    /// Responses per `X-Gen` header value (`-` when absent).
    pub gens: BTreeMap<String, u64>,
    /// Responses per `X-Pid` header value (`-` when absent).
    pub pids: BTreeMap<String, u64>,
    pub statuses: BTreeMap<u16, u64>,
    pub latency_ms: Latency,
    pub bucket_ms: u64,
    pub timeline: Vec<Bucket>,
    /// Filled in by [`Report::window`] users (the binary's `--window-file`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
    /// The first distinct error messages (at most 20).
    pub error_samples: Vec<String>,
    #[serde(skip)]
    raw: Vec<RawBucket>,
}

impl Report {
    /// Counters and latency over the buckets that overlap `[from, to]` (unix ms).
    pub fn window(&self, from_unix_ms: u64, to_unix_ms: u64) -> Window {
        let b = self.bucket_ms;
        let mut counts = Counts::default();
        let mut h = Histogram::default();
        let (mut first, mut last) = (None, None);
        for (i, raw) in self.raw.iter().enumerate() {
            let t = self.start_unix_ms + i as u64 * b;
            if t + b > from_unix_ms && t <= to_unix_ms {
                counts.merge(&raw.counts);
                h.merge(&raw.hist);
                first.get_or_insert(t);
                last = Some(t + b);
            }
        }
        Window {
            from_unix_ms,
            to_unix_ms,
            buckets_from_unix_ms: first.unwrap_or(from_unix_ms),
            buckets_to_unix_ms: last.unwrap_or(to_unix_ms),
            counts,
            latency_ms: Latency::of(&h),
        }
    }

    /// The one-line human summary (`RESULT keepalive=... ok=... failed=... [refused=... ...]`).
    pub fn result_line(&self) -> String {
        let c = &self.counts;
        let classes: Vec<String> = c.classes().iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!(
            "RESULT keepalive={} retry={} conns={} dur_ms={} ok={} non2xx={} failed={} [{}] client_retries={} retries_ok={} idle_closed={} server_closed={} unfinished={} gens={} pids={} rps={:.0} p50={}ms p99={}ms max={}ms",
            self.config.keepalive,
            self.config.retry,
            self.config.connections,
            self.elapsed_ms,
            c.ok,
            c.non2xx,
            c.failed,
            classes.join(" "),
            c.client_retries,
            c.retries_ok,
            c.idle_closed,
            c.server_closed,
            c.unfinished,
            serde_json::to_string(&self.gens).unwrap_or_default(),
            serde_json::to_string(&self.pids).unwrap_or_default(),
            self.rps,
            self.latency_ms.p50,
            self.latency_ms.p99,
            self.latency_ms.max,
        )
    }
}

impl Report {
    /// The report of a run that started at `start_unix` (unix ms) and lasted `elapsed`;
    /// `started` is when it was marked started (unix ms, 0 = never).
    pub(crate) fn new(cfg: &Config, mut stats: Stats, start_unix: u64, elapsed: Duration, started: u64) -> Report {
        let end_unix = start_unix + elapsed.as_millis() as u64;
        let bucket_ms = cfg.bucket_ms;
        let nb = (elapsed.as_millis().div_ceil(u128::from(bucket_ms)) as usize).max(stats.buckets.len());
        stats.buckets.resize_with(nb, RawBucket::default);
        let timeline = timeline(&stats.buckets, start_unix, bucket_ms);
        let secs = elapsed.as_secs_f64();
        Report {
            tool: "jhot-loadgen",
            config: ConfigEcho::of(cfg),
            start_unix_ms: start_unix,
            started_unix_ms: (started > 0).then_some(started),
            end_unix_ms: end_unix,
            elapsed_ms: elapsed.as_millis() as u64,
            rps: if secs > 0.0 { (stats.counts.ok as f64 / secs * 10.0).round() / 10.0 } else { 0.0 },
            latency_ms: Latency::of(&stats.hist),
            counts: stats.counts,
            gens: stats.gens,
            pids: stats.pids,
            statuses: stats.statuses,
            bucket_ms,
            timeline,
            window: None,
            error_samples: stats.errors,
            raw: stats.buckets,
        }
    }
}

impl ConfigEcho {
    /// The config as the report echoes it.
    fn of(cfg: &Config) -> ConfigEcho {
        ConfigEcho {
            url: cfg.url.clone(),
            addr: cfg.addr.to_string(),
            path: cfg.path.clone(),
            connections: cfg.connections,
            mode: cfg.mode,
            keepalive: cfg.mode == Mode::KeepAlive,
            rate: cfg.rate,
            duration_ms: cfg.duration.as_millis() as u64,
            stop_file: cfg.stop_file.as_ref().map(|p| p.display().to_string()),
            max_requests: cfg.max_requests,
            timeout_ms: cfg.timeout.as_millis() as u64,
            retry: cfg.retry,
            bucket_ms: cfg.bucket_ms,
        }
    }
}

/// The timeline: one [`Bucket`] per raw bucket, the first starting at `start_unix` (unix ms).
fn timeline(buckets: &[RawBucket], start_unix: u64, bucket_ms: u64) -> Vec<Bucket> {
    buckets
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let has = b.hist.count() > 0;
            Bucket {
                t: start_unix + i as u64 * bucket_ms,
                ok: b.counts.ok,
                failed: b.counts.failed,
                non2xx: b.counts.non2xx,
                p50: has.then(|| ms(b.hist.quantile(0.5))),
                p99: has.then(|| ms(b.hist.quantile(0.99))),
                max: has.then(|| ms(b.hist.max())),
            }
        })
        .collect()
}

#[derive(Debug, Clone, Default)]
pub(crate) struct RawBucket {
    pub(crate) counts: Counts,
    pub(crate) hist: Histogram,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fail_counting() {
        let mut c = Counts::default();
        c.add_fail(Fail::Refused);
        c.add_fail(Fail::Eof { fresh: false, partial: true });
        c.add_fail(Fail::Reset { fresh: true, partial: false });
        c.add_fail(Fail::Timeout);
        assert_eq!((c.failed, c.refused, c.eof_reused, c.eof_partial, c.reset_fresh, c.timeout), (4, 1, 1, 1, 1, 1));
    }
}
