//! The image kinds: raw pixels in any layout, batches as one grid, several
//! images as the samples of one tag, ready PNGs, and images with boxes
//! drawn on them. Pixels are PNG-encoded on the calling thread (feature
//! `png`; ready PNGs need no encoder).

#[cfg(feature = "png")]
use super::retag;
use super::SummaryWriter;
#[cfg(feature = "png")]
use crate::summary::boxes::{draw_boxes, DEFAULT_BOX_COLOR, DEFAULT_BOX_THICKNESS};
#[cfg(feature = "png")]
use crate::summary::image::{
    check_layout, BatchLayout, GridOptions, Image, ImageLayout, PixelValue,
};
use crate::summary::inputs::Step;
use crate::summary::values;
use crate::summary::SummaryError;

impl SummaryWriter {
    /// Logs an image from raw pixels: `u8` as they are, or `f32`/`f64` in
    /// `[0, 1]` (see [`PixelValue`]), laid out as `layout` (HW, HWC or CHW;
    /// 1, 2, 3 or 4 channels). It is PNG-encoded on the calling thread and
    /// written in the v2 form `[width, height, png]` (plugin `images`).
    ///
    /// A data length that does not match the layout, a channel count
    /// outside 1–4, an empty image and a side over PNG's limit are an
    /// [`SummaryError::InvalidArgument`] and nothing is written.
    ///
    /// ```
    /// # use tbseg::summary::{ImageLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let mask = vec![0u8; 64 * 48]; // 48 rows of 64 grey pixels
    /// writer.add_image("mask", &mask, ImageLayout::Hw(48, 64), 7)?;
    /// let rgb = vec![0.5f32; 3 * 48 * 64]; // a CHW tensor's data
    /// writer.add_image("input", &rgb, ImageLayout::Chw(3, 48, 64), 7)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    #[cfg(feature = "png")]
    pub fn add_image<P: PixelValue>(
        &self,
        tag: &str,
        data: &[P],
        layout: ImageLayout,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        // Before anything else: the sizes must fit the data and PNG (no
        // size arithmetic below can overflow then), and the channel count
        // must be one PNG has.
        check_layout(layout, data.len()).map_err(|e| e.for_tag(tag))?;
        let (height, width, channels) = layout.dims();
        let direct = match layout {
            ImageLayout::Chw(..) if channels > 1 => None,
            _ => P::as_bytes(data),
        };
        let png = match direct {
            // Already interleaved bytes: encode without a copy.
            Some(bytes) => crate::summary::png::encode(height, width, channels, bytes),
            None => Image::from_pixels(data, layout).and_then(|image| image.encode_png()),
        }
        .map_err(|e| e.for_tag(tag))?;
        self.add_png(tag, height, width, png, step)
    }

    /// Logs a batch of same-size images (NCHW or NHWC) as one grid image,
    /// as PyTorch's `add_images(tag, img_tensor, step, dataformats)` does:
    /// torchvision's `make_grid` with its defaults, 8 per row, 2 pixels of
    /// black padding (see [`Image::grid`] for other options). Pixels are
    /// `u8`, or floats in `[0, 1]` (see [`PixelValue`]).
    ///
    /// (Before tbseg 1.0 this was `add_image_grid`, and `add_images` was
    /// today's [`SummaryWriter::add_image_samples`].)
    ///
    /// ```
    /// # use tbseg::summary::{BatchLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let batch = vec![0.25f32; 16 * 1 * 28 * 28]; // an NCHW batch
    /// writer.add_images("batch", &batch, BatchLayout::Nchw(16, 1, 28, 28), 3)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    #[cfg(feature = "png")]
    pub fn add_images<P: PixelValue>(
        &self,
        tag: &str,
        data: &[P],
        layout: BatchLayout,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let grid = Image::grid(data, layout, GridOptions::default()).map_err(|e| e.for_tag(tag))?;
        self.add_image_samples(tag, std::slice::from_ref(&grid), step)
    }

    /// Logs several images of one size as the samples of one tag at one
    /// step: TensorBoard shows them in one card with a slider to pick the
    /// sample (`tf.summary.image` with `max_outputs > 1`), where
    /// [`SummaryWriter::add_images`] tiles a batch into one picture.
    /// Images of different sizes, or none, are an
    /// [`SummaryError::InvalidArgument`] and nothing is written.
    /// [`Image::batch`] splits a raw batch into images.
    ///
    /// ```
    /// # use tbseg::summary::{Image, ImageLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let dark = Image::from_pixels(&[10u8; 4 * 4], ImageLayout::Hw(4, 4))?;
    /// let light = Image::from_pixels(&[240u8; 4 * 4], ImageLayout::Hw(4, 4))?;
    /// writer.add_image_samples("masks", &[dark, light], 1)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    #[cfg(feature = "png")]
    pub fn add_image_samples(
        &self,
        tag: &str,
        images: &[Image],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let invalid = |reason: String| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what: "images",
            reason,
        };
        let first = images.first().ok_or_else(|| invalid("no images".into()))?;
        let size = (first.height(), first.width());
        let mut pngs = Vec::with_capacity(images.len());
        for (index, image) in images.iter().enumerate() {
            if (image.height(), image.width()) != size {
                return Err(invalid(format!(
                    "image {index} is {}x{} (height x width), image 0 is {}x{}",
                    image.height(),
                    image.width(),
                    size.0,
                    size.1
                )));
            }
            pngs.push(image.encode_png().map_err(|e| e.for_tag(tag))?);
        }
        self.add_value(values::images(tag, size.0, size.1, pngs), step)
    }

    /// Logs an already PNG-encoded image of `height × width` pixels.
    ///
    /// Bytes that do not start with a PNG signature and header, and a
    /// header whose size is not `height × width`, are an
    /// [`SummaryError::InvalidArgument`] and nothing is written.
    ///
    /// ```
    /// # #[cfg(feature = "png")] {
    /// use tbseg::summary::{Image, ImageLayout, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// // A PNG made elsewhere (here by tbseg): 2 rows of 3 grey pixels.
    /// let grey = [0u8, 50, 100, 150, 200, 250];
    /// let png = Image::from_pixels(&grey, ImageLayout::Hw(2, 3))?.encode_png()?;
    /// writer.add_png("photo", 2, 3, png.clone(), 0)?;
    /// // The size given must be the PNG's own, and the bytes a PNG.
    /// assert!(writer.add_png("photo", 3, 2, png, 1).is_err());
    /// assert!(writer.add_png("photo", 2, 3, b"GIF89a".to_vec(), 1).is_err());
    /// # }
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_png(
        &self,
        tag: &str,
        height: usize,
        width: usize,
        png: Vec<u8>,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        check_png_header(&png, height, width).map_err(|reason| SummaryError::InvalidArgument {
            tag: tag.to_owned(),
            what: "png",
            reason,
        })?;
        self.add_value(values::image(tag, height, width, png), step)
    }

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
    #[cfg(feature = "png")]
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
        let png = crate::summary::png::encode(height, width, channels, &canvas)
            .map_err(|e| retag(e, tag))?;
        self.add_value(values::image(tag, height, width, png), step)
    }
}

/// Checks that `png` starts with PNG's signature and an `IHDR` chunk of
/// `height × width` pixels; the reason is for an `InvalidArgument`.
fn check_png_header(png: &[u8], height: usize, width: usize) -> Result<(), String> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    let header = png
        .get(..24)
        .filter(|h| h.starts_with(SIGNATURE) && &h[12..16] == b"IHDR");
    let Some(header) = header else {
        return Err(format!(
            "{} bytes that do not start with a PNG signature and header, expected a PNG file",
            png.len()
        ));
    };
    let at =
        |i: usize| u32::from_be_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let (png_width, png_height) = (at(16), at(20));
    if (usize::try_from(png_height), usize::try_from(png_width)) != (Ok(height), Ok(width)) {
        return Err(format!(
            "a PNG of {png_height}x{png_width} (height x width), expected {height}x{width}"
        ));
    }
    Ok(())
}

#[cfg(all(test, feature = "png"))]
mod tests {
    use super::*;
    use crate::summary::writer::test_support::*;

    #[test]
    #[cfg(feature = "png")]
    fn several_images_go_under_one_tag_and_sizes_must_match() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let shade = |v: u8| Image::from_vec(2, 3, 1, vec![v; 6]).unwrap();
        writer
            .add_image_samples("set", &[shade(10), shade(200)], 4)
            .unwrap();
        let odd = Image::from_vec(2, 2, 1, vec![0; 4]).unwrap();
        let err = writer
            .add_image_samples("set", &[shade(1), odd], 5)
            .unwrap_err();
        assert!(!err.is_fatal());
        assert!(
            err.to_string()
                .contains("image 1 is 2x2 (height x width), image 0 is 2x3"),
            "{err}"
        );
        assert!(writer.add_image_samples("set", &[], 6).is_err());
        writer.close().unwrap();

        let summaries = summaries(writer.path());
        assert_eq!(summaries.len(), 1, "the rejected calls wrote nothing");
        let (event, value) = &summaries[0];
        assert_eq!(event.step, 4);
        let t = tensor(value);
        assert_eq!(t.string_val.len(), 4);
        assert_eq!(t.string_val[..2], [b"3".to_vec(), b"2".to_vec()]);
        for (png, shade) in t.string_val[2..].iter().zip([10u8, 200]) {
            assert_eq!(decode_png(png), (3, 2, 1, vec![shade; 6]));
        }
    }

    #[test]
    #[cfg(feature = "png")]
    fn raw_images_in_every_layout_decode_to_the_same_pixels() {
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        // A 2×3 RGB image as interleaved bytes, as CHW floats, and a grey
        // one as HW bytes.
        let hwc: Vec<u8> = (0..18).map(|i| i * 10).collect();
        let mut chw = vec![0f32; 18];
        for (i, &v) in hwc.iter().enumerate() {
            let (pixel, channel) = (i / 3, i % 3);
            chw[channel * 6 + pixel] = f32::from(v) / 255.0;
        }
        writer
            .add_image("hwc", &hwc, ImageLayout::Hwc(2, 3, 3), 1)
            .unwrap();
        writer
            .add_image("chw", &chw, ImageLayout::Chw(3, 2, 3), 1)
            .unwrap();
        writer
            .add_image("hw", &hwc[..6], ImageLayout::Hw(2, 3), 1)
            .unwrap();
        let err = writer
            .add_image("bad", &hwc, ImageLayout::Chw(4, 2, 3), 1)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid pixels for summary \"bad\": 18 values, expected 24 for Chw(4, 2, 3)"
        );
        let batch = vec![1.0f32; 5 * 3 * 4 * 4];
        writer
            .add_images("grid", &batch, BatchLayout::Nchw(5, 3, 4, 4), 2)
            .unwrap();
        writer.close().unwrap();
        let summaries = summaries(writer.path());
        let tags: Vec<&str> = summaries.iter().map(|(_, v)| v.tag.as_str()).collect();
        assert_eq!(tags, ["hwc", "chw", "hw", "grid"]);
        let png = |i: usize| decode_png(&tensor(&summaries[i].1).string_val[2]);
        assert_eq!(png(0), (3, 2, 3, hwc.clone()));
        assert_eq!(png(1), png(0));
        assert_eq!(png(2), (3, 2, 1, hwc[..6].to_vec()));
        // Five 4×4 images in one row with 2 px padding: 32 × 8.
        let (w, h, c, grid) = png(3);
        assert_eq!((w, h, c), (32, 8, 3));
        assert_eq!(grid.iter().filter(|&&v| v == 255).count(), 5 * 16 * 3);
        assert_eq!(
            tensor(&summaries[3].1).string_val[..2],
            [b"32".to_vec(), b"8".to_vec()]
        );
    }
}
