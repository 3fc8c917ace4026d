//! Protobuf messages: the subset of TensorFlow's and TensorBoard's
//! messages tbseg reads and writes.
//!
//! The `.proto` files in `proto/` are the project's own, with TensorFlow's
//! package names and field numbers so the bytes are the ones TensorFlow
//! reads and writes. The Rust for them is generated and checked in
//! (`src/proto/generated/`, one file per protobuf package): plain structs
//! and enums with `prost::Message` implementations written out in full, so
//! that building tbseg needs no build script, no protobuf compiler and no
//! proc-macro. The generator is a test-only program (`tests/protogen/`);
//! after changing a `.proto` file, regenerate with
//!
//! ```text
//! TBSEG_REGENERATE_PROTO=1 cargo test --test proto_generated
//! ```
//!
//! That test fails while the checked-in code is stale (the test links the
//! library, so regenerate before using a new field, not after), and
//! `tests/proto_equivalence.rs` checks that the messages encode and
//! decode byte for byte as prost's derive macro would have them.
//!
//! Enum-typed fields are `i32`, as on the wire, so unknown values survive
//! a round trip; convert with the enum's `TryFrom<i32>` and `as i32`
//! (`as_str_name` gives the `.proto` name). `Debug` shows them by variant
//! name.
//! Build messages with `..Default::default()` so that fields added later
//! do not break callers.

mod debug;
pub(crate) mod text_format;

/// Messages of TensorFlow's `tensorflow` package: events, summaries,
/// tensors, graphs, `tf.train.Example` and checkpoint index entries.
#[allow(clippy::all, missing_docs)]
pub mod tensorflow {
    include!("proto/generated/tensorflow.rs");
}

/// Plugin data of TensorBoard's dashboards.
#[allow(clippy::all, missing_docs)]
pub mod tensorboard {
    include!("proto/generated/tensorboard.rs");

    /// The HParams dashboard's messages.
    pub mod hparams {
        include!("proto/generated/tensorboard.hparams.rs");
    }

    /// The mesh dashboard's plugin data.
    pub mod mesh {
        include!("proto/generated/tensorboard.mesh.rs");
    }

    /// The Projector's configuration (`projector_config.pbtxt`).
    pub mod projector {
        include!("proto/generated/tensorboard.projector.rs");
    }
}

/// The protobuf well-known types the HParams messages use
/// (`google.protobuf.Value`, `Struct`, `ListValue`), generated here rather
/// than taken from `prost-types`: one crate fewer for every user.
#[allow(clippy::all, missing_docs)]
pub mod google {
    /// The `google.protobuf` package.
    pub mod protobuf {
        include!("proto/generated/google.protobuf.rs");
    }
}
