//! Audio summaries: 16-bit PCM WAV encoding and the audio dashboard's
//! summary value, in the form `tf.summary.audio` writes.

use prost::Message;

use super::values::{shape, Value};
use super::SummaryError;
use crate::proto::tensorboard::{audio_plugin_data, AudioPluginData};
use crate::proto::tensorflow::{summary, summary_metadata, DataType, SummaryMetadata, TensorProto};

/// The audio dashboard's plugin name.
pub const PLUGIN_NAME: &str = "audio";

/// Bytes of a canonical PCM WAV header (`RIFF`, `fmt ` and `data` chunk
/// headers).
const WAV_HEADER_LEN: usize = 44;

/// Encodes interleaved `f32` samples as a 16-bit PCM WAV file.
///
/// `samples` holds `frames × channels` values, frame after frame (for
/// stereo: left, right, left, right, ...), nominally in `[-1, 1]`. Each is
/// converted as TensorFlow's `tf.audio.encode_wav` does: multiplied by
/// 32768, rounded, and clamped to `[-32768, 32767]`, so values outside
/// `[-1, 1]` clip; NaN becomes 0. A channel count of 0 or above WAV's
/// 32767, a sample rate of 0, a sample count that is not a multiple of
/// `channels`, and a clip too large for WAV's 32-bit sizes are an
/// [`SummaryError::InvalidArgument`].
///
/// ```
/// let wav = tbseg::summary::audio::encode_wav(&[0.0, 0.5, -1.0], 1, 8000)?;
/// assert_eq!(&wav[..4], b"RIFF");
/// assert_eq!(wav.len(), 44 + 3 * 2);
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
pub fn encode_wav(
    samples: &[f32],
    channels: usize,
    sample_rate: u32,
) -> Result<Vec<u8>, SummaryError> {
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: "wav".into(),
        what,
        reason,
    };
    if channels == 0 {
        return Err(invalid("channels", "0, expected at least 1".into()));
    }
    if sample_rate == 0 {
        return Err(invalid("sample rate", "0 Hz, expected at least 1".into()));
    }
    if !samples.len().is_multiple_of(channels) {
        return Err(invalid(
            "samples",
            format!(
                "{} samples are not a whole number of {channels}-channel frames",
                samples.len()
            ),
        ));
    }
    let data_len = samples.len() * 2;
    let data_len_u32 = u32::try_from(data_len)
        .ok()
        .filter(|&n| n <= u32::MAX - WAV_HEADER_LEN as u32)
        .ok_or_else(|| {
            invalid(
                "samples",
                format!("{} samples exceed WAV's 4 GiB limit", samples.len()),
            )
        })?;
    // Two bytes a sample: a frame (`block_align`) must fit WAV's u16.
    let block_align = u16::try_from(channels)
        .ok()
        .and_then(|c| c.checked_mul(2))
        .ok_or_else(|| {
            invalid(
                "channels",
                format!("{channels}, expected at most 32767 (WAV's limit)"),
            )
        })?;
    let channels = block_align / 2;
    let byte_rate = sample_rate
        .checked_mul(u32::from(block_align))
        .ok_or_else(|| {
            invalid(
                "sample rate",
                format!("{sample_rate} Hz is too high for WAV"),
            )
        })?;

    let mut out = Vec::with_capacity(WAV_HEADER_LEN + data_len);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len_u32).to_le_bytes());
    out.extend_from_slice(b"WAVE");
    out.extend_from_slice(b"fmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // format 1: integer PCM
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&sample_rate.to_le_bytes());
    out.extend_from_slice(&byte_rate.to_le_bytes());
    out.extend_from_slice(&block_align.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len_u32.to_le_bytes());
    for &sample in samples {
        out.extend_from_slice(&pcm16(sample).to_le_bytes());
    }
    Ok(out)
}

/// One sample as TensorFlow's WAV encoder converts it.
fn pcm16(sample: f32) -> i16 {
    if sample.is_nan() {
        return 0;
    }
    // `as` saturates, which is the clamp TensorFlow applies.
    (sample * 32768.0).round() as i16
}

/// An audio summary of one or more WAV-encoded clips (see [`encode_wav`]):
/// a DT_STRING `[k, 2]` tensor whose rows are `[wav, label]`, plugin
/// `audio` with `AudioPluginData{version: 0, encoding: WAV}`, exactly as
/// `tf.summary.audio` writes it.
///
/// The labels are left empty, as `tf.summary.audio` leaves them (the audio
/// dashboard of TensorBoard 2.x does not show labels). The metadata's data
/// class is left unset on purpose: TensorBoard then converts the `[k, 2]`
/// tensor into its `k` clips, which it would not do for a tensor that
/// already claims to be a blob sequence.
pub fn audio(tag: &str, wavs: Vec<Vec<u8>>) -> Value {
    let clips = wavs.len() as i64;
    let mut strings = Vec::with_capacity(wavs.len() * 2);
    for wav in wavs {
        strings.push(wav);
        strings.push(Vec::new());
    }
    let plugin = AudioPluginData {
        version: 0,
        encoding: audio_plugin_data::Encoding::Wav as i32,
        ..Default::default()
    };
    Value {
        tag: tag.to_owned(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(summary_metadata::PluginData {
                plugin_name: PLUGIN_NAME.to_owned(),
                content: plugin.encode_to_vec(),
            }),
            ..Default::default()
        }),
        value: Some(summary::value::Value::Tensor(TensorProto {
            dtype: DataType::DtString as i32,
            tensor_shape: Some(shape(&[clips, 2])),
            string_val: strings,
            ..Default::default()
        })),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], at: usize) -> u16 {
        u16::from_le_bytes([b[at], b[at + 1]])
    }

    fn u32_at(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
    }

    #[test]
    fn wav_header_describes_16_bit_pcm() {
        let wav = encode_wav(&[0.0; 6], 2, 44_100).unwrap();
        assert_eq!(wav.len(), 44 + 12);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32_at(&wav, 4), 36 + 12);
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u32_at(&wav, 16), 16);
        assert_eq!(u16_at(&wav, 20), 1, "PCM");
        assert_eq!(u16_at(&wav, 22), 2, "channels");
        assert_eq!(u32_at(&wav, 24), 44_100);
        assert_eq!(u32_at(&wav, 28), 44_100 * 4, "byte rate");
        assert_eq!(u16_at(&wav, 32), 4, "block align");
        assert_eq!(u16_at(&wav, 34), 16, "bits");
        assert_eq!(&wav[36..40], b"data");
        assert_eq!(u32_at(&wav, 40), 12);
    }

    #[test]
    fn samples_convert_as_tensorflow_does() {
        let input = [
            0.0,
            1.0,
            -1.0,
            0.5,
            -0.5,
            2.0,
            -3.0,
            f32::NAN,
            1.0 / 65536.0,
        ];
        let wav = encode_wav(&input, 1, 8000).unwrap();
        let pcm: Vec<i16> = wav[44..]
            .chunks(2)
            .map(|c| i16::from_le_bytes([c[0], c[1]]))
            .collect();
        // 1.0 * 32768 clamps to 32767; 1/65536 * 32768 = 0.5 rounds away
        // from zero, as C's roundf does.
        assert_eq!(pcm, [0, 32767, -32768, 16384, -16384, 32767, -32768, 0, 1]);
    }

    #[test]
    fn bad_arguments_are_rejected_with_the_reason() {
        let err = encode_wav(&[0.0; 3], 2, 8000).unwrap_err();
        assert!(
            err.to_string()
                .contains("3 samples are not a whole number of 2-channel frames"),
            "{err}"
        );
        assert!(encode_wav(&[0.0], 0, 8000).is_err());
        assert!(encode_wav(&[0.0], 1, 0)
            .unwrap_err()
            .to_string()
            .contains("0 Hz"));
        assert!(encode_wav(&[0.0; 2], 2, u32::MAX).is_err());
        let err = encode_wav(&[0.0; 32768], 32768, 8000).unwrap_err();
        assert!(err.to_string().contains("at most 32767"), "{err}");
        assert!(encode_wav(&[], usize::MAX, 8000).is_err());
    }

    #[test]
    fn audio_value_is_k_by_2_strings_with_wav_plugin_data() {
        let a = encode_wav(&[0.1], 1, 8000).unwrap();
        let b = encode_wav(&[0.2], 1, 8000).unwrap();
        let value = audio("sound", vec![a.clone(), b.clone()]);
        assert_eq!(value.tag, "sound");
        let Some(summary::value::Value::Tensor(t)) = &value.value else {
            panic!("not a tensor")
        };
        assert_eq!(t.dtype, DataType::DtString as i32);
        let dims: Vec<i64> = t
            .tensor_shape
            .as_ref()
            .unwrap()
            .dim
            .iter()
            .map(|d| d.size)
            .collect();
        assert_eq!(dims, [2, 2]);
        assert_eq!(t.string_val, [a, Vec::new(), b, Vec::new()]);
        let metadata = value.metadata.unwrap();
        assert_eq!(metadata.data_class, 0, "left for TensorBoard to migrate");
        let plugin = metadata.plugin_data.unwrap();
        assert_eq!(plugin.plugin_name, "audio");
        let data = AudioPluginData::decode(plugin.content.as_slice()).unwrap();
        assert_eq!(data.version, 0);
        assert_eq!(data.encoding, 11, "WAV");
    }
}
