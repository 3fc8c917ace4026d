#!/usr/bin/env python3
"""Writes the TensorFlow-made checkpoints that tests/checkpoint_tf.rs reads.

Run from the repository root with the pinned venv:
    . scripts/env.sh && "$TBSEG_PY_VENV/bin/python" scripts/golden/make_tf_checkpoint.py

Output (tests/data/tf_checkpoint/):
  object/ckpt.{index,data-00000-of-00001}  tf.train.Checkpoint.write: keys like
      f32/.ATTRIBUTES/VARIABLE_VALUE plus the DT_STRING _CHECKPOINTABLE_OBJECT_GRAPH
  saver/model.ckpt-7.{index,data-...}, saver/checkpoint  tf.compat.v1.train.Saver
      with the lab's variable names at small shapes, and global_step = 7

The values are arithmetic sequences the Rust test recomputes; keep both in sync.
"""
import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = os.path.join("tests", "data", "tf_checkpoint")


def seq(shape, dtype, scale=1.0, offset=0.0):
    """k * scale + offset for k = 0..numel, reshaped; exact in every dtype used."""
    n = int(np.prod(shape, dtype=np.int64))
    return (np.arange(n, dtype=np.float64) * scale + offset).astype(dtype).reshape(shape)


def object_checkpoint():
    values = {
        "f32": seq([2, 3], np.float32, 0.5, -1.0),
        "f64": seq([4], np.float64, 0.1, 0.0),
        "i32": seq([3], np.int32, -7, 3),
        "i64": np.array(1 << 40, dtype=np.int64),
        "u8": seq([2, 2], np.uint8, 60, 10),
        "flag": np.array([True, False, True]),
    }
    variables = {name: tf.Variable(value) for name, value in values.items()}
    ckpt = tf.train.Checkpoint(**variables)
    directory = os.path.join(OUT, "object")
    os.makedirs(directory, exist_ok=True)
    ckpt.write(os.path.join(directory, "ckpt"))


def saver_checkpoint():
    graph = tf.Graph()
    with graph.as_default():
        shapes = {
            "Conv1/kernel": [2, 2, 1, 3],
            "Conv2/kernel": [2, 2, 3, 2],
            "conv4/kernel": [1, 1, 2, 2],
            "upscore/kernel": [3, 3, 2, 2],
            "Hidden1/W_fc": [4, 3],
        }
        var_list = {}
        for i, (name, shape) in enumerate(shapes.items()):
            var_list[name] = tf.compat.v1.Variable(
                seq(shape, np.float32, 0.25, float(i)), name=name.replace("/", "_")
            )
        step = tf.compat.v1.Variable(np.int64(7), name="global_step")
        var_list["global_step"] = step
        saver = tf.compat.v1.train.Saver(var_list=var_list, max_to_keep=5)
        with tf.compat.v1.Session(graph=graph) as session:
            session.run(tf.compat.v1.global_variables_initializer())
            directory = os.path.join(OUT, "saver")
            os.makedirs(directory, exist_ok=True)
            saver.save(
                session,
                os.path.join(directory, "model.ckpt"),
                global_step=7,
                write_meta_graph=False,
            )


def main():
    if not os.path.isfile("Cargo.toml"):
        sys.exit("run from the repository root")
    shutil.rmtree(OUT, ignore_errors=True)
    object_checkpoint()
    saver_checkpoint()
    # The state file TF writes holds absolute paths; make it relative (TF
    # joins relative paths to the directory) so the fixture is portable.
    state = os.path.join(OUT, "saver", "checkpoint")
    with open(state) as f:
        text = f.read()
    absolute = os.path.abspath(os.path.join(OUT, "saver")) + os.sep
    with open(state, "w") as f:
        f.write(text.replace(absolute, "").replace(os.path.join(OUT, "saver") + os.sep, ""))
    for root, _, files in os.walk(OUT):
        for name in sorted(files):
            path = os.path.join(root, name)
            print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
