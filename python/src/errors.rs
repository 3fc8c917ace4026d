//! Library errors as the Python exceptions torch users expect: bad input
//! is a `ValueError`, anything the file system or a store refused an
//! `OSError`, each with the library's message (which names the tag, the
//! argument or the file, and what was expected).

use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::PyErr;
use tbseg::summary::SummaryError;

/// A [`SummaryError`] as a Python exception.
pub fn summary_error(error: SummaryError) -> PyErr {
    let text = tbseg::error_line(&error);
    match error {
        SummaryError::InvalidArgument { .. } | SummaryError::ImageEncode { .. } => {
            PyValueError::new_err(text)
        }
        SummaryError::WorkerPanicked { .. } => PyRuntimeError::new_err(text),
        _ => PyOSError::new_err(text),
    }
}

/// A bad argument, named, with what was expected.
pub fn invalid(tag: &str, what: &str, reason: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(format!("invalid {what} for summary {tag:?}: {reason}"))
}
