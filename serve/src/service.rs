//! The `TensorBoardDataProvider` gRPC service, answering from the runs the
//! [`Loader`](crate::loader::Loader) keeps.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, PoisonError};

use tbseg::proto::tensorflow::DataClass;
use tonic::codegen::tokio_stream;
use tonic::{Request, Response, Status};

use crate::loader::Logdir;
use crate::proto::tensor_board_data_provider_server::TensorBoardDataProvider;
use crate::proto::*;
use crate::sampling::downsample;
use crate::store::{Payload, Point, RunData, TimeSeries};

/// Blob bytes per `ReadBlobResponse` message, well under gRPC's default
/// 4 MiB message limit.
const BLOB_CHUNK: usize = 1 << 20;

/// The service; cheap to clone.
#[derive(Debug, Clone)]
pub struct DataProvider {
    logdir: Arc<Logdir>,
}

impl DataProvider {
    /// A service answering from `logdir`.
    pub fn new(logdir: Arc<Logdir>) -> Self {
        DataProvider { logdir }
    }

    /// Runs `f` on the runs now known, in name order, each under its
    /// read lock (a run being loaded holds its lock only per event).
    fn with_runs<T>(&self, f: impl FnOnce(&[(&str, &RunData)]) -> T) -> T {
        let shared = self.logdir.runs();
        let guards: Vec<_> = shared
            .iter()
            .map(|(name, run)| (name, run.read().unwrap_or_else(PoisonError::into_inner)))
            .collect();
        let runs: Vec<(&str, &RunData)> = guards
            .iter()
            .map(|(name, run)| (name.as_str(), &**run))
            .collect();
        f(&runs)
    }

    /// The answer every List* and Read* call shares in shape: for each run
    /// with series of `class` that the filters select, `run_entry(run,
    /// tags)`, where `tag_entry(run, tag, series)` makes each tag's part.
    /// (Each call has its own generated `RunEntry` and `TagEntry` types.)
    fn by_run_and_tag<R, T>(
        &self,
        plugin: &Option<PluginFilter>,
        class: DataClass,
        filter: &Option<RunTagFilter>,
        mut tag_entry: impl FnMut(&str, &str, &TimeSeries) -> T,
        run_entry: impl Fn(String, Vec<T>) -> R,
    ) -> Result<Vec<R>, Status> {
        self.with_runs(|runs| {
            let selected = select(runs, plugin, class, filter)?;
            Ok(selected
                .into_iter()
                .map(|(run, tags)| {
                    let tags = tags
                        .into_iter()
                        .map(|(tag, series)| tag_entry(run, tag, series))
                        .collect();
                    run_entry(run.to_owned(), tags)
                })
                .collect())
        })
    }
}

/// Time series by run: `(run, [(tag, series)])`.
type Selection<'a> = Vec<(&'a str, Vec<(&'a str, &'a TimeSeries)>)>;

/// The time series of `class` owned by `plugin` that `filter` selects, by
/// run (runs without any left out), in name order.
fn select<'a>(
    runs: &[(&'a str, &'a RunData)],
    plugin: &Option<PluginFilter>,
    class: DataClass,
    filter: &Option<RunTagFilter>,
) -> Result<Selection<'a>, Status> {
    let plugin = plugin.as_ref().map_or("", |p| p.plugin_name.as_str());
    if plugin.is_empty() {
        return Err(Status::invalid_argument(
            "plugin_filter.plugin_name is required",
        ));
    }
    let run_names = filter
        .as_ref()
        .and_then(|f| f.runs.as_ref())
        .map(|r| &r.names);
    let tag_names = filter
        .as_ref()
        .and_then(|f| f.tags.as_ref())
        .map(|t| &t.names);
    let mut selected = Vec::new();
    for &(run, data) in runs {
        if run_names.is_some_and(|names| !names.iter().any(|name| name == run)) {
            continue;
        }
        let tags: Vec<_> = data
            .series
            .iter()
            .filter(|(tag, series)| {
                series.plugin_name() == plugin
                    && series.data_class() == class
                    && tag_names.is_none_or(|names| names.contains(tag))
            })
            .map(|(tag, series)| (tag.as_str(), series))
            .collect();
        if !tags.is_empty() {
            selected.push((run, tags));
        }
    }
    Ok(selected)
}

fn num_points(downsample: &Option<Downsample>) -> Result<usize, Status> {
    let n = downsample
        .as_ref()
        .ok_or_else(|| Status::invalid_argument("downsample is required"))?
        .num_points;
    usize::try_from(n).map_err(|_| Status::invalid_argument("downsample.num_points < 0"))
}

/// Largest step and wall time of the kept points.
fn maxima(series: &TimeSeries) -> (i64, f64) {
    series.points.items().iter().fold((0, 0.0), |(s, w), p| {
        (s.max(p.step), if p.wall_time > w { p.wall_time } else { w })
    })
}

/// The points of a blob sequence as TensorBoard's Python data provider
/// serves them: the first point of each step, by step (a step logged twice,
/// as by a run restarted without a `SessionLog START`, shows its first
/// value), so that a blob key's step names one point.
fn first_per_step(series: &TimeSeries) -> Vec<&Point> {
    let mut by_step: BTreeMap<i64, &Point> = BTreeMap::new();
    for p in series.points.items() {
        by_step.entry(p.step).or_insert(p);
    }
    by_step.into_values().collect()
}

/// A blob's key: run, tag, step and position in the sequence, hex-encoded
/// so that it can go into a URL as it is.
fn blob_key(run: &str, tag: &str, step: i64, index: usize) -> String {
    format!("{run}\0{tag}\0{step}\0{index}")
        .bytes()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn parse_blob_key(key: &str) -> Option<(String, String, i64, usize)> {
    if !key.len().is_multiple_of(2) {
        return None;
    }
    let bytes: Vec<u8> = (0..key.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(key.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let text = String::from_utf8(bytes).ok()?;
    let mut parts = text.split('\0');
    let run = parts.next()?.to_owned();
    let tag = parts.next()?.to_owned();
    let step = parts.next()?.parse().ok()?;
    let index = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((run, tag, step, index))
}

type BlobStream = tokio_stream::Iter<std::vec::IntoIter<Result<ReadBlobResponse, Status>>>;

#[tonic::async_trait]
impl TensorBoardDataProvider for DataProvider {
    async fn get_experiment(
        &self,
        _request: Request<GetExperimentRequest>,
    ) -> Result<Response<GetExperimentResponse>, Status> {
        Ok(Response::new(GetExperimentResponse {
            data_location: self.logdir.location.clone(),
            ..Default::default()
        }))
    }

    async fn list_plugins(
        &self,
        _request: Request<ListPluginsRequest>,
    ) -> Result<Response<ListPluginsResponse>, Status> {
        let names: BTreeSet<String> = self.with_runs(|runs| {
            runs.iter()
                .flat_map(|(_, run)| run.series.values())
                .filter(|s| s.data_class() != DataClass::Unknown)
                .map(|s| s.plugin_name().to_owned())
                .collect()
        });
        Ok(Response::new(ListPluginsResponse {
            plugins: names.into_iter().map(|name| Plugin { name }).collect(),
        }))
    }

    async fn list_runs(
        &self,
        _request: Request<ListRunsRequest>,
    ) -> Result<Response<ListRunsResponse>, Status> {
        let runs = self.with_runs(|runs| {
            runs.iter()
                .map(|(name, run)| Run {
                    name: (*name).to_owned(),
                    start_time: run.start_time.unwrap_or_default(),
                })
                .collect()
        });
        Ok(Response::new(ListRunsResponse { runs }))
    }

    async fn list_scalars(
        &self,
        request: Request<ListScalarsRequest>,
    ) -> Result<Response<ListScalarsResponse>, Status> {
        use list_scalars_response::{RunEntry, TagEntry};
        let r = request.into_inner();
        let runs = self.by_run_and_tag(
            &r.plugin_filter,
            DataClass::Scalar,
            &r.run_tag_filter,
            |_, tag, series| {
                let (max_step, max_wall_time) = maxima(series);
                TagEntry {
                    tag_name: tag.to_owned(),
                    metadata: Some(ScalarMetadata {
                        max_step,
                        max_wall_time,
                        summary_metadata: Some(series.metadata.clone()),
                    }),
                }
            },
            |run_name, tags| RunEntry { run_name, tags },
        )?;
        Ok(Response::new(ListScalarsResponse { runs }))
    }

    async fn read_scalars(
        &self,
        request: Request<ReadScalarsRequest>,
    ) -> Result<Response<ReadScalarsResponse>, Status> {
        use read_scalars_response::{RunEntry, TagEntry};
        let r = request.into_inner();
        let n = num_points(&r.downsample)?;
        let runs = self.by_run_and_tag(
            &r.plugin_filter,
            DataClass::Scalar,
            &r.run_tag_filter,
            |_, tag, series| {
                let mut data = ScalarData::default();
                for p in downsample(series.points.items(), n) {
                    if let Payload::Scalar(x) = p.payload {
                        data.step.push(p.step);
                        data.wall_time.push(p.wall_time);
                        // The protocol carries scalars as `float`.
                        data.value.push(x as f32);
                    }
                }
                TagEntry {
                    tag_name: tag.to_owned(),
                    data: Some(data),
                }
            },
            |run_name, tags| RunEntry { run_name, tags },
        )?;
        Ok(Response::new(ReadScalarsResponse { runs }))
    }

    async fn list_tensors(
        &self,
        request: Request<ListTensorsRequest>,
    ) -> Result<Response<ListTensorsResponse>, Status> {
        use list_tensors_response::{RunEntry, TagEntry};
        let r = request.into_inner();
        let runs = self.by_run_and_tag(
            &r.plugin_filter,
            DataClass::Tensor,
            &r.run_tag_filter,
            |_, tag, series| {
                let (max_step, max_wall_time) = maxima(series);
                TagEntry {
                    tag_name: tag.to_owned(),
                    metadata: Some(TensorMetadata {
                        max_step,
                        max_wall_time,
                        summary_metadata: Some(series.metadata.clone()),
                    }),
                }
            },
            |run_name, tags| RunEntry { run_name, tags },
        )?;
        Ok(Response::new(ListTensorsResponse { runs }))
    }

    async fn read_tensors(
        &self,
        request: Request<ReadTensorsRequest>,
    ) -> Result<Response<ReadTensorsResponse>, Status> {
        use read_tensors_response::{RunEntry, TagEntry};
        let r = request.into_inner();
        let n = num_points(&r.downsample)?;
        let runs = self.by_run_and_tag(
            &r.plugin_filter,
            DataClass::Tensor,
            &r.run_tag_filter,
            |_, tag, series| {
                let mut data = TensorData::default();
                for p in downsample(series.points.items(), n) {
                    if let Payload::Tensor(t) = &p.payload {
                        data.step.push(p.step);
                        data.wall_time.push(p.wall_time);
                        data.value.push((**t).clone());
                    }
                }
                TagEntry {
                    tag_name: tag.to_owned(),
                    data: Some(data),
                }
            },
            |run_name, tags| RunEntry { run_name, tags },
        )?;
        Ok(Response::new(ReadTensorsResponse { runs }))
    }

    async fn list_blob_sequences(
        &self,
        request: Request<ListBlobSequencesRequest>,
    ) -> Result<Response<ListBlobSequencesResponse>, Status> {
        use list_blob_sequences_response::{RunEntry, TagEntry};
        let r = request.into_inner();
        let runs = self.by_run_and_tag(
            &r.plugin_filter,
            DataClass::BlobSequence,
            &r.run_tag_filter,
            |_, tag, series| {
                let (max_step, max_wall_time) = maxima(series);
                let max_length = series
                    .points
                    .items()
                    .iter()
                    .map(|p| match &p.payload {
                        Payload::Blobs(b) => b.len() as i64,
                        _ => 0,
                    })
                    .max()
                    .unwrap_or(0);
                TagEntry {
                    tag_name: tag.to_owned(),
                    metadata: Some(BlobSequenceMetadata {
                        max_step,
                        max_wall_time,
                        max_length,
                        summary_metadata: Some(series.metadata.clone()),
                    }),
                }
            },
            |run_name, tags| RunEntry { run_name, tags },
        )?;
        Ok(Response::new(ListBlobSequencesResponse { runs }))
    }

    async fn read_blob_sequences(
        &self,
        request: Request<ReadBlobSequencesRequest>,
    ) -> Result<Response<ReadBlobSequencesResponse>, Status> {
        use read_blob_sequences_response::{RunEntry, TagEntry};
        let r = request.into_inner();
        let n = num_points(&r.downsample)?;
        let runs = self.by_run_and_tag(
            &r.plugin_filter,
            DataClass::BlobSequence,
            &r.run_tag_filter,
            |run, tag, series| {
                let mut data = BlobSequenceData::default();
                for p in downsample(&first_per_step(series), n) {
                    if let Payload::Blobs(blobs) = &p.payload {
                        data.step.push(p.step);
                        data.wall_time.push(p.wall_time);
                        data.values.push(BlobReferenceSequence {
                            blob_refs: (0..blobs.len())
                                .map(|i| BlobReference {
                                    blob_key: blob_key(run, tag, p.step, i),
                                    url: String::new(),
                                })
                                .collect(),
                        });
                    }
                }
                TagEntry {
                    tag_name: tag.to_owned(),
                    data: Some(data),
                }
            },
            |run_name, tags| RunEntry { run_name, tags },
        )?;
        Ok(Response::new(ReadBlobSequencesResponse { runs }))
    }

    type ReadBlobStream = BlobStream;

    async fn read_blob(
        &self,
        request: Request<ReadBlobRequest>,
    ) -> Result<Response<Self::ReadBlobStream>, Status> {
        let key = request.into_inner().blob_key;
        let (run, tag, step, index) = parse_blob_key(&key)
            .ok_or_else(|| Status::invalid_argument(format!("malformed blob key {key:?}")))?;
        let shared = self.logdir.run(&run);
        let blob = shared.and_then(|shared| {
            let data = shared.read().unwrap_or_else(PoisonError::into_inner);
            let series = data.series.get(&tag)?;
            let point = first_per_step(series)
                .into_iter()
                .find(|p| p.step == step)?;
            match &point.payload {
                Payload::Blobs(blobs) => blobs.get(index).cloned(),
                _ => None,
            }
        });
        let blob = blob.ok_or_else(|| {
            Status::not_found(format!(
                "no blob {index} at step {step} of run {run:?}, tag {tag:?}"
            ))
        })?;
        let chunks: Vec<_> = if blob.is_empty() {
            vec![Ok(ReadBlobResponse { data: Vec::new() })]
        } else {
            blob.chunks(BLOB_CHUNK)
                .map(|c| Ok(ReadBlobResponse { data: c.to_vec() }))
                .collect()
        };
        Ok(Response::new(tokio_stream::iter(chunks)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_keys_round_trip_and_are_url_safe() {
        let key = blob_key("train/a b", "image/0", -3, 2);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(
            parse_blob_key(&key),
            Some(("train/a b".into(), "image/0".into(), -3, 2))
        );
        assert_eq!(parse_blob_key("zz"), None);
        assert_eq!(parse_blob_key("abc"), None);
    }
}
