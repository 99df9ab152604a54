#!/usr/bin/env bash
# Starts every build of the deploy fixture (jar and classes directory) on loopback, checks what it
# answers, that the 200 Gen classes are loaded at startup and that LazyThing is not (until
# GET /lazy), and stops it. Builds first (scripts/build-deploy-samples.sh).
#
# Usage: samples/deploy/check.sh [JAVA]   (default: /usr/lib/jvm/java-17-openjdk-amd64/bin/java)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
JAVA="${1:-/usr/lib/jvm/java-17-openjdk-amd64/bin/java}"
JCMD="$(dirname "$JAVA")/jcmd"
OUT="$REPO/target/samples/deploy"
bash "$REPO/scripts/build-deploy-samples.sh" "$OUT"

fail=0
pid=""
log=""
cleanup() { if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi; rm -f "$log"; }
trap cleanup EXIT

expect() { # expect WHAT GOT WANT
    if [[ "$2" == "$3" ]]; then echo "  ok   $1: $2"; else echo "  FAIL $1: got '$2', want '$3'"; fail=1; fi
}
get() { curl -s --max-time 5 "http://127.0.0.1:$port$1"; }
header() { curl -s --max-time 5 -o /dev/null -D - "http://127.0.0.1:$port$1" | tr -d '\r' | sed -n "s/^$2: //Ip"; }
loaded() { # loaded CLASS: 1 when the JVM has loaded CLASS
    if "$JCMD" "$pid" VM.class_hierarchy "$1" 2>/dev/null | grep -qF -- "--$1/"; then echo 1; else echo 0; fi
}

# variant -> greeting, gen, lazy, helper, props
declare -A WANT=(
    [base]="base 19900 base none hello"
    [same]="base 19900 base none hello"
    [body]="body 19900 base none hello"
    [many-body]="base 219900 base none hello"
    [many-structural]="base 219900 base none hello"
    [helper]="helper:from-helper 19900 base from-helper hello"
    [lazy]="base 19900 changed none hello"
    [props]="base 19900 base none howdy"
    [v2]="v2 19900 base none hello"
)
for v in base same body many-body many-structural helper lazy props v2; do
    for form in jar classes; do
        read -r greeting gen lazy helper prefix <<<"${WANT[$v]}"
        echo "== $v ($form)"
        log="$(mktemp)"
        if [[ $form == jar ]]; then
            "$JAVA" -Xmx64m -Dsun.net.httpserver.nodelay=true -jar "$OUT/deploy-app-$v.jar" --port=0 --bind=127.0.0.1 >"$log" 2>&1 &
        else
            "$JAVA" -Xmx64m -Dsun.net.httpserver.nodelay=true -cp "$OUT/deploy-app-$v-classes" jhot.sample.deploy.Main --port=0 --bind=127.0.0.1 >"$log" 2>&1 &
        fi
        pid=$!
        port=""
        for _ in $(seq 1 200); do
            port="$(sed -nE 's/^READY app=deploy-app version=[^ ]+ port=([0-9]+) pid=[0-9]+$/\1/p' "$log")"
            [[ -n "$port" ]] && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.05
        done
        if [[ -z "$port" ]]; then echo "  FAIL no READY line: $(cat "$log")"; fail=1; cleanup; continue; fi
        expect "READY" "$(head -1 "$log")" "READY app=deploy-app version=$v port=$port pid=$pid"
        expect "Gen123 loaded at start" "$(loaded jhot.sample.deploy.Gen123)" 1
        expect "Greeter loaded at start" "$(loaded jhot.sample.deploy.Greeter)" 1
        expect "LazyThing loaded at start" "$(loaded jhot.sample.deploy.LazyThing)" 0
        expect "GET /" "$(get /)" "greeting=$greeting"
        expect "X-Variant" "$(header / X-Variant)" "$v"
        expect "X-Pid" "$(header /health X-Pid)" "$pid"
        expect "GET /gen" "$(get /gen)" "gen=$gen"
        expect "GET /helper" "$(get /helper)" "helper=$helper"
        expect "GET /props" "$(get /props)" "greeting.prefix=$prefix"
        expect "GET /health" "$(get /health)" "ok"
        expect "GET /lazy" "$(get /lazy)" "lazy=$lazy"
        expect "LazyThing loaded after /lazy" "$(loaded jhot.sample.deploy.LazyThing)" 1
        kill -TERM "$pid"
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
        rc=0; wait "$pid" || rc=$?
        expect "exit status after SIGTERM" "$rc" 143
        pid=""
        rm -f "$log"
    done
done
if [[ $fail -ne 0 ]]; then echo "check.sh: FAILED"; exit 1; fi
echo "check.sh: all builds answer as specified"
