# Shared paths for tbseg's scripts. Source it: `. scripts/env.sh`.
# Everything heavy (libtorch, Python venvs, the cargo target dir) lives in a
# cache outside the repository so every clone and every CI run reuses it.
TBSEG_CACHE="${TBSEG_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tbseg}"
TBSEG_TORCH_VENV="$TBSEG_CACHE/torch-2.11.0-venv"
TBSEG_PY_VENV="$TBSEG_CACHE/py-conformance-venv"
export TBSEG_CACHE TBSEG_TORCH_VENV TBSEG_PY_VENV
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
