#!/usr/bin/env bash
# The deploy benchmark (not part of the tests): how long `jhot deploy` takes to apply 1,000
# body-only class changes to a running Spring Boot app, and to plan (--dry-run) against an app of
# 20,000 loaded classes. Targets: <= 1 s applied; plan <= 1 s.
#
# Builds jhot (`cargo build --release --locked -p jhot`) and generates the two apps and their
# builds under target/bench/deploy/ (Maven for the Spring Boot one, offline first; javac for the
# other; only when bench/deploy/bench.py changed). Writes bench/results/deploy-<YYYY-MM-DD>.md
# (and .json, the raw runs) and prints the markdown.
#
#   bash bench/deploy/run.sh                          # both measurements, 5 runs each
#   bash bench/deploy/run.sh --only spring-1000       # one of them
#   bash bench/deploy/run.sh --only boot4             # the realistic sample only (bench/deploy/boot4.py)
#   bash bench/deploy/run.sh --prepare-only --start   # generate, build, start, check READY, stop
#   bash bench/deploy/run.sh -h                       # every option
#
# Needs python3, a JDK 17 (/usr/lib/jvm/java-17-openjdk-amd64, or --java-home), mvn, cargo.
# Loopback only; every wait has a timeout; stops only the processes it started, by pid.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v python3 >/dev/null || { echo "bench/deploy/run.sh: python3 is required" >&2; exit 1; }
if [[ "${1:-}" == "--only" && "${2:-}" == "boot4" ]]; then
    exec python3 bench/deploy/boot4.py "${@:3}"
fi
python3 bench/deploy/bench.py "$@"
# The realistic sample (samples/boot4-shop) too, unless one measurement was asked for.
if [[ " $* " != *" --only "* ]]; then
    bash scripts/build-takeover-samples.sh >/dev/null
    python3 bench/deploy/boot4.py
fi
