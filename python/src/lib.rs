//! `tbseg._native`: the compiled half of the Python package `tbseg`.
//!
//! The Python half (`python/tbseg/`) gives torch's `SummaryWriter`
//! signatures and turns numbers, numpy arrays and torch tensors into plain
//! buffers in the layout torch's writer would encode (HWC `uint8` pixels,
//! `float64` histogram samples, ...). This half takes those buffers and
//! does the work: PNG, WAV, GIF and histogram encoding on a background
//! thread per writer, with the GIL released, and the event records through
//! [`tbseg::summary::SummaryWriter`]; and `read` decodes log
//! directories into column buffers for pandas.
//!
//! - `writer`: the `Writer` class.
//! - `encoder`: the background thread that encodes the heavy kinds.
//! - `histogram`: torch's histogram (numpy's bucketing, torch's trim).
//! - `read`: the fast reader.
//! - `errors`: library errors as Python exceptions.

use pyo3::prelude::*;

mod encoder;
mod errors;
mod histogram;
mod read;
mod wire;
mod writer;

/// The module; `tbseg/__init__.py` re-exports what users see.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<writer::Writer>()?;
    m.add_function(wrap_pyfunction!(writer::after_fork_in_child, m)?)?;
    m.add_function(wrap_pyfunction!(read::read_columns, m)?)?;
    m.add_function(wrap_pyfunction!(histogram::histogram_buckets, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
