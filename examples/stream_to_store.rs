//! Streams scalar events to a log directory, local or on an object store,
//! at a steady rate, and prints what it cost as one JSON line: the
//! conformance check (scripts/conformance/s3.sh) runs it while TensorBoard
//! reads the run, and the benchmark (scripts/bench_s3.sh) measures it.
//!
//! ```text
//! cargo run --release --features object-store --example stream_to_store -- \
//!     s3://bucket/runs/live --events 100000 --seconds 10 --flush-ms 500
//! ```
//!
//! `--seconds 0` logs as fast as it can. The object store is configured
//! from the environment (`AWS_*`, or `S3_ENDPOINT`; see
//! `tbseg::storage::remote`).

use std::time::{Duration, Instant};

use tbseg::storage::remote::stats;
use tbseg::summary::SummaryWriter;

struct Args {
    logdir: String,
    events: u64,
    seconds: f64,
    flush_ms: u64,
}

fn parse() -> Result<Args, String> {
    let mut args = std::env::args().skip(1);
    let logdir = args
        .next()
        .ok_or("usage: stream_to_store LOGDIR [--events N] [--seconds S] [--flush-ms MS]")?;
    let mut parsed = Args {
        logdir,
        events: 1000,
        seconds: 0.0,
        flush_ms: 2000,
    };
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        let bad = |e: &dyn std::fmt::Display| format!("{flag} {value}: {e}");
        match flag.as_str() {
            "--events" => parsed.events = value.parse().map_err(|e| bad(&e))?,
            "--seconds" => parsed.seconds = value.parse().map_err(|e| bad(&e))?,
            "--flush-ms" => parsed.flush_ms = value.parse().map_err(|e| bad(&e))?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(parsed)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = parse()?;
    let started = Instant::now();
    let writer = SummaryWriter::builder(&args.logdir)
        .flush_interval(Duration::from_millis(args.flush_ms))
        .build()?;
    let per_event = args.seconds / args.events.max(1) as f64;
    for step in 0..args.events {
        if per_event > 0.0 {
            // Paced: event `step` goes out at `step * per_event` seconds.
            let due = Duration::from_secs_f64(step as f64 * per_event);
            if let Some(wait) = due.checked_sub(started.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        writer.add_scalar("loss", 1.0 / (1 + step) as f32, step as i64)?;
    }
    let logged = started.elapsed();
    // Close uploads the last segment: when it returns, the last event is
    // on the store for any reader.
    writer.close()?;
    let visible = started.elapsed();
    let store = stats();
    println!(
        "{{\"events\": {}, \"log_seconds\": {:.3}, \"last_visible_after_log_seconds\": {:.3}, \
         \"total_seconds\": {:.3}, \"events_per_second\": {:.0}, \"bytes_uploaded\": {}, \
         \"requests\": {}}}",
        args.events,
        logged.as_secs_f64(),
        (visible - logged).as_secs_f64(),
        visible.as_secs_f64(),
        args.events as f64 / visible.as_secs_f64(),
        store.bytes_uploaded,
        store.requests,
    );
    Ok(())
}
