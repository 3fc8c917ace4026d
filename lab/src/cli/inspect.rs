//! `tbseg inspect LOGDIR`: what a log directory holds, run by run and tag
//! by tag, without starting TensorBoard.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};

use tbseg::reader::{
    FileStatus, HparamsRecord, ImageFormat, Logdir, MeshComponent, Point, Run, Series, TensorData,
    Value,
};

/// Summarize the runs and tags of a TensorBoard log directory.
///
/// Prints one row per tag: its run, the dashboard it belongs to, how many
/// points it has, its step range and its last value in a few words (a
/// scalar's number, an image's size, a histogram's range, a text's first
/// line, ...), plus a row per graph and per Projector embedding. Files
/// that end in a torn record (a writer still running, or one that crashed)
/// or that are damaged are listed after the table.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The log directory (or a single event file); also an s3://, gs:// or az:// URL.
    logdir: PathBuf,
}

/// Scans the log directory and prints its summary.
pub fn run(args: Args) -> anyhow::Result<()> {
    let logdir = Logdir::scan(&args.logdir)?;
    if logdir.is_empty() {
        bail!(
            "no event files (names containing \"tfevents\") under {}",
            args.logdir.display()
        );
    }
    let mut out = std::io::stdout().lock();
    out.write_all(table(&logdir).as_bytes())
        .context("writing to stdout")?;
    out.flush().context("writing to stdout")?;
    Ok(())
}

/// The runs as an aligned table (one row per tag, plus one per graph and
/// per embedding), followed by a note for every file that ended in a torn
/// tail or an error.
pub fn table(logdir: &Logdir) -> String {
    let header = ["run", "tag", "kind", "points", "steps", "last value"];
    let mut rows: Vec<[String; 6]> = Vec::new();
    for (name, run) in &logdir.runs {
        for (tag, series) in &run.tags {
            rows.push([
                name.clone(),
                tag.clone(),
                series.kind.to_string(),
                series.count.to_string(),
                step_range(series),
                last_value(series),
            ]);
        }
        rows.extend(graph_row(name, run));
        rows.extend(embedding_rows(logdir, name));
    }
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let header = header.map(String::from);
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:<w4$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            row[5],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
            w4 = widths[4],
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    notes(logdir, &mut out);
    out
}

fn graph_row(name: &str, run: &Run) -> Option<[String; 6]> {
    if !run.has_graph() {
        return None;
    }
    let last = match run.graph() {
        Ok(Some(graph)) => plural(graph.nodes.len(), "node"),
        Ok(None) => String::new(),
        Err(e) => format!("error: {e}"),
    };
    Some([
        name.to_owned(),
        "(graph)".into(),
        "graph".into(),
        run.graphs.to_string(),
        String::new(),
        last,
    ])
}

fn embedding_rows(logdir: &Logdir, name: &str) -> Vec<[String; 6]> {
    let embeddings = match logdir.embeddings(name) {
        Ok(embeddings) => embeddings,
        Err(e) => {
            return vec![[
                name.to_owned(),
                "(projector)".into(),
                "embedding".into(),
                String::new(),
                String::new(),
                format!("error: {}", tbseg::error_line(&e)),
            ]]
        }
    };
    embeddings
        .iter()
        .map(|e| {
            let (tag, step) = match e.tag_and_step() {
                Some((tag, step)) => (tag.to_owned(), step.to_string()),
                None => (e.tensor_name.clone(), String::new()),
            };
            let mut last = format!("{} x {}", plural(e.points, "point"), e.dim);
            if let Some(meta) = &e.metadata {
                let columns = meta.header.len().max(1);
                let _ = write!(last, ", {}", plural(columns, "metadata column"));
            }
            if let Some(sprite) = &e.sprite {
                let (w, h) = sprite.thumbnail;
                let _ = write!(last, ", {w}x{h} sprites");
            }
            [
                name.to_owned(),
                tag,
                "embedding".into(),
                "1".into(),
                step,
                last,
            ]
        })
        .collect()
}

fn notes(logdir: &Logdir, out: &mut String) {
    for (name, run) in &logdir.runs {
        if run.purged > 0 {
            let _ = writeln!(
                out,
                "note: run {name}: {} points dropped by a SessionLog START (a resumed run)",
                run.purged
            );
        }
        for file in &run.files {
            let path = file.path.display();
            let _ = match &file.status {
                FileStatus::Complete => Ok(()),
                FileStatus::TornTail { offset } => writeln!(
                    out,
                    "note: {path}: ends in a torn record at byte {offset} (still being written?)"
                ),
                FileStatus::Failed(e) => writeln!(
                    out,
                    "error: {path}: {} (read {} events before it)",
                    tbseg::error_line(e),
                    file.events
                ),
            };
            for e in &file.skipped {
                let _ = writeln!(out, "warning: {path}: skipped: {}", tbseg::error_line(e));
            }
            let unlisted = file.skipped_count.saturating_sub(file.skipped.len() as u64);
            if unlisted > 0 {
                let _ = writeln!(
                    out,
                    "warning: {path}: skipped {unlisted} more damaged records"
                );
            }
        }
    }
}

fn step_range(series: &Series) -> String {
    if series.first_step == series.last_step {
        series.first_step.to_string()
    } else {
        format!("{}..{}", series.first_step, series.last_step)
    }
}

/// The tag's last value in a few words.
fn last_value(series: &Series) -> String {
    match series.last_decoded() {
        None => String::new(),
        Some(Ok(Point { value, .. })) => describe(&value),
        Some(Err(e)) => format!("error: {e}"),
    }
}

fn describe(value: &Value) -> String {
    match value {
        Value::Scalar(x) => number(*x),
        Value::Images(images) => {
            let Some(first) = images.first() else {
                return "no images".into();
            };
            let mut text = format!(
                "{} {}x{}",
                plural(images.len(), "image"),
                first.width,
                first.height
            );
            if let Some(c) = first.channels {
                let _ = write!(text, "x{c}");
            }
            let format = match first.format {
                ImageFormat::Png => "png",
                ImageFormat::Gif => "gif",
                ImageFormat::Jpeg => "jpeg",
                _ => "unknown format",
            };
            let _ = write!(text, " {format}");
            if let Some(frames) = first.frame_count() {
                let _ = write!(text, ", {}", plural(frames, "frame"));
            }
            text
        }
        Value::Histogram(h) => {
            let mut text = format!(
                "{}, {} values",
                plural(h.buckets.len(), "bucket"),
                number(h.count())
            );
            if let (Some(min), Some(max)) = (h.min(), h.max()) {
                let _ = write!(text, " in [{}, {}]", number(min), number(max));
            }
            text
        }
        Value::Text(t) => match t.table() {
            Some(table) => format!(
                "table of {} x {}",
                plural(table.rows.len(), "row"),
                plural(table.header.len(), "column")
            ),
            None => {
                let text = t.as_markdown();
                let first = text.lines().next().unwrap_or("");
                let short: String = first.chars().take(60).collect();
                let mut quoted = format!("{short:?}");
                if short.len() < text.len() {
                    quoted.push('…');
                }
                quoted
            }
        },
        Value::PrCurve(c) => {
            let mut text = plural(c.thresholds.len(), "threshold");
            // The column nearest the 0.5 threshold, the usual cut-off.
            let middle = c
                .thresholds
                .iter()
                .enumerate()
                .min_by(|a, b| (a.1 - 0.5).abs().total_cmp(&(b.1 - 0.5).abs()))
                .map(|(i, _)| i);
            if let Some(i) = middle {
                let _ = write!(
                    text,
                    "; at {}: precision {}, recall {}",
                    number(c.thresholds[i]),
                    number(c.precision[i]),
                    number(c.recall[i])
                );
            }
            text
        }
        Value::Audio(clips) => match clips.first() {
            Some(clip) => format!(
                "{}, {:.3} s at {} Hz, {}",
                plural(clips.len(), "clip"),
                clip.duration_secs(),
                clip.sample_rate,
                plural(clip.channels, "channel")
            ),
            None => "no clips".into(),
        },
        Value::Hparams(HparamsRecord::SessionStart(start)) => start
            .hparams
            .iter()
            .map(|(name, value)| format!("{name}={}", hparam(value)))
            .collect::<Vec<_>>()
            .join(", "),
        Value::Hparams(HparamsRecord::Experiment(e)) => {
            let metrics: Vec<&str> = e.metrics.iter().map(|m| m.tag.as_str()).collect();
            format!(
                "{}, {}: {}",
                plural(e.hparams.len(), "hparam"),
                plural(metrics.len(), "metric"),
                metrics.join(", ")
            )
        }
        Value::Hparams(HparamsRecord::SessionEnd(end)) => format!("status {:?}", end.status),
        Value::Mesh(part) => match &part.component {
            MeshComponent::Vertices(s) => plural(s.iter().map(Vec::len).sum(), "vertex"),
            MeshComponent::Faces(s) => plural(s.iter().map(Vec::len).sum(), "face"),
            MeshComponent::Colors(s) => plural(s.iter().map(Vec::len).sum(), "colour"),
            _ => "mesh component".into(),
        },
        Value::CustomScalars(layout) => format!(
            "{}, {}",
            plural(layout.categories.len(), "category"),
            plural(layout.chart_count(), "chart")
        ),
        Value::Tensor(t) => {
            let kind = match &t.data {
                TensorData::Strings(_) => "strings",
                TensorData::Numbers(_) => "numbers",
                _ => "values",
            };
            format!("{} {:?} {kind}", t.dtype, t.shape)
        }
        _ => "a value of a newer kind".into(),
    }
}

fn hparam(value: &tbseg::summary::HParamValue) -> String {
    match value {
        tbseg::summary::HParamValue::Float(x) => number(*x),
        tbseg::summary::HParamValue::Bool(b) => b.to_string(),
        tbseg::summary::HParamValue::Text(s) => format!("{s:?}"),
        #[allow(unreachable_patterns)]
        other => format!("{other:?}"),
    }
}

/// A number in its shortest form: a value logged as `f32` (exactly
/// representable as one) prints as the `f32` it was, not as its longer
/// `f64` expansion.
fn number(x: f64) -> String {
    let narrow = x as f32;
    if f64::from(narrow) == x || x.is_nan() {
        narrow.to_string()
    } else {
        x.to_string()
    }
}

fn plural(n: usize, noun: &str) -> String {
    let plural = match noun {
        "vertex" => "vertices".to_owned(),
        "category" => "categories".to_owned(),
        _ => format!("{noun}s"),
    };
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {plural}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tbseg::summary::custom_scalars::{Category, Layout};
    use tbseg::summary::embedding::Embedding;
    use tbseg::summary::graph::{GraphBuilder, Node};
    use tbseg::summary::mesh::Mesh;
    use tbseg::summary::video::VideoFrames;
    use tbseg::summary::{
        HParamValue, ImageLayout, PrCurveOptions, SessionStatus, SummaryWriter, NO_METRICS,
    };

    /// A run with one tag of every kind the writer writes.
    fn every_kind(dir: &std::path::Path) {
        let w = SummaryWriter::new(dir).unwrap();
        w.add_scalar("loss", 0.25, 3).unwrap();
        w.add_image("input", &[0u8; 4 * 2 * 3], ImageLayout::Hwc(2, 4, 3), 3)
            .unwrap();
        w.add_histogram("weights", &[0.5f32, 1.0, 2.0], 3).unwrap();
        w.add_text("note", "first line\nsecond line", 3).unwrap();
        w.add_text_table("table", &["a", "b"], &[["1", "2"]], 3)
            .unwrap();
        w.add_pr_curve_with(
            "pr",
            &[true, false],
            &[0.9, 0.2],
            &PrCurveOptions::default().num_thresholds(3),
            3,
        )
        .unwrap();
        w.add_audio("sound", &[0.0; 800], 1, 8000, 3).unwrap();
        let frames = [0u8; 2 * 2 * 2 * 3];
        w.add_video("clip", &VideoFrames::from_u8(&frames, 2, 2, 2, 3), 4.0, 3)
            .unwrap();
        let vertices = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        w.add_mesh("tri", &Mesh::new(&vertices).faces(&[0, 1, 2]), 3)
            .unwrap();
        w.add_custom_scalars(
            &Layout::new().category(Category::new("losses").multiline("all", ["loss.*"])),
        )
        .unwrap();
        w.add_hparams([("lr", HParamValue::Float(0.01))], NO_METRICS, 0)
            .unwrap();
        w.end_hparams(SessionStatus::Success).unwrap();
        let mut graph = GraphBuilder::new();
        graph.add_node(Node::new("x", "Placeholder"));
        w.add_graph(&graph.into_graph_def()).unwrap();
        let points = [0.0, 1.0, 2.0, 3.0];
        w.add_embedding(
            "features",
            &Embedding::new(&points, 2).labels(&["a", "b"]),
            5,
        )
        .unwrap();
        w.close().unwrap();
    }

    #[test]
    fn one_line_per_tag_with_every_kinds_last_value() {
        let dir = tempfile::tempdir().unwrap();
        every_kind(dir.path());
        let table = table(&Logdir::scan(dir.path()).unwrap());
        let want = "\
run  tag                           kind            points  steps  last value
.    _hparams_/session_end_info    hparams              1  0      status Success
.    _hparams_/session_start_info  hparams              1  0      lr=0.01
.    clip                          image                1  3      1 image 2x2 gif, 2 frames
.    custom_scalars__config__      custom_scalars       1  0      1 category, 1 chart
.    input                         image                1  3      1 image 4x2x3 png
.    loss                          scalar               1  3      0.25
.    note                          text                 1  3      \"first line\"…
.    pr                            pr_curve             1  3      3 thresholds; at 0.5: precision 1, recall 1
.    sound                         audio                1  3      1 clip, 0.100 s at 8000 Hz, 1 channel
.    table                         text                 1  3      table of 1 row x 2 columns
.    tri_FACE                      mesh                 1  3      1 face
.    tri_VERTEX                    mesh                 1  3      3 vertices
.    weights                       histogram            1  3      16 buckets, 3 values in [0.5, 2]
.    (graph)                       graph                1         1 node
.    features                      embedding            1  5      2 points x 2, 1 metadata column
";
        assert_eq!(table, want);
    }
}
