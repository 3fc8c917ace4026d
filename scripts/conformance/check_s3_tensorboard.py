"""TensorBoard's own Python loader reads a run that tbseg is still writing
to an S3 server.

Usage: check_s3_tensorboard.py LOGDIR_URL RUN EVENTS WRITER_PID

Runs in the environment of scripts/setup-s3.sh (tensorboard + boto3, no
TensorFlow), so TensorBoard reads through its own gfile with its S3 file
system, endpoint from S3_ENDPOINT, as `tensorboard --logdir s3://...` does.
Reloads the log directory like TensorBoard's reload loop and requires:
  1. the run listed and some, but not all, of its scalars read while the
     writer process is still alive;
  2. after the writer exits, every scalar, each step once, in order.
"""

import os
import sys
import time

from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.compat import tf
from tensorboard.util import tensor_util


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    # A zombie (exited, not yet reaped) still answers kill(0).
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def steps(multiplexer, run):
    if run not in multiplexer.Runs():
        return []
    try:
        events = multiplexer.Tensors(run, "loss")
    except KeyError:
        return []
    return [(e.step, float(tensor_util.make_ndarray(e.tensor_proto))) for e in events]


def main():
    url, run, total, pid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    fs = tf.io.gfile.get_filesystem(url)
    assert type(fs).__name__ == "S3FileSystem", f"TensorBoard reads {url} with {fs!r}"
    # Keep every point (TensorBoard's server samples 1000 per scalar tag).
    multiplexer = plugin_event_multiplexer.EventMultiplexer(size_guidance={"tensors": 0})
    seen_while_writing = 0
    reloads = 0
    while alive(pid):
        multiplexer.AddRunsFromDirectory(url)
        multiplexer.Reload()
        reloads += 1
        now = len(steps(multiplexer, run))
        if alive(pid):
            seen_while_writing = max(seen_while_writing, now)
        time.sleep(0.2)
    assert 0 < seen_while_writing < total, (
        f"while the writer ran, TensorBoard read {seen_while_writing} of {total} scalars"
    )
    multiplexer.AddRunsFromDirectory(url)
    multiplexer.Reload()
    final = steps(multiplexer, run)
    assert [s for s, _ in final] == list(range(total)), (
        f"after the writer exited: {len(final)} scalars, steps {final[:3]}...{final[-3:]}"
    )
    for step, value in final:
        assert abs(value - 1.0 / (1 + step)) < 1e-6, (step, value)
    print(
        f"TensorBoard listed {sorted(multiplexer.Runs())} and read {seen_while_writing}/{total} "
        f"scalars while the writer ran ({reloads} reloads), all {total} after it closed"
    )


if __name__ == "__main__":
    main()
