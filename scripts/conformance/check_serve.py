"""Compares what the stock TensorBoard shows through `tbseg-serve` with what
it shows through its own Python loader, over TensorBoard's HTTP API (what a
browser asks): the same runs, dashboards, tags, steps, wall times and
values, image and audio bytes, histograms, text, PR curves, graphs, hparams.

Three processes on one log directory:
  1. tbseg-serve --logdir LOGDIR --port 0
  2. tensorboard --grpc_data_provider localhost:PORT   (TensorBoard fed by tbseg)
  3. tensorboard --logdir LOGDIR --load_fast=false      (TensorBoard's own loader)

Usage:
  check_serve.py LOGDIR --serve PATH_TO_tbseg-serve --require scalars,images,... \
      [--serve-logdir s3://COPY_OF_LOGDIR] [--samples_per_plugin SPEC]
Each dashboard of --require must answer identically (exit 1 otherwise); the
others are compared and reported.
"""

import argparse
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import numpy


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


TENSORBOARD = os.path.join(os.path.dirname(sys.executable), "tensorboard")


class TensorBoard:
    def __init__(self, args):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [TENSORBOARD, "--host", "127.0.0.1", "--port", str(self.port)] + args,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def raw(self, path, body=None, form=None):
        url = f"http://127.0.0.1:{self.port}{path}"
        if form is not None:
            req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode())
        else:
            data = None if body is None else json.dumps(body).encode()
            req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.read()

    def get(self, path, body=None):
        return json.loads(self.raw(path, body))

    def wait_ready(self, deadline):
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit("tensorboard exited: " + self.proc.stderr.read().decode()[-3000:])
            try:
                self.get("/data/runs")
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("tensorboard did not start in time")

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


def q(**kw):
    return urllib.parse.urlencode(kw)


def digest(data):
    return hashlib.sha256(data).hexdigest()[:16]


def per_tag(tb, plugin, tags_json, read):
    """{run: {tag: read(run, tag, info)}} over a plugin's /tags answer."""
    return {run: {tag: read(run, tag, info) for tag, info in sorted(tags.items())}
            for run, tags in sorted(tags_json.items())}


def dump(tb):
    """Everything the dashboards show, keyed by dashboard; blob keys (which
    each data provider makes its own way) replaced by the blobs' bytes."""
    out = {}
    out["runs"] = sorted(tb.get("/data/runs"))
    listing = tb.get("/data/plugins_listing")
    out["plugins_listing"] = sorted(p for p, v in listing.items() if v.get("enabled"))

    tags = tb.get("/data/plugin/scalars/tags")
    out["scalars"] = {"tags": tags, "data": per_tag(
        tb, "scalars", tags, lambda r, t, i: tb.get(f"/data/plugin/scalars/scalars?{q(run=r, tag=t)}"))}

    tags = tb.get("/data/plugin/histograms/tags")
    out["histograms"] = {"tags": tags, "data": per_tag(
        tb, "histograms", tags, lambda r, t, i: tb.get(f"/data/plugin/histograms/histograms?{q(run=r, tag=t)}"))}
    out["distributions"] = per_tag(
        tb, "distributions", tags,
        lambda r, t, i: tb.get(f"/data/plugin/distributions/distributions?{q(run=r, tag=t)}"))

    def images(r, t, info):
        samples = []
        for sample in range(info.get("samples", 1)):
            entries = tb.get(f"/data/plugin/images/images?{q(run=r, tag=t, sample=sample)}")
            samples.append([
                {"wall_time": e["wall_time"], "step": e["step"],
                 "bytes": digest(tb.raw(f"/data/plugin/images/individualImage?{e['query']}"))}
                for e in entries])
        return samples
    tags = tb.get("/data/plugin/images/tags")
    out["images"] = {"tags": tags, "data": per_tag(tb, "images", tags, images)}

    def audio(r, t, info):
        samples = []
        for sample in range(info.get("samples", 1)):
            entries = tb.get(f"/data/plugin/audio/audio?{q(run=r, tag=t, sample=sample)}")
            samples.append([
                {"wall_time": e["wall_time"], "step": e["step"], "label": e.get("label"),
                 "contentType": e.get("contentType"),
                 "bytes": digest(tb.raw(f"/data/plugin/audio/individualAudio?{e['query']}"))}
                for e in entries])
        return samples
    tags = tb.get("/data/plugin/audio/tags")
    out["audio"] = {"tags": tags, "data": per_tag(tb, "audio", tags, audio)}

    tags = tb.get("/data/plugin/text/tags")
    out["text"] = {"tags": tags, "data": {
        run: {tag: tb.get(f"/data/plugin/text/text?{q(run=run, tag=tag)}") for tag in sorted(ts)}
        for run, ts in sorted(tags.items())}}

    tags = tb.get("/data/plugin/pr_curves/tags")
    out["pr_curves"] = {"tags": tags, "data": per_tag(
        tb, "pr_curves", tags,
        lambda r, t, i: tb.get(f"/data/plugin/pr_curves/pr_curves?{q(run=r, tag=t)}"))}

    info = tb.get("/data/plugin/graphs/info")
    graphs = {}
    for run, entry in sorted(info.items()):
        if entry.get("run_graph"):
            graphs[run] = digest(tb.raw(f"/data/plugin/graphs/graph?{q(run=run)}"))
        for tag, tag_info in sorted(entry.get("tags", {}).items()):
            if tag_info.get("run_metadata"):
                graphs[f"{run}/{tag}"] = digest(
                    tb.raw(f"/data/plugin/graphs/run_metadata?{q(run=run, tag=tag)}"))
    out["graphs"] = {"info": info, "graph": graphs}

    out["custom_scalars"] = tb.get("/data/plugin/custom_scalars/layout")

    tags = tb.get("/data/plugin/mesh/tags")
    out["mesh"] = {"tags": tags}

    experiment = tb.get("/data/plugin/hparams/experiment", {"experimentName": ""})
    groups = tb.get("/data/plugin/hparams/session_groups", {
        "experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS",
                                                  "STATUS_FAILURE", "STATUS_RUNNING"],
        "colParams": [], "startIndex": 0, "sliceSize": 100})
    out["hparams"] = {"experiment": experiment, "session_groups": groups}

    # The time series dashboard (TensorBoard's default view): its tag index
    # and every scalar and histogram series it plots.
    tags = tb.get("/data/plugin/timeseries/tags")
    requests = []
    for plugin in ("scalars", "histograms"):
        run_tags = tags.get(plugin, {}).get("runTagInfo", {})
        for tag in sorted({t for ts in run_tags.values() for t in ts}):
            requests.append({"plugin": plugin, "tag": tag})
    series = json.loads(tb.raw("/data/plugin/timeseries/timeSeries", None,
                               form={"requests": json.dumps(requests)}))
    out["timeseries"] = {"tags": tags, "series": series}
    return out


def settled(tb, deadline, label):
    """Dumps until two dumps a few seconds apart agree (the loaders read
    asynchronously), and returns the last."""
    previous = None
    while time.time() < deadline:
        try:
            current = dump(tb)
        except (OSError, ValueError) as err:
            current = {"error": str(err)}
        if current == previous and "error" not in current and current["runs"]:
            return current
        previous = current
        time.sleep(3)
    raise SystemExit(f"check_serve: {label} never settled; last answer: {str(previous)[:2000]}")


def first_difference(a, b, path=""):
    if type(a) is not type(b):
        return f"{path}: {str(a)[:300]} != {str(b)[:300]}"
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return f"{path}/{key}: only in {'tbseg' if key in a else 'python'}"
            d = first_difference(a[key], b[key], f"{path}/{key}")
            if d:
                return d
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items != {len(b)}: {str(a)[:300]} vs {str(b)[:300]}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = first_difference(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return None if a == b else f"{path}: {str(a)[:300]} != {str(b)[:300]}"


def f32(x):
    """`x` rounded to float32 as a cast does, overflowing to infinity,
    which TensorBoard's JSON writes as the string "Infinity"."""
    if isinstance(x, str):
        return x
    with numpy.errstate(over="ignore"):
        y = float(numpy.float32(x))
    if numpy.isinf(y):
        return "Infinity" if y > 0 else "-Infinity"
    return y


def narrow_scalars(dumped):
    """Rounds the Python loader's scalar values to float32 (what the gRPC
    protocol's `ScalarData.value` holds); returns how many changed."""
    changed = 0
    for tags in dumped["scalars"]["data"].values():
        for points in tags.values():
            for point in points:
                narrowed = f32(point[2])
                if narrowed != point[2]:
                    point[2] = narrowed
                    changed += 1
    for series in dumped.get("timeseries", {}).get("series", []):
        if series.get("plugin") != "scalars":
            continue
        for points in series.get("runToSeries", {}).values():
            for point in points:
                narrowed = f32(point["value"])
                if narrowed != point["value"]:
                    point["value"] = narrowed
                    changed += 1
    return changed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("logdir")
    parser.add_argument("--serve", required=True)
    parser.add_argument("--serve-logdir",
                        help="what tbseg-serve reads (default: LOGDIR), e.g. an s3:// copy of LOGDIR")
    parser.add_argument("--require", required=True)
    parser.add_argument("--expect-runs", type=int, default=1)
    parser.add_argument("--samples_per_plugin", default="",
                        help="given to tbseg-serve and to TensorBoard's loader alike")
    args = parser.parse_args()
    sampling = ["--samples_per_plugin", args.samples_per_plugin] if args.samples_per_plugin else []
    serve = subprocess.Popen([args.serve, "--logdir", args.serve_logdir or args.logdir, "--port", "0",
                              "--reload_interval", "1"] + sampling,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs = []
    try:
        line = serve.stdout.readline()
        if " on " not in line:
            raise SystemExit("check_serve: tbseg-serve did not start: " + line + serve.stderr.read())
        port = line.rsplit(":", 1)[1].strip()
        # --logdir too, for the projector, which reads the folder itself;
        # every other dashboard reads through the data provider alone.
        ours = TensorBoard(["--grpc_data_provider", f"localhost:{port}", "--logdir", args.logdir])
        theirs = TensorBoard(["--logdir", args.logdir, "--load_fast=false", "--reload_interval", "1"]
                             + sampling)
        procs = [ours, theirs]
        for tb in procs:
            tb.wait_ready(time.time() + 90)
        a = settled(ours, time.time() + 120, "TensorBoard through tbseg-serve")
        b = settled(theirs, time.time() + 120, "TensorBoard's Python loader")
    finally:
        for tb in procs:
            tb.close()
        serve.terminate()
        serve.wait(timeout=20)
    if len(b["runs"]) < args.expect_runs:
        raise SystemExit(f"check_serve: only runs {b['runs']}, expected {args.expect_runs}")
    narrowed = narrow_scalars(b)
    if narrowed:
        print(f"check_serve: {narrowed} scalar values compared at float32: the data provider "
              "protocol carries scalars as float, so DT_DOUBLE scalars arrive narrowed")
    required = args.require.split(",")
    failed = []
    for key in sorted(set(a) | set(b)):
        d = first_difference(a.get(key), b.get(key), key)
        empty = not b.get(key) or b.get(key) in ({"tags": {}, "data": {}}, {"tags": {}})
        verdict = "same" if d is None else "DIFFERENT"
        verdict += f" ({len(json.dumps(b.get(key)))} bytes of JSON)"
        print(f"check_serve: {key:15} {verdict}{' (empty)' if empty and d is None else ''}"
              + (f": {d}" if d else ""))
        if d is not None and key in required:
            failed.append(key)
        if key in required and empty and key not in ("runs",):
            failed.append(f"{key} (no data to compare)")
    if failed:
        raise SystemExit(f"check_serve: tbseg-serve differs from TensorBoard's loader in {failed}")
    print(f"check_serve: TensorBoard through tbseg-serve answers as its own loader for {required}"
          + (f" (--samples_per_plugin {args.samples_per_plugin})" if sampling else ""))


if __name__ == "__main__":
    main()
