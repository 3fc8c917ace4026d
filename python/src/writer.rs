//! The `Writer` class: one event file in one run directory, the base of
//! `tbseg.SummaryWriter` (which adds torch's signatures and conversions in
//! Python).
//!
//! `add_scalar` is implemented here in full (no Python frame between the
//! caller and the library) because it is the call a training loop makes
//! most. The underscored methods take buffers the Python side has already
//! put into torch's layout; each copies its buffer once and queues the
//! encoding on the writer's [`Encoder`] thread.
//!
//! Like torch's writer, a closed writer reopens on the next `add_*` (a new
//! event file in the same directory). A writer inherited by a forked child
//! process (DataLoader workers, `multiprocessing` with fork) is not used
//! in the child, whose copy has no threads: the child's first call opens
//! its own event file, named with the child's process id.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use prost::Message;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyString};

use tbseg::proto::tensorflow::{
    summary, summary_metadata, tensor_shape_proto, DataClass, DataType, GraphDef, HistogramProto,
    SummaryMetadata, TensorProto, TensorShapeProto,
};
use tbseg::summary::audio;
use tbseg::summary::custom_scalars::{Category, Layout, MarginSeries};
use tbseg::summary::embedding::{Embedding, Sprite};
use tbseg::summary::mesh::{mesh, Mesh};
use tbseg::summary::values::{self, Summary, Value};
use tbseg::summary::video::{encode_gif, video, VideoFrames};
use tbseg::summary::{
    pr_curve_weighted, HParamValue, Metric, PrCurve, SessionStatus, Step, SummaryError,
    SummaryWriter,
};

use crate::encoder::{Encoder, Job};
use crate::errors::{invalid, summary_error};
use crate::histogram::{f64s, torch_buckets};

/// Bumped in a child process right after `fork` (see
/// [`after_fork_in_child`]); a writer opened under an older value belongs
/// to the parent.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

/// Called by `os.register_at_fork(after_in_child=...)`: every writer
/// inherited from the parent reopens in this process on its next call.
#[pyfunction]
pub fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// How to open the event file (again).
struct Config {
    logdir: String,
    flush_secs: f64,
    max_queue: usize,
    filename_suffix: String,
    purge_step: Option<i64>,
}

/// An open event file and its encoder.
struct Open {
    writer: SummaryWriter,
    encoder: Encoder,
    generation: u64,
}

/// One event file of a run; reopened after `close` and after `fork`.
#[pyclass(subclass, module = "tbseg._native")]
pub struct Writer {
    config: Config,
    open: Mutex<Option<Open>>,
}

fn open(config: &Config) -> Result<Open, SummaryError> {
    let mut builder = SummaryWriter::builder(&config.logdir)
        .flush_interval(Duration::from_secs_f64(config.flush_secs.clamp(0.001, 1e9)))
        .filename_suffix(config.filename_suffix.clone());
    if let Some(step) = config.purge_step {
        builder = builder.purge_step(step);
    }
    let writer = builder.build()?;
    let encoder = Encoder::start(config.max_queue, "tbseg-encode".into()).map_err(|e| {
        SummaryError::Spawn {
            path: writer.path().to_owned(),
            source: std::sync::Arc::new(e),
        }
    })?;
    Ok(Open {
        writer,
        encoder,
        generation: FORK_GENERATION.load(Ordering::SeqCst),
    })
}

/// `global_step` as torch takes it: `None` is step 0; an `int`, or
/// anything `int()` accepts (a numpy integer, a one-element tensor).
fn step_of(global_step: Option<&Bound<'_, PyAny>>) -> PyResult<i64> {
    let Some(step) = global_step else {
        return Ok(0);
    };
    if step.is_none() {
        return Ok(0);
    }
    match step.extract::<i64>() {
        Ok(step) => Ok(step),
        Err(_) => {
            let int = step.py().get_type::<PyInt>().call1((step,)).map_err(|_| {
                PyTypeError::new_err(format!(
                    "global_step must be an integer, got {}",
                    type_name(step)
                ))
            })?;
            int.extract::<i64>()
        }
    }
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map_or_else(|_| "?".into(), |n| n.to_string())
}

/// A scalar as torch takes it: a number, or a one-element numpy array or
/// torch tensor (CUDA tensors are copied to the host by `.item()`).
fn scalar_of(tag: &str, value: &Bound<'_, PyAny>) -> PyResult<f64> {
    if let Ok(float) = value.downcast::<PyFloat>() {
        return Ok(float.value());
    }
    if let Ok(x) = value.extract::<f64>() {
        return Ok(x);
    }
    let item = value.call_method0("item").map_err(|_| {
        PyTypeError::new_err(format!(
            "scalar_value for summary {tag:?} must be a number or a one-element array or tensor, got {}",
            type_name(value)
        ))
    })?;
    item.extract::<f64>().map_err(|_| {
        PyTypeError::new_err(format!(
            "scalar_value for summary {tag:?} must be real, got {}",
            type_name(&item)
        ))
    })
}

/// The bucket edges of a histogram: the caller's, or TensorFlow's
/// exponential ones (computed once by the library, shared).
enum Edges {
    Given(Vec<f64>),
    TensorFlow,
}

/// The bytes of a C-contiguous numpy array of `typestr` (`"|u1"`,
/// `"<f8"`...), copied once; the Python side has made the array so.
fn array_bytes(array: &Bound<'_, PyAny>, typestr: &str, name: &str) -> PyResult<Vec<u8>> {
    let interface = array.getattr("__array_interface__").map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a numpy array, got {}",
            type_name(array)
        ))
    })?;
    let found: String = interface.get_item("typestr")?.extract()?;
    let contiguous = interface.get_item("strides")?.is_none();
    if found != typestr || !contiguous {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a C-contiguous array of {typestr}, got {found}{}",
            if contiguous { "" } else { " with strides" }
        )));
    }
    let address: usize = interface.get_item("data")?.get_item(0)?.extract()?;
    let len: usize = array.getattr("nbytes")?.extract()?;
    if len == 0 {
        return Ok(Vec::new());
    }
    // SAFETY: `array` is alive (borrowed) and holds `len` contiguous bytes
    // at `address` (numpy's array interface, checked above); the GIL is
    // held, so no Python code resizes it while the bytes are copied.
    Ok(unsafe { std::slice::from_raw_parts(address as *const u8, len) }.to_vec())
}

fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes
        .chunks_exact(4)
        .map(|c| f32::from_ne_bytes(c.try_into().expect("4 bytes")))
        .collect()
}

fn when(step: i64, walltime: Option<f64>) -> Step {
    match walltime {
        Some(t) => Step::new(step).wall_time(t),
        None => Step::new(step),
    }
}

/// A DT_DOUBLE scalar (torch's `double_precision=True`).
fn double_scalar(tag: &str, value: f64) -> Value {
    Value {
        tag: tag.to_owned(),
        metadata: Some(SummaryMetadata {
            plugin_data: Some(summary_metadata::PluginData {
                plugin_name: "scalars".into(),
                content: Vec::new(),
            }),
            data_class: DataClass::Scalar as i32,
            ..Default::default()
        }),
        value: Some(summary::value::Value::Tensor(TensorProto {
            dtype: DataType::DtDouble as i32,
            double_val: vec![value],
            ..Default::default()
        })),
        ..Default::default()
    }
}

impl Writer {
    /// The open writer, opening it first if it is closed or belongs to the
    /// parent of this forked process; raises a queued job's error.
    fn open(&self) -> PyResult<MutexGuard<'_, Option<Open>>> {
        let mut guard = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        let generation = FORK_GENERATION.load(Ordering::Relaxed);
        if let Some(stale) = guard.take_if(|open| open.generation != generation) {
            // The parent's threads do not exist here and its locks may be
            // held forever: leave its writer untouched.
            std::mem::forget(stale);
        }
        if guard.is_none() {
            *guard = Some(open(&self.config).map_err(summary_error)?);
        }
        if let Some(error) = guard.as_ref().and_then(|open| open.encoder.take_error()) {
            return Err(summary_error(error));
        }
        Ok(guard)
    }

    /// Queues `job` on the encoder, the GIL released while it waits. The
    /// lock is released first: a thread must never wait for the GIL while
    /// holding it, since the GIL's holder may be waiting for the lock.
    fn submit(
        &self,
        py: Python<'_>,
        make: impl FnOnce(SummaryWriter) -> Job + Send,
    ) -> PyResult<()> {
        let (writer, queue) = {
            let guard = self.open()?;
            let open = guard.as_ref().expect("opened");
            (open.writer.clone(), open.encoder.queue())
        };
        let job = make(writer);
        if let Some(queue) = queue {
            py.allow_threads(|| queue.submit(job));
        }
        Ok(())
    }

    /// Writes `value` now (small values need no encoder).
    fn write_value(&self, value: Value, step: Step) -> PyResult<()> {
        let guard = self.open()?;
        let open = guard.as_ref().expect("opened");
        open.writer.add_value(value, step).map_err(summary_error)
    }
}

#[pymethods]
impl Writer {
    /// Opens a new event file in `logdir` (created if missing).
    #[new]
    #[pyo3(signature = (logdir, flush_secs=120.0, max_queue=10, filename_suffix=String::new(), purge_step=None))]
    fn new(
        py: Python<'_>,
        logdir: String,
        flush_secs: f64,
        max_queue: usize,
        filename_suffix: String,
        purge_step: Option<i64>,
    ) -> PyResult<Self> {
        if flush_secs.is_nan() || flush_secs <= 0.0 {
            return Err(PyValueError::new_err(format!(
                "flush_secs must be positive, got {flush_secs}"
            )));
        }
        let config = Config {
            logdir,
            flush_secs,
            max_queue,
            filename_suffix,
            purge_step,
        };
        let first = py.allow_threads(|| open(&config)).map_err(summary_error)?;
        Ok(Writer {
            config,
            open: Mutex::new(Some(first)),
        })
    }

    /// The run directory this writer writes into.
    #[getter]
    fn logdir(&self) -> &str {
        &self.config.logdir
    }

    /// The current event file's path (opening it if closed).
    #[getter]
    fn file_path(&self) -> PyResult<String> {
        let guard = self.open()?;
        Ok(guard
            .as_ref()
            .expect("opened")
            .writer
            .path()
            .display()
            .to_string())
    }

    /// torch's `add_scalar`: a float32 scalar (`double_precision=True`: a
    /// float64 one); `new_style` is accepted and has no effect (tbseg
    /// always writes TensorBoard's tensor form).
    #[pyo3(signature = (tag, scalar_value, global_step=None, walltime=None, new_style=false, double_precision=false))]
    fn add_scalar(
        &self,
        tag: &Bound<'_, PyAny>,
        scalar_value: &Bound<'_, PyAny>,
        global_step: Option<&Bound<'_, PyAny>>,
        walltime: Option<f64>,
        new_style: bool,
        double_precision: bool,
    ) -> PyResult<()> {
        let _ = new_style;
        let tag = tag.downcast::<PyString>().map_err(|_| {
            PyTypeError::new_err(format!("tag must be a str, got {}", type_name(tag)))
        })?;
        let tag = tag.to_cow()?;
        let tag: &str = &tag;
        let value = scalar_of(tag, scalar_value)?;
        let step = when(step_of(global_step)?, walltime);
        let guard = self.open()?;
        let writer = &guard.as_ref().expect("opened").writer;
        if double_precision {
            writer.add_value(double_scalar(tag, value), step)
        } else {
            writer.add_scalar(tag, value as f32, step)
        }
        .map_err(summary_error)
    }

    /// An image from HWC `uint8` pixels (1, 3 or 4 channels), PNG-encoded
    /// on the encoder thread.
    #[pyo3(signature = (tag, pixels, step, walltime=None))]
    fn _image(
        &self,
        py: Python<'_>,
        tag: String,
        pixels: &Bound<'_, PyAny>,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let shape: Vec<usize> = pixels.getattr("shape")?.extract()?;
        let [height, width, channels] = shape[..] else {
            return Err(invalid(
                &tag,
                "image",
                format!("shape {shape:?}, expected [H, W, C]"),
            ));
        };
        if !matches!(channels, 1 | 3 | 4) || height == 0 || width == 0 {
            return Err(invalid(
                &tag,
                "image",
                format!("shape {shape:?}, expected H and W >= 1 and 1, 3 or 4 channels"),
            ));
        }
        let (Ok(height), Ok(width)) = (u32::try_from(height), u32::try_from(width)) else {
            return Err(invalid(
                &tag,
                "image",
                format!("shape {shape:?} is too large"),
            ));
        };
        let bytes = array_bytes(pixels, "|u1", "pixels")?;
        let step = when(step, walltime);
        self.submit(py, move |writer| {
            Box::new(move || {
                let png =
                    tbseg::summary::png::encode(height as usize, width as usize, channels, &bytes)?;
                writer.add_png(&tag, height as usize, width as usize, png, step)
            })
        })
    }

    /// A histogram of `values` (`float64`) over the bucket `edges`
    /// (`float64`, ascending; `None`: torch's `bins="tensorflow"`, the
    /// library's [`tbseg::summary::tensorflow_edges`]), as torch buckets
    /// it; counted on the encoder thread.
    #[pyo3(signature = (tag, values, edges, step, walltime=None, max_bins=None))]
    #[allow(clippy::too_many_arguments)]
    fn _histogram(
        &self,
        py: Python<'_>,
        tag: String,
        values: &Bound<'_, PyAny>,
        edges: Option<&Bound<'_, PyAny>>,
        step: i64,
        walltime: Option<f64>,
        max_bins: Option<usize>,
    ) -> PyResult<()> {
        let values = f64s(&array_bytes(values, "<f8", "values")?);
        let edges = match edges {
            Some(edges) => Edges::Given(f64s(&array_bytes(edges, "<f8", "bins")?)),
            None => Edges::TensorFlow,
        };
        if values.is_empty() {
            return Err(invalid(&tag, "values", "the input has no element"));
        }
        let step = when(step, walltime);
        self.submit(py, move |writer| {
            Box::new(move || {
                let edges = match &edges {
                    Edges::Given(edges) => edges.as_slice(),
                    Edges::TensorFlow => tbseg::summary::tensorflow_edges(),
                };
                let buckets = torch_buckets(&values, edges, max_bins).map_err(|reason| {
                    SummaryError::InvalidArgument {
                        tag: tag.clone(),
                        what: "histogram",
                        reason,
                    }
                })?;
                writer.add_value(values::histogram(&tag, &buckets), step)
            })
        })
    }

    /// torch's `add_histogram_raw`: the statistics and buckets as given
    /// (`limits` the right edges), in TensorFlow's legacy `HistogramProto`
    /// form, as torch writes them; TensorBoard migrates it on load.
    #[pyo3(signature = (tag, min, max, num, sum, sum_squares, limits, counts, step, walltime=None))]
    #[allow(clippy::too_many_arguments)]
    fn _histogram_raw(
        &self,
        tag: &str,
        min: f64,
        max: f64,
        num: f64,
        sum: f64,
        sum_squares: f64,
        limits: Vec<f64>,
        counts: Vec<f64>,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        if limits.len() != counts.len() || limits.is_empty() {
            return Err(invalid(
                tag,
                "histogram",
                format!(
                    "{} bucket limits and {} bucket counts, expected as many of each (at least one)",
                    limits.len(),
                    counts.len()
                ),
            ));
        }
        let value = Value {
            tag: tag.to_owned(),
            value: Some(summary::value::Value::Histo(HistogramProto {
                min,
                max,
                num,
                sum,
                sum_squares,
                bucket_limit: limits,
                bucket: counts,
            })),
            ..Default::default()
        };
        self.write_value(value, when(step, walltime))
    }

    /// torch's `add_tensor`: the array whole, under TensorBoard's `tensor`
    /// plugin, from its bytes (`typestr` numpy's `dtype.str`) and `shape`.
    #[pyo3(signature = (tag, array, typestr, shape, step, walltime=None))]
    fn _tensor(
        &self,
        tag: &str,
        array: &Bound<'_, PyAny>,
        typestr: &str,
        shape: Vec<i64>,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let dtype = match typestr {
            "<f2" => DataType::DtHalf,
            "<f4" => DataType::DtFloat,
            "<f8" => DataType::DtDouble,
            "|i1" => DataType::DtInt8,
            "|u1" => DataType::DtUint8,
            "<i2" => DataType::DtInt16,
            "<i4" => DataType::DtInt32,
            "<i8" => DataType::DtInt64,
            "|b1" => DataType::DtBool,
            other => {
                return Err(PyTypeError::new_err(format!(
                    "tensor for summary {tag:?} has dtype {other}, expected a real or bool dtype"
                )))
            }
        };
        let content = array_bytes(array, typestr, "tensor")?;
        let value = Value {
            tag: tag.to_owned(),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(summary_metadata::PluginData {
                    plugin_name: "tensor".into(),
                    content: Vec::new(),
                }),
                ..Default::default()
            }),
            value: Some(summary::value::Value::Tensor(TensorProto {
                dtype: dtype as i32,
                tensor_shape: Some(TensorShapeProto {
                    dim: shape
                        .into_iter()
                        .map(|size| tensor_shape_proto::Dim {
                            size,
                            name: String::new(),
                        })
                        .collect(),
                    unknown_rank: false,
                }),
                tensor_content: content,
                ..Default::default()
            })),
            ..Default::default()
        };
        self.write_value(value, when(step, walltime))
    }

    /// Markdown text under `tag` as given (torch's `add_text` appends
    /// `/text_summary` in Python).
    #[pyo3(signature = (tag, text, step, walltime=None))]
    fn _text(&self, tag: &str, text: &str, step: i64, walltime: Option<f64>) -> PyResult<()> {
        // A one-element vector, as torch writes it: TensorBoard renders a
        // vector as a table and a scalar string as plain text, so the same
        // shape shows the same in the dashboard.
        let mut value = values::text(tag, text);
        if let Some(summary::value::Value::Tensor(tensor)) = &mut value.value {
            tensor.tensor_shape = Some(TensorShapeProto {
                dim: vec![tensor_shape_proto::Dim {
                    size: 1,
                    name: String::new(),
                }],
                unknown_rank: false,
            });
        }
        self.write_value(value, when(step, walltime))
    }

    /// A PR curve from the `[6, num_thresholds]` `float32` rows (TP, FP,
    /// TN, FN, precision, recall) the Python side computed as torch does.
    #[pyo3(signature = (tag, rows, step, walltime=None))]
    fn _pr_curve(
        &self,
        tag: &str,
        rows: &Bound<'_, PyAny>,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let data = f32s(&array_bytes(rows, "<f4", "pr curve")?);
        let n = data.len() / 6;
        if n < 2 || data.len() != 6 * n {
            return Err(invalid(
                tag,
                "pr curve",
                format!("{} values, expected 6 rows of at least 2", data.len()),
            ));
        }
        let row = |i: usize| data[i * n..(i + 1) * n].to_vec();
        let curve = PrCurve {
            num_thresholds: n as u32,
            true_positives: row(0),
            false_positives: row(1),
            true_negatives: row(2),
            false_negatives: row(3),
            precision: row(4),
            recall: row(5),
        };
        self.write_value(values::pr_curve(tag, &curve), when(step, walltime))
    }

    /// torch's `add_pr_curve`, computed by the library
    /// ([`pr_curve_weighted`], TensorBoard's and torch's computation):
    /// `labels` and `weights` as `float64`, `predictions` as `float32` or
    /// `float64` (the bucket of a prediction is computed in its precision,
    /// as numpy does in torch's writer).
    #[pyo3(signature = (tag, labels, predictions, weights, num_thresholds, step, walltime=None))]
    #[allow(clippy::too_many_arguments)]
    fn _pr_curve_from(
        &self,
        py: Python<'_>,
        tag: &str,
        labels: &Bound<'_, PyAny>,
        predictions: &Bound<'_, PyAny>,
        weights: Option<&Bound<'_, PyAny>>,
        num_thresholds: u32,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let labels = f64s(&array_bytes(labels, "<f8", "labels")?);
        let weights = weights
            .map(|w| array_bytes(w, "<f8", "weights").map(|b| f64s(&b)))
            .transpose()?;
        let curve = if predictions.getattr("dtype")?.str()?.to_cow()? == "float32" {
            let predictions = f32s(&array_bytes(predictions, "<f4", "predictions")?);
            py.allow_threads(|| {
                pr_curve_weighted(&labels, &predictions, weights.as_deref(), num_thresholds)
            })
        } else {
            let predictions = f64s(&array_bytes(predictions, "<f8", "predictions")?);
            py.allow_threads(|| {
                pr_curve_weighted(&labels, &predictions, weights.as_deref(), num_thresholds)
            })
        }
        .map_err(|(what, reason)| invalid(tag, what, reason))?;
        self.write_value(values::pr_curve(tag, &curve), when(step, walltime))
    }

    /// Audio from `float32` samples in `[-1, 1]` (`channels` interleaved),
    /// WAV-encoded on the encoder thread.
    #[pyo3(signature = (tag, samples, sample_rate, step, walltime=None, channels=1))]
    #[allow(clippy::too_many_arguments)]
    fn _audio(
        &self,
        py: Python<'_>,
        tag: String,
        samples: &Bound<'_, PyAny>,
        sample_rate: u32,
        step: i64,
        walltime: Option<f64>,
        channels: u16,
    ) -> PyResult<()> {
        let samples = f32s(&array_bytes(samples, "<f4", "snd_tensor")?);
        if sample_rate == 0 || channels == 0 {
            return Err(invalid(
                &tag,
                "audio",
                "sample_rate and channels must be at least 1",
            ));
        }
        let step = when(step, walltime);
        self.submit(py, move |writer| {
            Box::new(move || {
                let wav = audio::encode_wav(&samples, usize::from(channels), sample_rate)?;
                writer.add_value(audio::audio(&tag, vec![wav]), step)
            })
        })
    }

    /// A video from THWC `uint8` frames, GIF-encoded at `fps` on the
    /// encoder thread.
    #[pyo3(signature = (tag, frames, fps, step, walltime=None))]
    fn _video(
        &self,
        py: Python<'_>,
        tag: String,
        frames: &Bound<'_, PyAny>,
        fps: f32,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let shape: Vec<usize> = frames.getattr("shape")?.extract()?;
        let [t, h, w, c] = shape[..] else {
            return Err(invalid(
                &tag,
                "video",
                format!("shape {shape:?}, expected [T, H, W, C]"),
            ));
        };
        if t == 0 || h == 0 || w == 0 || !matches!(c, 1 | 3 | 4) || fps.is_nan() || fps <= 0.0 {
            return Err(invalid(
                &tag,
                "video",
                format!("shape {shape:?} at {fps} fps, expected frames, pixels, 1, 3 or 4 channels and fps > 0"),
            ));
        }
        let pixels = array_bytes(frames, "|u1", "vid_tensor")?;
        let step = when(step, walltime);
        self.submit(py, move |writer| {
            Box::new(move || {
                let frames = VideoFrames::from_u8(&pixels, t, h, w, c);
                let gif = encode_gif(&frames, fps)?;
                writer.add_value(video(&tag, frames.width(), frames.height(), gif), step)
            })
        })
    }

    /// The HParams dashboard's three summaries for this run: the
    /// experiment (hyperparameter names and types, `metrics` tags), the
    /// session start (`hparams`: str, bool or float values) and its end.
    #[pyo3(signature = (hparams, metrics, walltime=None))]
    fn _hparams(
        &self,
        hparams: &Bound<'_, PyDict>,
        metrics: Vec<String>,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let mut values_by_name = BTreeMap::new();
        for (key, value) in hparams.iter() {
            let name: String = key.extract().map_err(|_| {
                PyTypeError::new_err(format!("hparam names must be str, got {}", type_name(&key)))
            })?;
            let value = if value.is_instance_of::<PyBool>() {
                HParamValue::Bool(value.extract()?)
            } else if let Ok(text) = value.downcast::<PyString>() {
                HParamValue::Text(text.to_cow()?.into_owned())
            } else if let Ok(number) = value.extract::<f64>() {
                HParamValue::Float(number)
            } else {
                return Err(PyValueError::new_err(format!(
                    "hparam {name:?}: value should be one of int, float, str, bool, or torch.Tensor, got {}",
                    type_name(&value)
                )));
            };
            values_by_name.insert(name, value);
        }
        let metrics: Vec<Metric> = metrics.into_iter().map(Metric::new).collect();
        let time = walltime.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64())
        });
        let summary = Summary {
            value: vec![
                values::hparams_experiment(&values_by_name, &metrics, time),
                values::hparams_session_start(&values_by_name, None, time),
                values::hparams_session_end(SessionStatus::Success, time),
            ],
        };
        let guard = self.open()?;
        let writer = &guard.as_ref().expect("opened").writer;
        writer
            .add_summary(summary, Step::new(0).wall_time(time))
            .map_err(summary_error)
    }

    /// The Custom Scalars layout in torch's form: `{category: {chart:
    /// ["Multiline", [tag regexes]] or ["Margin", [value, lower, upper]]}}`.
    fn _custom_scalars(&self, layout: &Bound<'_, PyDict>) -> PyResult<()> {
        let mut built = Layout::new();
        for (title, charts) in layout.iter() {
            let mut category = Category::new(title.extract::<String>()?);
            let charts = charts.downcast::<PyDict>().map_err(|_| {
                PyTypeError::new_err("layout: each category must map chart titles to [kind, tags]")
            })?;
            for (chart, spec) in charts.iter() {
                let chart: String = chart.extract()?;
                let wrong = || {
                    PyTypeError::new_err(format!(
                        "layout chart {chart:?}: expected [\"Multiline\" or \"Margin\", [tags]]"
                    ))
                };
                let parts: Vec<Bound<'_, PyAny>> = spec.extract().map_err(|_| wrong())?;
                let [kind, tags] = &parts[..] else {
                    return Err(wrong());
                };
                let kind: String = kind.extract().map_err(|_| wrong())?;
                let tags: Vec<String> = tags.extract().map_err(|_| wrong())?;
                category = match kind.as_str() {
                    "Multiline" => category.multiline(chart, tags),
                    "Margin" => {
                        let [value, lower, upper] = &tags[..] else {
                            return Err(PyValueError::new_err(format!(
                                "layout chart {chart:?}: a Margin chart takes 3 tags (value, lower, upper), got {}",
                                tags.len()
                            )));
                        };
                        category.margin(chart, [MarginSeries::new(value, lower, upper)])
                    }
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "layout chart {chart:?}: kind {other:?}, expected \"Multiline\" or \"Margin\""
                        )))
                    }
                };
            }
            built = built.category(category);
        }
        let guard = self.open()?;
        let writer = &guard.as_ref().expect("opened").writer;
        writer.add_custom_scalars(&built).map_err(summary_error)
    }

    /// A mesh: `vertices` `float32` `[N, 3]`, optional `faces` `uint32`
    /// `[F, 3]` and `colors` `uint8` `[N, 3]`, and the JSON config.
    #[pyo3(signature = (tag, vertices, faces, colors, config_json, step, walltime=None))]
    #[allow(clippy::too_many_arguments)]
    fn _mesh(
        &self,
        tag: &str,
        vertices: &Bound<'_, PyAny>,
        faces: Option<&Bound<'_, PyAny>>,
        colors: Option<&Bound<'_, PyAny>>,
        config_json: &str,
        step: i64,
        walltime: Option<f64>,
    ) -> PyResult<()> {
        let vertices = f32s(&array_bytes(vertices, "<f4", "vertices")?);
        let faces: Option<Vec<u32>> = faces
            .map(|f| {
                array_bytes(f, "<u4", "faces").map(|b| {
                    b.chunks_exact(4)
                        .map(|c| u32::from_ne_bytes(c.try_into().expect("4 bytes")))
                        .collect()
                })
            })
            .transpose()?;
        let colors = colors
            .map(|c| array_bytes(c, "|u1", "colors"))
            .transpose()?;
        let mut data = Mesh::new(&vertices).config_json(config_json);
        if let Some(faces) = &faces {
            data = data.faces(faces);
        }
        if let Some(colors) = &colors {
            data = data.colors(colors);
        }
        let value = mesh(tag, &data).map_err(summary_error)?;
        let guard = self.open()?;
        let writer = &guard.as_ref().expect("opened").writer;
        writer
            .add_summary(Summary { value }, when(step, walltime))
            .map_err(summary_error)
    }

    /// An embedding for the Projector: `mat` `float32` `[N, D]`, metadata
    /// rows (one column: labels; several: `header` names them), optional
    /// sprite thumbnails `uint8` `[N, H, W, C]`.
    #[pyo3(signature = (tag, mat, metadata, header, label_img, step))]
    #[allow(clippy::too_many_arguments)]
    fn _embedding(
        &self,
        tag: &str,
        mat: &Bound<'_, PyAny>,
        metadata: Option<Vec<Vec<String>>>,
        header: Option<Vec<String>>,
        label_img: Option<&Bound<'_, PyAny>>,
        step: i64,
    ) -> PyResult<()> {
        let shape: Vec<usize> = mat.getattr("shape")?.extract()?;
        let [_, dim] = shape[..] else {
            return Err(invalid(
                tag,
                "mat",
                format!("shape {shape:?}, expected [N, D]"),
            ));
        };
        let values = f32s(&array_bytes(mat, "<f4", "mat")?);
        let sprite = match label_img {
            Some(img) => {
                let shape: Vec<usize> = img.getattr("shape")?.extract()?;
                let [_, h, w, c] = shape[..] else {
                    return Err(invalid(
                        tag,
                        "label_img",
                        format!("shape {shape:?}, expected [N, H, W, C]"),
                    ));
                };
                Some((array_bytes(img, "|u1", "label_img")?, h, w, c))
            }
            None => None,
        };
        let mut embedding = Embedding::new(&values, dim);
        if let Some(rows) = &metadata {
            embedding = match &header {
                Some(header) => embedding.columns(header, rows),
                None => {
                    let labels: Vec<&str> = rows
                        .iter()
                        .map(|r| r.first().map_or("", String::as_str))
                        .collect();
                    embedding.labels(&labels)
                }
            };
        }
        if let Some((pixels, h, w, c)) = &sprite {
            embedding = embedding.sprite(Sprite::new(pixels, *h, *w, *c));
        }
        let guard = self.open()?;
        let writer = &guard.as_ref().expect("opened").writer;
        writer
            .add_embedding(tag, &embedding, step)
            .map_err(summary_error)
    }

    /// A model graph: a serialized `tensorflow.GraphDef` (what torch's
    /// tracer builds).
    fn _graph(&self, graph_def: &[u8]) -> PyResult<()> {
        let graph = GraphDef::decode(graph_def)
            .map_err(|e| PyValueError::new_err(format!("graph is not a GraphDef: {e}")))?;
        let guard = self.open()?;
        let writer = &guard.as_ref().expect("opened").writer;
        writer.add_graph(&graph).map_err(summary_error)
    }

    /// Waits until everything logged so far is encoded, written and
    /// flushed to the operating system.
    fn flush(&self, py: Python<'_>) -> PyResult<()> {
        // Out of the lock before waiting, as in `submit`.
        let (writer, queue) = {
            let guard = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let Some(open) = guard.as_ref() else {
                return Ok(());
            };
            if open.generation != FORK_GENERATION.load(Ordering::Relaxed) {
                return Ok(());
            }
            (open.writer.clone(), open.encoder.queue())
        };
        if let Some(queue) = queue {
            py.allow_threads(|| queue.drain());
        }
        if let Some(error) = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .and_then(|open| open.encoder.take_error())
        {
            return Err(summary_error(error));
        }
        py.allow_threads(|| writer.flush()).map_err(summary_error)
    }

    /// Encodes and writes everything logged, closes the event file.
    /// Closing twice is harmless; logging afterwards opens a new file.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let taken = self
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut open) = taken else {
            return Ok(());
        };
        if open.generation != FORK_GENERATION.load(Ordering::Relaxed) {
            std::mem::forget(open);
            return Ok(());
        }
        py.allow_threads(|| open.encoder.finish());
        let failed = open.encoder.take_error();
        let closed = py.allow_threads(|| open.writer.close());
        match failed {
            Some(error) => Err(summary_error(error)),
            None => closed.map_err(summary_error),
        }
    }

    fn __repr__(&self) -> String {
        format!("Writer({:?})", self.config.logdir)
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        let open = self
            .open
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(open) = open {
            if open.generation == FORK_GENERATION.load(Ordering::Relaxed) {
                // Encodes what is queued and closes the file.
                drop(open);
            } else {
                // The parent's writer: its threads are not in this process.
                std::mem::forget(open);
            }
        }
    }
}
