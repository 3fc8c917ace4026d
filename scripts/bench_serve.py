"""Time to the full scalars dashboard, and peak memory, of the stock
TensorBoard 2.21 over three loaders on one log directory: tbseg-serve
(--grpc_data_provider), RustBoard (--load_fast=true) and the Python loader
(--load_fast=false); on an s3:// copy, tbseg-serve and the Python loader
(RustBoard cannot read object stores). Called by scripts/bench_serve.sh.

Usage:
  bench_serve.py LOCAL_LOGDIR --serve TBSEG_SERVE --runs N --tags T --steps S
      [--s3-url s3://bucket/prefix --s3-tensorboard PATH] [--timeout SECONDS]

"Complete" is when /data/runs lists every run and, for every tag,
/data/plugin/scalars/scalars_multirun returns every run's downsampled series
in full: min(steps, 1000) points ending at the last step. The time runs from
starting the first process. Peak memory (VmHWM) and CPU time (user +
system) are the data server process's (tbseg-serve; RustBoard's data
server; TensorBoard itself for the Python loader, its HTTP serving
included), read when the dashboard is complete; CPU time is steadier than
wall time on a shared machine.
"""

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

TENSORBOARD = os.path.join(os.path.dirname(sys.executable), "tensorboard")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def vm_hwm_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid):
    """User + system CPU time of `pid` so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == pid:
            found.append(int(entry))
    return found


def get(port, path, form=None):
    data = None if form is None else urllib.parse.urlencode(form, doseq=True).encode()
    url = f"http://127.0.0.1:{port}{path}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=60) as r:
        return json.loads(r.read())


def complete(port, runs, tags, steps):
    try:
        if sorted(get(port, "/data/runs")) != runs:
            return False
        want = min(steps, 1000)
        for tag in tags:
            series = get(port, "/data/plugin/scalars/scalars_multirun",
                         {"tag": tag, "runs": runs})
            for run in runs:
                points = series.get(run) or []
                if len(points) != want or points[-1][1] != steps - 1:
                    return False
        return True
    except (OSError, ValueError):
        return False


def measure(name, logdir, args, mode, tensorboard, env=None):
    """mode: serve, rustboard or python."""
    procs = []
    start = time.monotonic()
    try:
        if mode == "serve":
            serve = subprocess.Popen(
                [args.serve, "--logdir", logdir, "--port", "0"],
                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
            procs.append(serve)
            line = serve.stdout.readline()
            m = re.search(r" on [^ ]*:(\d+)$", line.strip())
            if not m:
                raise SystemExit(f"{name}: tbseg-serve said {line!r}")
            tb_args = ["--grpc_data_provider", f"localhost:{m.group(1)}"]
        elif mode == "rustboard":
            tb_args = ["--logdir", logdir, "--load_fast=true"]
        else:
            tb_args = ["--logdir", logdir, "--load_fast=false"]
        port = free_port()
        tb = subprocess.Popen([tensorboard, "--host", "127.0.0.1", "--port", str(port)] + tb_args,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        procs.append(tb)
        runs = [f"run{i:03}" for i in range(args.runs)]
        tags = [f"tag{j:02}" for j in range(args.tags)]
        done = None
        while time.monotonic() - start < args.timeout:
            if complete(port, runs, tags, args.steps):
                done = time.monotonic() - start
                break
            time.sleep(0.5)
        if mode == "serve":
            server = procs[0].pid
        elif mode == "rustboard":
            kids = children(tb.pid)
            server = kids[0] if kids else tb.pid
        else:
            server = tb.pid
        rss = vm_hwm_mib(server)
        cpu = cpu_seconds(server)
        frontend = vm_hwm_mib(tb.pid)
        result = {"name": name, "seconds": done, "server_cpu_s": cpu, "server_mib": rss,
                  "tensorboard_mib": frontend}
        print(json.dumps(result), file=sys.stderr, flush=True)
        return result
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        # RustBoard's data server exits with its parent; give it a moment.
        time.sleep(1)


def median_of(results):
    """The round with the median time, its name listing every round's time."""
    timed = sorted(results, key=lambda r: float("inf") if r["seconds"] is None else r["seconds"])
    middle = dict(timed[(len(timed) - 1) // 2])
    if len(results) > 1:
        each = " / ".join("–" if r["seconds"] is None else f"{r['seconds']:.1f}" for r in results)
        middle["name"] += f" (median of {len(results)} rounds: {each} s)"
    return middle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("logdir")
    ap.add_argument("--serve", required=True)
    ap.add_argument("--runs", type=int, required=True)
    ap.add_argument("--tags", type=int, required=True)
    ap.add_argument("--steps", type=int, required=True)
    ap.add_argument("--s3-url")
    ap.add_argument("--s3-tensorboard")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--rounds", type=int, default=3,
                    help="interleaved rounds of the two fast local loaders (the table shows the median)")
    ap.add_argument("--fast-only", action="store_true",
                    help="leave out the Python loader (for a log directory too big for it)")
    args = ap.parse_args()
    # The two fast loaders take seconds and differ by less than a loaded
    # machine's noise, so they alternate for several rounds; the Python
    # loader takes minutes and runs once.
    rounds = {"serve": [], "rustboard": []}
    for _ in range(max(1, args.rounds)):
        rounds["serve"].append(
            measure("local: tbseg-serve + TensorBoard", args.logdir, args, "serve", TENSORBOARD))
        rounds["rustboard"].append(
            measure("local: RustBoard (--load_fast=true)", args.logdir, args, "rustboard", TENSORBOARD))
    results = [median_of(rounds["serve"]), median_of(rounds["rustboard"])]
    if not args.fast_only:
        results.append(
            measure("local: Python loader (--load_fast=false)", args.logdir, args, "python", TENSORBOARD))
    if args.s3_url:
        # TensorBoard from the S3 environment (no TensorFlow, so it starts
        # faster) in front of both, so that only the loaders differ.
        results.append(measure("S3: tbseg-serve + TensorBoard", args.s3_url, args, "serve",
                               args.s3_tensorboard))
        results.append(measure("S3: Python loader (--load_fast=false)", args.s3_url, args, "python",
                               args.s3_tensorboard))
    print("| loader | time to full scalars dashboard | CPU time, data server | peak RSS, data server "
          "| peak RSS, TensorBoard |")
    print("|---|---|---|---|---|")
    for r in results:
        t = f"{r['seconds']:.1f} s" if r["seconds"] is not None else f"> {args.timeout:.0f} s (incomplete)"
        print(f"| {r['name']} | {t} | {r['server_cpu_s']:.1f} s | {r['server_mib']:.0f} MiB "
              f"| {r['tensorboard_mib']:.0f} MiB |")


if __name__ == "__main__":
    main()
