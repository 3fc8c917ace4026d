#!/usr/bin/env python3
"""The lab's `cnn` training step and epoch in PyTorch (eager) or TensorFlow 2
(`tf.function`), timed the way `tbseg bench-step` times tbseg's trainer.

    bench_step.py --framework torch|tf [--threads T] [--device cpu|cuda]
                  [--data_dir DIR] [--warmup 5] [--steps 30] [--no-epoch]

Prints one JSON line with the same keys as `tbseg bench-step`.
`scripts/bench_trainer.sh` runs all three frameworks and prints the ratios.

The network is the lab's (see `src/train/model.rs`): Conv1 5x5/2 1->100,
ReLU, max-pool 2x2, Conv2 5x5/2 100->200, ReLU, max-pool, Conv3 3x3
200->300, ReLU, conv4 3x3 300->300, ReLU, score_classes 1x1 300->2,
upscore transposed 31x31/16 2->2 to 256x256; no biases; weights
truncated-normal(0.1); per-pixel softmax cross-entropy averaged over all
pixels; plain SGD (lr 0.01). PyTorch uses NCHW with TensorFlow's asymmetric
SAME padding written out (`F.pad` before the stride-2 convolutions, and
`conv_transpose2d(padding=7)` cropped to 256, as tbseg does); TensorFlow uses
NHWC and its own `padding="SAME"`.

What is timed, in every framework:

* step: forward, loss, gradients, SGD update, and reading the loss back as a
  Python float (which waits for the device), after `--warmup` untimed steps
  (for TensorFlow these include the tracing of the `tf.function`). The
  images are already tensors on the device, taken in the epoch's shuffled
  order.
* phases (PyTorch on the CPU only): `phases_median_ms` and `phases_mean_ms`
  split the step at tbseg's phase boundaries: data (the batch gather,
  outside the step), forward, loss, backward, guard (PyTorch has no
  divergence guard; this is its read of the loss to the host, which tbseg's
  guard includes), update. A `tf.function` runs as one graph, so
  TensorFlow's step cannot be split.
* epoch: wall time from opening the TFRecord file to the end of the last
  step of one epoch on a freshly initialised model: reading and decoding
  every record, the shuffle, converting to tensors, and the loop of
  `tbseg train` -- every 100 steps (step 0 included) one extra example is
  consumed and run forward without gradients, as the lab's summary op did,
  so 234 examples make 231 steps.

How the data are read:

* TensorFlow: `tf.data.TFRecordDataset` (which checks the CRC32C of every
  record) -> `tf.io.parse_single_example` -> `decode_raw` int64 -> float32
  / 1024, label uint8 -> int32 -> `shuffle` with a buffer holding the whole
  file -> `batch`. The pipeline's private thread pool gets `--threads`
  threads.
* PyTorch: PyTorch has no TFRecord reader, and its venv has no protobuf, so
  this script reads the framing with `struct` and walks the protobuf wire
  format by hand (it only needs two bytes fields), then `numpy.frombuffer`
  and `torch.from_numpy`; the whole file is read into tensors first, as
  tbseg does, and shuffled with `torch.randperm`. It does not verify the
  CRCs (a pure-Python CRC32C over 138 MB would dominate the epoch), which
  favours PyTorch slightly; tbseg and TensorFlow verify them.
"""

import argparse
import json
import os
import struct
import sys
import time

SIZE = 256
SUMMARY_EVERY = 100
TRAIN_FILE = "train_images.tfrecords"


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--framework", choices=["torch", "tf"], required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--data_dir", "--data-dir", default="data")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--no-epoch", dest="epoch", action="store_false")
    p.add_argument("--batch_size", "--batch-size", type=int, default=1)
    p.add_argument("--learning_rate", "--learning-rate", type=float, default=0.01)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train_epochs", "--train-epochs", type=int, default=0)
    p.add_argument("--logdir", default=None)
    return p.parse_args()


def stats_ms(seconds):
    s = sorted(seconds)
    n = len(s)
    median = s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2
    return median * 1e3, sum(s) / n * 1e3, s[0] * 1e3


def stream_steps(n_examples, batch):
    """(train positions, summary position or None) per step of one epoch,
    exactly as tbseg's ExampleStream: a step exists only if its batch (and,
    on a summary step, the extra batch) is in the epoch."""
    steps = []
    step = 0
    while True:
        pos = (step + -(-step // SUMMARY_EVERY)) * batch
        summary = pos + batch if step % SUMMARY_EVERY == 0 else None
        end = (summary if summary is not None else pos) + batch
        if end > n_examples:
            return steps
        steps.append((pos, summary))
        step += 1


# --------------------------------------------------------------------------
# TFRecord reading without TensorFlow (PyTorch side)


def _varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            return value, i
        shift += 7


def _fields(buf):
    """Yields (field number, wire type, value) of a protobuf message; value
    is a memoryview for length-delimited fields."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        wire = key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 2:
            length, i = _varint(buf, i)
            value = buf[i : i + length]
            i += length
        elif wire == 1:
            value, i = buf[i : i + 8], i + 8
        elif wire == 5:
            value, i = buf[i : i + 4], i + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield key >> 3, wire, value


def _example_bytes(record, wanted):
    """{key: bytes} for the bytes_list features `wanted` of a tf.train.Example."""
    out = {}
    for f, _, features in _fields(record):  # Example.features = 1
        if f != 1:
            continue
        for g, _, entry in _fields(features):  # Features.feature = 1 (map entry)
            if g != 1:
                continue
            key = value = None
            for h, _, v in _fields(entry):
                if h == 1:
                    key = bytes(v).decode()
                elif h == 2:
                    value = v
            if key in wanted:
                for k, _, blist in _fields(value):  # Feature.bytes_list = 1
                    if k == 1:
                        for m, _, b in _fields(blist):  # BytesList.value = 1
                            if m == 1:
                                out[key] = b
    return out


def count_records(path):
    """The number of records in a TFRecord file, from its length fields
    alone (no CRC checks, no reading of the data)."""
    count = 0
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        while f.tell() < size:
            (length,) = struct.unpack("<Q", f.read(8))
            f.seek(4 + length + 4, os.SEEK_CUR)
            count += 1
    return count


def read_tfrecord_numpy(path):
    import numpy as np

    images, labels = [], []
    with open(path, "rb") as f:
        data = memoryview(f.read())
    i = 0
    while i < len(data):
        (length,) = struct.unpack_from("<Q", data, i)
        record = data[i + 12 : i + 12 + length]
        i += 12 + length + 4
        fields = _example_bytes(record, ("img_raw", "image_raw", "label_raw"))
        raw = fields.get("img_raw", fields.get("image_raw"))
        images.append(np.frombuffer(raw, "<i8").astype(np.float32) * (1.0 / 1024.0))
        labels.append(np.frombuffer(fields["label_raw"], np.uint8))
    return images, labels


# --------------------------------------------------------------------------
# PyTorch


def run_torch(args, path):
    import numpy as np
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    if args.device == "cuda" and not torch.cuda.is_available():
        sys.exit("bench_step.py: --device cuda but torch sees no CUDA device")
    device = torch.device(args.device)

    def new_model(seed):
        torch.manual_seed(seed)
        shapes = [
            [100, 1, 5, 5],
            [200, 100, 5, 5],
            [300, 200, 3, 3],
            [300, 300, 3, 3],
            [2, 300, 1, 1],
            [2, 2, 31, 31],  # conv_transpose: [in, out, kh, kw]
        ]
        weights = []
        for shape in shapes:
            w = torch.empty(shape)
            torch.nn.init.trunc_normal_(w, std=0.1, a=-0.2, b=0.2)
            weights.append(w.to(device).requires_grad_())
        return weights

    def forward(w, x):
        # TensorFlow SAME for 5x5 stride 2 on even sizes: 1 before, 2 after.
        x = F.conv2d(F.pad(x, (1, 2, 1, 2)), w[0], stride=2).relu()
        x = F.max_pool2d(x, 2, 2)
        x = F.conv2d(F.pad(x, (1, 2, 1, 2)), w[1], stride=2).relu()
        x = F.max_pool2d(x, 2, 2)
        x = F.conv2d(x, w[2], padding=1).relu()
        x = F.conv2d(x, w[3], padding=1).relu()
        x = F.conv2d(x, w[4])
        x = F.conv_transpose2d(x, w[5], stride=16, padding=7)
        return x[:, :, :SIZE, :SIZE]

    def train_step(w, opt, x, y, phases=None):
        # The phase boundaries of tbseg's loop (src/train/timing.rs), where
        # the clock is read only when `phases` (a dict of seconds) is given.
        # PyTorch has no divergence guard: its "guard" is the read of the
        # loss to the host, which tbseg's guard includes.
        clock = time.perf_counter if phases is not None else None
        t0 = clock and clock()
        opt.zero_grad()
        logits = forward(w, x)
        t1 = clock and clock()
        loss = F.cross_entropy(logits, y)
        del logits
        t2 = clock and clock()
        loss.backward()
        t3 = clock and clock()
        value = loss.item()
        t4 = clock and clock()
        opt.step()
        if clock:
            t5 = clock()
            for name, seconds in zip(PHASES[1:6], (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4)):
                phases[name] = phases.get(name, 0.0) + seconds
        return value

    def summary_forward(w, x, y):
        with torch.no_grad():
            return F.cross_entropy(forward(w, x), y).item()

    def load(path):
        np_images, np_labels = read_tfrecord_numpy(path)
        images = torch.from_numpy(np.stack(np_images)).reshape(-1, 1, SIZE, SIZE)
        labels = torch.from_numpy(np.stack(np_labels)).reshape(-1, SIZE, SIZE).long()
        return images.to(device), labels.to(device)

    b = args.batch_size

    # Step times.
    images, labels = load(path)
    n = images.shape[0]
    gen = torch.Generator().manual_seed(args.seed)
    order = torch.cat([torch.randperm(n, generator=gen) for _ in range(1 + (args.warmup + args.steps) * b // n + 1)])
    w = new_model(args.seed)
    opt = torch.optim.SGD(w, lr=args.learning_rate)
    times = []
    step_phases = []
    for s in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        idx = order[s * b : (s + 1) * b].to(device)
        x, y = images.index_select(0, idx), labels.index_select(0, idx)
        phases = {"data": time.perf_counter() - t0}
        t0 = time.perf_counter()
        train_step(w, opt, x, y, phases if args.device == "cpu" else None)
        if s >= args.warmup:
            times.append(time.perf_counter() - t0)
            step_phases.append(phases)
    result = {"framework": "pytorch", "version": torch.__version__}
    result.update(common(args, times))
    if args.device == "cpu":
        # On a GPU the phases would only time the queueing of the work.
        result.update(phase_fields(step_phases))
    del images, labels

    if args.epoch:
        w = new_model(args.seed)
        opt = torch.optim.SGD(w, lr=args.learning_rate)
        t0 = time.perf_counter()
        images, labels = load(path)
        data_s = time.perf_counter() - t0
        n = images.shape[0]
        order = torch.randperm(n, generator=torch.Generator().manual_seed(args.seed)).to(device)
        loss = float("nan")
        steps = stream_steps(n, b)
        for pos, summary in steps:
            idx = order[pos : pos + b]
            loss = train_step(w, opt, images.index_select(0, idx), labels.index_select(0, idx))
            if summary is not None:
                idx = order[summary : summary + b]
                summary_forward(w, images.index_select(0, idx), labels.index_select(0, idx))
        result.update(epoch_fields(time.perf_counter() - t0, data_s, len(steps), n, loss))
    return result


# --------------------------------------------------------------------------
# TensorFlow


def run_tf(args, path):
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    if args.device == "cuda":
        if not tf.config.list_physical_devices("GPU"):
            sys.exit("bench_step.py: --device cuda but TensorFlow sees no GPU (tensorflow-cpu?)")
        device = "/GPU:0"
    else:
        tf.config.set_visible_devices([], "GPU")
        device = "/CPU:0"
    b = args.batch_size
    lr = args.learning_rate

    def new_model(seed):
        tf.random.set_seed(seed)
        shapes = [
            [5, 5, 1, 100],
            [5, 5, 100, 200],
            [3, 3, 200, 300],
            [3, 3, 300, 300],
            [1, 1, 300, 2],
            [31, 31, 2, 2],  # conv2d_transpose: [kh, kw, out, in]
        ]
        with tf.device(device):
            return [tf.Variable(tf.random.truncated_normal(s, stddev=0.1)) for s in shapes]

    def forward(w, x):
        x = tf.nn.relu(tf.nn.conv2d(x, w[0], 2, "SAME"))
        x = tf.nn.max_pool2d(x, 2, 2, "SAME")
        x = tf.nn.relu(tf.nn.conv2d(x, w[1], 2, "SAME"))
        x = tf.nn.max_pool2d(x, 2, 2, "SAME")
        x = tf.nn.relu(tf.nn.conv2d(x, w[2], 1, "SAME"))
        x = tf.nn.relu(tf.nn.conv2d(x, w[3], 1, "SAME"))
        x = tf.nn.conv2d(x, w[4], 1, "SAME")
        shape = [tf.shape(x)[0], SIZE, SIZE, 2]
        return tf.nn.conv2d_transpose(x, w[5], shape, 16, "SAME")

    def xent(logits, y):
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))

    def make_fns(w):
        @tf.function(reduce_retracing=True)
        def train_step(x, y):
            with tf.GradientTape() as tape:
                loss = xent(forward(w, x), y)
            for v, g in zip(w, tape.gradient(loss, w)):
                v.assign_sub(lr * g)
            return loss

        @tf.function(reduce_retracing=True)
        def summary_forward(x, y):
            return xent(forward(w, x), y)

        return train_step, summary_forward

    def parse(record):
        f = tf.io.parse_single_example(
            record,
            {
                "img_raw": tf.io.FixedLenFeature([], tf.string),
                "label_raw": tf.io.FixedLenFeature([], tf.string),
            },
        )
        image = tf.cast(tf.io.decode_raw(f["img_raw"], tf.int64), tf.float32) * (1.0 / 1024.0)
        label = tf.cast(tf.io.decode_raw(f["label_raw"], tf.uint8), tf.int32)
        return tf.reshape(image, [SIZE, SIZE, 1]), tf.reshape(label, [SIZE, SIZE])

    n = count_records(path)

    def dataset(seed, epochs=None):
        options = tf.data.Options()
        options.threading.private_threadpool_size = args.threads
        ds = tf.data.TFRecordDataset(path).map(parse)
        if epochs is None:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=False)
        else:
            ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True).repeat(epochs)
        return ds.batch(b).with_options(options)

    if args.train_epochs:
        with tf.device(device):
            return train_command(args, n, dataset, new_model, make_fns, tf)

    with tf.device(device):
        # Step times: the epoch's examples as tensors on the device first.
        examples = [(tf.identity(x), tf.identity(y)) for x, y in dataset(args.seed)]
        w = new_model(args.seed)
        train_step, _ = make_fns(w)
        times = []
        for s in range(args.warmup + args.steps):
            x, y = examples[s % len(examples)]
            t0 = time.perf_counter()
            float(train_step(x, y))
            if s >= args.warmup:
                times.append(time.perf_counter() - t0)
        result = {"framework": "tensorflow", "version": tf.__version__}
        result.update(common(args, times))
        del examples

        if args.epoch:
            w = new_model(args.seed)
            train_step, summary_forward = make_fns(w)
            # Trace outside the clock, as the step timing's warm-up did for
            # tbseg and PyTorch; tracing is a one-off cost of tf.function.
            zero_x = tf.zeros([b, SIZE, SIZE, 1])
            zero_y = tf.zeros([b, SIZE, SIZE], tf.int32)
            summary_forward.get_concrete_function(zero_x, zero_y)
            train_step.get_concrete_function(zero_x, zero_y)
            t0 = time.perf_counter()
            it = iter(dataset(args.seed))
            first = next(it)
            data_s = time.perf_counter() - t0  # the shuffle buffer holds the whole file
            # The stream's positions are consecutive: each step's batch, then
            # on a summary step the extra batch, so the iterator is read in order.
            batches = iter([first])
            loss = float("nan")
            steps = stream_steps(n, b)
            for _, summary in steps:
                x, y = next(batches, None) or next(it)
                loss = float(train_step(x, y))
                if summary is not None:
                    sx, sy = next(it)
                    float(summary_forward(sx, sy))
            result.update(epoch_fields(time.perf_counter() - t0, data_s, len(steps), n, loss))
    return result


def train_command(args, n, dataset, new_model, make_fns, tf):
    """`--train_epochs N --logdir DIR`: what `tbseg train --model cnn
    --num_epochs N` does, as one TensorFlow program, for timing as a whole
    command (start-up included) by `bench_trainer.sh --commands`: the stream
    of N reshuffled epochs with the extra summary batch every 100 steps, the
    loss and learning-rate scalars then and the weight histograms and input
    image every 500 steps (tbseg's defaults), the `OUTPUT:` line, and a
    checkpoint at step 0 and at the end."""
    b = args.batch_size
    w = new_model(args.seed)
    train_step, summary_forward = make_fns(w)
    global_step = tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(global_step=global_step, **{f"w{i}": v for i, v in enumerate(w)})
    manager = tf.train.CheckpointManager(checkpoint, args.logdir, max_to_keep=5)
    writer = tf.summary.create_file_writer(args.logdir)
    it = iter(dataset(args.seed, args.train_epochs))
    steps = stream_steps(n * args.train_epochs, b)
    loss = float("nan")
    with writer.as_default():
        for step, (_, summary) in enumerate(steps):
            x, y = next(it)
            t0 = time.perf_counter()
            loss = float(train_step(x, y))
            seconds = time.perf_counter() - t0
            if summary is not None:
                sx, sy = next(it)
                tf.summary.scalar("1cnn_cross_entropy_mean", float(summary_forward(sx, sy)), step)
                tf.summary.scalar("1learning_rate", args.learning_rate, step)
                if step % 500 == 0:
                    tf.summary.image("images/input", sx[:1], step)
                    for i, v in enumerate(w):
                        tf.summary.histogram(f"w{i}", v, step)
                print(f"OUTPUT: Step {step}: loss = {loss:.3f} ({seconds:.3f} sec)", flush=True)
            global_step.assign(step + 1)
            if step % 1000 == 0:
                manager.save(checkpoint_number=step)
    manager.save(checkpoint_number=len(steps))
    writer.close()
    return {"framework": "tensorflow", "version": tf.__version__, "train_epochs": args.train_epochs,
            "steps": len(steps), "last_loss": round(loss, 6)}


# --------------------------------------------------------------------------


def common(args, times):
    median, mean, low = stats_ms(times)
    return {
        "device": args.device,
        "threads": args.threads,
        "model": "cnn",
        "batch": args.batch_size,
        "warmup": args.warmup,
        "steps": len(times),
        "step_median_ms": round(median, 3),
        "step_mean_ms": round(mean, 3),
        "step_min_ms": round(low, 3),
    }


PHASES = ["data", "forward", "loss", "backward", "guard", "update", "logging"]


def phase_fields(step_phases):
    """Per-phase medians and means in ms, as `tbseg bench-step` prints them
    (the phases a framework cannot time are left out)."""
    out = {"phases_median_ms": {}, "phases_mean_ms": {}}
    for name in PHASES:
        values = [p[name] for p in step_phases if name in p]
        if len(values) == len(step_phases) and values:
            median, mean, _ = stats_ms(values)
            out["phases_median_ms"][name] = round(median, 3)
            out["phases_mean_ms"][name] = round(mean, 3)
    return out


def epoch_fields(epoch_s, data_s, steps, examples, loss):
    return {
        "epoch_s": round(epoch_s, 4),
        "epoch_data_s": round(data_s, 4),
        "epoch_steps": steps,
        "epoch_examples": examples,
        "epoch_last_loss": round(loss, 6),
    }


def main():
    args = parse_args()
    if args.threads < 1 or args.steps < 1 or args.warmup < 0 or args.batch_size < 1:
        sys.exit("bench_step.py: --threads, --steps and --batch_size must be positive")
    if args.train_epochs and (args.framework != "tf" or not args.logdir):
        sys.exit("bench_step.py: --train_epochs needs --framework tf and --logdir")
    path = os.path.join(args.data_dir, TRAIN_FILE)
    if not os.path.isfile(path):
        sys.exit(f"bench_step.py: {path}: not found (tbseg data synth --out {args.data_dir})")
    run = run_torch if args.framework == "torch" else run_tf
    print(json.dumps(run(args, path)), flush=True)


if __name__ == "__main__":
    main()
