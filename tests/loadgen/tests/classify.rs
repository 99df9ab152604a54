//! The load generator against a tiny HTTP/1.1 server written here, which misbehaves on purpose:
//! every failure class must land in its own counter. Every run is bounded by `max_requests` and a
//! short `duration`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use jhot_loadgen::{Config, Control, Mode, Report};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Answer everything (honours `Connection: close` from the client).
    Normal,
    /// On each connection, answer `n` requests, then read the next one and close (FIN).
    EofAfter(u64),
    /// On each connection, answer `n` requests, then read the next one and reset (RST).
    ResetAfter(u64),
    /// Answer `n` requests, then send half a response to the next and close.
    PartialAfter(u64),
    /// Every `n`-th request on a connection gets a 503.
    StatusEvery(u64),
    /// Answer each request with `Connection: close` and close.
    ServerClose,
    /// Answer `n` requests without any close header, then close the idle connection.
    IdleCloseAfter(u64),
    /// Read requests, never answer.
    Hang,
}

struct Server {
    port: u16,
    task: JoinHandle<()>,
    accepted: Arc<AtomicU64>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn start(b: Behaviour) -> Server {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(l, b)
}

fn start_on(l: TcpListener, b: Behaviour) -> Server {
    let port = l.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let acc = accepted.clone();
    let task = tokio::spawn(async move {
        loop {
            let Ok((s, _)) = l.accept().await else { return };
            acc.fetch_add(1, Relaxed);
            tokio::spawn(handle(s, b));
        }
    });
    Server { port, task, accepted }
}

/// Reads one request head; `None` on EOF or error. Returns whether it asked for `Connection: close`.
async fn read_head(s: &mut TcpStream, buf: &mut Vec<u8>) -> Option<bool> {
    loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..i]).to_ascii_lowercase();
            buf.drain(..i + 4);
            return Some(head.contains("\r\nconnection: close"));
        }
        let mut tmp = [0u8; 4096];
        match s.read(&mut tmp).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&tmp[..n]),
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    }
}

fn response(status: &str, close: bool) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\nContent-Length: 2\r\nX-Gen: v1\r\nX-Pid: 4242\r\n{}\r\nok",
        if close { "Connection: close\r\n" } else { "" }
    )
    .into_bytes()
}

async fn handle(mut s: TcpStream, b: Behaviour) {
    let mut buf = Vec::new();
    let mut k = 0u64; // requests answered on this connection
    while let Some(client_close) = read_head(&mut s, &mut buf).await {
        match b {
            Behaviour::EofAfter(n) if k >= n => return, // drop: FIN
            Behaviour::ResetAfter(n) if k >= n => {
                let _ = s.set_zero_linger();
                return; // drop: RST
            }
            Behaviour::PartialAfter(n) if k >= n => {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\nX-Gen: v1\r\n\r\nabc").await;
                let _ = s.flush().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                return;
            }
            Behaviour::Hang => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                return;
            }
            _ => {}
        }
        k += 1;
        let status = match b {
            Behaviour::StatusEvery(n) if k.is_multiple_of(n) => "503 Service Unavailable",
            _ => "200 OK",
        };
        let close = client_close || matches!(b, Behaviour::ServerClose);
        if s.write_all(&response(status, close)).await.is_err() {
            return;
        }
        if close {
            return;
        }
        if let Behaviour::IdleCloseAfter(n) = b
            && k >= n
        {
            return;
        }
    }
}

fn config(port: u16, conns: usize, max: u64) -> Config {
    let mut c = Config::new(&format!("http://127.0.0.1:{port}"), Duration::from_secs(10)).unwrap();
    c.connections = conns;
    c.max_requests = Some(max);
    c.timeout = Duration::from_secs(2);
    c.validate().unwrap();
    c
}

/// The timeline must add up to the totals.
fn check_timeline(r: &Report) {
    let ok: u64 = r.timeline.iter().map(|b| b.ok).sum();
    let failed: u64 = r.timeline.iter().map(|b| b.failed).sum();
    let non2xx: u64 = r.timeline.iter().map(|b| b.non2xx).sum();
    assert_eq!((ok, failed, non2xx), (r.counts.ok, r.counts.failed, r.counts.non2xx));
    for w in r.timeline.windows(2) {
        assert_eq!(w[1].t - w[0].t, r.bucket_ms);
    }
    let c = &r.counts;
    assert_eq!(
        c.failed,
        c.refused + c.connect_other + c.reset_fresh + c.reset_reused + c.eof_fresh + c.eof_reused + c.timeout + c.other
    );
    let all = r.window(r.start_unix_ms, r.end_unix_ms + 10_000);
    assert_eq!(all.counts, r.counts);
    assert_eq!(all.latency_ms.count, r.latency_ms.count);
}

#[tokio::test]
async fn keepalive_all_ok() {
    let s = start(Behaviour::Normal).await;
    let r = jhot_loadgen::run(config(s.port, 4, 400)).await;
    let c = &r.counts;
    assert_eq!((c.requests, c.ok, c.failed, c.non2xx), (400, 400, 0, 0), "{}", r.result_line());
    assert_eq!(c.connections, 4);
    assert_eq!(s.accepted.load(Relaxed), 4);
    assert_eq!(r.gens.get("v1"), Some(&400));
    assert_eq!(r.pids.get("4242"), Some(&400));
    assert_eq!(r.statuses.get(&200), Some(&400));
    assert_eq!(r.latency_ms.count, 400);
    assert!(r.latency_ms.p50 > 0.0 && r.latency_ms.p50 <= r.latency_ms.p99 && r.latency_ms.p99 <= r.latency_ms.max);
    assert!(r.result_line().starts_with("RESULT keepalive=true retry=false conns=4 "));
    check_timeline(&r);
}

#[tokio::test]
async fn close_mode_one_connection_per_request() {
    let s = start(Behaviour::Normal).await;
    let mut cfg = config(s.port, 4, 100);
    cfg.mode = Mode::Close;
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.failed, c.connections, c.idle_closed), (100, 0, 100, 0), "{}", r.result_line());
    assert_eq!(s.accepted.load(Relaxed), 100);
    check_timeline(&r);
}

#[tokio::test]
async fn eof_on_reused_connection() {
    let s = start(Behaviour::EofAfter(3)).await;
    let r = jhot_loadgen::run(config(s.port, 1, 40)).await;
    let c = &r.counts;
    // 10 cycles of: 3 answered, the 4th read and the connection closed
    assert_eq!((c.ok, c.eof_reused, c.eof_fresh, c.eof_partial, c.failed), (30, 10, 0, 0, 10), "{}", r.result_line());
    assert_eq!(c.connections, 10);
    assert_eq!(c.reset_reused + c.reset_fresh + c.other + c.timeout, 0);
    check_timeline(&r);
}

#[tokio::test]
async fn eof_on_fresh_connection() {
    let s = start(Behaviour::EofAfter(0)).await;
    let mut cfg = config(s.port, 2, 10);
    cfg.retry = true; // never retries a fresh connection
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.eof_fresh, c.eof_reused, c.failed, c.client_retries), (0, 10, 0, 10, 0), "{}", r.result_line());
    check_timeline(&r);
}

#[tokio::test]
async fn reset_reused_and_fresh() {
    let s = start(Behaviour::ResetAfter(2)).await;
    let r = jhot_loadgen::run(config(s.port, 1, 30)).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.reset_reused, c.reset_fresh, c.failed), (20, 10, 0, 10), "{}", r.result_line());
    assert_eq!(c.eof_reused + c.eof_fresh + c.other, 0);
    check_timeline(&r);

    let s = start(Behaviour::ResetAfter(0)).await;
    let r = jhot_loadgen::run(config(s.port, 2, 10)).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.reset_fresh, c.reset_reused, c.failed), (0, 10, 0, 10), "{}", r.result_line());
}

#[tokio::test]
async fn partial_response_is_eof_partial_and_not_retried() {
    let s = start(Behaviour::PartialAfter(1)).await;
    let mut cfg = config(s.port, 1, 20);
    cfg.retry = true;
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    assert_eq!(
        (c.ok, c.eof_reused, c.eof_partial, c.client_retries, c.failed),
        (10, 10, 10, 0, 10),
        "{}",
        r.result_line()
    );
    check_timeline(&r);
}

#[tokio::test]
async fn non2xx_is_not_a_failure_class() {
    let s = start(Behaviour::StatusEvery(5)).await;
    let r = jhot_loadgen::run(config(s.port, 1, 50)).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.non2xx, c.failed), (40, 10, 0), "{}", r.result_line());
    assert_eq!(r.statuses.get(&503), Some(&10));
    assert_eq!(r.latency_ms.count, 50);
    check_timeline(&r);
}

#[tokio::test]
async fn retry_only_reused_before_any_byte() {
    let s = start(Behaviour::EofAfter(3)).await;
    let mut cfg = config(s.port, 1, 40);
    cfg.retry = true;
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    // each connection serves 3 requests (the first being the retry of the previous failure)
    assert_eq!((c.requests, c.ok, c.failed), (40, 40, 0), "{}", r.result_line());
    assert_eq!((c.client_retries, c.retries_ok), (13, 13));
    assert_eq!(c.connections, 14);
    check_timeline(&r);

    let s = start(Behaviour::ResetAfter(1)).await;
    let mut cfg = config(s.port, 1, 10);
    cfg.retry = true;
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    // reset on the 2nd request of each connection; the retry is the 1st of the next one
    assert_eq!((c.ok, c.failed, c.client_retries, c.retries_ok), (10, 0, 9, 9), "{}", r.result_line());
}

#[tokio::test]
async fn server_connection_close_header_is_not_a_failure() {
    let s = start(Behaviour::ServerClose).await;
    let r = jhot_loadgen::run(config(s.port, 2, 30)).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.failed, c.server_closed, c.connections), (30, 0, 30, 30), "{}", r.result_line());
}

#[tokio::test]
async fn idle_close_is_reopened_or_a_reused_failure() {
    let s = start(Behaviour::IdleCloseAfter(1)).await;
    let r = jhot_loadgen::run(config(s.port, 2, 60)).await;
    let c = &r.counts;
    // The close races the next request: either noticed first (idle_closed, reopened) or after
    // the request was written (eof/reset on a reused connection). Never a fresh failure.
    assert_eq!(c.ok + c.failed, 60, "{}", r.result_line());
    assert_eq!(c.failed, c.eof_reused + c.reset_reused, "{}", r.result_line());
    assert_eq!(c.eof_fresh + c.reset_fresh, 0);
    assert!(c.idle_closed + c.failed >= 60 / 2 - 2, "{}", r.result_line());
    assert_eq!(c.requests, 60);
}

#[tokio::test]
async fn refused_while_the_listener_is_gone() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let mut cfg = config(port, 2, 200);
    cfg.duration = Duration::from_secs(5);
    let reopen = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let l = TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        start_on(l, Behaviour::Normal)
    });
    let t = Instant::now();
    let r = jhot_loadgen::run(cfg).await;
    let _server = reopen.await.unwrap();
    let c = &r.counts;
    assert_eq!(c.ok, 200, "{}", r.result_line());
    assert!(c.refused >= 20, "refused once per attempt with 1 ms back-off: {}", r.result_line());
    assert_eq!(c.failed, c.refused, "{}", r.result_line());
    assert!(t.elapsed() < Duration::from_secs(4));
    // refusals sit in the first buckets, answers after them
    let first_ok = r.timeline.iter().position(|b| b.ok > 0).unwrap();
    let last_fail = r.timeline.iter().rposition(|b| b.failed > 0).unwrap();
    assert!(last_fail <= first_ok, "{first_ok} {last_fail}");
    check_timeline(&r);
}

#[tokio::test]
async fn timeout_when_no_answer() {
    let s = start(Behaviour::Hang).await;
    let mut cfg = config(s.port, 2, 4);
    cfg.timeout = Duration::from_millis(200);
    let t = Instant::now();
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    assert_eq!((c.ok, c.timeout, c.failed), (0, 4, 4), "{}", r.result_line());
    assert!(t.elapsed() >= Duration::from_millis(390) && t.elapsed() < Duration::from_secs(3));
    check_timeline(&r);
}

#[tokio::test]
async fn rate_cap() {
    let s = start(Behaviour::Normal).await;
    let mut cfg = config(s.port, 4, 10_000);
    cfg.rate = Some(200.0);
    cfg.duration = Duration::from_secs(1);
    let r = jhot_loadgen::run(cfg).await;
    let c = &r.counts;
    assert!((150..=202).contains(&c.ok), "{}", r.result_line());
    assert_eq!(c.failed, 0);
    assert_eq!(c.unfinished, 0);
}

#[tokio::test]
async fn stop_file_and_control() {
    let s = start(Behaviour::Normal).await;
    let dir = std::env::temp_dir().join(format!("jhot-loadgen-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let stop = dir.join("stop");
    let _ = std::fs::remove_file(&stop);
    let mut cfg = config(s.port, 2, u64::MAX);
    cfg.max_requests = None;
    cfg.rate = Some(2000.0);
    cfg.stop_file = Some(stop.clone());
    let control = Control::new();
    let run = tokio::spawn(jhot_loadgen::run_with(cfg, control.clone()));
    tokio::time::timeout(Duration::from_secs(3), control.started()).await.expect("started");
    tokio::time::sleep(Duration::from_millis(200)).await;
    std::fs::write(&stop, "").unwrap();
    let t = Instant::now();
    let r = tokio::time::timeout(Duration::from_secs(5), run).await.expect("stops").unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(r.counts.ok > 100 && r.counts.failed == 0, "{}", r.result_line());
    assert!(r.started_unix_ms.is_some());
    assert!(r.elapsed_ms < 3000);
    check_timeline(&r);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn window_selects_buckets() {
    let s = start(Behaviour::Normal).await;
    let mut cfg = config(s.port, 2, u64::MAX);
    cfg.max_requests = None;
    cfg.rate = Some(1000.0);
    cfg.duration = Duration::from_millis(600);
    cfg.bucket_ms = 100;
    let r = jhot_loadgen::run(cfg).await;
    let w = r.window(r.start_unix_ms + 200, r.start_unix_ms + 350);
    assert_eq!(w.buckets_from_unix_ms, r.start_unix_ms + 200);
    assert_eq!(w.buckets_to_unix_ms, r.start_unix_ms + 400);
    let expect: u64 = r.timeline[2..4].iter().map(|b| b.ok).sum();
    assert_eq!(w.counts.ok, expect);
    assert!(expect > 100, "{}", r.result_line());
}

/// The binary: usage errors exit 2; a run prints JSON on stdout and the RESULT line on stderr.
#[tokio::test]
async fn binary() {
    let bin = env!("CARGO_BIN_EXE_jhot-loadgen");
    let st =
        std::process::Command::new(bin).args(["--url", "https://127.0.0.1:1", "--duration", "1s"]).output().unwrap();
    assert_eq!(st.status.code(), Some(2), "{}", String::from_utf8_lossy(&st.stderr));
    let st = std::process::Command::new(bin).args(["--url", "http://127.0.0.1:1"]).output().unwrap();
    assert_eq!(st.status.code(), Some(2));
    let st = std::process::Command::new(bin)
        .args(["--url", "http://127.0.0.1:1", "--duration", "1s", "-c", "0"])
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(2));

    let s = start(Behaviour::Normal).await;
    let dir = std::env::temp_dir().join(format!("jhot-loadgen-bin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("r.json");
    let win = dir.join("w");
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    std::fs::write(&win, format!("{} {}\n", now, now + 60_000)).unwrap();
    let url = format!("http://127.0.0.1:{}/x", s.port);
    let args: Vec<String> =
        ["--url", &url, "--duration", "5s", "-c", "3", "--close", "--max-requests", "90", "--json-out"]
            .iter()
            .map(|s| s.to_string())
            .chain([out.display().to_string(), "--window-file".into(), win.display().to_string()])
            .collect();
    let o = tokio::task::spawn_blocking(move || std::process::Command::new(bin).args(&args).output().unwrap())
        .await
        .unwrap();
    assert_eq!(o.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("LOADGEN started"), "{stderr}");
    assert!(stderr.contains("RESULT keepalive=false retry=false conns=3 "), "{stderr}");
    assert!(stderr.contains(" ok=90 non2xx=0 failed=0 [refused=0 "), "{stderr}");
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let f: serde_json::Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(v, f);
    assert_eq!(v["ok"], 90);
    assert_eq!(v["connections"], 90);
    assert_eq!(v["config"]["path"], "/x");
    assert_eq!(v["config"]["mode"], "close");
    assert_eq!(v["gens"]["v1"], 90);
    assert_eq!(v["window"]["ok"], 90);
    assert!(!v["timeline"].as_array().unwrap().is_empty());
    for k in ["p50", "p90", "p99", "p999", "max"] {
        assert!(v["latency_ms"][k].as_f64().unwrap() > 0.0);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
