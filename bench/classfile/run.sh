#!/usr/bin/env bash
# Class-file diff benchmark: parse + diff throughput of jhot's engine (one thread) on two releases
# of a large real jar from Maven Central, and the wall time of `jhot diff OLD.jar NEW.jar`.
#
#   bash bench/classfile/run.sh            # guava 32.1.3-jre vs 33.3.1-jre, plus spring-core
#   SECONDS_PER_CASE=5 JDK_RULES=17 bash bench/classfile/run.sh
#
# Writes bench/results/classfile-<date>.txt (and prints it).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
jars="$root/target/bench-jars"
secs="${SECONDS_PER_CASE:-3}"
jdk="${JDK_RULES:-21}"
out="$root/bench/results/classfile-$(date +%Y-%m-%d).txt"
mkdir -p "$jars" "$root/bench/results"

# Two pairs of releases: guava (recompiled wholesale between releases: every class differs) and
# spring-core (most classes byte-identical).
pairs=(
  "com.google.guava:guava:32.1.3-jre com.google.guava:guava:33.3.1-jre"
  "org.springframework:spring-core:6.1.14 org.springframework:spring-core:6.2.1"
)

jar_of() { # G:A:V -> path
  local g a v
  IFS=: read -r g a v <<<"$1"
  echo "$jars/$a-$v.jar"
}

for pair in "${pairs[@]}"; do
  for gav in $pair; do
    if [[ ! -f "$(jar_of "$gav")" ]]; then
      echo "fetching $gav from Maven Central" >&2
      mvn -q dependency:copy -Dartifact="$gav" -DoutputDirectory="$jars" >&2
    fi
  done
done

echo "building the benchmark (release)" >&2
export CARGO_TARGET_DIR="$root/target/bench-classfile"
(cd "$root" && cargo build --release --quiet --locked -p jhot-classfile-bench)
bench="$CARGO_TARGET_DIR/release/jhot-classfile-bench"

# The CLI, for the wall time of `jhot diff` (skipped if it has no diff command yet).
jhot=""
if (cd "$root" && CARGO_TARGET_DIR="$root/target" cargo build-jhot --quiet) >&2 2>/dev/null; then
  if "$root/target/release/jhot" diff --help >/dev/null 2>&1; then
    jhot="$root/target/release/jhot"
  fi
fi

median_ms() { # command... -> median wall time of 5 runs, in ms
  local times=() t0 t1
  for _ in 1 2 3 4 5 6; do
    t0=$(date +%s%N)
    "$@" >/dev/null 2>&1 || true
    t1=$(date +%s%N)
    times+=($(( (t1 - t0) / 1000 )))
  done
  # Drop the first (cold page cache), median of the rest.
  printf '%s\n' "${times[@]:1}" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

{
  echo "# jhot class-file diff benchmark, $(date -u +%Y-%m-%dT%H:%MZ)"
  echo "machine:  $(nproc) cpu(s), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
  echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15-min load average when the run started; other work on the machine slows every figure)"
  echo "rustc:    $(rustc --version)"
  echo "java:     $(java -version 2>&1 | head -1) (not used by the engine; verdicts follow JDK $jdk's rules)"
  echo "commit:   $(cd "$root" && git rev-parse --short HEAD)$(cd "$root" && git diff --quiet || echo ' + local changes')"
  echo "method:   single thread; each figure is the median of repeated runs over >= ${secs}s after a warm-up;"
  echo "          classes/s/core = classes compared / median time. Jars are read into memory first."
  for pair in "${pairs[@]}"; do
    set -- $pair
    old="$(jar_of "$1")"
    new="$(jar_of "$2")"
    echo
    echo "## $1 -> ${2##*:}"
    "$bench" "$old" "$new" --seconds "$secs" --jdk "$jdk"
    if [[ -n "$jhot" ]]; then
      echo "jhot diff wall time:     $(median_ms "$jhot" diff --jdk "$jdk" "$old" "$new") ms  (target/release/jhot diff OLD.jar NEW.jar: unzip, parse, diff, print; median of 5)"
    else
      echo "jhot diff wall time:     skipped (target/release/jhot has no diff command)"
    fi
  done
} | sed "s|$root/||g" | tee "$out"
echo "wrote $out" >&2
