//! Protobuf messages generated from `proto/` at build time.
//!
//! The `.proto` files are the project's own: the subset of TensorFlow's and
//! TensorBoard's messages tbseg needs, with TensorFlow's package names and
//! field numbers so the bytes are the ones TensorFlow reads and writes.
//! Build messages with `..Default::default()` so that fields added later do
//! not break callers.

/// Messages of TensorFlow's `tensorflow` package: events, summaries,
/// tensors, graphs, `tf.train.Example` and checkpoint index entries.
#[allow(clippy::all, missing_docs)]
pub mod tensorflow {
    include!(concat!(env!("OUT_DIR"), "/tensorflow.rs"));
}

/// Plugin data of TensorBoard's dashboards.
#[allow(clippy::all, missing_docs)]
pub mod tensorboard {
    include!(concat!(env!("OUT_DIR"), "/tensorboard.rs"));

    /// The HParams dashboard's messages.
    #[allow(clippy::all, missing_docs)]
    pub mod hparams {
        include!(concat!(env!("OUT_DIR"), "/tensorboard.hparams.rs"));
    }

    /// The mesh dashboard's plugin data.
    #[allow(clippy::all, missing_docs)]
    pub mod mesh {
        include!(concat!(env!("OUT_DIR"), "/tensorboard.mesh.rs"));
    }

    /// The Projector's configuration (`projector_config.pbtxt`).
    #[allow(clippy::all, missing_docs)]
    pub mod projector {
        include!(concat!(env!("OUT_DIR"), "/tensorboard.projector.rs"));
    }
}

/// The protobuf well-known types the HParams messages use
/// (`google.protobuf.Value`, `Struct`, `ListValue`).
#[allow(clippy::all, missing_docs)]
pub mod google {
    /// The `google.protobuf` package.
    #[allow(clippy::all, missing_docs)]
    pub mod protobuf {
        include!(concat!(env!("OUT_DIR"), "/google.protobuf.rs"));
    }
}
