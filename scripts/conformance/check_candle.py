"""Reads the run `examples/candle_logging.rs` wrote through TensorBoard's
own data provider and Projector plugin, and checks it against what the
example logged.

Usage: check_candle.py RUN_DIR EXAMPLE_STDOUT

EXAMPLE_STDOUT holds the example's printed `step N: loss X` lines (the loss
tensors' values, read by candle); the run's parent is loaded as
TensorBoard's logdir. Every check goes through TensorBoard 2.21 code: the
`MultiplexerDataProvider` its dashboards use, and the Projector plugin's
HTTP handlers called in-process with werkzeug's test client:
- scalars: 200 `loss` and `accuracy` points, the printed losses equal to
  TensorBoard's values (to the six printed decimals), accuracies in 24ths;
- histograms: `weights/<name>` and `grads/<name>` for the four variables at
  steps 0, 50, 100, 150 and 199, each counting the variable's elements;
- images: the input grid pixel for pixel (bars of 0.75 on 0.25 scaled to
  191 and 64, torchvision's grid layout), the HWC overlay pixel for pixel,
  and the four stretched filters each spanning 0 to 255;
- Projector: the embedding `inputs:00200`, its 24 x 144 tensor (the input
  pixels) and its class labels.
Exits non-zero with a message listing every mismatch.
"""

import io
import re
import sys
import urllib.parse

import numpy as np
from PIL import Image
from tensorboard import context as tb_context
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.projector import projector_plugin
from werkzeug.test import Client

from run_dir import split_run

SIDE, BATCH, STEPS = 12, 24, 200
BAR, BACKGROUND = 191, 64  # 0.75 and 0.25, scaled by 255 and rounded
VARIABLES = {"conv1.weight": 4 * 1 * 3 * 3, "conv1.bias": 4, "fc.weight": 2 * 144, "fc.bias": 2}
HISTOGRAM_STEPS = [0, 50, 100, 150, 199]

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("MISMATCH:", message, file=sys.stderr)


def load(parent):
    mux = plugin_event_multiplexer.EventMultiplexer(
        size_guidance={"tensors": 0, "images": 0}, purge_orphaned_data=True
    )
    mux.AddRunsFromDirectory(parent)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, parent)
    return base_plugin.TBContext(
        data_provider=provider, multiplexer=mux, logdir=parent, plugin_name_to_instance={}
    )


def input_image(i):
    """Input `i` as the example draws it, in 8-bit grey."""
    image = np.full((SIDE, SIDE), BACKGROUND, dtype=np.uint8)
    if i % 2:
        image[:, i // 2] = BAR
    else:
        image[i // 2, :] = BAR
    return image


def check_scalars(provider, ctx, run, printed):
    scalars = provider.read_scalars(ctx, experiment_id="", plugin_name="scalars", downsample=STEPS)
    series = scalars.get(run, {})
    loss = {p.step: p.value for p in series.get("loss", [])}
    check(sorted(loss) == list(range(STEPS)), f"loss steps {sorted(loss)[:5]}... ({len(loss)})")
    check(len(printed) == STEPS // 10, f"{len(printed)} printed losses")
    for step, value in printed.items():
        got = loss.get(step)
        check(got is not None and abs(got - value) <= 5.1e-7, f"loss at {step}: {got}, printed {value}")
    accuracy = [p.value for p in series.get("accuracy", [])]
    check(len(accuracy) == STEPS, f"{len(accuracy)} accuracy points")
    check(all(abs(a * BATCH - round(a * BATCH)) < 1e-4 and 0 <= a <= 1 for a in accuracy), "accuracies not in 24ths")


def check_histograms(provider, ctx, run):
    tensors = provider.read_tensors(ctx, experiment_id="", plugin_name="histograms", downsample=100)
    series = tensors.get(run, {})
    want_tags = {f"{kind}/{name}" for kind in ("weights", "grads") for name in VARIABLES}
    check(set(series) == want_tags, f"histogram tags {sorted(series)}")
    for tag in sorted(want_tags & set(series)):
        points = series[tag]
        check([p.step for p in points] == HISTOGRAM_STEPS, f"{tag} steps {[p.step for p in points]}")
        size = VARIABLES[tag.split("/", 1)[1]]
        for p in points:
            buckets = p.numpy
            check(buckets.ndim == 2 and buckets.shape[1] == 3, f"{tag}: buckets of shape {buckets.shape}")
            check(buckets[:, 2].sum() == size, f"{tag} at {p.step}: {buckets[:, 2].sum()} counts, want {size}")
            check(np.all(buckets[:, 0] <= buckets[:, 1]), f"{tag} at {p.step}: bucket edges out of order")


def read_image(provider, ctx, blobs, tag):
    series = blobs.get(tag)
    if not series:
        check(False, f"image {tag} missing (have {sorted(blobs)})")
        return None
    values = series[-1].values
    size = [provider.read_blob(ctx, blob_key=values[i].blob_key) for i in (0, 1)]
    image = Image.open(io.BytesIO(provider.read_blob(ctx, blob_key=values[2].blob_key)))
    check(size == [str(image.width).encode(), str(image.height).encode()], f"image {tag}: size header {size}")
    return np.asarray(image)


def check_images(provider, ctx, run):
    blobs = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="images", downsample=10)
    blobs = blobs.get(run, {})
    check(set(blobs) == {"inputs", "overlay", "conv1_filters"}, f"image tags {sorted(blobs)}")

    # torchvision's make_grid: 8 per row, 2 pixels of black padding.
    grid = read_image(provider, ctx, blobs, "inputs")
    want = np.zeros((2 + 3 * (SIDE + 2), 2 + 8 * (SIDE + 2)), dtype=np.uint8)
    for i in range(BATCH):
        top, left = 2 + (i // 8) * (SIDE + 2), 2 + (i % 8) * (SIDE + 2)
        want[top : top + SIDE, left : left + SIDE] = input_image(i)
    check(grid is not None and np.array_equal(grid, want), f"input grid differs (shape {getattr(grid, 'shape', None)})")

    overlay = read_image(provider, ctx, blobs, "overlay")
    want = np.stack([input_image(6), input_image(17), np.zeros((SIDE, SIDE), np.uint8)], axis=2)
    check(overlay is not None and np.array_equal(overlay, want), "overlay differs")

    filters = read_image(provider, ctx, blobs, "conv1_filters")
    if filters is not None:
        check(filters.shape == (3 + 4, 2 + 4 * (3 + 2)), f"filters grid shape {filters.shape}")
        for k in range(4):
            cell = filters[2:5, 2 + 5 * k : 5 + 5 * k]
            check(cell.min() == 0 and cell.max() == 255, f"filter {k} spans {cell.min()}..{cell.max()}")


def check_projector(context, run):
    plugin = projector_plugin.ProjectorPlugin(context)

    def get(route, **args):
        response = Client(plugin.get_plugin_apps()[route]).get("/?" + urllib.parse.urlencode(args))
        return response.status_code, response.get_data()

    status, body = get("/info", run=run)
    check(status == 200 and b'"inputs:00200"' in body, f"projector info: HTTP {status} {body[:200]!r}")
    status, body = get("/tensor", run=run, name="inputs:00200")
    check(status == 200, f"projector tensor: HTTP {status} {body[:200]!r}")
    if status == 200:
        tensor = np.frombuffer(body, dtype=np.float32).reshape(BATCH, SIDE * SIDE)
        want = np.stack([input_image(i).reshape(-1) for i in range(BATCH)]) == BAR
        want = np.where(want, np.float32(0.75), np.float32(0.25))
        check(np.array_equal(tensor, want), "projector tensor differs from the input pixels")
    status, body = get("/metadata", run=run, name="inputs:00200")
    labels = body.decode().splitlines()
    check(labels == ["horizontal", "vertical"] * (BATCH // 2), f"projector labels {labels[:4]}")


def main():
    logdir, parent, run = split_run(sys.argv[1])
    with open(sys.argv[2]) as out:
        printed = {int(m[1]): float(m[2]) for m in re.finditer(r"step (\d+): loss (\S+)", out.read())}
    context = load(parent)
    provider, ctx = context.data_provider, tb_context.RequestContext()
    check_scalars(provider, ctx, run, printed)
    check_histograms(provider, ctx, run)
    check_images(provider, ctx, run)
    check_projector(context, run)
    if failures:
        sys.exit(f"check_candle: {len(failures)} mismatches")
    print("check_candle: TensorBoard reads the candle example's scalars, histograms, images and embedding")


if __name__ == "__main__":
    main()
