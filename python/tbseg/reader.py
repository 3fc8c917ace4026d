"""``tbseg.read``: a log directory's values as a pandas DataFrame (or an
Arrow table, or a polars DataFrame)."""

from __future__ import annotations

import os
from typing import Iterable

import numpy as np

from ._native import read_columns

KINDS = ("scalars", "images", "histograms", "text")


def _names(value: str | Iterable[str] | None, what: str) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    names = list(value)
    if not all(isinstance(name, str) for name in names):
        raise TypeError(f"{what} must be a str or a list of str")
    return names


def read(
    logdir: str | os.PathLike,
    kinds: str | Iterable[str] = "scalars",
    tags: str | Iterable[str] | None = None,
    runs: str | Iterable[str] | None = None,
    format: str = "pandas",
):
    """Reads every event file under ``logdir`` (tbseg's, torch's,
    TensorFlow's) into one table, decoded in Rust on several threads.

    Columns: ``run`` and ``tag`` (categorical; a run is a directory
    relative to ``logdir``, ``.`` for ``logdir`` itself), ``step``
    (int64), ``wall_time`` (float64, seconds since the epoch), and the
    values: ``value`` (float64) for scalars, ``image`` (PNG bytes, with
    ``width`` and ``height``), ``histogram`` (a float64 ``[k, 3]`` array
    of left edge, right edge, count) and ``text`` (str), one column per
    kind asked for in ``kinds`` (``"scalars"``, ``"images"``,
    ``"histograms"``, ``"text"``); a row fills its kind's column. With
    more than one kind, a ``kind`` column says which. ``tags`` and
    ``runs`` keep only those names. A ``purge_step`` restart drops the
    points it replaces, as TensorBoard does.

    ``format``: ``"pandas"`` (default), ``"arrow"`` (a ``pyarrow.Table``)
    or ``"polars"`` (a ``polars.DataFrame``, made from that table), when
    those are installed (``ImportError`` otherwise). They hold the same
    columns, typed: ``run``/``tag``/``kind`` dictionary-encoded
    (categorical), ``image`` binary, ``width``/``height`` int64,
    ``histogram`` a list of ``[left, right, count]`` float64 triples
    (``list<fixed_size_list<float64, 3>>``; polars ``List(Array(Float64,
    3))``), ``text`` string; a row of another kind holds null there.
    """
    kinds = _names(kinds, "kinds") or []
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}, expected one of {', '.join(KINDS)}")
    if format not in ("pandas", "arrow", "polars"):
        raise ValueError(f"unknown format {format!r}, expected pandas, arrow or polars")
    if format in ("arrow", "polars"):
        _require("pyarrow", format)
        if format == "polars":
            _require("polars", format)
    cols = read_columns(os.fspath(logdir), kinds, _names(tags, "tags"), _names(runs, "runs"))
    columns = _columns(cols, kinds)
    if format == "pandas":
        return _pandas(columns, cols["runs"], cols["tags"])
    table = _arrow(columns, cols["runs"], cols["tags"])
    if format == "arrow":
        return table
    import polars as pl

    return pl.from_arrow(table)


def _require(module: str, format: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ImportError(f'tbseg.read(format="{format}") needs the {module} package, which is not installed')


def _columns(cols: dict, kinds: list[str]) -> dict:
    """The table's columns as numpy arrays (run and tag as int32 codes) and,
    for the other kinds, lists with ``None`` in the rows of another kind;
    scalars first, then the other kinds' rows in file order."""
    frame = {
        "run": np.frombuffer(cols["run"], dtype=np.uint32).astype(np.int32),
        "tag": np.frombuffer(cols["tag"], dtype=np.uint32).astype(np.int32),
        "step": np.frombuffer(cols["step"], dtype=np.int64),
        "wall_time": np.frombuffer(cols["wall_time"], dtype=np.float64),
    }
    others = [k for k in kinds if k != "scalars"]
    if not others:
        frame["value"] = np.frombuffer(cols["value"], dtype=np.float64)
        return frame
    rows = cols["rows"]
    n_scalars = len(frame["step"]) if "scalars" in kinds else 0
    pad = [None] * n_scalars
    fields = (("run", 0, np.int32), ("tag", 1, np.int32), ("step", 2, np.int64), ("wall_time", 3, np.float64))
    for name, index, dtype in fields:
        extra = np.fromiter((r[index] for r in rows), dtype=dtype, count=len(rows))
        frame[name] = np.concatenate([frame[name][:n_scalars], extra])
    if len(kinds) > 1:
        frame["kind"] = ["scalars"] * n_scalars + [r[4] for r in rows]
    if "scalars" in kinds:
        values = np.full(n_scalars + len(rows), np.nan)
        values[:n_scalars] = np.frombuffer(cols["value"], dtype=np.float64)
        frame["value"] = values
    if "images" in others:
        frame["image"] = pad + [r[5][0] if r[4] == "images" else None for r in rows]
        frame["width"] = pad + [r[5][1] if r[4] == "images" else None for r in rows]
        frame["height"] = pad + [r[5][2] if r[4] == "images" else None for r in rows]
    if "histograms" in others:
        frame["histogram"] = pad + [
            np.frombuffer(r[5], dtype=np.float64).reshape(-1, 3) if r[4] == "histograms" else None for r in rows
        ]
    if "text" in others:
        frame["text"] = pad + [r[5] if r[4] == "text" else None for r in rows]
    return frame


def _pandas(columns: dict, run_names: list[str], tag_names: list[str]):
    import pandas as pd

    frame = dict(columns)
    frame["run"] = pd.Categorical.from_codes(columns["run"], categories=run_names)
    frame["tag"] = pd.Categorical.from_codes(columns["tag"], categories=tag_names)
    for name in ("width", "height"):
        if name in frame:
            frame[name] = pd.array(frame[name], dtype="Int64")
    return pd.DataFrame(frame)


def _arrow(columns: dict, run_names: list[str], tag_names: list[str]):
    """A ``pyarrow.Table`` of the same columns: run and tag dictionary
    encoded, ``image`` binary, ``width``/``height`` int64, ``histogram`` a
    list of ``[left, right, count]`` float64 triples, ``text`` string; the
    rows of another kind null."""
    import pyarrow as pa

    arrays = {}
    for name, values in columns.items():
        if name in ("run", "tag"):
            names = run_names if name == "run" else tag_names
            arrays[name] = pa.DictionaryArray.from_arrays(pa.array(values), pa.array(names, type=pa.string()))
        elif name == "kind":
            arrays[name] = pa.array(values, type=pa.string()).dictionary_encode()
        elif name == "image":
            arrays[name] = pa.array(values, type=pa.binary())
        elif name in ("width", "height"):
            arrays[name] = pa.array(values, type=pa.int64())
        elif name == "histogram":
            arrays[name] = _histogram_array(values)
        elif name == "text":
            arrays[name] = pa.array(values, type=pa.string())
        else:
            arrays[name] = pa.array(values)
    return pa.table(arrays)


def _histogram_array(histograms: list):
    """``list<fixed_size_list<float64, 3>>`` from ``[k, 3]`` arrays or
    ``None``, built from one flat buffer (no per-bucket Python objects)."""
    import pyarrow as pa

    lengths = np.array([0 if h is None else len(h) for h in histograms], dtype=np.int32)
    offsets = np.zeros(len(histograms) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    present = [h for h in histograms if h is not None]
    flat = np.concatenate([h.reshape(-1) for h in present]) if present else np.zeros(0)
    triples = pa.FixedSizeListArray.from_arrays(pa.array(flat, type=pa.float64()), 3)
    mask = pa.array([h is None for h in histograms], type=pa.bool_())
    return pa.ListArray.from_arrays(pa.array(offsets), triples, mask=mask)
