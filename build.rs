//! Build script: compiles `proto/` to Rust with protox (a pure-Rust protobuf
//! compiler, so no `protoc` is needed) and prost-build.

fn main() {
    compile_protos();
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
    prost_build::Config::new()
        .btree_map(["."])
        .compile_fds(fds)
        .unwrap_or_else(|e| panic!("prost-build: {e}"));
}
