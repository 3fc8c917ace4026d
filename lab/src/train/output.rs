//! The training run's outputs: the lab's progress lines, TensorBoard
//! summaries and TensorFlow checkpoints in the checkpoint folder.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use indicatif::{ProgressBar, ProgressStyle};
use tch::{Device, Kind};

use tbseg::checkpoint::Saver;
use tbseg::summary::{
    GraphBuilder, HParamValue, ImageLayout, Node, SessionStatus, SummaryWriter, NO_METRICS,
};

use super::model::{GraphNode, Model};
use super::trainer::{NonFinite, SummaryStep, TrainConfig, TrainSink};
use super::weights::checkpoint_tensors;
use super::TrainError;

/// How often the richer summaries are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SummaryCadence {
    /// Image summaries (input, label, prediction overlay) every this many steps.
    pub images_every: i64,
    /// Weight histograms every this many steps.
    pub histograms_every: i64,
}

impl Default for SummaryCadence {
    fn default() -> Self {
        SummaryCadence {
            images_every: 500,
            histograms_every: 500,
        }
    }
}

/// Checkpoints kept in the folder (TensorFlow's `Saver` default).
pub const MAX_TO_KEEP: usize = 5;

/// Text summary recording a step whose loss or gradient was not finite.
pub const DIVERGENCE_TAG: &str = "divergence";

/// Scalar: steps with a non-finite loss or gradient so far this session.
pub const NONFINITE_STEPS_TAG: &str = "nonfinite_steps";

/// Scalar: NaN and infinite weights at each histogram step (histograms
/// cannot show them).
pub const NONFINITE_WEIGHTS_TAG: &str = "nonfinite_weights";

/// The [`TrainSink`] of `tbseg train`: prints the lab's `OUTPUT:` lines
/// (and a progress bar when stderr is a terminal), writes events and
/// checkpoints into one folder.
pub struct RunLog {
    writer: SummaryWriter,
    saver: Saver,
    cadence: SummaryCadence,
    kind_loss_tag: &'static str,
    learning_rate_tag: Option<&'static str>,
    progress: Option<ProgressBar>,
    last_checkpoint: Option<PathBuf>,
}

impl RunLog {
    /// Opens a new event file in `dir` (the summary writer creates a
    /// missing local folder) and records the run's hyper-parameters. A run resumed at `resume_step` starts its
    /// file with a `SessionLog START` there, so TensorBoard drops what the
    /// interrupted run logged at and after that step (it was logged again,
    /// or never checkpointed).
    pub fn create(
        dir: &Path,
        config: &TrainConfig,
        cadence: SummaryCadence,
        resume_step: Option<i64>,
    ) -> Result<RunLog, TrainError> {
        let mut builder = SummaryWriter::builder(dir);
        if let Some(step) = resume_step {
            builder = builder.purge_step(step);
        }
        let writer = builder.build()?;
        let mut hparams = BTreeMap::new();
        hparams.insert(
            "model".to_string(),
            HParamValue::Text(config.kind.name().to_string()),
        );
        hparams.insert(
            "learning_rate".to_string(),
            HParamValue::Float(config.learning_rate),
        );
        hparams.insert(
            "decay_rate".to_string(),
            HParamValue::Float(config.decay_rate),
        );
        hparams.insert(
            "decay_steps".to_string(),
            HParamValue::Float(config.decay_steps as f64),
        );
        hparams.insert(
            "num_epochs".to_string(),
            HParamValue::Float(config.num_epochs as f64),
        );
        hparams.insert(
            "batch_size".to_string(),
            HParamValue::Float(config.batch_size as f64),
        );
        hparams.insert("seed".to_string(), HParamValue::Float(config.seed as f64));
        let options = &config.options;
        hparams.insert(
            "loss".to_string(),
            HParamValue::Text(options.loss.name().to_string()),
        );
        hparams.insert(
            "optimizer".to_string(),
            HParamValue::Text(options.optimizer.name().to_string()),
        );
        hparams.insert("augment".to_string(), HParamValue::Bool(options.augment));
        hparams.insert(
            "augment_symmetries".to_string(),
            HParamValue::Bool(options.augment && options.augment_symmetries),
        );
        // The metrics follow as the run's own scalars.
        writer.add_hparams(&hparams, NO_METRICS, 0)?;
        Ok(RunLog {
            writer,
            saver: Saver::new(dir).max_to_keep(MAX_TO_KEEP),
            cadence,
            kind_loss_tag: config.kind.loss_tag(),
            learning_rate_tag: config.kind.learning_rate_tag(),
            progress: None,
            last_checkpoint: None,
        })
    }

    /// The most recent checkpoint written.
    pub fn last_checkpoint(&self) -> Option<&Path> {
        self.last_checkpoint.as_deref()
    }

    /// Records how the run ended (`status`), then flushes, syncs and
    /// closes the event file.
    pub fn finish(&mut self, status: SessionStatus) -> Result<(), TrainError> {
        if let Some(bar) = self.progress.take() {
            bar.finish_and_clear();
        }
        self.writer.end_hparams(status)?;
        self.writer.sync()?;
        self.writer.close()?;
        Ok(())
    }

    fn print(&self, line: &str) {
        match &self.progress {
            Some(bar) => bar.println(line),
            None => println!("{line}"),
        }
    }

    fn write_images(&self, summary: &SummaryStep<'_>) -> Result<(), TrainError> {
        let size = summary.images.size()[2];
        let image = summary
            .images
            .f_get(0)?
            .f_to_device(Device::Cpu)?
            .f_flatten(0, -1)?;
        let image = Vec::<f32>::try_from(image)?;
        let label = summary
            .labels
            .f_get(0)?
            .f_to_device(Device::Cpu)?
            .f_to_kind(Kind::Uint8)?
            .f_flatten(0, -1)?;
        let label = Vec::<u8>::try_from(label)?;
        let predicted = summary
            .logits
            .f_get(0)?
            .f_argmax(0, false)?
            .f_to_device(Device::Cpu)?
            .f_to_kind(Kind::Uint8)?;
        let predicted = Vec::<u8>::try_from(predicted.f_flatten(0, -1)?)?;
        let side = size as u32;
        let step = summary.step;
        let grey = ImageLayout::Hw(side as usize, side as usize);
        self.writer
            .add_image("images/input", &gray_image(&image), grey, step)?;
        let label_image: Vec<u8> = label
            .iter()
            .map(|&l| if l != 0 { 255 } else { 0 })
            .collect();
        self.writer
            .add_image("images/label", &label_image, grey, step)?;
        let overlay =
            crate::overlay::overlay(&image, side as usize, side as usize, &label, &predicted)?;
        self.writer.add_image(
            "images/prediction_overlay",
            overlay.pixels(),
            overlay.layout(),
            step,
        )?;
        Ok(())
    }
}

/// 8-bit pixels of an image scaled so its own minimum is black and its
/// maximum white.
pub fn gray_image(values: &[f32]) -> Vec<u8> {
    let (lo, hi) = values
        .iter()
        .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    let scale = if hi > lo { 255.0 / (hi - lo) } else { 0.0 };
    values
        .iter()
        .map(|&v| ((v - lo) * scale).round().clamp(0.0, 255.0) as u8)
        .collect()
}

/// The model's own graph as a TensorFlow `GraphDef`.
pub fn graph_def(nodes: &[GraphNode]) -> tbseg::proto::tensorflow::GraphDef {
    let mut builder = GraphBuilder::new();
    for node in nodes {
        let mut out =
            Node::new(node.name.clone(), node.op.clone()).output_shape(&node.output_shape);
        for input in &node.inputs {
            out = out.input(input.clone());
        }
        for (key, values) in &node.int_list_attrs {
            out = out.attr_ints(key.clone(), values);
        }
        for (key, value) in &node.string_attrs {
            out = out.attr_str(key.clone(), value.clone());
        }
        for (key, value) in &node.float_attrs {
            out = out.attr_f32(key.clone(), *value);
        }
        builder.add_node(out);
    }
    builder.into_graph_def()
}

impl TrainSink for RunLog {
    fn started(&mut self, model: &Model, first_step: i64, steps: i64) -> Result<(), TrainError> {
        self.writer.add_graph(&graph_def(&model.graph(1)?))?;
        if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(steps.max(0) as u64).with_position(first_step.max(0) as u64);
            if let Ok(style) =
                ProgressStyle::with_template("{bar:40} {pos}/{len} steps  {elapsed} < {eta}  {msg}")
            {
                bar.set_style(style);
            }
            self.progress = Some(bar);
        }
        Ok(())
    }

    fn stepped(&mut self, step: i64, loss: f64, seconds: f64, summary: bool) {
        if summary {
            self.print(&format!(
                "OUTPUT: Step {step}: loss = {loss:.3} ({seconds:.3} sec)"
            ));
        }
        if let Some(bar) = &self.progress {
            bar.set_position((step + 1).max(0) as u64);
            bar.set_message(format!("loss {loss:.3}"));
        }
    }

    fn summary(&mut self, summary: &SummaryStep<'_>) -> Result<(), TrainError> {
        let step = summary.step;
        self.writer
            .add_scalar(self.kind_loss_tag, summary.loss as f32, step)?;
        if let Some(tag) = self.learning_rate_tag {
            self.writer
                .add_scalar(tag, summary.learning_rate as f32, step)?;
        }
        if summary.step % self.cadence.images_every.max(1) == 0 {
            self.write_images(summary)?;
        }
        if summary.step % self.cadence.histograms_every.max(1) == 0 {
            // Histograms leave out NaN and infinity and say how many, so
            // count them apart: a `nonfinite_weights` curve above 0 is a
            // diverged model.
            let mut nonfinite = 0usize;
            for variable in summary.model.export_tf()? {
                nonfinite += self
                    .writer
                    .add_histogram(&variable.name, &variable.values, step)?;
            }
            self.writer
                .add_scalar(NONFINITE_WEIGHTS_TAG, nonfinite as f32, step)?;
        }
        self.writer.flush()?;
        Ok(())
    }

    fn nonfinite(
        &mut self,
        step: i64,
        what: NonFinite,
        loss: f64,
        skipped: u64,
    ) -> Result<(), TrainError> {
        let line = format!("step {step}: non-finite {what} (loss {loss})");
        self.print(&format!("tbseg: {line}"));
        self.writer.add_text(DIVERGENCE_TAG, &line, step)?;
        self.writer
            .add_scalar(NONFINITE_STEPS_TAG, skipped as f32, step)?;
        // The run may stop right after this: make the record durable.
        self.writer.sync()?;
        Ok(())
    }

    fn checkpoint(
        &mut self,
        name_step: i64,
        global_step: i64,
        model: &Model,
    ) -> Result<(), TrainError> {
        // Events first: once the checkpoint exists, every event a resumed
        // run would not log again is on disk.
        self.writer.sync()?;
        let tensors = checkpoint_tensors(model, global_step)?;
        let path = self.saver.save(name_step, &tensors)?;
        self.last_checkpoint = Some(path);
        Ok(())
    }
}
