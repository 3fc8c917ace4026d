#!/usr/bin/env bash
# The real TensorBoard 2.21 reads a run on a real S3 server while tbseg is
# still writing it: an s3s-fs server on 127.0.0.1 (scripts/setup-s3.sh),
# tbseg's writer streaming scalars to s3://tblogs/runs/live for 20 seconds
# (endpoint from S3_ENDPOINT, the variable TensorBoard reads), and
# TensorBoard's Python loader (tensorboard + boto3, no TensorFlow)
# reloading the log directory meanwhile. Then every summary kind written to
# the store, read back there by TensorBoard. The server is stopped on any exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
. scripts/s3-server.sh
scripts/setup-s3.sh
tmp="$(mktemp -d)"
trap 'tbseg_s3_stop; rm -rf "$tmp"' EXIT
cargo build --quiet --release -p tbseg --features object-store --example stream_to_store
tbseg_s3_start "$tmp/store" tblogs
events=3000
"$CARGO_TARGET_DIR/release/examples/stream_to_store" s3://tblogs/runs/live \
    --events "$events" --seconds 20 --flush-ms 250 >"$tmp/writer.json" &
writer=$!
"$TBSEG_S3_PY_VENV/bin/python" scripts/conformance/check_s3_tensorboard.py \
    s3://tblogs/runs live "$events" "$writer"
wait "$writer"
echo "s3: writer: $(cat "$tmp/writer.json")" >&2

# Every summary kind, written straight to the store and read there by
# TensorBoard's loaders and plugins: the same checks as summaries.sh, except
# the Projector, which cannot read object-store URLs (check_kinds.py).
cargo build --quiet --release -p tbseg --features object-store --example summaries
"$CARGO_TARGET_DIR/release/examples/summaries" s3://tblogs/kinds/run1 > /dev/null
"$TBSEG_S3_PY_VENV/bin/python" scripts/conformance/check_summaries.py s3://tblogs/kinds/run1 > /dev/null
"$TBSEG_S3_PY_VENV/bin/python" scripts/conformance/check_kinds.py s3://tblogs/kinds/run1
