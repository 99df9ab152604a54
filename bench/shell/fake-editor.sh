#!/bin/sh
# The shell benchmark's $EDITOR (bench/shell/bench.py): replaces the "Hello from ..." string
# literal in the file it is given (its last argument) with the text in $JHOT_BENCH_EDIT_DIR/next,
# then writes the time it is done (ns since the epoch) to $JHOT_BENCH_EDIT_DIR/saved and exits.
# The benchmark times from that moment to the target serving the new text.
set -eu
for f; do :; done
new=$(cat "$JHOT_BENCH_EDIT_DIR/next")
sed -i -E "s/Hello from [A-Za-z0-9]+/$new/" "$f"
if ! grep -q "$new" "$f"; then
    echo "fake-editor: no \"Hello from ...\" literal in $f" >&2
    exit 1
fi
# Renamed into place: the benchmark never reads a half-written time.
date +%s%N > "$JHOT_BENCH_EDIT_DIR/saved.tmp"
mv "$JHOT_BENCH_EDIT_DIR/saved.tmp" "$JHOT_BENCH_EDIT_DIR/saved"
