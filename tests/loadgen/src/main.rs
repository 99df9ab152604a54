//! `jhot-loadgen`: the command-line wrapper around [`jhot_loadgen::run_with`].
//!
//! Prints one JSON report on stdout at the end, `LOADGEN started` and a `RESULT ...` line on
//! stderr. Exit code 0 when it ran (even with failed requests), 2 on usage errors.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use jhot_loadgen::{Config, Control, Mode};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    /// Reuse each worker's connection.
    KeepAlive,
    /// `Connection: close`, a new connection per request.
    Close,
}

/// HTTP/1.1 load generator that counts every kind of failure separately (refused, reset and EOF
/// on fresh or reused connections, timeouts, non-2xx), for takeover tests and benchmarks.
#[derive(Debug, Parser)]
#[command(name = "jhot-loadgen", version)]
struct Args {
    /// Target, http:// only (e.g. http://127.0.0.1:8080). A path in it is the default --path.
    #[arg(long)]
    url: String,
    /// Request path (default `/`, or the URL's path).
    #[arg(long)]
    path: Option<String>,
    /// Concurrent workers, one connection each.
    #[arg(short = 'c', long, default_value_t = 16)]
    connections: usize,
    /// keep-alive reuses connections; close sends `Connection: close` and reconnects per request.
    #[arg(long, value_enum, default_value = "keep-alive")]
    mode: ModeArg,
    /// Shorthand for --mode close.
    #[arg(long, conflicts_with = "mode")]
    close: bool,
    /// Total requests per second over all workers (default: unlimited, closed loop).
    #[arg(long)]
    rate: Option<f64>,
    /// Hard cap on the run: 8s, 500ms, 2m or plain seconds.
    #[arg(long, value_parser = parse_duration)]
    duration: Duration,
    /// Stop early once this file exists (checked every 10 ms).
    #[arg(long)]
    stop_file: Option<PathBuf>,
    /// Stop after this many requests.
    #[arg(long)]
    max_requests: Option<u64>,
    /// Per request and per connect attempt.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    timeout: Duration,
    /// Retry once on a new connection when a reused connection failed before any response byte
    /// (as Go's net/http and OkHttp do).
    #[arg(long)]
    retry: bool,
    /// Timeline bucket width in milliseconds.
    #[arg(long, default_value_t = 50)]
    bucket_ms: u64,
    /// Also write the JSON report to this file.
    #[arg(long)]
    json_out: Option<PathBuf>,
    /// At the end, if this file exists and holds "FROM_UNIX_MS TO_UNIX_MS", add a "window"
    /// object with the counters and latency of the buckets overlapping that interval.
    #[arg(long)]
    window_file: Option<PathBuf>,
    /// Runtime worker threads.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Pretty-print the JSON.
    #[arg(long)]
    pretty: bool,
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = match s.find(|c: char| !(c.is_ascii_digit() || c == '.')) {
        Some(i) => (&s[..i], &s[i..]),
        None => (s, "s"),
    };
    let v: f64 = num.parse().map_err(|_| format!("bad duration {s:?}"))?;
    let secs = match unit {
        "ms" => v / 1000.0,
        "s" => v,
        "m" => v * 60.0,
        _ => return Err(format!("bad duration unit in {s:?} (use ms, s or m)")),
    };
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 {
        return Err(format!("duration out of range: {s:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

fn read_window(path: &PathBuf) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<u64>());
    match (it.next(), it.next()) {
        (Some(Ok(a)), Some(Ok(b))) if a <= b => Some((a, b)),
        _ => {
            eprintln!("jhot-loadgen: ignoring --window-file {}: expected \"FROM_UNIX_MS TO_UNIX_MS\"", path.display());
            None
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let usage = |m: &str| {
        eprintln!("jhot-loadgen: {m}");
        ExitCode::from(2)
    };
    let mut cfg = match Config::new(&args.url, args.duration) {
        Ok(c) => c,
        Err(e) => return usage(&e.0),
    };
    if let Some(p) = &args.path {
        cfg.path = p.clone();
    }
    cfg.connections = args.connections;
    cfg.mode = if args.close {
        Mode::Close
    } else {
        match args.mode {
            ModeArg::KeepAlive => Mode::KeepAlive,
            ModeArg::Close => Mode::Close,
        }
    };
    cfg.rate = args.rate;
    cfg.stop_file = args.stop_file.clone();
    cfg.max_requests = args.max_requests;
    cfg.timeout = args.timeout;
    cfg.retry = args.retry;
    cfg.bucket_ms = args.bucket_ms;
    cfg.announce = true;
    if let Err(e) = cfg.validate() {
        return usage(&e.0);
    }
    if args.threads == 0 || args.threads > 64 {
        return usage("threads must be between 1 and 64");
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().worker_threads(args.threads).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("jhot-loadgen: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let mut report = rt.block_on(async {
        let control = Control::new();
        let c = control.clone();
        tokio::spawn(async move {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
            }
            c.stop();
        });
        jhot_loadgen::run_with(cfg, control).await
    });
    rt.shutdown_timeout(Duration::from_secs(1));
    if let Some(w) = args.window_file.as_ref().and_then(read_window) {
        report.window = Some(report.window(w.0, w.1));
    }
    let json = if args.pretty { serde_json::to_string_pretty(&report) } else { serde_json::to_string(&report) }
        .expect("report serialises");
    eprintln!("{}", report.result_line());
    if let Some(w) = &report.window {
        let c = &w.counts;
        eprintln!(
            "WINDOW {}..{} ok={} non2xx={} failed={} p50={}ms p99={}ms max={}ms",
            w.buckets_from_unix_ms,
            w.buckets_to_unix_ms,
            c.ok,
            c.non2xx,
            c.failed,
            w.latency_ms.p50,
            w.latency_ms.p99,
            w.latency_ms.max
        );
    }
    if let Some(p) = &args.json_out
        && let Err(e) = std::fs::write(p, format!("{json}\n"))
    {
        eprintln!("jhot-loadgen: cannot write {}: {e}", p.display());
    }
    println!("{json}");
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("8s").unwrap(), Duration::from_secs(8));
        assert_eq!(parse_duration("8").unwrap(), Duration::from_secs(8));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5h").is_err());
        assert!(parse_duration("x").is_err());
    }
}
