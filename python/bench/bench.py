"""Side-by-side figures for BENCHMARKS.md, every writer and reader in one
process, one after the other:

- scalars/s and µs per call from a Python loop (`add_scalar`, then
  `flush`): tbseg, torch.utils.tensorboard, tensorboardX and tboard (the
  last two when installed);
- images/s, 256×256 `uint8` HWC and `float32` CHW: tbseg and torch;
- reading N scalars of one tag into pandas: `tbseg.read`, tbparse (when
  installed) and TensorBoard's `EventAccumulator`, with `tbseg.read`'s
  stages (the Rust decode, the DataFrame build).

Run through python/bench/run.sh (which makes the environment with the
comparison packages), or with any venv that has tbseg:
python python/bench/bench.py [N_SCALARS] [read] ("read": only the
reading comparison)."""

import os
import sys
import tempfile
import time

import numpy as np

import tbseg

# The others write 1 M scalars in minutes; this many calls give their rate.
OTHERS_CALLS = 50_000
IMAGE_CALLS = 100


def scalars_per_second(make_writer, logdir, n):
    writer = make_writer(logdir)
    start = time.perf_counter()
    for step in range(n):
        writer.add_scalar("loss", 0.5, step)
    writer.flush()
    elapsed = time.perf_counter() - start
    writer.close()
    return n / elapsed


def tboard_writer():
    """tboard's writer behind `add_scalar(tag, value, step)`, or None."""
    try:
        import tboard
    except ImportError:
        return None

    class Writer:
        def __init__(self, logdir):
            os.makedirs(logdir, exist_ok=True)
            self.inner = tboard.EventWriter(logdir)

        def add_scalar(self, tag, value, step):
            self.inner.add_scalar(tag, value, step)

        def flush(self):
            self.inner.flush()

        def close(self):
            self.inner.flush()

    return Writer


def images_per_second(writer_class, logdir, image, dataformats, n):
    writer = writer_class(logdir)
    start = time.perf_counter()
    for step in range(n):
        writer.add_image("img", image, step, dataformats=dataformats)
    returned = time.perf_counter() - start
    writer.flush()
    done = time.perf_counter() - start
    writer.close()
    return n / returned, n / done


def read_comparison(logdir, n, rows):
    """Seconds to load `n` scalars of one tag into pandas, each reader in
    turn: tbseg.read best of 3 (the others take a minute or more, once)."""
    import pandas as pd
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    from tbseg import reader
    from tbseg._native import read_columns

    times = {}
    best = best_cpu = best_decode = best_frame = float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        frame = tbseg.read(logdir)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
        # The stages, timed apart: the Rust decode into column buffers,
        # then the DataFrame around them.
        start = time.perf_counter()
        cols = read_columns(logdir, ["scalars"], None, None)
        decoded = time.perf_counter()
        reader._pandas(reader._columns(cols, ["scalars"]), cols["runs"], cols["tags"])
        best_decode = min(best_decode, decoded - start)
        best_frame = min(best_frame, time.perf_counter() - decoded)
    assert len(frame) == n
    start = time.perf_counter()
    with open(next(os.scandir(logdir)).path, "rb") as file:
        size = len(file.read())
    file_read = time.perf_counter() - start
    times["`tbseg.read(logdir)` (best of 3)"] = best
    rows.append(f"tbseg.read: {best_cpu:.3f} s of CPU (all threads); stages: decode in Rust {best_decode:.3f} s, "
                f"DataFrame {best_frame * 1e3:.1f} ms; reading the {size / 1e6:.0f} MB file alone {file_read:.3f} s")
    start = time.perf_counter()
    tbseg.read(logdir, tags="missing")
    times['`tbseg.read(logdir, tags="missing")` (every record read, none kept)'] = time.perf_counter() - start
    try:
        from tbparse import SummaryReader
    except ImportError:
        rows.append("tbparse is not installed: skipped")
    else:
        start = time.perf_counter()
        # tbseg writes TensorBoard's tensor form, which tbparse reads as
        # tensors (its `scalars` are the legacy simple_value).
        frame = SummaryReader(logdir, event_types={"tensors"}).tensors
        times['tbparse `SummaryReader(logdir, event_types={"tensors"}).tensors`'] = time.perf_counter() - start
        assert len(frame) == n
    start = time.perf_counter()
    acc = EventAccumulator(logdir, size_guidance={"tensors": 0})
    acc.Reload()
    events = acc.Tensors("loss")
    frame = pd.DataFrame({"step": [e.step for e in events], "wall_time": [e.wall_time for e in events],
                          "value": [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events]})
    times["`EventAccumulator` (plugin, tensors kept) + DataFrame"] = time.perf_counter() - start
    assert len(frame) == n
    rows.append("")
    rows.append(f"| reading {n:,} scalars into pandas | seconds | × `tbseg.read` |")
    rows.append("|---|---|---|")
    for name, seconds in times.items():
        rows.append(f"| {name} | {seconds:.3f} | {seconds / best:.1f} |")


def write_comparison(tmp, n, rows):
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    writers = [("tbseg", tbseg.SummaryWriter, n), ("torch.utils.tensorboard", TorchWriter, OTHERS_CALLS)]
    try:
        from tensorboardX import SummaryWriter as XWriter
    except ImportError:
        rows.append("tensorboardX is not installed: skipped")
    else:
        writers.append(("tensorboardX", XWriter, OTHERS_CALLS))
    tboard = tboard_writer()
    if tboard is None:
        rows.append("tboard is not installed: skipped")
    else:
        writers.append(("tboard", tboard, OTHERS_CALLS))
    rates = {name: (scalars_per_second(make, f"{tmp}/{i}", calls), calls)
             for i, (name, make, calls) in enumerate(writers)}
    rows.append("")
    rows.append("| `add_scalar` from a Python loop, then `flush` | scalars/s | µs/call | calls | tbseg × |")
    rows.append("|---|---|---|---|---|")
    ours = rates["tbseg"][0]
    for name, (rate, calls) in rates.items():
        rows.append(f"| {name} | {rate:,.0f} | {1e6 / rate:.2f} | {calls:,} | {ours / rate:.1f} |")
    rng = np.random.default_rng(0)
    rows.append("")
    rows.append(f"| `add_image` 256×256, {IMAGE_CALLS} calls | tbseg returns at | tbseg written | torch written "
                "| tbseg × |")
    rows.append("|---|---|---|---|---|")
    for name, image, dataformats in (
        ("`uint8` HWC", rng.integers(0, 256, (256, 256, 3), dtype=np.uint8), "HWC"),
        ("`float32` CHW", rng.random((3, 256, 256), dtype=np.float32), "CHW"),
    ):
        _, theirs = images_per_second(TorchWriter, f"{tmp}/timg", image, dataformats, IMAGE_CALLS)
        returned, done = images_per_second(tbseg.SummaryWriter, f"{tmp}/oimg", image, dataformats, IMAGE_CALLS)
        rows.append(f"| {name} | {returned:,.0f}/s | {done:,.0f}/s | {theirs:,.1f}/s | {done / theirs:.0f} |")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    rows = [f"load average before: {os.getloadavg()}"]
    with tempfile.TemporaryDirectory() as tmp:
        if sys.argv[2:] != ["read"]:
            write_comparison(tmp, n, rows)
        writer = tbseg.SummaryWriter(f"{tmp}/read")
        for step in range(n):
            writer.add_scalar("loss", 0.5, step)
        writer.close()
        read_comparison(f"{tmp}/read", n, rows)
    rows.append("")
    rows.append(f"load average after: {os.getloadavg()}")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
