//! Writes one TensorBoard run with every kind of summary tbseg supports.
//!
//! ```text
//! cargo run --release --example summaries -- LOGDIR
//! tensorboard --logdir LOGDIR
//! ```
//!
//! The run goes directly into LOGDIR:
//! - scalars at steps 0..=119, computed in f64 and stored as f32:
//!   `loss = 1 / (1 + 0.05 * step)` and `dice = 0.9 * step / (step + 20)`;
//!   `lr = 1e-3 / (1 + step)` stored as f64 through `Double` (DT_DOUBLE,
//!   read exactly by TensorBoard's Python loader; its default Rust loader
//!   skips DT_DOUBLE scalars);
//! - `loss_split` with `add_scalars`: curves `train` (= `loss`) and `eval`
//!   (`1.1 * loss`) in the sub-runs `loss_split_train` and
//!   `loss_split_eval`, as PyTorch lays them out;
//! - `mri/overlay`: a synthetic disc phantom (a bright "ventricle" inside a
//!   darker ring) with a ground-truth disc and a shifted, larger predicted
//!   disc drawn by `overlay_classes`; `mri/slice`: the phantom alone in grey;
//! - `weights/conv1`: a histogram of 1000 deterministic values at steps 0,
//!   60 and 119, in TensorFlow's default exponential buckets (PyTorch's
//!   default); `weights/conv1_equal`: the same values in 30 equal buckets;
//! - `mri/batch`: an NCHW batch of four 32x32 grey crops of the phantom,
//!   tiled into one grid image by `add_images`;
//! - `notes`: Markdown text;
//! - a graph with the scopes `input`, `Conv1`, `Pool1`, `upscore`, `output`
//!   and `_output_shapes` on every node;
//! - hparams `learning_rate = 0.01`, `model = "cnn"`, `augment = true`,
//!   with the metrics `dice` ("Dice") and `loss` ("Loss") declared;
//! - `pr/lv`: a PR curve of the soft prediction against the truth mask;
//! - the kinds of [`write_other_kinds`]: embeddings, audio, video, a custom
//!   scalars layout, a mesh and a text table (listed there).

use tbseg::summary::{
    overlay_classes, BatchLayout, Bins, Double, GraphBuilder, ImageLayout, Metric, Node,
    SessionStatus, SummaryWriter,
};

const SIZE: usize = 128;

/// `loss` at `step`.
fn loss(step: i64) -> f32 {
    (1.0 / (1.0 + 0.05 * step as f64)) as f32
}

/// `dice` at `step`.
fn dice(step: i64) -> f32 {
    (0.9 * step as f64 / (step as f64 + 20.0)) as f32
}

/// Distance of pixel `i` from (`cx`, `cy`).
fn distance(i: usize, cx: f32, cy: f32) -> f32 {
    let x = (i % SIZE) as f32;
    let y = (i / SIZE) as f32;
    ((x - cx).powi(2) + (y - cy).powi(2)).sqrt()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let logdir = std::env::args().nth(1).ok_or("usage: summaries LOGDIR")?;
    let writer = SummaryWriter::new(&logdir)?;

    let hparams = [
        ("learning_rate", 0.01.into()),
        ("model", "cnn".into()),
        ("augment", true.into()),
    ];
    // Declared metrics with display names: the lower-level form of
    // `add_hparams`, which takes final metric values instead.
    let metrics = [
        Metric::new("dice")
            .display_name("Dice")
            .description("higher is better"),
        Metric::new("loss").display_name("Loss"),
    ];
    writer.add_hparams_with_metrics(&hparams, &metrics, None)?;

    writer.add_graph(&graph().into_graph_def())?;

    for step in 0..=119 {
        writer.add_scalar("loss", loss(step), step)?;
        writer.add_scalar("dice", dice(step), step)?;
        writer.add_scalar("lr", Double(1e-3 / (1.0 + step as f64)), step)?;
        writer.add_scalars(
            "loss_split",
            &[("train", loss(step)), ("eval", 1.1 * loss(step))],
            step,
        )?;
    }

    let n = SIZE * SIZE;
    let centre = SIZE as f32 / 2.0;
    // Phantom: blood pool (r < 20) bright, myocardium ring (20..28)
    // darker, background dim with a gentle gradient.
    let slice: Vec<f32> = (0..n)
        .map(|i| {
            let r = distance(i, centre, centre);
            let background = 100.0 + (i % SIZE) as f32;
            if r < 20.0 {
                900.0
            } else if r < 28.0 {
                450.0
            } else {
                background
            }
        })
        .collect();
    let truth: Vec<u8> = (0..n)
        .map(|i| u8::from(distance(i, centre, centre) < 20.0))
        .collect();
    let soft: Vec<f32> = (0..n)
        .map(|i| {
            let r = distance(i, centre + 4.0, centre);
            1.0 / (1.0 + (r - 22.0).exp())
        })
        .collect();
    let predicted: Vec<u8> = soft.iter().map(|&p| u8::from(p >= 0.5)).collect();
    // Class 1: truth only (green), 2: prediction only (red), 3: both (yellow).
    let classes: Vec<u8> = truth
        .iter()
        .zip(&predicted)
        .map(|(&t, &p)| t | (p << 1))
        .collect();
    let palette = [[0, 255, 0], [255, 0, 0], [255, 255, 0]];
    let picture = overlay_classes(&slice, SIZE, SIZE, &classes, &palette, 0.45)?;
    writer.add_image("mri/overlay", picture.pixels(), picture.layout(), 119)?;
    let grey: Vec<f32> = slice.iter().map(|v| v / 900.0).collect();
    writer.add_image("mri/slice", &grey, ImageLayout::Hw(SIZE, SIZE), 119)?;

    // Four 32x32 crops along the diagonal, as one NCHW batch.
    let crop = |k: usize| (0..32 * 32).map(move |i| (k * 24 + i / 32, k * 24 + i % 32));
    let batch: Vec<f32> = (0..4)
        .flat_map(crop)
        .map(|(y, x)| grey[y * SIZE + x])
        .collect();
    writer.add_images("mri/batch", &batch, BatchLayout::Nchw(4, 1, 32, 32), 119)?;

    // 0/1 labels straight from the mask, 127 thresholds by default.
    writer.add_pr_curve("pr/lv", &truth, &soft, 119)?;

    for step in [0, 60, 119] {
        let spread = 1.0 / (1.0 + step as f32 / 60.0);
        let weights: Vec<f32> = (0..1000)
            .map(|i| ((i as f32 * 0.37).sin() + (i as f32 * 0.11).cos()) * spread)
            .collect();
        writer.add_histogram("weights/conv1", &weights, step)?;
        writer.add_histogram_with_bins("weights/conv1_equal", &weights, Bins::Equal(30), step)?;
    }

    writer.add_text(
        "notes",
        "**tbseg summaries example.** `loss = 1 / (1 + 0.05 step)`, \
         `dice = 0.9 step / (step + 20)`.",
        119,
    )?;
    write_other_kinds(&writer)?;
    writer.end_hparams(SessionStatus::Success)?;
    writer.close()?;
    println!("{}", writer.path().display());
    Ok(())
}

/// A small FCN-like graph: input → Conv1 → Pool1 → upscore → output.
fn graph() -> GraphBuilder {
    let mut g = GraphBuilder::new();
    let s = SIZE as i64;
    let input = {
        let mut scope = g.scope("input");
        scope.add_node(Node::new("image", "Placeholder").output_shape(&[1, 1, s, s]))
    };
    let relu = {
        let mut scope = g.scope("Conv1");
        let w = scope.add_node(Node::new("weights", "VariableV2").output_shape(&[100, 1, 5, 5]));
        let conv = scope.add_node(
            Node::new("conv", "Conv2D")
                .input(&input)
                .input(&w)
                .attr_ints("strides", &[1, 1, 2, 2])
                .attr_str("padding", "SAME")
                .output_shape(&[1, 100, s / 2, s / 2]),
        );
        scope.add_node(
            Node::new("relu", "Relu")
                .input(conv)
                .output_shape(&[1, 100, s / 2, s / 2]),
        )
    };
    let pool = {
        let mut scope = g.scope("Pool1");
        scope.add_node(
            Node::new("maxpool", "MaxPool")
                .input(relu)
                .attr_ints("ksize", &[1, 1, 2, 2])
                .output_shape(&[1, 100, s / 4, s / 4]),
        )
    };
    let up = {
        let mut scope = g.scope("upscore");
        scope.add_node(
            Node::new("deconv", "Conv2DBackpropInput")
                .input(pool)
                .attr_i64("stride", 4)
                .output_shape(&[1, 2, s, s]),
        )
    };
    let mut scope = g.scope("output");
    scope.add_node(
        Node::new("softmax", "Softmax")
            .input(up)
            .attr_f32("temperature", 1.0)
            .output_shape(&[1, 2, s, s]),
    );
    drop(scope);
    g
}

// ---------------------------------------------------------------------------
// Embeddings, audio, video, custom scalars, meshes and text tables.
// scripts/conformance/check_kinds.py recomputes every value below.
// ---------------------------------------------------------------------------

/// Writes the kinds beyond scalars, images and histograms:
/// - embedding `points` at step 119: 100 points `[cos 0.3i, sin 0.3i,
///   i / 100]` with metadata columns `index` and `half` (`low` for i < 50,
///   else `high`) and a sprite of 8x8 RGB thumbnails (thumbnail i filled
///   with `[i, 255 - i, 128]`); embedding `points_bin` at step 0: 10 points
///   `[i + 0.5, -i - 0.25]` in binary form with one label column `p<i>`;
/// - `dice/lower` and `dice/upper`: `dice ∓ 0.05` at steps 0..=119, and a
///   custom scalars layout: category `training` with a multiline chart
///   `loss and dice` (`loss`, `dice`) and a margin chart `dice band`;
/// - `audio/tone`: 0.25 s of a 440 Hz sine at 0.5 amplitude, 8 kHz mono;
///   `audio/stereo`: 0.1 s, left `+0.25`, right `-0.25`, 8 kHz; step 119;
/// - `video/square`: 8 frames of 32x32 RGB at 4 fps, background
///   `[20, 20, 60]`, an 8x8 square `[255, 30t, 0]` at `(3t, 2t)` in frame
///   t; step 119;
/// - `mesh/tetra`: a tetrahedron with four faces and one colour per vertex
///   at step 119;
/// - `results`: a Markdown table `model | dice` with rows `cnn | 0.93` and
///   `a|b | 0.5`, at step 119.
fn write_other_kinds(writer: &SummaryWriter) -> Result<(), Box<dyn std::error::Error>> {
    use tbseg::summary::custom_scalars::{Category, Layout, MarginSeries};
    use tbseg::summary::embedding::{Embedding, Sprite};
    use tbseg::summary::mesh::Mesh;
    use tbseg::summary::video::VideoFrames;

    let points: Vec<f32> = (0..100)
        .flat_map(|i| {
            let a = i as f64 * 0.3;
            [a.cos() as f32, a.sin() as f32, i as f32 / 100.0]
        })
        .collect();
    let rows: Vec<[String; 2]> = (0..100)
        .map(|i| {
            [
                i.to_string(),
                if i < 50 { "low" } else { "high" }.to_owned(),
            ]
        })
        .collect();
    let thumbnails: Vec<u8> = (0..100u8)
        .flat_map(|i| [i, 255 - i, 128].repeat(8 * 8))
        .collect();
    let embedding = Embedding::new(&points, 3)
        .columns(&["index", "half"], &rows)
        .sprite(Sprite::new(&thumbnails, 8, 8, 3));
    writer.add_embedding("points", &embedding, 119)?;
    let small: Vec<f32> = (0..10)
        .flat_map(|i| [i as f32 + 0.5, -(i as f32) - 0.25])
        .collect();
    let labels: Vec<String> = (0..10).map(|i| format!("p{i}")).collect();
    writer.add_embedding(
        "points_bin",
        &Embedding::new(&small, 2).labels(&labels).binary(),
        0,
    )?;

    for step in 0..=119 {
        writer.add_scalar("dice/lower", dice(step) - 0.05, step)?;
        writer.add_scalar("dice/upper", dice(step) + 0.05, step)?;
    }
    writer.add_custom_scalars(
        &Layout::new().category(
            Category::new("training")
                .multiline("loss and dice", ["loss", "dice"])
                .margin(
                    "dice band",
                    [MarginSeries::new("dice", "dice/lower", "dice/upper")],
                ),
        ),
    )?;

    let tone: Vec<f32> = (0..2000)
        .map(|i| (0.5 * (2.0 * std::f64::consts::PI * 440.0 * i as f64 / 8000.0).sin()) as f32)
        .collect();
    writer.add_audio("audio/tone", &tone, 1, 8000, 119)?;
    let stereo: Vec<f32> = (0..800).flat_map(|_| [0.25, -0.25]).collect();
    writer.add_audio("audio/stereo", &stereo, 2, 8000, 119)?;

    let (t, side) = (8usize, 32usize);
    let mut frames = Vec::with_capacity(t * side * side * 3);
    for f in 0..t {
        for y in 0..side {
            for x in 0..side {
                let inside = (3 * f..3 * f + 8).contains(&x) && (2 * f..2 * f + 8).contains(&y);
                frames.extend_from_slice(&if inside {
                    [255, 30 * f as u8, 0]
                } else {
                    [20, 20, 60]
                });
            }
        }
    }
    writer.add_video(
        "video/square",
        &VideoFrames::from_u8(&frames, t, 32, 32, 3),
        4.0,
        119,
    )?;

    let vertices = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    let faces = [0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3];
    let colors = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0];
    writer.add_mesh(
        "mesh/tetra",
        &Mesh::new(&vertices).faces(&faces).colors(&colors),
        119,
    )?;

    writer.add_text_table(
        "results",
        &["model", "dice"],
        &[["cnn", "0.93"], ["a|b", "0.5"]],
        119,
    )?;
    Ok(())
}
