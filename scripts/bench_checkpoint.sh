#!/usr/bin/env bash
# Checkpoint save/load throughput (benches/checkpoint.rs) beside what `dd`
# gets on the same disk: 400 MiB written with fdatasync, once from
# /dev/zero (which some virtual disks shortcut) and once from a random file
# already in the page cache (the fair comparison), then read back from the
# page cache.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
bench_dir="${TBSEG_BENCH_DIR:-${TMPDIR:-/tmp}}"
export TBSEG_BENCH_DIR="$bench_dir"
cargo bench --quiet -p tbseg --bench checkpoint
out="$(mktemp "$bench_dir/tbseg-dd.XXXXXX")"
random="$(mktemp "$bench_dir/tbseg-dd-src.XXXXXX")"
trap 'rm -f "$out" "$random"' EXIT
head -c $((400 * 1024 * 1024)) /dev/urandom > "$random"
for round in 1 2 3; do
    echo "dd write from /dev/zero, bs=1M count=400 conv=fdatasync ($bench_dir), round $round:"
    dd if=/dev/zero of="$out" bs=1M count=400 conv=fdatasync 2>&1 | tail -1
    rm -f "$out"
    echo "dd write of random data, bs=1M conv=fdatasync, round $round:"
    dd if="$random" of="$out" bs=1M conv=fdatasync 2>&1 | tail -1
    rm -f "$out"
done
echo "dd read (page cache):"
dd if="$random" of=/dev/null bs=1M 2>&1 | tail -1
