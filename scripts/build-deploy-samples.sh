#!/usr/bin/env bash
# Build the deploy fixture (samples/deploy/, see its README.md): one plain-Java HTTP server in
# several builds ("variants") that each differ from `base` in one way, for the tests and the
# benchmark of `jhot deploy`.
#
# Usage: scripts/build-deploy-samples.sh [OUT]   (default OUT: <repo>/target/samples/deploy)
#
# Produces, for every variant V below:
#   OUT/deploy-app-V.jar        a runnable jar (Main-Class jhot.sample.deploy.Main)
#   OUT/deploy-app-V-classes/   the same classes and app.properties as a directory
#
#   base             the reference build
#   same             built again from base's sources: class files and resources byte-identical
#   body             Greeter.greet()'s body only
#   many-body        the bodies of all 200 GenNNN.value() (NNN -> NNN+1000)
#   many-structural  many-body, and Gen123 gets a field
#   helper           Greeter's method bodies call the new class Helper
#   lazy             LazyThing.answer()'s body only (a class not loaded until GET /lazy)
#   lazy-structural  LazyThing gets a new method (pending while not loaded; structural once it is)
#   props            app.properties only
#   v2               Greeter gets a field and a method
#
# All with one javac (`--release 11 -g`); JDK: the first JDK 17+ of $JAVA_HOME,
# /usr/lib/jvm/java-17-openjdk-amd64 and the javac on PATH. Gen000..Gen199 and GenAll are generated
# by samples/deploy/gen-classes.sh into OUT/.work (never into the source tree).
#
# Idempotent: rebuilds only when a hash of samples/deploy/, this script and the JDK differs from
# OUT/.stamps/deploy-app, or when an output is missing. Concurrent runs wait for each other (flock).
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
S="$REPO/samples/deploy"
OUT="${1:-$REPO/target/samples/deploy}"
SELF="$REPO/scripts/$(basename "${BASH_SOURCE[0]}")"
VARIANTS=(base same body many-body many-structural helper lazy lazy-structural props v2)

log() { echo "build-deploy-samples.sh: $*" >&2; }
die() { log "$*"; exit 1; }

# shellcheck source=find-jdk17.sh
source "$REPO/scripts/find-jdk17.sh"
JAVAC_VERSION="$("$JDK/bin/javac" -version 2>&1)"

mkdir -p "$OUT/.stamps"
OUT="$(cd "$OUT" && pwd)"
if command -v flock >/dev/null; then
    exec 9>"$OUT/.build.lock"
    flock -w 600 9 || die "timed out waiting for another build-deploy-samples.sh"
fi

src_hash() {
    {
        (cd "$S" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
        sha256sum <"$SELF"
        echo "$JDK $JAVAC_VERSION"
    } | sha256sum | cut -d' ' -f1
}

up_to_date() {
    local v
    [[ -f "$OUT/.stamps/deploy-app" && "$(cat "$OUT/.stamps/deploy-app")" == "$1" ]] || return 1
    for v in "${VARIANTS[@]}"; do
        [[ -f "$OUT/deploy-app-$v.jar" && -d "$OUT/deploy-app-$v-classes" ]] || return 1
    done
}

# gen-classes.sh options and the overlay directory (samples/deploy/variants/V) of each variant
gen_args() {
    case "$1" in
        many-body) echo "--add=1000" ;;
        many-structural) echo "--add=1000 --field-in=123" ;;
        *) echo "" ;;
    esac
}

build_variant() {
    local v="$1" w="$OUT/.work/$1" files=() f
    rm -rf "$w"
    mkdir -p "$w/src" "$w/classes"
    cp -R "$S/src/jhot" "$w/src/"
    if [[ -d "$S/variants/$v/src/jhot" ]]; then cp -R "$S/variants/$v/src/jhot" "$w/src/"; fi
    # shellcheck disable=SC2046
    bash "$S/gen-classes.sh" "$w/src" $(gen_args "$v")
    while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$w/src" -name '*.java' -print0 | sort -z)
    "$JDK/bin/javac" --release 11 -g -encoding UTF-8 -Xlint:-options -d "$w/classes" "${files[@]}"
    cp "$S/src/resources/"* "$w/classes/"
    if [[ -d "$S/variants/$v/src/resources" ]]; then cp "$S/variants/$v/src/resources/"* "$w/classes/"; fi
    "$JDK/bin/jar" --create --file "$w/deploy-app-$v.jar" --main-class jhot.sample.deploy.Main -C "$w/classes" .
    # install: the jar atomically, the directory by rename
    mv -f "$w/deploy-app-$v.jar" "$OUT/deploy-app-$v.jar"
    rm -rf "$OUT/deploy-app-$v-classes"
    mv "$w/classes" "$OUT/deploy-app-$v-classes"
    rm -rf "$w"
}

hash="$(src_hash)"
if up_to_date "$hash"; then
    log "deploy-app: up to date"
    exit 0
fi
log "deploy-app: building ${#VARIANTS[@]} variants"
rm -f "$OUT/.stamps/deploy-app"
for v in "${VARIANTS[@]}"; do build_variant "$v"; done
rm -rf "$OUT/.work"
# `same` must be a byte-for-byte copy of `base` (class files and resources)
diff -r "$OUT/deploy-app-base-classes" "$OUT/deploy-app-same-classes" >/dev/null ||
    die "deploy-app-same-classes differs from deploy-app-base-classes (javac not deterministic?)"
echo "$hash" >"$OUT/.stamps/deploy-app"
log "jars and classes directories in $OUT"
