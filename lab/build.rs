//! Build script: with the `trainer` feature, points the binaries' rpath at
//! libtorch and keeps `libtorch_cuda` linked.

use std::path::{Path, PathBuf};

fn main() {
    if std::env::var_os("CARGO_FEATURE_TRAINER").is_some() {
        link_libtorch();
    }
}

/// torch-sys publishes the folder holding libtorch's shared libraries to
/// crates that depend on it directly, under its `links` key (`tch`, so the
/// variable is `DEP_TCH_LIBTORCH_LIB`, whatever torch-sys's comment says).
/// Without an rpath the binaries need `LD_LIBRARY_PATH`; without `--no-as-needed` the linker drops
/// `libtorch_cuda.so` (nothing references it by symbol) and CUDA is never
/// registered, so `Cuda::is_available()` stays false even on a GPU machine.
fn link_libtorch() {
    let Some(lib) = std::env::var_os("DEP_TCH_LIBTORCH_LIB") else {
        return;
    };
    let lib = PathBuf::from(lib);
    println!("cargo:rustc-link-arg=-Wl,-rpath,{}", lib.display());
    if has_cuda(&lib) {
        println!("cargo:rustc-link-arg=-Wl,--no-as-needed");
        println!("cargo:rustc-link-arg=-ltorch_cuda");
        println!("cargo:rustc-link-arg=-Wl,--as-needed");
    }
}

fn has_cuda(lib: &Path) -> bool {
    lib.join("libtorch_cuda.so").exists()
}
