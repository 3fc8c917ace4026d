"""A data server's load of a big log directory, straight over gRPC (no
TensorBoard in front, whose JSON answers would dominate at this size):
time until every series is served in full, the server's CPU time and peak
RSS. For `tbseg-serve` and RustBoard's data server (the `server` binary of
the tensorboard-data-server package, as TensorBoard starts it). Writes the
directory with serve/examples/bench_logdir.rs first:

    bench_logdir DIR RUNS TAGS STEPS 0
    python scripts/bench_serve_grpc.py SERVER DIR RUNS TAGS STEPS

Polls ListRuns and ReadScalars (1,000 points per series) every 2 s; its own
requests count in the server's CPU time, the same for both servers.
"""
import subprocess, sys, time, re, grpc
from tensorboard.data.proto import data_provider_pb2 as pb, data_provider_pb2_grpc as pbg
serve, logdir = sys.argv[1], sys.argv[2]
n_runs, n_tags, n_steps = (int(a) for a in sys.argv[3:6])
points = min(1000, n_steps)
start = time.monotonic()
if serve.endswith("/server"):  # RustBoard's data server, as TensorBoard starts it
    import os, tempfile
    port_file = tempfile.mktemp()
    p = subprocess.Popen([serve, "--logdir", logdir, "--port", "0", "--port-file", port_file, "--reload", "5"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        time.sleep(0.1)
    port = open(port_file).read().strip()
else:
    p = subprocess.Popen([serve, "--logdir", logdir, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = re.search(r":(\d+)$", p.stdout.readline().strip()).group(1)
stub = pbg.TensorBoardDataProviderStub(grpc.insecure_channel(f"localhost:{port}", options=[("grpc.max_receive_message_length", 1 << 30)]))
def ticks():
    f = open(f"/proc/{p.pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / 100
def hwm():
    return int(re.search(r"VmHWM:\s+(\d+)", open(f"/proc/{p.pid}/status").read()).group(1)) / 1024
first = None
while True:
    time.sleep(2)
    runs = stub.ListRuns(pb.ListRunsRequest(experiment_id="")).runs
    if first is None and runs:
        first = time.monotonic() - start
    req = pb.ReadScalarsRequest(experiment_id="", plugin_filter=pb.PluginFilter(plugin_name="scalars"),
                                downsample=pb.Downsample(num_points=points))
    resp = stub.ReadScalars(req)
    series = [(r.run_name, t.tag_name, t.data.step) for r in resp.runs for t in r.tags]
    full = sum(1 for _, _, steps in series if len(steps) == points and steps[-1] == n_steps - 1)
    print(f"{time.monotonic()-start:6.1f} s: {len(runs)} runs, {full}/{len(series)} series complete, cpu {ticks():.1f} s, peak {hwm():.0f} MiB", flush=True)
    if full == n_runs * n_tags:
        break
print(f"first run listed after {first:.1f} s; all {n_runs * n_tags} series complete after {time.monotonic()-start:.1f} s; "
      f"server CPU {ticks():.1f} s; peak RSS {hwm():.0f} MiB")
p.terminate()
