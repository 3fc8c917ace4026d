//! The library stays lean: a crate that adds tbseg as a plain path
//! dependency pulls at most 30 crates (tbseg included) with the default
//! `png` feature and at most 16 without it.
//!
//! The test writes a throw-away crate in a temporary directory and asks
//! `cargo tree -e normal` (offline, from the local registry cache, with
//! this workspace's lock file so the versions are the ones tested) which
//! packages it depends on.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Distinct `name version` packages the throw-away crate depends on
/// (normal dependencies only: no build scripts' or tests' dependencies),
/// not counting itself.
fn packages(dependency: &str) -> BTreeSet<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let manifest = format!(
        "[package]\nname = \"tbseg-consumer\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\
         publish = false\n\n[dependencies]\ntbseg = {{ path = {:?}{dependency} }}\n\n\
         [workspace]\n",
        root.to_str().expect("the checkout's path is UTF-8"),
    );
    std::fs::write(dir.path().join("Cargo.toml"), manifest).unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    std::fs::copy(root.join("Cargo.lock"), dir.path().join("Cargo.lock")).unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["tree", "--offline", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}"])
        .current_dir(dir.path())
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "cargo tree failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            // "name v1.2.3 (path)" or "... (*)" for a repeat: keep
            // "name v1.2.3".
            let mut words = line.split_whitespace();
            Some(format!("{} {}", words.next()?, words.next()?))
        })
        .filter(|package| !package.starts_with("tbseg-consumer "))
        .collect()
}

fn assert_at_most(dependency: &str, limit: usize) {
    let packages = packages(dependency);
    println!("tbseg{dependency}: {} crates", packages.len());
    assert!(
        packages.iter().any(|p| p.starts_with("tbseg ")),
        "{packages:?}"
    );
    assert!(
        packages.len() <= limit,
        "tbseg{dependency} pulls {} crates, at most {limit} allowed:\n{}",
        packages.len(),
        packages.iter().cloned().collect::<Vec<_>>().join("\n")
    );
    for heavy in ["image ", "tch ", "clap ", "chrono ", "rand ", "indicatif "] {
        assert!(
            !packages.iter().any(|p| p.starts_with(heavy)),
            "tbseg{dependency} pulls {heavy}"
        );
    }
}

#[test]
fn a_plain_dependency_pulls_at_most_30_crates() {
    assert_at_most("", 30);
}

#[test]
fn without_png_it_pulls_at_most_16_crates() {
    assert_at_most(", default-features = false", 16);
}
