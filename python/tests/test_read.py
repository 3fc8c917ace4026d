"""tbseg.read: columns, filters, kinds, and files written by other writers."""

from __future__ import annotations

import numpy as np
import pytest

import tbseg


@pytest.fixture
def two_runs(logdir):
    for run, offset in (("a", 0.0), ("b", 10.0)):
        with tbseg.SummaryWriter(logdir / run) as writer:
            for step in range(4):
                writer.add_scalar("loss", offset + step, step, walltime=100.0 + step)
                writer.add_scalar("acc", offset - step, step)
            writer.add_text("note", f"run {run}", 1)
            writer.add_histogram("w", np.arange(10.0), 2, bins=2)
    return logdir


def test_scalars_columns_and_dtypes(two_runs):
    frame = tbseg.read(two_runs)
    assert list(frame.columns) == ["run", "tag", "step", "wall_time", "value"]
    assert str(frame.run.dtype) == "category" and str(frame.tag.dtype) == "category"
    assert frame.step.dtype == np.int64 and frame.value.dtype == np.float64
    loss_b = frame[(frame.run == "b") & (frame.tag == "loss")]
    assert loss_b.step.tolist() == [0, 1, 2, 3] and loss_b.value.tolist() == [10, 11, 12, 13]
    assert loss_b.wall_time.tolist() == [100, 101, 102, 103]


def test_filters_by_tag_and_run(two_runs):
    frame = tbseg.read(two_runs, tags=["acc"], runs="a")
    assert set(frame.tag) == {"acc"} and set(frame.run) == {"a"} and len(frame) == 4


def test_other_kinds_as_typed_columns(two_runs):
    frame = tbseg.read(two_runs, kinds=["text", "histograms"], runs=["a"])
    text = frame[frame.kind == "text"]
    assert text.text.tolist() == ["run a"] and text.tag.tolist() == ["note/text_summary"]
    hist = frame[frame.kind == "histograms"].histogram.iloc[0]
    np.testing.assert_array_equal(hist, [[0, 4.5, 5], [4.5, 9, 5]])


def test_reads_torchs_files(logdir):
    torch_writer = pytest.importorskip("torch.utils.tensorboard").SummaryWriter
    with torch_writer(str(logdir)) as writer:
        for step in range(3):
            writer.add_scalar("loss", step * 0.5, step)
        writer.add_histogram("h", np.array([1.0, 2.0, 2.0]), 0, bins=2)
        writer.add_image("img", np.zeros((3, 2, 2)), 0)
    frame = tbseg.read(logdir, kinds=["scalars", "histograms", "images"])
    assert frame[frame.kind == "scalars"].value.tolist() == [0.0, 0.5, 1.0]
    np.testing.assert_array_equal(frame[frame.kind == "histograms"].histogram.iloc[0], [[1, 1.5, 1], [1.5, 2, 2]])
    assert frame[frame.kind == "images"].width.tolist() == [2]


def test_bad_arguments(two_runs, tmp_path):
    with pytest.raises(ValueError, match="unknown kind"):
        tbseg.read(two_runs, kinds="audio")
    with pytest.raises(OSError, match="does not exist"):
        tbseg.read(tmp_path / "missing")
    with pytest.raises(TypeError):
        tbseg.read(two_runs, tags=[1])
