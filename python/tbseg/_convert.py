"""Turning what torch's writer accepts into the numpy layouts it encodes.

Every function here does what ``torch.utils.tensorboard.summary`` does to
its input before encoding (same layouts, same scaling, same truncation), so
that tbseg's files show the same pixels, buckets and curves as torch's.
The encoding itself (PNG, WAV, GIF, histogram counting) happens in the
native module, off the Python thread.
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np


def _torch_tensor_type():
    torch = sys.modules.get("torch")
    return getattr(torch, "Tensor", None) if torch is not None else None


def to_numpy(x: Any) -> np.ndarray:
    """A numpy array of ``x``: numpy arrays as they are, torch tensors
    detached and copied to the host (CPU tensors without a copy), Python
    and numpy scalars as one-element arrays (as torch's ``make_np``), and
    anything else through ``numpy.asarray`` (``__array__``, the buffer
    protocol, lists)."""
    if isinstance(x, np.ndarray):
        return x
    tensor = _torch_tensor_type()
    if tensor is not None and isinstance(x, tensor):
        x = x.detach()
        if x.dtype == sys.modules["torch"].bfloat16:
            x = x.float()  # numpy has no bfloat16
        return x.cpu().numpy()
    if isinstance(x, (bool, int, float, np.generic)):
        return np.array([x])
    try:
        return np.asarray(x)
    except Exception as error:  # noqa: BLE001 - re-raised with the reason
        raise TypeError(f"expected a number, a numpy array or a torch tensor, got {type(x).__name__}") from error


def check_numeric(name: str, array: np.ndarray) -> None:
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{name} must hold real numbers, got dtype {array.dtype}")


def to_hwc(tensor: np.ndarray, dataformats: str) -> np.ndarray:
    """torch's ``convert_to_HWC``: any of HW, HWC, CHW (3-D layouts in any
    order) or NCHW-like batches (tiled with ``make_grid``) to HWC with 3
    or 4 channels; grey images become RGB."""
    dataformats = dataformats.upper()
    if len(set(dataformats)) != len(dataformats) or set(dataformats) - set("NCHW"):
        raise ValueError(f"dataformats {dataformats!r}: use each of N, C, H, W at most once")
    if tensor.ndim != len(dataformats):
        raise ValueError(
            f"the image has shape {tuple(tensor.shape)} ({tensor.ndim} dimensions), "
            f"dataformats {dataformats!r} has {len(dataformats)}"
        )
    if len(dataformats) == 4:
        nchw = tensor.transpose([dataformats.find(c) for c in "NCHW"])
        return make_grid(nchw).transpose(1, 2, 0)
    if len(dataformats) == 3:
        if "N" in dataformats:
            raise ValueError(f"dataformats {dataformats!r}: a single image has no N")
        hwc = tensor.transpose([dataformats.find(c) for c in "HWC"])
        if hwc.shape[2] == 1:
            hwc = np.concatenate([hwc, hwc, hwc], 2)
        return hwc
    if len(dataformats) == 2 and set(dataformats) == {"H", "W"}:
        hw = tensor.transpose([dataformats.find(c) for c in "HW"])
        return np.stack([hw, hw, hw], 2)
    raise ValueError(f"dataformats {dataformats!r}: expected HW, HWC, CHW or NCHW (in any order)")


def make_grid(nchw: np.ndarray, ncols: int = 8) -> np.ndarray:
    """torch's ``make_grid``: up to 8 images per row, no padding; CHW."""
    if nchw.shape[1] == 1:
        nchw = np.concatenate([nchw, nchw, nchw], 1)
    if nchw.shape[1] not in (3, 4):
        raise ValueError(f"images have {nchw.shape[1]} channels, expected 1, 3 or 4")
    count, channels, height, width = nchw.shape
    if count == 0:
        raise ValueError("no images in the batch")
    ncols = min(count, ncols)
    nrows = -(-count // ncols)
    canvas = np.zeros((channels, height * nrows, width * ncols), dtype=nchw.dtype)
    for i in range(count):
        y, x = divmod(i, ncols)
        canvas[:, y * height : (y + 1) * height, x * width : (x + 1) * width] = nchw[i]
    return canvas


def to_uint8(tensor: np.ndarray) -> np.ndarray:
    """torch's image scaling: ``uint8`` as is, anything else times 255,
    clipped to [0, 255] and truncated; C-contiguous."""
    if tensor.dtype == np.uint8:
        return np.ascontiguousarray(tensor)
    check_numeric("the image", tensor)
    scaled = (tensor.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    return np.ascontiguousarray(scaled)


def prepare_video(video: np.ndarray) -> np.ndarray:
    """torch's ``_prepare_video``: a ``[N, T, C, H, W]`` batch of clips to
    ``[T, H', W', C]`` frames of a grid (N padded to a power of two)."""
    if video.ndim != 5:
        raise ValueError(f"vid_tensor has shape {tuple(video.shape)}, expected [N, T, C, H, W]")
    b, t, c, h, w = video.shape
    if video.dtype == np.uint8:
        video = np.float32(video) / 255.0
    if b & (b - 1):
        extra = int(2 ** b.bit_length() - b)
        video = np.concatenate((video, np.zeros(shape=(extra, t, c, h, w))), axis=0)
    n_rows = 2 ** ((b.bit_length() - 1) // 2)
    n_cols = video.shape[0] // n_rows
    video = np.reshape(video, (n_rows, n_cols, t, c, h, w))
    video = np.transpose(video, axes=(2, 0, 4, 1, 5, 3))
    return np.reshape(video, (t, n_rows * h, n_cols * w, c))


def figure_to_image(figures, close: bool = True) -> np.ndarray:
    """torch's ``figure_to_image``: a matplotlib figure rendered to a CHW
    ``uint8`` array (a list of figures: NCHW); needs matplotlib."""
    import matplotlib.backends.backend_agg as backend_agg
    import matplotlib.pyplot as plt

    def render(figure):
        canvas = backend_agg.FigureCanvasAgg(figure)
        canvas.draw()
        data = np.frombuffer(canvas.buffer_rgba(), dtype=np.uint8)
        w, h = figure.canvas.get_width_height()
        chw = np.moveaxis(data.reshape([h, w, 4])[:, :, 0:3], source=2, destination=0)
        if close:
            plt.close(figure)
        return chw

    if isinstance(figures, list):
        return np.stack([render(figure) for figure in figures])
    return render(figures)


def draw_boxes(hwc: np.ndarray, boxes: np.ndarray, labels, rescale: float) -> np.ndarray:
    """``hwc`` (uint8) with each box outlined red, 2 pixels wide, its label
    (if any) on a red band above its bottom edge, then resized by
    ``rescale`` (Lanczos): what torch's add_image_with_boxes shows."""
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise ImportError("add_image_with_boxes needs Pillow (pip install pillow), as torch's does") from None
    image = Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    for i, (left, top, right, bottom) in enumerate(boxes.tolist()):
        draw.line([(left, top), (left, bottom), (right, bottom), (right, top), (left, top)], width=2, fill="Red")
        if labels is not None and labels[i]:
            text = str(labels[i])
            x0, y0, x1, y1 = font.getbbox(text)
            width, height = x1 - x0, y1 - y0
            margin = np.ceil(0.05 * height)
            draw.rectangle([(left, bottom - height - 2 * margin), (left + width, bottom)], fill="Red")
            draw.text((left + margin, bottom - height - margin), text, fill="black", font=font)
    height, width = hwc.shape[:2]
    image = image.resize((int(width * rescale), int(height * rescale)), Image.Resampling.LANCZOS)
    out = np.asarray(image)
    return out[:, :, None] if out.ndim == 2 else out
