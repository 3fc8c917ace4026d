#!/usr/bin/env bash
# Creates the cached Python environment that the conformance tests use to
# check tbseg's files with the real TensorBoard and TensorFlow readers.
# Versions are pinned; a second run only checks the stamp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
pins="tensorflow-cpu==2.21.0 tensorboard==2.21.0"
stamp="$TBSEG_PY_VENV/.tbseg-ready"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ]; then
    exit 0
fi
mkdir -p "$TBSEG_CACHE"
rm -rf "$TBSEG_PY_VENV"
python3 -m venv "$TBSEG_PY_VENV"
# shellcheck disable=SC2086
"$TBSEG_PY_VENV/bin/pip" install --quiet $pins
"$TBSEG_PY_VENV/bin/python" -c 'import tensorflow as tf, tensorboard; print("tensorflow", tf.__version__, "tensorboard", tensorboard.__version__)' >&2
echo "$pins" > "$stamp"
