//! `tbseg-serve`: TensorBoard's `TensorBoardDataProvider` gRPC service over
//! tbseg's reader, so the stock TensorBoard shows a log directory (local,
//! or `s3://`, `gs://`, `az://` with the `object-store` feature) through
//! `tensorboard --grpc_data_provider ADDR`.
//!
//! - [`sampling`]: TensorBoard's reservoir sampling and per-plugin sizes,
//!   on [`pyrandom`], Python's random numbers as TensorBoard draws them.
//! - [`store`]: what is kept of each run, tag and point.
//! - [`loader`]: the reload loop that reads new events into the store, runs
//!   in parallel, through [`tail`] (folders and object stores alike).
//! - [`service`]: the gRPC service answering from the store.

pub mod loader;
pub mod pyrandom;
pub mod sampling;
pub mod service;
pub mod store;
pub mod tail;

/// The `tensorboard.data` messages and service, generated from TensorBoard
/// 2.21's `data_provider.proto` (see `proto/` and `tests/generated.rs`).
#[allow(missing_docs, clippy::all)]
pub mod proto {
    include!("generated/tensorboard.data.rs");
}
