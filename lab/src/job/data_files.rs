//! The lab's data files behind `--data_dir`: finding one (or saying how to
//! make it) and reading it into tensors.

use tch::Device;

use crate::data::{self, LabImage};
use crate::train::examples::Examples;
use crate::train::TrainError;

use super::location::Location;

/// The data file `name` in `dir`, or the error that says how to make it.
pub fn data_file(dir: &Location, name: &str) -> Result<Location, TrainError> {
    let file = dir.join(name);
    match (dir, &file) {
        (Location::Remote(_), Location::Remote(url)) => {
            // One lookup of the object; an unreachable store is its own error.
            match tbseg::storage::is_file(url) {
                Ok(true) => Ok(file),
                Ok(false) => Err(TrainError::MissingData { path: url.into() }),
                Err(error) => Err(TrainError::Io {
                    path: url.into(),
                    error,
                }),
            }
        }
        (Location::Local(dir), Location::Local(path)) => {
            if path.is_file() {
                Ok(file)
            } else if dir.is_dir() {
                Err(TrainError::MissingData { path: path.clone() })
            } else {
                Err(TrainError::MissingData { path: dir.clone() })
            }
        }
        _ => unreachable!("joining a name keeps a location's kind"),
    }
}

/// Reads every example of a lab file the way the lab's reader does; an
/// object is downloaded whole (the lab's files are tens of MB).
pub fn read_images(file: &Location) -> Result<Vec<LabImage>, data::DataError> {
    let slices = match file {
        Location::Local(path) => data::read_local_lab_slices(path)?,
        Location::Remote(url) => {
            let bytes = tbseg::storage::read(url).map_err(|e| data::DataError::io(url, e))?;
            data::lab_slices_from_bytes(bytes, file.path())?
        }
    };
    Ok(slices.iter().map(data::LabSlice::to_image).collect())
}

/// Reads a lab TFRecord file into tensors on `device`.
pub fn load_examples(file: &Location, device: Device) -> Result<Examples, TrainError> {
    let images = read_images(file)?;
    Examples::from_pairs(
        images
            .iter()
            .map(|example| (example.image.as_slice(), example.label.as_slice())),
        data::SIZE as i64,
        device,
        &file.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    #[test]
    fn a_missing_file_or_folder_says_which() {
        let dir = tempfile::tempdir().unwrap();
        let folder = Location::Local(dir.path().to_path_buf());
        let err = data_file(&folder, data::TRAIN_FILE).unwrap_err();
        assert!(
            matches!(&err, TrainError::MissingData { path } if path == &dir.path().join(data::TRAIN_FILE)),
            "{err}"
        );
        let nowhere = folder.join("nowhere");
        let err = data_file(&nowhere, data::TRAIN_FILE).unwrap_err();
        assert!(
            matches!(&err, TrainError::MissingData { path } if path == nowhere.path()),
            "{err}"
        );
        assert!(err.to_string().contains("tbseg data synth"), "{err}");

        data::write_lab_file(
            dir.path().join(data::TRAIN_FILE),
            data::synth::generate(3, 2, 0),
        )
        .unwrap();
        let file = data_file(&folder, data::TRAIN_FILE).unwrap();
        assert_eq!(file.path(), dir.path().join(data::TRAIN_FILE));
        let examples = load_examples(&file, Device::Cpu).unwrap();
        assert_eq!(examples.len(), 2);
        assert_eq!(
            read_images(&file).unwrap(),
            data::read_lab_file(Path::new(file.path())).unwrap()
        );
    }
}
