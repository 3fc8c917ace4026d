"""SummaryWriter("s3://...") and tbseg.read("s3://...") against a real S3
server: s3s-fs, which scripts/setup-s3.sh builds into the cache (found
through $TBSEG_S3_ROOT, as scripts/s3-server.sh finds it)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest

import tbseg

from conftest import tensorboard_runs


def _server_binary() -> Path | None:
    cache = os.environ.get("TBSEG_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tbseg"
    )
    root = os.environ.get("TBSEG_S3_ROOT") or os.path.join(cache, "s3s-fs")
    binary = Path(root) / "bin" / "s3s-fs"
    return binary if binary.is_file() else None


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory):
    """A bucket `tblogs` on an s3s-fs server on a free local port, with the
    credentials and endpoint in the environment (S3_ENDPOINT, which tbseg
    and TensorBoard both read)."""
    binary = _server_binary()
    if binary is None:
        pytest.skip("the S3 test server s3s-fs is not built: run scripts/setup-s3.sh")
    store = tmp_path_factory.mktemp("s3")
    (store / "tblogs").mkdir()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "AWS_ACCESS_KEY_ID": "tbseg-local",
        "AWS_SECRET_ACCESS_KEY": "tbseg-local-secret",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "S3_ENDPOINT": f"http://127.0.0.1:{port}",
    }
    log = open(store.parent / "s3s-fs.log", "wb")
    server = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", str(port),
         "--access-key", env["AWS_ACCESS_KEY_ID"], "--secret-key", env["AWS_SECRET_ACCESS_KEY"], str(store)],
        stdout=log, stderr=subprocess.STDOUT,
    )
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"s3s-fs did not start on port {port}: {(store.parent / 's3s-fs.log').read_text()}")
                time.sleep(0.05)
        yield store / "tblogs"
    finally:
        server.terminate()
        server.wait()
        log.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_writer_streams_to_s3_and_read_reads_it_back(s3_server):
    with tbseg.SummaryWriter("s3://tblogs/runs/a") as writer:
        for step in range(100):
            writer.add_scalar("loss", 1.0 / (step + 1), step)
        writer.add_histogram("w", np.arange(10.0), 5)
        writer.add_image("img", np.zeros((3, 4, 4), dtype=np.uint8), 5)
    with tbseg.SummaryWriter("s3://tblogs/runs/b") as writer:
        writer.add_scalar("loss", 7.0, 0)
    # The objects are in the bucket (s3s-fs keeps them as files).
    assert list((s3_server / "runs" / "a").glob("*tfevents*"))
    frame = tbseg.read("s3://tblogs/runs")
    assert sorted(set(frame.run)) == ["a", "b"]
    a = frame[frame.run == "a"]
    assert a.step.tolist() == list(range(100))
    np.testing.assert_allclose(a.value, [1.0 / (s + 1) for s in range(100)], rtol=1e-6)
    others = tbseg.read("s3://tblogs/runs/", kinds=["images", "histograms"], runs="a")
    assert sorted(others.kind) == ["histograms", "images"]
    assert tbseg.read("s3://tblogs/runs", tags="missing").empty


def test_tensorboard_reads_what_the_writer_put_in_the_bucket(s3_server):
    with tbseg.SummaryWriter("s3://tblogs/tb/run") as writer:
        writer.add_scalar("x", 3.5, 2)
    # The same files, read by TensorBoard's own loader from the server's
    # folder (its S3 reader needs boto3, which this environment lacks).
    runs = tensorboard_runs(s3_server / "tb")
    assert [(step, float(value)) for step, value in runs["run"]["x"]] == [(2, 3.5)]


def test_a_missing_bucket_is_a_clear_oserror(s3_server):
    with pytest.raises(OSError, match="nobucket"):
        tbseg.read("s3://nobucket/runs")
