"""tensorboardX on the scalar workload of benches/summary.rs.

Usage (after scripts/setup-bench-python.sh):
    "$TBSEG_CACHE/bench-venv/bin/python" scripts/bench_tensorboardx.py [N] [REPEATS]

Times N `add_scalar("loss", value, step)` calls plus `close()` (everything
on disk) in a fresh temporary logdir, REPEATS times, and prints the median
events/s.
"""

import statistics
import sys
import tempfile
import time

import tensorboardX
from tensorboardX import SummaryWriter


def run_once(n):
    with tempfile.TemporaryDirectory() as logdir:
        writer = SummaryWriter(logdir)
        start = time.perf_counter()
        for step in range(n):
            writer.add_scalar("loss", float(step), step)
        writer.close()
        return n / (time.perf_counter() - start)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    rates = [run_once(n) for _ in range(repeats)]
    print(f"tensorboardX {tensorboardX.__version__}: {n} scalars, rates {[round(r) for r in rates]}")
    print(f"median events/s: {statistics.median(rates):.0f}")


if __name__ == "__main__":
    main()
