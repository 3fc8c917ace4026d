"""tbseg.SummaryWriter: every method, defaults, input types, bad input,
lifetime (context manager, close twice, logging after close, fork)."""

from __future__ import annotations

import glob
import os
import sys

import numpy as np
import pytest

import tbseg
from conftest import decode_png, tensorboard_runs


def events(logdir):
    return sorted(glob.glob(os.path.join(str(logdir), "**", "*tfevents*"), recursive=True))


def test_constructor_defaults_match_torch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = tbseg.SummaryWriter(comment="_lr0.1")
    assert writer.log_dir.startswith("runs" + os.sep) and writer.log_dir.endswith("_lr0.1")
    assert writer.get_logdir() == writer.log_dir
    assert (writer.max_queue, writer.flush_secs, writer.filename_suffix, writer.purge_step) == (10, 120, "", None)
    writer.close()
    assert len(events(tmp_path / "runs")) == 1


def test_filename_suffix_and_purge_step(logdir):
    with tbseg.SummaryWriter(logdir, filename_suffix=".v2") as writer:
        writer.add_scalar("x", 1.0, 3)
    assert events(logdir)[0].endswith(".v2")
    with tbseg.SummaryWriter(logdir, purge_step=2) as writer:
        writer.add_scalar("x", 5.0, 2)
    frame = tbseg.read(logdir)
    assert frame.step.tolist() == [2] and frame.value.tolist() == [5.0]


@pytest.mark.parametrize(
    "value",
    [1, 2.5, True, np.float16(0.5), np.float32(0.25), np.float64(0.125), np.int64(3), np.array([0.75]), np.array(1.5)],
)
def test_scalars_of_every_python_and_numpy_type(logdir, value):
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_scalar("v", value, np.int32(4), walltime=1234.5)
    frame = tbseg.read(logdir)
    assert frame.value.tolist() == [float(np.asarray(value, dtype=np.float32).reshape(-1)[0])]
    assert frame.step.tolist() == [4] and frame.wall_time.tolist() == [1234.5]


def test_scalar_defaults_step_0_and_double_precision(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_scalar("f32", 0.1)
        writer.add_scalar("f64", 0.1, double_precision=True)
    frame = tbseg.read(logdir)
    values = dict(zip(frame.tag, frame.value))
    assert values["f32"] == float(np.float32(0.1)) and values["f64"] == 0.1
    assert frame.step.tolist() == [0, 0]


def test_add_scalars_writes_a_run_per_key(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_scalars("loss/all", {"train": 1.0, "val": 2.0}, 1)
        writer.add_scalars("loss/all", {"train": 0.5}, 2)
    frame = tbseg.read(logdir)
    assert sorted(set(frame.run)) == ["loss_all_train", "loss_all_val"]
    assert set(frame.tag) == {"loss/all"}
    assert frame[frame.run == "loss_all_train"].value.tolist() == [1.0, 0.5]


@pytest.mark.parametrize(
    "array,dataformats,shape",
    [
        (np.full((3, 4, 5), 0.5, np.float32), "CHW", (4, 5, 3)),
        (np.full((4, 5, 3), 128, np.uint8), "HWC", (4, 5, 3)),
        (np.full((4, 5, 4), 1.0, np.float64), "HWC", (4, 5, 4)),
        (np.full((4, 5), 0.25, np.float16), "HW", (4, 5, 3)),
        (np.ones((4, 5, 1), bool), "HWC", (4, 5, 3)),
        (np.zeros((2, 3, 4, 5), np.float32), "NCHW", (4, 10, 3)),
        (np.zeros((9, 4, 5, 1), np.uint8), "NHWC", (8, 40, 3)),
    ],
)
def test_images_in_every_layout_and_dtype(logdir, array, dataformats, shape):
    with tbseg.SummaryWriter(logdir) as writer:
        if dataformats.startswith("N"):
            writer.add_images("img", array, 1, dataformats=dataformats)
        else:
            writer.add_image("img", array, 1, dataformats=dataformats)
    frame = tbseg.read(logdir, kinds="images")
    pixels = decode_png(frame.image[0])
    assert pixels.shape == shape
    expected = array if array.dtype == np.uint8 else (array.astype(np.float32) * 255).clip(0, 255).astype(np.uint8)
    assert pixels.reshape(-1)[0] == expected.reshape(-1)[0]


def test_torch_tensors_of_every_dtype(logdir):
    torch = pytest.importorskip("torch")
    with tbseg.SummaryWriter(logdir) as writer:
        for dtype in (torch.float16, torch.bfloat16, torch.float32, torch.float64, torch.uint8, torch.bool):
            name = str(dtype).split(".")[1]
            writer.add_scalar("s/" + name, torch.ones((), dtype=dtype), 0)
            writer.add_histogram("h/" + name, torch.ones(10, dtype=dtype), 0)
            writer.add_image("i/" + name, torch.ones((3, 2, 2), dtype=dtype), 0)
        writer.add_scalar("grad", torch.tensor(2.0, requires_grad=True) * 2, 0)
    frame = tbseg.read(logdir, kinds=["scalars", "histograms", "images"])
    assert len(frame[frame.kind == "scalars"]) == 7 and set(frame[frame.kind == "scalars"].value) == {1.0, 4.0}
    assert len(frame[frame.kind == "histograms"]) == 6 and len(frame[frame.kind == "images"]) == 6


def test_histogram_bins_as_torch(logdir):
    values = np.array([-1.0, 0.0, 0.0, 0.5, 2.0])
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_histogram("tf", values, 0)
        writer.add_histogram("four", values, 0, bins=4)
        writer.add_histogram("edges", values, 0, bins=[-1, 0, 1, 3])
    frame = tbseg.read(logdir, kinds="histograms")
    hist = dict(zip(frame.tag, frame.histogram))
    np.testing.assert_array_equal(hist["four"], [[-1, -0.25, 1], [-0.25, 0.5, 2], [0.5, 1.25, 1], [1.25, 2, 1]])
    np.testing.assert_array_equal(hist["edges"], [[-1, 0, 1], [0, 1, 3], [1, 2, 1]])
    assert hist["tf"][:, 2].sum() == 5 and hist["tf"][0, 0] == -1.0 and hist["tf"][-1, 1] == 2.0


def test_text_pr_curve_audio_video_mesh_custom_scalars_embedding(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_text("note", "**bold**", 2)
        writer.add_pr_curve("pr", np.array([1, 0, 1]), np.array([0.9, 0.2, 0.4]), 2, num_thresholds=5)
        writer.add_audio("beep", np.sin(np.linspace(0, 50, 800)), 2, sample_rate=8000)
        writer.add_video("clip", np.random.rand(2, 3, 3, 8, 8), 2, fps=2)
        writer.add_mesh("cloud", np.random.rand(1, 6, 3), colors=np.full((1, 6, 3), 200), global_step=2)
        writer.add_custom_scalars({"training": {"losses": ["Multiline", ["loss/.*"]], "band": ["Margin", ["a", "lo", "hi"]]}})
        writer.add_embedding(np.random.rand(4, 3), metadata=["a", "b", "c", "d"], label_img=np.random.rand(4, 3, 5, 5), global_step=2, tag="feat")
    runs = tensorboard_runs(logdir)["."]
    plugins = runs["__plugins__"]
    assert plugins["note/text_summary"] == "text" and plugins["pr"] == "pr_curves" and plugins["beep"] == "audio"
    assert plugins["clip"] == "images" and plugins["custom_scalars__config__"] == "custom_scalars"
    assert plugins["cloud_VERTEX"] == "mesh"
    assert runs["pr"][0][1].shape == (6, 5) and runs["pr"][0][1][0, 0] == 2  # two positives
    assert runs["clip"][0][1][2][:6] == b"GIF89a"
    assert os.path.exists(os.path.join(str(logdir), "projector_config.pbtxt"))
    assert os.path.exists(os.path.join(str(logdir), "00002", "feat", "sprite.png"))


def test_add_hparams_writes_into_this_run(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_hparams({"lr": 0.1, "opt": "adam", "bn": True}, {"hparam/acc": 0.9})
        writer.add_hparams({"lr": 0.2}, {"hparam/acc": 0.8}, run_name="second")
    runs = tensorboard_runs(logdir)
    assert sorted(runs) == [".", "second"]
    assert runs["."]["__plugins__"]["_hparams_/session_start_info"] == "hparams"
    assert runs["."]["hparam/acc"][0][1] == np.float32(0.9)
    with pytest.raises(TypeError):
        tbseg.SummaryWriter(logdir / "x").add_hparams([("lr", 1)], {})


def test_add_graph_through_torch_tracing(logdir):
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU())
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_graph(model, torch.zeros(2, 4))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    ops = {node.op for node in acc.Graph().node}
    assert "aten::linear" in ops and "aten::relu" in ops


def test_add_onnx_graph_through_torchs_converter(logdir, tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("torch")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["h"]), helper.make_node("Relu", ["h"], ["y"])],
        "mlp",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4]),
            helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 3]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])],
    )
    path = tmp_path / "mlp.onnx"
    onnx.save(helper.make_model(graph), str(path))
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    graphs = {}
    for name, writer_class in (("tbseg", tbseg.SummaryWriter), ("torch", TorchWriter)):
        with writer_class(str(logdir / name)) as writer:
            writer.add_onnx_graph(str(path))
        acc = EventAccumulator(str(logdir / name))
        acc.Reload()
        graphs[name] = acc.Graph()
    nodes = [(node.name, node.op, list(node.input)) for node in graphs["tbseg"].node]
    assert nodes == [
        ("x", "Variable", []),
        ("w", "Variable", []),
        ("y", "Variable", []),
        ("h", "MatMul", ["x", "w"]),
        ("y", "Relu", ["h"]),
    ]
    assert [d.size for d in graphs["tbseg"].node[1].attr["shape"].shape.dim] == [4, 3]
    assert graphs["tbseg"] == graphs["torch"]


def test_add_onnx_graph_without_onnx_is_a_clear_import_error(logdir, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnx", None)
    with tbseg.SummaryWriter(logdir) as writer:
        with pytest.raises(ImportError, match="add_onnx_graph needs the onnx package"):
            writer.add_onnx_graph("model.onnx")
        writer.add_scalar("still", 1.0, 0)
    assert tbseg.read(logdir).value.tolist() == [1.0]


def test_add_figure_with_matplotlib(logdir):
    plt = pytest.importorskip("matplotlib.pyplot")
    figure = plt.figure(figsize=(2, 1), dpi=50)
    with tbseg.SummaryWriter(logdir) as writer:
        writer.add_figure("fig", figure, 0)
    assert decode_png(tbseg.read(logdir, kinds="images").image[0]).shape == (50, 100, 3)


@pytest.mark.parametrize(
    "call,error",
    [
        (lambda w: w.add_scalar("x", "text", 0), TypeError),
        (lambda w: w.add_scalar(3, 1.0, 0), TypeError),
        (lambda w: w.add_scalar("x", np.zeros(3), 0), TypeError),
        (lambda w: w.add_scalar("x", 1.0, "step"), TypeError),
        (lambda w: w.add_image("x", np.zeros((5, 4)), 0), ValueError),
        (lambda w: w.add_image("x", np.zeros((2, 4, 4)), 0), ValueError),
        (lambda w: w.add_image("x", np.array([["a"]]), 0, dataformats="HW"), TypeError),
        (lambda w: w.add_images("x", np.zeros((0, 3, 4, 4)), 0), ValueError),
        (lambda w: w.add_histogram("x", np.array([]), 0), ValueError),
        (lambda w: w.add_histogram("x", np.ones(3), 0, bins="nonsense"), ValueError),
        (lambda w: w.add_text("x", 5, 0), TypeError),
        (lambda w: w.add_pr_curve("x", np.ones(3), np.ones(4), 0), ValueError),
        (lambda w: w.add_audio("x", np.zeros((2, 5)), 0), ValueError),
        (lambda w: w.add_mesh("x", np.zeros((4, 3)), global_step=0), ValueError),
        (lambda w: w.add_mesh("x", np.zeros((1, 2, 3)), faces=np.array([[[0, 1, 7]]]), global_step=0), ValueError),
        (lambda w: w.add_custom_scalars({"c": {"chart": ["Pie", ["a"]]}}), ValueError),
        (lambda w: w.add_embedding(np.zeros(3)), ValueError),
        (lambda w: w.add_video("x", np.zeros((2, 3, 4)), 0), ValueError),
    ],
)
def test_bad_input_raises_and_the_writer_goes_on(logdir, call, error):
    writer = tbseg.SummaryWriter(logdir)
    with pytest.raises(error) as raised:
        call(writer)
    assert str(raised.value)
    writer.add_scalar("after", 1.0, 1)
    writer.close()
    frame = tbseg.read(logdir)
    assert frame.tag.tolist() == ["after"]


def test_unwritable_logdir_is_an_oserror(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OSError, match="cannot create log directory"):
        tbseg.SummaryWriter(blocker / "run")


def test_close_twice_and_logging_after_close_opens_a_new_file(logdir):
    writer = tbseg.SummaryWriter(logdir)
    writer.add_scalar("x", 1.0, 0)
    writer.close()
    writer.close()
    writer.add_scalar("x", 2.0, 1)
    writer.flush()
    writer.close()
    assert len(events(logdir)) == 2
    assert tbseg.read(logdir).value.tolist() == [1.0, 2.0]


def test_flush_makes_everything_readable_while_open(logdir):
    writer = tbseg.SummaryWriter(logdir)
    writer.add_image("img", np.zeros((3, 4, 4)), 0)
    writer.add_histogram("h", np.arange(10), 0)
    writer.add_scalar("x", 1.0, 0)
    writer.flush()
    assert len(tbseg.read(logdir, kinds=["scalars", "images", "histograms"])) == 3
    writer.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_forked_children_write_their_own_files(logdir):
    writer = tbseg.SummaryWriter(logdir)
    writer.add_scalar("parent", 1.0, 0)
    pids = []
    for child in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                writer.add_scalar("child", float(child), child)
                writer.add_image("img", np.zeros((3, 2, 2)), child)
                writer.close()
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        assert os.waitpid(pid, 0)[1] == 0
    writer.add_scalar("parent", 2.0, 1)
    writer.close()
    assert len(events(logdir)) == 3
    frame = tbseg.read(logdir, kinds=["scalars", "images"])
    assert sorted(frame[frame.tag == "child"].value) == [0.0, 1.0]
    assert frame[frame.tag == "parent"].value.tolist() == [1.0, 2.0]
    assert len(frame[frame.kind == "images"]) == 2


def test_add_scalar_releases_nothing_on_python_threads(logdir):
    """Images logged from several threads at once all arrive."""
    import threading

    writer = tbseg.SummaryWriter(logdir)

    def log(i):
        for step in range(5):
            writer.add_image(f"t{i}", np.random.rand(3, 16, 16), step)

    threads = [threading.Thread(target=log, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    writer.close()
    assert len(tbseg.read(logdir, kinds="images")) == 20


def test_version_and_stubs_ship():
    assert tbseg.__version__ == "0.1.0"
    package = os.path.dirname(tbseg.__file__)
    assert os.path.exists(os.path.join(package, "__init__.pyi"))
    assert os.path.exists(os.path.join(package, "py.typed"))
    assert sys.modules["tbseg._native"]


def test_raw_methods_and_boxes_reject_bad_input_and_stay_usable(logdir):
    with tbseg.SummaryWriter(logdir) as writer:
        with pytest.raises(ValueError, match="3 limits, 2 counts"):
            writer.add_histogram_raw("h", 0, 1, 2, 1, 1, [0.5, 1, 2], [1, 1])
        with pytest.raises(ValueError, match="num_thresholds=4"):
            writer.add_pr_curve_raw("p", *([np.zeros(3)] * 6), num_thresholds=4)
        with pytest.raises(ValueError, match=r"expected \[N, 4\]"):
            writer.add_image_with_boxes("b", np.zeros((3, 4, 4)), np.zeros((2, 3)))
        with pytest.raises(ValueError, match="1 labels for 2 boxes"):
            writer.add_image_with_boxes("b", np.zeros((3, 4, 4)), np.zeros((2, 4)), labels=["x"])
        writer.add_image_with_boxes("b", np.zeros((3, 8, 8)), np.array([[1, 1, 6, 6]]), 0, labels=["cat"])
        writer.add_scalar("after", 1.0, 0)
    images = tbseg.read(logdir, kinds="images")
    assert images.tag.tolist() == ["b"] and images.width.tolist() == [8]
    assert tbseg.read(logdir).tag.tolist() == ["after"]
