"""``tbseg.read``: a log directory's values as a pandas DataFrame."""

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
    or ``"polars"`` (a ``polars.DataFrame``), when those are installed.
    """
    import pandas as pd

    kinds = _names(kinds, "kinds") or []
    for kind in kinds:
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}, expected one of {', '.join(KINDS)}")
    if format not in ("pandas", "arrow", "polars"):
        raise ValueError(f"unknown format {format!r}, expected pandas, arrow or polars")
    cols = read_columns(os.fspath(logdir), kinds, _names(tags, "tags"), _names(runs, "runs"))
    run_names, tag_names = cols["runs"], cols["tags"]

    run_codes = np.frombuffer(cols["run"], dtype=np.uint32)
    tag_codes = np.frombuffer(cols["tag"], dtype=np.uint32)
    frame = {
        "run": pd.Categorical.from_codes(run_codes.astype(np.int32), categories=run_names),
        "tag": pd.Categorical.from_codes(tag_codes.astype(np.int32), categories=tag_names),
        "step": np.frombuffer(cols["step"], dtype=np.int64),
        "wall_time": np.frombuffer(cols["wall_time"], dtype=np.float64),
    }
    others = [k for k in kinds if k != "scalars"]
    if "scalars" in kinds:
        frame["value"] = np.frombuffer(cols["value"], dtype=np.float64)
    table = pd.DataFrame(frame)
    if others:
        rows = cols["rows"]
        extra = {
            "run": pd.Categorical.from_codes(np.array([r[0] for r in rows], dtype=np.int32), categories=run_names),
            "tag": pd.Categorical.from_codes(np.array([r[1] for r in rows], dtype=np.int32), categories=tag_names),
            "step": np.array([r[2] for r in rows], dtype=np.int64),
            "wall_time": np.array([r[3] for r in rows], dtype=np.float64),
            "kind": [r[4] for r in rows],
        }
        blobs = pd.DataFrame(extra)
        if "images" in others:
            blobs["image"] = [r[5][0] if r[4] == "images" else None for r in rows]
            blobs["width"] = pd.array([r[5][1] if r[4] == "images" else None for r in rows], dtype="Int64")
            blobs["height"] = pd.array([r[5][2] if r[4] == "images" else None for r in rows], dtype="Int64")
        if "histograms" in others:
            blobs["histogram"] = [
                np.frombuffer(r[5], dtype=np.float64).reshape(-1, 3) if r[4] == "histograms" else None for r in rows
            ]
        if "text" in others:
            blobs["text"] = [r[5] if r[4] == "text" else None for r in rows]
        if "scalars" in kinds:
            table.insert(4, "kind", "scalars")
            table = pd.concat([table, blobs], ignore_index=True)
            for column in ("run", "tag"):
                table[column] = pd.Categorical(table[column], categories=run_names if column == "run" else tag_names)
        else:
            table = blobs
            if len(others) == 1:
                table = table.drop(columns="kind")
    if format == "arrow":
        import pyarrow as pa

        return pa.Table.from_pandas(table, preserve_index=False)
    if format == "polars":
        import polars as pl

        return pl.from_pandas(table)
    return table
