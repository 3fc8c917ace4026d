"""A checkpoint trained by TensorFlow, evaluated by tbseg: the masks must be
TensorFlow's, pixel for pixel, and the Dice metric TensorFlow's to 4 places.

Usage:
    tf_trained.py train DATA_DIR CKPT_DIR TF_NPZ
        Builds the lab's cnn graph (lab.md 3.2: bias-free convolutions with
        SAME padding, truncated_normal(0.1), keep_prob 1.0, a 31x31 stride-16
        transposed convolution) with tf.compat.v1 ops and the lab's variable
        names, trains it for STEPS Adam steps on the train file (batch 1, a
        fixed graph seed), saves it with a v1 Saver as CKPT_DIR/model.ckpt-STEPS
        and writes TensorFlow's masks and dataset Dice on the val file.
    tf_trained.py check TF_NPZ PRED_DIR EVAL_DIR
        Compares `tbseg predict`'s masks (PRED_DIR/NNNN_mask.png) with
        TensorFlow's and the `2Dice metric` scalar `tbseg eval` logged in
        EVAL_DIR with TensorFlow's Dice. Exits non-zero on a mismatch.
"""

import glob
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

SIZE = 256
# Enough Adam steps for the masks to differ from the initial weights'.
STEPS = 40


def load(path):
    """Images (scaled as the lab's read_and_decode) and labels of a lab file."""
    images, labels = [], []
    for record in tf.data.TFRecordDataset(path):
        features = tf.train.Example.FromString(record.numpy()).features.feature
        raw = np.frombuffer(features["img_raw"].bytes_list.value[0], dtype=np.int64)
        images.append((raw.astype(np.float32) * np.float32(1.0 / 1024)).reshape(SIZE, SIZE, 1))
        label = np.frombuffer(features["label_raw"].bytes_list.value[0], dtype=np.uint8)
        labels.append(label.reshape(SIZE, SIZE))
    return np.stack(images), np.stack(labels)


def dice(pred, labels):
    """The lab's dataset-level Dice of the LV class, 2·ΣI / (ΣL + ΣP)."""
    intersection = np.sum((pred == 1) & (labels == 1))
    return 2.0 * intersection / (np.sum(labels == 1) + np.sum(pred == 1))


def train(data_dir, ckpt_dir, out):
    train_x, train_y = load(os.path.join(data_dir, "train_images.tfrecords"))
    val_x, val_y = load(os.path.join(data_dir, "val_images.tfrecords"))
    v1 = tf.compat.v1
    v1.disable_eager_execution()
    v1.set_random_seed(5)
    init = v1.truncated_normal_initializer(stddev=0.1)
    x = v1.placeholder(tf.float32, [None, SIZE, SIZE, 1], name="x")
    y = v1.placeholder(tf.int64, [None, SIZE, SIZE])

    def conv(inputs, scope, size, channels_in, channels_out, stride, relu=True):
        with v1.variable_scope(scope):
            kernel = v1.get_variable("kernel", [size, size, channels_in, channels_out], initializer=init)
        out = tf.nn.conv2d(inputs, kernel, [1, stride, stride, 1], "SAME")
        return tf.nn.relu(out) if relu else out

    def pool(inputs):
        return tf.nn.max_pool2d(inputs, 2, 2, "SAME")

    net = pool(conv(x, "Conv1", 5, 1, 100, 2))
    net = pool(conv(net, "Conv2", 5, 100, 200, 2))
    net = conv(net, "Conv3", 3, 200, 300, 1)
    net = conv(net, "conv4", 3, 300, 300, 1)
    net = v1.nn.dropout(net, keep_prob=1.0)
    net = conv(net, "score_classes", 1, 300, 2, 1, relu=False)
    with v1.variable_scope("upscore"):
        upscore = v1.get_variable("kernel", [31, 31, 2, 2], initializer=init)
    shape = tf.stack([tf.shape(x)[0], SIZE, SIZE, 2])
    logits = tf.nn.conv2d_transpose(net, upscore, shape, [1, 16, 16, 1], "SAME")
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    step = v1.train.get_or_create_global_step()
    minimize = v1.train.AdamOptimizer(1e-3).minimize(loss, global_step=step)
    # The model's variables and global_step only, as the lab's checkpoints.
    model_vars = [v for v in v1.global_variables() if "Adam" not in v.name and "beta" not in v.name]
    with v1.Session() as session:
        session.run(v1.global_variables_initializer())
        for i in range(STEPS):
            j = i % len(train_x)
            session.run(minimize, {x: train_x[j : j + 1], y: train_y[j : j + 1]})
        os.makedirs(ckpt_dir, exist_ok=True)
        v1.train.Saver(model_vars).save(session, os.path.join(ckpt_dir, "model.ckpt"), global_step=step)
        val_logits = session.run(logits, {x: val_x})
    pred = np.argmax(val_logits, axis=-1).astype(np.uint8)
    # argmax of two logits: a pixel on a near-tie could go either way on
    # another library's rounding; report how near the nearest one is.
    margin = float(np.min(np.abs(val_logits[..., 1] - val_logits[..., 0])))
    print(
        f"tf_trained: TensorFlow trained {STEPS} steps; val Dice {dice(pred, val_y):.6f}, "
        f"{int(np.sum(pred == 1))} LV pixels, smallest logit margin {margin:.2e}"
    )
    np.savez(out, pred=pred, labels=val_y)


def eval_dice(eval_dir):
    """The last `2Dice metric` scalar in the event files under eval_dir."""
    value = None
    for path in sorted(glob.glob(os.path.join(eval_dir, "events.out.tfevents.*"))):
        for record in tf.data.TFRecordDataset(path):
            for v in tf.compat.v1.Event.FromString(record.numpy()).summary.value:
                if v.tag == "2Dice metric":
                    value = v.simple_value if v.HasField("simple_value") else float(tf.make_ndarray(v.tensor))
    if value is None:
        fail(f"{eval_dir}: no `2Dice metric` scalar")
    return value


def fail(message):
    print(f"tf_trained: FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def check(tf_npz, pred_dir, eval_dir):
    from PIL import Image

    expected = np.load(tf_npz)
    pred, labels = expected["pred"], expected["labels"]
    for index in range(len(pred)):
        path = os.path.join(pred_dir, f"{index:04d}_mask.png")
        mask = (np.array(Image.open(path).convert("L")) > 127).astype(np.uint8)
        differing = int(np.sum(mask != pred[index]))
        if differing:
            fail(f"{path}: {differing} of {mask.size} pixels differ from TensorFlow's mask")
    tf_dice = dice(pred, labels)
    tbseg_dice = eval_dice(eval_dir)
    if round(tbseg_dice, 4) != round(tf_dice, 4):
        fail(f"Dice: tbseg eval logged {tbseg_dice:.6f}, TensorFlow's is {tf_dice:.6f}")
    print(
        f"tf_trained: {len(pred)} masks 100 % equal to TensorFlow's; "
        f"Dice {tbseg_dice:.4f} = TensorFlow's {tf_dice:.4f}"
    )


if __name__ == "__main__":
    commands = {"train": train, "check": check}
    if len(sys.argv) != 5 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    commands[sys.argv[1]](*sys.argv[2:])
