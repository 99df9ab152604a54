//! The gRPC sample's side of the takeover tests: its load client (`grpc-load.jar`, built with the
//! sample by scripts/build-takeover-samples.sh) as a process of its own, what its JSON report says,
//! and gRPC's port 50051 (inside the kernel's ephemeral range) when it is free.

use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Proc, free_ephemeral_port, jar, jdk};

/// What the load calls: `jhot.Hello/Say`, or `jhot.Hello/Slow` taking `ms` on the server.
#[derive(Clone, Copy, Debug)]
pub enum GrpcMethod {
    Say,
    Slow { ms: u64 },
}

/// grpc-load.jar running against `127.0.0.1:port` until [`GrpcLoad::finish`] (or its own cap of
/// 240 s): `channels` channels with `concurrency` calls in flight each, every call with a deadline
/// of 10 s. Stopped (by pid) if dropped unfinished.
pub struct GrpcLoad {
    name: &'static str,
    proc: Proc,
    dir: tempfile::TempDir,
}

impl GrpcLoad {
    pub fn start(name: &'static str, port: u16, channels: usize, concurrency: usize, method: GrpcMethod) -> GrpcLoad {
        let dir = tempfile::tempdir().expect("tmp");
        let mut argv = vec![
            jdk(17).java().display().to_string(),
            "-Xmx256m".into(),
            "-XX:+UseSerialGC".into(),
            "-jar".into(),
            jar("grpc", "load").display().to_string(),
            format!("--target=127.0.0.1:{port}"),
            format!("--channels={channels}"),
            format!("--concurrency={concurrency}"),
            "--duration-ms=240000".into(),
            "--deadline-ms=10000".into(),
            format!("--stop-file={}", dir.path().join("stop").display()),
        ];
        match method {
            GrpcMethod::Say => argv.push("--method=say".into()),
            GrpcMethod::Slow { ms } => argv.extend(["--method=slow".into(), format!("--slow-ms={ms}")]),
        }
        let proc = Proc::spawn(&argv);
        let until = Instant::now() + Duration::from_secs(30);
        while !proc.stderr().contains("GRPC-LOAD started") {
            assert!(
                Instant::now() < until,
                "grpc load {name}: no 'GRPC-LOAD started' within 30 s\nstderr:\n{}",
                proc.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        }
        GrpcLoad { name, proc, dir }
    }

    /// Stops the load (calls in flight get their deadline) and returns its report.
    pub fn finish(self) -> GrpcReport {
        std::fs::write(self.stop_file(), b"").expect("write the stop file");
        let until = Instant::now() + Duration::from_secs(20);
        let report = loop {
            let out = self.proc.stdout();
            if let Some(v) = out.lines().find_map(|l| serde_json::from_str::<Value>(l).ok()) {
                break GrpcReport(v);
            }
            assert!(
                Instant::now() < until,
                "grpc load {}: no report within 20 s of the stop file\nstdout:\n{out}\nstderr:\n{}",
                self.name,
                self.proc.stderr()
            );
            thread::sleep(Duration::from_millis(20));
        };
        eprintln!("grpc load {}: {}", self.name, report.summary());
        report
    }

    fn stop_file(&self) -> PathBuf {
        self.dir.path().join("stop")
    }
}

/// grpc-load.jar's report (samples/takeover/grpc/load/…/Load.java): `total`, `ok`, `failed`,
/// `failed_by_code`, `gens` (ok answers per server generation), `pids`, `latency_ms`,
/// `error_samples`.
pub struct GrpcReport(pub Value);

impl GrpcReport {
    pub fn ok(&self) -> u64 {
        self.0["ok"].as_u64().unwrap_or(0)
    }

    pub fn failed(&self) -> u64 {
        self.0["failed"].as_u64().unwrap_or(u64::MAX)
    }

    /// Ok answers from generation `generation` ("v1", "v2").
    pub fn answered_by(&self, generation: &str) -> u64 {
        self.0["gens"][generation].as_u64().unwrap_or(0)
    }

    /// How many distinct server processes answered.
    pub fn pids(&self) -> usize {
        self.0["pids"].as_object().map_or(0, |m| m.len())
    }

    /// The counters on one line, for the log and for failure messages.
    pub fn summary(&self) -> String {
        let v = &self.0;
        format!(
            "total={} ok={} failed={} by_code={} gens={} pids={} latency_ms={} errors={}",
            v["total"],
            v["ok"],
            v["failed"],
            v["failed_by_code"],
            v["gens"],
            v["pids"],
            v["latency_ms"],
            v["error_samples"]
        )
    }
}

/// Not one call failed, whatever its status code, and there was enough load (over `min_ok`
/// successes) to mean something.
pub fn assert_no_grpc_failures(r: &GrpcReport, what: &str, min_ok: u64) {
    assert_eq!(r.failed(), 0, "{what}: {}", r.summary());
    assert!(r.ok() > min_ok, "{what}: too little load to mean anything: {}", r.summary());
}

/// gRPC's own port, 50051, the first time a test process asks and nothing listens on it on the
/// IPv4 or IPv6 wildcard; else [`free_ephemeral_port`]. Both are in the kernel's ephemeral range,
/// where jhot once refused to take a listener over without `--port`.
pub fn grpc_port() -> u16 {
    use std::sync::atomic::{AtomicBool, Ordering};
    static GAVE_50051: AtomicBool = AtomicBool::new(false);
    // With IPv6 the [::] bind is dual-stack and the 0.0.0.0 one then fails even when the port is
    // free: either one binding means nothing listens on the wildcard.
    let free =
        |p: u16| std::net::TcpListener::bind(("::", p)).is_ok() || std::net::TcpListener::bind(("0.0.0.0", p)).is_ok();
    if !GAVE_50051.swap(true, Ordering::SeqCst) && free(50051) {
        return 50051;
    }
    free_ephemeral_port()
}
