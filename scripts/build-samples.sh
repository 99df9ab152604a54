#!/usr/bin/env bash
# Compile the samples (samples/) with `javac --release 11`, for running them by hand and for the
# benchmark. The end-to-end tests build the same things themselves (tests/e2e/harness/fixtures.rs).
#
# Usage: scripts/build-samples.sh [OUT]        (default OUT: <repo>/target/samples)
#
# Produces:
#   OUT/hello-http/classes/                   the sample (hello.Main ...)
#   OUT/hello-http/patches/<name>/hello/*.class   one dir per samples/hello-http/patches/<name>,
#                                             compiled against the sample classes
#   OUT/retransformer-agent.jar               the retransforming test agent
#   OUT/minimal-agent.jar                     the benchmark's baseline agent
#   OUT/floor-agent.jar                       the benchmark's floor: an agent that only redefines
#
# javac/jar: $JHOT_JAVAC / $JHOT_JAR, else JDK 17 (/usr/lib/jvm/java-17-openjdk-amd64), else PATH.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-$REPO/target/samples}"
JDK17=/usr/lib/jvm/java-17-openjdk-amd64

pick() { # pick VAR TOOL
    local var="$1" tool="$2"
    if [[ -n "${!var:-}" ]]; then printf '%s\n' "${!var}"
    elif [[ -x "$JDK17/bin/$tool" ]]; then printf '%s\n' "$JDK17/bin/$tool"
    elif command -v "$tool" >/dev/null; then command -v "$tool"
    else echo "build-samples.sh: no $tool found (run scripts/jdks.sh or install openjdk-17-jdk-headless)" >&2; exit 1
    fi
}
JAVAC="$(pick JHOT_JAVAC javac)"
JAR="$(pick JHOT_JAR jar)"
JFLAGS=(--release 11 -g -encoding UTF-8 -Xlint:-options)

compile() { # compile SRC_DIR OUT_DIR [CLASSPATH]
    local src="$1" out="$2" cp="${3:-}"
    rm -rf "$out"
    mkdir -p "$out"
    local files=()
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$src" -name '*.java' -print0 | sort -z)
    if [[ -n "$cp" ]]; then
        "$JAVAC" "${JFLAGS[@]}" -cp "$cp" -d "$out" "${files[@]}"
    else
        "$JAVAC" "${JFLAGS[@]}" -d "$out" "${files[@]}"
    fi
}

S="$REPO/samples"
mkdir -p "$OUT"
compile "$S/hello-http/src" "$OUT/hello-http/classes"
for p in "$S"/hello-http/patches/*/; do
    name="$(basename "$p")"
    compile "$p" "$OUT/hello-http/patches/$name" "$OUT/hello-http/classes"
done
for a in retransformer-agent minimal-agent floor-agent; do
    compile "$S/$a/src" "$OUT/$a-classes"
    rm -f "$OUT/$a.jar"
    "$JAR" --create --file "$OUT/$a.jar" --manifest "$S/$a/MANIFEST.MF" -C "$OUT/$a-classes" .
done
echo "build-samples.sh: built into $OUT" >&2
