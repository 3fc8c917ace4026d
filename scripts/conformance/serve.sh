#!/usr/bin/env bash
# `tbseg-serve` against the real TensorBoard 2.21: the stock TensorBoard fed
# by tbseg-serve (--grpc_data_provider) must answer its HTTP API as it does
# with its own Python loader (--load_fast=false) on the same log directory,
# for every dashboard: runs written by tbseg (every kind, examples/
# summaries.rs), by TensorFlow's tf.summary, as TensorFlow 1 and torch's
# writer write them (legacy values, a resumed session), and a long run that
# overflows every reservoir; once with TensorBoard's default sampling, once
# with --samples_per_plugin, and once with tbseg-serve reading an S3 copy.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
cargo build --quiet --release -p tbseg-serve
cargo build --quiet --release -p tbseg --example summaries
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$CARGO_TARGET_DIR/release/examples/summaries" "$tmp/logs/tbseg" > /dev/null
cargo run --quiet --release -p tbseg --example torch_style -- "$tmp/logs/sweep" > /dev/null
# TensorFlow's start-up chatter goes; its errors stay.
tbseg_py scripts/conformance/write_tf_runs.py "$tmp/logs" 2> "$tmp/tf.log" || { cat "$tmp/tf.log" >&2; exit 1; }
every=runs,plugins_listing,scalars,histograms,distributions,images,audio,text,pr_curves,graphs,custom_scalars,mesh,hparams,timeseries
serve="$CARGO_TARGET_DIR/release/tbseg-serve"
tbseg_py scripts/conformance/check_serve.py "$tmp/logs" --serve "$serve" --require "$every" --expect-runs 8
tbseg_py scripts/conformance/check_serve.py "$tmp/logs" --serve "$serve" --require "$every" --expect-runs 8 \
    --samples_per_plugin scalars=50,images=3,audio=2,histograms=20,text=1

# The same log directory on an S3 server (s3s-fs serving a folder, see
# scripts/s3-server.sh), where RustBoard cannot read: tbseg-serve reads
# s3://tblogs/logs, TensorBoard's Python loader the local original.
. scripts/s3-server.sh
scripts/setup-s3.sh
trap 'tbseg_s3_stop; rm -rf "$tmp"' EXIT
cargo build --quiet --release -p tbseg-serve --features object-store
tbseg_s3_start "$tmp/store" tblogs
cp -r "$tmp/logs" "$tmp/store/tblogs/logs"
tbseg_py scripts/conformance/check_serve.py "$tmp/logs" --serve "$serve" --require "$every" --expect-runs 8 \
    --serve-logdir s3://tblogs/logs
