//! An error as a person reads it: one line.

use std::error::Error;

/// `error` and its causes on one line, `: `-separated (as anyhow's `{:#}`
/// prints them): tbseg's errors say what failed and name the path, and
/// their [`source`](Error::source) says why (the OS error, the store's
/// answer). White space is folded, so a multi-line cause stays on the
/// line, and a cause whose text the line already ends with is left out.
///
/// ```
/// use std::{fmt, io};
///
/// #[derive(Debug)]
/// struct Writing(io::Error);
/// impl fmt::Display for Writing {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
///         f.write_str("writing run/a")
///     }
/// }
/// impl std::error::Error for Writing {
///     fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
///         Some(&self.0)
///     }
/// }
///
/// let error = Writing(io::Error::other("no space left\non device"));
/// assert_eq!(tbseg::error_line(&error), "writing run/a: no space left on device");
/// ```
pub fn error_line(error: &dyn Error) -> String {
    let mut line = String::new();
    let mut next: Option<&dyn Error> = Some(error);
    while let Some(cause) = next {
        let text = cause.to_string();
        let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if !text.is_empty() && !line.ends_with(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
        next = cause.source();
    }
    line
}
