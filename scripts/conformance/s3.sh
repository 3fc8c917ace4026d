#!/usr/bin/env bash
# The real TensorBoard 2.21 reads a run on a real S3 server while tbseg is
# still writing it: an s3s-fs server on 127.0.0.1 (scripts/setup-s3.sh),
# tbseg's writer streaming scalars to s3://tb/runs/live for a few seconds
# (endpoint from S3_ENDPOINT, as TensorBoard takes it), and TensorBoard's
# Python loader (tensorboard + boto3, no TensorFlow) reloading the log
# directory meanwhile. The server is stopped on any exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
. scripts/env.sh
scripts/setup-s3.sh
tmp="$(mktemp -d)"
server=""
cleanup() {
    if [ -n "$server" ]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
mkdir -p "$tmp/store/tb"
export AWS_ACCESS_KEY_ID=tbseg-conformance AWS_SECRET_ACCESS_KEY=tbseg-conformance-secret
export AWS_REGION=us-east-1 S3_ENDPOINT="http://127.0.0.1:$port"
"$TBSEG_S3_ROOT/bin/s3s-fs" --host 127.0.0.1 --port "$port" \
    --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$tmp/store" \
    >"$tmp/server.log" 2>&1 &
server=$!
for _ in $(seq 100); do
    if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
cargo build --quiet --release -p tbseg --features object-store --example stream_to_store
events=3000
"$CARGO_TARGET_DIR/release/examples/stream_to_store" s3://tb/runs/live \
    --events "$events" --seconds 12 --flush-ms 250 >"$tmp/writer.json" &
writer=$!
"$TBSEG_S3_PY_VENV/bin/python" scripts/conformance/check_s3_tensorboard.py \
    s3://tb/runs live "$events" "$writer"
wait "$writer"
echo "s3: writer: $(cat "$tmp/writer.json")" >&2
