//! The writer fuzz target's checks as a property test, so that the
//! ordinary (and the debug-mode) test run drives the writer's public API
//! with arbitrary layouts, lengths, tags, steps and values: every call
//! returns Ok or an argument error naming its tag, nothing panics (debug
//! builds check every integer operation for overflow), and the writer
//! stays usable. The driver is tests/common/writer_ops.rs, shared with
//! fuzz/fuzz_targets/summary_writer.rs.

#[path = "common/writer_ops.rs"]
mod writer_ops;

use proptest::prelude::*;
use tbseg::summary::SummaryWriter;
use writer_ops::{drive, Input};

/// A run directory for one case (embeddings are files in it).
fn run(ops: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let writer = SummaryWriter::new(dir.path()).unwrap();
    drive(&writer, &mut Input::new(ops));
    writer.close().unwrap();
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // A failing case is rerun many times while shrinking; each spawns
        // a writer thread.
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn arbitrary_calls_never_panic_and_leave_the_writer_usable(
        ops in prop::collection::vec(any::<u8>(), 0..400),
    ) {
        run(&ops);
    }
}

/// Inputs that reach the three bugs of issue 16 directly: a NaN wall
/// time, 259 channels, and a batch layout whose size overflows.
#[test]
fn the_issue_16_bugs_as_driver_inputs() {
    // op 0 (scalar), no tag, value 1/2, step usize 1, wall time NaN.
    run(&[0, 0, 4, 0, 1, 1, 0]);
    // op 1 (image): Hwc(4, 4, 259) (259 is edge value 9), a short slice.
    run(&[1, 0, 4, 4, 0x89, 1, 0, 0, 0, 0, 0]);
    // op 2 (grid): Nchw(2^62, 2^32 + 3, 4, 2^32 + 3) from the edge table.
    run(&[2, 0, 0x91, 4, 0x8f, 0x8f, 0, 0, 0, 0, 0, 0]);
}
