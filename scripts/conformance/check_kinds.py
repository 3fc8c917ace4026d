"""Reads the embeddings, audio, video, custom scalars layout, mesh and text
table written by `examples/summaries.rs` (its `write_other_kinds`) through
TensorBoard's own plugins, and checks them against what was written.

Usage: check_kinds.py LOGDIR

LOGDIR is the run directory, a local path or an s3:// URL; its parent is
loaded as TensorBoard's logdir (as `tensorboard --logdir` on a folder of
runs), so the run is named after LOGDIR. Every check goes through
TensorBoard 2.21 code: the plugins' own HTTP handlers, called in-process
with werkzeug's test client, over the `MultiplexerDataProvider` the
dashboards use:
- Projector: `/runs` lists the run, `/info` lists both embeddings,
  `/tensor` returns each tensor (TSV and binary), `/metadata` the labels,
  `/sprite_image` the sprite;
- audio: `/tags`, `/audio` and `/individualAudio` return the WAV clips,
  decoded with Python's `wave` module;
- custom scalars: the merged `/layout`;
- mesh: `/tags`, `/meshes` and `/data` for every component;
- images: the video's GIF blob, whose frames Pillow decodes;
- text: the table's Markdown, rendered by TensorBoard's Markdown renderer.
Exits non-zero with a message on the first mismatch.
"""

import io
import json
import math
import sys
import urllib.parse
import wave

import numpy as np
from PIL import Image
from tensorboard import context as tb_context
from tensorboard import plugin_util
from tensorboard.backend.event_processing import data_provider, plugin_event_multiplexer
from tensorboard.plugins import base_plugin
from tensorboard.plugins.audio import audio_plugin
from tensorboard.plugins.custom_scalar import custom_scalars_plugin
from tensorboard.plugins.mesh import mesh_plugin
from tensorboard.plugins.projector import projector_plugin
from tensorboard.util import tensor_util
from werkzeug.test import Client

from run_dir import split_run

failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("MISMATCH:", message, file=sys.stderr)


def dice(step):
    return np.float32(0.9 * step / (step + 20.0))


def load(parent):
    mux = plugin_event_multiplexer.EventMultiplexer(
        size_guidance={"tensors": 0}, purge_orphaned_data=True
    )
    mux.AddRunsFromDirectory(parent)
    mux.Reload()
    provider = data_provider.MultiplexerDataProvider(mux, parent)
    return base_plugin.TBContext(
        data_provider=provider, multiplexer=mux, logdir=parent, plugin_name_to_instance={}
    )


def get(plugin, route, **args):
    """Calls one of `plugin`'s HTTP handlers in-process; returns (status, body)."""
    app = plugin.get_plugin_apps()[route]
    response = Client(app).get("/?" + urllib.parse.urlencode(args))
    return response.status_code, response.get_data()


def get_json(plugin, route, **args):
    status, body = get(plugin, route, **args)
    check(status == 200, f"{type(plugin).__name__} {route} {args}: HTTP {status} {body[:200]!r}")
    return json.loads(body) if status == 200 else None


def check_projector(context, run):
    plugin = projector_plugin.ProjectorPlugin(context)
    runs = get_json(plugin, "/runs")
    check(runs is not None and run in runs, f"projector runs {runs}")
    info = get_json(plugin, "/info", run=run)
    if info is None:
        return
    names = [e["tensorName"] for e in info.get("embeddings", [])]
    check(names == ["points:00119", "points_bin:00000"], f"projector embeddings {names}")

    status, body = get(plugin, "/tensor", run=run, name="points:00119")
    check(status == 200, f"projector tensor points: HTTP {status} {body[:200]!r}")
    if status == 200:
        tensor = np.frombuffer(body, dtype=np.float32).reshape(100, 3)
        want = np.array(
            [[math.cos(i * 0.3), math.sin(i * 0.3), i / 100.0] for i in range(100)], dtype=np.float32
        )
        check(np.array_equal(tensor, want), "projector tensor points: values differ")
    status, body = get(plugin, "/tensor", run=run, name="points_bin:00000")
    check(status == 200, f"projector tensor points_bin: HTTP {status} {body[:200]!r}")
    if status == 200:
        tensor = np.frombuffer(body, dtype=np.float32).reshape(10, 2)
        want = np.array([[i + 0.5, -i - 0.25] for i in range(10)], dtype=np.float32)
        check(np.array_equal(tensor, want), f"projector tensor points_bin: {tensor[:2]}")

    status, body = get(plugin, "/metadata", run=run, name="points:00119")
    lines = body.decode().splitlines()
    want = ["index\thalf"] + [f"{i}\t{'low' if i < 50 else 'high'}" for i in range(100)]
    check(status == 200 and lines == want, f"projector metadata points: {lines[:3]}")
    status, body = get(plugin, "/metadata", run=run, name="points_bin:00000")
    check(body.decode().splitlines() == [f"p{i}" for i in range(10)], f"projector metadata points_bin: {body[:40]!r}")

    status, body = get(plugin, "/sprite_image", run=run, name="points:00119")
    check(status == 200, f"projector sprite: HTTP {status}")
    if status == 200:
        sprite = np.asarray(Image.open(io.BytesIO(body)).convert("RGB"))
        check(sprite.shape == (80, 80, 3), f"projector sprite shape {sprite.shape}")
        for i in (0, 7, 42, 99):
            x, y = (i % 10) * 8, (i // 10) * 8
            cell = sprite[y : y + 8, x : x + 8]
            check((cell == [i, 255 - i, 128]).all(), f"projector sprite thumbnail {i}: {cell[0, 0]}")


def check_audio(context, run):
    plugin = audio_plugin.AudioPlugin(context)
    tags = get_json(plugin, "/tags")
    check(tags is not None and set(tags.get(run, {})) == {"audio/tone", "audio/stereo"}, f"audio tags {tags}")
    expected = {
        "audio/tone": (1, [0.5 * math.sin(2 * math.pi * 440 * i / 8000) for i in range(2000)]),
        "audio/stereo": (2, [0.25, -0.25] * 800),
    }
    for tag, (channels, samples) in expected.items():
        entries = get_json(plugin, "/audio", run=run, tag=tag)
        if not entries:
            check(False, f"audio {tag}: no entries")
            continue
        check([e["step"] for e in entries] == [119], f"audio {tag} steps {entries}")
        query = dict(urllib.parse.parse_qsl(entries[0]["query"]))
        check(query.get("content_type") == "audio/wav", f"audio {tag} content type {query}")
        status, body = get(plugin, "/individualAudio", **query)
        check(status == 200, f"audio {tag} clip: HTTP {status}")
        with wave.open(io.BytesIO(body)) as clip:
            check(clip.getnchannels() == channels, f"audio {tag}: {clip.getnchannels()} channels")
            check(clip.getframerate() == 8000, f"audio {tag}: {clip.getframerate()} Hz")
            check(clip.getsampwidth() == 2, f"audio {tag}: {clip.getsampwidth()} bytes a sample")
            pcm = np.frombuffer(clip.readframes(clip.getnframes()), dtype="<i2")
        # tf.audio.encode_wav's conversion of the f32 sample.
        want = np.clip(np.round(np.float32(samples) * np.float32(32768)), -32768, 32767).astype(np.int16)
        check(np.array_equal(pcm, want), f"audio {tag}: samples differ ({pcm[:4]} vs {want[:4]})")


def check_custom_scalars(context):
    plugin = custom_scalars_plugin.CustomScalarsPlugin(context)
    layout = get_json(plugin, "/layout")
    want = {
        "version": 0,
        "category": [
            {
                "title": "training",
                "chart": [
                    {"title": "loss and dice", "multiline": {"tag": ["loss", "dice"]}},
                    {
                        "title": "dice band",
                        "margin": {"series": [{"value": "dice", "lower": "dice/lower", "upper": "dice/upper"}]},
                    },
                ],
                "closed": False,
            }
        ],
    }
    check(layout == want, f"custom scalars layout {layout}")


def check_mesh(context, run):
    plugin = mesh_plugin.MeshPlugin(context)
    tags = get_json(plugin, "/tags")
    check(tags == {run: {"mesh/tetra": {"samples": 1}}}, f"mesh tags {tags}")
    metas = get_json(plugin, "/meshes", run=run, tag="mesh/tetra") or []
    kinds = sorted(m["content_type"] for m in metas)
    check(kinds == [1, 2, 3], f"mesh components {kinds}")
    for m in metas:
        check(m["components"] == 0b1110 and m["step"] == 119, f"mesh metadata {m}")
        check(m["data_shape"] == [1, 4, 3] and m["config"] == "{}", f"mesh metadata {m}")
    for content_type, dtype, want in (
        ("VERTEX", np.float32, [0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
        ("FACE", np.int32, [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3]),
        ("COLOR", np.uint8, [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0]),
    ):
        status, body = get(plugin, "/data", run=run, tag="mesh/tetra", content_type=content_type, step=119)
        got = np.frombuffer(body, dtype=dtype) if status == 200 else None
        check(got is not None and np.array_equal(got, np.array(want, dtype=dtype)), f"mesh {content_type}: {got}")


def check_video(context, run):
    provider, ctx = context.data_provider, tb_context.RequestContext()
    blobs = provider.read_blob_sequences(ctx, experiment_id="", plugin_name="images", downsample=10)
    series = blobs.get(run, {}).get("video/square")
    if not series:
        check(False, f"video/square missing from images: {sorted(blobs.get(run, {}))}")
        return
    gif = provider.read_blob(ctx, blob_key=series[-1].values[2].blob_key)
    size = [provider.read_blob(ctx, blob_key=series[-1].values[i].blob_key) for i in (0, 1)]
    check(size == [b"32", b"32"], f"video size {size}")
    image = Image.open(io.BytesIO(gif))
    check(image.format == "GIF" and image.n_frames == 8, f"video: {image.format}, {image.n_frames} frames")
    check(image.info.get("loop") == 0 and image.info.get("duration") == 250, f"video timing {image.info}")
    for t in range(8):
        image.seek(t)
        frame = np.asarray(image.convert("RGB"))
        want = np.empty((32, 32, 3), dtype=np.uint8)
        want[:] = [20, 20, 60]
        want[2 * t : 2 * t + 8, 3 * t : 3 * t + 8] = [255, 30 * t, 0]
        check(np.array_equal(frame, want), f"video frame {t} differs")


def check_text_table(context, run):
    provider, ctx = context.data_provider, tb_context.RequestContext()
    tensors = provider.read_tensors(ctx, experiment_id="", plugin_name="text", downsample=10)
    points = tensors.get(run, {}).get("results")
    if not points:
        check(False, "text table 'results' missing")
        return
    markdown = points[-1].numpy.item().decode()
    check(markdown == "| model | dice |\n| --- | --- |\n| cnn | 0.93 |\n| a\\|b | 0.5 |\n", f"table {markdown!r}")
    html = plugin_util.markdown_to_safe_html(markdown)
    check("<th>model</th>" in html and "<td>a|b</td>" in html, f"table rendering {html}")


def main():
    logdir, parent, run = split_run(sys.argv[1])
    context = load(parent)
    if "://" in logdir:
        # TensorBoard 2.21's Projector resolves asset paths with
        # os.path.realpath, which turns s3://b/x into <cwd>/s3:/b/x: it reads
        # no embedding from an object store, whoever wrote it.
        print("check_kinds: Projector skipped (it cannot read object-store URLs)", file=sys.stderr)
    else:
        check_projector(context, run)
    check_audio(context, run)
    check_custom_scalars(context)
    check_mesh(context, run)
    check_video(context, run)
    check_text_table(context, run)
    if failures:
        sys.exit(f"check_kinds: {len(failures)} mismatches")
    projector = "" if "://" in logdir else "Projector, "
    print(f"check_kinds: TensorBoard's {projector}audio, custom scalars, mesh, images and text plugins read every kind")


if __name__ == "__main__":
    main()
