//! The fast reader behind `tbseg.read`: decodes every event file of a log
//! directory in Rust, on one thread per file, with the GIL released, and
//! hands back columns: scalars as the bytes of numpy arrays (run and tag as
//! category codes), other kinds as one Python object per row.
//!
//! Runs are found as TensorBoard finds them: every file whose name
//! contains `tfevents` belongs to the run named by its directory relative
//! to the log directory (`.` for the log directory itself). A tag's kind is
//! taken from its first value that carries plugin metadata in the run (a
//! writer puts it on a tag's first value only), or from the legacy field
//! it sets (torch's `simple_value`, `Summary.Image`, `HistogramProto`), so
//! torch's, TensorFlow's and tbseg's files read alike. A `SessionLog START`
//! (a `purge_step`) drops the run's earlier points at or after its step,
//! as TensorBoard does.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList};

use prost::Message;
use tbseg::proto::tensorflow::session_log::SessionStatus;
use tbseg::proto::tensorflow::summary::value::Value as ValueKind;
use tbseg::proto::tensorflow::{event, summary, DataType, Event, TensorProto};
use tbseg::reader::SeriesKind;
use tbseg::record::{ReadRecordError, RecordReader};

use crate::wire;

/// The kinds `tbseg.read` returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Scalars,
    Images,
    Histograms,
    Text,
}

impl Kind {
    fn parse(name: &str) -> Option<Kind> {
        Some(match name {
            "scalars" => Kind::Scalars,
            "images" => Kind::Images,
            "histograms" => Kind::Histograms,
            "text" => Kind::Text,
            _ => return None,
        })
    }

    fn of(series: &SeriesKind) -> Option<Kind> {
        Some(match series {
            SeriesKind::Scalar => Kind::Scalars,
            SeriesKind::Image => Kind::Images,
            SeriesKind::Histogram => Kind::Histograms,
            SeriesKind::Text => Kind::Text,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Scalars => "scalars",
            Kind::Images => "images",
            Kind::Histograms => "histograms",
            Kind::Text => "text",
        }
    }
}

/// A non-scalar value as read.
enum Blob {
    /// The first image's encoded bytes, with its width and height.
    Image(Vec<u8>, i64, i64),
    /// Rows `[left, right, count]`.
    Histogram(Vec<f64>),
    Text(String),
}

/// What one file yields.
#[derive(Default)]
struct FileColumns {
    /// Scalars: (tag, step, wall time, value).
    scalars: Vec<(u32, i64, f64, f64)>,
    /// Other kinds: (tag, step, wall time, kind, value).
    blobs: Vec<(u32, i64, f64, Kind, Blob)>,
    /// Tag names by this file's codes.
    tags: Vec<String>,
    /// `SessionLog START` steps, with the row counts before each.
    purges: Vec<(i64, usize, usize)>,
}

/// Where an event file is.
enum Source {
    Local(PathBuf),
    /// An object-store URL (feature `object-store`).
    #[cfg_attr(not(feature = "object-store"), allow(dead_code))]
    Remote(String),
}

impl Source {
    fn name(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Source::Local(path) => path.to_string_lossy(),
            Source::Remote(url) => url.into(),
        }
    }
}

/// Event files under `root` (a folder or an object-store URL), grouped by
/// run name.
fn event_files(root: &str) -> std::io::Result<BTreeMap<String, Vec<Source>>> {
    if tbseg::storage::is_remote(Path::new(root)) {
        return remote_event_files(root);
    }
    let root = Path::new(root);
    let mut runs: BTreeMap<String, Vec<Source>> = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                pending.push(path);
            } else if entry.file_name().to_string_lossy().contains("tfevents") {
                let run = match dir.strip_prefix(root) {
                    Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
                    _ => ".".to_owned(),
                };
                runs.entry(run).or_default().push(Source::Local(path));
            }
        }
    }
    for files in runs.values_mut() {
        files.sort_by(|a, b| a.name().cmp(&b.name()));
    }
    Ok(runs)
}

/// The objects under `url` whose name contains `tfevents`, by run (the
/// "folder" of the key relative to `url`).
#[cfg(feature = "object-store")]
fn remote_event_files(url: &str) -> std::io::Result<BTreeMap<String, Vec<Source>>> {
    let url = url.trim_end_matches('/');
    let mut runs: BTreeMap<String, Vec<Source>> = BTreeMap::new();
    for (key, _) in tbseg::storage::remote::Remote::open(url)?.list()? {
        let (run, name) = key.rsplit_once('/').unwrap_or((".", &key));
        if name.contains("tfevents") {
            runs.entry(run.to_owned())
                .or_default()
                .push(Source::Remote(format!("{url}/{key}")));
        }
    }
    // `list` is sorted by key, so each run's files are in name order.
    Ok(runs)
}

#[cfg(not(feature = "object-store"))]
fn remote_event_files(url: &str) -> std::io::Result<BTreeMap<String, Vec<Source>>> {
    Err(tbseg::storage::feature_missing(url))
}

fn scalar(value: &ValueKind) -> Option<f64> {
    match value {
        ValueKind::SimpleValue(x) => Some(f64::from(*x)),
        ValueKind::Tensor(tensor) => {
            let content = tensor.tensor_content.as_slice();
            match DataType::try_from(tensor.dtype).ok()? {
                DataType::DtFloat => match content.try_into() {
                    Ok(bytes) => Some(f64::from(f32::from_le_bytes(bytes))),
                    Err(_) => tensor.float_val.first().map(|&x| f64::from(x)),
                },
                DataType::DtDouble => match content.try_into() {
                    Ok(bytes) => Some(f64::from_le_bytes(bytes)),
                    Err(_) => tensor.double_val.first().copied(),
                },
                _ => None,
            }
        }
        _ => None,
    }
}

fn tensor_f64s(tensor: &TensorProto) -> Vec<f64> {
    let content = tensor.tensor_content.as_slice();
    match DataType::try_from(tensor.dtype) {
        Ok(DataType::DtDouble) if !content.is_empty() => content
            .chunks_exact(8)
            .map(|c| f64::from_le_bytes(c.try_into().expect("8 bytes")))
            .collect(),
        Ok(DataType::DtDouble) => tensor.double_val.clone(),
        Ok(DataType::DtFloat) if !content.is_empty() => content
            .chunks_exact(4)
            .map(|c| f64::from(f32::from_le_bytes(c.try_into().expect("4 bytes"))))
            .collect(),
        Ok(DataType::DtFloat) => tensor.float_val.iter().map(|&x| f64::from(x)).collect(),
        _ => Vec::new(),
    }
}

fn blob(kind: Kind, value: &ValueKind) -> Option<Blob> {
    Some(match (kind, value) {
        (Kind::Images, ValueKind::Image(image)) => Blob::Image(
            image.encoded_image_string.clone(),
            i64::from(image.width),
            i64::from(image.height),
        ),
        (Kind::Images, ValueKind::Tensor(t)) if t.string_val.len() >= 3 => {
            let number = |b: &[u8]| String::from_utf8_lossy(b).parse::<i64>().unwrap_or(0);
            Blob::Image(
                t.string_val[2].clone(),
                number(&t.string_val[0]),
                number(&t.string_val[1]),
            )
        }
        // TensorBoard's migration of the legacy form
        // (data_compat._migrate_histogram_value).
        (Kind::Histograms, ValueKind::Histo(h)) => {
            let n = h.bucket.len();
            let first = h.bucket.iter().position(|&c| c > 0.0);
            let last = h.bucket.iter().rposition(|&c| c > 0.0);
            let mut rows = Vec::new();
            if let (Some(first), Some(last)) = (first, last) {
                for k in first..=last.min(n - 1) {
                    let left = if k == first {
                        h.min
                    } else {
                        h.bucket_limit[k - 1]
                    };
                    let right = if k == last { h.max } else { h.bucket_limit[k] };
                    rows.extend([left, right, h.bucket[k]]);
                }
            }
            Blob::Histogram(rows)
        }
        (Kind::Histograms, ValueKind::Tensor(t)) => Blob::Histogram(tensor_f64s(t)),
        (Kind::Text, ValueKind::Tensor(t)) => {
            Blob::Text(String::from_utf8_lossy(t.string_val.first()?).into_owned())
        }
        _ => return None,
    })
}

/// Decodes one file, keeping the `kinds` and the `tags` (all if `None`).
/// Scalars of tags already seen take the wire-format fast path
/// ([`crate::wire`]); every other record is decoded with prost.
fn read_file(
    source: &Source,
    kinds: &HashSet<Kind>,
    tags: Option<&HashSet<String>>,
) -> Result<FileColumns, String> {
    match source {
        Source::Local(path) => {
            let records = RecordReader::open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            read_records(records, &source.name(), kinds, tags)
        }
        // An object is read whole, in one request.
        Source::Remote(url) => {
            let bytes = tbseg::storage::read(url).map_err(|e| format!("cannot read {url}: {e}"))?;
            read_records(RecordReader::new(bytes.as_slice()), url, kinds, tags)
        }
    }
}

fn read_records<R: std::io::Read>(
    mut records: RecordReader<R>,
    name: &str,
    kinds: &HashSet<Kind>,
    tags: Option<&HashSet<String>>,
) -> Result<FileColumns, String> {
    let mut out = FileColumns::default();
    let mut codes: HashMap<String, (u32, Option<Kind>)> = HashMap::new();
    let mut routes = Routes::default();
    loop {
        // The same records as `EventFileReader::for_each`: a torn tail ends
        // the file, a record with a bad data checksum is skipped.
        let record = match records.read_record() {
            Ok(Some(record)) => record,
            Ok(None) => break,
            Err(e) if e.is_truncated() => break,
            Err(ReadRecordError::BadDataCrc { .. }) => continue,
            Err(e) => return Err(format!("cannot read {name}: {e}")),
        };
        if let Some(event) = wire::summary_event(record) {
            if fast_summary(&mut out, &mut codes, &mut routes, (kinds, tags), &event) {
                continue;
            }
        }
        // Undecodable records and NaN wall times are skipped, as the
        // library's reader does.
        let Ok(event) = Event::decode(record) else {
            continue;
        };
        if event.wall_time.is_nan() {
            continue;
        }
        let summary = match event.what {
            Some(event::What::Summary(summary)) => summary,
            Some(event::What::SessionLog(log)) if log.status == SessionStatus::Start as i32 => {
                out.purges
                    .push((event.step, out.scalars.len(), out.blobs.len()));
                continue;
            }
            _ => continue,
        };
        for value in summary.value {
            visit_value(
                &mut out,
                &mut codes,
                kinds,
                tags,
                (event.step, event.wall_time),
                value,
            );
        }
    }
    Ok(out)
}

/// What the fast path does with the values of one tag, decided once that
/// can no longer change (the tag's kind is known).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// A tag or kind not asked for.
    Skip,
    /// A scalar tag, by its code in the file.
    Scalar(u32),
    /// Another kind asked for: decoded with prost.
    Decode,
}

/// FNV-1a: tags are short, and hashing them is most of a lookup.
#[derive(Default)]
struct Fnv(u64);

impl std::hash::Hasher for Fnv {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut hash = if self.0 == 0 {
            0xcbf2_9ce4_8422_2325
        } else {
            self.0
        };
        for &byte in bytes {
            hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = hash;
    }
}

/// Routes by tag bytes: the last tag first (a file often repeats it), then
/// a map.
#[derive(Default)]
struct Routes {
    last: Option<(Vec<u8>, Route)>,
    by_tag: HashMap<Vec<u8>, Route, std::hash::BuildHasherDefault<Fnv>>,
}

impl Routes {
    fn get(&mut self, tag: &[u8]) -> Option<Route> {
        if let Some((last, route)) = &self.last {
            if last.as_slice() == tag {
                return Some(*route);
            }
        }
        let route = *self.by_tag.get(tag)?;
        self.last = Some((tag.to_vec(), route));
        Some(route)
    }

    /// The route of `tag` if it is settled: filtered out, or of a known kind.
    fn settle(
        &mut self,
        tag: &[u8],
        codes: &HashMap<String, (u32, Option<Kind>)>,
        kinds: &HashSet<Kind>,
        tags: Option<&HashSet<String>>,
    ) -> Option<Route> {
        let name = std::str::from_utf8(tag).ok()?;
        let route = if tags.is_some_and(|tags| !tags.contains(name)) {
            Route::Skip
        } else {
            match codes.get(name)? {
                (_, None) => return None,
                (_, Some(kind)) if !kinds.contains(kind) => Route::Skip,
                (code, Some(Kind::Scalars)) => Route::Scalar(*code),
                (_, Some(_)) => Route::Decode,
            }
        };
        self.by_tag.insert(tag.to_vec(), route);
        Some(route)
    }
}

/// Reads a summary event's values without decoding it into messages:
/// scalars of known tags are appended, values of tags or kinds not asked
/// for skipped, and any other value decoded with prost. `false` (nothing
/// kept) when the summary is malformed, so the caller decodes the record.
fn fast_summary(
    out: &mut FileColumns,
    codes: &mut HashMap<String, (u32, Option<Kind>)>,
    routes: &mut Routes,
    (kinds, tags): (&HashSet<Kind>, Option<&HashSet<String>>),
    event: &wire::SummaryEvent<'_>,
) -> bool {
    if event.wall_time.is_nan() {
        return true;
    }
    let kept = (out.scalars.len(), out.blobs.len());
    let mut fields = wire::Wire::new(event.summary);
    while let Some(field) = fields.field() {
        let Ok((number, field)) = field else {
            out.scalars.truncate(kept.0);
            out.blobs.truncate(kept.1);
            return false;
        };
        let (1, wire::Field::Bytes(bytes)) = (number, field) else {
            continue;
        };
        if wire::leading_tag(bytes).and_then(|tag| routes.get(tag)) == Some(Route::Skip) {
            continue;
        }
        if let Ok(value) = wire::scalar_value(bytes) {
            let route = routes
                .get(value.tag)
                .or_else(|| routes.settle(value.tag, codes, kinds, tags));
            match (route, value.number) {
                (Some(Route::Skip), _) => continue,
                (Some(Route::Scalar(code)), Some(x)) => {
                    out.scalars.push((code, event.step, event.wall_time, x));
                    continue;
                }
                _ => {}
            }
        }
        // A new tag, another kind, or not a plain number; a malformed
        // value fails the whole record in prost as well.
        if let Ok(value) = summary::Value::decode(bytes) {
            visit_value(
                out,
                codes,
                kinds,
                tags,
                (event.step, event.wall_time),
                value,
            );
        }
    }
    true
}

fn visit_value(
    out: &mut FileColumns,
    codes: &mut HashMap<String, (u32, Option<Kind>)>,
    kinds: &HashSet<Kind>,
    tags: Option<&HashSet<String>>,
    (step, wall_time): (i64, f64),
    value: summary::Value,
) {
    if tags.is_some_and(|tags| !tags.contains(&value.tag)) {
        return;
    }
    let has_metadata = value
        .metadata
        .as_ref()
        .is_some_and(|m| m.plugin_data.is_some());
    let (code, kind) = match codes.get_mut(&value.tag) {
        Some((code, kind)) => {
            if kind.is_none() && has_metadata {
                *kind = Kind::of(&SeriesKind::of(&value));
            }
            (*code, *kind)
        }
        None => {
            let code = out.tags.len() as u32;
            let kind = Kind::of(&SeriesKind::of(&value));
            out.tags.push(value.tag.clone());
            codes.insert(value.tag.clone(), (code, kind));
            (code, kind)
        }
    };
    let (Some(kind), Some(payload)) = (kind, value.value.as_ref()) else {
        return;
    };
    if !kinds.contains(&kind) {
        return;
    }
    if kind == Kind::Scalars {
        if let Some(x) = scalar(payload) {
            out.scalars.push((code, step, wall_time, x));
        }
    } else if let Some(blob) = blob(kind, payload) {
        out.blobs.push((code, step, wall_time, kind, blob));
    }
}

/// Columns of every run, in run order then file order.
struct Columns {
    runs: Vec<String>,
    tags: Vec<String>,
    scalar_run: Vec<u32>,
    scalar_tag: Vec<u32>,
    scalar_step: Vec<i64>,
    scalar_wall: Vec<f64>,
    scalar_value: Vec<f64>,
    blobs: Vec<(u32, u32, i64, f64, Kind, Blob)>,
}

fn collect(
    root: &str,
    kinds: &HashSet<Kind>,
    tags: Option<&HashSet<String>>,
    runs: Option<&HashSet<String>>,
) -> Result<Columns, String> {
    let files = event_files(root).map_err(|e| format!("cannot list {root}: {e}"))?;
    let files: Vec<(String, Source)> = files
        .into_iter()
        .filter(|(run, _)| runs.is_none_or(|runs| runs.contains(run)))
        .flat_map(|(run, paths)| paths.into_iter().map(move |p| (run.clone(), p)))
        .collect();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(files.len().max(1));
    let mut decoded: Vec<Option<Result<FileColumns, String>>> =
        (0..files.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        for (worker, chunk) in decoded
            .chunks_mut(files.len().div_ceil(threads).max(1))
            .enumerate()
        {
            let first = worker * files.len().div_ceil(threads).max(1);
            let files = &files;
            scope.spawn(move || {
                for (i, slot) in chunk.iter_mut().enumerate() {
                    *slot = Some(read_file(&files[first + i].1, kinds, tags));
                }
            });
        }
    });
    let mut columns = Columns {
        runs: Vec::new(),
        tags: Vec::new(),
        scalar_run: Vec::new(),
        scalar_tag: Vec::new(),
        scalar_step: Vec::new(),
        scalar_wall: Vec::new(),
        scalar_value: Vec::new(),
        blobs: Vec::new(),
    };
    let mut tag_codes: HashMap<String, u32> = HashMap::new();
    let mut run_code = HashMap::new();
    // Where each run's rows start, for purges.
    let mut run_start: HashMap<u32, (usize, usize)> = HashMap::new();
    for ((run, _), file) in files.iter().zip(decoded) {
        let file = file.expect("decoded")?;
        let run = *run_code.entry(run.clone()).or_insert_with(|| {
            columns.runs.push(run.clone());
            (columns.runs.len() - 1) as u32
        });
        let start = *run_start
            .entry(run)
            .or_insert((columns.scalar_step.len(), columns.blobs.len()));
        let global: Vec<u32> = file
            .tags
            .iter()
            .map(|tag| {
                *tag_codes.entry(tag.clone()).or_insert_with(|| {
                    columns.tags.push(tag.clone());
                    (columns.tags.len() - 1) as u32
                })
            })
            .collect();
        let mut purges = file.purges.iter().peekable();
        let mut scalars = file.scalars.into_iter().enumerate().peekable();
        let mut blobs = file.blobs.into_iter().enumerate().peekable();
        loop {
            let next_purge = purges.peek().map(|&&(_, s, b)| (s, b));
            let take_scalars = next_purge.map_or(usize::MAX, |(s, _)| s);
            let take_blobs = next_purge.map_or(usize::MAX, |(_, b)| b);
            while let Some((_, (tag, step, wall, value))) =
                scalars.next_if(|(i, _)| *i < take_scalars)
            {
                columns.scalar_run.push(run);
                columns.scalar_tag.push(global[tag as usize]);
                columns.scalar_step.push(step);
                columns.scalar_wall.push(wall);
                columns.scalar_value.push(value);
            }
            while let Some((_, (tag, step, wall, kind, blob))) =
                blobs.next_if(|(i, _)| *i < take_blobs)
            {
                columns
                    .blobs
                    .push((run, global[tag as usize], step, wall, kind, blob));
            }
            let Some(&(purge_step, _, _)) = purges.next() else {
                break;
            };
            purge(&mut columns, run, start, purge_step);
        }
    }
    Ok(columns)
}

/// Drops the rows of `run` (from `start`) at or after `step`.
fn purge(columns: &mut Columns, run: u32, start: (usize, usize), step: i64) {
    let mut keep = start.0;
    for i in start.0..columns.scalar_step.len() {
        if columns.scalar_run[i] != run || columns.scalar_step[i] < step {
            columns.scalar_run.swap(keep, i);
            columns.scalar_tag.swap(keep, i);
            columns.scalar_step.swap(keep, i);
            columns.scalar_wall.swap(keep, i);
            columns.scalar_value.swap(keep, i);
            keep += 1;
        }
    }
    columns.scalar_run.truncate(keep);
    columns.scalar_tag.truncate(keep);
    columns.scalar_step.truncate(keep);
    columns.scalar_wall.truncate(keep);
    columns.scalar_value.truncate(keep);
    let mut index = 0;
    columns.blobs.retain(|(r, _, s, ..)| {
        index += 1;
        index <= start.1 || *r != run || *s < step
    });
}

fn bytes_of<'py, T: Copy>(py: Python<'py>, values: &[T]) -> Bound<'py, PyBytes> {
    // SAFETY: plain numbers (u32, i64, f64) without padding, viewed as
    // their bytes for the length of the borrow.
    let raw = unsafe {
        std::slice::from_raw_parts(values.as_ptr().cast::<u8>(), std::mem::size_of_val(values))
    };
    PyBytes::new(py, raw)
}

/// `read_columns(logdir, kinds, tags=None, runs=None)`: a dict of
/// `runs`/`tags` (names by code), scalar columns as bytes (`run`, `tag`:
/// uint32 codes; `step`: int64; `wall_time`, `value`: float64), and
/// `rows`: `(run code, tag code, step, wall_time, kind, value)` tuples of
/// the other kinds (images: `(png, width, height)`; histograms: the bytes
/// of a float64 `[k, 3]` array; text: str).
#[pyfunction]
#[pyo3(signature = (logdir, kinds, tags=None, runs=None))]
pub fn read_columns<'py>(
    py: Python<'py>,
    logdir: String,
    kinds: Vec<String>,
    tags: Option<Vec<String>>,
    runs: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyDict>> {
    let kinds = kinds
        .iter()
        .map(|k| {
            Kind::parse(k).ok_or_else(|| {
                PyValueError::new_err(format!(
                    "unknown kind {k:?}, expected \"scalars\", \"images\", \"histograms\" or \"text\""
                ))
            })
        })
        .collect::<PyResult<HashSet<Kind>>>()?;
    if !tbseg::storage::is_remote(Path::new(&logdir)) && !Path::new(&logdir).is_dir() {
        return Err(PyOSError::new_err(format!(
            "log directory {logdir} does not exist or is not a directory"
        )));
    }
    let tags: Option<HashSet<String>> = tags.map(|t| t.into_iter().collect());
    let runs: Option<HashSet<String>> = runs.map(|r| r.into_iter().collect());
    let columns = py
        .allow_threads(|| collect(&logdir, &kinds, tags.as_ref(), runs.as_ref()))
        .map_err(PyOSError::new_err)?;
    let out = PyDict::new(py);
    out.set_item("runs", &columns.runs)?;
    out.set_item("tags", &columns.tags)?;
    out.set_item("run", bytes_of(py, &columns.scalar_run))?;
    out.set_item("tag", bytes_of(py, &columns.scalar_tag))?;
    out.set_item("step", bytes_of(py, &columns.scalar_step))?;
    out.set_item("wall_time", bytes_of(py, &columns.scalar_wall))?;
    out.set_item("value", bytes_of(py, &columns.scalar_value))?;
    let rows = PyList::empty(py);
    for (run, tag, step, wall, kind, blob) in &columns.blobs {
        let value: PyObject = match blob {
            Blob::Image(png, w, h) => (PyBytes::new(py, png), *w, *h)
                .into_pyobject(py)?
                .into_any()
                .unbind(),
            Blob::Histogram(rows) => bytes_of(py, rows).into_any().unbind(),
            Blob::Text(text) => text.into_pyobject(py)?.into_any().unbind(),
        };
        rows.append((*run, *tag, *step, *wall, kind.name(), value))?;
    }
    out.set_item("rows", rows)?;
    Ok(out)
}
