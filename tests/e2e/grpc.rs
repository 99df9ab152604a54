//! `jhot replace` and `jhot run` on the gRPC sample (samples/takeover/grpc: grpc-java on Netty,
//! HTTP/2 cleartext), listening inside the kernel's ephemeral port range as gRPC's 50051 does,
//! under load from the sample's gRPC client (grpc-load.jar: plain grpc-java channels, no retry
//! policy, so every call that does not end OK — refused connection, reset stream, deadline — counts
//! as failed, by its status code). The old server is stopped gracefully — by jhot's agent
//! (`Server.shutdown()` for every server channelz lists) and by its own shutdown hook on SIGTERM:
//! GOAWAY, the clients move their new calls to a new connection (to the new process, through the
//! shared accept queue), and the calls in flight finish on the old one.
//!
//! No `--port`: jhot must find the listener by itself although its port is in the ephemeral range.
//! Each test starts its own servers on its own port, stops every process it caused to exist, by
//! pid, and takes the takeover tests' lock (two JVMs and a JVM client saturate two cores).

use std::thread;
use std::time::Duration;

use serde_json::Value;

use crate::harness::{
    self, GrpcLoad, GrpcMethod, GrpcReport, Pids, Proc, alive, assert_no_grpc_failures, grpc_port, jar, java_cmd, jhot,
    lock, wait_gone,
};

/// `jhot replace PID --jar <grpc-version.jar> --json`, which must succeed; its JSON. Checks that
/// the port was handed over although it is in the ephemeral range.
fn replace(pid: u32, version: &str, port: u16) -> Value {
    let args = vec![
        "replace".to_string(),
        pid.to_string(),
        "--jar".into(),
        jar("grpc", version).display().to_string(),
        "--json".into(),
        "--drain-timeout".into(),
        "20".into(),
    ];
    let out = jhot(&args);
    assert_eq!(out.code, 0, "jhot replace failed: {out:?}");
    let v = out.json();
    let handed: Vec<&str> =
        v["listeners"].as_array().map_or(vec![], |l| l.iter().filter_map(|x| x["addr"].as_str()).collect());
    assert!(handed.iter().any(|a| a.ends_with(&format!(":{port}"))), "port {port} not handed over: {v}");
    assert_eq!(v["drain"]["outcome"], "exited", "the old server must stop by itself (GOAWAY, then exit): {v}");
    eprintln!(
        "replaced {pid} by {} ({version}): listeners {:?}, drain {} {} in {} ms, total {} ms",
        v["new_pid"],
        handed,
        v["drain"]["method"],
        v["drain"]["agent_stopped"],
        v["drain"]["drain_ms"],
        v["timings_ms"]["total_ms"]
    );
    v
}

/// Swaps `swaps` times (v2, v1, v2, …) under the given loads, starting from `pid`; returns the
/// last pid. `supervisor`: the `jhot run` process, whose READY lines number the generations.
fn swap_loop(mut pid: u32, port: u16, swaps: usize, pids: &Pids, supervisor: Option<&Proc>) -> u32 {
    for i in 0..swaps {
        let version = if i % 2 == 0 { "v2" } else { "v1" };
        let v = replace(pid, version, port);
        let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
        pids.add(new_pid);
        assert_eq!(v["old_pid"].as_u64(), Some(pid as u64));
        assert_eq!(v["supervised"], supervisor.is_some(), "{v}");
        assert!(wait_gone(pid, Duration::from_secs(10)), "the old process {pid} is still running");
        assert!(alive(new_pid));
        if let Some(sup) = supervisor {
            assert_eq!(sup.wait_ready(i + 2, Duration::from_secs(10)), new_pid);
        }
        pid = new_pid;
        thread::sleep(Duration::from_millis(700));
    }
    pid
}

fn assert_both_generations(r: &GrpcReport, swaps: usize) {
    assert!(r.answered_by("v1") > 0 && r.answered_by("v2") > 0, "both generations must have answered: {}", r.summary());
    assert_eq!(r.pids(), swaps + 1, "every generation's process must have answered: {}", r.summary());
}

/// A gRPC server jhot did not start, on an ephemeral-range port, replaced twice (v1 → v2 → v1)
/// under unary load: not one call fails, and both generations answer.
#[test]
fn replace_unprepared_grpc() {
    let _g = lock();
    let pids = Pids::default();
    let port = grpc_port();
    let server = Proc::spawn(&java_cmd("grpc", "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let load = GrpcLoad::start("say", port, 4, 8, GrpcMethod::Say);
    thread::sleep(Duration::from_millis(500));
    swap_loop(pid, port, 2, &pids, None);
    let r = load.finish();
    assert_no_grpc_failures(&r, "unary calls through two replacements", 100);
    assert_both_generations(&r, 2);
}

/// The same under `jhot run`, five swaps in a row.
#[test]
fn run_five_swaps_grpc() {
    let _g = lock();
    let pids = Pids::default();
    let port = grpc_port();
    let mut argv = vec![harness::jhot_bin().display().to_string(), "run".into(), "--".into()];
    argv.extend(java_cmd("grpc", "v1", port, &[]));
    let sup = Proc::spawn(&argv);
    let pid = sup.wait_ready(1, Duration::from_secs(60));
    let load = GrpcLoad::start("say", port, 4, 8, GrpcMethod::Say);
    thread::sleep(Duration::from_millis(500));
    let last = swap_loop(pid, port, 5, &pids, Some(&sup));
    let r = load.finish();
    assert_no_grpc_failures(&r, "unary calls through five replacements under jhot run", 100);
    assert_both_generations(&r, 5);
    drop(sup);
    assert!(wait_gone(last, Duration::from_secs(15)), "jhot run stopped; its application {last} must stop too");
}

/// "A gRPC server with streams in flight": 300 ms `Slow` calls are always in flight (32 of them,
/// on 2 connections) when the old server gets SIGTERM. Its `shutdown()` sends GOAWAY and lets them
/// finish; the clients start their next calls on a new connection, to the new process. Counted per
/// call, by status code: none may fail (a call cut off with its connection would be UNAVAILABLE or
/// INTERNAL; one the old server refused after its GOAWAY is retried transparently by grpc-java).
#[test]
fn replace_grpc_with_slow_calls_in_flight() {
    let _g = lock();
    let pids = Pids::default();
    let port = grpc_port();
    let server = Proc::spawn(&java_cmd("grpc", "v1", port, &[]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let slow = GrpcLoad::start("slow 300 ms", port, 2, 16, GrpcMethod::Slow { ms: 300 });
    let say = GrpcLoad::start("say", port, 2, 4, GrpcMethod::Say);
    thread::sleep(Duration::from_millis(500));
    swap_loop(pid, port, 2, &pids, None);
    let (slow, say) = (slow.finish(), say.finish());
    // 32 slots × 300 ms: about 100 calls a second; two swaps with 1.4 s of load after them.
    assert_no_grpc_failures(&slow, "300 ms calls in flight through two replacements", 100);
    assert_both_generations(&slow, 2);
    assert_no_grpc_failures(&say, "unary calls beside them", 100);
}

/// The same calls in flight, but the server has no graceful stop (`--graceful=false`: no shutdown
/// hook, so SIGTERM alone would end the JVM with its connections and fail every call in flight
/// with UNAVAILABLE — 32 of 32 before jhot knew gRPC). jhot's agent stops the server by name
/// (`Server.shutdown()` for every server channelz lists: GOAWAY, then the calls in progress
/// finish), as the application's own hook would: nothing is lost.
#[test]
fn replace_grpc_without_graceful_stop_is_drained_by_the_agent() {
    let _g = lock();
    let pids = Pids::default();
    let port = grpc_port();
    let server = Proc::spawn(&java_cmd("grpc", "v1", port, &["--graceful=false"]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let slow = GrpcLoad::start("slow 300 ms, no graceful stop", port, 2, 16, GrpcMethod::Slow { ms: 300 });
    let say = GrpcLoad::start("say, no graceful stop", port, 2, 4, GrpcMethod::Say);
    thread::sleep(Duration::from_millis(500));
    let v = replace(pid, "v2", port);
    pids.add(v["new_pid"].as_u64().expect("new_pid") as u32);
    assert!(wait_gone(pid, Duration::from_secs(10)), "the old process {pid} is still running");
    let stopped: Vec<&str> =
        v["drain"]["agent_stopped"].as_array().map_or(vec![], |a| a.iter().filter_map(|s| s.as_str()).collect());
    assert!(stopped.iter().any(|s| s.starts_with("grpc")), "the agent must stop the gRPC server by name: {v}");
    thread::sleep(Duration::from_millis(700));
    let (slow, say) = (slow.finish(), say.finish());
    assert_no_grpc_failures(&slow, "300 ms calls in flight, server without graceful stop", 50);
    assert_both_generations(&slow, 1);
    assert_no_grpc_failures(&say, "unary calls beside them", 100);
}
