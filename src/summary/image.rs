//! Images from raw pixel data: layouts ([`ImageLayout`], [`BatchLayout`]),
//! 8-bit conversion ([`PixelValue`]), the owned [`Image`], grids of a batch
//! ([`Image::grid`]) and class maps drawn over a grey image
//! ([`overlay_classes`]).
//!
//! No image library is involved: pixels are plain slices, as a training
//! loop has them (a tensor's `Vec<f32>`, a decoded `Vec<u8>`), and
//! [`crate::summary::png::encode`] turns the result into PNG.

use super::SummaryError;

/// Fraction of the darkest and of the brightest pixels clipped by
/// [`overlay_classes`]' auto-contrast, so a few very bright pixels (fat,
/// flow artefacts in an MRI) do not leave the rest dark.
const CONTRAST_CLIP: f64 = 0.01;

/// The shape and memory order of one image's pixel slice, with its sizes.
///
/// Sizes are `usize`, in the order the layout names them, as in a
/// tensor's shape: `Chw(3, 64, 32)` is 3 channels of 64 rows of 32 pixels.
/// Channels are 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA); other
/// counts are rejected where the layout is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageLayout {
    /// `height × width` grey pixels, row-major.
    Hw(usize, usize),
    /// `height × width × channels`, channels interleaved (what PNG and
    /// most image libraries store).
    Hwc(usize, usize, usize),
    /// `channels × height × width`, one plane per channel (PyTorch's
    /// order).
    Chw(usize, usize, usize),
}

impl ImageLayout {
    /// `(height, width, channels)`.
    pub fn dims(self) -> (usize, usize, usize) {
        match self {
            ImageLayout::Hw(h, w) => (h, w, 1),
            ImageLayout::Hwc(h, w, c) => (h, w, c),
            ImageLayout::Chw(c, h, w) => (h, w, c),
        }
    }

    /// Number of values a slice of this layout holds; `None` when the
    /// product of the sizes does not fit in a `usize` (no slice can hold
    /// that many).
    pub fn len(self) -> Option<usize> {
        let (h, w, c) = self.dims();
        h.checked_mul(w)?.checked_mul(c)
    }

    /// Whether the layout holds no pixels (a size is 0).
    pub fn is_empty(self) -> bool {
        let (h, w, c) = self.dims();
        h == 0 || w == 0 || c == 0
    }
}

/// The shape and memory order of a batch of same-size images in one slice;
/// sizes are `usize`, in the order the layout names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchLayout {
    /// `n × channels × height × width` (PyTorch's order).
    Nchw(usize, usize, usize, usize),
    /// `n × height × width × channels` (TensorFlow's order).
    Nhwc(usize, usize, usize, usize),
}

impl BatchLayout {
    /// The number of images and the layout of each.
    pub fn split(self) -> (usize, ImageLayout) {
        match self {
            BatchLayout::Nchw(n, c, h, w) => (n, ImageLayout::Chw(c, h, w)),
            BatchLayout::Nhwc(n, h, w, c) => (n, ImageLayout::Hwc(h, w, c)),
        }
    }
}

/// A pixel value an image can be made of: `u8` as it is, floats in
/// `[0, 1]` scaled to `0..=255`.
///
/// Floats are multiplied by 255, rounded to the nearest integer and
/// clamped (as torchvision's `make_grid` + `save_image` do); NaN becomes 0.
pub trait PixelValue: Copy {
    /// The value as an 8-bit intensity.
    fn to_u8(self) -> u8;

    /// `data` as bytes, if it already is (lets `u8` data skip the
    /// conversion copy).
    fn as_bytes(data: &[Self]) -> Option<&[u8]> {
        let _ = data;
        None
    }
}

impl PixelValue for u8 {
    fn to_u8(self) -> u8 {
        self
    }
    fn as_bytes(data: &[u8]) -> Option<&[u8]> {
        Some(data)
    }
}

impl PixelValue for f32 {
    fn to_u8(self) -> u8 {
        // `as` saturates and maps NaN to 0.
        (self * 255.0).round() as u8
    }
}

impl PixelValue for f64 {
    fn to_u8(self) -> u8 {
        (self * 255.0).round() as u8
    }
}

/// Options of [`Image::grid`]; the defaults are torchvision's `make_grid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GridOptions {
    /// Images per row; by default 8.
    pub columns: usize,
    /// Pixels between images and around the grid; by default 2.
    pub padding: usize,
    /// Intensity of the padding; by default 0 (black).
    pub pad_value: u8,
}

impl Default for GridOptions {
    fn default() -> Self {
        GridOptions {
            columns: 8,
            padding: 2,
            pad_value: 0,
        }
    }
}

/// An 8-bit image: `height × width × channels` bytes, channels interleaved
/// (grey, grey + alpha, RGB or RGBA), row-major from the top-left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    height: usize,
    width: usize,
    channels: usize,
    pixels: Vec<u8>,
}

fn invalid(what: &'static str, reason: String) -> SummaryError {
    SummaryError::InvalidArgument {
        tag: "image".into(),
        what,
        reason,
    }
}

/// The largest image side PNG can store: 2^31 - 1 pixels.
pub(crate) const MAX_SIDE: usize = (1 << 31) - 1;

/// Checks that the channel count of `layout` is usable, that it has pixels
/// and sides PNG can store, and that `len` values fill it exactly. The
/// argument error names the summary "image"; callers put their tag in.
pub(crate) fn check_layout(layout: ImageLayout, len: usize) -> Result<(), SummaryError> {
    let (h, w, c) = layout.dims();
    if !(1..=4).contains(&c) {
        return Err(invalid(
            "channels",
            format!("{c} in {layout:?}, expected 1, 2, 3 or 4"),
        ));
    }
    if h == 0 || w == 0 {
        return Err(invalid("size", format!("{layout:?} has no pixels")));
    }
    if h > MAX_SIDE || w > MAX_SIDE {
        return Err(invalid(
            "size",
            format!("{layout:?}, expected height and width of at most {MAX_SIDE} (PNG's limit)"),
        ));
    }
    match layout.len() {
        Some(expected) if expected == len => Ok(()),
        Some(expected) => Err(invalid(
            "pixels",
            format!("{len} values, expected {expected} for {layout:?}"),
        )),
        None => Err(invalid(
            "pixels",
            format!("{len} values, expected more than a slice can hold for {layout:?}"),
        )),
    }
}

impl Image {
    /// An image from `data` laid out as `layout`, converted to interleaved
    /// 8-bit pixels (see [`PixelValue`] for floats).
    ///
    /// A `data` length that does not match the layout, a channel count
    /// outside 1–4 and an empty image are an
    /// [`SummaryError::InvalidArgument`].
    ///
    /// ```
    /// use tbseg::summary::{Image, ImageLayout};
    /// // Two planes (CHW) of a 1×2 grey + alpha image, floats in [0, 1].
    /// let image = Image::from_pixels(&[0.0f32, 1.0, 1.0, 0.5], ImageLayout::Chw(2, 1, 2))?;
    /// assert_eq!(image.pixels(), [0, 255, 255, 128]);
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn from_pixels<P: PixelValue>(
        data: &[P],
        layout: ImageLayout,
    ) -> Result<Self, SummaryError> {
        check_layout(layout, data.len())?;
        let (height, width, channels) = layout.dims();
        let pixels = match layout {
            ImageLayout::Chw(..) if channels > 1 => {
                // Checked above: height × width × channels = data.len().
                let plane = height * width;
                let mut out = Vec::with_capacity(data.len());
                for i in 0..plane {
                    for c in 0..channels {
                        out.push(data[c * plane + i].to_u8());
                    }
                }
                out
            }
            _ => match P::as_bytes(data) {
                Some(bytes) => bytes.to_vec(),
                None => data.iter().map(|v| v.to_u8()).collect(),
            },
        };
        Ok(Image {
            height,
            width,
            channels,
            pixels,
        })
    }

    /// Interleaved 8-bit pixels as they are, `height × width × channels`
    /// bytes (checked like [`Image::from_pixels`]).
    ///
    /// ```
    /// use tbseg::summary::Image;
    /// let image = Image::from_vec(2, 3, 1, vec![0, 1, 2, 3, 4, 5])?; // 2 rows of 3
    /// assert_eq!((image.height(), image.width()), (2, 3));
    /// assert_eq!(image.pixel(1, 0), Some(&[3u8][..]));
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn from_vec(
        height: usize,
        width: usize,
        channels: usize,
        pixels: Vec<u8>,
    ) -> Result<Self, SummaryError> {
        check_layout(ImageLayout::Hwc(height, width, channels), pixels.len())?;
        Ok(Image {
            height,
            width,
            channels,
            pixels,
        })
    }

    /// Every image of a batch (see [`BatchLayout`]), each converted as by
    /// [`Image::from_pixels`]. An empty batch is an error.
    pub fn batch<P: PixelValue>(
        data: &[P],
        layout: BatchLayout,
    ) -> Result<Vec<Self>, SummaryError> {
        let (n, image) = layout.split();
        if n == 0 {
            return Err(invalid("batch", "no images".into()));
        }
        // The layout of one image is checked first (channels, sizes), so
        // its length is known to fit in a usize.
        let per_image = image.len().unwrap_or(usize::MAX);
        check_layout(image, per_image)?;
        match n.checked_mul(per_image) {
            Some(expected) if expected == data.len() => {}
            expected => {
                return Err(invalid(
                    "pixels",
                    format!(
                        "{} values, expected {} for {layout:?}",
                        data.len(),
                        expected.map_or("more than a slice can hold".into(), |e| e.to_string())
                    ),
                ))
            }
        }
        data.chunks_exact(per_image)
            .map(|chunk| Image::from_pixels(chunk, image))
            .collect()
    }

    /// The images of a batch tiled into one image, as torchvision's
    /// `make_grid`: `columns` images per row (fewer if the batch is
    /// smaller), `padding` pixels of `pad_value` between and around them.
    /// The grid has the batch's channel count.
    ///
    /// ```
    /// use tbseg::summary::{BatchLayout, GridOptions, Image};
    /// // Five 4×6 RGB images, NCHW, floats in [0, 1].
    /// let batch = vec![0.5f32; 5 * 3 * 4 * 6];
    /// let grid = Image::grid(&batch, BatchLayout::Nchw(5, 3, 4, 6), GridOptions::default())?;
    /// // One row of five: 5 × (6 + 2) + 2 wide, 4 + 2 + 2 high.
    /// assert_eq!((grid.width(), grid.height(), grid.channels()), (42, 8, 3));
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn grid<P: PixelValue>(
        data: &[P],
        layout: BatchLayout,
        options: GridOptions,
    ) -> Result<Self, SummaryError> {
        let images = Image::batch(data, layout)?;
        let n = images.len();
        let (cell_h, cell_w, c) = (images[0].height, images[0].width, images[0].channels);
        let columns = options.columns.clamp(1, n);
        let rows = n.div_ceil(columns);
        let pad = options.padding;
        // Each side is `cells × (cell + pad) + pad`; PNG's limit on a side
        // also bounds the pixel bytes (2^62 × 4 fits in a u64 but not in
        // memory: the allocation below is checked too).
        let side = |cells: usize, cell: usize| {
            cell.checked_add(pad)?
                .checked_mul(cells)?
                .checked_add(pad)
                .filter(|&side| side <= MAX_SIDE)
        };
        let too_large = || {
            invalid(
                "grid",
                format!(
                    "{rows} rows of {columns} images of {cell_h}x{cell_w} with {pad} pixels of \
                     padding, expected a grid of at most {MAX_SIDE} pixels a side"
                ),
            )
        };
        let (Some(width), Some(height)) = (side(columns, cell_w), side(rows, cell_h)) else {
            return Err(too_large());
        };
        let bytes = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(c))
            .filter(|&n| isize::try_from(n).is_ok())
            .ok_or_else(too_large)?;
        let mut pixels = vec![options.pad_value; bytes];
        for (index, image) in images.iter().enumerate() {
            let (row, col) = (index / columns, index % columns);
            // Within the grid, whose size was checked above.
            let top = row * (cell_h + pad) + pad;
            let left = col * (cell_w + pad) + pad;
            let row_bytes = cell_w * c;
            for y in 0..cell_h {
                let start = ((top + y) * width + left) * c;
                pixels[start..start + row_bytes]
                    .copy_from_slice(&image.pixels[y * row_bytes..(y + 1) * row_bytes]);
            }
        }
        Ok(Image {
            height,
            width,
            channels: c,
            pixels,
        })
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Channels per pixel: 1 grey, 2 grey + alpha, 3 RGB, 4 RGBA.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The layout of [`Image::pixels`]: `Hwc(height, width, channels)`.
    pub fn layout(&self) -> ImageLayout {
        ImageLayout::Hwc(self.height, self.width, self.channels)
    }

    /// The interleaved 8-bit pixels.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// The pixels, consuming the image.
    pub fn into_pixels(self) -> Vec<u8> {
        self.pixels
    }

    /// The channels of the pixel in row `row` (from the top), column
    /// `column` (from the left); `None` outside the image.
    pub fn pixel(&self, row: usize, column: usize) -> Option<&[u8]> {
        if row >= self.height || column >= self.width {
            return None;
        }
        let c = self.channels;
        let start = (row * self.width + column) * c;
        Some(&self.pixels[start..start + c])
    }

    /// The image as PNG (see [`crate::summary::png::encode`]).
    #[cfg(feature = "png")]
    pub fn encode_png(&self) -> Result<Vec<u8>, SummaryError> {
        super::png::encode(self.height, self.width, self.channels, &self.pixels)
    }
}

/// Draws a class map over a grey image: the usual way to look at a
/// segmentation.
///
/// `image` is `height × width` floats in row-major order, in any intensity
/// range: it is auto-contrasted to 0..=255 grey, clipping the darkest and
/// brightest 1 % of the finite pixels (non-finite pixels are black).
/// `classes` has one byte per pixel: 0 leaves the grey untouched, and class
/// `k ≥ 1` is `palette[k - 1]` alpha-blended over the grey with opacity
/// `alpha` (0 = invisible, 1 = opaque). The result is RGB.
///
/// Mismatched lengths, and a class with no colour in the palette, are an
/// [`SummaryError::InvalidArgument`].
pub fn overlay_classes(
    image: &[f32],
    height: usize,
    width: usize,
    classes: &[u8],
    palette: &[[u8; 3]],
    alpha: f32,
) -> Result<Image, SummaryError> {
    let invalid = |what, reason| SummaryError::InvalidArgument {
        tag: "overlay".into(),
        what,
        reason,
    };
    let n = height.checked_mul(width);
    for (what, len) in [("image", image.len()), ("classes", classes.len())] {
        if Some(len) != n {
            return Err(invalid(
                what,
                format!("{len} pixels, expected height × width = {height}×{width}"),
            ));
        }
    }
    let n = image.len();
    if let Some(&class) = classes.iter().find(|&&c| usize::from(c) > palette.len()) {
        return Err(invalid(
            "classes",
            format!(
                "class {class}, but the palette has {} colours",
                palette.len()
            ),
        ));
    }
    let alpha = alpha.clamp(0.0, 1.0);
    let (low, high) = contrast_range(image);
    let scale = if high > low {
        255.0 / (high - low)
    } else {
        0.0
    };
    let mut pixels = Vec::with_capacity(n * 3);
    for (&x, &class) in image.iter().zip(classes) {
        let grey = if x.is_finite() {
            ((x - low) * scale).clamp(0.0, 255.0)
        } else {
            0.0
        };
        let rgb = match class {
            0 => [grey.round() as u8; 3],
            class => palette[usize::from(class) - 1]
                .map(|c| ((1.0 - alpha) * grey + alpha * f32::from(c)).round() as u8),
        };
        pixels.extend_from_slice(&rgb);
    }
    Ok(Image {
        height,
        width,
        channels: 3,
        pixels,
    })
}

/// The intensities mapped to black and white: the 1st and 99th percentile
/// of the finite pixels (min and max for tiny images).
fn contrast_range(image: &[f32]) -> (f32, f32) {
    let mut finite: Vec<f32> = image.iter().copied().filter(|x| x.is_finite()).collect();
    if finite.is_empty() {
        return (0.0, 0.0);
    }
    let last = finite.len() - 1;
    let low_rank = (last as f64 * CONTRAST_CLIP).round() as usize;
    let high_rank = (last as f64 * (1.0 - CONTRAST_CLIP)).round() as usize;
    let (_, &mut high, _) = finite.select_nth_unstable_by(high_rank, f32::total_cmp);
    let (_, &mut low, _) = finite[..=high_rank].select_nth_unstable_by(low_rank, f32::total_cmp);
    (low, high)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: [u8; 3] = [255, 0, 0];
    const GREEN: [u8; 3] = [0, 255, 0];

    #[test]
    fn layouts_convert_to_interleaved_bytes() {
        // A 2×3 RGB image whose value encodes (channel, row, col).
        let value = |c: usize, y: usize, x: usize| (c * 100 + y * 10 + x) as u8;
        let mut chw = Vec::new();
        for c in 0..3 {
            for y in 0..2 {
                for x in 0..3 {
                    chw.push(value(c, y, x));
                }
            }
        }
        let from_chw = Image::from_pixels(&chw, ImageLayout::Chw(3, 2, 3)).unwrap();
        assert_eq!((from_chw.width(), from_chw.height()), (3, 2));
        assert_eq!(from_chw.pixel(1, 2).unwrap(), [12, 112, 212]);
        let from_hwc = Image::from_pixels(from_chw.pixels(), ImageLayout::Hwc(2, 3, 3)).unwrap();
        assert_eq!(from_hwc, from_chw);
        let grey = Image::from_pixels(&[1u8, 2, 3, 4, 5, 6], ImageLayout::Hw(3, 2)).unwrap();
        assert_eq!((grey.width(), grey.height(), grey.channels()), (2, 3, 1));
        assert_eq!(grey.pixel(2, 1).unwrap(), [6]);
        assert_eq!(grey.pixel(0, 2), None);
        assert_eq!(grey.pixel(3, 0), None);
    }

    #[test]
    fn floats_are_scaled_rounded_and_clamped() {
        let data = [0.0f32, 1.0, 0.5, -0.2, 1.7, f32::NAN, 0.1, 0.9999];
        let image = Image::from_pixels(&data, ImageLayout::Hw(2, 4)).unwrap();
        assert_eq!(image.pixels(), [0, 255, 128, 0, 255, 0, 26, 255]);
        let f64s = Image::from_pixels(&[0.5f64], ImageLayout::Hw(1, 1)).unwrap();
        assert_eq!(f64s.pixels(), [128]);
    }

    #[test]
    fn bad_layouts_are_rejected_with_the_reason() {
        let err = Image::from_pixels(&[0u8; 11], ImageLayout::Hwc(2, 2, 3)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid pixels for summary \"image\": 11 values, expected 12 for Hwc(2, 2, 3)"
        );
        let err = Image::from_pixels(&[0u8; 10], ImageLayout::Chw(5, 1, 2)).unwrap_err();
        assert!(err.to_string().contains("expected 1, 2, 3 or 4"), "{err}");
        assert!(Image::from_pixels::<u8>(&[], ImageLayout::Hw(0, 3)).is_err());
        assert!(Image::from_vec(2, 2, 1, vec![0; 3]).is_err());
    }

    #[test]
    fn sizes_whose_product_overflows_are_rejected_without_allocating() {
        assert_eq!(ImageLayout::Hwc(1 << 31, 1 << 31, 4).len(), None);
        assert_eq!(ImageLayout::Chw(3, 2, 5).len(), Some(30));
        assert_eq!(ImageLayout::Hwc(usize::MAX, 2, 1).len(), None);
        assert!(ImageLayout::Chw(3, 0, 5).is_empty());
        let err = Image::from_pixels::<u8>(&[], ImageLayout::Hwc(1 << 31, 1 << 31, 4)).unwrap_err();
        assert!(err.to_string().contains("at most 2147483647"), "{err}");
        let err = Image::from_pixels::<u8>(&[], ImageLayout::Hwc(1 << 30, 1 << 30, 4)).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid pixels for summary \"image\": 0 values, expected 4611686018427387904 \
             for Hwc(1073741824, 1073741824, 4)"
        );
        let err =
            Image::from_pixels::<u8>(&[], ImageLayout::Hw(usize::MAX, usize::MAX)).unwrap_err();
        assert!(err.to_string().contains("PNG's limit"), "{err}");
        for layout in [
            BatchLayout::Nchw(1 << 20, 4, 1 << 21, 1 << 21),
            BatchLayout::Nhwc(usize::MAX, 1, 1, 1),
            BatchLayout::Nhwc(1 << 40, 1 << 20, 1 << 20, 3),
        ] {
            assert!(Image::batch::<f32>(&[], layout).is_err(), "{layout:?}");
            assert!(Image::grid::<f32>(&[], layout, GridOptions::default()).is_err());
        }
        // A grid whose padding makes a side larger than PNG allows.
        let wide = GridOptions {
            columns: 2,
            padding: usize::MAX / 2,
            pad_value: 0,
        };
        let err = Image::grid(&[0u8; 2], BatchLayout::Nhwc(2, 1, 1, 1), wide).unwrap_err();
        assert!(
            err.to_string().contains("at most 2147483647 pixels a side"),
            "{err}"
        );
        let wide = GridOptions {
            padding: 1 << 30,
            ..wide
        };
        assert!(Image::grid(&[0u8; 2], BatchLayout::Nhwc(2, 1, 1, 1), wide).is_err());
    }

    #[test]
    fn grid_tiles_like_make_grid() {
        // Three 1×2 grey images (values 1, 2, 3), two per row, padding 1
        // of value 9: a 2-row grid of (2 × (2 + 1) + 1) × (2 × (1 + 1) + 1).
        let batch = [1u8, 1, 2, 2, 3, 3];
        let options = GridOptions {
            columns: 2,
            padding: 1,
            pad_value: 9,
        };
        let grid = Image::grid(&batch, BatchLayout::Nhwc(3, 1, 2, 1), options).unwrap();
        assert_eq!((grid.width(), grid.height(), grid.channels()), (7, 5, 1));
        #[rustfmt::skip]
        let want = [
            9, 9, 9, 9, 9, 9, 9,
            9, 1, 1, 9, 2, 2, 9,
            9, 9, 9, 9, 9, 9, 9,
            9, 3, 3, 9, 9, 9, 9,
            9, 9, 9, 9, 9, 9, 9,
        ];
        assert_eq!(grid.pixels(), want);
        // NCHW RGB in floats: channels are interleaved in the grid.
        let rgb = [1.0f32, 0.0, 0.0, 0.0, 1.0, 0.0]; // 2 images, 3×1×1
        let grid =
            Image::grid(&rgb, BatchLayout::Nchw(2, 3, 1, 1), GridOptions::default()).unwrap();
        assert_eq!((grid.width(), grid.height()), (2 * 3 + 2, 5));
        assert_eq!(grid.pixel(2, 2).unwrap(), [255, 0, 0]);
        assert_eq!(grid.pixel(2, 5).unwrap(), [0, 255, 0]);
        assert!(Image::grid(&rgb, BatchLayout::Nchw(0, 3, 1, 1), options).is_err());
        assert!(Image::grid(&rgb, BatchLayout::Nchw(3, 3, 1, 1), options).is_err());
    }

    #[test]
    fn classes_take_their_palette_colour() {
        // 2×2: black, white, black, white; classes 0, 1, 2, 1.
        let image = [0.0, 1.0, 0.0, 1.0];
        let out = overlay_classes(&image, 2, 2, &[0, 1, 2, 1], &[RED, GREEN], 0.5).unwrap();
        let blend = |grey: f32, c: u8| (0.5 * grey + 0.5 * c as f32).round() as u8;
        assert_eq!(out.channels(), 3);
        assert_eq!(out.pixel(0, 0).unwrap(), [0; 3]);
        assert_eq!(
            out.pixel(0, 1).unwrap(),
            [blend(255.0, 255), blend(255.0, 0), blend(255.0, 0)]
        );
        assert_eq!(out.pixel(1, 0).unwrap(), [0, blend(0.0, 255), 0]);
        assert_eq!(out.pixel(1, 1).unwrap(), [255, 128, 128]);
    }

    #[test]
    fn a_class_beyond_the_palette_is_rejected() {
        let err = overlay_classes(&[0.0; 4], 2, 2, &[0, 0, 3, 0], &[RED, GREEN], 0.5).unwrap_err();
        assert!(err.to_string().contains("class 3"), "{err}");
    }

    #[test]
    fn auto_contrast_clips_outliers() {
        // 200 pixels ramping 0..199 plus one huge outlier: the ramp still
        // spans (almost) the whole grey range.
        let mut image: Vec<f32> = (0..200).map(|i| i as f32).collect();
        image[199] = 1e9;
        let zeros = vec![0u8; 200];
        let out = overlay_classes(&image, 1, 200, &zeros, &[], 1.0).unwrap();
        assert_eq!((out.height(), out.width()), (1, 200));
        assert_eq!(out.pixel(0, 0).unwrap(), [0; 3]);
        assert_eq!(out.pixel(0, 199).unwrap(), [255; 3]);
        assert!(out.pixel(0, 100).unwrap()[0] > 100);
    }

    #[test]
    fn flat_and_non_finite_images_do_not_panic() {
        let out = overlay_classes(&[3.0, 3.0, f32::NAN, 3.0], 2, 2, &[0; 4], &[], 1.0).unwrap();
        assert!(out.pixels().iter().all(|&p| p == 0));
    }

    #[test]
    fn mismatched_lengths_are_rejected() {
        let err = overlay_classes(&[0.0; 4], 2, 2, &[0; 3], &[], 1.0).unwrap_err();
        assert!(matches!(
            err,
            SummaryError::InvalidArgument {
                what: "classes",
                ..
            }
        ));
    }
}
