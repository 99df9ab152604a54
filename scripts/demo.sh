#!/usr/bin/env bash
# The demo: start samples/hello-http on JDK 17, show its answer, fix Greeter's method body with
# jhot while it runs, show the new answer, then show the history and roll back.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}"
[[ -x "$JAVA_HOME/bin/java" ]] || JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"

if [[ -t 1 ]]; then say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }; else say() { printf '\n== %s\n' "$*"; }; fi

say "building jhot (release) and the sample"
cargo build-jhot -q
JHOT="$REPO/target/release/jhot"
bash scripts/build-samples.sh "$REPO/target/samples" 2>/dev/null
CLASSES="$REPO/target/samples/hello-http/classes"
PATCH="$REPO/target/samples/hello-http/patches/body/hello/Greeter.class"

say "starting samples/hello-http on $("$JAVA_HOME/bin/java" -version 2>&1 | head -1)"
LOG="$(mktemp)"
"$JAVA_HOME/bin/java" -cp "$CLASSES" hello.Main 0 >"$LOG" 2>&1 &
APP=$!
trap 'kill "$APP" 2>/dev/null || true; wait "$APP" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 100); do grep -q '^LISTENING' "$LOG" && break; sleep 0.1; done
PORT="$(awk '/^LISTENING/ {print $2; exit}' "$LOG")"
[[ -n "$PORT" ]] || { echo "demo: the sample did not start:"; cat "$LOG"; exit 1; }
get() { python3 -c 'import sys,urllib.request; print(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode().strip())' "http://127.0.0.1:$PORT$1"; }
echo "pid $APP, listening on 127.0.0.1:$PORT"

say "jhot ps"
"$JHOT" ps

say "GET / before"
get /

say "jhot redefine $APP Greeter.class   (the body of greet() changed)"
"$JHOT" redefine "$APP" "$PATCH"

say "GET / after"
get /

say "jhot history $APP"
"$JHOT" history "$APP"

say "jhot rollback $APP"
"$JHOT" rollback "$APP"
say "GET / after rollback"
get /
