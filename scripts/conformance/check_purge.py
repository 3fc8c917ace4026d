"""A run killed with kill -9 and resumed with --resume shows one curve in
both of TensorBoard's loaders, whatever wrote the run before the kill.

Usage: check_purge.py TBSEG WORKDIR

WORKDIR/data holds a tiny synthetic set (`tbseg data synth`). Two runs go
into WORKDIR/logs:
- `tbseg-first`: `tbseg train` is killed with SIGKILL once its event file
  holds summaries two steps past its latest checkpoint (orphans: the
  resumed run logs those steps again), then resumed with --resume;
- `torch-first`: a copy of the killed run whose events were rewritten by
  TensorBoard's own EventFileWriter, which torch's SummaryWriter writes
  through (no SessionLog START), then resumed by tbseg.
TensorBoard's server then has to show, under --load_fast=true and false,
every scalar of both runs (and their eval sub-runs) with strictly
increasing steps, and the loss at every step exactly once.

A control first shows that the check can fail: on the killed torch-first
folder, a resumed file with a single START (what tbseg wrote before, and
what torch's purge_step writes) leaves the orphans in the Python loader's
view, and one with two STARTs does not.
"""

import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import time

from tensorboard.backend.event_processing import plugin_event_accumulator as ea
from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_tb_server  # noqa: E402

# A summary (and the loss line) at every step: 6 images x 6 epochs at two
# examples per summary step give 18 steps, a checkpoint every 6 and an
# evaluation every 2. The killed run is asked for more epochs, so that it
# never ends before the kill.
CHECKPOINT_EVERY = 6
EPOCHS = "6"
TRAIN_ARGS = [
    "--model", "cnn-dice", "--summary_every", "1",
    "--checkpoint_every", str(CHECKPOINT_EVERY), "--image_every", "2",
    "--histogram_every", "2", "--eval_every", "2", "--threads", "1",
]


def event_files(run_dir):
    return sorted(
        os.path.join(run_dir, name) for name in os.listdir(run_dir) if "tfevents" in name
    )


def events(path):
    """The complete events of an event file, stopping quietly at a torn
    tail as TensorBoard does (framing read here: the loader TensorBoard
    ships imports TensorFlow on first use, too slow to poll with)."""
    with open(path, "rb") as f:
        data = f.read()
    out, at = [], 0
    while at + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, at)
        end = at + 12 + length + 4
        if end > len(data):
            break
        out.append(event_pb2.Event.FromString(data[at + 12:end - 4]))
        at = end
    return out


def summary_steps(run_dir):
    return sorted(
        {e.step for path in event_files(run_dir) for e in events(path) if e.HasField("summary")}
    )


def checkpoint_step(run_dir):
    """The step of the latest complete checkpoint (the `checkpoint` state file)."""
    try:
        with open(os.path.join(run_dir, "checkpoint")) as f:
            text = f.read()
    except FileNotFoundError:
        return None
    match = re.search(r'^model_checkpoint_path: ".*-(\d+)"$', text, re.M)
    return int(match.group(1)) if match else None


def train(tbseg, workdir, run, *extra, **popen):
    args = [tbseg, "train", "--data_dir", os.path.join(workdir, "data"),
            "--checkpoint_dir", os.path.join(workdir, "logs", run), *TRAIN_ARGS, *extra]
    return subprocess.Popen(args, **popen)


def kill_past_checkpoint(tbseg, workdir, run):
    """Trains until two summaries past a checkpoint are on disk, then
    SIGKILLs; returns (checkpoint step, orphaned summary steps)."""
    run_dir = os.path.join(workdir, "logs", run)
    log = open(os.path.join(workdir, f"{run}.killed.log"), "w")
    child = train(tbseg, workdir, run, "--num_epochs", "1000", stdout=log,
                  stderr=subprocess.STDOUT)
    deadline = time.time() + 300
    try:
        while True:
            if child.poll() is not None:
                sys.exit(f"check_purge: {run} ended (status {child.returncode}) before the kill")
            if time.time() > deadline:
                sys.exit(f"check_purge: {run} logged nothing past a checkpoint in time")
            ckpt = checkpoint_step(run_dir)
            if ckpt and os.path.isdir(run_dir) and event_files(run_dir):
                if any(step >= ckpt + 2 for step in summary_steps(run_dir)):
                    break
            time.sleep(0.01)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    # A checkpoint may have landed between the look and the kill: decide
    # from what is on disk now.
    ckpt = checkpoint_step(run_dir)
    orphans = [step for step in summary_steps(run_dir) if step > ckpt]
    if not orphans:
        sys.exit(f"check_purge: the kill of {run} left no summaries past checkpoint {ckpt}")
    return ckpt, orphans


def rewrite_as_torch(run_dir):
    """Rewrites the events of the run and its sub-runs through
    TensorBoard's EventFileWriter: files as torch's SummaryWriter (without
    purge_step) leaves them, with its own file_version and no START."""
    for folder, _, _ in os.walk(run_dir):
        for path in event_files(folder):
            kept = [e for e in events(path) if not e.HasField("file_version")]
            assert not any(e.HasField("session_log") for e in kept), path
            os.remove(path)
            writer = EventFileWriter(folder)
            for event in kept:
                writer.add_event(event)
            writer.close()


def python_loader_steps(run_dir, tag):
    acc = ea.EventAccumulator(run_dir, size_guidance={ea.TENSORS: 0})
    acc.Reload()
    return [e.step for e in acc.Tensors(tag)]


def control(killed_dir, ckpt, orphans, tag, workdir):
    """A resume with one START keeps the orphans in the Python loader; one
    with two does not (tbseg's purge_step)."""
    seen = {}
    for starts in (1, 2):
        run_dir = os.path.join(workdir, f"control-{starts}")
        shutil.copytree(killed_dir, run_dir)
        writer = EventFileWriter(run_dir, filename_suffix=".resumed")
        for _ in range(starts):
            writer.add_event(event_pb2.Event(
                wall_time=time.time(), step=ckpt + 1,
                session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)))
        for step in range(ckpt + 1, orphans[-1] + 3):
            value = summary_pb2.Summary.Value(tag=tag, simple_value=float(step))
            writer.add_event(event_pb2.Event(
                wall_time=time.time(), step=step, summary=summary_pb2.Summary(value=[value])))
        writer.close()
        seen[starts] = python_loader_steps(run_dir, tag)
        shutil.rmtree(run_dir)
    twice = [step for step in orphans if seen[1].count(step) > 1]
    if not twice:
        sys.exit(f"check_purge control: one START, yet no orphan shows twice: {seen[1]}")
    if seen[2] != sorted(set(seen[2])):
        sys.exit(f"check_purge control: two STARTs, yet steps repeat: {seen[2]}")
    print(f"check_purge control: with one START the Python loader shows steps {twice} twice; "
          "with two, once")


def resume(tbseg, workdir, run):
    done = train(tbseg, workdir, run, "--num_epochs", EPOCHS, "--resume", stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True)
    out, err = done.communicate(timeout=600)
    if done.returncode != 0 or "resuming from" not in err:
        sys.exit(f"check_purge: resuming {run} failed ({done.returncode}):\n{out}\n{err}")
    return int(re.search(r"Done training for \d+ epochs, (\d+) steps\.", out).group(1))


def main():
    tbseg, workdir = sys.argv[1], sys.argv[2]
    logs = os.path.join(workdir, "logs")
    ckpt, orphans = kill_past_checkpoint(tbseg, workdir, "tbseg-first")
    shutil.copytree(os.path.join(logs, "tbseg-first"), os.path.join(logs, "torch-first"))
    rewrite_as_torch(os.path.join(logs, "torch-first"))
    loss = next(
        v.tag for path in event_files(os.path.join(logs, "torch-first")) for e in events(path)
        for v in e.summary.value if v.tag.endswith("cross_entropy_mean"))
    control(os.path.join(logs, "torch-first"), ckpt, orphans, loss, workdir)
    steps = {run: resume(tbseg, workdir, run) for run in ("tbseg-first", "torch-first")}
    args = ["--plugins", "scalars"]
    for run, count in steps.items():
        # A summary at every step: the loss at steps 0..count-1, each once.
        args += ["--scalar", f"{run}:{loss}:{count}", "--increasing", run,
                 "--increasing", f"{run}/eval"]
    sys.argv = ["check_tb_server.py", logs, *args]
    check_tb_server.main()
    print(f"check_purge: killed at checkpoint {ckpt} with steps {orphans} orphaned; after "
          "--resume both loaders show every scalar once per step, whether tbseg or "
          "torch's writer wrote the run first")


if __name__ == "__main__":
    main()
