//! Helpers shared by the integration tests.

use std::path::PathBuf;

/// `tests/data/<rel>` of the clone under test.
///
/// The crate root comes from cargo at run time. The compile-time
/// `env!("CARGO_MANIFEST_DIR")` would name whichever clone compiled this
/// binary: every clone shares one cargo target directory
/// (`scripts/env.sh`), and cargo does not rebuild a test when only the
/// clone's folder changed, so a test could read another clone's fixtures, or
/// a deleted folder.
pub fn test_data(rel: &str) -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
        .join("tests/data")
        .join(rel)
}
