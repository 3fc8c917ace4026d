//! Replays the Sunnybrook fuzz target's corpus (`fuzz/corpus/sunnybrook/`)
//! and every input that once broke it (`tests/data/fuzz/sunnybrook/`)
//! through the same calls the target makes, with an allocator that records
//! the largest single allocation: a corrupt DICOM must be an error, never
//! a panic, and never cost more memory than a few times its own size.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use tbseg_lab::data::sunnybrook::{read_contour, read_dicom_image};
use tbseg_lab::data::PIXELS;

/// The system allocator, recording the largest request it has seen.
struct LargestRequest;

static LARGEST: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for LargestRequest {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: LargestRequest = LargestRequest;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The corpus and the past crashes of the target, sorted by path.
fn inputs() -> Vec<PathBuf> {
    let root = repo_root();
    let mut found: Vec<PathBuf> = [
        root.join("fuzz/corpus/sunnybrook"),
        root.join("tests/data/fuzz/sunnybrook"),
    ]
    .iter()
    .filter_map(|dir| std::fs::read_dir(dir).ok())
    .flatten()
    .map(|entry| entry.unwrap().path())
    .collect();
    found.sort();
    found
}

#[test]
fn every_kept_input_is_read_or_refused_within_its_own_size() {
    let inputs = inputs();
    assert!(
        inputs.iter().any(|p| p
            .to_string_lossy()
            .contains("oom-dicom-huge-element-length")),
        "the DICOM input that once asked for gigabytes is kept: {inputs:?}"
    );
    let scratch = tempfile::tempdir().unwrap();
    let file = scratch.path().join("input");
    for input in &inputs {
        let data = std::fs::read(input).unwrap();
        // The target's first byte picks the parser; the rest is the file.
        let Some((&which, body)) = data.split_first() else {
            continue;
        };
        std::fs::write(&file, body).unwrap();
        LARGEST.store(0, Ordering::Relaxed);
        if which % 2 == 0 {
            if let Ok(points) = read_contour(&file) {
                assert!(!points.is_empty(), "{}", input.display());
            }
        } else {
            match read_dicom_image(&file) {
                Ok(pixels) => assert_eq!(pixels.len(), PIXELS, "{}", input.display()),
                Err(e) => {
                    let line = e.to_string();
                    assert!(
                        line.starts_with(&file.display().to_string()) && !line.contains('\n'),
                        "{}: one line naming the file: {line}",
                        input.display()
                    );
                }
            }
        }
        // The decoded image (65536 i64s) and the file itself are the
        // largest buffers a DICOM read needs.
        let allowed = (PIXELS * 8).max(body.len()) * 4;
        let largest = LARGEST.load(Ordering::Relaxed);
        assert!(
            largest <= allowed,
            "{}: one allocation of {largest} bytes for a {}-byte input",
            input.display(),
            body.len()
        );
    }
}
