#!/bin/sh
# Downloads the third-party jars jhot embeds for `jhot jad` and `jhot mc` (Vineflower, ECJ) from
# Maven Central into .cache/tools/ (or $1), checking each against its pinned SHA-256. build.rs runs
# this when a jar is missing; run it by hand to fill the cache before an offline build.
#
# Two of each: Vineflower >= 1.11 and ECJ >= 3.34 need Java 17 to run, and the helper runs on the
# target's own java, so JDK 11-16 targets get the last versions that run on Java 11.
set -eu

dir=${1:-$(dirname "$0")/../.cache/tools}
base=${JHOT_MAVEN_URL:-https://repo1.maven.org/maven2}
mkdir -p "$dir"

# path under the repository, sha-256
jars='
org/vineflower/vineflower/1.12.0/vineflower-1.12.0-slim.jar 753fd20d0b33ebf20c327d076e437557da0d8b42f121e1983b9cbe2b5b3e0219
org/vineflower/vineflower/1.10.1/vineflower-1.10.1.jar b9b208e50793b64657a6b6292067526613f549de7405f9243624b02f4276e409
org/eclipse/jdt/ecj/3.46.100/ecj-3.46.100.jar 74c93172475fee0cd4e6eefb44233516dd40525642da35d009146d97ea598229
org/eclipse/jdt/ecj/3.33.0/ecj-3.33.0.jar f7686c4960cf70c2ebc5c500a73a8cfc04541b730c18f1c5c21329889b137f45
'

echo "$jars" | while read -r path sha; do
    [ -n "$path" ] || continue
    name=${path##*/}
    out="$dir/$name"
    if [ -f "$out" ] && echo "$sha  $out" | sha256sum -c --status; then
        continue
    fi
    tmp="$out.part"
    if command -v curl >/dev/null 2>&1; then
        curl -fsSL --retry 3 -o "$tmp" "$base/$path"
    else
        wget -q -O "$tmp" "$base/$path"
    fi
    if ! echo "$sha  $tmp" | sha256sum -c --status; then
        rm -f "$tmp"
        echo "fetch-tools: $name does not have the pinned SHA-256 $sha" >&2
        exit 1
    fi
    mv "$tmp" "$out"
    echo "fetch-tools: $name"
done
