"""Checks, through the real TensorBoard server under both loaders
(`--load_fast=true` and `false`), the log directory examples/torch_style.rs
writes:

- `Double` (DT_DOUBLE) scalars: run `lr_X`, tag `precise` holds
  `1e300 * (step + 1)` exactly (a 32-bit float would be infinity) in the
  Python loader; the Rust loader of TensorBoard 2.21 drops DT_DOUBLE
  scalars (its `data_compat::tensor_proto_to_scalar` takes DT_FLOAT only),
  which this check pins, so that tbseg's docs change when TensorBoard does;
- `add_scalars`: runs `lr_X/loss_train` and `lr_X/loss_eval` hold tag
  `loss` (the main tag) with the f32 values of the formula, and the parent
  run has no `loss` tag, as PyTorch lays it out;
- one-call `add_hparams`: the HParams plugin lists the hyperparameters
  `lr` and `optimizer` and the metrics `hparam/loss` and
  `hparam/eval_loss`, and shows exactly one session per run, named after
  the run itself (no extra timestamped run, unlike PyTorch's
  `add_hparams`), with its hyperparameter values and final metrics.

Usage: check_torch_style.py LOGDIR
"""

import os
import sys
import time
import urllib.parse

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_tb_server import Server  # noqa: E402

LRS = {"lr_0.1": 0.1, "lr_0.01": 0.01}
STEPS = list(range(20))
STATUSES = ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"]


def loss(lr, step):
    return np.float32(1.0) / (np.float32(1.0) + np.float32(lr) * np.float32(step))


def scalars(server, run, tag):
    query = urllib.parse.urlencode({"run": run, "tag": tag})
    return server.get(f"/data/plugin/scalars/scalars?{query}")


def check_once(server, load_fast):
    problems = []
    runs = set(server.get("/data/runs"))
    for run, lr in LRS.items():
        for sub in ("loss_train", "loss_eval"):
            if f"{run}/{sub}" not in runs:
                problems.append(f"sub-run {run}/{sub} missing (runs {sorted(runs)})")
    if problems:
        return problems
    tags = server.get("/data/plugin/scalars/tags")
    for run, lr in LRS.items():
        points = scalars(server, run, "precise")
        got = [(p[1], p[2]) for p in points]
        want = [(s, 1e300 * (s + 1)) for s in STEPS] if load_fast == "false" else []
        if got != want:
            problems.append(f"{run}/precise: {got[:3]}..., expected {want[:3]}...")
        if "loss" in tags.get(run, {}):
            problems.append(f"add_scalars wrote tag loss into the parent run {run}")
        for sub, scale in (("loss_train", 1.0), ("loss_eval", 1.25)):
            points = scalars(server, f"{run}/{sub}", "loss")
            got = [(p[1], np.float32(p[2])) for p in points]
            want = [(s, np.float32(np.float32(scale) * loss(lr, s))) for s in STEPS]
            if got != want:
                problems.append(f"{run}/{sub}/loss: {got[:3]}..., expected {want[:3]}...")
    experiment = server.get("/data/plugin/hparams/experiment", {"experimentName": ""})
    names = sorted(h["name"] for h in experiment.get("hparamInfos", []))
    metrics = sorted(m["name"]["tag"] for m in experiment.get("metricInfos", []))
    if names != ["lr", "optimizer"]:
        problems.append(f"hparams {names}, expected lr and optimizer")
    if metrics != ["hparam/eval_loss", "hparam/loss"]:
        problems.append(f"metrics {metrics}, expected hparam/eval_loss and hparam/loss")
    request = {
        "experimentName": "",
        "allowedStatuses": STATUSES,
        "colParams": [{"hparam": "lr"}, {"hparam": "optimizer"}]
        + [{"metric": {"group": "", "tag": tag}} for tag in metrics],
        "startIndex": 0,
        "sliceSize": 100,
    }
    groups = server.get("/data/plugin/hparams/session_groups", request).get("sessionGroups", [])
    sessions = {s["name"]: s for g in groups for s in g["sessions"]}
    if sorted(sessions) != sorted(LRS):
        problems.append(f"sessions {sorted(sessions)}, expected one per run {sorted(LRS)}")
        return problems
    for group in groups:
        (session,) = group["sessions"]
        lr = LRS[session["name"]]
        hparams = group["hparams"]
        if not np.isclose(hparams.get("lr"), np.float32(lr), rtol=0, atol=1e-9) or hparams.get("optimizer") != "adam":
            problems.append(f"session {session['name']}: hparams {hparams}")
        values = {m["name"]["tag"]: m["value"] for m in session["metricValues"]}
        want_loss = loss(lr, 19)
        want = {"hparam/loss": float(want_loss), "hparam/eval_loss": float(np.float32(1.25) * want_loss)}
        if values != want:
            problems.append(f"session {session['name']}: metrics {values}, expected {want}")
    return problems


def check(logdir, load_fast):
    server = Server(logdir, load_fast)
    try:
        server.wait_ready(time.time() + 60)
        deadline = time.time() + 60
        while True:
            try:
                problems = check_once(server, load_fast)
            except (OSError, ValueError, KeyError) as err:
                problems = [repr(err)]
            if not problems:
                return
            if time.time() > deadline:
                raise SystemExit(f"check_torch_style (load_fast={load_fast}): " + "; ".join(problems))
            time.sleep(1)
    finally:
        server.close()


def main():
    logdir = sys.argv[1]
    for load_fast in ("true", "false"):
        check(logdir, load_fast)
    print("check_torch_style: add_scalars sub-runs and one-call hparams read back through "
          "TensorBoard's server (Rust and Python loaders); DT_DOUBLE scalars exact in the Python "
          "loader, skipped by the Rust one")


if __name__ == "__main__":
    main()
