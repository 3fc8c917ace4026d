#!/usr/bin/env bash
# Calibrates `tbseg data synth --style hard` against the lab: for each
# difficulty, a lab-sized data set (234 train / 26 val slices), then, side
# by side,
#   default  cnn-dice, the lab's defaults, 30 epochs   (lab on Sunnybrook: Dice 0.568)
#   labbest  cnn-dice, lr 0.03, decay 0.75/10000, 100 epochs (lab: 0.862)
#   best     tbseg's best recipe (`--recipe best` flags), scored on its best checkpoint
# and prints one line per run: difficulty, recipe, steps, Dice, seconds.
#   scripts/calibrate_hard.sh [--device cpu|cuda] [--difficulties "2.5 1.0"] [--recipes "default labbest best"]
# (default: the calibrated difficulty 2.5 alone)
# Uses $TBSEG_BIN (default: the release build), writes the logs and the
# summary into $OUT (or calibration/, git-ignored) and the data and runs
# into $WORK (default: the same folder). On a GPU machine (no Rust there) run it with
# dist/tbseg from scripts/prepare_gpu.sh; the libtorch of the machine's
# Python torch is used when that Python has it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
device=cpu
difficulties="2.5"
recipes="default labbest best"
while [ $# -gt 0 ]; do
    case "$1" in
        --device) device="$2"; shift 2 ;;
        --difficulties) difficulties="$2"; shift 2 ;;
        --recipes) recipes="$2"; shift 2 ;;
        *) echo "calibrate_hard.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
if [ -z "${TBSEG_BIN:-}" ]; then
    if [ -x dist/tbseg ] && ! command -v cargo > /dev/null; then
        TBSEG_BIN="$PWD/dist/tbseg"
        torch_lib="$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')"
        export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    else
        scripts/cargo.sh build --quiet --release -p tbseg-lab --bin tbseg
        . scripts/env.sh
        TBSEG_BIN="$CARGO_TARGET_DIR/release/tbseg"
    fi
fi
out="${OUT:-calibration}"
work="${WORK:-$out}"
mkdir -p "$out" "$work"

flags_of() {
    case "$1" in
        default) echo "--model cnn-dice --num_epochs 30" ;;
        labbest) echo "--model cnn-dice --learning_rate 0.03 --decay_rate 0.75 --decay_steps 10000 --num_epochs 100" ;;
        best) echo "--recipe best" ;;
        *) echo "calibrate_hard.sh: unknown recipe $1" >&2; exit 2 ;;
    esac
}

run() {
    local difficulty="$1" recipe="$2"
    local dir="$work/d$difficulty-$recipe" log="$out/d$difficulty-$recipe" start=$SECONDS
    rm -rf "$dir"
    # shellcheck disable=SC2046
    "$TBSEG_BIN" train $(flags_of "$recipe") --data_dir "$work/data-$difficulty" --checkpoint_dir "$dir" \
        --device "$device" --threads 1 > "$log.train.log" 2>&1 || { echo "d=$difficulty $recipe: training failed"; return; }
    local eval_flags="--model cnn-dice"
    [ "$recipe" = best ] && eval_flags="--recipe best"
    # shellcheck disable=SC2086
    "$TBSEG_BIN" eval $eval_flags --data_dir "$work/data-$difficulty" --checkpoint_dir "$dir" \
        --device "$device" --threads 1 > "$log.eval.log" 2>&1 || { echo "d=$difficulty $recipe: eval failed"; return; }
    echo "d=$difficulty $recipe: $(grep -ho 'Done training for .*' "$log.train.log") $(grep -ho 'Dice metric = [0-9.]*' "$log.eval.log") ($((SECONDS - start)) s)"
}

for difficulty in $difficulties; do
    "$TBSEG_BIN" data synth --style hard --difficulty "$difficulty" --out "$work/data-$difficulty" --force &
done
wait
for difficulty in $difficulties; do
    for recipe in $recipes; do
        run "$difficulty" "$recipe" &
    done
done 2>&1 | tee -a "$out/calibration.txt"
wait
