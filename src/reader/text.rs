//! Text read back: the strings of the Text dashboard, and tables, whether
//! logged as a rank-2 string tensor or as a Markdown table (tbseg's
//! `add_text_table`).

use crate::proto::tensorflow::TensorProto;

use super::tensor::{self, TensorError};

/// A logged text: one string (rank 0, Markdown) or an array of strings
/// (rank 1 or 2, which the Text dashboard shows as a table).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Text {
    /// The tensor's dimensions; empty for a single string.
    pub shape: Vec<usize>,
    /// The strings, row-major (bytes that are not UTF-8 replaced with
    /// U+FFFD).
    pub strings: Vec<String>,
}

/// A table: a header row and data rows of equal length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// The column titles.
    pub header: Vec<String>,
    /// The rows, each with one cell per column.
    pub rows: Vec<Vec<String>>,
}

impl Text {
    /// The text itself: the only string of a rank-0 text, or the strings
    /// joined by line breaks.
    pub fn as_markdown(&self) -> String {
        self.strings.join("\n")
    }

    /// The text as a table: a rank-2 tensor's rows (the first row taken as
    /// the header), or a single string holding one GitHub-style Markdown
    /// table such as `add_text_table` writes (its `\|` and `\\` escapes and
    /// `<br>` line breaks undone). `None` for other text.
    pub fn table(&self) -> Option<Table> {
        match self.shape.as_slice() {
            [rows, cols] if *rows > 0 && *cols > 0 => {
                let mut rows = self.strings.chunks(*cols).map(<[String]>::to_vec);
                let header = rows.next()?;
                Some(Table {
                    header,
                    rows: rows.collect(),
                })
            }
            [] => markdown_table(self.strings.first()?),
            _ => None,
        }
    }
}

/// Reads a text tensor.
pub(crate) fn from_tensor(tensor: &TensorProto) -> Result<Text, TensorError> {
    let shape = tensor::shape(tensor)?;
    let strings = tensor::strings(tensor)?;
    let n = tensor::element_count(&shape)?;
    if strings.len() != n {
        return tensor::error(format!(
            "{} strings for a text tensor of shape {shape:?}",
            strings.len()
        ));
    }
    Ok(Text {
        shape,
        strings: strings
            .iter()
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect(),
    })
}

/// Parses a Markdown table whose second line is the `---` separator.
fn markdown_table(text: &str) -> Option<Table> {
    let mut lines = text.lines();
    let header = cells(lines.next()?)?;
    let separator = cells(lines.next()?)?;
    let is_rule = |c: &String| {
        let c = c.trim_matches(':');
        !c.is_empty() && c.chars().all(|ch| ch == '-')
    };
    if separator.len() != header.len() || !separator.iter().all(is_rule) {
        return None;
    }
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| cells(l).filter(|row| row.len() == header.len()))
        .collect::<Option<Vec<_>>>()?;
    Some(Table { header, rows })
}

/// The cells of one `| a | b |` line, unescaped.
fn cells(line: &str) -> Option<Vec<String>> {
    let line = line.trim();
    let inner = line.strip_prefix('|')?.strip_suffix('|')?;
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('|' | '\\')) => cell.push(escaped),
                Some(other) => {
                    cell.push('\\');
                    cell.push(other);
                }
                None => cell.push('\\'),
            },
            '|' => cells.push(std::mem::take(&mut cell)),
            c => cell.push(c),
        }
    }
    cells.push(cell);
    Some(
        cells
            .into_iter()
            .map(|c| c.trim().replace("<br>", "\n"))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_markdown_table_reads_back_with_its_escapes() {
        let text = Text {
            shape: vec![],
            strings: vec!["| run | dice |\n| --- | --- |\n| a\\|b\\\\ | 0.9<br>x |\n".into()],
        };
        let table = text.table().unwrap();
        assert_eq!(table.header, ["run", "dice"]);
        assert_eq!(table.rows, [["a|b\\", "0.9\nx"]]);
        let plain = Text {
            shape: vec![],
            strings: vec!["**bold** | not a table".into()],
        };
        assert_eq!(plain.table(), None);
    }

    #[test]
    fn a_rank_two_tensor_is_a_table() {
        let text = Text {
            shape: vec![2, 2],
            strings: ["a", "b", "1", "2"].map(String::from).to_vec(),
        };
        let table = text.table().unwrap();
        assert_eq!(table.header, ["a", "b"]);
        assert_eq!(table.rows, [["1", "2"]]);
    }
}
