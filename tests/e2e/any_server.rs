//! `jhot replace` of servers jhot knows nothing about, on any port: the plain-socket sample (a
//! home-grown HTTP server on a blocking ServerSocket, with no graceful stop at all) on a port in the
//! kernel's ephemeral range, without --port; a listener the new version never binds; the listeners
//! of a debugger and of JMX beside the application's. Under load from jhot-loadgen, loopback only.

use std::thread;
use std::time::{Duration, Instant};

use jhot_loadgen::Mode;
use serde_json::Value;

use crate::harness::{
    Load, Pids, Proc, alive, assert_no_failures, free_ephemeral_port, free_port, get, jar, java_cmd, jhot, lock,
    summary, wait_gone,
};

fn replace(args: &[String]) -> Value {
    let out = jhot(args);
    assert_eq!(out.code, 0, "jhot replace failed: {out:?}");
    out.json()
}

fn replace_jar(pid: u32, app: &str, version: &str) -> Value {
    replace(&[
        "replace".into(),
        pid.to_string(),
        "--jar".into(),
        jar(app, version).display().to_string(),
        "--drain-timeout".into(),
        "20".into(),
        "--json".into(),
    ])
}

/// The old process stopped accepting (fenced) and, having no shutdown hook, finished its requests
/// before SIGTERM: close clients, 200 ms requests in flight and retrying keep-alive clients see no
/// failure, on a port jhot used to refuse.
#[test]
fn a_server_without_graceful_stop_on_an_ephemeral_port_loses_nothing() {
    let _g = lock();
    let pids = Pids::default();
    let port = free_ephemeral_port();
    let server = Proc::spawn(&java_cmd("plain-socket", "v1", port, &[]));
    let mut pid = server.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let slow = Load::start("close, 200 ms requests", port, "/slow?ms=200", Mode::Close, 8, false);
    let retry = Load::start("keep-alive+retry", port, "/", Mode::KeepAlive, 4, true);
    thread::sleep(Duration::from_millis(500));
    for version in ["v2", "v1"] {
        let v = replace_jar(pid, "plain-socket", version);
        let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
        pids.add(new_pid);
        assert_eq!(v["skipped"], serde_json::json!([]), "{v}");
        assert_eq!(v["listeners"].as_array().map(Vec::len), Some(1), "{v}");
        let drain = &v["drain"];
        assert_eq!(drain["method"], "agent + SIGTERM", "{v}");
        assert!(
            drain["fenced"]
                .as_array()
                .is_some_and(|f| f.iter().any(|x| x.as_str().is_some_and(|s| s.contains("fenced")))),
            "the old process was fenced: {v}"
        );
        assert_eq!(drain["shutdown_hooks"], serde_json::json!([]), "{v}");
        assert_eq!(drain["in_flight"]["busy_at_end"], 0, "requests in progress finished first: {v}");
        assert_eq!(drain["in_flight"]["precise"], true, "{v}");
        assert!(wait_gone(pid, Duration::from_secs(5)), "the old process {pid} is still running");
        assert!(alive(new_pid));
        pid = new_pid;
        thread::sleep(Duration::from_millis(700));
    }
    let (close, slow, retry) = (close.finish(), slow.finish(), retry.finish());
    assert_no_failures(&close, "Connection: close clients");
    assert_no_failures(&slow, "200 ms requests across the drain");
    assert_no_failures(&retry, "keep-alive clients that retry");
    assert!(close.gens.contains_key("v1") && close.gens.contains_key("v2"), "{}", summary(&close));
    assert!(get(port, "/").contains("hello from v1"));
}

/// A listener the new version does not bind is reported by name and closes with the old process;
/// the replacement does not wait for it beyond a short grace.
#[test]
fn a_listener_the_new_version_never_binds_is_reported_not_waited_for() {
    let _g = lock();
    let pids = Pids::default();
    let (port, extra) = (free_port(), free_port());
    let server = Proc::spawn(&java_cmd("plain-socket", "v1", port, &[&format!("--extra-port={extra}")]));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    assert!(get(extra, "/").contains("hello from v1"));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let mut args = vec!["replace".to_string(), pid.to_string(), "--json".into(), "--ready-timeout".into(), "60".into()];
    args.push("--".into());
    args.extend(java_cmd("plain-socket", "v2", port, &[]));
    let started = Instant::now();
    let v = replace(&args);
    let took = started.elapsed();
    pids.add(v["new_pid"].as_u64().expect("new_pid") as u32);
    assert_eq!(v["not_taken_over"], serde_json::json!([format!("0.0.0.0:{extra}")]), "{v}");
    let listeners = v["listeners"].as_array().expect("listeners");
    assert_eq!(listeners.len(), 2, "{v}");
    assert!(listeners.iter().any(|l| l["addr"] == format!("0.0.0.0:{extra}") && l["fd_in_new"].is_null()), "{v}");
    assert!(took < Duration::from_secs(30), "the unbound listener held the replacement for {took:?}");
    assert!(wait_gone(pid, Duration::from_secs(5)));
    let refused = std::net::TcpStream::connect_timeout(&([127, 0, 0, 1], extra).into(), Duration::from_secs(2));
    assert!(refused.is_err(), "port {extra} closed with the old process, nobody holds it listening");
    let close = close.finish();
    assert_no_failures(&close, "close clients on the port that was taken over");
    assert!(get(port, "/").contains("hello from v2"));
}

/// A debugger's and JMX's fixed ports are handed over (the new JVM binds the same ones at start)
/// but not waited for; the port-0 RMI connector of JMX is reported as not taken over.
#[test]
fn debugger_and_jmx_ports_are_handed_over_not_waited_for() {
    let _g = lock();
    let pids = Pids::default();
    let (port, jdwp, jmx) = (free_port(), free_port(), free_port());
    let jvm_opts = [
        format!("-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=127.0.0.1:{jdwp}"),
        format!("-Dcom.sun.management.jmxremote.port={jmx}"),
        "-Dcom.sun.management.jmxremote.authenticate=false".to_string(),
        "-Dcom.sun.management.jmxremote.ssl=false".to_string(),
    ];
    let with_opts = |version: &str| {
        let mut cmd = java_cmd("jdk-httpserver", version, port, &[]);
        for (i, o) in jvm_opts.iter().enumerate() {
            cmd.insert(1 + i, o.clone());
        }
        cmd
    };
    let server = Proc::spawn(&with_opts("v1"));
    let pid = server.wait_ready(1, Duration::from_secs(60));
    let close = Load::start("close", port, "/", Mode::Close, 4, false);
    let v = replace_jar(pid, "jdk-httpserver", "v2");
    let new_pid = v["new_pid"].as_u64().expect("new_pid") as u32;
    pids.add(new_pid);
    let listeners = v["listeners"].as_array().expect("listeners").clone();
    let by_port = |p: u16| listeners.iter().find(|l| l["addr"].as_str().is_some_and(|a| a.ends_with(&format!(":{p}"))));
    let app = by_port(port).unwrap_or_else(|| panic!("the application's listener: {v}"));
    assert!(app["auxiliary"].is_null() && app["fd_in_new"].is_i64(), "{v}");
    let debugger = by_port(jdwp).unwrap_or_else(|| panic!("the debugger's listener: {v}"));
    assert_eq!(debugger["auxiliary"], "JDWP (the debugger)", "{v}");
    assert!(debugger["fd_in_new"].is_i64(), "the new JVM's debugger took its port over: {v}");
    let registry = by_port(jmx).unwrap_or_else(|| panic!("JMX's registry: {v}"));
    assert_eq!(registry["auxiliary"], "JMX (its RMI registry)", "{v}");
    assert!(wait_gone(pid, Duration::from_secs(5)));
    assert!(alive(new_pid));
    let close = close.finish();
    assert_no_failures(&close, "close clients");
    assert!(get(port, "/").contains("hello from v2"));
}
