#!/usr/bin/env bash
# What a new user pays for adding the event writer: crates pulled and cold
# release build time of a throw-away crate that depends on
#   1. tbseg (plain path dependency: default features, PNG on),
#   2. tbseg with default-features = false,
#   3. tensorboard-rs 0.5.9 (the Rust peer),
# (`cargo tree -e normal`, and with build-dependencies, which a cold build
# also compiles), each built in its own fresh target directory, one after the other, offline
# from the local registry cache. Prints one line per crate.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root="$PWD"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

measure() {
    local name="$1" dependency="$2" dir="$tmp/$1"
    mkdir -p "$dir/src"
    printf '[package]\nname = "consumer"\nversion = "0.0.0"\nedition = "2021"\n\n[dependencies]\n%s\n\n[workspace]\n' \
        "$dependency" > "$dir/Cargo.toml"
    echo 'fn main() {}' > "$dir/src/main.rs"
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
    local crates built start end
    count() {
        (cd "$dir" && cargo tree --offline -e "$1" --prefix none --format '{p}' \
            | awk '{print $1, $2}' | sort -u | grep -vc '^consumer ')
    }
    crates="$(count normal)"
    # What a cold build compiles: build scripts' dependencies too.
    built="$(count normal,build)"
    start="$(date +%s.%N)"
    (cd "$dir" && CARGO_TARGET_DIR="$dir/target" cargo build --offline --release --quiet)
    end="$(date +%s.%N)"
    printf '%-28s %3s crates (%3s with build deps)  cold release build %6.1f s\n' \
        "$name" "$crates" "$built" "$(echo "$end - $start" | bc)"
}

echo "nproc $(nproc), load average $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%F)"
measure tbseg "tbseg = { path = \"$root\" }"
measure tbseg-no-default-features "tbseg = { path = \"$root\", default-features = false }"
measure tensorboard-rs-0.5.9 'tensorboard-rs = "=0.5.9"'
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
