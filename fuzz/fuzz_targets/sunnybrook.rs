//! The lab's Sunnybrook parsers: the first input byte picks the contour
//! text parser (even) or the DICOM reader (odd); the rest is the file.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tbseg_lab::data::sunnybrook::{read_contour, read_dicom_image};

fn scratch() -> &'static PathBuf {
    static FILE: OnceLock<PathBuf> = OnceLock::new();
    FILE.get_or_init(|| {
        let shm = PathBuf::from("/dev/shm");
        let base = if shm.is_dir() { shm } else { std::env::temp_dir() };
        base.join(format!("tbseg-fuzz-sunnybrook-{}", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, file)) = data.split_first() else {
        return;
    };
    let path = scratch();
    std::fs::write(path, file).expect("writing the fuzz input");
    if which % 2 == 0 {
        if let Ok(points) = read_contour(path) {
            assert!(!points.is_empty());
        }
    } else if let Ok(pixels) = read_dicom_image(path) {
        assert_eq!(pixels.len(), 256 * 256);
    }
});
