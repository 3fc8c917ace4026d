//! Prints every scalar of a log directory as tbseg's reader sees it, one
//! `run<TAB>tag<TAB>step<TAB>value` line per point, after `SessionLog
//! START` purges. `scripts/conformance/reader.sh` compares this with what
//! TensorBoard's own event loader keeps from the same files.
//!
//! ```text
//! cargo run --release --example read_logdir -- LOGDIR
//! ```

use tbseg::reader::Logdir;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = std::env::args_os()
        .nth(1)
        .ok_or("usage: read_logdir LOGDIR")?;
    let logdir = Logdir::scan(&root)?;
    for (run_name, run) in &logdir.runs {
        for (tag, series) in &run.tags {
            for (step, value) in series.points() {
                // `{:?}` prints the shortest text that reads back as the
                // same f32.
                println!("{run_name}\t{tag}\t{step}\t{value:?}");
            }
        }
    }
    Ok(())
}
