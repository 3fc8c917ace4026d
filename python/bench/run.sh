#!/usr/bin/env bash
# The Python package's benchmark (bench.py) in one run, for BENCHMARKS.md:
# builds and installs the current wheel and the cached environment with the
# comparison packages (scripts/setup-python-extras.sh: tensorboardX,
# tbparse; tboard when it installs), then runs every writer and reader side
# by side, with the machine's load before and after. Not part of the test
# command: it takes minutes (the other readers need a minute or more for
# 1 M scalars).
#   python/bench/run.sh [N_SCALARS] [read]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/../../scripts/env.sh"
"$here/../../scripts/setup-python-extras.sh" >&2
TBSEG_EXTRAS_VENV="${TBSEG_EXTRAS_VENV:-$TBSEG_CACHE/py-package-extras-venv}"
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
