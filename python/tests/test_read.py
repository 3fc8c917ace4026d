"""tbseg.read: columns, filters, kinds, and files written by other writers."""

from __future__ import annotations

import time

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


def test_scalars_mixed_with_other_kinds_and_precisions(logdir):
    """Scalars read on the wire-format fast path agree with the values
    written, whatever else shares the file: other kinds under other tags,
    double-precision tensors, torch's legacy simple_value, filtered tags."""
    with tbseg.SummaryWriter(logdir) as writer:
        for step in range(50):
            writer.add_scalar("f32", step / 3, step)
            writer.add_scalar("f64", step / 3, step, double_precision=True)
            writer.add_scalar("legacy", step * 2.0, step, new_style=False)
            if step % 10 == 0:
                writer.add_histogram("h", np.arange(step + 1.0), step)
                writer.add_text("t", f"step {step}", step)
    frame = tbseg.read(logdir)
    assert set(frame.tag) == {"f32", "f64", "legacy"}
    f32 = frame[frame.tag == "f32"]
    np.testing.assert_array_equal(f32.value, np.arange(50, dtype=np.float32) / np.float32(3))
    np.testing.assert_array_equal(frame[frame.tag == "f64"].value, np.arange(50) / 3)
    assert frame[frame.tag == "legacy"].value.tolist() == [2.0 * s for s in range(50)]
    only = tbseg.read(logdir, tags=["f64"])
    assert only.step.tolist() == list(range(50)) and set(only.tag) == {"f64"}
    mixed = tbseg.read(logdir, kinds=["scalars", "text"], tags=["f32", "t/text_summary"])
    assert (mixed.kind == "text").sum() == 5 and (mixed.kind == "scalars").sum() == 50


def test_purge_step_drops_replaced_points(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        for step in range(10):
            writer.add_scalar("loss", float(step), step)
    # Event files are read in name order, as TensorBoard reads them; the
    # name starts with the time in seconds, so the restart's file must be
    # named in a later second to be read after the first.
    time.sleep(1.1)
    with tbseg.SummaryWriter(logdir, purge_step=5) as writer:
        for step in range(5, 8):
            writer.add_scalar("loss", 100.0 + step, step)
    frame = tbseg.read(logdir)
    assert frame.step.tolist() == [0, 1, 2, 3, 4, 5, 6, 7]
    assert frame.value.tolist() == [0, 1, 2, 3, 4, 105, 106, 107]


def test_a_corrupt_record_is_skipped_and_a_torn_tail_ends_the_file(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        for step in range(20):
            writer.add_scalar("loss", float(step), step)
    (path,) = logdir.glob("*tfevents*")
    data = bytearray(path.read_bytes())
    # Records are framed as 8-byte length, 4-byte length CRC, data, 4-byte
    # data CRC; flip one byte of the last float of the 11th record's data.
    offset, records = 0, []
    while offset < len(data):
        length = int.from_bytes(data[offset : offset + 8], "little")
        records.append((offset, length))
        offset += 16 + length
    start, length = records[11]
    data[start + 12 + length - 1] ^= 0xFF
    path.write_bytes(bytes(data) + b"\x05\x00")
    frame = tbseg.read(logdir)
    assert frame.step.tolist() == [s for s in range(20) if s != 10]
