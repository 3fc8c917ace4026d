"""tensorboardX's S3 writer on the local S3 server, for scripts/bench_s3.sh.

Usage: bench_s3_tensorboardx.py LOGDIR_URL EVENTS FLUSH_SECS

Logs EVENTS scalars as fast as it can with tensorboardX's SummaryWriter on
an s3:// log directory (endpoint from S3_ENDPOINT), and prints one JSON line:
the time, and what its S3 writer uploaded. That writer keeps the whole
event file in memory and uploads all of it at every flush (its
S3RecordWriter.flush), so the bytes are counted at each flush from the
buffer it uploads.
"""

import json
import sys
import time

from tensorboardX import SummaryWriter, record_writer

uploads = {"count": 0, "bytes": 0}
original_flush = record_writer.S3RecordWriter.flush


def counting_flush(self):
    uploads["count"] += 1
    uploads["bytes"] += self.buffer.getbuffer().nbytes
    original_flush(self)


record_writer.S3RecordWriter.flush = counting_flush


def main():
    url, events, flush_secs = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    started = time.perf_counter()
    writer = SummaryWriter(url, flush_secs=flush_secs)
    for step in range(events):
        writer.add_scalar("loss", 1.0 / (1 + step), step)
    logged = time.perf_counter() - started
    writer.close()
    total = time.perf_counter() - started
    print(json.dumps({
        "events": events,
        "log_seconds": round(logged, 3),
        "last_visible_after_log_seconds": round(total - logged, 3),
        "total_seconds": round(total, 3),
        "events_per_second": round(events / total),
        "bytes_uploaded": uploads["bytes"],
        "uploads": uploads["count"],
    }))


if __name__ == "__main__":
    main()
