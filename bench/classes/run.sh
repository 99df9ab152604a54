#!/usr/bin/env bash
# The shell's class-name completion (crates/engine/src/classes/index.rs) on 30,000 names: the time
# to build the index and of one `complete` call per matching mode, in an optimised build. The
# budget is 20 ms a call; the figures are printed, not asserted (the timing lives here, not in the
# tests). Writes bench/results/classes-index-<date>.txt.
#
#   bash bench/classes/run.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/bench/results/classes-index-$(date +%Y-%m-%d).txt"
mkdir -p "$root/bench/results"
{
  echo "# jhot class-name index benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine:  $(nproc) cpu(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "commit:   $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet || echo ' + local changes')"
  echo "method:   release build, one thread; 50 calls per mode, median and max"
  (cd "$root" && cargo test --release --quiet -p jhot-engine --lib classes::index::tests::bench_complete_on_30000_names \
      -- --ignored --nocapture --test-threads 1 2>/dev/null) | grep -E '^(build|[a-z])' | grep -v '^test ' || true
} | tee "$out"
echo "wrote $out" >&2
