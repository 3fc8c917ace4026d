//! Build script: compiles `proto/` to Rust with protox (a pure-Rust protobuf
//! compiler, so no `protoc` is needed) and prost-build, and, with the
//! `trainer` feature, points the binaries' rpath at libtorch.

use std::path::{Path, PathBuf};

fn main() {
    compile_protos();
    if std::env::var_os("CARGO_FEATURE_TRAINER").is_some() {
        link_libtorch();
    }
}

fn compile_protos() {
    let files = [
        "proto/tensorflow/event.proto",
        "proto/tensorflow/example.proto",
        "proto/tensorflow/graph.proto",
        "proto/tensorflow/tensor_bundle.proto",
        "proto/tensorboard/plugins.proto",
        "proto/tensorboard/hparams.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(files, ["proto"]).unwrap_or_else(|e| panic!("proto/: {e:?}"));
    // BTreeMap keeps map fields (Example features, node attrs) in key order,
    // so the same message always encodes to the same bytes.
    prost_build::Config::new()
        .btree_map(["."])
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("prost-build: {e}"));
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
