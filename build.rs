//! Build script: with the `tch` feature, points the tests' and examples'
//! rpath at libtorch. (The protobuf messages are not generated here: they
//! are checked in under src/proto/generated/, see src/proto.rs.)

use std::path::PathBuf;

fn main() {
    // Nothing but this script and the features decide what it prints.
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_FEATURE_TCH").is_some() {
        link_libtorch();
    }
}

/// torch-sys publishes the folder holding libtorch's shared libraries to
/// crates that depend on it directly, as `DEP_TCH_LIBTORCH_LIB` (its
/// `links` key is `tch`). With it as an rpath the tests and examples run
/// without `LD_LIBRARY_PATH`. `--no-as-needed` keeps `libtorch_cuda.so`,
/// which nothing references by symbol, so CUDA registers on a GPU machine
/// (see lab/build.rs, which does the same for the lab).
fn link_libtorch() {
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = PathBuf::from(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if lib.join("libtorch_cuda.so").exists() {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}
