"""Resumed runs, TensorBoard's view against tbseg's.

Usage: check_reader.py write LOGDIR
       check_reader.py compare LOGDIR TBSEG_TSV

`write` uses TensorBoard's own EventFileWriter to write two runs:
- `resumed`: a first process logs steps 0..7 and "crashes" (its file just
  ends); the second process restarts from the checkpoint at step 5 and, as
  tensorboardX's purge_step does, writes SessionLog START at step 5 first,
  then logs steps 5..9 with different values;
- `restarted_twice`: the same with two restarts (at 6, then at 3).
`compare` loads each run with TensorBoard's EventAccumulator (everything
kept, orphaned data purged: TensorBoard's defaults) and checks that tbseg's
read_logdir output holds exactly the same (step, value) points per tag.
"""

import math
import os
import sys
import time

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

RUNS = {
    # run: list of processes; each process: (restart step or None, steps, scale)
    "resumed": [(None, range(0, 8), 1.0), (5, range(5, 10), 10.0)],
    "restarted_twice": [(None, range(0, 10), 1.0), (6, range(6, 9), 2.0), (3, range(3, 12), 3.0)],
}


def scalar_event(tag, step, value):
    summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=value)])
    return event_pb2.Event(wall_time=time.time(), step=step, summary=summary)


def write(logdir):
    for run, processes in RUNS.items():
        run_dir = os.path.join(logdir, run)
        for index, (restart, steps, scale) in enumerate(processes):
            # The suffix keeps the files in process order even within one second.
            writer = EventFileWriter(run_dir, filename_suffix=f".{index}")
            if restart is not None:
                writer.add_event(
                    event_pb2.Event(
                        wall_time=time.time(),
                        step=restart,
                        session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START),
                    )
                )
            for step in steps:
                writer.add_event(scalar_event("loss", step, scale / (1 + step)))
                if step % 2 == 0:
                    writer.add_event(scalar_event("acc", step, scale * step / 10))
            writer.close()


def compare(logdir, tsv):
    ours = {}
    with open(tsv) as f:
        for line in f:
            run, tag, step, value = line.rstrip("\n").split("\t")
            ours.setdefault((run, tag), []).append((int(step), np.float32(value)))
    failures = 0
    for run in RUNS:
        acc = event_accumulator.EventAccumulator(
            os.path.join(logdir, run), size_guidance={event_accumulator.SCALARS: 0}
        )
        acc.Reload()
        for tag in acc.Tags()["scalars"]:
            theirs = [(e.step, np.float32(e.value)) for e in acc.Scalars(tag)]
            mine = ours.pop((run, tag), [])
            if theirs != mine:
                failures += 1
                print(f"{run}/{tag}: TensorBoard keeps {theirs}\n  tbseg keeps {mine}", file=sys.stderr)
            steps = [s for s, _ in theirs]
            if len(set(steps)) != len(steps):
                failures += 1
                print(f"{run}/{tag}: duplicate steps {steps}", file=sys.stderr)
        print(f"{run}: {', '.join(f'{t} {len(acc.Scalars(t))} points' for t in acc.Tags()['scalars'])}")
    for (run, tag), points in ours.items():
        failures += 1
        print(f"{run}/{tag}: only tbseg has {points}", file=sys.stderr)
    if failures:
        sys.exit(f"check_reader: {failures} mismatches")
    print("check_reader: tbseg's reader keeps exactly TensorBoard's points (purges included)")


if __name__ == "__main__":
    if sys.argv[1] == "write":
        write(sys.argv[2])
    else:
        compare(sys.argv[2], sys.argv[3])
