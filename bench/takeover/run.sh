#!/usr/bin/env bash
# The takeover benchmark (not part of the tests): how many requests fail while a loaded HTTP server
# is replaced by a new version — `jhot replace` on a plain JVM, `jhot replace` under `jhot run`
# (connection hand-over), a naive stop-and-start, and SO_REUSEPORT — for each takeover sample
# (JDK HttpServer, Spring Boot, Netty epoll, embedded Jetty 12, embedded Undertow, Vert.x 5,
# Micronaut 4) with keep-alive and `Connection: close` clients.
#
# Builds what it needs (jhot, libjhot_shim.so, jhot-loadgen with `cargo build --release --locked`;
# the sample jars with scripts/build-takeover-samples.sh), then writes
# bench/results/takeover-<YYYY-MM-DD>.md, the raw JSON and one SVG per scenario under
# bench/results/takeover/, and prints the markdown.
#
#   bash bench/takeover/run.sh                                  # 7 samples x 2 modes x 4 methods
#   bash bench/takeover/run.sh --samples jdk-httpserver --methods naive,reuseport --modes close
#   bash bench/takeover/run.sh --rate 0                         # closed loop instead of 4000 req/s
#   bash bench/takeover/run.sh -h                               # every option
#
# Loopback only; picks free ports; stops only the processes it started, by pid; every wait has a
# timeout and the whole run a budget (--budget, default 4200 s). A failed scenario is recorded as
# failed and the run goes on.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v python3 >/dev/null || { echo "bench/takeover/run.sh: python3 is required" >&2; exit 1; }
exec python3 bench/takeover/bench.py "$@"
