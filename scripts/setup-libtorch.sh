#!/usr/bin/env bash
# Installs libtorch 2.11.0 (the version tch 0.24 requires) from PyPI's torch
# wheel into a virtual environment in the cache, once. Idempotent: a second
# run only checks that the environment imports torch 2.11.0.
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
echo "setup-libtorch: installing libtorch 2.11.0 (PyPI's torch wheel, about 1 GB unpacked) into $TBSEG_TORCH_VENV, once; a few minutes" >&2
python3 -m venv "$TBSEG_TORCH_VENV"
"$TBSEG_TORCH_VENV/bin/pip" install --quiet "torch==2.11.0" "numpy<3"
version="$("$TBSEG_TORCH_VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
if [ "$version" != "2.11.0" ]; then
    echo "setup-libtorch: expected torch 2.11.0, got $version" >&2
    exit 1
fi
touch "$stamp"
echo "setup-libtorch: torch $version ready in $TBSEG_TORCH_VENV" >&2
