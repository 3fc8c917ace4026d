#!/usr/bin/env bash
# The Python package's benchmark (bench.py) in one run, for BENCHMARKS.md:
# builds and installs the current wheel and the cached environment with the
# comparison packages (scripts/setup-python-extras.sh: tensorboardX,
# tbparse; and tboard, built from source here: it has no wheel for this
# platform, and its build needs `protoc`), then runs every writer and reader side
# by side, with the machine's load before and after. Not part of the test
# command: it takes minutes (the other readers need a minute or more for
# 1 M scalars).
#   python/bench/run.sh [N_SCALARS] [read]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../../scripts/env.sh"
"$here/../../scripts/setup-python-extras.sh" >&2
# tboard 0.1.2 has no Linux x86_64 wheel and 0.1.1 is a source package
# (PyO3 and prost-build, so Rust and protoc); built once into the venv.
if ! "$TBSEG_EXTRAS_VENV/bin/python" -c 'import tboard' 2>/dev/null; then
    if ! command -v protoc >/dev/null && command -v apt-get >/dev/null; then
        echo "bench: installing protoc (Debian's protobuf-compiler) to build tboard" >&2
        apt-get install -y -q protobuf-compiler >&2 || true
    fi
    echo "bench: building tboard 0.1.1 from source (about 3 minutes, once)" >&2
    "$TBSEG_EXTRAS_VENV/bin/pip" install --quiet tboard==0.1.1 >&2 \
        || echo "bench: tboard did not build; it is skipped" >&2
fi
echo "uptime before: $(uptime)"
"$TBSEG_EXTRAS_VENV/bin/python" - <<'PY'
import importlib.metadata as m
names = ["tbseg", "torch", "tensorboard", "tensorboardX", "tbparse", "tboard", "pandas", "numpy"]
versions = []
for name in names:
    try:
        versions.append(f"{name} {m.version(name)}")
    except m.PackageNotFoundError:
        versions.append(f"{name} (not installed)")
print(", ".join(versions))
PY
"$TBSEG_EXTRAS_VENV/bin/python" "$here/bench.py" "$@"
echo "uptime after: $(uptime)"
