#!/usr/bin/env bash
# Creates the cached Python environment for the comparison benchmark
# (scripts/bench_tensorboardx.py, scripts/bench_s3.sh): tensorboardX and boto3
# for its S3 writer, pinned, in its own venv so
# the conformance environment stays as it is. A second run only checks the
# stamp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
tbseg_pinned_venv "$TBSEG_CACHE/bench-venv" "tensorboardX==2.6.4 boto3==1.44.8" \
    'import tensorboardX; print("tensorboardX", tensorboardX.__version__)'
