//! The generator of tbseg's protobuf messages: from the descriptor set
//! that protox compiles out of `proto/`, Rust structs and enums with
//! hand-written `prost::Message` impls, so the library needs neither a
//! build script nor prost's derive macro. The output is checked in under
//! `src/proto/generated/`; `tests/proto_generated.rs` fails when it is
//! stale and rewrites it on request.
//!
//! It covers the proto3 features tbseg's files use (scalars, enums,
//! messages, `repeated` packed or not, `map<K, V>` as `BTreeMap`, oneofs,
//! `optional`) and stops with a message at anything else (proto2, groups,
//! recursion that would need a `Box`, maps of enums).

#![allow(dead_code)] // Each test binary uses a part.

mod code;
mod names;
mod types;

use std::path::{Path, PathBuf};

use prost_types::FileDescriptorSet;

/// The `.proto` files the library's messages come from, relative to
/// `proto/`; their imports (`google/protobuf/struct.proto`) come along.
pub const PROTO_FILES: [&str; 10] = [
    "tensorflow/event.proto",
    "tensorflow/example.proto",
    "tensorflow/graph.proto",
    "tensorflow/tensor_bundle.proto",
    "tensorboard/plugins.proto",
    "tensorboard/hparams.proto",
    "tensorboard/audio.proto",
    "tensorboard/custom_scalar.proto",
    "tensorboard/mesh.proto",
    "tensorboard/projector.proto",
];

/// The folder of the checked-in generated code.
pub fn generated_dir() -> PathBuf {
    package_root().join("src/proto/generated")
}

/// The folder of prost-build's (derive-based) code for the same files,
/// which `tests/proto_equivalence.rs` compares the generated code with.
pub fn reference_dir() -> PathBuf {
    package_root().join("tests/protogen/reference")
}

fn package_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Compiles [`PROTO_FILES`] with protox (with comments, which become
/// docs).
pub fn descriptors() -> FileDescriptorSet {
    protox::compile(PROTO_FILES, [package_root().join("proto")])
        .unwrap_or_else(|e| panic!("proto/: {e:?}"))
}

/// The generated files, `(file name, text)`, one per protobuf package
/// (`tensorflow.rs`, `tensorboard.hparams.rs`, ...).
pub fn generate(set: &FileDescriptorSet) -> Vec<(String, String)> {
    code::generate(set)
}

/// What prost-build makes of the same files with its defaults plus the
/// two settings the old build script used: `BTreeMap` maps and the
/// well-known types generated rather than taken from `prost-types`.
pub fn prost_build_reference(set: FileDescriptorSet) -> Vec<(String, String)> {
    let out = tempfile::tempdir().unwrap();
    prost_build::Config::new()
        .btree_map(["."])
        .compile_well_known_types()
        .out_dir(out.path())
        .compile_fds(set)
        .unwrap_or_else(|e| panic!("prost-build: {e}"));
    let mut files: Vec<(String, String)> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}
