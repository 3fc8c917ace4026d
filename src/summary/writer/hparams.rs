//! Hyperparameters and metrics for TensorBoard's HParams dashboard.

use std::collections::{btree_map, BTreeMap, BTreeSet};

use super::{now, stored_as_double, SummaryWriter};
use crate::summary::hparams::{HParamValue, Metric, SessionStatus, SESSION_START_TAG};
use crate::summary::inputs::{Scalar, Step};
use crate::summary::pairs::{HParamPair, ScalarPair};
use crate::summary::values::{self, Summary};
use crate::summary::SummaryError;

/// The hyperparameters by name; an empty or repeated name is an error
/// naming it.
fn hparam_map<H>(hparams: H) -> Result<BTreeMap<String, HParamValue>, SummaryError>
where
    H: IntoIterator,
    H::Item: HParamPair,
{
    let mut map = BTreeMap::new();
    for pair in hparams {
        let (name, value) = pair.into_pair();
        let reason = if name.is_empty() {
            "an empty hyperparameter name, expected a name".to_owned()
        } else {
            match map.entry(name) {
                btree_map::Entry::Vacant(entry) => {
                    entry.insert(value);
                    continue;
                }
                btree_map::Entry::Occupied(entry) => format!(
                    "hyperparameter {:?} appears twice, expected each name once",
                    entry.key()
                ),
            }
        };
        return Err(SummaryError::InvalidArgument {
            tag: SESSION_START_TAG.to_owned(),
            what: "hparams",
            reason,
        });
    }
    Ok(map)
}

impl SummaryWriter {
    /// Records this run's hyperparameters and, in the same call, its final
    /// metric values, for TensorBoard's HParams dashboard, which then shows
    /// this run as one session with both. PyTorch's
    /// `add_hparams(hparam_dict, metric_dict)` in Rust form:
    ///
    /// - `hparams`: any collection of `(name, value)` with values a number,
    ///   a `bool` or a string: `&[("lr", 0.01.into()), ("model",
    ///   "cnn".into())]`, a `HashMap` or `BTreeMap` by value or by
    ///   reference (see [`HParamPair`]);
    /// - `metrics`: any collection of `(tag, number)` (see
    ///   [`crate::summary::ScalarPair`]), or [`crate::summary::NO_METRICS`]. Each is logged
    ///   as a scalar of this run at `step` and declared as a metric column;
    ///   with none, no columns are declared and TensorBoard makes one of
    ///   every scalar tag of the run (and of the other runs with hparams).
    ///
    /// Everything goes into one event of this writer's run at `step`: the
    /// `_hparams_/experiment` summary (the hyperparameters' names and
    /// types and the metrics; only with metrics), the
    /// `_hparams_/session_start_info` summary (the values), and the metric
    /// scalars. Log metrics at the step they were measured at: a metric
    /// named like a curve you log (`"loss"`) adds or replaces that curve's
    /// point at `step`.
    ///
    /// Unlike PyTorch, the session is this writer's own run: PyTorch
    /// writes every `add_hparams` call into a new run
    /// `<logdir>/<time.time()>` (pytorch/pytorch#32651), so the dashboard
    /// pairs the hyperparameters with a copy of the metrics in a run of
    /// their own, away from the curves. Call it once per writer:
    /// TensorBoard reads a run's hyperparameters once (use one writer per
    /// configuration). TensorBoard takes the metric columns from the first
    /// `_hparams_/experiment` it finds in the log directory, so give the
    /// runs of one experiment the same hyperparameter and metric names.
    /// [`SummaryWriter::add_hparams_with_metrics`] declares metrics with
    /// display names and descriptions and a session group;
    /// [`SummaryWriter::end_hparams`] records how the run ended.
    ///
    /// An empty or repeated name is an [`SummaryError::InvalidArgument`]
    /// naming it, and nothing is written.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use tbseg::summary::{SummaryWriter, NO_METRICS};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// # let other = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// # let third = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// // The run's configuration and how it did, in one call.
    /// writer.add_hparams(
    ///     &[("lr", 0.01.into()), ("model", "cnn".into()), ("augment", true.into())],
    ///     &[("hparam/dice", 0.91), ("hparam/loss", 0.12)],
    ///     1000,
    /// )?;
    /// // Any map works, and metrics may come later as ordinary scalars.
    /// let config: HashMap<&str, f64> = HashMap::from([("lr", 0.1), ("batch_size", 32.0)]);
    /// other.add_hparams(&config, NO_METRICS, 0)?;
    /// third.add_hparams([("epochs", 20)], [("dice", 0.5f32)], 20)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_hparams<H, M>(
        &self,
        hparams: H,
        metrics: M,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>
    where
        H: IntoIterator,
        H::Item: HParamPair,
        M: IntoIterator,
        M::Item: ScalarPair,
    {
        let hparams = hparam_map(hparams)?;
        let (step, time) = step.into().resolve(SESSION_START_TAG, now)?;
        let step = Step::new(step).wall_time(time);
        let mut names = BTreeSet::new();
        let mut scalars = Vec::new();
        for metric in metrics {
            let name = metric.name();
            if name.is_empty() || !names.insert(name.to_owned()) {
                return Err(SummaryError::InvalidArgument {
                    tag: name.to_owned(),
                    what: "metrics",
                    reason: if name.is_empty() {
                        "an empty metric name, expected a scalar tag".to_owned()
                    } else {
                        format!("metric {name:?} appears twice, expected each name once")
                    },
                });
            }
            let value = metric.value();
            scalars.push(if stored_as_double(&value) {
                values::scalar_f64(name, value.to_f64())
            } else {
                values::scalar(name, value.to_f32())
            });
        }
        let mut value = Vec::with_capacity(scalars.len() + 2);
        if !scalars.is_empty() {
            let declared: Vec<Metric> = names.into_iter().map(Metric::new).collect();
            value.push(values::hparams_experiment(&hparams, &declared, time));
        }
        value.push(values::hparams_session_start(&hparams, None, time));
        value.extend(scalars);
        self.add_summary(Summary { value }, step)
    }

    /// Records this run's hyperparameters for the HParams dashboard with
    /// declared `metrics` (tags, display names, descriptions, datasets; see
    /// [`Metric`]), so the dashboard shows their columns before any of them
    /// is logged: an `_hparams_/experiment` summary (the hyperparameters'
    /// names and types, and the metrics; only if `metrics` is not empty)
    /// and the `_hparams_/session_start_info` summary, at step 0. Log the
    /// metrics as ordinary scalars of this writer (or of the run their
    /// [`Metric::group`] names). `group_name` groups runs of the same
    /// configuration (repeats with other seeds); `None` gives each run its
    /// own group. `hparams` is any collection of `(name, value)` pairs, as
    /// for [`SummaryWriter::add_hparams`]. Call once per writer.
    ///
    /// TensorBoard uses the first experiment summary it finds in the log
    /// directory, so give every run of an experiment the same
    /// hyperparameter names and metrics.
    ///
    /// ```
    /// use std::collections::BTreeMap;
    /// use tbseg::summary::{HParamValue, Metric, SummaryWriter};
    /// # let writer = SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// let mut hparams = BTreeMap::new();
    /// hparams.insert("lr".to_owned(), HParamValue::from(0.01));
    /// let metrics = [
    ///     Metric::new("loss").display_name("Training loss"),
    ///     Metric::new("dice").group("eval").description("higher is better"),
    /// ];
    /// writer.add_hparams_with_metrics(&hparams, &metrics, None)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_hparams_with_metrics<H>(
        &self,
        hparams: H,
        metrics: &[Metric],
        group_name: Option<&str>,
    ) -> Result<(), SummaryError>
    where
        H: IntoIterator,
        H::Item: HParamPair,
    {
        let hparams = hparam_map(hparams)?;
        let time = now();
        let mut value = Vec::with_capacity(2);
        if !metrics.is_empty() {
            value.push(values::hparams_experiment(&hparams, metrics, time));
        }
        value.push(values::hparams_session_start(&hparams, group_name, time));
        self.add_summary(Summary { value }, 0)
    }

    /// Records how the run ended (`_hparams_/session_end_info`), after
    /// [`SummaryWriter::add_hparams`] or
    /// [`SummaryWriter::add_hparams_with_metrics`].
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::{SessionStatus, SummaryWriter, NO_METRICS};
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-end-hparams-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// writer.add_hparams([("lr", 0.01)], NO_METRICS, 0)?;
    /// writer.end_hparams(SessionStatus::Success)?;
    /// writer.close()?;
    /// let hparams = Logdir::scan(&dir)?.runs["."].hparams()?.expect("hparams");
    /// let end = hparams.session_end.expect("a session end");
    /// assert_eq!(end.status, SessionStatus::Success);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn end_hparams(&self, status: SessionStatus) -> Result<(), SummaryError> {
        self.add_value(values::hparams_session_end(status, now()), 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::writer::test_support::*;
    use prost::Message;

    #[test]
    fn hparams_with_metrics_write_the_experiment_first() {
        use crate::proto::tensorboard::hparams::{h_params_plugin_data, HParamsPluginData};
        let dir = tempfile::tempdir().unwrap();
        let writer = SummaryWriter::new(dir.path()).unwrap();
        let mut hp = BTreeMap::new();
        hp.insert("lr".to_owned(), HParamValue::Float(0.1));
        let metrics = [Metric::new("val/dice").display_name("Dice")];
        writer
            .add_hparams_with_metrics(&hp, &metrics, Some("g"))
            .unwrap();
        writer.close().unwrap();
        let summaries = summaries(writer.path());
        let tags: Vec<&str> = summaries.iter().map(|(_, v)| v.tag.as_str()).collect();
        assert_eq!(
            tags,
            ["_hparams_/experiment", "_hparams_/session_start_info"]
        );
        let meta = summaries[0].1.metadata.as_ref().unwrap();
        let plugin = meta.plugin_data.as_ref().unwrap();
        assert_eq!(plugin.plugin_name, "hparams");
        let data = HParamsPluginData::decode(plugin.content.as_slice()).unwrap();
        let Some(h_params_plugin_data::Data::Experiment(e)) = data.data else {
            panic!("not an experiment")
        };
        assert_eq!(e.hparam_infos[0].name, "lr");
        assert_eq!(e.metric_infos[0].display_name, "Dice");
        assert_eq!(e.metric_infos[0].name.as_ref().unwrap().tag, "val/dice");
    }
}
