//! Errors as users read them in one line.

/// The error and its causes, `: `-separated, as anyhow's `{:#}` prints
/// them: each message names its own part only, the cause comes after it.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(e) = cause {
        text.push_str(": ");
        text.push_str(&e.to_string());
        cause = e.source();
    }
    text
}
