//! The [`SummaryWriter`] methods for the summary kinds PyTorch users know
//! from `torch.utils.tensorboard` and tensorboardX beyond scalars, images
//! and histograms: embeddings, audio, video, custom scalar layouts, meshes,
//! text tables and images with boxes. Each encodes on the calling thread (see the kind's
//! module) and hands the result to the writer's queue.

use std::path::Path;

#[cfg(feature = "png")]
use super::boxes::{draw_boxes, DEFAULT_BOX_COLOR, DEFAULT_BOX_THICKNESS};
use super::custom_scalars::{custom_scalars, Layout};
use super::embedding::{write_embedding, Embedding};
use super::mesh::{mesh, Mesh};
use super::text_table::markdown_table;
use super::values::{self, Summary};
use super::video::{encode_gif, video, VideoFrames};
use super::{audio, Step, SummaryError, SummaryWriter};

impl SummaryWriter {
    /// The run directory, for writers created in a log directory; `None`
    /// for a caller-supplied sink ([`SummaryWriter::with_writer`]), whose
    /// label is not a file in a run directory.
    pub(super) fn run_dir(&self) -> Option<&Path> {
        let path = self.path();
        let name = path.file_name()?.to_str()?;
        let dir = path.parent()?;
        // On an object store the writer's path is its first segment's URL;
        // the run is the prefix it sits under.
        let in_logdir =
            super::is_event_file_name(name) && (crate::storage::is_remote(path) || path.is_file());
        in_logdir.then_some(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    }

    /// Logs an embedding for the Projector: writes its tensor, metadata and
    /// sprite files under `<run>/<step:05>/<tag>/` and adds it to the run's
    /// `projector_config.pbtxt`, keeping the embeddings already there (see
    /// [`crate::summary::embedding`]). Unlike other kinds, nothing goes
    /// into the event file; the files are complete when this returns.
    ///
    /// A writer over a caller-supplied sink has no run directory and
    /// returns an [`SummaryError::InvalidArgument`]. Shape errors, a
    /// negative step (it names a directory) and a step outside `i64`'s
    /// range are an `InvalidArgument` too, and file errors a
    /// [`SummaryError::WriteAsset`]; neither affects the writer. The
    /// Projector keeps no wall time: a [`Step`]'s is only checked.
    ///
    /// ```no_run
    /// use tbseg::summary::embedding::Embedding;
    /// # let writer = tbseg::summary::SummaryWriter::new("runs/exp1")?;
    /// let points = [0.1, 0.9, 0.8, 0.2, 0.5, 0.5]; // three 2-D points
    /// let embedding = Embedding::new(&points, 2).labels(&["cat", "dog", "cow"]);
    /// writer.add_embedding("features", &embedding, 100)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_embedding(
        &self,
        tag: &str,
        embedding: &Embedding<'_>,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let (step, _) = step.into().resolve(tag, || 0.0)?;
        let Some(run_dir) = self.run_dir() else {
            return Err(SummaryError::InvalidArgument {
                tag: tag.to_owned(),
                what: "writer",
                reason: format!(
                    "embeddings are files in the run directory, and the writer for {} has none \
                     (create it with SummaryWriter::new or builder)",
                    self.path().display()
                ),
            });
        };
        write_embedding(run_dir, tag, step, embedding).map(drop)
    }

    /// Logs an audio clip: `samples` are interleaved `f32` frames of
    /// `channels` channels in `[-1, 1]` at `sample_rate` Hz, stored as
    /// 16-bit PCM WAV in the audio dashboard's form (see
    /// [`audio::encode_wav`] and [`audio::audio`]).
    ///
    /// ```
    /// # let writer = tbseg::summary::SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let tone: Vec<f32> = (0..800).map(|i| (i as f32 * 0.2).sin() * 0.5).collect();
    /// writer.add_audio("audio/tone", &tone, 1, 8000, 3)?; // 0.1 s, mono
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_audio(
        &self,
        tag: &str,
        samples: &[f32],
        channels: usize,
        sample_rate: u32,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let wav = audio::encode_wav(samples, channels, sample_rate).map_err(|e| retag(e, tag))?;
        self.add_value(audio::audio(tag, vec![wav]), step)
    }

    /// Logs a video as an animated GIF at `fps` frames per second in the
    /// Images dashboard, as tensorboardX's `add_video` does (see
    /// [`encode_gif`] for the colour handling and limits).
    ///
    /// ```
    /// use tbseg::summary::video::VideoFrames;
    /// # let writer = tbseg::summary::SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// // Two frames of 2 rows of 3 grey pixels: black, then white.
    /// let pixels = [[0u8; 6], [255; 6]].concat();
    /// writer.add_video("clip", &VideoFrames::from_u8(&pixels, 2, 2, 3, 1), 4.0, 0)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_video(
        &self,
        tag: &str,
        frames: &VideoFrames<'_>,
        fps: f32,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let gif = encode_gif(frames, fps).map_err(|e| retag(e, tag))?;
        self.add_value(video(tag, frames.height(), frames.width(), gif), step)
    }

    /// Logs the run's layout for the Custom Scalars dashboard, at step 0
    /// (see [`crate::summary::custom_scalars`]). Call it once per run; the
    /// dashboard shows the layout of the last call.
    pub fn add_custom_scalars(&self, layout: &Layout) -> Result<(), SummaryError> {
        self.add_value(custom_scalars(layout), 0)
    }

    /// Logs a mesh or point cloud for the Mesh dashboard: its components go
    /// into one event under `<tag>_VERTEX`, `<tag>_FACE` and `<tag>_COLOR`
    /// (see [`crate::summary::mesh`]).
    ///
    /// ```
    /// use tbseg::summary::mesh::Mesh;
    /// # let writer = tbseg::summary::SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let vertices = [0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0]; // one triangle
    /// writer.add_mesh("shape", &Mesh::new(&vertices).faces(&[0, 1, 2]), 0)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_mesh(
        &self,
        tag: &str,
        mesh_data: &Mesh<'_>,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let value = mesh(tag, mesh_data)?;
        // Checked here so that an error names `tag`, not `<tag>_VERTEX`.
        let step = step.into();
        step.resolve(tag, || 0.0)?;
        self.add_summary(Summary { value }, step)
    }

    /// Logs a table as Markdown text (see [`markdown_table`]): the Text
    /// dashboard renders it with a header row.
    ///
    /// ```
    /// # let writer = tbseg::summary::SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// writer.add_text_table("runs", &["lr", "dice"], &[["0.01", "0.91"], ["0.1", "0.87"]], 5)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_text_table<H, R, C>(
        &self,
        tag: &str,
        header: &[H],
        rows: &[R],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>
    where
        H: AsRef<str>,
        R: AsRef<[C]>,
        C: AsRef<str>,
    {
        let table = markdown_table(header, rows).map_err(|e| retag(e, tag))?;
        self.add_value(values::text(tag, &table), step)
    }
}

#[cfg(feature = "png")]
impl SummaryWriter {
    /// Logs an 8-bit image of shape `hwc = [height, width, channels]`
    /// (row-major, channels 1 grey, 3 RGB or 4 RGBA) with the outline of
    /// each box drawn on it in red, 2 pixels wide, as tensorboardX's
    /// `add_image_with_boxes` does. Boxes are `[x_min, y_min, x_max,
    /// y_max]` in pixels; a grey image is drawn on in colour (see
    /// [`draw_boxes`] for the details and errors).
    ///
    /// ```
    /// # let writer = tbseg::summary::SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let grey = vec![128u8; 48 * 64]; // 48 rows of 64 pixels
    /// writer.add_image_with_boxes("det", &grey, [48, 64, 1], &[[4.0, 4.0, 30.0, 20.0]], 2)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_image_with_boxes(
        &self,
        tag: &str,
        pixels: &[u8],
        hwc: [usize; 3],
        boxes: &[[f32; 4]],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let [height, width, channels] = hwc;
        if !matches!(channels, 1 | 3 | 4) {
            return Err(SummaryError::InvalidArgument {
                tag: tag.to_owned(),
                what: "channels",
                reason: format!("{channels}, expected 1, 3 or 4"),
            });
        }
        // Before the grey image is tripled: the pixel count must match.
        if Some(pixels.len())
            != height
                .checked_mul(width)
                .and_then(|n| n.checked_mul(channels))
        {
            return Err(SummaryError::InvalidArgument {
                tag: tag.to_owned(),
                what: "pixels",
                reason: format!(
                    "{} bytes, expected {height}x{width}x{channels} (height x width x channels)",
                    pixels.len()
                ),
            });
        }
        let mut canvas = if channels == 1 {
            pixels.iter().flat_map(|&v| [v, v, v]).collect()
        } else {
            pixels.to_vec()
        };
        let channels = if channels == 1 { 3 } else { channels };
        draw_boxes(
            &mut canvas,
            height,
            width,
            channels,
            boxes,
            DEFAULT_BOX_COLOR,
            DEFAULT_BOX_THICKNESS,
        )
        .map_err(|e| retag(e, tag))?;
        let png =
            super::png::encode(height, width, channels, &canvas).map_err(|e| retag(e, tag))?;
        self.add_value(values::image(tag, height, width, png), step)
    }
}

/// Puts the summary's tag into an argument error raised by an encoder that
/// does not know it.
fn retag(error: SummaryError, tag: &str) -> SummaryError {
    match error {
        SummaryError::InvalidArgument { what, reason, .. } => SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what,
            reason,
        },
        other => other,
    }
}
