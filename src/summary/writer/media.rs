//! Audio clips, videos (as animated GIFs) and 3-D meshes or point clouds.

use super::{retag, SummaryWriter};
use crate::summary::audio;
use crate::summary::inputs::Step;
use crate::summary::mesh::{mesh, Mesh};
use crate::summary::values::Summary;
use crate::summary::video::{encode_gif, video, VideoFrames};
use crate::summary::SummaryError;

impl SummaryWriter {
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
}
