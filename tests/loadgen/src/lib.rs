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

pub mod hist;
mod io;

use std::collections::BTreeMap;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONNECTION, HOST, USER_AGENT};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{sleep, sleep_until, timeout, timeout_at};

pub use hist::Histogram;
use io::{IoState, Tracked};

/// How each worker uses its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Reuse the connection for the next request.
    KeepAlive,
    /// Send `Connection: close`; a new connection per request.
    Close,
}

/// What to run. Build it with [`Config::new`], then set the public fields.
#[derive(Debug, Clone)]
pub struct Config {
    /// The URL as given (echoed in the report).
    pub url: String,
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    pub path: String,
    pub connections: usize,
    pub mode: Mode,
    /// Total requests per second over all workers; `None` = closed loop.
    pub rate: Option<f64>,
    /// Hard cap on the run.
    pub duration: Duration,
    /// Stop early once this file exists (checked every 10 ms).
    pub stop_file: Option<PathBuf>,
    /// Stop after this many requests have been started (connect attempts refused do not count).
    pub max_requests: Option<u64>,
    /// Per request (and per connect attempt).
    pub timeout: Duration,
    pub retry: bool,
    pub bucket_ms: u64,
    /// Print `LOADGEN started` and the `RESULT` line on stderr.
    pub announce: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Parses `http://HOST[:PORT][/PATH]` (the path, if any, becomes the default path) and fills in
    /// the defaults: 16 keep-alive connections, closed loop, 5 s timeout, 50 ms buckets.
    pub fn new(url: &str, duration: Duration) -> Result<Config, ConfigError> {
        let (addr, host, path) = parse_url(url)?;
        let c = Config {
            url: url.to_string(),
            addr,
            host,
            path,
            connections: 16,
            mode: Mode::KeepAlive,
            rate: None,
            duration,
            stop_file: None,
            max_requests: None,
            timeout: Duration::from_secs(5),
            retry: false,
            bucket_ms: 50,
            announce: false,
        };
        Ok(c)
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |s: &str| Err(ConfigError(s.to_string()));
        if self.connections == 0 || self.connections > 10_000 {
            return err("connections must be between 1 and 10000");
        }
        if self.duration.is_zero() {
            return err("duration must be > 0");
        }
        if self.timeout.is_zero() {
            return err("timeout must be > 0");
        }
        if self.bucket_ms == 0 {
            return err("bucket-ms must be > 0");
        }
        if self.duration.as_millis() / u128::from(self.bucket_ms) > 10_000_000 {
            return err("too many buckets: raise bucket-ms or lower duration");
        }
        if let Some(r) = self.rate
            && (!r.is_finite() || r <= 0.0)
        {
            return err("rate must be > 0");
        }
        if !self.path.starts_with('/') || self.path.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return err("path must start with '/' and contain no spaces");
        }
        self.path.parse::<hyper::Uri>().map_err(|e| ConfigError(format!("bad path {:?}: {e}", self.path)))?;
        Ok(())
    }
}

fn parse_url(url: &str) -> Result<(SocketAddr, String, String), ConfigError> {
    let bad = |m: &str| ConfigError(format!("{m}: {url:?}"));
    let Some(scheme_end) = url.find("://") else {
        return Err(bad("not a URL (expected http://HOST:PORT)"));
    };
    if !url[..scheme_end].eq_ignore_ascii_case("http") {
        return Err(bad("only http:// URLs are supported"));
    }
    let rest = &url[scheme_end + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(auth_end);
    if authority.is_empty() || authority.contains('@') {
        return Err(bad("missing host, or user info in URL"));
    }
    let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
        let close = stripped.find(']').ok_or_else(|| bad("bad IPv6 literal"))?;
        let h = &stripped[..close];
        let p = &stripped[close + 1..];
        (h.to_string(), if p.is_empty() { None } else { Some(p.strip_prefix(':').ok_or_else(|| bad("bad port"))?) })
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port: u16 = match port {
        Some(p) => p.parse().map_err(|_| bad("bad port"))?,
        None => 80,
    };
    let addr = (host.as_str(), port)
        .to_socket_addrs()
        .map_err(|e| ConfigError(format!("cannot resolve {host:?}: {e}")))?
        .next()
        .ok_or_else(|| bad("host resolves to no address"))?;
    let tail = tail.split('#').next().unwrap_or("");
    let path = if tail.is_empty() || tail.starts_with('?') { format!("/{tail}") } else { tail.to_string() };
    Ok((addr, authority.to_string(), path))
}

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
    fn merge(&mut self, o: &Counts) {
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

    fn add_fail(&mut self, f: Fail) {
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
enum Fail {
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

#[derive(Debug, Clone, Default)]
struct RawBucket {
    counts: Counts,
    hist: Histogram,
}

const MAX_ERROR_SAMPLES: usize = 20;
const MAX_HEADER_KEYS: usize = 1000;

#[derive(Debug, Default)]
struct Stats {
    counts: Counts,
    hist: Histogram,
    gens: BTreeMap<String, u64>,
    pids: BTreeMap<String, u64>,
    statuses: BTreeMap<u16, u64>,
    buckets: Vec<RawBucket>,
    errors: Vec<String>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, n: u64) {
    if let Some(v) = map.get_mut(key) {
        *v += n;
    } else if map.len() < MAX_HEADER_KEYS {
        map.insert(key.to_string(), n);
    } else {
        *map.entry("(other)".to_string()).or_insert(0) += n;
    }
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.counts.merge(&o.counts);
        self.hist.merge(&o.hist);
        for (k, v) in o.gens {
            bump(&mut self.gens, &k, v);
        }
        for (k, v) in o.pids {
            bump(&mut self.pids, &k, v);
        }
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_insert(0) += v;
        }
        if self.buckets.len() < o.buckets.len() {
            self.buckets.resize_with(o.buckets.len(), RawBucket::default);
        }
        for (i, b) in o.buckets.into_iter().enumerate() {
            self.buckets[i].counts.merge(&b.counts);
            self.buckets[i].hist.merge(&b.hist);
        }
        for e in o.errors {
            self.note_error(e);
        }
    }

    fn note_error(&mut self, e: String) {
        if self.errors.len() < MAX_ERROR_SAMPLES && !self.errors.contains(&e) {
            self.errors.push(e);
        }
    }
}

struct Shared {
    cfg: Config,
    start: Instant,
    deadline: Instant,
    issued: AtomicU64,
    slot: AtomicU64,
    responding: AtomicUsize,
}

impl Shared {
    fn bucket_of(&self, t: Instant) -> usize {
        let max = (self.cfg.duration.as_millis() / u128::from(self.cfg.bucket_ms)) as usize;
        ((t.saturating_duration_since(self.start).as_millis() / u128::from(self.cfg.bucket_ms)) as usize).min(max)
    }
}

struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    io: Arc<IoState>,
    used: u64,
    task: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct Worker {
    sh: Arc<Shared>,
    stats: Stats,
    conn: Option<Conn>,
    in_flight: bool,
    responded: bool,
}

struct Response {
    status: u16,
    x_gen: Option<String>,
    pid: Option<String>,
    close: bool,
}

enum Attempt {
    Response(Response),
    /// hyper handed the request back unsent: the connection was already closed.
    Unsent,
    Failed(hyper::Error),
    TimedOut,
}

fn header_str(h: &hyper::HeaderMap, name: &str) -> Option<String> {
    h.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(x) = src {
        s.push_str(": ");
        s.push_str(&x.to_string());
        src = x.source();
    }
    s
}

fn chain_io_kind(e: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(x) = cur {
        if let Some(ioe) = x.downcast_ref::<std::io::Error>() {
            return Some(ioe.kind());
        }
        cur = x.source();
    }
    None
}

impl Worker {
    fn bucket(&mut self, t: Instant) -> &mut RawBucket {
        let i = self.sh.bucket_of(t);
        if self.stats.buckets.len() <= i {
            self.stats.buckets.resize_with(i + 1, RawBucket::default);
        }
        &mut self.stats.buckets[i]
    }

    /// Applies `f` to the run's counters and to those of the bucket of `t`.
    fn count(&mut self, t: Instant, f: impl Fn(&mut Counts)) {
        f(&mut self.stats.counts);
        f(&mut self.bucket(t).counts);
    }

    fn record_fail(&mut self, t0: Instant, f: Fail) {
        self.stats.counts.add_fail(f);
        self.bucket(t0).counts.add_fail(f);
    }

    fn record_response(&mut self, t0: Instant, r: &Response) {
        let lat = t0.elapsed().as_micros() as u64;
        let ok = (200..300).contains(&r.status);
        self.stats.hist.record(lat);
        let b = self.bucket(t0);
        b.hist.record(lat);
        if ok {
            b.counts.ok += 1
        } else {
            b.counts.non2xx += 1
        }
        if ok {
            self.stats.counts.ok += 1
        } else {
            self.stats.counts.non2xx += 1
        }
        *self.stats.statuses.entry(r.status).or_insert(0) += 1;
        bump(&mut self.stats.gens, r.x_gen.as_deref().unwrap_or("-"), 1);
        bump(&mut self.stats.pids, r.pid.as_deref().unwrap_or("-"), 1);
        if !self.responded {
            self.responded = true;
            self.sh.responding.fetch_add(1, Relaxed);
        }
    }

    /// Opens a connection, counting refused and failed attempts. Returns the start of the
    /// successful attempt, or `None` once stopped or past the deadline.
    async fn connect(&mut self, stop: &watch::Receiver<bool>) -> Option<Instant> {
        loop {
            if *stop.borrow() || Instant::now() >= self.sh.deadline {
                return None;
            }
            let t = Instant::now();
            match timeout(self.sh.cfg.timeout, TcpStream::connect(self.sh.cfg.addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    let io = Arc::new(IoState::default());
                    let tracked = TokioIo::new(Tracked::new(s, io.clone()));
                    match hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(tracked).await {
                        Ok((sender, conn)) => {
                            let task = tokio::spawn(async move {
                                let _ = conn.await;
                            });
                            self.count(t, |c| c.connections += 1);
                            self.conn = Some(Conn { sender, io, used: 0, task });
                            return Some(t);
                        }
                        Err(e) => {
                            self.stats.note_error(format!("handshake: {}", error_chain(&e)));
                            self.record_fail(t, Fail::ConnectOther);
                        }
                    }
                }
                Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                    self.record_fail(t, Fail::Refused);
                }
                Ok(Err(e)) => {
                    self.stats.note_error(format!("connect: {e}"));
                    self.record_fail(t, Fail::ConnectOther);
                }
                Err(_) => {
                    self.stats.note_error("connect: timed out".to_string());
                    self.record_fail(t, Fail::Timeout);
                    continue;
                }
            }
            sleep(Duration::from_millis(1)).await;
        }
    }

    fn request(&self) -> Request<Empty<Bytes>> {
        let cfg = &self.sh.cfg;
        let mut b = Request::builder()
            .method(Method::GET)
            .uri(cfg.path.as_str())
            .header(HOST, cfg.host.as_str())
            .header(USER_AGENT, "jhot-loadgen");
        if cfg.mode == Mode::Close {
            b = b.header(CONNECTION, "close");
        }
        b.body(Empty::new()).expect("validated request")
    }

    /// One request, with its connects and at most one retry. Returns false when the worker
    /// should stop.
    async fn one(&mut self, stop: &watch::Receiver<bool>) -> bool {
        if let Some(rate) = self.sh.cfg.rate {
            let k = self.sh.slot.fetch_add(1, Relaxed);
            let at = self.sh.start + Duration::from_secs_f64(k as f64 / rate);
            if at >= self.sh.deadline {
                return false;
            }
            let mut s = stop.clone();
            tokio::select! {
                _ = sleep_until(at.into()) => {}
                _ = wait_true(&mut s) => return false,
            }
        }
        let mut first_start: Option<Instant> = None;
        let mut retried: Option<Fail> = None; // the failure that was retried
        loop {
            // A keep-alive connection must still be usable; else reopen it, as a pool would.
            if let Some(c) = self.conn.as_mut() {
                let usable =
                    !c.sender.is_closed() && matches!(timeout(self.sh.cfg.timeout, c.sender.ready()).await, Ok(Ok(())));
                if !usable {
                    self.count(Instant::now(), |c| c.idle_closed += 1);
                    self.conn = None;
                }
            }
            let t0 = match &self.conn {
                Some(_) => Instant::now(),
                None => match self.connect(stop).await {
                    Some(t) => t,
                    None => {
                        if let (Some(f), Some(t)) = (retried, first_start) {
                            // stopped before the retry got a connection: the original failure stands
                            self.record_fail(t, f);
                        }
                        return false;
                    }
                },
            };
            let start = *first_start.get_or_insert(t0);
            if retried.is_none() {
                self.count(start, |c| c.requests += 1);
            }
            let req = self.request();
            let c = self.conn.as_mut().expect("connected");
            let fresh = c.used == 0;
            c.used += 1;
            let read_before = c.io.read();
            c.io.clear_flags();
            self.in_flight = true;
            let attempt = {
                let sender = &mut c.sender;
                let fut = async move {
                    match sender.try_send_request(req).await {
                        Err(mut e) => {
                            if e.take_message().is_some() {
                                Attempt::Unsent
                            } else {
                                Attempt::Failed(e.into_error())
                            }
                        }
                        Ok(resp) => {
                            let (parts, body) = resp.into_parts();
                            let r = Response {
                                status: parts.status.as_u16(),
                                x_gen: header_str(&parts.headers, "x-gen"),
                                pid: header_str(&parts.headers, "x-pid"),
                                close: parts
                                    .headers
                                    .get(CONNECTION)
                                    .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close")),
                            };
                            match body.collect().await {
                                Ok(_) => Attempt::Response(r),
                                Err(e) => Attempt::Failed(e),
                            }
                        }
                    }
                };
                match timeout_at((t0 + self.sh.cfg.timeout).into(), fut).await {
                    Ok(a) => a,
                    Err(_) => Attempt::TimedOut,
                }
            };
            self.in_flight = false;
            let c = self.conn.as_ref().expect("connected");
            let partial = c.io.read() > read_before;
            let saw_reset = c.io.reset.load(Relaxed);
            let saw_eof = c.io.eof.load(Relaxed);
            let fail = match attempt {
                Attempt::Response(r) => {
                    self.record_response(start, &r);
                    if retried.is_some() {
                        self.count(start, |c| c.retries_ok += 1);
                    }
                    if self.sh.cfg.mode == Mode::Close {
                        self.conn = None;
                    } else if r.close {
                        self.count(Instant::now(), |c| c.server_closed += 1);
                        self.conn = None;
                    }
                    return true;
                }
                Attempt::Unsent if !fresh => {
                    // closed between requests, noticed before writing: reopen, not a failure
                    // (only a reused connection gets here, so this is never the retry)
                    self.count(start, |c| c.requests -= 1);
                    self.count(Instant::now(), |c| c.idle_closed += 1);
                    self.conn = None;
                    first_start = None;
                    continue;
                }
                Attempt::Unsent => {
                    if saw_reset {
                        Fail::Reset { fresh, partial }
                    } else {
                        Fail::Eof { fresh, partial }
                    }
                }
                Attempt::TimedOut => Fail::Timeout,
                Attempt::Failed(e) => {
                    let kind = chain_io_kind(&e);
                    let f = if saw_reset || kind.is_some_and(io::is_reset) {
                        Fail::Reset { fresh, partial }
                    } else if saw_eof
                        || e.is_incomplete_message()
                        || e.is_canceled()
                        || e.is_closed()
                        || kind == Some(std::io::ErrorKind::UnexpectedEof)
                    {
                        Fail::Eof { fresh, partial }
                    } else {
                        Fail::Other
                    };
                    if f == Fail::Other || self.stats.errors.len() < MAX_ERROR_SAMPLES {
                        self.stats.note_error(error_chain(&e));
                    }
                    f
                }
            };
            self.conn = None;
            let retryable = matches!(fail, Fail::Reset { partial: false, .. } | Fail::Eof { partial: false, .. });
            if self.sh.cfg.retry && !fresh && retryable && retried.is_none() {
                self.count(start, |c| c.client_retries += 1);
                retried = Some(fail);
                continue;
            }
            self.record_fail(start, fail);
            return true;
        }
    }
}

async fn worker(sh: Arc<Shared>, stop: watch::Receiver<bool>, mut abort: watch::Receiver<bool>) -> Stats {
    let mut w = Worker { sh, stats: Stats::default(), conn: None, in_flight: false, responded: false };
    loop {
        if *stop.borrow() || Instant::now() >= w.sh.deadline {
            break;
        }
        if let Some(max) = w.sh.cfg.max_requests
            && w.sh.issued.fetch_add(1, Relaxed) >= max
        {
            break;
        }
        let go_on = tokio::select! {
            biased;
            _ = wait_true(&mut abort) => false,
            r = w.one(&stop) => r,
        };
        if w.in_flight {
            w.in_flight = false;
            w.count(Instant::now(), |c| c.unfinished += 1);
        }
        if !go_on {
            break;
        }
    }
    w.conn = None;
    w.stats
}

/// Resolves once the flag is true (or its sender is gone).
async fn wait_true(rx: &mut watch::Receiver<bool>) {
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

    // stop file
    let mut aux = JoinSet::new();
    if let Some(path) = sh.cfg.stop_file.clone() {
        let control = control.clone();
        aux.spawn(async move {
            while !control.is_stopped() {
                if path.exists() {
                    control.stop();
                    break;
                }
                sleep(Duration::from_millis(10)).await;
            }
        });
    }
    // LOADGEN started
    let started_at = Arc::new(AtomicU64::new(0));
    {
        let (sh, control, started_at) = (sh.clone(), control.clone(), started_at.clone());
        aux.spawn(async move {
            loop {
                if control.is_stopped() {
                    break;
                }
                let responding = sh.responding.load(Relaxed);
                if responding >= n || start.elapsed() >= Duration::from_secs(2) {
                    started_at.store(unix_ms(SystemTime::now()), Relaxed);
                    if sh.cfg.announce {
                        eprintln!("LOADGEN started workers={n} responding={responding}");
                    }
                    control.started.send_replace(true);
                    break;
                }
                sleep(Duration::from_millis(10)).await;
            }
        });
    }

    let mut set = JoinSet::new();
    for _ in 0..n {
        set.spawn(worker(sh.clone(), control.stop.subscribe(), abort.subscribe()));
    }
    let mut stats = Stats::default();
    let mut stop_rx = control.stop.subscribe();
    let mut cutoff = deadline;
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
    let elapsed = end - start;
    let end_unix = start_unix + elapsed.as_millis() as u64;

    let cfg = &sh.cfg;
    let bucket_ms = cfg.bucket_ms;
    let nb = (elapsed.as_millis().div_ceil(u128::from(bucket_ms)) as usize).max(stats.buckets.len());
    stats.buckets.resize_with(nb, RawBucket::default);
    let timeline = stats
        .buckets
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
        .collect();
    let started = started_at.load(Relaxed);
    let secs = elapsed.as_secs_f64();
    Report {
        tool: "jhot-loadgen",
        config: ConfigEcho {
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
            bucket_ms,
        },
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let (a, h, p) = parse_url("http://127.0.0.1:8080").unwrap();
        assert_eq!((a.to_string(), h.as_str(), p.as_str()), ("127.0.0.1:8080".into(), "127.0.0.1:8080", "/"));
        let (a, _, p) = parse_url("HTTP://127.0.0.1:9/slow?ms=50").unwrap();
        assert_eq!((a.port(), p.as_str()), (9, "/slow?ms=50"));
        let (a, h, _) = parse_url("http://[::1]:81/").unwrap();
        assert_eq!((a.to_string(), h.as_str()), ("[::1]:81".into(), "[::1]:81"));
        assert_eq!(parse_url("http://127.0.0.1").unwrap().0.port(), 80);
        assert!(parse_url("https://127.0.0.1:443").unwrap_err().0.contains("only http://"));
        assert!(parse_url("127.0.0.1:80").is_err());
        assert!(parse_url("http://u@127.0.0.1:80").is_err());
        assert!(parse_url("http://127.0.0.1:99999").is_err());
    }

    #[test]
    fn validation() {
        let mut c = Config::new("http://127.0.0.1:1", Duration::from_secs(1)).unwrap();
        assert!(c.validate().is_ok());
        c.connections = 0;
        assert!(c.validate().is_err());
        c.connections = 1;
        c.path = "x".into();
        assert!(c.validate().is_err());
        c.path = "/a b".into();
        assert!(c.validate().is_err());
        c.path = "/ok".into();
        c.rate = Some(0.0);
        assert!(c.validate().is_err());
    }

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
