"""Writes tbseg's golden fixtures with the real TensorFlow and TensorBoard.

Run from the repository root:

    . scripts/env.sh && "$TBSEG_PY_VENV/bin/python" scripts/golden/make_golden.py

It replaces tests/data/golden/{tf2,tb_legacy,examples.tfrecord}. The values
written here are the ones tests/golden.rs asserts; change both together.
"""

import os
import shutil
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorboard.compat.proto import event_pb2, summary_pb2  # noqa: E402
from tensorboard.summary.writer.event_file_writer import EventFileWriter  # noqa: E402

OUT = os.path.join("tests", "data", "golden")

LOSS = [1.0, 0.5, 0.25, 0.125, 0.0625]


def only_event_file(directory):
    names = [n for n in os.listdir(directory) if "tfevents" in n]
    if len(names) != 1:
        sys.exit(f"expected one event file in {directory}, found {names}")
    return os.path.join(directory, names[0])


def tf2_events(out_dir):
    """Scalars, an image, a histogram and a text, as tf.summary writes them."""
    tmp = tempfile.mkdtemp()
    writer = tf.summary.create_file_writer(tmp)
    with writer.as_default():
        for step, loss in enumerate(LOSS):
            tf.summary.scalar("loss", loss, step=step)
        # A 2x3 RGB image (batch of one), values chosen to be recognizable.
        image = np.zeros((1, 2, 3, 3), dtype=np.uint8)
        image[0, 0, 0] = [255, 0, 0]
        image[0, 1, 2] = [0, 0, 255]
        tf.summary.image("input", image, step=1)
        tf.summary.histogram(
            "weights", np.array([0.0, 1.0, 1.0, 2.0], dtype=np.float32), step=2, buckets=2
        )
        tf.summary.text("note", "golden text", step=3)
    writer.close()
    os.makedirs(out_dir, exist_ok=True)
    shutil.move(only_event_file(tmp), os.path.join(out_dir, "events.out.tfevents.golden.v2"))
    shutil.rmtree(tmp)


def tensorboard_legacy_events(out_dir):
    """Legacy simple_value scalars through TensorBoard's own EventFileWriter."""
    tmp = tempfile.mkdtemp()
    writer = EventFileWriter(tmp)
    for step, acc in [(10, 0.5), (20, 0.75), (30, 0.875)]:
        value = summary_pb2.Summary.Value(tag="accuracy", simple_value=acc)
        event = event_pb2.Event(
            wall_time=1_700_000_000.0 + step,
            step=step,
            summary=summary_pb2.Summary(value=[value]),
        )
        writer.add_event(event)
    writer.close()
    os.makedirs(out_dir, exist_ok=True)
    shutil.move(only_event_file(tmp), os.path.join(out_dir, "events.out.tfevents.golden.tb"))
    shutil.rmtree(tmp)


def examples(path):
    """Three tf.train.Examples through tf.io.TFRecordWriter."""
    with tf.io.TFRecordWriter(path) as writer:
        for i in range(3):
            feature = {
                "name": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[f"example {i}".encode()])
                ),
                "raw": tf.train.Feature(
                    bytes_list=tf.train.BytesList(value=[bytes([i, 0, 255]), b""])
                ),
                "index": tf.train.Feature(int64_list=tf.train.Int64List(value=[i])),
                "shape": tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[256, 256, -(2**63), 2**63 - 1])
                ),
                "scale": tf.train.Feature(float_list=tf.train.FloatList(value=[0.5 * i, -1.5])),
                "empty": tf.train.Feature(float_list=tf.train.FloatList(value=[])),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            writer.write(example.SerializeToString())


def main():
    for name in ["tf2", "tb_legacy", "examples.tfrecord"]:
        path = os.path.join(OUT, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)
    os.makedirs(OUT, exist_ok=True)
    tf2_events(os.path.join(OUT, "tf2"))
    tensorboard_legacy_events(os.path.join(OUT, "tb_legacy"))
    examples(os.path.join(OUT, "examples.tfrecord"))
    print(f"tensorflow {tf.__version__}: wrote {OUT}")


if __name__ == "__main__":
    main()
