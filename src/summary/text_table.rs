//! Tables for TensorBoard's Text dashboard, which renders Markdown with
//! the tables extension.

use super::SummaryError;

/// Renders a header and rows as a Markdown table (GitHub style, as the
/// Text dashboard renders it).
///
/// Cells (the header's too) are escaped where the table syntax needs it:
/// `|` becomes `\|` (it would end the cell), backslashes are doubled (so
/// one before a `|` cannot undo the escape), and line breaks become `<br>`
/// (a table row is one line). Other Markdown in a cell (emphasis, code,
/// links) is rendered. Every row must have as many
/// cells as the header; an empty header or a row of another length is an
/// [`SummaryError::InvalidArgument`].
///
/// ```
/// use tbseg::summary::text_table::markdown_table;
/// let table = markdown_table(&["run", "dice"], &[["a|b", "0.9"]])?;
/// assert_eq!(table, "| run | dice |\n| --- | --- |\n| a\\|b | 0.9 |\n");
/// # Ok::<(), tbseg::summary::SummaryError>(())
/// ```
pub fn markdown_table<H, R, C>(header: &[H], rows: &[R]) -> Result<String, SummaryError>
where
    H: AsRef<str>,
    R: AsRef<[C]>,
    C: AsRef<str>,
{
    let invalid = |reason| SummaryError::InvalidArgument {
        tag: "markdown table".into(),
        what: "rows",
        reason,
    };
    if header.is_empty() {
        return Err(invalid("the header has no columns".into()));
    }
    let mut out = String::new();
    let header: Vec<String> = header.iter().map(|h| escape(h.as_ref())).collect();
    push_row(&mut out, header.iter().map(String::as_str));
    push_row(&mut out, header.iter().map(|_| "---"));
    for (i, row) in rows.iter().enumerate() {
        let row = row.as_ref();
        if row.len() != header.len() {
            return Err(invalid(format!(
                "row {i} has {} cells, the header {}",
                row.len(),
                header.len()
            )));
        }
        let cells: Vec<String> = row.iter().map(|c| escape(c.as_ref())).collect();
        push_row(&mut out, cells.iter().map(String::as_str));
    }
    Ok(out)
}

fn push_row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    out.push('|');
    for cell in cells {
        out.push(' ');
        out.push_str(cell);
        out.push_str(" |");
    }
    out.push('\n');
}

fn escape(cell: &str) -> String {
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '|' => out.push_str("\\|"),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => out.push_str("<br>"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_header_separator_and_escaped_rows() {
        let rows = vec![
            vec!["cnn".to_owned(), "0.93".to_owned()],
            vec!["a|b\\c".to_owned(), "two\r\nlines\nhere".to_owned()],
        ];
        let table = markdown_table(&["model", "dice"], &rows).unwrap();
        assert_eq!(
            table,
            "| model | dice |\n\
             | --- | --- |\n\
             | cnn | 0.93 |\n\
             | a\\|b\\\\c | two<br>lines<br>here |\n"
        );
    }

    #[test]
    fn header_only_is_a_table_and_ragged_rows_are_rejected() {
        let none: [[&str; 1]; 0] = [];
        assert_eq!(markdown_table(&["x"], &none).unwrap(), "| x |\n| --- |\n");
        let err = markdown_table(&["a", "b"], &[vec!["1", "2"], vec!["3"]]).unwrap_err();
        assert!(
            err.to_string().contains("row 1 has 1 cells, the header 2"),
            "{err}"
        );
        let empty: [&str; 0] = [];
        assert!(markdown_table(&empty, &none).is_err());
    }
}
