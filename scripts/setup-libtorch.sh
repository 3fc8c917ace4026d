#!/usr/bin/env bash
# Installs the libtorch 2.11.0 that tch 0.24 builds against into the cache,
# once, and prints nothing more on later runs. Two forms, both taken from
# PyPI's torch wheel (the only libtorch this machine kind can download):
#
#   cpu   libtorch's headers and CPU libraries, unpacked from the wheel
#         (a 530 MB download, about 15 seconds), with the two small CUDA
#         runtime libraries that libtorch_cpu.so is linked against
#         (libcudart, libcupti) beside them. No libtorch_cuda: the trainer
#         runs on the CPU. Folder: $TBSEG_LIBTORCH_CPU.
#   cuda  the whole wheel with its CUDA libraries (about 3.5 GB to download,
#         4.7 GB installed): the Python environment of
#         scripts/setup-torch-python.sh, whose torch folder is a libtorch.
#
# Which one: $TBSEG_LIBTORCH_KIND if set, else cuda where `nvidia-smi` finds
# a GPU and cpu elsewhere (see tbseg_libtorch in env.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
. "$here/env.sh"

kind="$(tbseg_libtorch_kind)"
if [ "$kind" = cuda ]; then
    exec "$here/setup-torch-python.sh"
fi

dest="$TBSEG_LIBTORCH_CPU"
stamp="$dest/.tbseg-ready"
if [ -f "$stamp" ]; then
    exit 0
fi
echo "setup-libtorch: fetching libtorch 2.11.0 for the CPU (from PyPI's torch wheel, a 530 MB download) into $dest, once" >&2
mkdir -p "$TBSEG_CACHE"
# A half-finished install (killed mid-way) is removed and redone; the new
# one is assembled beside the destination and moved into place whole.
rm -rf "$dest" "$dest.partial"
work="$dest.partial"
mkdir -p "$work/wheels"
python3 -m pip download --quiet --no-cache-dir --no-deps --only-binary :all: --dest "$work/wheels" \
    "torch==2.11.0" "nvidia-cuda-runtime==13.0.96" "nvidia-cuda-cupti==13.0.85"
# Members of a wheel (a zip file) matching the patterns, into a folder:
# unzip where the machine has it, else Python's zipfile.
unpack() {
    local wheel="$1" dest="$2"
    shift 2
    if command -v unzip >/dev/null 2>&1; then
        unzip -q -o "$wheel" "$@" -d "$dest"
    else
        python3 - "$wheel" "$dest" "$@" <<'PY'
import fnmatch, sys, zipfile
wheel, dest, patterns = sys.argv[1], sys.argv[2], sys.argv[3:]
with zipfile.ZipFile(wheel) as archive:
    names = [n for n in archive.namelist() if any(fnmatch.fnmatch(n, p) for p in patterns)]
    archive.extractall(dest, names)
PY
    fi
}
unpack "$work"/wheels/torch-2.11.0-*.whl "$work/unpacked" 'torch/include/*' \
    torch/lib/libtorch_cpu.so torch/lib/libc10.so torch/lib/libtorch.so torch/lib/libgomp.so.1
unpack "$work"/wheels/nvidia_cuda_runtime-*.whl "$work/unpacked" 'nvidia/cu13/lib/libcudart.so.13'
unpack "$work"/wheels/nvidia_cuda_cupti-*.whl "$work/unpacked" 'nvidia/cu13/lib/libcupti.so.13'
mkdir -p "$work/libtorch"
mv "$work/unpacked/torch/include" "$work/unpacked/torch/lib" "$work/libtorch/"
# libtorch_cpu.so finds these through its own `$ORIGIN` rpath.
mv "$work"/unpacked/nvidia/cu13/lib/*.so.13 "$work/libtorch/lib/"
# torch-sys checks this file against the version tch expects.
echo "2.11.0" > "$work/libtorch/build-version"
mv "$work/libtorch" "$dest"
rm -rf "$work"
touch "$stamp"
echo "setup-libtorch: libtorch 2.11.0 (CPU) ready in $dest ($(du -sh "$dest" | cut -f1))" >&2
