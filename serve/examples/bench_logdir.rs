//! Writes the synthetic log directory of `scripts/bench_serve.sh`: RUNS
//! runs of TAGS scalar tags with STEPS steps each, and an image tag of 20
//! steps in the first IMAGE_RUNS runs.
//!
//!     bench_logdir OUT RUNS TAGS STEPS IMAGE_RUNS

use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::summary::{Image, Value};
use tbseg::proto::tensorflow::Summary;
use tbseg::summary::SummaryWriter;

/// A 1×1 PNG: what the image dashboards list and fetch.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x08, 0xd7, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0x18, 0xdd, 0x8d, 0xb0, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out, runs, tags, steps, image_runs] = args.as_slice() else {
        return Err("usage: bench_logdir OUT RUNS TAGS STEPS IMAGE_RUNS".into());
    };
    let number = |text: &str, what: &str| {
        text.parse::<i64>()
            .map_err(|_| format!("{what} {text:?}: expected a whole number"))
    };
    let (runs, tags, steps) = (
        number(runs, "RUNS")?,
        number(tags, "TAGS")?,
        number(steps, "STEPS")?,
    );
    let image_runs = number(image_runs, "IMAGE_RUNS")?;
    for run in 0..runs {
        let writer = SummaryWriter::new(std::path::Path::new(out).join(format!("run{run:03}")))?;
        for step in 0..steps {
            for tag in 0..tags {
                let x = ((step * 7 + tag * 13 + run) % 1000) as f32 / 1000.0;
                writer.add_scalar(&format!("tag{tag:02}"), x, step)?;
            }
        }
        if run < image_runs {
            for step in 0..20 {
                let image = Image {
                    height: 1,
                    width: 1,
                    colorspace: 3,
                    encoded_image_string: PNG.to_vec(),
                };
                let value = Value {
                    tag: "image".into(),
                    value: Some(ValueKind::Image(image)),
                    ..Default::default()
                };
                writer.add_summary(Summary { value: vec![value] }, step)?;
            }
        }
        writer.close()?;
    }
    Ok(())
}
