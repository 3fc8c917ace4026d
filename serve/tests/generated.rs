//! The checked-in service code (src/generated/tensorboard.data.rs) is what
//! tonic-prost-build makes of proto/ today, so builds need no `protoc`.
//! With `TBSEG_REGENERATE_PROTO=1` the test rewrites the file instead of
//! failing.

use std::path::Path;

const REGENERATE: &str = "TBSEG_REGENERATE_PROTO";

#[test]
fn generated_service_code_is_up_to_date() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let fds = protox::compile(
        ["tensorboard/data/proto/data_provider.proto"],
        [root.join("proto")],
    )
    .expect("proto/ compiles");
    let out = tempfile::tempdir().unwrap();
    tonic_prost_build::configure()
        .build_server(true)
        .build_client(true)
        // The client is for tests, over whatever channel they bring.
        .build_transport(false)
        .out_dir(out.path())
        // The messages TensorBoard shares with event files are tbseg's.
        .extern_path(
            ".tensorboard.SummaryMetadata",
            "::tbseg::proto::tensorflow::SummaryMetadata",
        )
        .extern_path(
            ".tensorboard.TensorProto",
            "::tbseg::proto::tensorflow::TensorProto",
        )
        .extern_path(".google.protobuf.Timestamp", "::prost_types::Timestamp")
        .compile_fds(fds)
        .expect("tonic-prost-build generates the service");
    let generated = std::fs::read_to_string(out.path().join("tensorboard.data.rs")).unwrap();
    let checked_in = root.join("src/generated/tensorboard.data.rs");
    if std::env::var_os(REGENERATE).is_some_and(|v| v == "1") {
        std::fs::write(&checked_in, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&checked_in).unwrap_or_default();
    assert!(
        current == generated,
        "{} is stale: run `{REGENERATE}=1 cargo test -p tbseg-serve --test generated`",
        checked_in.display()
    );
}
