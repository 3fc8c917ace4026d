#!/usr/bin/env bash
# Creates the cached Python environment that the conformance tests use to
# check tbseg's files with the real TensorBoard and TensorFlow readers.
# Versions are pinned; a second run only checks the stamp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
tbseg_pinned_venv "$TBSEG_PY_VENV" "tensorflow-cpu==2.21.0 tensorboard==2.21.0" \
    'import tensorflow as tf, tensorboard; print("tensorflow", tf.__version__, "tensorboard", tensorboard.__version__)'
