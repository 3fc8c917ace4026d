#!/usr/bin/env bash
# tbseg's `cnn` training step and epoch against the same model and loop in
# PyTorch (eager) and TensorFlow 2 (tf.function), same device and threads,
# printed as one table with the ratios tbseg/PyTorch and tbseg/TF.
#
#   scripts/bench_trainer.sh [--threads T] [--device cpu|cuda] [--steps N]
#                            [--warmup W] [--rounds R] [--no-epoch] [--data_dir DIR]
#                            [--commands C] [--command-epochs E]
#
# Defaults: T = nproc, cpu, 30 timed steps after 5 warm-up steps, 1 round,
# data in `data/` (the synthetic set is generated there when absent).
# With R > 1 the three frameworks run in turn R times (tbseg, PyTorch, TF,
# tbseg, ...) so that a change in machine load hits all of them; the table
# shows the median over the rounds of each measure.
#
# tbseg is `tbseg bench-step` (hidden subcommand): the trainer's own loop
# (lab/src/train/trainer.rs), see lab/src/job/bench_step.rs for what is
# timed. Each round also times tbseg's step without its divergence guard
# (`--guard false`, steps only) right after the guarded run, so the guard's
# cost comes from the same rounds. A second table splits the step into its
# phases (lab/src/train/timing.rs), for tbseg and for PyTorch on the CPU.
#
# Whole commands: with C > 0, after the rounds, `tbseg train --model cnn
# --num_epochs E` (default 3; events and checkpoints written) and the same
# run as one TensorFlow program (`bench_step.py --train_epochs E`, see its
# `train_command`) run in turn C times, each timed from start to exit
# (start-up, data, training, summaries, checkpoints); the ratio of each
# pair and their median are printed. C = 0 (the default) skips this.
# PyTorch and TensorFlow are scripts/bench_step.py, whose header says how
# the same things are timed there and how each reads the TFRecord file.
#
# Priority: the benchmark runs in a session of its own and, when allowed
# (root or CAP_SYS_NICE), raises that session's autogroup priority
# (/proc/self/autogroup, nice -5) and its own nice level (-5). With Linux
# autogroups on, `nice` alone only ranks processes inside one session, so a
# background job started from another session still takes half of the
# cores, and a 2-thread step that loses one core for a time slice runs 10x
# slower. The load average before and after is printed with the table.
#
# GPU: `--device cuda` runs tbseg and PyTorch on the first CUDA GPU (each
# step reads the loss back, which waits for the GPU). The TensorFlow venv
# here is tensorflow-cpu, so its row is skipped with a note unless
# $TBSEG_TF_PYTHON names a Python whose TensorFlow sees a GPU. On a GPU
# machine without a Rust toolchain, set $TBSEG_BIN to a tbseg built
# elsewhere (and LD_LIBRARY_PATH to that machine's torch/lib) and
# $TBSEG_TORCH_PYTHON to its Python with torch.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
. "$here/env.sh"

threads="$(nproc)"
device=cpu
steps=30
warmup=5
rounds=1
epoch=1
commands=0
command_epochs=3
data_dir="$root/data"
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads="$2"; shift 2 ;;
        --device) device="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --warmup) warmup="$2"; shift 2 ;;
        --rounds) rounds="$2"; shift 2 ;;
        --no-epoch) epoch=0; shift ;;
        --commands) commands="$2"; shift 2 ;;
        --command-epochs) command_epochs="$2"; shift 2 ;;
        --data_dir | --data-dir) data_dir="$2"; shift 2 ;;
        -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench_trainer.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$device" in cpu | cuda) ;; *) echo "bench_trainer.sh: --device cpu|cuda" >&2; exit 2 ;; esac

# Re-run inside a new session with a raised autogroup priority (see above).
if [ -z "${TBSEG_BENCH_SESSION:-}" ]; then
    export TBSEG_BENCH_SESSION=1
    exec setsid --wait bash "$0" --threads "$threads" --device "$device" --steps "$steps" \
        --warmup "$warmup" --rounds "$rounds" --data_dir "$data_dir" \
        --commands "$commands" --command-epochs "$command_epochs" \
        $([ "$epoch" = 1 ] || echo --no-epoch)
fi
priority="normal priority"
if echo -5 2>/dev/null >/proc/self/autogroup && renice -n -5 -p $$ >/dev/null 2>&1; then
    priority="autogroup nice -5, nice -5"
fi

results="$(mktemp)"
bin_copy="$(mktemp)"
runs="$(mktemp -d)"
trap 'rm -rf "$results" "$bin_copy" "$runs"' EXIT
if [ -z "${TBSEG_BIN:-}" ]; then
    # Worktrees sharing one target dir overwrite each other's `tbseg` (same
    # artifact hash), and cargo may then call another tree's binary fresh:
    # check it has `bench-step`, else make cargo relink this tree's, and
    # run a private copy so a build elsewhere cannot swap it mid-run.
    "$here/cargo.sh" build --release -p tbseg-lab --bin tbseg >&2
    if ! "$CARGO_TARGET_DIR/release/tbseg" bench-step --help >/dev/null 2>&1; then
        touch "$root/lab/src/cli/mod.rs"
        "$here/cargo.sh" build --release -p tbseg-lab --bin tbseg >&2
    fi
    cp "$CARGO_TARGET_DIR/release/tbseg" "$bin_copy"
    chmod +x "$bin_copy"
    TBSEG_BIN="$bin_copy"
    tbseg_use_torch
fi
"$TBSEG_BIN" bench-step --help >/dev/null
if [ -z "${TBSEG_TORCH_PYTHON:-}" ]; then
    "$here/setup-torch-python.sh" >&2
fi
torch_python="${TBSEG_TORCH_PYTHON:-$TBSEG_TORCH_VENV/bin/python}"
tf_python="${TBSEG_TF_PYTHON:-$TBSEG_PY_VENV/bin/python}"
run_tf=1
if [ "$device" = cuda ] && [ -z "${TBSEG_TF_PYTHON:-}" ]; then
    # The cached TensorFlow is tensorflow-cpu, and a GPU machine may have no
    # network to install it: leave TF's row out rather than fail.
    run_tf=0
    echo "bench_trainer.sh: no \$TBSEG_TF_PYTHON for --device cuda; TensorFlow's row is left out" >&2
elif [ ! -x "$tf_python" ]; then
    "$here/setup-python.sh" >&2
fi

if [ ! -f "$data_dir/train_images.tfrecords" ]; then
    "$TBSEG_BIN" data synth --out "$data_dir" >&2
fi

epoch_flag=()
[ "$epoch" = 1 ] || epoch_flag=(--no-epoch)
load_before="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$rounds"); do
    echo "round $round/$rounds: tbseg" >&2
    "$TBSEG_BIN" bench-step --model cnn --device "$device" --threads "$threads" \
        --steps "$steps" --warmup "$warmup" --data_dir "$data_dir" \
        --epoch "$([ "$epoch" = 1 ] && echo true || echo false)" >>"$results"
    echo "round $round/$rounds: tbseg without the guard" >&2
    "$TBSEG_BIN" bench-step --model cnn --device "$device" --threads "$threads" \
        --steps "$steps" --warmup "$warmup" --data_dir "$data_dir" \
        --epoch false --guard false >>"$results"
    echo "round $round/$rounds: PyTorch" >&2
    "$torch_python" "$here/bench_step.py" --framework torch --device "$device" \
        --threads "$threads" --steps "$steps" --warmup "$warmup" --data_dir "$data_dir" \
        "${epoch_flag[@]}" >>"$results"
    [ "$run_tf" = 1 ] || continue
    echo "round $round/$rounds: TensorFlow" >&2
    TF_CPP_MIN_LOG_LEVEL=2 "$tf_python" "$here/bench_step.py" --framework tf --device "$device" \
        --threads "$threads" --steps "$steps" --warmup "$warmup" --data_dir "$data_dir" \
        "${epoch_flag[@]}" >>"$results" ||
        echo "bench_trainer.sh: TensorFlow run failed (see above); its row is left out" >&2
done
touch "$runs/ratios"
for pair in $(seq 1 "$commands"); do
    [ "$run_tf" = 1 ] || break
    echo "command pair $pair/$commands: tbseg train, then TensorFlow, $command_epochs epochs" >&2
    start=$(date +%s.%N)
    "$TBSEG_BIN" train --model cnn --device "$device" --threads "$threads" \
        --num_epochs "$command_epochs" --data_dir "$data_dir" \
        --checkpoint_dir "$runs/tbseg" --overwrite >/dev/null
    mid=$(date +%s.%N)
    rm -rf "$runs/tf"
    TF_CPP_MIN_LOG_LEVEL=2 "$tf_python" "$here/bench_step.py" --framework tf --device "$device" \
        --threads "$threads" --data_dir "$data_dir" --train_epochs "$command_epochs" \
        --logdir "$runs/tf" >/dev/null
    end=$(date +%s.%N)
    ratio=$(awk -v s="$start" -v m="$mid" -v e="$end" \
        'BEGIN { printf "%.3f %.2f %.2f", (m - s) / (e - m), m - s, e - m }')
    read -r r t f <<<"$ratio"
    echo "command pair $pair: tbseg/TF $r (tbseg $t s, TF $f s)" >&2
    echo "$ratio" >>"$runs/ratios"
done
load_after="$(cut -d' ' -f1-3 /proc/loadavg)"

report_python="$tf_python"
[ "$run_tf" = 1 ] || report_python="$torch_python"
"$report_python" - "$results" "$runs/ratios" <<EOF
import json, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    line = line.strip()
    if line.startswith("{"):
        r = json.loads(line)
        name = r["framework"] + (" (no guard)" if r.get("guard") is False else "")
        rows.setdefault(name, []).append(r)
order = ["tbseg", "tbseg (no guard)", "pytorch", "tensorflow"]
keys = ["step_median_ms", "step_mean_ms", "step_min_ms", "epoch_s", "epoch_data_s", "epoch_steps"]
med = {}
for fw, runs in rows.items():
    med[fw] = {k: statistics.median(r[k] for r in runs) if all(k in r for r in runs) else None for k in keys}
    med[fw]["version"] = runs[0]["version"]
    for k in ["phases_median_ms", "phases_mean_ms"]:
        if all(k in r for r in runs):
            med[fw][k] = {p: statistics.median(r[k][p] for r in runs) for p in runs[0][k]}
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"device $device, threads $threads, batch 1, {len(next(iter(rows.values())))} round(s), "
      f"$warmup warm-up + $steps timed steps; {cpu}, nproc $(nproc); $priority; "
      f"load average before $load_before, after $load_after")
print()
print("| framework | ms/step median | ms/step mean | ms/step min | epoch s (data incl.) | of which data s | epoch steps |")
print("|---|---|---|---|---|---|---|")
fmt = lambda v, p: "–" if v is None else f"{v:.{p}f}"
for fw in order:
    if fw in med:
        m = med[fw]
        print(f"| {fw} {m['version']} | {fmt(m['step_median_ms'], 1)} | {fmt(m['step_mean_ms'], 1)} | "
              f"{fmt(m['step_min_ms'], 1)} | {fmt(m['epoch_s'], 2)} | {fmt(m['epoch_data_s'], 2)} | "
              f"{fmt(m['epoch_steps'], 0)} |")
phases = ["data", "forward", "loss", "backward", "guard", "update", "logging"]
print()
print("Where the step goes (ms, median over rounds of each run's per-phase median; the phase "
      "medians need not add up to the step's). PyTorch's guard column is its read of the loss.")
print()
print("| framework | " + " | ".join(phases) + " |")
print("|---|" + "---|" * len(phases))
for fw in order:
    if fw in med and "phases_median_ms" in med[fw]:
        m = med[fw]["phases_median_ms"]
        print(f"| {fw} | " + " | ".join(fmt(m.get(p), 2) for p in phases) + " |")
g, n = med.get("tbseg"), med.get("tbseg (no guard)")
if g and n:
    print()
    print(f"guard: step {g['step_median_ms']:.2f} ms with, {n['step_median_ms']:.2f} ms without "
          f"(difference {g['step_median_ms'] - n['step_median_ms']:+.2f} ms); its own phase "
          f"{g['phases_median_ms']['guard']:.3f} ms median")
print()
t = med.get("tbseg")
verdicts = []
for fw, name in [("pytorch", "PyTorch"), ("tensorflow", "TF")]:  # the guarded tbseg
    if t is None or fw not in med:
        print(f"tbseg/{name}: –")
        continue
    o = med[fw]
    step = t["step_median_ms"] / o["step_median_ms"]
    line = f"tbseg/{name}: step {step:.2f}"
    ok = step <= 1.0
    if t["epoch_s"] is not None and o["epoch_s"] is not None:
        ep = t["epoch_s"] / o["epoch_s"]
        line += f", epoch {ep:.2f}"
        ok = ok and ep <= 1.0
    print(line + ("  (tbseg no slower)" if ok else "  (tbseg SLOWER)"))
pairs = [tuple(map(float, p.split())) for p in open(sys.argv[2]) if p.strip()]
if pairs:
    print()
    print(f"whole commands, $command_epochs epochs, tbseg train / TensorFlow, {len(pairs)} interleaved pair(s): "
          + ", ".join(f"{r:.2f} ({t:.1f} s / {f:.1f} s)" for r, t, f in pairs)
          + f"; median {statistics.median(r for r, _, _ in pairs):.2f}")
EOF
