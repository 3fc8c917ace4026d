# Shared paths for tbseg's scripts. Source it: `. scripts/env.sh`.
# Everything heavy (libtorch, Python venvs, the cargo target dir) lives in a
# cache outside the repository so every clone and every CI run reuses it.
TBSEG_CACHE="${TBSEG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbseg}"
# Python's torch with its CUDA libraries (setup-torch-python.sh), and the
# CPU libtorch the trainer builds against where there is no GPU
# (setup-libtorch.sh).
TBSEG_TORCH_VENV="$TBSEG_CACHE/torch-2.11.0-venv"
TBSEG_LIBTORCH_CPU="$TBSEG_CACHE/libtorch-2.11.0-cpu"
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
export TBSEG_CACHE TBSEG_TORCH_VENV TBSEG_LIBTORCH_CPU TBSEG_PY_VENV TBSEG_PKG_VENV TBSEG_EXTRAS_VENV TBSEG_S3_ROOT TBSEG_S3_PY_VENV
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$TBSEG_CACHE/target}"

# Which libtorch the trainer builds against: $TBSEG_LIBTORCH_KIND (cpu or
# cuda) if set, else cuda where `nvidia-smi` lists a GPU, cpu elsewhere.
tbseg_libtorch_kind() {
    case "${TBSEG_LIBTORCH_KIND:-}" in
        cpu|cuda) echo "$TBSEG_LIBTORCH_KIND"; return ;;
        "") ;;
        *) echo "env.sh: TBSEG_LIBTORCH_KIND must be cpu or cuda, not '$TBSEG_LIBTORCH_KIND'" >&2; return 1 ;;
    esac
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
        echo cuda
    else
        echo cpu
    fi
}

# The folder of the libtorch that setup-libtorch.sh installs (include/, lib/).
tbseg_libtorch_dir() {
    local kind
    kind="$(tbseg_libtorch_kind)" || return 1
    if [ "$kind" = cuda ]; then
        local torch
        for torch in "$TBSEG_TORCH_VENV"/lib/python3*/site-packages/torch; do
            echo "$torch"
            return
        done
    else
        echo "$TBSEG_LIBTORCH_CPU"
    fi
}

# Make cargo build the `trainer` feature against the cached libtorch
# (torch-sys reads LIBTORCH).
tbseg_use_torch() {
    LIBTORCH="$(tbseg_libtorch_dir)"
    export LIBTORCH
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
