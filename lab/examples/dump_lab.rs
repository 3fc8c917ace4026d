//! Prints, as JSON, what tbseg's own reader sees in lab TFRecord files.
//!
//! `cargo run --release -p tbseg-lab --no-default-features --example dump_lab -- FILE...`
//!
//! For every record of every file: the sum of the raw intensities, the
//! same sum weighted by row-major pixel position (so a transposed or
//! shifted image does not match), their minimum and maximum, the sum of
//! the network's view (raw / 1024 as `f32`, summed in `f64`) and the number
//! of LV pixels. `scripts/conformance/check_data.py` computes the same
//! numbers from TensorFlow's decoding and compares.

use std::error::Error;
use std::fmt::Write;

use tbseg_lab::data::{read_lab_file, read_lab_slices};

fn main() -> Result<(), Box<dyn Error>> {
    let paths: Vec<String> = std::env::args().skip(1).collect();
    if paths.is_empty() {
        return Err("usage: dump_lab FILE...".into());
    }
    let mut json = String::from("{");
    for (i, path) in paths.iter().enumerate() {
        let slices = read_lab_slices(path)?;
        let images = read_lab_file(path)?;
        // The path goes in as a JSON string; escape what JSON requires.
        let key: String = path
            .chars()
            .flat_map(|c| match c {
                '"' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        write!(json, "{}\"{key}\": [", if i == 0 { "" } else { ", " })?;
        for (index, (slice, image)) in slices.iter().zip(&images).enumerate() {
            let raw_sum: i64 = slice.image.iter().sum();
            let raw_weighted_sum: i64 = slice
                .image
                .iter()
                .enumerate()
                .map(|(pixel, &v)| pixel as i64 * v)
                .sum();
            let raw_min = slice.image.iter().min().copied().unwrap_or(0);
            let raw_max = slice.image.iter().max().copied().unwrap_or(0);
            let image_sum: f64 = image.image.iter().map(|&v| f64::from(v)).sum();
            let lv_pixels = image.label.iter().filter(|&&v| v == 1).count();
            write!(
                json,
                "{}{{\"raw_sum\": {raw_sum}, \"raw_weighted_sum\": {raw_weighted_sum}, \
                 \"raw_min\": {raw_min}, \"raw_max\": {raw_max}, \
                 \"image_sum\": {image_sum:?}, \"lv_pixels\": {lv_pixels}}}",
                if index == 0 { "" } else { ", " }
            )?;
        }
        json.push(']');
    }
    json.push('}');
    println!("{json}");
    Ok(())
}
