#!/usr/bin/env bash
# A second cached environment for the Python package: the package's test
# environment (setup-python-package.sh, linked by .pth files, so the
# current wheel, pandas, TensorBoard and torch are the same) plus the
# optional packages, large downloads kept out of the package venv: pyarrow
# and polars (`tbseg.read(format=...)`), onnx (`add_onnx_graph`),
# matplotlib (`add_figure`), and the writers and readers python/bench
# compares against (tensorboardX, tbparse). The test command runs pytest
# in it, so no test is skipped for want of these:
#   scripts/setup-python-extras.sh && "$TBSEG_EXTRAS_VENV/bin/python" -m pytest -q python/tests
# Idempotent: made once per set of pins (a stamp records them).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
( unset LIBTORCH VIRTUAL_ENV; "$here/setup-python-package.sh" )

pins="pyarrow==26.0.1 polars==2.1.0 onnx==1.23.2 matplotlib==3.11.2 tensorboardX==2.6.5 tbparse==0.0.9"
stamp="$TBSEG_EXTRAS_VENV/.tbseg-ready"
link() {
    # The package venv's and torch's site-packages, searched after this
    # environment's own packages.
    local site
    site="$("$TBSEG_EXTRAS_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    for venv in "$TBSEG_PKG_VENV" "$TBSEG_TORCH_VENV"; do
        "$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])'
    done > "$site/tbseg-package.pth"
    # The side-by-side test starts the `tensorboard` command next to its
    # Python.
    ln -sf "$TBSEG_PKG_VENV/bin/tensorboard" "$TBSEG_EXTRAS_VENV/bin/tensorboard"
}
if ! [ -f "$stamp" ] || [ "$(cat "$stamp")" != "$pins" ]; then
    echo "setup-python-extras: creating $TBSEG_EXTRAS_VENV ($pins), once" >&2
    rm -rf "$TBSEG_EXTRAS_VENV"
    python3 -m venv "$TBSEG_EXTRAS_VENV"
    link
    # shellcheck disable=SC2086
    "$TBSEG_EXTRAS_VENV/bin/pip" install --quiet $pins
    "$TBSEG_EXTRAS_VENV/bin/python" -c 'import pyarrow, polars, onnx, matplotlib, tensorboardX, tbparse, tbseg, torch' >&2
    echo "$pins" > "$stamp"
fi
link
export TBSEG_EXTRAS_VENV
