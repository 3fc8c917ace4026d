"""One script of torch-style calls, run with torch.utils.tensorboard's
SummaryWriter and with tbseg's: TensorBoard's loader must report the same
runs, tags, steps and values for both (images the same pixels, histograms
the same buckets, PR curves the same counts)."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import decode_png, tensorboard_runs

torch = pytest.importorskip("torch")
pytest.importorskip("tensorboard")
pytest.importorskip("PIL")


def script(SummaryWriter, log_dir):
    """What a training script logs (no add_hparams: torch puts it in an
    extra run per call, which tbseg deliberately does not)."""
    rng = np.random.default_rng(7)
    gen = torch.Generator().manual_seed(7)
    with SummaryWriter(log_dir) as writer:
        for step in range(5):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
            writer.add_scalar("lr", torch.tensor(0.1 * 0.9**step), global_step=step)
            writer.add_scalar("epoch", np.int64(step // 2), step)
            writer.add_scalars("metrics", {"train": 0.5 + step, "val": np.float32(0.25 * step)}, step)
        writer.add_image("chw_float", rng.random((3, 12, 10)), 0)
        writer.add_image("hwc_uint8", rng.integers(0, 256, (9, 7, 3), dtype=np.uint8), 1, dataformats="HWC")
        writer.add_image("hw_float16", torch.rand(6, 5, generator=gen).half(), 2, dataformats="HW")
        writer.add_image("grey_chw", torch.rand(1, 8, 8, generator=gen), 3)
        writer.add_images("batch_nchw", torch.rand(11, 3, 4, 5, generator=gen), 4)
        writer.add_images("batch_nhwc_uint8", rng.integers(0, 256, (3, 6, 4, 1), dtype=np.uint8), 5, dataformats="NHWC")
        writer.add_histogram("weights", rng.normal(size=1000), 0)
        writer.add_histogram("weights", torch.randn(500, generator=gen) * 3, 1)
        writer.add_histogram("ints", rng.integers(-5, 6, 300), 2)
        writer.add_histogram("ten_bins", rng.normal(size=200), 3, bins=10)
        writer.add_histogram("auto_bins", rng.exponential(size=300).astype(np.float32), 4, bins="auto")
        writer.add_histogram("max_bins", rng.normal(size=400), 5, max_bins=20)
        writer.add_text("notes", "a *markdown* note", 0)
        writer.add_text("notes", "second", 7)
        labels = rng.random(200) > 0.4
        predictions = np.clip(labels * 0.3 + rng.random(200) * 0.7, 0, 1)
        writer.add_pr_curve("pr", labels, predictions, 0)
        writer.add_pr_curve("pr_weighted", torch.tensor(labels), torch.tensor(predictions), 1, num_thresholds=33, weights=rng.random(200))


def assert_same(ours, theirs):
    """Every run and tag TensorBoard loaded from torch's files has the same
    plugin, steps and values in tbseg's."""
    for run in theirs:
        assert ours[run]["__plugins__"] == theirs[run]["__plugins__"], run
        for tag, plugin in theirs[run]["__plugins__"].items():
            mine, torch_values = ours[run][tag], theirs[run][tag]
            assert [s for s, _ in mine] == [s for s, _ in torch_values], (run, tag)
            for (step, a), (_, b) in zip(mine, torch_values):
                where = f"{run}/{tag}@{step}"
                if plugin == "images":
                    assert a[:2].tolist() == b[:2].tolist(), where  # width, height
                    np.testing.assert_array_equal(decode_png(a[2]), decode_png(b[2]), err_msg=where)
                elif plugin == "text":
                    assert a.reshape(-1).tolist() == b.reshape(-1).tolist(), where
                elif plugin == "histograms":
                    assert a.shape == b.shape, where
                    np.testing.assert_array_equal(a.astype(np.float32), b.astype(np.float32), err_msg=where)
                else:
                    np.testing.assert_array_equal(np.float32(a), np.float32(b), err_msg=where)


def test_torch_and_tbseg_write_what_tensorboard_reads_the_same(tmp_path):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    import tbseg

    script(TorchWriter, str(tmp_path / "torch"))
    script(tbseg.SummaryWriter, str(tmp_path / "tbseg"))
    theirs = tensorboard_runs(tmp_path / "torch")
    ours = tensorboard_runs(tmp_path / "tbseg")

    assert sorted(ours) == sorted(theirs) == [".", "metrics_train", "metrics_val"]
    assert_same(ours, theirs)
    # The script's tags, all present.
    assert set(theirs["."]["__plugins__"]) == {
        "loss", "lr", "epoch", "chw_float", "hwc_uint8", "hw_float16", "grey_chw", "batch_nchw",
        "batch_nhwc_uint8", "weights", "ints", "ten_bins", "auto_bins", "max_bins",
        "notes/text_summary", "pr", "pr_weighted",
    }


def raw_script(SummaryWriter, log_dir):
    """torch's methods that take what the caller computed."""
    rng = np.random.default_rng(3)
    with SummaryWriter(log_dir) as writer:
        writer.add_histogram_raw(
            "raw", min=-1.0, max=3.0, num=10, sum=8.0, sum_squares=20.0,
            bucket_limits=[0.0, 1.0, 2.0, 3.0], bucket_counts=[0, 4, 6, 0], global_step=2,
        )
        n = 5
        writer.add_pr_curve_raw(
            "pr_raw", *(rng.integers(0, 50, n) for _ in range(4)), rng.random(n), rng.random(n), 3, num_thresholds=n
        )
        image = rng.random((3, 24, 32))
        boxes = np.array([[2, 3, 20, 15], [5, 8, 30, 22]])
        writer.add_image_with_boxes("boxes", image, boxes, 4)
        writer.add_image_with_boxes("boxes_scaled", torch.tensor(image), torch.tensor(boxes), 5, rescale=2)
        writer.add_tensor("t_float", torch.arange(6, dtype=torch.float32).reshape(2, 3) / 7, 6)
        writer.add_tensor("t_int", torch.tensor([[1, -2], [3, 40000]], dtype=torch.int32), 7)
        writer.add_tensor("t_double", torch.tensor([0.1, 1e300], dtype=torch.float64), 8)


def test_raw_methods_and_boxes_match_torchs(tmp_path):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    import tbseg

    raw_script(TorchWriter, str(tmp_path / "torch"))
    raw_script(tbseg.SummaryWriter, str(tmp_path / "tbseg"))
    theirs = tensorboard_runs(tmp_path / "torch")
    ours = tensorboard_runs(tmp_path / "tbseg")
    assert set(theirs["."]["__plugins__"]) == {"raw", "pr_raw", "boxes", "boxes_scaled", "t_float", "t_int", "t_double"}
    for tag in ("t_float", "t_int", "t_double"):
        (_, a), (_, b) = ours["."][tag][0], theirs["."][tag][0]
        assert a.dtype == b.dtype and a.shape == b.shape, tag
        np.testing.assert_array_equal(a, b, err_msg=tag)
        for loaded in (ours, theirs):
            del loaded["."][tag], loaded["."]["__plugins__"][tag]
    # torch labels a rescaled image with its size before scaling; tbseg
    # with the size of the PNG it holds. The pixels are the same.
    (_, scaled_ours), = ours["."].pop("boxes_scaled")
    (_, scaled_theirs), = theirs["."].pop("boxes_scaled")
    for loaded in (ours, theirs):
        del loaded["."]["__plugins__"]["boxes_scaled"]
    assert scaled_ours[:2].tolist() == [b"64", b"48"] and scaled_theirs[:2].tolist() == [b"32", b"24"]
    np.testing.assert_array_equal(decode_png(scaled_ours[2]), decode_png(scaled_theirs[2]))
    assert decode_png(scaled_ours[2]).shape[:2] == (48, 64)
    assert_same(ours, theirs)


def _tb_server_module():
    """scripts/conformance/check_tb_server.py, which drives the real
    TensorBoard server over HTTP for the conformance checks."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "conformance" / "check_tb_server.py"
    spec = importlib.util.spec_from_file_location("check_tb_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _served(server, prefix):
    """What TensorBoard's HTTP API serves for the runs under `prefix`:
    {(plugin, run without prefix, tag): [(step, payload)]}."""
    from urllib.parse import urlencode

    served = {}
    for plugin, route in (("scalars", "scalars"), ("histograms", "histograms"), ("images", "images"),
                          ("text", "text"), ("pr_curves", "pr_curves")):
        for run, tags in server.get(f"/data/plugin/{plugin}/tags").items():
            if run != prefix and not run.startswith(prefix + "/"):
                continue
            for tag in tags:
                query = urlencode({"run": run, "tag": tag} | ({"sample": 0} if plugin == "images" else {}))
                if plugin == "pr_curves":
                    query = urlencode({"run": run, "tag": tag})
                    points = server.get(f"/data/plugin/pr_curves/pr_curves?{query}")[run]
                    rows = [(p["step"], [round(x, 4) for x in p["precision"] + p["recall"]]) for p in points]
                elif plugin == "scalars":
                    rows = [(step, float(np.float32(value))) for _, step, value in server.get(f"/data/plugin/{route}/{route}?{query}")]
                elif plugin == "histograms":
                    # Without empty buckets: the Rust data server migrates
                    # torch's legacy HistogramProto with an extra empty
                    # first bucket (left edge the minimum, right edge the
                    # first limit), which tbseg's tensor form does not have.
                    rows = [(step, [b for b in np.float32(buckets).tolist() if b[2] != 0])
                            for _, step, buckets in server.get(f"/data/plugin/{route}/{route}?{query}")]
                elif plugin == "images":
                    rows = [(p["step"],) for p in server.get(f"/data/plugin/images/images?{query}")]
                else:
                    rows = [(p["step"], p["text"]) for p in server.get(f"/data/plugin/text/text?{query}")]
                served[(plugin, run[len(prefix):], tag)] = rows
    return served


@pytest.mark.parametrize("load_fast", ["true", "false"])
def test_tensorboard_server_shows_the_same_for_both_writers(tmp_path, load_fast):
    """The script's logs, written by each writer into a run of one log
    directory, served by the real TensorBoard with each of its loaders (the
    Rust data server and the Python one): every dashboard's tags and points
    are the same for both."""
    import time

    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    import tbseg

    script(TorchWriter, str(tmp_path / "torch"))
    script(tbseg.SummaryWriter, str(tmp_path / "tbseg"))
    check_tb_server = _tb_server_module()
    server = check_tb_server.Server(str(tmp_path), load_fast)
    try:
        server.wait_ready(time.time() + 60)
        # The first load is asynchronous: wait until both runs are complete.
        deadline = time.time() + 90
        while True:
            theirs, ours = _served(server, "torch"), _served(server, "tbseg")
            if load_fast == "true":
                # The Rust data server migrates torch's legacy
                # HistogramProto with the previous bucket limit as the left
                # edge of the first non-empty bucket, where TensorBoard's
                # Python loader (and tbseg's tensor form) has the minimum:
                # compare those buckets from their right edge.
                for served in (theirs, ours):
                    for key, rows in served.items():
                        if key[0] == "histograms":
                            served[key] = [(step, [b[1:] if i == 0 else b for i, b in enumerate(buckets)])
                                           for step, buckets in rows]
            complete = len(theirs) == 19 and ("scalars", "", "loss") in theirs and len(theirs[("scalars", "", "loss")]) == 5
            if (complete and theirs == ours) or time.time() > deadline:
                break
            time.sleep(1)
    finally:
        server.close()
    assert complete, sorted(theirs)
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert ours[key] == theirs[key], key
