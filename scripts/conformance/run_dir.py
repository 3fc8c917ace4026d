"""Where a run lives, for the checks that load its parent as TensorBoard's
logdir (as `tensorboard --logdir` on a folder of runs)."""

import os


def split_run(logdir):
    """Returns (logdir, parent, run) for a local path or an object-store URL.

    A URL (s3://bucket/runs/run1) is kept as it is: TensorBoard's gfile
    reads it, in the environment of scripts/setup-s3.sh. A local path is
    made absolute.
    """
    if "://" in logdir:
        parent, run = logdir.rstrip("/").rsplit("/", 1)
        return logdir, parent, run
    logdir = os.path.abspath(logdir)
    return logdir, os.path.dirname(logdir), os.path.basename(logdir)
