#!/usr/bin/env bash
# Creates the cached Python environment for the comparison benchmark
# (scripts/bench_tensorboardx.py): tensorboardX, pinned, in its own venv so
# the conformance environment stays as it is. A second run only checks the
# stamp.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
venv="$TBSEG_CACHE/bench-venv"
pins="tensorboardX==2.6.4"
stamp="$venv/.tbseg-ready"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$pins" ]; then
    exit 0
fi
mkdir -p "$TBSEG_CACHE"
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet $pins
"$venv/bin/python" -c 'import tensorboardX; print("tensorboardX", tensorboardX.__version__)' >&2
echo "$pins" > "$stamp"
