//! Embeddings for the Projector: files in the run directory, not events.

use std::path::Path;

use super::SummaryWriter;
use crate::summary::embedding::{write_embedding, Embedding};
use crate::summary::inputs::Step;
use crate::summary::SummaryError;

impl SummaryWriter {
    /// The run directory, for writers created in a log directory; `None`
    /// for a caller-supplied sink ([`SummaryWriter::with_writer`]), whose
    /// label is not a file in a run directory.
    pub(in crate::summary) fn run_dir(&self) -> Option<&Path> {
        let path = self.path();
        let name = path.file_name()?.to_str()?;
        let dir = path.parent()?;
        // On an object store the writer's path is its first segment's URL;
        // the run is the prefix it sits under.
        let in_logdir =
            super::is_event_file_name(name) && (crate::storage::is_remote(path) || path.is_file());
        in_logdir.then_some(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
    }

    /// Logs an embedding for the Projector: writes its tensor, metadata and
    /// sprite files under `<run>/<step:05>/<tag>/` and adds it to the run's
    /// `projector_config.pbtxt`, keeping the embeddings already there (see
    /// [`crate::summary::embedding`]). Unlike other kinds, nothing goes
    /// into the event file; the files are complete when this returns.
    ///
    /// A writer over a caller-supplied sink has no run directory and
    /// returns an [`SummaryError::InvalidArgument`]. Shape errors, a
    /// negative step (it names a directory) and a step outside `i64`'s
    /// range are an `InvalidArgument` too, and file errors a
    /// [`SummaryError::WriteAsset`]; neither affects the writer. The
    /// Projector keeps no wall time: a [`Step`]'s is only checked.
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::embedding::Embedding;
    /// use tbseg::summary::SummaryWriter;
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-embedding-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// let points = [0.1, 0.9, 0.8, 0.2, 0.5, 0.5]; // three 2-D points
    /// let embedding = Embedding::new(&points, 2).labels(&["cat", "dog", "cow"]);
    /// writer.add_embedding("features", &embedding, 100)?;
    /// // The Projector's files are complete already.
    /// let read = &Logdir::scan(&dir)?.embeddings(".")?[0];
    /// assert_eq!(read.tag_and_step(), Some(("features", 100)));
    /// assert_eq!((read.points, read.dim), (3, 2));
    /// assert_eq!(read.metadata.as_ref().unwrap().rows[1], ["dog"]);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_embedding(
        &self,
        tag: &str,
        embedding: &Embedding<'_>,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        let (step, _) = step.into().resolve(tag, || 0.0)?;
        let Some(run_dir) = self.run_dir() else {
            return Err(SummaryError::InvalidArgument {
                tag: tag.to_owned(),
                what: "writer",
                reason: format!(
                    "embeddings are files in the run directory, and the writer for {} has none \
                     (create it with SummaryWriter::new or builder)",
                    self.path().display()
                ),
            });
        };
        write_embedding(run_dir, tag, step, embedding).map(drop)
    }
}
