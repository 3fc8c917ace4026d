"""Shared helpers: loading a log directory with TensorBoard's own loader."""

from __future__ import annotations

import os

import numpy as np
import pytest


def tensorboard_runs(logdir):
    """{run: {tag: [(step, value ndarray)]}} as TensorBoard 2.x's backend
    loads them (plugin_event_accumulator: every kind migrated to tensors,
    nothing sampled away)."""
    from tensorboard.backend.event_processing import io_wrapper
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    runs = {}
    for path in io_wrapper.GetLogdirSubdirectories(str(logdir)):
        run = os.path.relpath(path, str(logdir))
        acc = EventAccumulator(path, size_guidance={"tensors": 0})
        acc.Reload()
        runs[run] = {
            tag: [(e.step, tensor_util.make_ndarray(e.tensor_proto)) for e in acc.Tensors(tag)]
            for tag in acc.Tags()["tensors"]
        }
        runs[run]["__plugins__"] = {
            tag: acc.SummaryMetadata(tag).plugin_data.plugin_name for tag in acc.Tags()["tensors"]
        }
    return runs


def decode_png(data: bytes) -> np.ndarray:
    import io

    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)))


@pytest.fixture
def logdir(tmp_path):
    return tmp_path / "logs"
