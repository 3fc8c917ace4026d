#!/usr/bin/env bash
# Screenshots of the stock TensorBoard 2.21 fed by tbseg-serve, taken by a
# headless Chromium (Debian's package, installed if missing): the scalars,
# images and hparams dashboards of the run examples/summaries.rs writes.
# Each PNG is checked to be a rendered dashboard, not a blank page (size,
# and more than a handful of distinct colours). Not part of the test command.
#
#   scripts/screenshot_serve.sh [OUT_DIR]     # default docs/img
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out="${1:-docs/img}"
. scripts/env.sh
scripts/setup-python.sh
if ! command -v chromium > /dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium > /dev/null \
        || { apt-get update > /dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium > /dev/null; }
fi
cargo build --quiet --release -p tbseg-serve
cargo build --quiet --release -p tbseg --example summaries
tmp="$(mktemp -d)"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
"$CARGO_TARGET_DIR/release/examples/summaries" "$tmp/logs/tbseg" > /dev/null
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# Started in the temporary folder with a relative logdir, so that the
# location TensorBoard shows under the runs is "logs", not a machine path.
serve="$(realpath "$CARGO_TARGET_DIR/release/tbseg-serve")"
(cd "$tmp" && exec "$serve" --logdir logs --port 0 > serve.out 2> serve.err) &
pids+=($!)
for _ in $(seq 100); do grep -q "serving" "$tmp/serve.out" && break; sleep 0.1; done
serve_port="$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/serve.out" | head -1)"
[ -n "$serve_port" ] || { echo "screenshot_serve: tbseg-serve did not start: $(cat "$tmp/serve.err")" >&2; exit 1; }
port="$(free_port)"
"$TBSEG_PY_VENV/bin/tensorboard" --host 127.0.0.1 --port "$port" \
    --grpc_data_provider "localhost:$serve_port" > /dev/null 2> "$tmp/tb.err" &
pids+=($!)
for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$port/data/runs" | grep -q tbseg && break
    sleep 0.2
done
curl -sf "http://127.0.0.1:$port/data/runs" | grep -q tbseg \
    || { echo "screenshot_serve: TensorBoard did not list the run: $(tail -5 "$tmp/tb.err")" >&2; exit 1; }
mkdir -p "$out"
for dashboard in scalars images hparams; do
    png="$out/serve-$dashboard.png"
    rm -f "$png"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$tmp/chrome-$dashboard" --hide-scrollbars \
        --window-size=1400,1000 --virtual-time-budget=15000 \
        --screenshot="$png" "http://localhost:$port/#$dashboard" > /dev/null 2>&1 || true
    [ -s "$png" ] || { echo "screenshot_serve: no screenshot of $dashboard" >&2; exit 1; }
    # A blank or error page compresses to a few kilobytes of few distinct
    # bytes; a dashboard has text, charts and images.
    python3 - "$png" << 'PY'
import sys, zlib, struct
path = sys.argv[1]
data = open(path, "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path}: not a PNG"
pos, idat, width, height = 8, b"", 0, 0
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    if kind == b"IHDR":
        width, height, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + length
raw = zlib.decompress(idat)
channels = {2: 3, 6: 4}[ctype]
# A rough, robust measure of content without decoding the row filters:
# distinct pixel-sized samples of the (filtered) rows; a blank page's rows
# filter to runs of zeros.
distinct = len({raw[i:i + channels] for i in range(1, len(raw), 97)})
size = len(data)
print(f"screenshot_serve: {path}: {width}x{height}, {size} bytes, {distinct} distinct samples")
assert (width, height) == (1400, 1000), f"{path}: {width}x{height}"
assert size > 20000 and distinct > 50, f"{path}: looks blank ({size} bytes, {distinct} distinct samples)"
PY
done
