#!/usr/bin/env bash
# Runs every cargo-fuzz target of fuzz/ for a short while (CI smoke run):
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Default: 20 s for each target. Installs cargo-fuzz into the cache once
# and needs the nightly toolchain (libFuzzer's sanitizer flags). Inputs the
# fuzzer finds go to a scratch directory, so the committed corpus in
# fuzz/corpus/<target>/ only changes by hand (`cargo fuzz cmin`). A crash
# fails the script; its input is under fuzz/artifacts/<target>/ and belongs
# in a regression test (tests/fuzz_regressions.rs) once fixed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh

seconds="${1:-20}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(record_reader event_reader example checkpoint_table checkpoint_bundle sunnybrook summary_writer)
fi

if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "fuzz: the nightly toolchain is missing (rustup toolchain install nightly)" >&2
    exit 1
fi
fuzz_root="$TBSEG_CACHE/cargo-fuzz"
if [ ! -x "$fuzz_root/bin/cargo-fuzz" ]; then
    echo "== installing cargo-fuzz into $fuzz_root" >&2
    CARGO_TARGET_DIR="$fuzz_root/target" cargo install --locked --root "$fuzz_root" cargo-fuzz
fi
export PATH="$fuzz_root/bin:$PATH"
# Its own target directory: sanitizer builds share nothing with the others.
export CARGO_TARGET_DIR="$TBSEG_CACHE/target-fuzz"

scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
for target in "${targets[@]}"; do
    echo "== fuzz $target for ${seconds}s" >&2
    mkdir -p "$scratch/$target" "fuzz/corpus/$target"
    # The DICOM seed is a whole 256x256 image; the other formats stay small.
    max_len=4096
    [ "$target" = sunnybrook ] && max_len=140000
    # The writer's inputs are at most a few KiB of pixels: an allocation
    # over 64 MiB means sizes were trusted that the input does not justify.
    malloc_limit=2048
    [ "$target" = summary_writer ] && malloc_limit=64
    status=0
    cargo +nightly fuzz run "$target" "$scratch/$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -max_len="$max_len" -rss_limit_mb=2048 \
        -malloc_limit_mb="$malloc_limit" \
        -timeout=10 -print_final_stats=1 >"$scratch/$target.log" 2>&1 || status=$?
    # libFuzzer's progress lines are noise; keep the summary and any crash.
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs|ERROR|panicked|SUMMARY|error' "$scratch/$target.log" >&2 || true
    if [ "$status" -ne 0 ]; then
        tail -n 40 "$scratch/$target.log" >&2
        echo "fuzz: $target failed (status $status); a crash input is under fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
echo "== fuzz: every target ran ${seconds}s without a crash" >&2
