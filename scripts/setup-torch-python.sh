#!/usr/bin/env bash
# Installs Python's torch 2.11.0 from PyPI, with its CUDA libraries, into a
# virtual environment in the cache, once: for the scripts and tests that
# compare against PyTorch, and as the libtorch of a CUDA build
# (setup-libtorch.sh). Idempotent: a later run only checks the stamp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
stamp="$TBSEG_TORCH_VENV/.tbseg-ready"
if [ -f "$stamp" ]; then
    exit 0
fi
mkdir -p "$TBSEG_CACHE"
# A half-finished install (killed mid-way) is removed and redone.
rm -rf "$TBSEG_TORCH_VENV"
echo "setup-torch-python: installing torch 2.11.0 (about 3.5 GB to download, 4.7 GB installed) into $TBSEG_TORCH_VENV, once; a few minutes" >&2
python3 -m venv "$TBSEG_TORCH_VENV"
"$TBSEG_TORCH_VENV/bin/pip" install --quiet "torch==2.11.0" "numpy<3"
version="$("$TBSEG_TORCH_VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
if [ "$version" != "2.11.0" ]; then
    echo "setup-torch-python: expected torch 2.11.0, got $version" >&2
    exit 1
fi
touch "$stamp"
echo "setup-torch-python: torch $version ready in $TBSEG_TORCH_VENV" >&2
