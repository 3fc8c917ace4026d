//! Embeddings for TensorBoard's Projector: the files it reads from a run's
//! directory, laid out as tensorboardX and `torch.utils.tensorboard` lay
//! them out.
//!
//! For an embedding logged under `tag` at `step`, in the run directory:
//!
//! - `<step:05>/<tag>/tensors.tsv`: one point per line, values separated by
//!   tabs (or `tensors.bytes`, raw little-endian `f32`, see
//!   [`Embedding::binary`]);
//! - `<step:05>/<tag>/metadata.tsv`: one label per line, or a header line
//!   and one row per point when there are several columns;
//! - `<step:05>/<tag>/sprite.png`: the points' thumbnails in a square grid
//!   (with the `png` feature);
//! - `projector_config.pbtxt`: one `embeddings { ... }` entry per embedding
//!   (tensor name `<tag>:<step:05>`), updated in place: earlier entries are
//!   kept, and an entry of the same tag and step is replaced.
//!
//! Every file is written to a temporary name and renamed into place, the
//! data files before the configuration that points at them, so a reader
//! (or a crash) never sees a half-written file or an entry whose files are
//! missing.

use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use super::projector_config::{self, FILE_NAME};
use super::SummaryError;
use crate::proto::tensorboard::projector::EmbeddingInfo;
#[cfg(feature = "png")]
use crate::proto::tensorboard::projector::SpriteMetadata;

/// The Projector's largest sprite image side, in pixels.
pub const MAX_SPRITE_SIDE: usize = 8192;

/// Points to show in the Projector: `values` holds `n × dim` numbers, one
/// point after another, with optional labels and thumbnails.
#[derive(Debug, Clone)]
pub struct Embedding<'a> {
    values: &'a [f32],
    dim: usize,
    metadata: Option<Metadata>,
    sprite: Option<Sprite<'a>>,
    binary: bool,
}

/// Labels or columns of metadata, one row per point.
#[derive(Debug, Clone)]
struct Metadata {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Thumbnails for a sprite: `n × height × width × channels` 8-bit pixels,
/// one image per point, each row-major from the top-left with interleaved
/// channels (1 grey, 3 RGB, 4 RGBA). Sizes are `usize`, in that order.
#[derive(Debug, Clone, Copy)]
pub struct Sprite<'a> {
    pixels: &'a [u8],
    height: usize,
    width: usize,
    channels: usize,
}

impl<'a> Sprite<'a> {
    /// Thumbnails of `height × width` pixels with `channels` channels.
    pub fn new(pixels: &'a [u8], height: usize, width: usize, channels: usize) -> Self {
        Sprite {
            pixels,
            height,
            width,
            channels,
        }
    }
}

impl<'a> Embedding<'a> {
    /// An embedding of `values.len() / dim` points of `dim` numbers each;
    /// no metadata, no sprite, tensor stored as TSV.
    pub fn new(values: &'a [f32], dim: usize) -> Self {
        Embedding {
            values,
            dim,
            metadata: None,
            sprite: None,
            binary: false,
        }
    }

    /// One label per point: `metadata.tsv` with one column and no header
    /// (the Projector reads a one-column file that way). Tabs and line
    /// breaks in a label become spaces: TSV cannot escape them.
    pub fn labels<S: AsRef<str>>(mut self, labels: &[S]) -> Self {
        self.metadata = Some(Metadata {
            header: Vec::new(),
            rows: labels.iter().map(|l| vec![clean(l.as_ref())]).collect(),
        });
        self
    }

    /// Several metadata columns: `metadata.tsv` starts with `header` and has
    /// one row per point, each with one cell per column. The Projector can
    /// colour and search points by any column. With a single column the
    /// header is not written (the Projector would take it for a label).
    /// Tabs and line breaks in cells become spaces.
    pub fn columns<H, R, C>(mut self, header: &[H], rows: &[R]) -> Self
    where
        H: AsRef<str>,
        R: AsRef<[C]>,
        C: AsRef<str>,
    {
        self.metadata = Some(Metadata {
            header: header.iter().map(|h| clean(h.as_ref())).collect(),
            rows: rows
                .iter()
                .map(|row| row.as_ref().iter().map(|c| clean(c.as_ref())).collect())
                .collect(),
        });
        self
    }

    /// A thumbnail per point, tiled into `sprite.png`. Needs the `png`
    /// feature (without it, [`crate::summary::SummaryWriter::add_embedding`]
    /// rejects an embedding with a sprite).
    pub fn sprite(mut self, sprite: Sprite<'a>) -> Self {
        self.sprite = Some(sprite);
        self
    }

    /// Stores the tensor as raw little-endian `f32` (`tensors.bytes`, 4
    /// bytes a value) instead of TSV text (about 10 bytes a value, slower
    /// to parse). TensorBoard tries a tensor file as text first and takes
    /// it as binary only when it is not valid UTF-8, so data that happens
    /// to be valid UTF-8 (all zeros, for one) is written as TSV anyway.
    /// Off by default.
    pub fn binary(mut self) -> Self {
        self.binary = true;
        self
    }

    /// The number of points.
    pub fn len(&self) -> usize {
        self.values.len().checked_div(self.dim).unwrap_or(0)
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks shapes and counts; the reason is for an `InvalidArgument`.
    fn validate(&self) -> Result<(), String> {
        if self.dim == 0 || self.values.is_empty() || !self.values.len().is_multiple_of(self.dim) {
            return Err(format!(
                "{} values are not a positive number of {}-dimensional points",
                self.values.len(),
                self.dim
            ));
        }
        let n = self.len();
        if u32::try_from(n).is_err() || u32::try_from(self.dim).is_err() {
            return Err(format!(
                "{n}x{} is too large for the Projector's shape",
                self.dim
            ));
        }
        if let Some(meta) = &self.metadata {
            if meta.rows.len() != n {
                return Err(format!("{} metadata rows for {n} points", meta.rows.len()));
            }
            let columns = if meta.header.is_empty() {
                1
            } else {
                meta.header.len()
            };
            if let Some((i, row)) = meta
                .rows
                .iter()
                .enumerate()
                .find(|(_, r)| r.len() != columns)
            {
                return Err(format!(
                    "metadata row {i} has {} cells, the header {columns}",
                    row.len()
                ));
            }
        }
        if let Some(sprite) = &self.sprite {
            sprite_layout(sprite, n)?;
        }
        Ok(())
    }
}

/// A TSV cell: tabs and line breaks become spaces.
fn clean(cell: &str) -> String {
    cell.replace(['\t', '\n', '\r'], " ")
}

/// The tensor as TSV: one line per point, values shortest-round-trip
/// formatted (`NaN`, `inf` and `-inf` for non-finite values, which
/// Python's `float` reads).
pub fn tensor_tsv(values: &[f32], dim: usize) -> String {
    let mut out = String::with_capacity(values.len() * 10);
    for point in values.chunks(dim.max(1)) {
        for (i, x) in point.iter().enumerate() {
            if i > 0 {
                out.push('\t');
            }
            let _ = write!(out, "{x:?}");
        }
        out.push('\n');
    }
    out
}

/// `metadata.tsv`: a header line when there are several columns, then one
/// line per point.
fn metadata_tsv(meta: &Metadata) -> String {
    let mut out = String::new();
    if meta.header.len() > 1 {
        out.push_str(&meta.header.join("\t"));
        out.push('\n');
    }
    for row in &meta.rows {
        out.push_str(&row.join("\t"));
        out.push('\n');
    }
    out
}

/// Thumbnails per side of the sprite's square grid, after checking the
/// pixel count and the Projector's size limit.
fn sprite_layout(sprite: &Sprite<'_>, n: usize) -> Result<usize, String> {
    if !matches!(sprite.channels, 1 | 3 | 4) {
        return Err(format!(
            "sprite has {} channels, expected 1, 3 or 4",
            sprite.channels
        ));
    }
    if sprite.width == 0 || sprite.height == 0 {
        return Err(format!(
            "sprite thumbnails of {}x{} have no pixels",
            sprite.width, sprite.height
        ));
    }
    let expected = sprite
        .height
        .checked_mul(sprite.width)
        .and_then(|per_image| per_image.checked_mul(sprite.channels))
        .and_then(|per_image| per_image.checked_mul(n));
    if Some(sprite.pixels.len()) != expected {
        return Err(format!(
            "sprite has {} bytes, expected {n}x{}x{}x{} (points x height x width x channels)",
            sprite.pixels.len(),
            sprite.height,
            sprite.width,
            sprite.channels
        ));
    }
    let side = (n as f64).sqrt().ceil() as usize;
    let side = if side.saturating_mul(side) < n {
        side + 1
    } else {
        side
    };
    let too_big = |thumb: usize| side.checked_mul(thumb).is_none_or(|s| s > MAX_SPRITE_SIDE);
    if too_big(sprite.width) || too_big(sprite.height) {
        return Err(format!(
            "a {side}x{side} grid of {}x{} thumbnails exceeds the Projector's \
             {MAX_SPRITE_SIDE}x{MAX_SPRITE_SIDE} sprite limit",
            sprite.width, sprite.height
        ));
    }
    Ok(side)
}

/// The sprite's pixels: thumbnails in a square grid, row by row from the
/// top-left, unused cells black; returns (height, width, pixels).
pub fn sprite_pixels(sprite: &Sprite<'_>, n: usize) -> Result<(usize, usize, Vec<u8>), String> {
    // At most MAX_SPRITE_SIDE pixels a side: nothing below overflows.
    let side = sprite_layout(sprite, n)?;
    let (w, h, c) = (sprite.width, sprite.height, sprite.channels);
    let row_bytes = side * w * c;
    let mut out = vec![0u8; row_bytes * side * h];
    for (i, image) in sprite.pixels.chunks_exact(w * h * c).enumerate() {
        let (gx, gy) = (i % side, i / side);
        for y in 0..h {
            let src = &image[y * w * c..(y + 1) * w * c];
            let at = (gy * h + y) * row_bytes + gx * w * c;
            out[at..at + w * c].copy_from_slice(src);
        }
    }
    Ok((side * h, side * w, out))
}

/// Serializes read-modify-write updates of `projector_config.pbtxt` within
/// this process (clones of a writer, or several writers on one run).
static CONFIG_LOCK: Mutex<()> = Mutex::new(());

fn asset_error(path: &Path, source: io::Error) -> SummaryError {
    SummaryError::WriteAsset {
        path: path.to_owned(),
        source: Arc::new(source),
    }
}

/// Writes `bytes` to `path`: atomically for a local file
/// ([`crate::atomic::write`]), as one upload on an object store (an object
/// appears whole or not at all).
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SummaryError> {
    crate::storage::write(path, bytes).map_err(|e| asset_error(path, e))
}

/// Checks that `tag` can name a directory under the run: not empty, no
/// path separators or `.`/`..`, no control characters.
fn check_tag(tag: &str) -> Result<(), String> {
    if tag.is_empty() || tag == "." || tag == ".." {
        return Err(format!("{tag:?} cannot name a directory"));
    }
    if let Some(c) = tag
        .chars()
        .find(|&c| matches!(c, '/' | '\\') || c.is_control())
    {
        return Err(format!("{tag:?} contains {c:?}; the tag names a directory"));
    }
    Ok(())
}

/// Writes the Projector's files for `embedding` under the run directory
/// `logdir` and records it in `projector_config.pbtxt` (see the module
/// docs). Returns the directory of the data files.
///
/// A tag that cannot name a directory, a negative step, and the shape
/// errors of [`Embedding`] are an [`SummaryError::InvalidArgument`]; I/O
/// failures and a `projector_config.pbtxt` that cannot be parsed are a
/// [`SummaryError::WriteAsset`] (the existing config is then left as it
/// is). Neither affects the event file.
pub fn write_embedding(
    logdir: &Path,
    tag: &str,
    step: i64,
    embedding: &Embedding<'_>,
) -> Result<PathBuf, SummaryError> {
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: tag.to_owned(),
        what,
        reason,
    };
    check_tag(tag).map_err(|r| invalid("tag", r))?;
    if step < 0 {
        return Err(invalid(
            "step",
            format!("{step}, expected 0 or more (it names a directory)"),
        ));
    }
    embedding.validate().map_err(|r| invalid("embedding", r))?;
    #[cfg(not(feature = "png"))]
    if embedding.sprite.is_some() {
        return Err(invalid(
            "embedding",
            "a sprite needs tbseg's `png` feature".into(),
        ));
    }

    let subdir = format!("{step:05}/{tag}");
    let dir = logdir.join(format!("{step:05}")).join(tag);
    if !crate::storage::is_remote(&dir) {
        fs::create_dir_all(&dir).map_err(|e| asset_error(&dir, e))?;
    }
    let n = embedding.len();
    let mut info = EmbeddingInfo {
        tensor_name: format!("{tag}:{step:05}"),
        tensor_shape: vec![n as u32, embedding.dim as u32],
        ..Default::default()
    };

    let raw: Vec<u8> = embedding
        .values
        .iter()
        .flat_map(|x| x.to_le_bytes())
        .collect();
    if embedding.binary && std::str::from_utf8(&raw).is_err() {
        write_atomically(&dir.join("tensors.bytes"), &raw)?;
        info.tensor_path = format!("{subdir}/tensors.bytes");
    } else {
        let tsv = tensor_tsv(embedding.values, embedding.dim);
        write_atomically(&dir.join("tensors.tsv"), tsv.as_bytes())?;
        info.tensor_path = format!("{subdir}/tensors.tsv");
    }
    if let Some(meta) = &embedding.metadata {
        write_atomically(&dir.join("metadata.tsv"), metadata_tsv(meta).as_bytes())?;
        info.metadata_path = format!("{subdir}/metadata.tsv");
    }
    #[cfg(feature = "png")]
    if let Some(sprite) = &embedding.sprite {
        let (height, width, pixels) =
            sprite_pixels(sprite, n).map_err(|r| invalid("embedding", r))?;
        let png = super::png::encode(height, width, sprite.channels, &pixels)?;
        write_atomically(&dir.join("sprite.png"), &png)?;
        info.sprite = Some(SpriteMetadata {
            image_path: format!("{subdir}/sprite.png"),
            // Validated: at most MAX_SPRITE_SIDE.
            single_image_dim: vec![sprite.width as u32, sprite.height as u32],
        });
    }

    let config_path = logdir.join(FILE_NAME);
    let _guard = CONFIG_LOCK.lock().unwrap_or_else(PoisonError::into_inner);
    let text = crate::storage::read(&config_path).and_then(|bytes| {
        String::from_utf8(bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
    });
    let mut config = match text {
        Ok(text) => projector_config::parse(&text).map_err(|reason| {
            asset_error(
                &config_path,
                io::Error::new(io::ErrorKind::InvalidData, reason),
            )
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Default::default(),
        Err(e) => return Err(asset_error(&config_path, e)),
    };
    projector_config::upsert(&mut config, info);
    write_atomically(&config_path, projector_config::to_text(&config).as_bytes())?;
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tensor_tsv_round_trips_every_f32() {
        let values = [
            0.1,
            -2.5e-8,
            3.0e30,
            1.0,
            f32::MIN_POSITIVE,
            f32::NAN,
            f32::INFINITY,
            -0.0,
        ];
        let tsv = tensor_tsv(&values, 4);
        let lines: Vec<&str> = tsv.lines().collect();
        assert_eq!(lines.len(), 2);
        let parsed: Vec<f32> = lines
            .iter()
            .flat_map(|l| l.split('\t'))
            .map(|s| s.parse().unwrap())
            .collect();
        for (a, b) in values.iter().zip(&parsed) {
            assert!(
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan()),
                "{a} vs {b}"
            );
        }
        assert_eq!(lines[0], "0.1\t-2.5e-8\t3e30\t1.0");
    }

    #[test]
    fn metadata_has_a_header_only_with_several_columns() {
        let one = Embedding::new(&[0.0; 2], 1).labels(&["a\tb", "c\nd"]);
        assert_eq!(metadata_tsv(one.metadata.as_ref().unwrap()), "a b\nc d\n");
        let two = Embedding::new(&[0.0; 2], 1)
            .columns(&["label", "split"], &[["7", "train"], ["1", "val"]]);
        assert_eq!(
            metadata_tsv(two.metadata.as_ref().unwrap()),
            "label\tsplit\n7\ttrain\n1\tval\n"
        );
        let single = Embedding::new(&[0.0; 1], 1).columns(&["label"], &[["7"]]);
        assert_eq!(metadata_tsv(single.metadata.as_ref().unwrap()), "7\n");
    }

    #[test]
    fn sprite_tiles_thumbnails_in_a_square_grid() {
        // Five 1x2 grey thumbnails (values 10i, 10i+1) in a 3x3 grid.
        let pixels: Vec<u8> = (0..5).flat_map(|i| [10 * i, 10 * i + 1]).collect();
        let (h, w, out) = sprite_pixels(&Sprite::new(&pixels, 1, 2, 1), 5).unwrap();
        assert_eq!((h, w), (3, 6));
        assert_eq!(
            out,
            [0, 1, 10, 11, 20, 21, 30, 31, 40, 41, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        let err = sprite_pixels(&Sprite::new(&[0; 3], 1, 1, 1), 2).unwrap_err();
        assert!(
            err.contains("sprite has 3 bytes, expected 2x1x1x1"),
            "{err}"
        );
        let big = vec![0; 4 * 5000];
        let err = sprite_pixels(&Sprite::new(&big, 1, 5000, 1), 4).unwrap_err();
        assert!(err.contains("8192x8192"), "{err}");
        // Sizes whose product overflows, and 259 channels (3 after a
        // truncation to u8), are rejected before anything is allocated.
        for sprite in [
            Sprite::new(&[], usize::MAX, 2, 1),
            Sprite::new(&[], 1 << 32, 1 << 32, 1),
            Sprite::new(&[0; 259], 1, 1, 259),
        ] {
            assert!(sprite_pixels(&sprite, 1).is_err(), "{sprite:?}");
        }
        let thumb = [0u8; 1];
        assert!(sprite_pixels(&Sprite::new(&thumb, 1, usize::MAX, 1), 1).is_err());
    }

    #[test]
    fn shapes_and_tags_are_checked() {
        let dir = tempfile::tempdir().unwrap();
        let reason = |tag: &str, step, e: &Embedding| {
            write_embedding(dir.path(), tag, step, e)
                .unwrap_err()
                .to_string()
        };
        let ok = Embedding::new(&[1.0, 2.0], 1);
        assert!(reason("a/b", 0, &ok).contains("the tag names a directory"));
        assert!(reason("..", 0, &ok).contains("cannot name a directory"));
        assert!(reason("t", -1, &ok).contains("expected 0 or more"));
        assert!(reason("t", 0, &Embedding::new(&[1.0; 3], 2))
            .contains("3 values are not a positive number of 2-dimensional points"));
        assert!(reason("t", 0, &Embedding::new(&[], 2)).contains("0 values"));
        assert!(reason("t", 0, &ok.clone().labels(&["x"])).contains("1 metadata rows for 2 points"));
        assert!(reason(
            "t",
            0,
            &ok.clone()
                .columns(&["a", "b"], &[vec!["1", "2"], vec!["3"]])
        )
        .contains("metadata row 1 has 1 cells, the header 2"));
        assert!(!dir.path().join(FILE_NAME).exists(), "nothing written");
    }

    #[test]
    fn config_keeps_earlier_embeddings_and_replaces_the_same_step() {
        let dir = tempfile::tempdir().unwrap();
        let logdir = dir.path();
        write_embedding(
            logdir,
            "words",
            0,
            &Embedding::new(&[1.0, 2.0, 3.0, 4.0], 2).labels(&["a", "b"]),
        )
        .unwrap();
        write_embedding(logdir, "words", 10, &Embedding::new(&[5.0, 6.0], 2)).unwrap();
        write_embedding(logdir, "images", 10, &Embedding::new(&[7.0], 1)).unwrap();
        // Again at step 10: replaced, not duplicated.
        write_embedding(
            logdir,
            "words",
            10,
            &Embedding::new(&[8.0, 9.0, 1.5, 2.5], 2),
        )
        .unwrap();
        let config =
            projector_config::parse(&fs::read_to_string(logdir.join(FILE_NAME)).unwrap()).unwrap();
        let names: Vec<&str> = config
            .embeddings
            .iter()
            .map(|e| e.tensor_name.as_str())
            .collect();
        assert_eq!(names, ["words:00000", "words:00010", "images:00010"]);
        let first = &config.embeddings[0];
        assert_eq!(first.tensor_path, "00000/words/tensors.tsv");
        assert_eq!(first.metadata_path, "00000/words/metadata.tsv");
        assert_eq!(first.tensor_shape, [2, 2]);
        assert_eq!(config.embeddings[1].tensor_shape, [2, 2]);
        assert_eq!(
            fs::read_to_string(logdir.join("00010/words/tensors.tsv")).unwrap(),
            "8.0\t9.0\n1.5\t2.5\n"
        );
        assert_eq!(
            fs::read_to_string(logdir.join("00000/words/metadata.tsv")).unwrap(),
            "a\nb\n"
        );
        // No temporary files left behind.
        let leftovers: Vec<_> = fs::read_dir(logdir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".tmp."))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
    }

    #[test]
    fn an_unreadable_config_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        fs::write(&path, "embeddings { colour: 1 }\n").unwrap();
        let err = write_embedding(dir.path(), "t", 0, &Embedding::new(&[1.0], 1)).unwrap_err();
        assert!(matches!(err, SummaryError::WriteAsset { .. }), "{err}");
        assert!(!err.is_fatal());
        // The parse error is the source; the message names the file.
        let source = std::error::Error::source(&err).unwrap().to_string();
        assert!(source.contains("unknown field \"colour\""), "{source}");
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "embeddings { colour: 1 }\n"
        );
    }

    #[test]
    fn binary_tensor_unless_it_is_valid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        write_embedding(
            dir.path(),
            "b",
            1,
            &Embedding::new(&[1.0, -2.0], 2).binary(),
        )
        .unwrap();
        let bytes = fs::read(dir.path().join("00001/b/tensors.bytes")).unwrap();
        assert_eq!(
            bytes,
            [1.0f32.to_le_bytes(), (-2.0f32).to_le_bytes()].concat()
        );
        // All zeros is valid UTF-8: TensorBoard would parse it as text.
        write_embedding(dir.path(), "z", 1, &Embedding::new(&[0.0, 0.0], 2).binary()).unwrap();
        assert!(dir.path().join("00001/z/tensors.tsv").exists());
        let config =
            projector_config::parse(&fs::read_to_string(dir.path().join(FILE_NAME)).unwrap())
                .unwrap();
        assert_eq!(config.embeddings[0].tensor_path, "00001/b/tensors.bytes");
        assert_eq!(config.embeddings[1].tensor_path, "00001/z/tensors.tsv");
    }

    #[test]
    #[cfg(feature = "png")]
    fn sprite_png_and_its_config_entry() {
        let dir = tempfile::tempdir().unwrap();
        let pixels: Vec<u8> = (0..3 * 2 * 2 * 3).map(|i| i as u8 * 7).collect();
        let e = Embedding::new(&[1.0, 2.0, 3.0], 1).sprite(Sprite::new(&pixels, 2, 2, 3));
        write_embedding(dir.path(), "s", 3, &e).unwrap();
        let png = fs::read(dir.path().join("00003/s/sprite.png")).unwrap();
        assert_eq!(&png[1..4], b"PNG");
        // IHDR: a 2x2 grid of 2x2 thumbnails.
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), 4);
        assert_eq!(u32::from_be_bytes(png[20..24].try_into().unwrap()), 4);
        let config =
            projector_config::parse(&fs::read_to_string(dir.path().join(FILE_NAME)).unwrap())
                .unwrap();
        let sprite = config.embeddings[0].sprite.as_ref().unwrap();
        assert_eq!(sprite.image_path, "00003/s/sprite.png");
        assert_eq!(sprite.single_image_dim, [2, 2]);
    }
}
