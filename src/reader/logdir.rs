//! A log directory read back: its runs, each run's event files, tags and
//! graphs, and every tag's values typed for its dashboard.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::proto::tensorflow::session_log::SessionStatus;
use crate::proto::tensorflow::{event, Event, SessionLog};

use super::audio::AudioClip;
use super::custom_scalars::Layout;
use super::embedding::{read_embeddings, Embedding};
use super::event_file::ReadEventError;
use super::graph::{self, Graph};
use super::histogram::Histogram;
use super::hparams::Hparams;
use super::image::Image;
use super::mesh::{Mesh, MeshComponent};
use super::pr_curve::PrCurve;
use super::series::{Series, SeriesKind};
use super::text::Text;
use super::value::{Point, ReadValueError, Value};
use super::LogdirWatcher;

/// How reading one event file went.
#[derive(Debug)]
pub enum FileStatus {
    /// Read to the end.
    Complete,
    /// Read up to a torn final record at `offset`.
    TornTail {
        /// Byte offset of the torn record.
        offset: u64,
    },
    /// Reading stopped at a fatal error; the events before it were read.
    Failed(ReadEventError),
}

/// One event file of a run.
#[derive(Debug)]
pub struct EventFileSummary {
    /// The file, relative to the log directory.
    pub path: PathBuf,
    /// Events read from it.
    pub events: u64,
    /// How reading it ended.
    pub status: FileStatus,
    /// Records skipped for a retryable error (bad data checksum, not an
    /// `Event`, NaN wall time), each with its byte offset; at most
    /// [`MAX_SKIPPED_KEPT`](super::MAX_SKIPPED_KEPT) are kept.
    pub skipped: Vec<ReadEventError>,
    /// How many records were skipped in all.
    pub skipped_count: u64,
}

/// One run: the event files of one directory, read in file name order.
#[derive(Debug, Default)]
pub struct Run {
    /// Every tag's series.
    pub tags: BTreeMap<String, Series>,
    /// The run's event files, in the order they were read.
    pub files: Vec<EventFileSummary>,
    /// How many events carried a `graph_def`.
    pub graphs: u64,
    /// The last serialized `GraphDef` logged, the one the Graphs dashboard
    /// shows.
    pub graph_def: Option<Vec<u8>>,
    /// Every `SessionLog` event, as `(step, log)`, in file order.
    pub session_logs: Vec<(i64, SessionLog)>,
    /// Values dropped because a `SessionLog START` at an equal or lower
    /// step came after them (a resumed run).
    pub purged: u64,
}

impl Run {
    /// Whether any event of the run carried a graph.
    pub fn has_graph(&self) -> bool {
        self.graphs > 0
    }

    /// The series of `tag`.
    pub fn series(&self, tag: &str) -> Option<&Series> {
        self.tags.get(tag)
    }

    /// Every `(step, value)` of the scalar tag `tag`, narrowed to `f32`;
    /// `None` when the run has no scalar tag of that name.
    pub fn scalars(&self, tag: &str) -> Option<Vec<(i64, f32)>> {
        self.scalar_series(tag).map(Series::points)
    }

    /// Every `(step, value)` of the scalar tag `tag` at the precision
    /// logged (`f64` scalars keep every digit); `None` when the run has no
    /// scalar tag of that name.
    pub fn scalars_f64(&self, tag: &str) -> Option<Vec<(i64, f64)>> {
        self.scalar_series(tag).map(|s| {
            s.scalar_points()
                .iter()
                .map(|p| (p.step, p.value))
                .collect()
        })
    }

    fn scalar_series(&self, tag: &str) -> Option<&Series> {
        self.series(tag).filter(|s| s.kind == SeriesKind::Scalar)
    }

    /// Every value of `tag`, decoded for its dashboard, in file order. A
    /// missing tag or a malformed value is an error naming the tag (and
    /// step).
    pub fn values(&self, tag: &str) -> Result<Vec<Point<Value>>, ReadValueError> {
        self.existing(tag)?.decoded().collect()
    }

    fn existing(&self, tag: &str) -> Result<&Series, ReadValueError> {
        self.series(tag).ok_or_else(|| ReadValueError::MissingTag {
            tag: tag.to_owned(),
        })
    }

    fn typed<T>(
        &self,
        tag: &str,
        kind: SeriesKind,
        pick: impl Fn(Value) -> Option<T>,
    ) -> Result<Vec<Point<T>>, ReadValueError> {
        self.existing(tag)?.typed(kind, pick)
    }

    /// The images of the image tag `tag`, per step (one or more images of
    /// one size each; a video is one GIF image). From TensorFlow 2's
    /// tensor form or the legacy `Summary.Image` torch writes.
    pub fn images(&self, tag: &str) -> Result<Vec<Point<Vec<Image>>>, ReadValueError> {
        self.typed(tag, SeriesKind::Image, |v| match v {
            Value::Images(images) => Some(images),
            _ => None,
        })
    }

    /// The histograms of the histogram tag `tag`, per step; from the
    /// `[k, 3]` tensor or the legacy `HistogramProto`.
    pub fn histograms(&self, tag: &str) -> Result<Vec<Point<Histogram>>, ReadValueError> {
        self.typed(tag, SeriesKind::Histogram, |v| match v {
            Value::Histogram(h) => Some(h),
            _ => None,
        })
    }

    /// The texts of the text tag `tag`, per step (see [`Text::table`] for
    /// tables).
    pub fn texts(&self, tag: &str) -> Result<Vec<Point<Text>>, ReadValueError> {
        self.typed(tag, SeriesKind::Text, |v| match v {
            Value::Text(t) => Some(t),
            _ => None,
        })
    }

    /// The PR curves of the tag `tag`, per step.
    pub fn pr_curves(&self, tag: &str) -> Result<Vec<Point<PrCurve>>, ReadValueError> {
        self.typed(tag, SeriesKind::PrCurve, |v| match v {
            Value::PrCurve(c) => Some(c),
            _ => None,
        })
    }

    /// The audio clips of the tag `tag`, per step, decoded from WAV.
    pub fn audio(&self, tag: &str) -> Result<Vec<Point<Vec<AudioClip>>>, ReadValueError> {
        self.typed(tag, SeriesKind::Audio, |v| match v {
            Value::Audio(clips) => Some(clips),
            _ => None,
        })
    }

    /// The meshes logged under `name` (the tags `<name>_VERTEX`,
    /// `<name>_FACE` and `<name>_COLOR`), per step of the vertex tag: one
    /// [`Mesh`] per batch sample, with the faces and colours logged at the
    /// same step.
    pub fn meshes(&self, name: &str) -> Result<Vec<Point<Vec<Mesh>>>, ReadValueError> {
        let component = |suffix: &str| -> Result<Vec<Point<Value>>, ReadValueError> {
            let tag = format!("{name}_{suffix}");
            match self.series(&tag) {
                None if suffix != "VERTEX" => Ok(Vec::new()),
                _ => self.typed(&tag, SeriesKind::Mesh, |v| match v {
                    Value::Mesh(part) => Some(Value::Mesh(part)),
                    _ => None,
                }),
            }
        };
        let faces = component("FACE")?;
        let colors = component("COLOR")?;
        let at = |points: &[Point<Value>], step: i64| -> Option<MeshComponent> {
            points
                .iter()
                .rev()
                .find(|p| p.step == step)
                .and_then(|p| match &p.value {
                    Value::Mesh(part) => Some(part.component.clone()),
                    _ => None,
                })
        };
        component("VERTEX")?
            .into_iter()
            .map(|point| {
                let Value::Mesh(part) = &point.value else {
                    unreachable!("typed() keeps mesh values only")
                };
                let MeshComponent::Vertices(samples) = &part.component else {
                    return Err(ReadValueError::Malformed {
                        tag: format!("{name}_VERTEX"),
                        step: point.step,
                        reason: "the vertex tag holds another mesh component".into(),
                    });
                };
                let faces = match at(&faces, point.step) {
                    Some(MeshComponent::Faces(f)) => Some(f),
                    _ => None,
                };
                let colors = match at(&colors, point.step) {
                    Some(MeshComponent::Colors(c)) => Some(c),
                    _ => None,
                };
                let meshes = samples
                    .iter()
                    .enumerate()
                    .map(|(i, vertices)| Mesh {
                        vertices: vertices.clone(),
                        faces: faces.as_ref().and_then(|f| f.get(i).cloned()),
                        colors: colors.as_ref().and_then(|c| c.get(i).cloned()),
                        config_json: part.config_json.clone(),
                    })
                    .collect();
                Ok(Point {
                    step: point.step,
                    wall_time: point.wall_time,
                    value: meshes,
                })
            })
            .collect()
    }

    /// The run's hyperparameters: its experiment, session start and
    /// session end summaries (the last of each); `None` when the run has
    /// none of them.
    pub fn hparams(&self) -> Result<Option<Hparams>, ReadValueError> {
        let mut hparams = Hparams::default();
        let mut found = false;
        for series in self.tags.values().filter(|s| s.kind == SeriesKind::Hparams) {
            if let Some(last) = series.last_decoded() {
                if let Value::Hparams(record) = last?.value {
                    hparams.add(record);
                    found = true;
                }
            }
        }
        Ok(found.then_some(hparams))
    }

    /// The run's last Custom Scalars layout, if it logged one.
    pub fn custom_scalars(&self) -> Result<Option<Layout>, ReadValueError> {
        let Some(series) = self
            .tags
            .values()
            .find(|s| s.kind == SeriesKind::CustomScalars)
        else {
            return Ok(None);
        };
        match series.last_decoded().transpose()? {
            Some(Point {
                value: Value::CustomScalars(layout),
                ..
            }) => Ok(Some(layout)),
            _ => Ok(None),
        }
    }

    /// The run's last graph, decoded; `None` when it logged none.
    pub fn graph(&self) -> Result<Option<Graph>, ReadValueError> {
        let Some(bytes) = &self.graph_def else {
            return Ok(None);
        };
        graph::decode(bytes)
            .map(Some)
            .map_err(|e| ReadValueError::Malformed {
                tag: "(graph)".into(),
                step: 0,
                reason: e.0,
            })
    }

    /// Adds one event's contribution.
    ///
    /// A `SessionLog` with status START at step `s` drops every value
    /// already read at step `s` or later, in every tag, the way
    /// TensorBoard's event loader does: a run that crashed and was resumed
    /// from an earlier checkpoint then reads as one curve, without the
    /// points the crashed process logged after that checkpoint.
    pub fn add_event(&mut self, event: &Event) {
        match &event.what {
            Some(event::What::GraphDef(graph)) => {
                self.graphs += 1;
                self.graph_def = Some(graph.clone());
            }
            Some(event::What::SessionLog(log)) => {
                if log.status == SessionStatus::Start as i32 {
                    self.purge_from(event.step);
                }
                self.session_logs.push((event.step, log.clone()));
            }
            Some(event::What::Summary(summary)) => {
                for value in &summary.value {
                    self.tags
                        .entry(value.tag.clone())
                        .or_insert_with(|| Series::new(value, event.step))
                        .push(event.step, event.wall_time, value);
                }
            }
            _ => {}
        }
    }

    fn purge_from(&mut self, step: i64) {
        for series in self.tags.values_mut() {
            self.purged += series.purge_from(step);
        }
        // A tag all of whose values went is gone from TensorBoard too.
        self.tags.retain(|_, series| series.count > 0);
    }
}

/// Scanning a log directory failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {}", path.display())]
pub struct ScanError {
    /// The directory (or file) that could not be read.
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// A log directory: every run found under it.
#[derive(Debug)]
pub struct Logdir {
    /// The directory scanned.
    pub root: PathBuf,
    /// Runs by name: the directory holding the event files, relative to
    /// the root, with `/` separators; `.` for the root itself.
    pub runs: BTreeMap<String, Run>,
}

impl Logdir {
    /// Walks `root` recursively and reads every file whose name contains
    /// `tfevents`. A file that cannot be read is noted in its run (see
    /// [`FileStatus`]) rather than failing the scan; only a directory that
    /// cannot be listed does. `root` may also be a single event file.
    pub fn scan(root: impl AsRef<Path>) -> Result<Self, ScanError> {
        let mut watcher = LogdirWatcher::new(root.as_ref());
        watcher.poll()?;
        Ok(watcher.into_logdir())
    }

    /// The run named `name`.
    pub fn run(&self, name: &str) -> Option<&Run> {
        self.runs.get(name)
    }

    /// Whether no event file was found.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty()
    }

    /// The directory of the run named `name` (`.` for the root): where its
    /// event files and its Projector files are.
    pub fn run_dir(&self, name: &str) -> PathBuf {
        let is_file = !crate::storage::is_remote(&self.root) && self.root.is_file();
        let root = match self.root.parent() {
            Some(parent) if is_file => parent,
            _ => self.root.as_path(),
        };
        if name == "." {
            root.to_owned()
        } else {
            crate::storage::join(root, name)
        }
    }

    /// The embeddings of the run named `name`, from its Projector files
    /// (see [`read_embeddings`]); empty when it has none.
    pub fn embeddings(&self, name: &str) -> Result<Vec<Embedding>, ReadValueError> {
        read_embeddings(self.run_dir(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::tensorflow::summary::value::Value as ValueKind;
    use crate::reader::fixtures::{
        encode, event, float_tensor, summary_event, value, write_events,
    };
    use crate::record::ReadRecordError;
    use prost::Message;

    #[test]
    fn scans_a_logdir_into_runs() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("train/sub")).unwrap();
        // The root run, split over two files that must be read in name order.
        let scalars = |steps: std::ops::Range<i64>| -> Vec<Event> {
            steps
                .map(|s| {
                    let v = value(
                        "loss",
                        (s == 0).then_some("scalars"),
                        float_tensor(1.0 / (s + 1) as f32, true),
                    );
                    summary_event(s, vec![v])
                })
                .collect()
        };
        write_events(&root.join("events.out.tfevents.1.a"), &scalars(0..3));
        write_events(&root.join("events.out.tfevents.2.a"), &scalars(3..5));
        let mut train = vec![
            event(0, event::What::GraphDef(vec![1, 2, 3])),
            summary_event(
                0,
                vec![value("w", None, ValueKind::Histo(Default::default()))],
            ),
            summary_event(10, vec![value("acc", None, ValueKind::SimpleValue(0.75))]),
            summary_event(
                20,
                vec![value("w", None, ValueKind::Histo(Default::default()))],
            ),
        ];
        write_events(&root.join("train/sub/x.tfevents.y"), &train);
        // A torn file in its own run, and a file ignored for its name.
        train.truncate(2);
        let bytes = encode(&train);
        std::fs::write(
            root.join("train/events.out.tfevents.torn"),
            &bytes[..bytes.len() - 2],
        )
        .unwrap();
        std::fs::write(root.join("train/notes.txt"), b"ignored").unwrap();

        let logdir = Logdir::scan(root).unwrap();
        assert_eq!(
            logdir.runs.keys().collect::<Vec<_>>(),
            [".", "train", "train/sub"]
        );
        let run = logdir.run(".").unwrap();
        assert_eq!(
            run.scalars("loss").unwrap(),
            [(0, 1.0), (1, 0.5), (2, 1.0 / 3.0), (3, 0.25), (4, 0.2)]
        );
        let loss = run.series("loss").unwrap();
        assert_eq!((loss.count, loss.first_step, loss.last_step), (5, 0, 4));
        assert!(!run.has_graph());
        let sub = logdir.run("train/sub").unwrap();
        assert!(sub.has_graph());
        assert_eq!(sub.series("w").unwrap().kind, SeriesKind::Histogram);
        assert_eq!(sub.series("w").unwrap().last_step, 20);
        assert_eq!(sub.scalars("acc").unwrap(), [(10, 0.75)]);
        assert_eq!(sub.scalars("w"), None);
        let torn = logdir.run("train").unwrap();
        assert_eq!(torn.files.len(), 1);
        assert_eq!(torn.files[0].events, 1);
        assert!(matches!(torn.files[0].status, FileStatus::TornTail { .. }));

        let first_len = train[0].encoded_len() as u64 + 16;
        assert!(matches!(
            torn.files[0].status,
            FileStatus::TornTail { offset } if offset == first_len
        ));
    }

    #[test]
    fn scan_errors_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope");
        let err = Logdir::scan(&missing).unwrap_err();
        assert_eq!(err.path, missing);
        assert_eq!(
            err.to_string(),
            format!("cannot read {}", missing.display())
        );
        assert_eq!(err.source.kind(), io::ErrorKind::NotFound);
        assert!(Logdir::scan(dir.path()).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_file_is_noted_with_its_cause() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("image.tfevents.png"),
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
        )
        .unwrap();
        let logdir = Logdir::scan(dir.path()).unwrap();
        let file = &logdir.run(".").unwrap().files[0];
        assert!(matches!(
            file.status,
            FileStatus::Failed(ReadEventError::Record(ReadRecordError::BadLengthCrc {
                offset: 0,
                ..
            }))
        ));
        let FileStatus::Failed(e) = &file.status else {
            unreachable!()
        };
        assert!(
            e.to_string()
                .starts_with("bad length checksum in the record at byte 0"),
            "{e}"
        );
    }

    #[test]
    fn a_single_file_is_a_logdir_of_one_run() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.out.tfevents.z");
        write_events(
            &path,
            &[summary_event(
                4,
                vec![value("a", None, ValueKind::SimpleValue(1.0))],
            )],
        );
        let logdir = Logdir::scan(&path).unwrap();
        assert_eq!(logdir.run(".").unwrap().scalars("a").unwrap(), [(4, 1.0)]);
        assert_eq!(
            logdir.run(".").unwrap().files[0].path,
            Path::new("events.out.tfevents.z")
        );
    }
}
