#!/usr/bin/env bash
# The build plugins' overhead over `jhot deploy` itself (not part of the tests): Maven's
# `mvn compile jhot:deploy` against `mvn compile` + `jhot deploy`, Gradle 4.4.1's (daemon)
# `gradle jar jhotDeploy` against `gradle jar` + `jhot deploy`, for one body-only change. Target:
# <= 1 s. The method is in bench/plugins/bench.py's docstring.
#
# Builds a release jhot, installs it and both plugins into ~/.m2 (scripts/install-integrations.sh,
# as `make install-integrations` does), then writes bench/results/plugins-<YYYY-MM-DD>.md and .json.
#
#   bash bench/plugins/run.sh                 # both, 7 pairs each
#   bash bench/plugins/run.sh --only gradle --runs 5
#
# Needs python3, mvn, gradle (Debian's 4.4.1), a JDK 17, cargo. Loopback only; every wait has a
# timeout; stops only the processes it started, by pid (and its own Gradle daemon).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
for tool in python3 mvn gradle cargo; do
    command -v "$tool" >/dev/null || { echo "bench/plugins/run.sh: $tool is required" >&2; exit 1; }
done
cargo build-jhot
JHOT="${CARGO_TARGET_DIR:-$PWD/target}/release/jhot"
bash scripts/install-integrations.sh "$JHOT" >/dev/null
python3 bench/plugins/bench.py --jhot "$JHOT" "$@"
