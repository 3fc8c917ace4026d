//! Event files: every event that decodes is summarized the way `Logdir`
//! does it (kinds, scalar values in every form), and every tag is then
//! decoded by the typed readers.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tbseg::reader::{EventFileReader, Run};

fuzz_target!(|data: &[u8]| {
    let mut run = Run::default();
    let _ = EventFileReader::new(data).for_each(|event| run.add_event(&event));
    // Every typed decoder on whatever decoded.
    for (tag, series) in &run.tags {
        series.decoded().for_each(drop);
        let _ = run.meshes(tag.trim_end_matches("_VERTEX"));
    }
    let _ = (run.hparams(), run.custom_scalars(), run.graph());
});
