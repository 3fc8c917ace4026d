//! A checkpoint folder as one training run: telling whether it already
//! holds one, and clearing it for a new one.

use std::path::Path;

/// Whether `name` is a file a training run writes: an event file, a
/// checkpoint, the `checkpoint` state file, the best checkpoint's record,
/// or what a killed save left.
fn is_run_file(name: &str) -> bool {
    name == "checkpoint"
        || name == super::validate::BEST_RECORD
        || name.starts_with("model.ckpt-")
        || name.starts_with("events.out.tfevents.")
}

/// The first file of an earlier run in `dir` (top level only: `eval/` and
/// other subfolders belong to the run beside them), or `None` when the
/// folder is missing or holds no run.
pub fn existing_run(dir: &Path) -> Option<String> {
    #[cfg(feature = "object-store")]
    if let tbseg::storage::Location::Remote(url) = tbseg::storage::Location::of(dir) {
        // Top-level objects only, as for a folder. A store that cannot be
        // listed is reported when the run writes to it.
        let listed = tbseg::storage::remote::Remote::open(url)
            .ok()?
            .list()
            .ok()?;
        return listed
            .into_iter()
            .map(|(name, _)| name)
            .find(|name| !name.contains('/') && is_run_file(name));
    }
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_ok_and(|kind| kind.is_file()))
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .filter(|name| is_run_file(name))
        .collect();
    names.sort();
    names.into_iter().next()
}

/// Deletes what a training run wrote into `dir` and its subfolders
/// (`eval/`, `best/`, ...): events, checkpoints and state files. Other
/// files stay. A missing folder is nothing to clear.
pub fn clear_run(dir: &Path) -> std::io::Result<()> {
    #[cfg(feature = "object-store")]
    if let tbseg::storage::Location::Remote(url) = tbseg::storage::Location::of(dir) {
        let root = tbseg::storage::remote::Remote::open(url)?;
        for (key, _) in root.list()? {
            let name = key.rsplit('/').next().unwrap_or(&key);
            if is_run_file(name) {
                root.child(&key).delete()?;
            }
        }
        return Ok(());
    }
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            clear_run(&entry.path())?;
        } else if kind.is_file() && is_run_file(&entry.file_name().to_string_lossy()) {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_and_clears_only_run_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        assert_eq!(existing_run(&root.join("missing")), None);
        std::fs::write(root.join("notes.txt"), "keep").unwrap();
        std::fs::create_dir(root.join("eval")).unwrap();
        std::fs::write(root.join("eval").join("events.out.tfevents.1.h"), "").unwrap();
        assert_eq!(existing_run(root), None, "eval/ alone is not a run");
        std::fs::write(root.join("model.ckpt-5.index"), "").unwrap();
        std::fs::write(root.join("checkpoint"), "").unwrap();
        assert_eq!(existing_run(root).as_deref(), Some("checkpoint"));
        clear_run(root).unwrap();
        assert_eq!(existing_run(root), None);
        assert!(root.join("notes.txt").exists());
        assert!(!root.join("eval").join("events.out.tfevents.1.h").exists());
        clear_run(&root.join("missing")).unwrap();
    }
}
