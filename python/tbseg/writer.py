"""``tbseg.SummaryWriter``: torch's ``SummaryWriter`` on tbseg's writer."""

from __future__ import annotations

import contextlib
import io
import json
import os
import socket
from datetime import datetime
from typing import Any

import numpy as np

from . import _convert
from ._native import Writer as _Writer


def _step(global_step: Any) -> int:
    if global_step is None:
        return 0
    try:
        return int(global_step)
    except (TypeError, ValueError) as error:
        raise TypeError(f"global_step must be an integer, got {type(global_step).__name__}") from error


def _tag(tag: Any) -> str:
    if not isinstance(tag, str):
        raise TypeError(f"tag must be a str, got {type(tag).__name__}")
    return tag


def _default_log_dir(comment: str) -> str:
    current_time = datetime.now().strftime("%b%d_%H-%M-%S")
    return os.path.join("runs", current_time + "_" + socket.gethostname() + comment)


class SummaryWriter(_Writer):
    """Writes TensorBoard event files; a drop-in for
    ``torch.utils.tensorboard.SummaryWriter`` with the same constructor,
    methods, argument names and defaults.

    ``add_*`` calls copy their data once and return: scalars are encoded
    straight into the writer's buffer, and images, histograms, audio and
    video are encoded on a background thread with the GIL released. A
    background thread writes the file and flushes it every ``flush_secs``
    seconds. Values may be Python numbers, numpy arrays or torch tensors
    (CPU or CUDA).

    Differences from torch's writer: ``add_hparams`` without ``run_name``
    writes into this writer's run instead of a new run per call;
    ``max_queue`` bounds the images etc. waiting to be encoded rather than
    counting events; ``add_video`` needs no moviepy.
    """

    def __new__(
        cls,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ):
        if not log_dir:
            log_dir = _default_log_dir(comment)
        log_dir = os.fspath(log_dir)
        self = super().__new__(
            cls,
            log_dir,
            float(flush_secs),
            int(max_queue),
            str(filename_suffix),
            None if purge_step is None else int(purge_step),
        )
        self.log_dir = log_dir
        return self

    def __init__(
        self,
        log_dir: str | os.PathLike | None = None,
        comment: str = "",
        purge_step: int | None = None,
        max_queue: int = 10,
        flush_secs: float = 120,
        filename_suffix: str = "",
    ) -> None:
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        # add_scalars' and add_hparams' runs, by directory.
        self._children: dict[str, _Writer] = {}

    # -- runs ---------------------------------------------------------------

    def get_logdir(self) -> str:
        """The run directory this writer writes into."""
        return self.log_dir

    def _child(self, log_dir: str) -> _Writer:
        child = self._children.get(log_dir)
        if child is None:
            child = _Writer(log_dir, float(self.flush_secs), int(self.max_queue), str(self.filename_suffix))
            self._children[log_dir] = child
        return child

    # -- scalars --------------------------------------------------------------

    # add_scalar is the native method itself (no Python frame per call):
    # add_scalar(tag, scalar_value, global_step=None, walltime=None,
    #            new_style=False, double_precision=False)

    def add_scalars(
        self,
        main_tag: str,
        tag_scalar_dict: dict[str, Any],
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Several scalars on one chart: as torch, each key gets its own run
        ``<log_dir>/<main_tag>_<key>`` holding the scalar under ``main_tag``."""
        _tag(main_tag)
        if not isinstance(tag_scalar_dict, dict):
            raise TypeError(f"tag_scalar_dict must be a dict, got {type(tag_scalar_dict).__name__}")
        for tag, value in tag_scalar_dict.items():
            run = self.log_dir + "/" + main_tag.replace("/", "_") + "_" + str(tag)
            self._child(run).add_scalar(main_tag, value, global_step, walltime)

    # -- images ---------------------------------------------------------------

    def add_image(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "CHW",
    ) -> None:
        """One image (``dataformats`` CHW by default; HWC, HW...): ``uint8``
        as is, floats in [0, 1] scaled by 255 (torch's rules)."""
        self._image(_tag(tag), _convert.to_numpy(img_tensor), global_step, walltime, dataformats)

    def add_images(
        self,
        tag: str,
        img_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        dataformats: str = "NCHW",
    ) -> None:
        """A batch of images (NCHW by default, or NHWC...), tiled into one
        image 8 per row, as torch does."""
        self._image(_tag(tag), _convert.to_numpy(img_tensor), global_step, walltime, dataformats)

    def _image(self, tag, array, global_step, walltime, dataformats) -> None:
        _convert.check_numeric("img_tensor", array)
        try:
            hwc = _convert.to_uint8(_convert.to_hwc(array, dataformats))
        except ValueError as error:
            raise ValueError(f"invalid img_tensor for summary {tag!r}: {error}") from None
        super()._image(tag, hwc, _step(global_step), walltime)

    def add_image_with_boxes(
        self,
        tag: str,
        img_tensor: Any,
        box_tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
        rescale: float = 1,
        dataformats: str = "CHW",
        labels: list[str] | None = None,
    ) -> None:
        """An image with boxes drawn on it: ``box_tensor`` is ``[N, 4]``
        (xmin, ymin, xmax, ymax in pixels), drawn red 2 pixels wide with an
        optional label each, then the image scaled by ``rescale``. Needs
        Pillow, as torch's does."""
        _tag(tag)
        array = _convert.to_numpy(img_tensor)
        _convert.check_numeric("img_tensor", array)
        boxes = np.asarray(_convert.to_numpy(box_tensor), dtype=np.float64)
        if boxes.ndim != 2 or boxes.shape[1] != 4:
            raise ValueError(f"invalid box_tensor for summary {tag!r}: shape {boxes.shape}, expected [N, 4]")
        if labels is not None and len(labels) != len(boxes):
            raise ValueError(f"invalid labels for summary {tag!r}: {len(labels)} labels for {len(boxes)} boxes")
        try:
            hwc = _convert.to_uint8(_convert.to_hwc(array, dataformats))
        except ValueError as error:
            raise ValueError(f"invalid img_tensor for summary {tag!r}: {error}") from None
        drawn = _convert.draw_boxes(hwc, boxes, labels, rescale)
        super()._image(tag, np.ascontiguousarray(drawn), _step(global_step), walltime)

    def add_figure(
        self,
        tag: str,
        figure: Any,
        global_step: int | None = None,
        close: bool = True,
        walltime: float | None = None,
    ) -> None:
        """A matplotlib figure (or a list: a batch) rendered to an image."""
        images = _convert.figure_to_image(figure, close)
        if isinstance(figure, list):
            self.add_images(tag, images, global_step, walltime, dataformats="NCHW")
        else:
            self.add_image(tag, images, global_step, walltime, dataformats="CHW")

    # -- histograms -----------------------------------------------------------

    def add_histogram(
        self,
        tag: str,
        values: Any,
        global_step: int | None = None,
        bins: Any = "tensorflow",
        walltime: float | None = None,
        max_bins: int | None = None,
    ) -> None:
        """A histogram of ``values``. ``bins`` as torch: ``"tensorflow"``
        (TensorFlow's exponential buckets, the default), or anything
        ``numpy.histogram`` takes (a count, a rule such as ``"auto"``, the
        edges)."""
        _tag(tag)
        array = _convert.to_numpy(values)
        _convert.check_numeric("values", array)
        array = np.ascontiguousarray(array.reshape(-1), dtype=np.float64)
        if array.size == 0:
            raise ValueError(f"invalid values for summary {tag!r}: the input has no element")
        if isinstance(bins, str) and bins == "tensorflow":
            # The library's exponential edges, computed in Rust.
            edges = None
        else:
            try:
                edges = np.histogram_bin_edges(array, bins=bins)
            except (ValueError, TypeError) as error:
                raise ValueError(f"invalid bins for summary {tag!r}: {error}") from error
            edges = np.ascontiguousarray(edges, dtype=np.float64)
        super()._histogram(tag, array, edges, _step(global_step), walltime, max_bins)

    def add_histogram_raw(
        self,
        tag: str,
        min: float,
        max: float,
        num: int,
        sum: float,
        sum_squares: float,
        bucket_limits: Any,
        bucket_counts: Any,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """A histogram already counted: ``bucket_limits`` are the buckets'
        right edges, ``bucket_counts`` their counts (as many of each)."""
        _tag(tag)
        limits = np.asarray(_convert.to_numpy(bucket_limits), dtype=np.float64).reshape(-1)
        counts = np.asarray(_convert.to_numpy(bucket_counts), dtype=np.float64).reshape(-1)
        if limits.shape != counts.shape:
            raise ValueError(
                f"invalid bucket_limits for summary {tag!r}: {limits.size} limits, {counts.size} counts"
            )
        super()._histogram_raw(
            tag, float(min), float(max), float(num), float(sum), float(sum_squares),
            limits.tolist(), counts.tolist(), _step(global_step), walltime,
        )

    def add_tensor(
        self,
        tag: str,
        tensor: Any,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """A whole tensor (a numpy array or torch tensor of a real or bool
        dtype), under TensorBoard's ``tensor`` plugin, as torch writes it."""
        _tag(tag)
        array = _convert.to_numpy(tensor)
        if array.dtype.kind not in "biuf":
            raise TypeError(f"tensor for summary {tag!r} has dtype {array.dtype}, expected a real or bool dtype")
        array = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<"))
        super()._tensor(tag, array, array.dtype.str, list(array.shape), _step(global_step), walltime)

    # -- text, PR curves, hparams ---------------------------------------------

    def add_text(
        self,
        tag: str,
        text_string: str,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """Markdown text, under ``<tag>/text_summary`` as torch writes it."""
        if not isinstance(text_string, str):
            raise TypeError(f"text_string must be a str, got {type(text_string).__name__}")
        self._text(_tag(tag) + "/text_summary", text_string, _step(global_step), walltime)

    def add_pr_curve(
        self,
        tag: str,
        labels: Any,
        predictions: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """A precision-recall curve (TensorBoard's computation, at most 127
        thresholds as torch)."""
        _tag(tag)
        labels = _convert.to_numpy(labels)
        predictions = _convert.to_numpy(predictions)
        if labels.shape != predictions.shape:
            raise ValueError(
                f"invalid labels for summary {tag!r}: shape {labels.shape}, predictions have {predictions.shape}"
            )
        if weights is not None:
            weights = _convert.to_numpy(weights)
        num_thresholds = min(int(num_thresholds), 127)
        if num_thresholds < 2:
            raise ValueError(f"invalid num_thresholds for summary {tag!r}: {num_thresholds}, expected at least 2")
        _convert.check_numeric("labels", labels)
        _convert.check_numeric("predictions", predictions)
        labels = np.ascontiguousarray(labels.reshape(-1), dtype=np.float64)
        dtype = np.float32 if predictions.dtype == np.float32 else np.float64
        predictions = np.ascontiguousarray(predictions.reshape(-1), dtype=dtype)
        if weights is not None:
            _convert.check_numeric("weights", weights)
            weights = np.ascontiguousarray(np.broadcast_to(weights, labels.shape) if np.ndim(weights) == 0
                                           else weights.reshape(-1), dtype=np.float64)
        self._pr_curve_from(tag, labels, predictions, weights, num_thresholds, _step(global_step), walltime)

    def add_pr_curve_raw(
        self,
        tag: str,
        true_positive_counts: Any,
        false_positive_counts: Any,
        true_negative_counts: Any,
        false_negative_counts: Any,
        precision: Any,
        recall: Any,
        global_step: int | None = None,
        num_thresholds: int = 127,
        weights: Any = None,
        walltime: float | None = None,
    ) -> None:
        """A precision-recall curve already computed: six arrays of
        ``num_thresholds`` values each (``weights`` is ignored, as torch
        ignores it)."""
        _tag(tag)
        rows = [
            np.asarray(_convert.to_numpy(row), dtype=np.float32).reshape(-1)
            for row in (true_positive_counts, false_positive_counts, true_negative_counts,
                        false_negative_counts, precision, recall)
        ]
        if any(row.size != int(num_thresholds) for row in rows):
            sizes = ", ".join(str(row.size) for row in rows)
            raise ValueError(
                f"invalid pr curve for summary {tag!r}: rows of {sizes} values, expected num_thresholds={num_thresholds} each"
            )
        self._pr_curve(tag, np.ascontiguousarray(np.stack(rows)), _step(global_step), walltime)

    def add_hparams(
        self,
        hparam_dict: dict[str, Any],
        metric_dict: dict[str, Any],
        hparam_domain_discrete: dict[str, list] | None = None,
        run_name: str | None = None,
        global_step: int | None = None,
    ) -> None:
        """Hyperparameters and metrics for the HParams dashboard.

        Unlike torch, which writes every call into a new run named by the
        time, the hyperparameters and the metric scalars go into this
        writer's run; pass ``run_name`` to write them into the run
        ``<log_dir>/<run_name>`` instead, as torch does.
        ``hparam_domain_discrete`` is checked and not recorded."""
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        if hparam_domain_discrete is not None:
            if type(hparam_domain_discrete) is not dict:
                raise TypeError("hparam_domain_discrete should be a dictionary.")
            for k, values in hparam_domain_discrete.items():
                if k not in hparam_dict or not isinstance(values, list):
                    raise TypeError(f"hparam_domain_discrete[{k!r}] should be a list of the values of an hparam")
        hparams = {}
        for key, value in hparam_dict.items():
            tensor = _convert._torch_tensor_type()
            if tensor is not None and isinstance(value, tensor):
                value = float(_convert.to_numpy(value).reshape(-1)[0])
            elif value is None:
                continue
            hparams[key] = value
        writer = self if not run_name else self._child(os.path.join(self.log_dir, run_name))
        writer._hparams(hparams, list(metric_dict))
        for key, value in metric_dict.items():
            writer.add_scalar(key, value, global_step)

    # -- audio, video ---------------------------------------------------------

    def add_audio(
        self,
        tag: str,
        snd_tensor: Any,
        global_step: int | None = None,
        sample_rate: int = 44100,
        walltime: float | None = None,
    ) -> None:
        """A mono clip of samples in [-1, 1] (clipped), as 16-bit WAV."""
        _tag(tag)
        array = _convert.to_numpy(snd_tensor).squeeze()
        _convert.check_numeric("snd_tensor", array)
        if array.ndim != 1:
            raise ValueError(f"invalid snd_tensor for summary {tag!r}: shape {array.shape}, expected one dimension")
        samples = np.ascontiguousarray(array.clip(-1, 1), dtype=np.float32)
        self._audio(tag, samples, int(sample_rate), _step(global_step), walltime)

    def add_video(
        self,
        tag: str,
        vid_tensor: Any,
        global_step: int | None = None,
        fps: float = 4,
        walltime: float | None = None,
    ) -> None:
        """Clips ``[N, T, C, H, W]`` (uint8, or floats in [0, 1]) as one
        animated GIF of a grid, as torch does (no moviepy needed)."""
        _tag(tag)
        array = _convert.to_numpy(vid_tensor)
        _convert.check_numeric("vid_tensor", array)
        frames = _convert.prepare_video(array)
        frames = (frames.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
        self._video(tag, np.ascontiguousarray(frames), float(fps), _step(global_step), walltime)

    # -- embeddings, meshes, custom scalars, graphs ---------------------------

    def add_embedding(
        self,
        mat: Any,
        metadata: list | None = None,
        label_img: Any = None,
        global_step: int | None = None,
        tag: str = "default",
        metadata_header: list | None = None,
    ) -> None:
        """Points for the Projector: ``mat`` ``[N, D]``, optional labels (or
        rows of columns with ``metadata_header``) and thumbnails
        ``label_img`` ``[N, C, H, W]``."""
        _tag(tag)
        array = _convert.to_numpy(mat)
        _convert.check_numeric("mat", array)
        if array.ndim != 2:
            raise ValueError(f"invalid mat for summary {tag!r}: shape {array.shape}, expected [N, D]")
        rows = None
        if metadata is not None:
            if len(metadata) != array.shape[0]:
                raise ValueError(
                    f"invalid metadata for summary {tag!r}: {len(metadata)} labels for {array.shape[0]} points"
                )
            if metadata_header is not None:
                rows = [[str(c) for c in row] for row in metadata]
            else:
                rows = [[str(label)] for label in metadata]
        sprite = None
        if label_img is not None:
            images = _convert.to_numpy(label_img)
            if images.ndim != 4:
                raise ValueError(f"invalid label_img for summary {tag!r}: shape {images.shape}, expected [N, C, H, W]")
            sprite = _convert.to_uint8(images.transpose(0, 2, 3, 1))
        header = None if metadata_header is None else [str(h) for h in metadata_header]
        self._embedding(tag, np.ascontiguousarray(array, dtype=np.float32), rows, header, sprite, _step(global_step))

    def add_mesh(
        self,
        tag: str,
        vertices: Any,
        colors: Any = None,
        faces: Any = None,
        config_dict: dict | None = None,
        global_step: int | None = None,
        walltime: float | None = None,
    ) -> None:
        """A mesh or point cloud: ``vertices`` ``[1, N, 3]``, optional
        ``colors`` ``[1, N, 3]`` (uint8) and ``faces`` ``[1, F, 3]``."""
        _tag(tag)
        v = _convert.to_numpy(vertices)
        if v.ndim != 3 or v.shape[0] != 1 or v.shape[2] != 3:
            raise ValueError(f"invalid vertices for summary {tag!r}: shape {v.shape}, expected [1, N, 3]")
        f = None if faces is None else np.ascontiguousarray(_convert.to_numpy(faces).reshape(-1), dtype=np.uint32)
        c = None if colors is None else np.ascontiguousarray(_convert.to_numpy(colors).reshape(-1), dtype=np.uint8)
        config = json.dumps(config_dict or {})
        self._mesh(tag, np.ascontiguousarray(v.reshape(-1), dtype=np.float32), f, c, config, _step(global_step), walltime)

    def add_custom_scalars(self, layout: dict) -> None:
        """The Custom Scalars layout: ``{category: {chart: ["Multiline",
        [tag regexes]] or ["Margin", [value, lower, upper]]}}``."""
        if not isinstance(layout, dict):
            raise TypeError(f"layout must be a dict, got {type(layout).__name__}")
        self._custom_scalars(layout)

    def add_custom_scalars_multilinechart(self, tags: list, category: str = "default", title: str = "untitled") -> None:
        """One multiline chart of ``tags`` in the Custom Scalars dashboard."""
        self.add_custom_scalars({category: {title: ["Multiline", list(tags)]}})

    def add_custom_scalars_marginchart(self, tags: list, category: str = "default", title: str = "untitled") -> None:
        """One margin chart (value, lower, upper tags)."""
        if len(tags) != 3:
            raise ValueError(f"a margin chart takes 3 tags (value, lower, upper), got {len(tags)}")
        self.add_custom_scalars({category: {title: ["Margin", list(tags)]}})

    def add_graph(
        self,
        model: Any,
        input_to_model: Any = None,
        verbose: bool = False,
        use_strict_trace: bool = True,
    ) -> None:
        """The model's graph, traced by torch's own tracer (needs torch)."""
        from torch.utils.tensorboard._pytorch_graph import graph

        graph_def, _step_stats = graph(model, input_to_model, verbose, use_strict_trace)
        self._graph(graph_def.SerializeToString())

    def add_onnx_graph(self, prototxt: str | os.PathLike) -> None:
        """The graph of the ONNX model in the file ``prototxt``, converted
        to a GraphDef by torch's own converter (needs the ``onnx`` package
        and torch). torch's converter prints every node's name; tbseg
        keeps that off stdout."""
        try:
            import onnx  # noqa: F401 - torch's converter imports it
        except ImportError as error:
            raise ImportError("add_onnx_graph needs the onnx package, which is not installed") from error
        try:
            from torch.utils.tensorboard._onnx_graph import load_onnx_graph
        except ImportError as error:
            raise ImportError("add_onnx_graph needs torch (its ONNX converter), which is not installed") from error
        with contextlib.redirect_stdout(io.StringIO()):
            graph_def = load_onnx_graph(os.fspath(prototxt))
        self._graph(graph_def.SerializeToString())

    # -- lifetime -------------------------------------------------------------

    def flush(self) -> None:
        """Waits until everything logged is encoded and written to disk."""
        super().flush()
        for child in self._children.values():
            child.flush()

    def close(self) -> None:
        """Writes what is pending and closes the files (harmless twice; a
        later ``add_*`` opens a new file, as torch's writer does)."""
        errors = []
        for writer in [*self._children.values(), super()]:
            try:
                writer.close()
            except Exception as error:  # noqa: BLE001 - the first is raised
                errors.append(error)
        self._children.clear()
        if errors:
            raise errors[0]

    def __enter__(self) -> "SummaryWriter":
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> None:
        self.close()


if hasattr(os, "register_at_fork"):
    from ._native import after_fork_in_child as _after_fork_in_child

    os.register_at_fork(after_in_child=_after_fork_in_child)

