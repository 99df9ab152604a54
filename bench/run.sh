#!/usr/bin/env bash
# The attach/redefine benchmark (not part of the tests): jhot vs jattach, jcmd and Arthas on a
# running samples/hello-http JVM. Sets up what it needs (JDKs via scripts/jdks.sh, jattach via
# apt-get, Arthas via mvn from Maven Central into .cache/arthas, `cargo build --release`), then
# writes bench/results/<YYYY-MM-DD>-jdk<N>.txt and prints it.
#
#   bench/run.sh                       # JDK 17, all tools, 10 cold + 20 warm runs each
#   bench/run.sh --jdk 17 --jdk 21     # more target JDKs (one result file each)
#   bench/run.sh --tools jattach,jcmd  # a subset
#   bench/run.sh -h                    # every option
#
# Loopback only; it stops only the processes it started; bounded by --budget (default 540 s).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
command -v python3 >/dev/null || { echo "bench/run.sh: python3 is required" >&2; exit 1; }
exec python3 bench/attach_bench.py "$@"
