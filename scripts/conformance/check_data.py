"""Checks the lab files written by `tbseg data synth` the way the lab read them.

Usage: check_data.py TRAIN VAL N_TRAIN N_VAL DUMP_JSON

TensorFlow reads each file with tf.data.TFRecordDataset (which verifies
both record checksums) and tf.io.parse_single_example, first with the
lab's own two-key spec (img_raw, label_raw), then with all five features.
The image is decoded as the lab's read_and_decode does (decode_raw as
int64, cast to float32, times 1/1024, reshaped to 256x256), the label as
uint8. Counts, shapes, label values and LV coverage must be right, and the
numbers must equal what tbseg's own reader printed (DUMP_JSON, from
examples/dump_lab.rs). Exits non-zero on the first mismatch.
"""

import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

SIZE = 256

LAB_SPEC = {
    "img_raw": tf.io.FixedLenFeature([], tf.string),
    "label_raw": tf.io.FixedLenFeature([], tf.string),
}
FULL_SPEC = dict(
    LAB_SPEC,
    height=tf.io.FixedLenFeature([], tf.int64),
    width=tf.io.FixedLenFeature([], tf.int64),
    depth=tf.io.FixedLenFeature([], tf.int64),
)


def fail(msg):
    print(f"check_data: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def read_and_decode(serialized):
    """The lab's reader: the network's image and the label."""
    features = tf.io.parse_single_example(serialized, LAB_SPEC)
    raw = tf.io.decode_raw(features["img_raw"], tf.int64)
    image = tf.reshape(tf.cast(raw, tf.float32) * (1.0 / 1024), (SIZE, SIZE))
    label = tf.reshape(tf.io.decode_raw(features["label_raw"], tf.uint8), (SIZE, SIZE))
    return raw, image, label


def check_file(path, want_count, dumped):
    records = list(tf.data.TFRecordDataset(path))
    name = os.path.basename(path)
    if len(records) != want_count:
        fail(f"{name}: {len(records)} records, want {want_count}")
    if len(dumped) != want_count:
        fail(f"{name}: tbseg read {len(dumped)} records, want {want_count}")
    fractions = []
    for index, serialized in enumerate(records):
        where = f"{name} record {index}"
        full = tf.io.parse_single_example(serialized, FULL_SPEC)
        dims = tuple(int(full[k]) for k in ("height", "width", "depth"))
        if dims != (SIZE, SIZE, 1):
            fail(f"{where}: height/width/depth {dims}, want ({SIZE}, {SIZE}, 1)")

        raw, image, label = read_and_decode(serialized)
        raw, image, label = raw.numpy(), image.numpy(), label.numpy()
        if raw.shape != (SIZE * SIZE,) or image.shape != (SIZE, SIZE):
            fail(f"{where}: image shapes {raw.shape} / {image.shape}")
        if image.dtype != np.float32 or label.dtype != np.uint8:
            fail(f"{where}: dtypes {image.dtype} / {label.dtype}")
        if label.shape != (SIZE, SIZE):
            fail(f"{where}: label shape {label.shape}")
        values = set(np.unique(label).tolist())
        if not values <= {0, 1}:
            fail(f"{where}: label values {sorted(values)}, want only 0 and 1")
        fraction = float(label.mean())
        if not 0.005 <= fraction <= 0.05:
            fail(f"{where}: LV covers {100 * fraction:.2f} % of the slice, want 0.5-5 %")
        fractions.append(fraction)
        if raw.min() < 0 or raw.max() == 0:
            fail(f"{where}: raw intensities span [{raw.min()}, {raw.max()}]")
        # 1/1024 is a power of two, so the lab's scaling is exact.
        if not np.array_equal(image.reshape(-1), raw.astype(np.float32) / 1024):
            fail(f"{where}: image is not raw / 1024")

        # What tbseg's own reader saw, number for number.
        mine = dumped[index]
        pixel = np.arange(SIZE * SIZE, dtype=np.int64)
        theirs = {
            "raw_sum": int(raw.sum()),
            "raw_weighted_sum": int((pixel * raw).sum()),
            "raw_min": int(raw.min()),
            "raw_max": int(raw.max()),
            "lv_pixels": int(label.sum(dtype=np.int64)),
        }
        for key, value in theirs.items():
            if mine[key] != value:
                fail(f"{where}: {key}: tbseg {mine[key]}, TensorFlow {value}")
        image_sum = float(image.astype(np.float64).sum())
        if abs(mine["image_sum"] - image_sum) > 1e-9 * max(1.0, abs(image_sum)):
            fail(f"{where}: image sum: tbseg {mine['image_sum']}, TensorFlow {image_sum}")
    mean = sum(fractions) / len(fractions)
    if not 0.01 <= mean <= 0.03:
        fail(f"{name}: mean LV fraction {100 * mean:.2f} %, want 1-3 %")
    return mean


def main():
    if len(sys.argv) != 6:
        fail(__doc__.strip().splitlines()[2])
    train, val, n_train, n_val, dump = sys.argv[1:]
    with open(dump) as f:
        dumped = json.load(f)
    means = []
    for path, count in ((train, int(n_train)), (val, int(n_val))):
        if path not in dumped:
            fail(f"{path} missing from {dump}")
        means.append(check_file(path, count, dumped[path]))
    print(
        f"check_data: ok: {n_train} train + {n_val} val slices read by TensorFlow "
        f"{tf.__version__} match tbseg; mean LV fraction "
        f"{100 * means[0]:.2f} % / {100 * means[1]:.2f} %"
    )


if __name__ == "__main__":
    main()
