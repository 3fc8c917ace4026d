//! Drives a `SummaryWriter`'s public API with arbitrary layouts, lengths,
//! tags, steps, wall times and values decoded from bytes, and checks what
//! every call must do whatever it is given: return (no panic), return Ok
//! or an argument error that names the call's tag, and leave the writer
//! usable. Shared by the cargo-fuzz target `summary_writer`
//! (fuzz/fuzz_targets/summary_writer.rs) and the property test in
//! tests/writer_fuzz.rs, so the debug-mode test run covers it too.
//!
//! Sizes come from a table of edge values (0, 1, 255, 256, 259, 2^31,
//! 2^32, `usize::MAX`, ...) or from one byte; pixel and sample slices hold
//! at most `MAX_LEN` values, usually exactly what the sizes ask for when
//! that is small. So nothing here allocates much: any large allocation
//! comes from the writer (libFuzzer's `-malloc_limit_mb` catches it).

#![allow(dead_code)]

use tbseg::summary::embedding::{Embedding, Sprite};
use tbseg::summary::mesh::Mesh;
use tbseg::summary::video::VideoFrames;
use tbseg::summary::{
    values, BatchLayout, GridOptions, Image, ImageLayout, PrCurveOptions, Step, SummaryError,
    SummaryWriter,
};

/// The most values a generated slice holds.
pub const MAX_LEN: usize = 4096;

/// Sizes worth trying: the valid small ones, the channel counts a
/// narrowing cast would turn valid, and products that overflow.
const SIZES: [usize; 20] = [
    0,
    1,
    2,
    3,
    4,
    5,
    255,
    256,
    257,
    259,
    65_535,
    65_536,
    (1 << 31) - 1,
    1 << 31,
    1 << 32,
    (1 << 32) + 3,
    1 << 40,
    1 << 62,
    usize::MAX / 2,
    usize::MAX,
];

/// A cursor over the fuzzer's bytes; past the end everything is 0.
pub struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input(data)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    /// A yes or no.
    fn coin(&mut self) -> bool {
        self.byte() & 1 == 0
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| acc << 8 | u64::from(self.byte()))
    }

    /// A size: an edge value, or a small number.
    fn size(&mut self) -> usize {
        let b = self.byte();
        if b & 0x80 != 0 {
            SIZES[usize::from(b & 0x7f) % SIZES.len()]
        } else {
            usize::from(b & 0x0f)
        }
    }

    /// A slice length: `want` (what the sizes ask for) when it is small,
    /// else a small arbitrary one.
    fn len(&mut self, want: Option<usize>) -> usize {
        match (self.byte() % 4, want) {
            (0..=2, Some(n)) if n <= MAX_LEN => n,
            (_, _) => usize::from(self.byte()) % 64,
        }
    }

    fn f32(&mut self) -> f32 {
        match self.byte() % 8 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            2 => f32::NEG_INFINITY,
            3 => f32::from_bits(self.u64() as u32),
            n => f32::from(n) / 8.0,
        }
    }

    fn floats(&mut self, len: usize) -> Vec<f32> {
        let pattern: Vec<f32> = (0..4).map(|_| self.f32()).collect();
        (0..len).map(|i| pattern[i % 4]).collect()
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        let seed = self.byte();
        (0..len).map(|i| seed.wrapping_add(i as u8)).collect()
    }

    /// Bytes of a length chosen by [`Input::len`].
    fn bytes_for(&mut self, want: Option<usize>) -> Vec<u8> {
        let len = self.len(want);
        self.bytes(len)
    }

    /// Floats of a length chosen by [`Input::len`].
    fn floats_for(&mut self, want: Option<usize>) -> Vec<f32> {
        let len = self.len(want);
        self.floats(len)
    }

    /// A tag: short, possibly empty, possibly with `/`, `.`, control
    /// characters or non-ASCII text.
    pub fn tag(&mut self) -> String {
        const PARTS: [&str; 8] = ["loss", "a/b", ".", "..", "", "\n", "é", "_VERTEX"];
        let n = self.byte() % 3;
        (0..n)
            .map(|_| PARTS[usize::from(self.byte()) % PARTS.len()])
            .collect()
    }

    /// A step of any integer type, in or out of `i64`'s range, sometimes
    /// with a wall time (NaN and infinities included).
    pub fn step(&mut self) -> Step {
        let step: Step = match self.byte() % 8 {
            0 => usize::from(self.byte()).into(),
            1 => (self.u64() as i64).into(),
            2 => self.u64().into(),
            3 => usize::MAX.into(),
            4 => (-(i128::from(self.byte())) - i128::from(i64::MAX) * 2).into(),
            5 => u128::MAX.into(),
            6 => (self.byte() as i8).into(),
            _ => (self.u64() as isize).into(),
        };
        match self.byte() % 4 {
            0 => step.wall_time(f64::from_bits(self.u64())),
            1 => step.wall_time(
                [f64::NAN, f64::NEG_INFINITY, f64::INFINITY, 1.7e9][usize::from(self.byte() % 4)],
            ),
            _ => step,
        }
    }

    fn image_layout(&mut self) -> ImageLayout {
        let (a, b, c) = (self.size(), self.size(), self.size());
        match self.byte() % 3 {
            0 => ImageLayout::Hw(a, b),
            1 => ImageLayout::Hwc(a, b, c),
            _ => ImageLayout::Chw(c, a, b),
        }
    }

    fn batch_layout(&mut self) -> BatchLayout {
        let (n, a, b, c) = (self.size(), self.size(), self.size(), self.size());
        if self.coin() {
            BatchLayout::Nchw(n, c, a, b)
        } else {
            BatchLayout::Nhwc(n, a, b, c)
        }
    }
}

/// The product of `sizes`, if it fits.
fn product(sizes: &[usize]) -> Option<usize> {
    sizes.iter().try_fold(1usize, |n, &s| n.checked_mul(s))
}

/// Checks a call's result: Ok, or an error that leaves the writer usable;
/// an argument error names `tag`.
fn check(tag: &str, result: Result<(), SummaryError>) {
    match result {
        Ok(()) => {}
        Err(SummaryError::InvalidArgument {
            tag: got,
            what,
            reason,
        }) => {
            assert_eq!(got, tag, "{what}: {reason}");
            assert!(!reason.is_empty(), "{what}");
        }
        Err(e) => assert!(
            !e.is_fatal(),
            "{tag:?}: a fatal error from a bad argument: {e}"
        ),
    }
}

/// Runs the calls `input` describes against `writer`, then checks that it
/// still takes a scalar and flushes.
pub fn drive(writer: &SummaryWriter, input: &mut Input<'_>) {
    let mut calls = 0;
    while !input.is_empty() && calls < 32 {
        calls += 1;
        let op = input.byte() % 16;
        let tag = input.tag();
        let tag = tag.as_str();
        match op {
            0 => {
                let value = input.f32();
                check(tag, writer.add_scalar(tag, value, input.step()));
            }
            1 => {
                let layout = input.image_layout();
                let len = input.len(layout.len());
                if input.coin() {
                    let data = input.bytes(len);
                    check(tag, writer.add_image(tag, &data, layout, input.step()));
                } else {
                    let data = input.floats(len);
                    check(tag, writer.add_image(tag, &data, layout, input.step()));
                }
            }
            2 => {
                let layout = input.batch_layout();
                let (n, image) = layout.split();
                let len = input.len(image.len().and_then(|l| l.checked_mul(n)));
                let data = input.bytes(len);
                check(tag, writer.add_images(tag, &data, layout, input.step()));
                let options = GridOptions {
                    columns: input.size(),
                    // Padding multiplies the grid's size by up to
                    // (1 + padding)^2 for tiny images: kept small.
                    padding: input.size().min(8),
                    pad_value: input.byte(),
                };
                let _ = Image::grid(&data, layout, options);
            }
            3 => {
                let count = usize::from(input.byte() % 4);
                let images: Vec<Image> = (0..count)
                    .filter_map(|_| {
                        let (h, w, c) = (input.size(), input.size(), input.size());
                        let len = input.len(product(&[h, w, c]));
                        Image::from_vec(h, w, c, input.bytes(len)).ok()
                    })
                    .collect();
                check(tag, writer.add_image_samples(tag, &images, input.step()));
            }
            4 => {
                let (h, w) = (input.size(), input.size());
                let png = match input.byte() % 3 {
                    0 => {
                        let pixels = input.bytes_for(product(&[h, w]));
                        tbseg::summary::png::encode(h, w, 1, &pixels).unwrap_or_default()
                    }
                    1 => input.bytes_for(None),
                    _ => tbseg::summary::png::encode(1, 1, 1, &[0]).unwrap(),
                };
                check(tag, writer.add_png(tag, h, w, png, input.step()));
            }
            5 => {
                let len = input.len(None);
                let values = input.floats(len);
                check(
                    tag,
                    writer.add_histogram(tag, &values, input.step()).map(drop),
                );
            }
            6 => {
                let text: String = tag.repeat(usize::from(input.byte() % 4));
                check(tag, writer.add_text(tag, &text, input.step()));
            }
            7 => {
                let len = input.len(None);
                let predictions = input.floats(len);
                let labels: Vec<bool> = input
                    .bytes_for(Some(len))
                    .iter()
                    .map(|b| b & 1 == 0)
                    .collect();
                let thresholds = input.size() as u32;
                check(
                    tag,
                    writer.add_pr_curve_with(
                        tag,
                        &labels,
                        &predictions,
                        &PrCurveOptions::default().num_thresholds(thresholds),
                        input.step(),
                    ),
                );
            }
            8 => {
                let (channels, rate) = (input.size(), input.u64() as u32);
                let frames = usize::from(input.byte());
                let samples = input.floats_for(channels.checked_mul(frames));
                check(
                    tag,
                    writer.add_audio(tag, &samples, channels, rate, input.step()),
                );
            }
            9 => {
                let (t, h, w, c) = (input.size(), input.size(), input.size(), input.size());
                let len = input.len(product(&[t, h, w, c]));
                let fps = input.f32();
                if input.coin() {
                    let data = input.bytes(len);
                    let frames = VideoFrames::from_u8(&data, t, h, w, c);
                    check(tag, writer.add_video(tag, &frames, fps, input.step()));
                } else {
                    let data = input.floats(len);
                    let frames = VideoFrames::from_f32(&data, t, h, w, c);
                    check(tag, writer.add_video(tag, &frames, fps, input.step()));
                }
            }
            10 => {
                let vertices = input.floats_for(None);
                let faces: Vec<u32> = input.bytes_for(None).into_iter().map(u32::from).collect();
                let colors = input.bytes_for(Some(vertices.len()));
                let mut mesh = Mesh::new(&vertices);
                if input.coin() {
                    mesh = mesh.faces(&faces);
                }
                if input.coin() {
                    mesh = mesh.colors(&colors);
                }
                check(tag, writer.add_mesh(tag, &mesh, input.step()));
            }
            11 => {
                let columns = usize::from(input.byte() % 4);
                let header: Vec<String> = (0..columns).map(|_| input.tag()).collect();
                let rows: Vec<Vec<String>> = (0..usize::from(input.byte() % 4))
                    .map(|_| {
                        (0..usize::from(input.byte() % 4))
                            .map(|_| input.tag())
                            .collect()
                    })
                    .collect();
                check(
                    tag,
                    writer.add_text_table(tag, &header, &rows, input.step()),
                );
            }
            12 => {
                let hwc = [input.size(), input.size(), input.size()];
                let pixels = input.bytes_for(product(&hwc));
                let boxes: Vec<[f32; 4]> = (0..input.byte() % 3)
                    .map(|_| {
                        [
                            input.f32() * 8.0,
                            input.f32() * 8.0,
                            input.f32() * 8.0,
                            input.f32() * 8.0,
                        ]
                    })
                    .collect();
                check(
                    tag,
                    writer.add_image_with_boxes(tag, &pixels, hwc, &boxes, input.step()),
                );
            }
            13 => {
                let dim = input.size();
                let points = usize::from(input.byte() % 4);
                let values = input.floats_for(dim.checked_mul(points));
                let points = values.len().checked_div(dim).unwrap_or(0);
                let labels: Vec<String> =
                    (0..input.len(Some(points))).map(|_| input.tag()).collect();
                let (h, w, c) = (input.size(), input.size(), input.size());
                let thumbnails = input.bytes_for(product(&[points, h, w, c]));
                let mut embedding = Embedding::new(&values, dim);
                if input.coin() {
                    embedding = embedding.labels(&labels);
                }
                if input.coin() {
                    embedding = embedding.sprite(Sprite::new(&thumbnails, h, w, c));
                }
                if input.coin() {
                    embedding = embedding.binary();
                }
                check(tag, writer.add_embedding(tag, &embedding, input.step()));
            }
            14 => {
                let summary = values::Summary {
                    value: vec![
                        values::text(tag, "t"),
                        values::scalar("second", input.f32()),
                    ],
                };
                check(tag, writer.add_summary(summary, input.step()));
            }
            _ => {
                let (h, w) = (input.size(), input.size());
                let len = input.len(product(&[h, w]));
                let image = input.floats(len);
                let classes = input.bytes_for(Some(len));
                let _ =
                    tbseg::summary::overlay_classes(&image, h, w, &classes, &[[255, 0, 0]; 3], 0.5);
            }
        }
    }
    writer
        .add_scalar("alive", 1.0, 0)
        .expect("the writer stays usable");
    writer.flush().expect("the writer stays usable");
}
