#!/usr/bin/env bash
# Runs every check in scripts/conformance/ (each a standalone script that
# writes files with tbseg and reads them back with TensorBoard's or
# TensorFlow's own Python code from the pinned cached environment).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/env.sh
scripts/setup-python.sh
export TBSEG_PY="$TBSEG_PY_VENV/bin/python"
# TensorFlow's start-up chatter is not test output.
export TF_CPP_MIN_LOG_LEVEL=3
status=0
shopt -s nullglob
for check in scripts/conformance/*.sh; do
    echo "-- $check" >&2
    if ! bash "$check"; then
        echo "FAILED: $check" >&2
        status=1
    fi
done
exit $status
