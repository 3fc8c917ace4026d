//! Audio read back: WAV clips decoded into samples, from TensorFlow 2's
//! `[k, 2]` string tensor of `[wav, label]` rows (what tbseg and
//! `tf.summary.audio` write) or from the legacy `Summary.Audio` (what
//! torch's `add_audio` writes).

use crate::proto::tensorflow::{summary, TensorProto};

use super::tensor::{self, TensorError};

/// One logged audio clip.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AudioClip {
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: usize,
    /// The samples in `[-1, 1]`, interleaved frame after frame (for
    /// stereo: left, right, left, ...). 16-bit PCM sample `s` reads as
    /// `s / 32768`, the inverse of the writer's conversion.
    pub samples: Vec<f32>,
    /// The clip's label (empty when none was logged, as TensorFlow 2
    /// writes it).
    pub label: String,
    /// The WAV file as logged.
    pub encoded: Vec<u8>,
}

impl AudioClip {
    /// Frames in the clip: samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / self.channels.max(1)
    }

    /// The clip's length in seconds.
    pub fn duration_secs(&self) -> f64 {
        self.frames() as f64 / f64::from(self.sample_rate.max(1))
    }
}

/// The clips of a `[k, 2]` (or `[k]`) string tensor.
pub(crate) fn from_tensor(tensor: &TensorProto) -> Result<Vec<AudioClip>, TensorError> {
    let shape = tensor::shape(tensor)?;
    let strings = tensor::strings(tensor)?;
    let width = match shape.as_slice() {
        [_, 2] => 2,
        [_] => 1,
        _ => {
            return tensor::error(format!(
                "an audio tensor of shape {shape:?}, expected [clips, 2]"
            ))
        }
    };
    if strings.len() != tensor::element_count(&shape)? {
        return tensor::error(format!(
            "{} strings for an audio tensor of shape {shape:?}",
            strings.len()
        ));
    }
    strings
        .chunks_exact(width)
        .map(|row| {
            let label = row.get(1).map(|l| String::from_utf8_lossy(l).into_owned());
            decode_wav(&row[0], label.unwrap_or_default())
        })
        .collect()
}

/// The clip of a legacy `Summary.Audio`.
pub(crate) fn from_legacy(audio: &summary::Audio) -> Result<AudioClip, TensorError> {
    decode_wav(&audio.encoded_audio_string, String::new())
}

/// Decodes a RIFF WAV file of integer PCM (8, 16, 24 or 32 bits) or IEEE
/// float (32 or 64 bits) samples.
pub(crate) fn decode_wav(wav: &[u8], label: String) -> Result<AudioClip, TensorError> {
    if wav.get(..4) != Some(b"RIFF") || wav.get(8..12) != Some(b"WAVE") {
        return tensor::error("the audio is not a RIFF WAVE file");
    }
    let mut format = None;
    let mut data = None;
    let mut at = 12;
    while let Some(header) = wav.get(at..at + 8) {
        let len = u32::from_le_bytes(header[4..8].try_into().unwrap()) as usize;
        let body_start = at + 8;
        // A data chunk whose size runs past the file (a streaming writer's
        // placeholder) is read to the end of the file.
        let body = wav
            .get(body_start..body_start.saturating_add(len))
            .unwrap_or(&wav[body_start..]);
        match &header[..4] {
            b"fmt " => format = Some(body),
            b"data" => data = Some(body),
            _ => {}
        }
        // Chunks are padded to an even size.
        at = body_start.saturating_add(len).saturating_add(len & 1);
    }
    let (Some(fmt), Some(data)) = (format, data) else {
        return tensor::error("the WAV file has no fmt or data chunk");
    };
    if fmt.len() < 16 {
        return tensor::error(format!("the WAV fmt chunk has {} bytes", fmt.len()));
    }
    let u16_at = |i: usize| u16::from_le_bytes([fmt[i], fmt[i + 1]]);
    let mut encoding = u16_at(0);
    let channels = usize::from(u16_at(2));
    let sample_rate = u32::from_le_bytes(fmt[4..8].try_into().unwrap());
    let bits = u16_at(14);
    // WAVE_FORMAT_EXTENSIBLE keeps the real format in its sub-format GUID.
    if encoding == 0xfffe && fmt.len() >= 26 {
        encoding = u16_at(24);
    }
    if channels == 0 {
        return tensor::error("the WAV file has 0 channels");
    }
    let samples: Vec<f32> = match (encoding, bits) {
        (1, 8) => data
            .iter()
            .map(|&b| (f32::from(b) - 128.0) / 128.0)
            .collect(),
        (1, 16) => data
            .chunks_exact(2)
            .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
            .collect(),
        (1, 24) => data
            .chunks_exact(3)
            .map(|b| (i32::from_le_bytes([0, b[0], b[1], b[2]]) >> 8) as f32 / 8_388_608.0)
            .collect(),
        (1, 32) => data
            .chunks_exact(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()) as f32 / 2_147_483_648.0)
            .collect(),
        (3, 32) => data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
            .collect(),
        (3, 64) => data
            .chunks_exact(8)
            .map(|b| f64::from_le_bytes(b.try_into().unwrap()) as f32)
            .collect(),
        _ => {
            return tensor::error(format!(
                "WAV encoding {encoding} with {bits}-bit samples, expected PCM or float"
            ))
        }
    };
    Ok(AudioClip {
        sample_rate,
        channels,
        samples,
        label,
        encoded: wav.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_what_the_writer_encodes() {
        let samples = [0.0, 0.5, -1.0, 0.25];
        let wav = crate::summary::audio::encode_wav(&samples, 2, 8000).unwrap();
        let clip = decode_wav(&wav, "x".into()).unwrap();
        assert_eq!(clip.samples, samples);
        assert_eq!((clip.channels, clip.sample_rate), (2, 8000));
        assert_eq!((clip.frames(), clip.duration_secs()), (2, 2.0 / 8000.0));
        assert_eq!(clip.label, "x");
    }

    #[test]
    fn rejects_what_is_not_wav() {
        assert_eq!(
            decode_wav(b"OggS", String::new()).unwrap_err().0,
            "the audio is not a RIFF WAVE file"
        );
        assert_eq!(
            decode_wav(b"RIFF\0\0\0\0WAVE", String::new())
                .unwrap_err()
                .0,
            "the WAV file has no fmt or data chunk"
        );
    }
}
