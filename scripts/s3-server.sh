# Starts and stops the S3 test server (s3s-fs, from scripts/setup-s3.sh)
# for the scripts that need one. Source it after scripts/env.sh:
#   tbseg_s3_start DIR BUCKET...   # serves DIR on a free 127.0.0.1 port
#   tbseg_s3_stop                  # call it from an EXIT trap
# tbseg_s3_start exports the credentials and S3_ENDPOINT, which tbseg (as a
# fallback for AWS_ENDPOINT), TensorBoard and tensorboardX all read.
TBSEG_S3_PID=""

tbseg_s3_start() {
    local dir="$1"
    shift
    local bucket port
    for bucket in "$@"; do
        mkdir -p "$dir/$bucket"
    done
    port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    export AWS_ACCESS_KEY_ID=tbseg-local AWS_SECRET_ACCESS_KEY=tbseg-local-secret
    export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
    export S3_ENDPOINT="http://127.0.0.1:$port"
    "$TBSEG_S3_ROOT/bin/s3s-fs" --host 127.0.0.1 --port "$port" \
        --access-key "$AWS_ACCESS_KEY_ID" --secret-key "$AWS_SECRET_ACCESS_KEY" "$dir" \
        >"$dir.server.log" 2>&1 &
    TBSEG_S3_PID=$!
    local _
    for _ in $(seq 200); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            return 0
        fi
        sleep 0.05
    done
    echo "s3-server: s3s-fs did not start on port $port:" >&2
    cat "$dir.server.log" >&2
    return 1
}

tbseg_s3_stop() {
    if [ -n "$TBSEG_S3_PID" ]; then
        kill "$TBSEG_S3_PID" 2>/dev/null || true
        wait "$TBSEG_S3_PID" 2>/dev/null || true
        TBSEG_S3_PID=""
    fi
}
