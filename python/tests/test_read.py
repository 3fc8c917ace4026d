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


def test_arrow_columns_are_typed(two_runs):
    pa = pytest.importorskip("pyarrow")
    table = tbseg.read(two_runs, kinds=["scalars", "text", "histograms"], format="arrow")
    assert isinstance(table, pa.Table)
    schema = table.schema
    assert schema.field("run").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("tag").type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("step").type == pa.int64() and schema.field("wall_time").type == pa.float64()
    assert schema.field("value").type == pa.float64() and schema.field("text").type == pa.string()
    assert schema.field("histogram").type == pa.list_(pa.list_(pa.float64(), 3))
    rows = table.to_pylist()
    loss_b = [r for r in rows if r["run"] == "b" and r["tag"] == "loss"]
    assert [(r["step"], r["value"], r["wall_time"]) for r in loss_b] == [(s, 10.0 + s, 100.0 + s) for s in range(4)]
    text = [r for r in rows if r["kind"] == "text"]
    assert sorted((r["run"], r["text"]) for r in text) == [("a", "run a"), ("b", "run b")]
    assert all(r["histogram"] is None for r in text)
    hist = [r for r in rows if r["kind"] == "histograms" and r["run"] == "a"]
    assert hist[0]["histogram"] == [[0, 4.5, 5], [4.5, 9, 5]] and hist[0]["text"] is None
    # The same table as the pandas one, row for row.
    frame = tbseg.read(two_runs, kinds=["scalars", "text", "histograms"])
    assert table.column("step").to_pylist() == frame.step.tolist()
    assert table.column("tag").to_pylist() == frame.tag.tolist()


def test_arrow_images_and_scalars_only(two_runs, logdir):
    pa = pytest.importorskip("pyarrow")
    scalars = tbseg.read(two_runs, tags="acc", runs="a", format="arrow")
    assert scalars.column_names == ["run", "tag", "step", "wall_time", "value"]
    assert scalars.column("value").to_pylist() == [0.0, -1.0, -2.0, -3.0]
    with tbseg.SummaryWriter(logdir / "img") as writer:
        writer.add_image("img", np.full((3, 2, 4), 255, dtype=np.uint8), 7)
    images = tbseg.read(logdir / "img", kinds="images", format="arrow")
    assert images.column_names == ["run", "tag", "step", "wall_time", "image", "width", "height"]
    assert images.schema.field("image").type == pa.binary() and images.schema.field("width").type == pa.int64()
    (row,) = images.to_pylist()
    assert (row["step"], row["width"], row["height"]) == (7, 4, 2)
    from conftest import decode_png

    assert decode_png(row["image"]).shape == (2, 4, 3)


def test_polars_frame(two_runs):
    pl = pytest.importorskip("polars")
    frame = tbseg.read(two_runs, kinds=["scalars", "histograms"], format="polars")
    assert isinstance(frame, pl.DataFrame)
    assert frame.schema["run"] == pl.Categorical and frame.schema["tag"] == pl.Categorical
    assert frame.schema["step"] == pl.Int64 and frame.schema["value"] == pl.Float64
    assert frame.schema["histogram"] == pl.List(pl.Array(pl.Float64, 3))
    loss = frame.filter((pl.col("run") == "b") & (pl.col("tag") == "loss"))
    assert loss["value"].to_list() == [10.0, 11.0, 12.0, 13.0]
    hist = frame.filter((pl.col("kind") == "histograms") & (pl.col("run") == "a"))["histogram"].to_list()
    assert hist == [[[0, 4.5, 5], [4.5, 9, 5]]]


def test_missing_optional_format_package_is_a_clear_error(two_runs, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pyarrow" else real(name, *a))
    with pytest.raises(ImportError, match='format="arrow".*pyarrow'):
        tbseg.read(two_runs, format="arrow")
    with pytest.raises(ValueError, match="unknown format"):
        tbseg.read(two_runs, format="csv")
