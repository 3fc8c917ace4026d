"""Checks a TFRecord of tf.train.Examples written by examples/write_examples.rs.

Usage: check_records.py FILE

TensorFlow reads the file (tf.data.TFRecordDataset, which verifies both
record checksums) and every value must equal the one the Rust side wrote.
`example(i)` mirrors the Rust definition; change both together.
Exits non-zero on the first mismatch.
"""

import math
import os
import struct
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402

COUNT = 5
F32_MAX = struct.unpack("<f", b"\xff\xff\x7f\x7f")[0]
F32_MIN_POSITIVE = struct.unpack("<f", b"\x00\x00\x80\x00")[0]


def f32(x):
    """Rounds a Python float to the nearest float32, as the Rust side stored it."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def example(i):
    """The features of the i-th example: {key: (kind, values)}."""
    return {
        "id": ("int64", [i]),
        "name": ("bytes", [f"example-{i}".encode()]),
        "raw": ("bytes", [bytes((i * 37 + k) % 256 for k in range(i * 100))]),
        "multi": ("bytes", [b"x" * k for k in range(i)]),
        "big": ("int64", [-(2**63), 2**63 - 1, -1, 0, (1 << 40) + i]),
        "long": ("int64", [k * k * i - 500_000 for k in range(1000 * i)]),
        "floats": (
            "float",
            [
                f32(i * 0.25),
                f32(-1e30),
                f32(1e-30),
                F32_MAX,
                F32_MIN_POSITIVE,
                f32(1e-45),
                math.inf,
                -math.inf,
            ],
        ),
        "empty_int": ("int64", []),
        "empty_float": ("float", []),
        "empty_bytes": ("bytes", []),
    }


KIND_FIELD = {"int64": "int64_list", "float": "float_list", "bytes": "bytes_list"}


def fail(msg):
    print(f"check_records: MISMATCH: {msg}", file=sys.stderr)
    sys.exit(1)


def check_proto(index, raw):
    ex = tf.train.Example.FromString(raw)
    want = example(index)
    got_keys = set(ex.features.feature.keys())
    if got_keys != set(want):
        fail(f"example {index}: keys {sorted(got_keys)} != {sorted(want)}")
    for key, (kind, values) in want.items():
        feature = ex.features.feature[key]
        which = feature.WhichOneof("kind")
        if which != KIND_FIELD[kind]:
            fail(f"example {index} {key}: kind {which}, want {KIND_FIELD[kind]}")
        got = list(getattr(feature, KIND_FIELD[kind]).value)
        if got != values:
            fail(f"example {index} {key}: {got[:10]}... != {values[:10]}...")


def check_parse_single_example(index, raw):
    """The same values through TensorFlow's C++ parser."""
    spec = {
        "id": tf.io.FixedLenFeature([], tf.int64),
        "name": tf.io.FixedLenFeature([], tf.string),
        "big": tf.io.FixedLenFeature([5], tf.int64),
        "floats": tf.io.FixedLenFeature([8], tf.float32),
        "long": tf.io.VarLenFeature(tf.int64),
        "multi": tf.io.VarLenFeature(tf.string),
        "empty_int": tf.io.VarLenFeature(tf.int64),
        "empty_float": tf.io.VarLenFeature(tf.float32),
    }
    parsed = tf.io.parse_single_example(raw, spec)
    want = example(index)
    checks = {
        "id": [int(parsed["id"].numpy())],
        "name": [parsed["name"].numpy()],
        "big": parsed["big"].numpy().tolist(),
        "floats": [float(x) for x in parsed["floats"].numpy()],
        "long": parsed["long"].values.numpy().tolist(),
        "multi": parsed["multi"].values.numpy().tolist(),
        "empty_int": parsed["empty_int"].values.numpy().tolist(),
        "empty_float": parsed["empty_float"].values.numpy().tolist(),
    }
    for key, got in checks.items():
        if got != want[key][1]:
            fail(f"parse_single_example {index} {key}: {got[:10]} != {want[key][1][:10]}")


def main():
    path = sys.argv[1]
    records = [r.numpy() for r in tf.data.TFRecordDataset(path)]
    if len(records) != COUNT:
        fail(f"{len(records)} records, want {COUNT}")
    for index, raw in enumerate(records):
        check_proto(index, raw)
        check_parse_single_example(index, raw)
    print(f"check_records: {COUNT} examples match ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
