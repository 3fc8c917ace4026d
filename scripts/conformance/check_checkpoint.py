#!/usr/bin/env python3
"""Checks tbseg's checkpoints with TensorFlow's own readers.

Usage: check_checkpoint.py DIR   (DIR written by examples/write_checkpoint.rs)

Regenerates every tensor's values from the same hash as the Rust example
and compares them bit for bit with what tf.train.load_checkpoint returns.
Also checks tf.train.list_variables, tf.train.latest_checkpoint, the state
file's retention list, and a tf.compat.v1.train.Saver restore of the lab's
CNN variables. Exits non-zero on the first mismatch.
"""
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

M64 = (1 << 64) - 1
DTYPES = {
    "DT_FLOAT": tf.float32,
    "DT_DOUBLE": tf.float64,
    "DT_INT32": tf.int32,
    "DT_INT64": tf.int64,
    "DT_UINT8": tf.uint8,
    "DT_BOOL": tf.bool,
}


def fail(message):
    print("checkpoint conformance FAILED:", message, file=sys.stderr)
    sys.exit(1)


def name_hash(name):
    h = 0xCBF29CE484222325
    for byte in name.encode():
        h = ((h ^ byte) * 0x100000001B3) & M64
    return h


def elements(name, step, n):
    """The Rust example's `element` for i in 0..n, as uint64."""
    with np.errstate(over="ignore"):
        i = np.arange(n, dtype=np.uint64)
        x = i * np.uint64(0x9E3779B97F4A7C15) + np.uint64((step * 0xD1B54A32D192ED03) & M64)
        x ^= np.uint64(name_hash(name))
        x ^= x >> np.uint64(29)
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        return x ^ (x >> np.uint64(32))


def expected_value(name, dtype, shape, step):
    n = int(np.prod(shape, dtype=np.int64))
    x = elements(name, step, n)
    high = (x >> np.uint64(32)).astype(np.uint32)
    if dtype == "DT_FLOAT":
        value = high.view(np.float32)
    elif dtype == "DT_DOUBLE":
        value = x.view(np.float64)
    elif dtype == "DT_INT32":
        value = high.view(np.int32)
    elif dtype == "DT_INT64":
        value = x.view(np.int64)
    elif dtype == "DT_UINT8":
        value = (x >> np.uint64(56)).astype(np.uint8)
    elif dtype == "DT_BOOL":
        value = (x >> np.uint64(63)) == 1
    else:
        fail(f"unknown dtype {dtype}")
    return value.reshape(shape)


def check_checkpoint(prefix, step, tensors):
    listed = dict(tf.train.list_variables(prefix))
    want = {t["name"]: t["shape"] for t in tensors}
    if listed != want:
        missing = set(want) - set(listed)
        extra = set(listed) - set(want)
        fail(f"{prefix}: list_variables differs: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}")
    reader = tf.train.load_checkpoint(prefix)
    dtypes = reader.get_variable_to_dtype_map()
    for t in tensors:
        name, dtype, shape = t["name"], t["dtype"], t["shape"]
        if dtypes[name] != DTYPES[dtype]:
            fail(f"{prefix}: {name}: dtype {dtypes[name]} != {dtype}")
        got = np.asarray(reader.get_tensor(name))
        if name == "global_step":
            want_value = np.array(step, dtype=np.int64)
        else:
            want_value = expected_value(name, dtype, shape, step)
        if got.dtype != want_value.dtype or got.shape != want_value.shape:
            fail(f"{prefix}: {name}: got {got.dtype}{got.shape}, want {want_value.dtype}{want_value.shape}")
        if got.tobytes() != want_value.tobytes():
            fail(f"{prefix}: {name}: values differ (bitwise)")
    return len(tensors)


def check_v1_saver_restore(prefix, tensors):
    """Restores the lab's CNN variables the way the lab's TF1 code would."""
    cnn = [t for t in tensors if t["name"].endswith("/kernel") and "/" in t["name"]]
    graph = tf.Graph()
    with graph.as_default():
        variables = {
            t["name"]: tf.compat.v1.Variable(tf.zeros(t["shape"], tf.float32), name=t["name"].split("/")[0])
            for t in cnn
        }
        saver = tf.compat.v1.train.Saver(var_list=variables)
        with tf.compat.v1.Session(graph=graph) as session:
            saver.restore(session, prefix)
            for name, variable in variables.items():
                got = session.run(variable)
                t = next(t for t in cnn if t["name"] == name)
                if got.tobytes() != expected_value(name, "DT_FLOAT", t["shape"], 4).tobytes():
                    fail(f"v1 Saver restore of {name} differs")
    return len(cnn)


def main():
    directory = sys.argv[1]
    spec = json.load(open(os.path.join(directory, "expected.json")))
    checkpoints = spec["checkpoints"]
    kept = checkpoints[-3:]

    latest = tf.train.latest_checkpoint(directory)
    want_latest = os.path.join(directory, kept[-1]["prefix"])
    if latest != want_latest:
        fail(f"latest_checkpoint {latest!r} != {want_latest!r}")
    state = tf.train.get_checkpoint_state(directory)
    all_paths = list(state.all_model_checkpoint_paths)
    want_paths = [os.path.join(directory, c["prefix"]) for c in kept]
    if all_paths != want_paths:
        fail(f"all_model_checkpoint_paths {all_paths} != {want_paths}")
    for removed in checkpoints[:-3]:
        prefix = os.path.join(directory, removed["prefix"])
        if tf.io.gfile.glob(prefix + ".*"):
            fail(f"{prefix} should have been deleted by max_to_keep")

    count = 0
    for c in kept:
        count += check_checkpoint(os.path.join(directory, c["prefix"]), c["step"], c["tensors"])
    restored = check_v1_saver_restore(latest, kept[-1]["tensors"])

    many = spec["many"]
    many_prefix = tf.train.latest_checkpoint(os.path.join(directory, "many"))
    count += check_checkpoint(many_prefix, many["step"], many["tensors"])
    index_size = os.path.getsize(many_prefix + ".index")
    if index_size <= 256 * 1024:
        fail(f"the many-tensor index ({index_size} bytes) should span several data blocks")

    print(
        f"checkpoint conformance OK: {count} tensors bit-exact via tf.train.load_checkpoint, "
        f"{restored} restored by tf.compat.v1.train.Saver, latest={os.path.basename(latest)}, "
        f"multi-block index {index_size} bytes"
    )


if __name__ == "__main__":
    main()
