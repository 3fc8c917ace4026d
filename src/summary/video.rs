//! Video summaries: frames encoded as an animated GIF (GIF89a, LZW) and
//! logged as an image, as tensorboardX's `add_video` does. Browsers play
//! the GIF in TensorBoard's Images dashboard.

use std::collections::HashMap;

use super::values::{self, Value};
use super::SummaryError;

/// Frames of a video: `frames × height × width × channels` raw pixels,
/// frame after frame, each frame row-major from the top-left with
/// interleaved channels (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA). Sizes
/// are `usize`, in that order.
#[derive(Debug, Clone, Copy)]
pub struct VideoFrames<'a> {
    pixels: Pixels<'a>,
    frames: usize,
    height: usize,
    width: usize,
    channels: usize,
}

#[derive(Debug, Clone, Copy)]
enum Pixels<'a> {
    U8(&'a [u8]),
    F32(&'a [f32]),
}

impl<'a> VideoFrames<'a> {
    /// Frames of 8-bit pixels (0 black, 255 full intensity).
    pub fn from_u8(
        pixels: &'a [u8],
        frames: usize,
        height: usize,
        width: usize,
        channels: usize,
    ) -> Self {
        VideoFrames {
            pixels: Pixels::U8(pixels),
            frames,
            height,
            width,
            channels,
        }
    }

    /// Frames of `f32` pixels in `[0, 1]`; values outside are clamped, NaN
    /// is black.
    pub fn from_f32(
        pixels: &'a [f32],
        frames: usize,
        height: usize,
        width: usize,
        channels: usize,
    ) -> Self {
        VideoFrames {
            pixels: Pixels::F32(pixels),
            frames,
            height,
            width,
            channels,
        }
    }

    /// The frame height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// The frame width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Checks the sizes against GIF's limits and the pixel count.
    fn validate(&self) -> Result<(), String> {
        if !(1..=4).contains(&self.channels) {
            return Err(format!("{} channels, expected 1, 2, 3 or 4", self.channels));
        }
        if self.frames == 0 || self.width == 0 || self.height == 0 {
            return Err(format!(
                "{} frames of {}x{} have no pixels",
                self.frames, self.width, self.height
            ));
        }
        let gif_limit = usize::from(u16::MAX);
        if self.width > gif_limit || self.height > gif_limit {
            return Err(format!(
                "{}x{} (height x width) exceeds GIF's 65535x65535 limit",
                self.height, self.width
            ));
        }
        // Each side is at most 65535 here, so their product fits.
        let expected = self
            .frames
            .checked_mul(self.width * self.height)
            .and_then(|n| n.checked_mul(self.channels));
        let len = match self.pixels {
            Pixels::U8(p) => p.len(),
            Pixels::F32(p) => p.len(),
        };
        if expected != Some(len) {
            return Err(format!(
                "{len} values, expected {}x{}x{}x{} (frames x height x width x channels)",
                self.frames, self.height, self.width, self.channels
            ));
        }
        Ok(())
    }

    /// Every pixel's RGB colour (alpha dropped, grey repeated), all frames.
    fn rgb(&self) -> Vec<[u8; 3]> {
        let c = self.channels;
        let to_u8 = |x: f32| {
            if x.is_nan() {
                0
            } else {
                (x.clamp(0.0, 1.0) * 255.0).round() as u8
            }
        };
        let pixel = |p: &[u8]| if c < 3 { [p[0]; 3] } else { [p[0], p[1], p[2]] };
        match self.pixels {
            Pixels::U8(p) => p.chunks_exact(c).map(pixel).collect(),
            Pixels::F32(p) => p
                .chunks_exact(c)
                .map(|px| {
                    let bytes: Vec<u8> = px.iter().map(|&x| to_u8(x)).collect();
                    pixel(&bytes)
                })
                .collect(),
        }
    }
}

/// Encodes frames as a looping animated GIF at `fps` frames per second.
///
/// GIF stores at most 256 colours. When all frames together use 256
/// colours or fewer (grey video always does) they are kept exactly;
/// otherwise every pixel is rounded to the nearest colour of a fixed
/// 6×7×6 RGB cube (no dithering). Alpha is ignored. GIF counts frame
/// delays in hundredths of a second and browsers slow delays under 0.02 s
/// down, so the delay is `100 / fps` rounded, at least 2: rates above 50
/// fps play at 50.
///
/// Zero frames or pixels, a side over 65535, a pixel count other than
/// `frames × height × width × channels`, and an `fps` that is not a
/// positive finite number are an [`SummaryError::InvalidArgument`].
///
/// ```
/// use tbseg::summary::video::{encode_gif, VideoFrames};
/// // Two 2x2 grey frames: black, then white.
/// let pixels = [0, 0, 0, 0, 255, 255, 255, 255];
/// let gif = encode_gif(&VideoFrames::from_u8(&pixels, 2, 2, 2, 1), 4.0)?;
/// assert_eq!(&gif[..6], b"GIF89a");
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
pub fn encode_gif(frames: &VideoFrames<'_>, fps: f32) -> Result<Vec<u8>, SummaryError> {
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: "gif".into(),
        what,
        reason,
    };
    frames
        .validate()
        .map_err(|reason| invalid("frames", reason))?;
    if !(fps.is_finite() && fps > 0.0) {
        return Err(invalid("fps", format!("{fps}, expected a positive number")));
    }
    let delay = (100.0 / fps).round().clamp(2.0, f32::from(u16::MAX)) as u16;
    let rgb = frames.rgb();
    let (palette, indices) = quantize(&rgb);
    // The colour table holds 2^(n+1) entries; LZW codes start one bit
    // wider than the largest index, and GIF requires at least 2 bits.
    let table_bits = (usize::BITS - (palette.len() - 1).max(1).leading_zeros()).max(1) as u8;
    let min_code_size = table_bits.max(2);

    // Validated above: both sides fit GIF's u16.
    let (w, h) = (frames.width as u16, frames.height as u16);
    let mut out = Vec::with_capacity(indices.len() / 2 + 1024);
    out.extend_from_slice(b"GIF89a");
    out.extend_from_slice(&w.to_le_bytes());
    out.extend_from_slice(&h.to_le_bytes());
    // Global colour table present, 8 bits of colour resolution, table size.
    out.push(0x80 | 0x70 | (table_bits - 1));
    out.push(0); // background colour index
    out.push(0); // pixel aspect ratio: unspecified
    for i in 0..1usize << table_bits {
        out.extend_from_slice(palette.get(i).unwrap_or(&[0, 0, 0]));
    }
    // NETSCAPE2.0 application extension: loop forever.
    out.extend_from_slice(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00");
    let frame_len = frames.width * frames.height;
    for frame in indices.chunks_exact(frame_len) {
        // Graphic control extension: disposal "leave in place", no
        // transparency, the delay.
        out.extend_from_slice(&[0x21, 0xf9, 0x04, 0x04]);
        out.extend_from_slice(&delay.to_le_bytes());
        out.extend_from_slice(&[0x00, 0x00]);
        // Image descriptor: the whole screen, no local colour table.
        out.push(0x2c);
        out.extend_from_slice(&[0, 0, 0, 0]);
        out.extend_from_slice(&w.to_le_bytes());
        out.extend_from_slice(&h.to_le_bytes());
        out.push(0);
        out.push(min_code_size);
        for block in lzw_encode(frame, min_code_size).chunks(255) {
            out.push(block.len() as u8);
            out.extend_from_slice(block);
        }
        out.push(0); // end of the image data
    }
    out.push(0x3b); // trailer
    Ok(out)
}

/// A palette of at most 256 colours and each pixel's index into it.
fn quantize(rgb: &[[u8; 3]]) -> (Vec<[u8; 3]>, Vec<u8>) {
    let mut palette: Vec<[u8; 3]> = Vec::new();
    let mut index_of: HashMap<[u8; 3], u8> = HashMap::new();
    let mut indices = Vec::with_capacity(rgb.len());
    for &colour in rgb {
        let next = palette.len();
        match index_of.get(&colour) {
            Some(&i) => indices.push(i),
            None if next < 256 => {
                index_of.insert(colour, next as u8);
                palette.push(colour);
                indices.push(next as u8);
            }
            None => return cube_quantize(rgb),
        }
    }
    (palette, indices)
}

/// Levels of the fixed colour cube per channel (6 × 7 × 6 = 252 colours;
/// green gets one more level because the eye resolves it best).
const CUBE: [u16; 3] = [6, 7, 6];

fn cube_quantize(rgb: &[[u8; 3]]) -> (Vec<[u8; 3]>, Vec<u8>) {
    let level = |x: u8, levels: u16| (u16::from(x) * (levels - 1) + 127) / 255;
    let value = |l: u16, levels: u16| (l * 255 / (levels - 1)) as u8;
    let mut palette = Vec::with_capacity(252);
    for r in 0..CUBE[0] {
        for g in 0..CUBE[1] {
            for b in 0..CUBE[2] {
                palette.push([value(r, CUBE[0]), value(g, CUBE[1]), value(b, CUBE[2])]);
            }
        }
    }
    let indices = rgb
        .iter()
        .map(|&[r, g, b]| {
            let (r, g, b) = (level(r, CUBE[0]), level(g, CUBE[1]), level(b, CUBE[2]));
            ((r * CUBE[1] + g) * CUBE[2] + b) as u8
        })
        .collect();
    (palette, indices)
}

/// GIF's variable-length LZW (codes of 3 to 12 bits, packed
/// least-significant bit first), as Go's `compress/lzw` writes it: the
/// code width grows when the code just assigned reaches the next power of
/// two, and a clear code follows the assignment of code 4095.
fn lzw_encode(indices: &[u8], min_code_size: u8) -> Vec<u8> {
    const MAX_CODE: u16 = 4095;
    let clear = 1u16 << min_code_size;
    let end = clear + 1;
    let mut bits = BitWriter::default();
    let mut width = min_code_size + 1;
    let mut next = end + 1;
    let mut table: HashMap<u32, u16> = HashMap::with_capacity(4096);
    bits.write(clear, width);
    let Some((&first, rest)) = indices.split_first() else {
        bits.write(end, width);
        return bits.finish();
    };
    let mut prefix = u16::from(first);
    for &byte in rest {
        let key = u32::from(prefix) << 8 | u32::from(byte);
        if let Some(&code) = table.get(&key) {
            prefix = code;
            continue;
        }
        bits.write(prefix, width);
        prefix = u16::from(byte);
        let assigned = next;
        table.insert(key, assigned);
        next += 1;
        if assigned == 1 << width {
            width += 1;
        }
        if assigned == MAX_CODE {
            bits.write(clear, width);
            table.clear();
            width = min_code_size + 1;
            next = end + 1;
        }
    }
    bits.write(prefix, width);
    bits.write(end, width);
    bits.finish()
}

/// Packs codes least-significant bit first.
#[derive(Default)]
struct BitWriter {
    out: Vec<u8>,
    acc: u32,
    len: u8,
}

impl BitWriter {
    fn write(&mut self, code: u16, width: u8) {
        self.acc |= u32::from(code) << self.len;
        self.len += width;
        while self.len >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.len -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.len > 0 {
            self.out.push(self.acc as u8);
        }
        self.out
    }
}

/// A video summary of `height × width` frames: the GIF as a one-image
/// summary `[width, height, gif]` of the `images` plugin (see
/// [`values::image`]); TensorBoard serves it with the `image/gif` type it
/// detects from the bytes.
pub fn video(tag: &str, height: usize, width: usize, gif: Vec<u8>) -> Value {
    values::image(tag, height, width, gif)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A decoded GIF: size, global palette, and each frame's indices and
    /// delay.
    pub(crate) struct Gif {
        pub width: u16,
        pub height: u16,
        pub palette: Vec<[u8; 3]>,
        pub frames: Vec<(Vec<u8>, u16)>,
    }

    /// A strict decoder for the subset `encode_gif` writes.
    pub(crate) fn decode_gif(gif: &[u8]) -> Gif {
        assert_eq!(&gif[..6], b"GIF89a");
        let u16_at = |at: usize| u16::from_le_bytes([gif[at], gif[at + 1]]);
        let (width, height) = (u16_at(6), u16_at(8));
        let packed = gif[10];
        assert_eq!(packed & 0x80, 0x80, "global colour table");
        let table = 1usize << ((packed & 7) + 1);
        let palette = gif[13..13 + 3 * table]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect();
        let mut at = 13 + 3 * table;
        let mut frames = Vec::new();
        let mut delay = 0;
        loop {
            match gif[at] {
                0x21 => {
                    let label = gif[at + 1];
                    if label == 0xf9 {
                        delay = u16_at(at + 4);
                    }
                    at += 2;
                    while gif[at] != 0 {
                        at += 1 + gif[at] as usize;
                    }
                    at += 1;
                }
                0x2c => {
                    assert_eq!((u16_at(at + 5), u16_at(at + 7)), (width, height));
                    assert_eq!(gif[at + 9], 0, "no local table, not interlaced");
                    let min_code_size = gif[at + 10];
                    at += 11;
                    let mut data = Vec::new();
                    while gif[at] != 0 {
                        let n = gif[at] as usize;
                        data.extend_from_slice(&gif[at + 1..at + 1 + n]);
                        at += 1 + n;
                    }
                    at += 1;
                    let pixels = lzw_decode(&data, min_code_size);
                    assert_eq!(pixels.len(), width as usize * height as usize);
                    frames.push((pixels, delay));
                }
                0x3b => {
                    assert_eq!(at + 1, gif.len(), "nothing after the trailer");
                    return Gif {
                        width,
                        height,
                        palette,
                        frames,
                    };
                }
                other => panic!("unexpected block 0x{other:02x} at {at}"),
            }
        }
    }

    /// The textbook GIF LZW decoder.
    fn lzw_decode(data: &[u8], min_code_size: u8) -> Vec<u8> {
        let clear = 1usize << min_code_size;
        let end = clear + 1;
        let mut table: Vec<Vec<u8>> = Vec::new();
        let reset = |table: &mut Vec<Vec<u8>>| {
            table.clear();
            table.extend((0..clear).map(|i| vec![i as u8]));
            table.push(Vec::new());
            table.push(Vec::new());
        };
        reset(&mut table);
        let mut width = min_code_size + 1;
        let (mut acc, mut len, mut pos) = (0u32, 0u8, 0usize);
        let mut out = Vec::new();
        let mut prev: Option<usize> = None;
        loop {
            while len < width {
                acc |= u32::from(data[pos]) << len;
                pos += 1;
                len += 8;
            }
            let code = (acc & ((1 << width) - 1)) as usize;
            acc >>= width;
            len -= width;
            if code == clear {
                reset(&mut table);
                width = min_code_size + 1;
                prev = None;
                continue;
            }
            if code == end {
                assert!(data.len() - pos <= 1, "data after the end code");
                return out;
            }
            let entry = match prev {
                None => table[code].clone(),
                Some(p) => {
                    let entry = if code < table.len() {
                        table[code].clone()
                    } else {
                        assert_eq!(code, table.len(), "code out of range");
                        let mut e = table[p].clone();
                        e.push(table[p][0]);
                        e
                    };
                    if table.len() < 4096 {
                        let mut added = table[p].clone();
                        added.push(entry[0]);
                        table.push(added);
                    }
                    entry
                }
            };
            if table.len() == 1 << width && width < 12 {
                width += 1;
            }
            out.extend_from_slice(&entry);
            prev = Some(code);
        }
    }

    fn lcg(seed: &mut u64) -> u8 {
        *seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (*seed >> 56) as u8
    }

    #[test]
    fn lzw_round_trips_through_table_resets() {
        // Noise fills the 4096-entry table many times over; runs and a
        // two-colour image exercise the smallest code size.
        let mut seed = 7;
        let noise: Vec<u8> = (0..200_000).map(|_| lcg(&mut seed)).collect();
        assert_eq!(lzw_decode(&lzw_encode(&noise, 8), 8), noise);
        let runs: Vec<u8> = (0..50_000u32).map(|i| (i / 1000 % 4) as u8).collect();
        assert_eq!(lzw_decode(&lzw_encode(&runs, 2), 2), runs);
        let two: Vec<u8> = (0..9999u32).map(|i| (i * i % 7 % 2) as u8).collect();
        assert_eq!(lzw_decode(&lzw_encode(&two, 2), 2), two);
        assert_eq!(lzw_decode(&lzw_encode(&[], 2), 2), Vec::<u8>::new());
        assert_eq!(lzw_decode(&lzw_encode(&[3], 2), 2), [3]);
    }

    #[test]
    fn grey_frames_decode_exactly_with_the_delay() {
        // Three 5x4 frames, a moving bright column on a gradient.
        let (t, h, w) = (3usize, 4usize, 5usize);
        let pixels: Vec<u8> = (0..t * h * w)
            .map(|i| {
                let (f, x) = (i / (h * w), i % w);
                if x == f {
                    255
                } else {
                    (i % 20 * 10) as u8
                }
            })
            .collect();
        let gif = encode_gif(&VideoFrames::from_u8(&pixels, t, h, w, 1), 10.0).unwrap();
        let decoded = decode_gif(&gif);
        assert_eq!((decoded.width, decoded.height), (5, 4));
        assert_eq!(decoded.frames.len(), 3);
        for (f, (indices, delay)) in decoded.frames.iter().enumerate() {
            assert_eq!(*delay, 10, "1/10 s");
            let frame = &pixels[f * 20..(f + 1) * 20];
            let colours: Vec<u8> = indices
                .iter()
                .map(|&i| decoded.palette[i as usize][0])
                .collect();
            assert_eq!(colours, frame);
            assert!(indices.iter().all(|&i| {
                let [r, g, b] = decoded.palette[i as usize];
                r == g && g == b
            }));
        }
        // Looping: the NETSCAPE2.0 extension with count 0.
        assert!(gif.windows(11).any(|w| w == b"NETSCAPE2.0"));
    }

    #[test]
    fn many_colours_go_to_the_cube_and_f32_is_scaled() {
        // 32x32 frames with 1024 distinct colours.
        let (h, w) = (32usize, 32usize);
        let mut pixels = Vec::new();
        for y in 0..h {
            for x in 0..w {
                pixels.extend_from_slice(&[x as f32 / 31.0, y as f32 / 31.0, 0.5]);
            }
        }
        let gif = encode_gif(&VideoFrames::from_f32(&pixels, 1, h, w, 3), 25.0).unwrap();
        let decoded = decode_gif(&gif);
        assert_eq!(decoded.frames[0].1, 4);
        for (i, &index) in decoded.frames[0].0.iter().enumerate() {
            let got = decoded.palette[index as usize];
            for c in 0..3 {
                let want = (pixels[i * 3 + c] * 255.0).round();
                // Half a cube step at most: 255 / 5 / 2 = 25.5.
                assert!(
                    (f32::from(got[c]) - want).abs() <= 25.5,
                    "pixel {i}: {got:?}"
                );
            }
        }
    }

    #[test]
    fn few_colours_stay_exact_and_alpha_is_dropped() {
        let pixels = [
            10, 20, 30, 0, 200, 100, 50, 255, //
            10, 20, 30, 128, 1, 2, 3, 255,
        ];
        let gif = encode_gif(&VideoFrames::from_u8(&pixels, 2, 1, 2, 4), 1000.0).unwrap();
        let decoded = decode_gif(&gif);
        assert_eq!(decoded.frames[0].1, 2, "delay floor");
        let colours: Vec<[u8; 3]> = decoded
            .frames
            .iter()
            .flat_map(|(f, _)| f.iter().map(|&i| decoded.palette[i as usize]))
            .collect();
        assert_eq!(
            colours,
            [[10, 20, 30], [200, 100, 50], [10, 20, 30], [1, 2, 3]]
        );
    }

    #[test]
    fn bad_frames_are_rejected_with_the_reason() {
        let err = encode_gif(&VideoFrames::from_u8(&[0; 11], 3, 2, 2, 1), 5.0).unwrap_err();
        assert!(
            err.to_string()
                .contains("11 values, expected 3x2x2x1 (frames x height x width x channels)"),
            "{err}"
        );
        assert!(encode_gif(&VideoFrames::from_u8(&[], 0, 2, 2, 1), 5.0).is_err());
        assert!(encode_gif(&VideoFrames::from_u8(&[0; 4], 1, 2, 2, 1), 0.0).is_err());
        assert!(encode_gif(&VideoFrames::from_u8(&[0; 4], 1, 2, 2, 1), f32::NAN).is_err());
        assert!(encode_gif(&VideoFrames::from_u8(&[0; 10], 1, 2, 1, 5), 1.0).is_err());
        // Sizes whose product overflows, and channel counts a narrower
        // integer would have truncated to a valid one, allocate nothing.
        assert!(encode_gif(&VideoFrames::from_u8(&[], usize::MAX, 65535, 65535, 4), 1.0).is_err());
        assert!(encode_gif(&VideoFrames::from_u8(&[0; 4 * 259], 1, 2, 2, 259), 1.0).is_err());
        assert!(encode_gif(&VideoFrames::from_u8(&[], 1, usize::MAX, 1, 1), 1.0).is_err());
        let wide = vec![0; 70_000];
        assert!(
            encode_gif(&VideoFrames::from_u8(&wide, 1, 1, 70_000, 1), 1.0)
                .unwrap_err()
                .to_string()
                .contains("65535")
        );
    }
}
