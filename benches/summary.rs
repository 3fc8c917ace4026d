//! Event writer benchmarks.
//!
//! ```text
//! cargo bench --no-default-features --bench summary
//! ```
//!
//! - `scalars_to_disk/tbseg`: 1 M `add_scalar` calls through the public API
//!   plus `close()` (everything on disk), reported as events/s.
//! - `scalars_to_disk/tensorboard-rs`: the same workload (100 k events, to
//!   keep the run short) through `tensorboard-rs` 0.5.9, including the drop
//!   that joins its writer thread.
//! - `add_scalar`: the cost of one call in steady state on a long-lived
//!   writer (criterion's per-iteration time; its median is in
//!   `target/criterion/add_scalar/tbseg/new/estimates.json`).
//! - `add_scalar_percentiles` (printed, not a criterion measurement): the
//!   distribution of single-call times over 2 M calls to a file.
//! - `image_png_256`: `add_image` of a 256×256 greyscale phantom, PNG
//!   encoding included (it runs on the calling thread), images/s.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tbseg::summary::SummaryWriter;

const TBSEG_EVENTS: u64 = 1_000_000;
const TENSORBOARD_RS_EVENTS: u64 = 100_000;

fn scalars_to_disk(c: &mut Criterion) {
    let mut group = c.benchmark_group("scalars_to_disk");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));

    group.throughput(Throughput::Elements(TBSEG_EVENTS));
    group.bench_function(BenchmarkId::new("tbseg", TBSEG_EVENTS), |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let dir = tempfile::tempdir().unwrap();
                let writer = SummaryWriter::new(dir.path()).unwrap();
                let start = Instant::now();
                for step in 0..TBSEG_EVENTS as i64 {
                    writer.add_scalar("loss", step as f32, step).unwrap();
                }
                writer.close().unwrap();
                total += start.elapsed();
            }
            total
        })
    });

    group.throughput(Throughput::Elements(TENSORBOARD_RS_EVENTS));
    group.bench_function(
        BenchmarkId::new("tensorboard-rs", TENSORBOARD_RS_EVENTS),
        |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let dir = tempfile::tempdir().unwrap();
                    let start = Instant::now();
                    let mut writer = tensorboard_rs::summary_writer::SummaryWriter::new(dir.path());
                    for step in 0..TENSORBOARD_RS_EVENTS as usize {
                        writer.add_scalar("loss", step as f32, step);
                    }
                    writer.flush();
                    drop(writer);
                    total += start.elapsed();
                }
                total
            })
        },
    );
    group.finish();
}

fn add_scalar(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let mut group = c.benchmark_group("add_scalar");
    group.throughput(Throughput::Elements(1));
    let mut step = 0i64;
    group.bench_function("tbseg", |b| {
        b.iter(|| {
            step += 1;
            writer
                .add_scalar(black_box("loss"), black_box(0.5), step)
                .unwrap();
        })
    });
    writer.close().unwrap();
    // The same on a writer whose sink discards the bytes: what the caller
    // pays when the disk keeps up.
    let writer = SummaryWriter::with_writer(std::io::sink(), "sink").unwrap();
    group.bench_function("tbseg-sink", |b| {
        b.iter(|| {
            step += 1;
            writer
                .add_scalar(black_box("loss"), black_box(0.5), step)
                .unwrap();
        })
    });
    group.finish();
    writer.close().unwrap();
}

/// Times every one of 2 M calls on a long-lived writer to a file (each
/// timing adds the cost of one `Instant::now()`, ~20 ns) and prints the
/// percentiles: criterion's figures are means over batches of calls, which
/// mix the common fast path with the rare call that waits for a full queue.
fn add_scalar_percentiles(_: &mut Criterion) {
    const CALLS: usize = 2_000_000;
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let mut nanos = Vec::with_capacity(CALLS);
    let start = Instant::now();
    for step in 0..CALLS as i64 {
        let t = Instant::now();
        writer
            .add_scalar(black_box("loss"), black_box(0.5), step)
            .unwrap();
        nanos.push(t.elapsed().as_nanos() as u64);
    }
    writer.close().unwrap();
    let total = start.elapsed();
    nanos.sort_unstable();
    let pct = |p: f64| nanos[((CALLS - 1) as f64 * p) as usize];
    println!(
        "add_scalar per call over {CALLS} calls to a file: p50 {} ns, p90 {} ns, p99 {} ns, \
         p99.9 {} ns, max {} ns; {:.2} M events/s including close",
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(0.999),
        nanos[CALLS - 1],
        CALLS as f64 / total.as_secs_f64() / 1e6
    );
}

fn image_png_256(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    // A disc phantom with a gradient and a little texture: compresses like
    // an MRI slice, not like a blank image.
    let image = image::GrayImage::from_fn(256, 256, |x, y| {
        let (dx, dy) = (x as f32 - 128.0, y as f32 - 128.0);
        let r = (dx * dx + dy * dy).sqrt();
        let base = if r < 40.0 {
            220.0
        } else if r < 56.0 {
            120.0
        } else {
            30.0 + x as f32 / 8.0
        };
        let texture = ((x * 7 + y * 13) % 17) as f32;
        image::Luma([(base + texture).min(255.0) as u8])
    });
    let mut group = c.benchmark_group("image_png_256");
    group.throughput(Throughput::Elements(1));
    let mut step = 0i64;
    group.bench_function("tbseg", |b| {
        b.iter(|| {
            step += 1;
            writer.add_image("mri", black_box(&image), step).unwrap();
        })
    });
    group.finish();
    writer.close().unwrap();
}

criterion_group!(
    benches,
    scalars_to_disk,
    add_scalar,
    add_scalar_percentiles,
    image_png_256
);
criterion_main!(benches);
