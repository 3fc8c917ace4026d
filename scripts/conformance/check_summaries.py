"""Reads a run written by `examples/summaries.rs` with TensorBoard's own
Python loaders and checks every summary kind against what was written.

Usage: check_summaries.py LOGDIR   (a local path or an s3:// URL)

LOGDIR should be a subdirectory of an otherwise empty directory: the data
provider and HParams checks load the parent, as `tensorboard --logdir` on a
folder of runs does, so the run is named after LOGDIR. (With LOGDIR itself
as TensorBoard's logdir the run is named ".", and TensorBoard's HParams
plugin then looks for the metrics of session "." in run "./." and finds
none: a TensorBoard quirk, checked and reported below.)

Three views of the same files, all TensorBoard 2.x code:
1. `plugin_event_accumulator.EventAccumulator` (what the Python backend
   loads, after its legacy-to-tensor migration), every size guidance 0
   (keep everything);
2. `MultiplexerDataProvider` (the data API the dashboards query);
3. the HParams plugin's own handlers (`get_experiment`,
   `list_session_groups`), which infer the experiment from the session
   start info and the run's scalars.
Exits non-zero with a message on the first mismatch.
"""

import io
import os
import sys

import numpy as np
from PIL import Image
from tensorboard import context as tb_context
from tensorboard.backend.event_processing import (
    data_provider,
    event_accumulator,
    plugin_event_accumulator,
    plugin_event_multiplexer,
)
from tensorboard.compat.proto import summary_pb2
from tensorboard.plugins import base_plugin
from tensorboard.plugins.hparams import (
    api_pb2,
    backend_context,
    get_experiment,
    list_session_groups,
    plugin_data_pb2,
)
from tensorboard.plugins.pr_curve import plugin_data_pb2 as pr_plugin_data_pb2
from tensorboard.util import tensor_util

from run_dir import split_run

STEPS = range(0, 120)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("MISMATCH:", message, file=sys.stderr)


def loss(step):
    return np.float32(1.0 / (1.0 + 0.05 * step))


def dice(step):
    return np.float32(0.9 * step / (step + 20.0))


def check_accumulator(logdir):
    guidance = {key: 0 for key in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    acc = plugin_event_accumulator.EventAccumulator(logdir, size_guidance=guidance)
    acc.Reload()
    tags = acc.Tags()
    print("tags:", tags)

    # Scalars: every step, exactly the f32 of the formula.
    for tag, formula in (("loss", loss), ("dice", dice)):
        events = acc.Tensors(tag)
        check([e.step for e in events] == list(STEPS), f"{tag}: steps {[e.step for e in events][:5]}...")
        for e in events:
            value = tensor_util.make_ndarray(e.tensor_proto)
            check(value.dtype == np.float32 and value.shape == (), f"{tag}: dtype {value.dtype} shape {value.shape}")
            check(value == formula(e.step), f"{tag}@{e.step}: {value!r} != {formula(e.step)!r}")
        md = acc.SummaryMetadata(tag)
        check(md.plugin_data.plugin_name == "scalars", f"{tag}: plugin {md.plugin_data.plugin_name}")

    # An f64 scalar: DT_DOUBLE, exactly the f64 of the formula.
    events = acc.Tensors("lr")
    check([e.step for e in events] == list(STEPS), "lr: steps")
    for e in events:
        value = tensor_util.make_ndarray(e.tensor_proto)
        check(value.dtype == np.float64 and value.shape == (), f"lr: dtype {value.dtype} shape {value.shape}")
        check(value == 1e-3 / (1.0 + e.step), f"lr@{e.step}: {value!r}")

    # add_scalars: one sub-run per curve, the main tag as the scalar's tag,
    # laid out as PyTorch's SummaryWriter.add_scalars does.
    for name, scale in (("train", 1.0), ("eval", 1.1)):
        sub = plugin_event_accumulator.EventAccumulator(
            os.path.join(logdir, f"loss_split_{name}"), size_guidance=guidance)
        sub.Reload()
        events = sub.Tensors("loss_split")
        check([e.step for e in events] == list(STEPS), f"loss_split_{name}: steps")
        for e in events:
            value = tensor_util.make_ndarray(e.tensor_proto)
            want = np.float32(scale * loss(e.step))
            check(value == want, f"loss_split_{name}@{e.step}: {value!r} != {want!r}")
    check("loss_split" not in acc.Tags()["tensors"], "add_scalars wrote into the parent run")

    # Images: v2 [w, h, png].
    for tag, mode in (("mri/overlay", "RGB"), ("mri/slice", "L")):
        events = acc.Tensors(tag)
        check(len(events) == 1, f"{tag}: {len(events)} events")
        strings = tensor_util.make_ndarray(events[0].tensor_proto)
        check(strings.shape == (3,), f"{tag}: shape {strings.shape}")
        image = Image.open(io.BytesIO(strings[2]))
        check(image.size == (128, 128), f"{tag}: size {image.size}")
        check((strings[0], strings[1]) == (b"128", b"128"), f"{tag}: header {strings[:2]}")
        check(image.mode == mode, f"{tag}: mode {image.mode}")
        md = acc.SummaryMetadata(tag)
        check(md.plugin_data.plugin_name == "images", f"{tag}: plugin {md.plugin_data.plugin_name}")
        check(md.data_class == summary_pb2.DATA_CLASS_BLOB_SEQUENCE, f"{tag}: data class {md.data_class}")
    # add_images: an NCHW batch of four 32x32 crops tiled as torchvision's
    # make_grid does (one row of 4, 2 px padding): 4 * 34 + 2 by 32 + 4.
    strings = tensor_util.make_ndarray(acc.Tensors("mri/batch")[0].tensor_proto)
    grid = Image.open(io.BytesIO(strings[2]))
    check(grid.size == (138, 36) and (strings[0], strings[1]) == (b"138", b"36"), f"mri/batch: size {grid.size}")
    overlay = np.asarray(Image.open(io.BytesIO(tensor_util.make_ndarray(acc.Tensors("mri/overlay")[0].tensor_proto)[2])))
    # Centre pixel: in both masks → yellow tint (red = green > blue).
    r, g, b = (int(x) for x in overlay[64, 64])
    check(r == g and r > b, f"overlay centre {r, g, b} is not yellow")
    # x=86: inside the shifted prediction only → red tint.
    r, g, b = (int(x) for x in overlay[64, 86])
    check(r > g and g == b, f"overlay at prediction-only pixel {r, g, b} is not red")

    # Histograms: [k, 3] doubles, counts sum to 1000, at 3 steps; the
    # default buckets are PyTorch's (TensorFlow's exponential edges, the
    # outer ones replaced by min and max as TensorBoard shows a PyTorch
    # histogram), the other 30 equal ones.
    v, tf_edges = 1e-12, []
    while v < 1e20:
        tf_edges.append(v)
        v *= 1.1
    tf_edges = sorted([-e for e in tf_edges] + [0.0] + tf_edges)
    for tag, equal in (("weights/conv1", False), ("weights/conv1_equal", True)):
        events = acc.Tensors(tag)
        check([e.step for e in events] == [0, 60, 119], f"{tag} steps {[e.step for e in events]}")
        for e in events:
            h = tensor_util.make_ndarray(e.tensor_proto)
            check(h.ndim == 2 and h.shape[1] == 3 and h.dtype == np.float64, f"{tag} shape {h.shape} {h.dtype}")
            check(h[:, 2].sum() == 1000, f"{tag} counts sum {h[:, 2].sum()}")
            check(np.all(h[:-1, 1] == h[1:, 0]), f"{tag} edges not contiguous")
            if equal:
                check(h.shape[0] == 30, f"{tag}: {h.shape[0]} buckets")
            else:
                check(set(h[1:, 0]) <= set(tf_edges), f"{tag}: inner edges are not TensorFlow's")
                check(h[0, 2] > 0 and h[-1, 2] > 0, f"{tag}: empty outer bucket")
        check(acc.SummaryMetadata(tag).plugin_data.plugin_name == "histograms", f"{tag} plugin")

    # Text.
    events = acc.Tensors("notes")
    text = tensor_util.make_ndarray(events[0].tensor_proto).item().decode()
    check(text.startswith("**tbseg summaries example.**"), f"text {text!r}")
    check(acc.SummaryMetadata("notes").plugin_data.plugin_name == "text", "text plugin")

    # PR curve: [6, 127], consistent counts.
    events = acc.Tensors("pr/lv")
    pr = tensor_util.make_ndarray(events[0].tensor_proto)
    check(pr.shape == (6, 127) and pr.dtype == np.float32, f"pr shape {pr.shape} {pr.dtype}")
    tp, fp, tn, fn, precision, recall = pr
    positives = tp[0] + fn[0]
    check(np.all(tp + fn == positives), "pr: tp + fn not constant")
    check(np.all(fp + tn == fp[0] + tn[0]), "pr: fp + tn not constant")
    check(positives > 0 and recall[0] == 1.0, f"pr: recall[0] {recall[0]}")
    expected_precision = (tp / np.maximum(1e-7, tp.astype(np.float64) + fp)).astype(np.float32)
    check(np.array_equal(precision, expected_precision), "pr: precision")
    md = acc.SummaryMetadata("pr/lv")
    check(md.plugin_data.plugin_name == "pr_curves", f"pr plugin {md.plugin_data.plugin_name}")
    content = pr_plugin_data_pb2.PrCurvePluginData.FromString(md.plugin_data.content)
    check(content.num_thresholds == 127, f"pr num_thresholds {content.num_thresholds}")

    # Graph: scopes and shapes.
    graph = acc.Graph()
    names = [n.name for n in graph.node]
    print("graph nodes:", names)
    scopes = {n.split("/")[0] for n in names if "/" in n}
    check({"Conv1", "Pool1", "upscore"} <= scopes, f"graph scopes {scopes}")
    for node in graph.node:
        shapes = node.attr["_output_shapes"].list.shape
        check(len(shapes) == 1, f"{node.name}: {len(shapes)} output shapes")
    conv = next(n for n in graph.node if n.name == "Conv1/conv")
    check([d.size for d in conv.attr["_output_shapes"].list.shape[0].dim] == [1, 100, 64, 64], "Conv1/conv shape")
    check(list(conv.input) == ["input/image", "Conv1/weights"], f"Conv1/conv inputs {list(conv.input)}")
    check(graph.versions.producer == 22, "graph producer")

    # HParams content, parsed with the plugin's own protos.
    md = acc.SummaryMetadata("_hparams_/session_start_info")
    data = plugin_data_pb2.HParamsPluginData.FromString(md.plugin_data.content)
    start = data.session_start_info
    hp = {k: v.WhichOneof("kind") and getattr(v, v.WhichOneof("kind")) for k, v in start.hparams.items()}
    print("session start hparams:", hp)
    check(hp == {"learning_rate": 0.01, "model": "cnn", "augment": True}, f"hparams {hp}")
    check(start.start_time_secs > 1.6e9, "start_time_secs")
    end = plugin_data_pb2.HParamsPluginData.FromString(
        acc.SummaryMetadata("_hparams_/session_end_info").plugin_data.content
    ).session_end_info
    check(end.status == api_pb2.STATUS_SUCCESS, f"end status {end.status}")


def load(logdir):
    mux = plugin_event_multiplexer.EventMultiplexer(
        size_guidance={key: 0 for key in event_accumulator.DEFAULT_SIZE_GUIDANCE}
    )
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, logdir)
    tb = base_plugin.TBContext(data_provider=provider, multiplexer=mux, logdir=logdir)
    return provider, backend_context.Context(tb)


def experiment_of(hparams_context, ctx):
    experiment = get_experiment.Handler(
        ctx, hparams_context, "", api_pb2.GetExperimentRequest()
    ).run()
    hparam_names = sorted(h.name for h in experiment.hparam_infos)
    metric_tags = sorted(m.name.tag for m in experiment.metric_infos)
    return experiment, hparam_names, metric_tags


def check_root_run(logdir):
    """TensorBoard pointed at the run directory itself (run ".")."""
    _, hparams_context = load(logdir)
    _, hparam_names, metric_tags = experiment_of(hparams_context, tb_context.RequestContext())
    print("root run: hparams", hparam_names, "metrics", metric_tags)
    check(hparam_names == ["augment", "learning_rate", "model"], f"root run hparams {hparam_names}")
    # The declared metrics only: the margin chart's dice/lower and dice/upper
    # scalars (check_kinds.py) are not inferred as metrics.
    check(metric_tags == ["dice", "loss"], f"root run metrics {metric_tags}")


def check_data_provider_and_hparams(parent, run):
    provider, hparams_context = load(parent)
    ctx = tb_context.RequestContext()
    runs = [r.run_name for r in provider.list_runs(ctx, experiment_id="")]
    print("runs:", runs)
    # The run, and the sub-runs add_scalars makes beside it (PyTorch's
    # layout: <run>/<main tag>_<name>).
    want_runs = [run, f"{run}/loss_split_eval", f"{run}/loss_split_train"]
    check(sorted(runs) == want_runs, f"runs {runs}: expected {want_runs}")

    scalars = provider.read_scalars(ctx, experiment_id="", plugin_name="scalars", downsample=1000)
    dice_points = scalars[run]["dice"]
    check(len(dice_points) == 120 and dice_points[-1].value == dice(119), "data provider: dice")

    images = provider.list_blob_sequences(ctx, experiment_id="", plugin_name="images")
    # video/square is the GIF video (check_kinds.py).
    check(set(images[run]) == {"mri/overlay", "mri/slice", "mri/batch", "video/square"},
          f"data provider images {images}")
    blobs = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="images", downsample=10)
    ref = blobs[run]["mri/overlay"][0].values[2]
    png = provider.read_blob(ctx, blob_key=ref.blob_key)
    check(Image.open(io.BytesIO(png)).size == (128, 128), "data provider: image blob")

    experiment, hparam_names, metric_tags = experiment_of(hparams_context, ctx)
    print("hparams plugin: hparams", hparam_names, "metrics", metric_tags)
    check(hparam_names == ["augment", "learning_rate", "model"], f"experiment hparams {hparam_names}")
    # The metrics are the declared ones (an inferred metric has no display name).
    shown = {m.name.tag: m.display_name for m in experiment.metric_infos}
    check(shown == {"dice": "Dice", "loss": "Loss"}, f"declared metric names {shown}")
    check("dice" in metric_tags and "loss" in metric_tags, f"experiment metrics {metric_tags}")

    request = api_pb2.ListSessionGroupsRequest(
        start_index=0, slice_size=10, allowed_statuses=[api_pb2.STATUS_SUCCESS, api_pb2.STATUS_UNKNOWN, api_pb2.STATUS_RUNNING]
    )
    for info in experiment.hparam_infos:
        request.col_params.add(hparam=info.name)
    for info in experiment.metric_infos:
        request.col_params.add(metric=info.name)
    groups = list_session_groups.Handler(ctx, hparams_context, "", request).run()
    print("session groups:", [g.name for g in groups.session_groups])
    check(len(groups.session_groups) == 1, f"{len(groups.session_groups)} session groups")
    if groups.session_groups:
        group = groups.session_groups[0]
        metrics = {m.name.tag: m.value for m in group.metric_values}
        print("session metrics:", metrics)
        check("dice" in metrics and np.float32(metrics["dice"]) == dice(119), f"session dice {metrics}")
        check(group.hparams["model"].string_value == "cnn", "session hparam model")
        check(np.float32(metrics.get("loss")) == loss(119), f"session loss {metrics}")


def main():
    logdir, parent, run = split_run(sys.argv[1])
    check_accumulator(logdir)
    check_root_run(logdir)
    check_data_provider_and_hparams(parent, run)
    if failures:
        print(f"{len(failures)} mismatches", file=sys.stderr)
        sys.exit(1)
    print("summaries: all kinds read back by TensorBoard match")


if __name__ == "__main__":
    main()
