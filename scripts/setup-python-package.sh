#!/usr/bin/env bash
# Builds the Python package `tbseg` (python/, PyO3 + maturin) into the
# cache and installs it into a cached virtual environment that holds what
# its tests need: maturin, numpy, pandas, pytest, Pillow, TensorBoard 2.21
# and torch 2.11 (for the side-by-side test against
# torch.utils.tensorboard). Idempotent: the environment is made once (a
# stamp records its pins); the wheel is rebuilt by cargo incrementally and
# reinstalled on every run, so the tests always see the current sources.
#
# torch is not downloaded a second time: the environment links the torch
# 2.11.0 that scripts/setup-torch-python.sh installs (a .pth file naming
# that environment's site-packages, searched after this one's own packages).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
"$here/setup-torch-python.sh"

pins="maturin==1.16.0 numpy==2.4.6 pandas==3.1.1 pytest==9.2.0 pillow==13.0.0 tensorboard==2.21.0"
if ! [ -f "$TBSEG_PKG_VENV/.tbseg-ready" ] || [ "$(cat "$TBSEG_PKG_VENV/.tbseg-ready")" != "$pins" ]; then
    echo "setup-python-package: creating $TBSEG_PKG_VENV ($pins), once" >&2
fi
tbseg_pinned_venv "$TBSEG_PKG_VENV" "$pins" \
    'import numpy, pandas, tensorboard; print("numpy", numpy.__version__, "pandas", pandas.__version__, "tensorboard", tensorboard.__version__)'
site="$("$TBSEG_PKG_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
torch_site="$("$TBSEG_TORCH_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$torch_site" > "$site/tbseg-torch.pth"
"$TBSEG_PKG_VENV/bin/python" -c 'import torch; assert torch.__version__.startswith("2.11.0"), torch.__version__'

# The wheel, built in release mode with the project's cargo target
# directory (so the library's build is shared) into a folder of that
# target directory (so checkouts with their own target directories do not
# replace each other's wheel).
wheels="$CARGO_TARGET_DIR/wheels"
rm -rf "$wheels"
( unset LIBTORCH
  "$TBSEG_PKG_VENV/bin/maturin" build --release --quiet \
      -m "$here/../python/Cargo.toml" -i "$TBSEG_PKG_VENV/bin/python" \
      -o "$wheels" )
"$TBSEG_PKG_VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps "$wheels"/tbseg-*.whl
"$TBSEG_PKG_VENV/bin/python" -c 'import tbseg; print("tbseg", tbseg.__version__, "installed in", tbseg.__file__)' >&2
