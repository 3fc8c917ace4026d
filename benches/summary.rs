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
//! - `add_scalar/tensorboard-rs`: the same call through tensorboard-rs
//!   0.5.9, for a ratio measured in the same run.
//! - `image_png_256`: `add_image` of a 256×256 phantom from raw data, PNG
//!   encoding included (it runs on the calling thread), images/s: grey
//!   `u8` HW, RGB `u8` HWC, RGB `f32` CHW (converted to bytes first), and
//!   tensorboard-rs 0.5.9's `add_image` on the same RGB bytes.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use tbseg::summary::{ImageLayout, SummaryWriter};

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
    writer.close().unwrap();
    // tensorboard-rs 0.5.9 on the same call, for a ratio measured in the
    // same run (its writer thread takes each event through a channel).
    let mut theirs = tensorboard_rs::summary_writer::SummaryWriter::new(dir.path());
    let mut their_step = 0usize;
    group.bench_function("tensorboard-rs", |b| {
        b.iter(|| {
            their_step += 1;
            theirs.add_scalar(black_box("loss"), black_box(0.5), their_step);
        })
    });
    group.finish();
    theirs.flush();
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

/// A 256×256 disc phantom with a gradient and a little texture, in [0, 1]:
/// compresses like an MRI slice, not like a blank image.
fn phantom(x: u32, y: u32) -> f32 {
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
    (base + texture).min(255.0) / 255.0
}

fn image_png_256(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    let grey: Vec<u8> = (0..256 * 256)
        .map(|i| (phantom(i % 256, i / 256) * 255.0) as u8)
        .collect();
    // RGB: the phantom in red, its transpose in green, a ramp in blue.
    let planes: Vec<f32> = (0..3 * 256 * 256)
        .map(|i| {
            let (c, y, x) = (i / 65536, (i / 256) % 256, i % 256);
            match c {
                0 => phantom(x, y),
                1 => phantom(y, x),
                _ => x as f32 / 255.0,
            }
        })
        .collect();
    let rgb_hwc: Vec<u8> = (0..256 * 256)
        .flat_map(|p| (0..3).map(move |c| c * 65536 + p))
        .map(|i| (planes[i as usize] * 255.0).round() as u8)
        .collect();
    let mut group = c.benchmark_group("image_png_256");
    group.throughput(Throughput::Elements(1));
    let mut step = 0i64;
    group.bench_function("tbseg/grey-u8-hw", |b| {
        b.iter(|| {
            step += 1;
            writer
                .add_image("grey", black_box(&grey), ImageLayout::Hw(256, 256), step)
                .unwrap();
        })
    });
    group.bench_function("tbseg/rgb-u8-hwc", |b| {
        b.iter(|| {
            step += 1;
            writer
                .add_image(
                    "rgb",
                    black_box(&rgb_hwc),
                    ImageLayout::Hwc(256, 256, 3),
                    step,
                )
                .unwrap();
        })
    });
    group.bench_function("tbseg/rgb-f32-chw", |b| {
        b.iter(|| {
            step += 1;
            writer
                .add_image(
                    "rgb-f32",
                    black_box(&planes),
                    ImageLayout::Chw(3, 256, 256),
                    step,
                )
                .unwrap();
        })
    });
    writer.close().unwrap();
    // tensorboard-rs 0.5.9 takes RGB bytes only (its `dim` says CHW, but
    // the bytes are read as interleaved HWC).
    let mut theirs = tensorboard_rs::summary_writer::SummaryWriter::new(dir.path());
    let mut step = 0usize;
    group.bench_function("tensorboard-rs/rgb-u8-hwc", |b| {
        b.iter(|| {
            step += 1;
            theirs.add_image("rgb", black_box(&rgb_hwc), &[3, 256, 256], step);
        })
    });
    group.finish();
    theirs.flush();
}

criterion_group!(
    benches,
    scalars_to_disk,
    add_scalar,
    add_scalar_percentiles,
    image_png_256
);
criterion_main!(benches);
