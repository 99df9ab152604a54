#!/usr/bin/env bash
# Fuzz jhot's class-file code for a bounded time: the cargo-fuzz targets in crates/classfile/fuzz/ (parse:
# classfile::read, javap: javap::disassemble, diff: diff::diff_class), each seeded with the real
# class files committed in tests/fuzz/fixtures/seeds/.
#
#   scripts/fuzz.sh [SECONDS]     total fuzzing time, split evenly across the targets (default 60;
#                                 building the targets comes on top)
#   FUZZ_TARGETS="parse javap"    run only these targets
#
# Needs the nightly toolchain (rustup). Without it this prints why and exits 0: a machine without
# nightly is not a failure. Installs cargo-fuzz from crates.io when it is missing. Each target runs
# with -rss_limit_mb=2048 (which also fails any single allocation over 2 GiB). Exit status 1 means a
# target crashed (panic, stack overflow, out-of-memory, timeout): the crash input's path is printed,
# with the command that replays it.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FUZZ="$REPO/crates/classfile/fuzz"
SEEDS="$REPO/tests/fuzz/fixtures/seeds"
TOTAL="${1:-60}"
read -r -a TARGETS <<<"${FUZZ_TARGETS:-parse javap diff}"

log() { printf 'fuzz.sh: %s\n' "$*" >&2; }

[[ "$TOTAL" =~ ^[0-9]+$ ]] || { log "SECONDS must be a whole number, not '$TOTAL'"; exit 2; }

if ! command -v rustup >/dev/null || ! rustup toolchain list | grep -q '^nightly'; then
    log "no nightly Rust toolchain here (cargo-fuzz needs one: rustup toolchain install nightly); not fuzzing"
    exit 0
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked
fi

cd "$FUZZ"
# Start from the root lock file, so the fuzz build uses the versions jhot is tested with.
[[ -f Cargo.lock ]] || cp "$REPO/Cargo.lock" Cargo.lock

# Corpora: the seeds for parse and javap; for diff, pairs of seeds in its input layout (a byte that
# picks the JVM, the old class's length as 4 bytes big-endian, the old class, the new class).
seeds=("$SEEDS"/*.class)
((${#seeds[@]} > 0)) || { log "no seeds in $SEEDS"; exit 1; }
for t in parse javap diff; do mkdir -p "corpus/$t"; done
cp "${seeds[@]}" corpus/parse/
cp "${seeds[@]}" corpus/javap/
diff_seed() { # out pick old new
    local n
    n=$(wc -c <"$3")
    {
        printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x%02x' "$2" $(((n >> 24) & 255)) $(((n >> 16) & 255)) $(((n >> 8) & 255)) $((n & 255)))"
        cat "$3" "$4"
    } >"$1"
}
for i in "${!seeds[@]}"; do
    s="${seeds[$i]}"
    b="$(basename "$s")"
    next="${seeds[$(((i + 1) % ${#seeds[@]}))]}"
    diff_seed "corpus/diff/same-$b" $((i % 8)) "$s" "$s"
    diff_seed "corpus/diff/next-$b" $((i % 8)) "$s" "$next"
    # The same class compiled with and without debug information (j17 / j17g).
    g="$SEEDS/j17g-${b#j17-}"
    if [[ "$b" == j17-* && -f "$g" ]]; then
        diff_seed "corpus/diff/debug-$b" 1 "$s" "$g"
    fi
done

# Build first, so that a build failure is reported as one and the fuzzing time is all fuzzing.
# Debug assertions are on (integer overflow panics); no sanitizer: the code under test is safe Rust,
# and without one libFuzzer runs several times faster.
FLAGS=(--sanitizer none --debug-assertions)
for t in "${TARGETS[@]}"; do
    log "building $t"
    cargo +nightly fuzz build "${FLAGS[@]}" "$t"
done

per=$((TOTAL / ${#TARGETS[@]}))
((per >= 1)) || per=1
status=0
for t in "${TARGETS[@]}"; do
    log "fuzzing $t for ${per}s"
    mkdir -p "artifacts/$t"
    marker="$(mktemp)"
    set +e
    cargo +nightly fuzz run "${FLAGS[@]}" "$t" "corpus/$t" -- \
        -max_total_time="$per" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 \
        2>&1 | tee "artifacts/$t/last-run.log" | grep -E '^(#[0-9]+ +(INITED|DONE)|stat::number_of_executed_units|==[0-9]+== ERROR|thread .* panicked|SUMMARY)' >&2
    rc=${PIPESTATUS[0]}
    set -e
    crashes=$(find "$FUZZ/artifacts/$t" -type f -newer "$marker" ! -name 'last-run.log' | sort)
    rm -f "$marker"
    if ((rc != 0)) || [[ -n "$crashes" ]]; then
        status=1
        log "$t FAILED (exit $rc); its log: $FUZZ/artifacts/$t/last-run.log"
        for c in $crashes; do
            log "  crash input: $c"
            log "  replay with: (cd $FUZZ && cargo +nightly fuzz run ${FLAGS[*]} $t $c)"
        done
    else
        log "$t: no crash"
    fi
done
exit "$status"
