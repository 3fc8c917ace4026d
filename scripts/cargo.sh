#!/usr/bin/env bash
# Runs cargo with libtorch installed and found: `scripts/cargo.sh build --release`.
# Installs libtorch into the cache on first use (see setup-libtorch.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"
"$here/setup-libtorch.sh"
tbseg_use_torch
exec cargo "$@"
