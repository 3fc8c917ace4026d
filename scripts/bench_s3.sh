#!/usr/bin/env bash
# Streaming scalars to a local S3 server (s3s-fs on 127.0.0.1): tbseg's
# rolling-segment writer for 10 k, 100 k and 1 M events, tensorboardX's S3
# writer for 10 k and 100 k, each to a fresh run, each flushing every
# second. Prints one JSON line per run (BENCHMARKS.md, "Object storage").
# Run it on an otherwise idle machine, under `nice -n 10` on a shared one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
. scripts/s3-server.sh
scripts/setup-s3.sh
scripts/setup-bench-python.sh
tmp="$(mktemp -d)"
trap 'tbseg_s3_stop; rm -rf "$tmp"' EXIT
cargo build --quiet --release -p tbseg --features object-store --example stream_to_store
tbseg_s3_start "$tmp/store" bench
# Bytes of the objects under one run (s3s-fs keeps one file per object;
# it keeps its own metadata outside the bucket folders).
stored() {
    find "$tmp/store/bench/$1" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }'
}
for events in 10000 100000 1000000; do
    printf 'tbseg        %8d: ' "$events"
    "$CARGO_TARGET_DIR/release/examples/stream_to_store" "s3://bench/tbseg-$events" \
        --events "$events" --flush-ms 1000
    echo "             objects: $(find "$tmp/store/bench/tbseg-$events" -type f | wc -l), bytes stored: $(stored "tbseg-$events")"
done
for events in 10000 100000; do
    printf 'tensorboardX %8d: ' "$events"
    "$TBSEG_CACHE/bench-venv/bin/python" scripts/bench_s3_tensorboardx.py \
        "s3://bench/tbx-$events" "$events" 1
    echo "             bytes stored: $(stored "tbx-$events")"
done
