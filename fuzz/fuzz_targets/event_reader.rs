//! Event files: every event that decodes is summarized the way `Logdir`
//! does it (kinds, scalar values in every form).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tbseg::reader::{EventFileReader, Run};

fuzz_target!(|data: &[u8]| {
    let mut run = Run::default();
    let _ = EventFileReader::new(data).for_each(|event| run.add_event(&event));
});
