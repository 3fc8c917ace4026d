//! The summary writer's public API with arbitrary layouts, lengths, tags,
//! steps, wall times and values (the driver, shared with the property test
//! tests/writer_fuzz.rs, is tests/common/writer_ops.rs): no call may panic
//! or allocate more than its input justifies (scripts/fuzz.sh runs this
//! target under a 64 MiB allocation limit), every bad argument is an
//! argument error naming the tag, and the writer stays usable.
#![no_main]

#[path = "../../tests/common/writer_ops.rs"]
mod writer_ops;

use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use tbseg::summary::SummaryWriter;
use writer_ops::{drive, Input};

/// A fresh run directory per input, removed afterwards: embeddings are
/// files in it.
static RUN: AtomicU64 = AtomicU64::new(0);

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!(
        "tbseg-fuzz-writer-{}-{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    ));
    let writer = SummaryWriter::new(&dir).expect("a writer in the temporary directory");
    drive(&writer, &mut Input::new(data));
    writer.close().expect("the writer closes");
    let _ = std::fs::remove_dir_all(&dir);
});
