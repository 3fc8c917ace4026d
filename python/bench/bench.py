"""Side-by-side figures for BENCHMARKS.md: scalars/s from a Python loop
(tbseg vs torch.utils.tensorboard), images/s, and reading 1 M scalars into
pandas (tbseg.read vs TensorBoard's EventAccumulator). Run with the
package venv: python python/bench/bench.py [N_SCALARS]."""

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


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
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
        start = time.perf_counter()
        frame = tbseg.read(f"{tmp}/tbseg")
        ours = time.perf_counter() - start
        assert len(frame) == n
        import pandas as pd
        from tensorboard.backend.event_processing.plugin_event_accumulator import EventAccumulator
        from tensorboard.util import tensor_util

        start = time.perf_counter()
        acc = EventAccumulator(f"{tmp}/tbseg", size_guidance={"tensors": 0})
        acc.Reload()
        events = acc.Tensors("loss")
        pd.DataFrame({"step": [e.step for e in events], "wall_time": [e.wall_time for e in events],
                      "value": [float(tensor_util.make_ndarray(e.tensor_proto)) for e in events]})
        theirs = time.perf_counter() - start
        print(f"read {n:,} scalars into pandas: tbseg.read {ours:.3f} s; EventAccumulator {theirs:.2f} s; x{theirs / ours:.0f}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
