#!/usr/bin/env bash
# tbseg-serve against RustBoard and TensorBoard's Python loader (issue 19):
# time until the stock TensorBoard's scalars dashboard returns every run's
# full downsampled series, and peak memory of the data server, on a
# synthetic log directory, locally and on an S3 copy (s3s-fs). Not part of
# the test command. Results: BENCHMARKS.md, "tbseg serve".
#
#   scripts/bench_serve.sh [--runs N] [--tags T] [--steps S] [--image-runs K] [--timeout SECONDS] [--rounds R] [--fast-only]
#
# The default (50 runs × 10 tags × 5,000 steps = 2.5 M scalars, images in 5
# runs) takes a few minutes on the 2-core development VM, most of it the
# Python loader's. --fast-only leaves out the Python loader and S3, for a
# log directory too big for them: tbseg-serve and RustBoard alone.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=50 tags=10 steps=5000 image_runs=5 timeout=300 rounds=3 fast_only=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) runs="$2"; shift 2 ;;
        --tags) tags="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --image-runs) image_runs="$2"; shift 2 ;;
        --timeout) timeout="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --fast-only) fast_only=1; shift ;;
        *) echo "bench_serve.sh: unknown argument $1 (expected --runs, --tags, --steps, --image-runs, --timeout, --rounds, --fast-only)" >&2; exit 2 ;;
    esac
done
. scripts/env.sh
scripts/setup-python.sh
scripts/setup-s3.sh
. scripts/s3-server.sh
cargo build --quiet --release -p tbseg-serve --features object-store --bin tbseg-serve --example bench_logdir
tmp="$(mktemp -d)"
trap 'tbseg_s3_stop; rm -rf "$tmp"' EXIT
echo "bench_serve: writing $runs runs × $tags tags × $steps steps ($((runs * tags * steps)) scalars), images in $image_runs runs" >&2
"$CARGO_TARGET_DIR/release/examples/bench_logdir" "$tmp/logs" "$runs" "$tags" "$steps" "$image_runs"
echo "bench_serve: $(du -sh "$tmp/logs" | cut -f1) of event files; $(nproc) cores; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
if [ "$fast_only" = 1 ]; then
    tbseg_py scripts/bench_serve.py "$tmp/logs" --serve "$CARGO_TARGET_DIR/release/tbseg-serve" \
        --runs "$runs" --tags "$tags" --steps "$steps" --timeout "$timeout" --rounds "$rounds" --fast-only
else
    tbseg_s3_start "$tmp/store" tblogs
    cp -r "$tmp/logs" "$tmp/store/tblogs/logs"
    tbseg_py scripts/bench_serve.py "$tmp/logs" --serve "$CARGO_TARGET_DIR/release/tbseg-serve" \
        --runs "$runs" --tags "$tags" --steps "$steps" --timeout "$timeout" --rounds "$rounds" \
        --s3-url s3://tblogs/logs --s3-tensorboard "$TBSEG_S3_PY_VENV/bin/tensorboard"
fi
echo "bench_serve: load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
