//! Build script: compiles `proto/` to Rust with protox (a pure-Rust protobuf
//! compiler, so no `protoc` is needed) and prost-build; with the `tch`
//! feature, also points the tests' and examples' rpath at libtorch.

use std::path::PathBuf;

fn main() {
    compile_protos();
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

fn compile_protos() {
    let files = [
        "proto/tensorflow/event.proto",
        "proto/tensorflow/example.proto",
        "proto/tensorflow/graph.proto",
        "proto/tensorflow/tensor_bundle.proto",
        "proto/tensorboard/plugins.proto",
        "proto/tensorboard/hparams.proto",
        "proto/tensorboard/audio.proto",
        "proto/tensorboard/custom_scalar.proto",
        "proto/tensorboard/mesh.proto",
        "proto/tensorboard/projector.proto",
    ];
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(files, ["proto"]).unwrap_or_else(|e| panic!("proto/: {e:?}"));
    // BTreeMap keeps map fields (Example features, node attrs) in key order,
    // so the same message always encodes to the same bytes.
    // The well-known types hparams use (`google.protobuf.Struct`/`Value`)
    // are generated here too, instead of depending on `prost-types`: one
    // crate fewer for every user of the library.
    prost_build::Config::new()
        .btree_map(["."])
        .compile_well_known_types()
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("prost-build: {e}"));
}
