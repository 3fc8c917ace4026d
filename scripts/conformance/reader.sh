#!/usr/bin/env bash
# TensorBoard's own EventFileWriter writes a run that crashed and resumed
# (a second event file starting with SessionLog START at the checkpoint
# step); TensorBoard's EventAccumulator and tbseg's reader must keep exactly
# the same scalar points. Exits non-zero on any difference.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
tbseg_py scripts/conformance/check_reader.py write "$tmp/logs"
cargo run --quiet --release -p tbseg --example read_logdir -- "$tmp/logs" > "$tmp/tbseg.tsv"
tbseg_py scripts/conformance/check_reader.py compare "$tmp/logs" "$tmp/tbseg.tsv"
