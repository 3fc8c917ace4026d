#!/usr/bin/env bash
# kill -9 then --resume: TensorBoard's server, under both loaders, shows
# each scalar of the resumed run once per step, whether tbseg or torch's
# writer wrote the run before the kill (check_purge.py says how).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
scripts/cargo.sh build --quiet --release -p tbseg-lab --bin tbseg
. scripts/env.sh
tbseg="$CARGO_TARGET_DIR/release/tbseg"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$tbseg" data synth --out "$tmp/data" --train 6 --val 1 > /dev/null
tbseg_py scripts/conformance/check_purge.py "$tbseg" "$tmp"
