#!/usr/bin/env bash
# Fetch a few large, real-world jars from Maven Central into a cache directory, once, for the
# "parse the world" test (tests/e2e/parse_world.rs): every class in them must parse and
# disassemble without one error.
#
#   scripts/fetch-jars.sh            (cache: ${JHOT_JARS_CACHE:-<repo>/.cache/jars})
#
# Uses `mvn dependency:copy` (no project needed); without Maven, curl from Maven Central with the
# published SHA-1 checked. Re-running is cheap: jars already in the cache are kept. The directory
# is complete when it holds the `.complete` marker, which lists the jars; the test runs this
# script when the marker is missing.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${JHOT_JARS_CACHE:-$REPO/.cache/jars}"
DEP_PLUGIN="org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
CENTRAL="${JHOT_MAVEN_CENTRAL:-https://repo1.maven.org/maven2}"

# groupId:artifactId:version. Chosen for size and for different compilers: javac (guava,
# spring-core, jackson-databind), kotlinc (kotlin-stdlib), scalac (scala-library), groovyc and
# javac with invokedynamic-heavy code (groovy).
ARTIFACTS=(
    "com.google.guava:guava:33.4.8-jre"
    "org.springframework:spring-core:6.2.8"
    "com.fasterxml.jackson.core:jackson-databind:2.19.1"
    "org.jetbrains.kotlin:kotlin-stdlib:2.1.21"
    "org.scala-lang:scala-library:2.13.16"
    "org.apache.groovy:groovy:4.0.27"
)

log() { printf 'fetch-jars.sh: %s\n' "$*" >&2; }
die() { printf 'fetch-jars.sh: error: %s\n' "$*" >&2; exit 1; }

mkdir -p "$CACHE"
missing=()
for a in "${ARTIFACTS[@]}"; do
    IFS=: read -r _g art ver <<<"$a"
    [[ -s "$CACHE/$art-$ver.jar" ]] || missing+=("$a")
done

# fetch_with_mvn ARTIFACT DIR / fetch_with_curl ARTIFACT DIR: the jar into DIR.
fetch_with_mvn() {
    mvn -q -B -Dstyle.color=never "$DEP_PLUGIN:copy" -Dartifact="$1" -DoutputDirectory="$2" \
        -Dmdep.overWriteReleases=true >&2
}
fetch_with_curl() {
    local g a v url
    IFS=: read -r g a v <<<"$1"
    url="$CENTRAL/${g//.//}/$a/$v/$a-$v.jar"
    curl -fsSL --retry 3 -o "$2/$a-$v.jar" "$url" || return 1
    curl -fsSL --retry 3 -o "$2/$a-$v.jar.sha1" "$url.sha1" || return 1
    [[ "$(sha1sum "$2/$a-$v.jar" | cut -d' ' -f1)" == "$(cut -c1-40 "$2/$a-$v.jar.sha1")" ]] \
        || { log "SHA-1 mismatch for $url"; return 1; }
    rm -f "$2/$a-$v.jar.sha1"
}

if ((${#missing[@]} > 0)); then
    if command -v mvn >/dev/null; then
        fetch=fetch_with_mvn
    elif command -v curl >/dev/null && command -v sha1sum >/dev/null; then
        fetch=fetch_with_curl
    else
        die "mvn (or curl and sha1sum) is required, or put the jars in $CACHE"
    fi
    for a in "${missing[@]}"; do
        log "downloading $a"
        # Into a temporary directory first, so an interrupted run never leaves half a jar behind.
        tmp="$(mktemp -d "$CACHE/.tmp.XXXXXX")"
        if ! "$fetch" "$a" "$tmp"; then
            rm -rf "$tmp"
            die "could not fetch $a (is Maven Central reachable?)"
        fi
        mv "$tmp"/*.jar "$CACHE/"
        rm -rf "$tmp"
    done
fi

# The marker lists exactly the jars of this script's list, so changing the list re-fetches.
{
    for a in "${ARTIFACTS[@]}"; do
        IFS=: read -r _g art ver <<<"$a"
        printf '%s-%s.jar\n' "$art" "$ver"
    done
} >"$CACHE/.complete.tmp"
mv "$CACHE/.complete.tmp" "$CACHE/.complete"
log "jars ready in $CACHE"
