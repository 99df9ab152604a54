//! One worker: its connection, its requests (with at most one retry), and how each failure is
//! classified from what the socket saw.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONNECTION, HOST, USER_AGENT};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::{sleep, sleep_until, timeout, timeout_at};

use crate::config::{Config, Mode};
use crate::io::{self, IoState, Tracked};
use crate::report::{Counts, Fail, RawBucket};
use crate::stats::{MAX_ERROR_SAMPLES, Stats, bump};
use crate::wait_true;

/// What the workers of one run share.
pub(crate) struct Shared {
    pub(crate) cfg: Config,
    pub(crate) start: Instant,
    pub(crate) deadline: Instant,
    pub(crate) issued: AtomicU64,
    pub(crate) slot: AtomicU64,
    pub(crate) responding: AtomicUsize,
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

/// What a connection's socket saw during one attempt.
#[derive(Clone, Copy)]
struct Seen {
    /// Response bytes had arrived.
    partial: bool,
    /// A reset (ECONNRESET, ECONNABORTED or EPIPE).
    reset: bool,
    /// An EOF from the server.
    eof: bool,
}

/// Sends `req` and reads the whole body (no timeout of its own).
async fn send(sender: &mut SendRequest<Empty<Bytes>>, req: Request<Empty<Bytes>>) -> Attempt {
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
                close: parts.headers.get(CONNECTION).is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"close")),
            };
            match body.collect().await {
                Ok(_) => Attempt::Response(r),
                Err(e) => Attempt::Failed(e),
            }
        }
    }
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
        if !ok && self.stats.errors.len() < MAX_ERROR_SAMPLES {
            // Which process answered what, so that a failed takeover says where to look (only
            // while samples are wanted: a server answering errors must not slow the load down).
            let (generation, pid) = (r.x_gen.as_deref().unwrap_or("-"), r.pid.as_deref().unwrap_or("-"));
            self.stats.note_error(format!("HTTP {} from gen {generation} pid {pid}", r.status));
        }
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
        if !self.pace(stop).await {
            return false;
        }
        let mut first_start: Option<Instant> = None;
        let mut retried: Option<Fail> = None; // the failure that was retried
        loop {
            let Some(t0) = self.ready_conn(stop).await else {
                if let (Some(f), Some(t)) = (retried, first_start) {
                    // stopped before the retry got a connection: the original failure stands
                    self.record_fail(t, f);
                }
                return false;
            };
            let start = *first_start.get_or_insert(t0);
            if retried.is_none() {
                self.count(start, |c| c.requests += 1);
            }
            let (attempt, fresh, seen) = self.attempt(t0).await;
            let fail = match attempt {
                Attempt::Response(r) => {
                    self.after_response(start, &r, retried.is_some());
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
                Attempt::Unsent if seen.reset => Fail::Reset { fresh, partial: seen.partial },
                Attempt::Unsent => Fail::Eof { fresh, partial: seen.partial },
                Attempt::TimedOut => Fail::Timeout,
                Attempt::Failed(e) => self.classify(&e, fresh, seen),
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

    /// With a `rate`, waits for this request's slot in the shared schedule. Returns false when
    /// the slot is past the deadline or the run is stopped first.
    async fn pace(&self, stop: &watch::Receiver<bool>) -> bool {
        let Some(rate) = self.sh.cfg.rate else {
            return true;
        };
        let k = self.sh.slot.fetch_add(1, Relaxed);
        let at = self.sh.start + Duration::from_secs_f64(k as f64 / rate);
        if at >= self.sh.deadline {
            return false;
        }
        let mut s = stop.clone();
        tokio::select! {
            _ = sleep_until(at.into()) => true,
            _ = wait_true(&mut s) => false,
        }
    }

    /// A connection to send on, and the start of the request's clock: a keep-alive connection
    /// that is still usable (now), else a new one (its successful connect attempt). One the
    /// server closed is reopened, as a pool would, and counted as `idle_closed`. `None` once
    /// stopped or past the deadline.
    async fn ready_conn(&mut self, stop: &watch::Receiver<bool>) -> Option<Instant> {
        if let Some(c) = self.conn.as_mut() {
            let usable =
                !c.sender.is_closed() && matches!(timeout(self.sh.cfg.timeout, c.sender.ready()).await, Ok(Ok(())));
            if !usable {
                self.count(Instant::now(), |c| c.idle_closed += 1);
                self.conn = None;
            }
        }
        match &self.conn {
            Some(_) => Some(Instant::now()),
            None => self.connect(stop).await,
        }
    }

    /// Sends one request on the connection and reads the whole answer, by `t0` + the timeout.
    /// Also returns whether the connection was fresh and what its socket saw meanwhile. While it
    /// runs, `in_flight` is set (a worker aborted there counts the request as `unfinished`).
    async fn attempt(&mut self, t0: Instant) -> (Attempt, bool, Seen) {
        let req = self.request();
        let c = self.conn.as_mut().expect("connected");
        let fresh = c.used == 0;
        c.used += 1;
        let read_before = c.io.read();
        c.io.clear_flags();
        self.in_flight = true;
        let attempt = match timeout_at((t0 + self.sh.cfg.timeout).into(), send(&mut c.sender, req)).await {
            Ok(a) => a,
            Err(_) => Attempt::TimedOut,
        };
        self.in_flight = false;
        let c = self.conn.as_ref().expect("connected");
        let seen =
            Seen { partial: c.io.read() > read_before, reset: c.io.reset.load(Relaxed), eof: c.io.eof.load(Relaxed) };
        (attempt, fresh, seen)
    }

    /// Counts the response to the request that started at `start` (and, if it was the retry,
    /// a successful one), and drops the connection if it must not be reused.
    fn after_response(&mut self, start: Instant, r: &Response, retried: bool) {
        self.record_response(start, r);
        if retried {
            self.count(start, |c| c.retries_ok += 1);
        }
        if self.sh.cfg.mode == Mode::Close {
            self.conn = None;
        } else if r.close {
            self.count(Instant::now(), |c| c.server_closed += 1);
            self.conn = None;
        }
    }

    /// The failure class of an error hyper returned: from what the socket saw, else from the
    /// error's kind. Keeps a sample of the error text (always for `other`).
    fn classify(&mut self, e: &hyper::Error, fresh: bool, seen: Seen) -> Fail {
        let kind = chain_io_kind(e);
        let f = if seen.reset || kind.is_some_and(io::is_reset) {
            Fail::Reset { fresh, partial: seen.partial }
        } else if seen.eof
            || e.is_incomplete_message()
            || e.is_canceled()
            || e.is_closed()
            || kind == Some(std::io::ErrorKind::UnexpectedEof)
        {
            Fail::Eof { fresh, partial: seen.partial }
        } else {
            Fail::Other
        };
        if f == Fail::Other || self.stats.errors.len() < MAX_ERROR_SAMPLES {
            self.stats.note_error(error_chain(e));
        }
        f
    }
}

pub(crate) async fn worker(sh: Arc<Shared>, stop: watch::Receiver<bool>, mut abort: watch::Receiver<bool>) -> Stats {
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
