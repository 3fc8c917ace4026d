"""Starts the real TensorBoard server on a log directory and asks it, over
HTTP, what a user's browser would ask: which dashboards are active, which
runs and tags exist, the points of a scalar series, the graph and the
hparams experiment.

Both of TensorBoard's loaders are checked: the Rust data server
(`--load_fast=true`, the default since 2.5) and the Python one
(`--load_fast=false`).

Usage:
  check_tb_server.py LOGDIR --plugins scalars,images,... \
      [--scalar RUN:TAG:COUNT]... [--graph RUN:NAME]... [--image RUN:TAG[:SAMPLES]]... \
      [--hparam NAME]... [--metric TAG]... [--increasing RUN]...
Exits non-zero with a message on the first mismatch.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, logdir, load_fast):
        self.port = free_port()
        tensorboard = os.path.join(os.path.dirname(sys.executable), "tensorboard")
        self.proc = subprocess.Popen(
            [tensorboard, "--logdir", logdir, "--host", "127.0.0.1",
             "--port", str(self.port), f"--load_fast={load_fast}",
             "--reload_interval", "1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def get(self, path, body=None):
        url = f"http://127.0.0.1:{self.port}{path}"
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return raw if path.startswith("/data/plugin/graphs/graph") else json.loads(raw)

    def wait_ready(self, deadline):
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("tensorboard exited: " + self.proc.stderr.read().decode()[-2000:])
            try:
                self.get("/data/runs")
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("tensorboard did not start in time")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def fail(load_fast, message):
    raise SystemExit(f"check_tb_server (load_fast={load_fast}): {message}")


def check(args, load_fast):
    server = Server(args.logdir, load_fast)
    try:
        server.wait_ready(time.time() + 60)
        # The first load of the log directory is asynchronous: poll until
        # every expected scalar series is complete.
        deadline = time.time() + 60
        while True:
            try:
                problems = check_once(server, args)
            except (OSError, ValueError) as err:
                problems = [str(err)]
            if not problems:
                return
            if time.time() > deadline:
                fail(load_fast, "; ".join(problems))
            time.sleep(1)
    finally:
        server.close()


def check_once(server, args):
    problems = []
    listing = server.get("/data/plugins_listing")
    for plugin in args.plugins.split(","):
        if not listing.get(plugin, {}).get("enabled"):
            problems.append(f"dashboard {plugin!r} is not active")
    for spec in args.scalar:
        run, tag, count = spec.rsplit(":", 2)
        query = urllib.parse.urlencode({"run": run, "tag": tag})
        try:
            points = server.get(f"/data/plugin/scalars/scalars?{query}")
        except OSError as err:
            problems.append(f"scalar {run}/{tag}: {err}")
            continue
        if len(points) != int(count):
            problems.append(f"scalar {run}/{tag}: {len(points)} points, expected {count}")
    for run in args.increasing:
        # Every scalar of the run, its steps each once and in order (a
        # resumed run whose orphaned points were not purged repeats some).
        tags = server.get("/data/plugin/scalars/tags").get(run, {})
        if not tags:
            problems.append(f"run {run!r} has no scalars")
        for tag in tags:
            query = urllib.parse.urlencode({"run": run, "tag": tag})
            steps = [point[1] for point in server.get(f"/data/plugin/scalars/scalars?{query}")]
            if any(later <= earlier for earlier, later in zip(steps, steps[1:])):
                problems.append(f"scalar {run}/{tag}: steps not strictly increasing: {steps}")
    for spec in args.image:
        run, tag, *samples = spec.split(":")
        tags = server.get("/data/plugin/images/tags")
        if tag not in tags.get(run, {}):
            problems.append(f"image tag {run}/{tag} missing (have {sorted(tags.get(run, {}))})")
        elif samples and tags[run][tag].get("samples") != int(samples[0]):
            problems.append(f"image tag {run}/{tag}: {tags[run][tag].get('samples')} samples, expected {samples[0]}")
    for spec in args.graph:
        run, name = spec.split(":", 1)
        query = urllib.parse.urlencode({"run": run})
        try:
            text = server.get(f"/data/plugin/graphs/graph?{query}").decode()
        except OSError as err:
            problems.append(f"graph of {run}: {err}")
            continue
        if f'name: "{name}"' not in text:
            problems.append(f"graph of {run} has no node {name!r}")
        if "_output_shapes" not in text:
            problems.append(f"graph of {run} has no _output_shapes")
    if args.hparam or args.metric:
        experiment = server.get("/data/plugin/hparams/experiment", {"experimentName": ""})
        names = {h["name"] for h in experiment.get("hparamInfos", [])}
        metrics = {m["name"]["tag"] for m in experiment.get("metricInfos", [])}
        for name in args.hparam:
            if name not in names:
                problems.append(f"hparam {name!r} missing (have {sorted(names)})")
        for tag in args.metric:
            if tag not in metrics:
                problems.append(f"hparams metric {tag!r} missing (have {sorted(metrics)})")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("logdir")
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--scalar", action="append", default=[])
    parser.add_argument("--image", action="append", default=[])
    parser.add_argument("--graph", action="append", default=[])
    parser.add_argument("--hparam", action="append", default=[])
    parser.add_argument("--metric", action="append", default=[])
    parser.add_argument("--increasing", action="append", default=[])
    args = parser.parse_args()
    for load_fast in ("true", "false"):
        check(args, load_fast)
    print(f"check_tb_server: TensorBoard's server (Rust and Python loaders) shows {args.plugins}")


if __name__ == "__main__":
    main()
