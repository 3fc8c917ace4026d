"""Side-by-side figures for BENCHMARKS.md: scalars/s from a Python loop
(tbseg vs torch.utils.tensorboard), images/s, and reading 1 M scalars into
pandas (tbseg.read vs tbparse, when installed, and TensorBoard's
EventAccumulator). Run with the package venv:
python python/bench/bench.py [N_SCALARS] [read] ("read": only the
reading comparison)."""

import os
import sys
import tempfile
import time

import numpy as np

import tbseg


def scalars_per_second(writer_class, logdir, n):
    writer = writer_class(logdir)
    start = time.perf_counter()
    for step in range(n):
        writer.add_scalar("loss", 0.5, step)
    writer.flush()
    elapsed = time.perf_counter() - start
    writer.close()
    return n / elapsed


def images_per_second(writer_class, logdir, image, n):
    writer = writer_class(logdir)
    start = time.perf_counter()
    for step in range(n):
        writer.add_image("img", image, step)
    returned = time.perf_counter() - start
    writer.flush()
    done = time.perf_counter() - start
    writer.close()
    return n / returned, n / done


def read_comparison(logdir, n):
    """Seconds to load `n` scalars of one tag into pandas, each reader in
    turn, tbseg.read best of 3 (the others take seconds, once)."""
    import pandas as pd
    from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
    from tensorboard.util import tensor_util

    times = {}
    best = best_cpu = float("inf")
    for _ in range(3):
        start, start_cpu = time.perf_counter(), time.process_time()
        frame = tbseg.read(logdir)
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - start_cpu)
    assert len(frame) == n
    times["tbseg.read"] = best
    # CPU time of all the process's threads: what the load cannot inflate
    # by taking the cores away, only by contention.
    print(f"read {n:,} scalars into pandas: tbseg.read used {best_cpu:.3f} s of CPU")
    start = time.perf_counter()
    frame = tbseg.read(logdir, tags="missing")
    times["tbseg.read, every tag filtered out"] = time.perf_counter() - start
    try:
        from tbparse import SummaryReader
    except ImportError:
        print("tbparse is not installed: skipped")
    else:
        start = time.perf_counter()
        # tbseg writes TensorBoard's tensor form, which tbparse reads as
        # tensors (its `scalars` are the legacy simple_value).
        frame = SummaryReader(logdir, event_types={"tensors"}).tensors
        times["tbparse"] = time.perf_counter() - start
        assert len(frame) == n
    start = time.perf_counter()
    acc = EventAccumulator(logdir, size_guidance={"tensors": 0})
    acc.Reload()
    events = acc.Tensors("loss")
    pd.DataFrame({"step": [e.step for e in events], "wall_time": [e.wall_time for e in events],
                  "value": [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events]})
    times["EventAccumulator"] = time.perf_counter() - start
    ours = times["tbseg.read"]
    for name, seconds in times.items():
        print(f"read {n:,} scalars into pandas: {name} {seconds:.3f} s (x{seconds / ours:.1f} tbseg.read)")


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    if sys.argv[2:] == ["read"]:
        print(f"load average before: {os.getloadavg()}")
        with tempfile.TemporaryDirectory() as tmp:
            writer = tbseg.SummaryWriter(f"{tmp}/tbseg")
            for step in range(n):
                writer.add_scalar("loss", 0.5, step)
            writer.close()
            read_comparison(f"{tmp}/tbseg", n)
        print(f"load average after: {os.getloadavg()}")
        return
    from torch.utils.tensorboard import SummaryWriter as TorchWriter

    print(f"load average before: {os.getloadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        small = min(n, 50_000)
        t = scalars_per_second(TorchWriter, f"{tmp}/torch", small)
        ours = scalars_per_second(tbseg.SummaryWriter, f"{tmp}/tbseg", n)
        print(f"add_scalar: tbseg {ours:,.0f}/s ({1e6 / ours:.2f} us/call, {n:,} calls); "
              f"torch {t:,.0f}/s ({1e6 / t:.2f} us/call, {small:,} calls); x{ours / t:.1f}")
        rng = np.random.default_rng(0)
        for name, image in (("uint8 HWC->CHW 256x256", rng.integers(0, 256, (3, 256, 256), dtype=np.uint8)),
                            ("float CHW 256x256", rng.random((3, 256, 256), dtype=np.float32))):
            t_ret, t_done = images_per_second(TorchWriter, f"{tmp}/timg", image, 100)
            o_ret, o_done = images_per_second(tbseg.SummaryWriter, f"{tmp}/oimg", image, 100)
            print(f"add_image {name}: tbseg returns at {o_ret:,.0f}/s, written {o_done:,.0f}/s; "
                  f"torch {t_done:,.0f}/s")
        read_comparison(f"{tmp}/tbseg", n)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
