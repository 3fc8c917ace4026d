# Shared paths for tbseg's scripts. Source it: `. scripts/env.sh`.
# Everything heavy (libtorch, Python venvs, the cargo target dir) lives in a
# cache outside the repository so every clone and every CI run reuses it.
TBSEG_CACHE="${TBSEG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbseg}"
TBSEG_TORCH_VENV="$TBSEG_CACHE/torch-2.11.0-venv"
TBSEG_PY_VENV="$TBSEG_CACHE/py-conformance-venv"
# The Python package's build and test environment (setup-python-package.sh);
# a caller may name another (one per concurrent checkout, so that installing
# one checkout's wheel does not replace another's).
TBSEG_PKG_VENV="${TBSEG_PKG_VENV:-$TBSEG_CACHE/py-package-venv}"
# The package's environment plus its optional packages (pyarrow, polars,
# onnx, matplotlib) and the writers the benchmark compares against
# (setup-python-extras.sh); the test command runs pytest in it.
TBSEG_EXTRAS_VENV="${TBSEG_EXTRAS_VENV:-$TBSEG_CACHE/py-package-extras-venv}"
# The S3 test server (scripts/setup-s3.sh) and TensorBoard's S3 reader.
TBSEG_S3_ROOT="$TBSEG_CACHE/s3s-fs"
TBSEG_S3_PY_VENV="$TBSEG_CACHE/py-s3-venv"
export TBSEG_CACHE TBSEG_TORCH_VENV TBSEG_PY_VENV TBSEG_PKG_VENV TBSEG_EXTRAS_VENV TBSEG_S3_ROOT TBSEG_S3_PY_VENV
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TBSEG_CACHE/target}"

# Make cargo build the `trainer` feature against the cached libtorch: torch-sys
# asks the active virtual environment's python where torch lives.
tbseg_use_torch() {
    export VIRTUAL_ENV="$TBSEG_TORCH_VENV"
    export PATH="$TBSEG_TORCH_VENV/bin:$PATH"
    export LIBTORCH_USE_PYTORCH=1
}

# Run the conformance Python (the pinned venv unless `TBSEG_PY` names
# another), with TensorFlow's start-up chatter off unless asked for.
tbseg_py() {
    TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-3}" "${TBSEG_PY:-$TBSEG_PY_VENV/bin/python}" "$@"
}

# Creates (or keeps) a cached virtual environment holding exactly `pins`:
#   tbseg_pinned_venv VENV "pkg==1.0 other==2.0" 'python check code'
# The stamp file records the pins, so a changed pin rebuilds the venv and a
# half-finished install (no stamp) is redone from scratch.
tbseg_pinned_venv() {
    local venv="$1" pins="$2" check="$3"
    local stamp="$venv/.tbseg-ready"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ]; then
        return 0
    fi
    mkdir -p "$TBSEG_CACHE"
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086
    "$venv/bin/pip" install --quiet $pins
    "$venv/bin/python" -c "$check" >&2
    echo "$pins" > "$stamp"
}
