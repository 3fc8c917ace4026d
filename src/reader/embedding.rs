//! Embeddings read back from the Projector's files in a run directory:
//! `projector_config.pbtxt` and the tensor, metadata and sprite files it
//! points at, as tbseg, torch and tensorboardX write them.

use std::io;
use std::path::{Path, PathBuf};

use crate::summary::projector_config;

use super::ReadValueError;

/// One embedding of the Projector.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Embedding {
    /// The tensor's name in the configuration (`<tag>:<step:05>` for
    /// tbseg and torch).
    pub tensor_name: String,
    /// How many points.
    pub points: usize,
    /// Numbers per point.
    pub dim: usize,
    /// `points × dim` numbers, one point after another.
    pub values: Vec<f32>,
    /// The labels or metadata columns, if any.
    pub metadata: Option<EmbeddingMetadata>,
    /// The sprite image of thumbnails, if any.
    pub sprite: Option<EmbeddingSprite>,
}

/// An embedding's metadata: one row per point.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EmbeddingMetadata {
    /// The column titles; empty for a single column of labels (which the
    /// Projector reads without a header).
    pub header: Vec<String>,
    /// One row of cells per point.
    pub rows: Vec<Vec<String>>,
}

/// An embedding's thumbnails.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct EmbeddingSprite {
    /// The sprite image file, as the configuration names it.
    pub path: String,
    /// Width and height of one thumbnail, in pixels.
    pub thumbnail: (usize, usize),
    /// The encoded sprite image.
    pub encoded: Vec<u8>,
}

impl Embedding {
    /// The tag and step of a tensor named `<tag>:<step>`, as tbseg and
    /// torch name them; `None` for other names.
    pub fn tag_and_step(&self) -> Option<(&str, i64)> {
        let (tag, step) = self.tensor_name.rsplit_once(':')?;
        Some((tag, step.parse().ok()?))
    }
}

/// Reads every embedding of the run directory `run_dir`; an empty list
/// when it has no `projector_config.pbtxt`. A configuration that does not
/// parse, a missing or unreadable data file, or a tensor whose numbers do
/// not match its shape is an error naming the file.
pub fn read_embeddings(run_dir: impl AsRef<Path>) -> Result<Vec<Embedding>, ReadValueError> {
    let run_dir = run_dir.as_ref();
    let config_path = crate::storage::join(run_dir, projector_config::FILE_NAME);
    let text = match crate::storage::read(&config_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(ReadValueError::Asset {
                path: config_path,
                source,
            })
        }
    };
    let text = String::from_utf8_lossy(&text);
    let config = projector_config::parse(&text).map_err(|reason| bad(&config_path, reason))?;
    config
        .embeddings
        .into_iter()
        .map(|info| {
            let tensor_path = asset(run_dir, &info.tensor_path);
            let bytes = read(&tensor_path)?;
            let values = if info.tensor_path.ends_with(".bytes") {
                if bytes.len() % 4 != 0 {
                    return Err(bad(
                        &tensor_path,
                        format!("{} bytes is not a whole number of f32s", bytes.len()),
                    ));
                }
                bytes
                    .chunks_exact(4)
                    .map(|b| f32::from_le_bytes(b.try_into().unwrap()))
                    .collect()
            } else {
                parse_tsv(&String::from_utf8_lossy(&bytes)).map_err(|r| bad(&tensor_path, r))?
            };
            let (points, dim) = match info.tensor_shape.as_slice() {
                &[points, dim] => (points as usize, dim as usize),
                // No shape in the configuration: a TSV's lines are its
                // points (a binary tensor cannot be read without one).
                _ => {
                    let points = String::from_utf8_lossy(&bytes)
                        .lines()
                        .filter(|l| !l.trim().is_empty())
                        .count();
                    (points, values.len().checked_div(points).unwrap_or(0))
                }
            };
            if Some(values.len()) != points.checked_mul(dim) {
                return Err(bad(
                    &tensor_path,
                    format!("{} numbers, expected {points}x{dim}", values.len()),
                ));
            }
            let metadata = if info.metadata_path.is_empty() {
                None
            } else {
                let path = asset(run_dir, &info.metadata_path);
                Some(parse_metadata(&String::from_utf8_lossy(&read(&path)?)))
            };
            let sprite = match info.sprite {
                Some(sprite) if !sprite.image_path.is_empty() => {
                    let path = asset(run_dir, &sprite.image_path);
                    let dims = &sprite.single_image_dim;
                    Some(EmbeddingSprite {
                        encoded: read(&path)?,
                        thumbnail: (
                            dims.first().map_or(0, |&w| w as usize),
                            dims.get(1).map_or(0, |&h| h as usize),
                        ),
                        path: sprite.image_path,
                    })
                }
                _ => None,
            };
            Ok(Embedding {
                tensor_name: info.tensor_name,
                points,
                dim,
                values,
                metadata,
                sprite,
            })
        })
        .collect()
}

/// A data file of the configuration, relative to the run directory
/// unless absolute.
fn asset(run_dir: &Path, path: &str) -> PathBuf {
    if Path::new(path).is_absolute() || crate::storage::scheme(path).is_some() {
        PathBuf::from(path)
    } else {
        crate::storage::join(run_dir, path)
    }
}

fn read(path: &Path) -> Result<Vec<u8>, ReadValueError> {
    crate::storage::read(path).map_err(|source| ReadValueError::Asset {
        path: path.to_owned(),
        source,
    })
}

fn bad(path: &Path, reason: String) -> ReadValueError {
    ReadValueError::Asset {
        path: path.to_owned(),
        source: io::Error::new(io::ErrorKind::InvalidData, reason),
    }
}

/// Numbers separated by tabs, one point per line.
fn parse_tsv(text: &str) -> Result<Vec<f32>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .flat_map(|(i, line)| line.split('\t').map(move |cell| (i, cell)))
        .map(|(i, cell)| {
            cell.trim()
                .parse::<f32>()
                .map_err(|_| format!("line {}: {cell:?} is not a number", i + 1))
        })
        .collect()
}

/// One label per line, or a header line and rows when there are tabs.
fn parse_metadata(text: &str) -> EmbeddingMetadata {
    let mut lines = text.lines();
    let columns = text.lines().next().map_or(1, |l| l.split('\t').count());
    let split = |line: &str| line.split('\t').map(str::to_owned).collect::<Vec<_>>();
    let header = if columns > 1 {
        lines.next().map(split).unwrap_or_default()
    } else {
        Vec::new()
    };
    EmbeddingMetadata {
        header,
        rows: lines.map(split).collect(),
    }
}
