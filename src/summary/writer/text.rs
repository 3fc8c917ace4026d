//! Markdown text and tables for the Text dashboard.

use super::{retag, SummaryWriter};
use crate::summary::inputs::Step;
use crate::summary::text_table::markdown_table;
use crate::summary::values;
use crate::summary::SummaryError;

impl SummaryWriter {
    /// Logs Markdown text (plugin `text`).
    ///
    /// ```
    /// use tbseg::reader::Logdir;
    /// use tbseg::summary::SummaryWriter;
    /// # let dir = std::env::temp_dir().join(format!("tbseg-doc-add-text-{}", std::process::id()));
    /// let writer = SummaryWriter::new(&dir)?;
    /// writer.add_text("notes", "loss *plateaued*, lr halved", 700)?;
    /// writer.close()?;
    /// let notes = Logdir::scan(&dir)?.runs["."].texts("notes")?;
    /// assert_eq!(notes[0].step, 700);
    /// assert_eq!(notes[0].value.as_markdown(), "loss *plateaued*, lr halved");
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn add_text(
        &self,
        tag: &str,
        markdown: &str,
        step: impl Into<Step>,
    ) -> Result<(), SummaryError> {
        self.add_value(values::text(tag, markdown), step)
    }

    /// Logs a table as Markdown text (see [`markdown_table`]): the Text
    /// dashboard renders it with a header row.
    ///
    /// ```
    /// # let writer = tbseg::summary::SummaryWriter::with_writer(std::io::sink(), "sink")?;
    /// writer.add_text_table("runs", &["lr", "dice"], &[["0.01", "0.91"], ["0.1", "0.87"]], 5)?;
    /// # Ok::<(), tbseg::summary::SummaryError>(())
    /// ```
    pub fn add_text_table<H, R, C>(
        &self,
        tag: &str,
        header: &[H],
        rows: &[R],
        step: impl Into<Step>,
    ) -> Result<(), SummaryError>
    where
        H: AsRef<str>,
        R: AsRef<[C]>,
        C: AsRef<str>,
    {
        let table = markdown_table(header, rows).map_err(|e| retag(e, tag))?;
        self.add_value(values::text(tag, &table), step)
    }
}
