//! The checked-in protobuf code is what the generator makes of `proto/`
//! today: both tbseg's messages (`src/proto/generated/`) and prost-build's
//! reference code for them (`tests/protogen/reference/`, which
//! tests/proto_equivalence.rs compiles). With `TBSEG_REGENERATE_PROTO=1`
//! the tests rewrite the files instead of failing.

mod protogen;

use std::path::Path;

const REGENERATE: &str = "TBSEG_REGENERATE_PROTO";

/// Compares `files` with the `.rs` files in `dir`, or, when asked to
/// regenerate, makes `dir` hold exactly `files`.
fn check_or_update(dir: &Path, files: &[(String, String)]) {
    let checked_in = |dir: &Path| -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .map(|e| e.unwrap().file_name().into_string().unwrap())
                    .filter(|name| name.ends_with(".rs"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };
    if std::env::var_os(REGENERATE).is_some_and(|v| v == "1") {
        std::fs::create_dir_all(dir).unwrap();
        for name in checked_in(dir) {
            if !files.iter().any(|(n, _)| *n == name) {
                std::fs::remove_file(dir.join(name)).unwrap();
            }
        }
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        return;
    }
    let how = format!("run `{REGENERATE}=1 cargo test --test proto_generated` to update");
    let mut expected: Vec<String> = files.iter().map(|(n, _)| n.clone()).collect();
    expected.sort();
    assert_eq!(
        checked_in(dir),
        expected,
        "{} holds other files than the generator makes from proto/; {how}",
        dir.display()
    );
    for (name, text) in files {
        let path = dir.join(name);
        let current = std::fs::read_to_string(&path).unwrap();
        if current != *text {
            let line = current
                .lines()
                .zip(text.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| current.lines().count().min(text.lines().count()))
                + 1;
            panic!(
                "{} is stale (first difference at line {line}): proto/ or the generator \
                 changed; {how}",
                path.display()
            );
        }
    }
}

#[test]
fn the_checked_in_messages_match_proto() {
    let set = protogen::descriptors();
    check_or_update(&protogen::generated_dir(), &protogen::generate(&set));
}

#[test]
fn the_checked_in_prost_build_reference_matches_proto() {
    let set = protogen::descriptors();
    check_or_update(
        &protogen::reference_dir(),
        &protogen::prost_build_reference(set),
    );
}

/// The generator gives the same text every time (no hash-map order
/// leaks into the files), or the staleness check would be flaky.
#[test]
fn generation_is_deterministic() {
    let set = protogen::descriptors();
    assert_eq!(protogen::generate(&set), protogen::generate(&set));
}
