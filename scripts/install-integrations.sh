#!/usr/bin/env bash
# Installs the build integrations into the local Maven repository (~/.m2): the jhot binary as
# dev.jhot:jhot:<version>:exe:<os>-<arch> (protoc's convention), then (integrations/pom.xml) the
# shared core with that binary's SHA-256 built in, and dev.jhot:jhot-maven-plugin and
# dev.jhot:jhot-gradle-plugin, each with the core shaded into its jar: the plugins run the artifact
# only if it is that file.
# Usage: scripts/install-integrations.sh [path/to/jhot]   (default: target/release/jhot, built here by `cargo build-jhot`)
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
EXE="${1:-}"
if [[ -z "$EXE" ]]; then
    cargo build-jhot
    EXE="${CARGO_TARGET_DIR:-$REPO/target}/release/jhot"
fi
[[ -x "$EXE" ]] || { echo "install-integrations: $EXE is not an executable" >&2; exit 1; }
case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) CLASSIFIER=linux-x86_64 ;;
    Linux-aarch64) CLASSIFIER=linux-aarch_64 ;;
    *) echo "install-integrations: no jhot artifact for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
esac
VERSION="$(sed -n 's|^  <version>\(.*\)</version>|\1|p' integrations/maven/pom.xml | head -1)"
mvn -B -q install:install-file -Dfile="$EXE" -DgroupId=dev.jhot -DartifactId=jhot -Dversion="$VERSION" \
    -Dpackaging=exe -Dclassifier="$CLASSIFIER" -DgeneratePom=true
DIGESTS=integrations/core/target/jhot-digests/dev/jhot/integrations
mkdir -p "$DIGESTS"
echo "$CLASSIFIER $(sha256sum "$EXE" | cut -d' ' -f1)" > "$DIGESTS/jhot-exe.sha256"
(cd integrations && mvn -B -q install)
echo "installed dev.jhot:jhot:$VERSION:exe:$CLASSIFIER, dev.jhot:jhot-maven-plugin:$VERSION and dev.jhot:jhot-gradle-plugin:$VERSION"
