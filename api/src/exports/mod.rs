//! Document exports: pure functions from plain input structs to xlsx, docx and markdown.
//!
//! Nothing here touches a database or HTTP; the API layer fills the input
//! structs from its read models and serves the bytes or text these return.

pub mod pitch_markdown;
pub mod qa_pack;
pub mod ratecard_xlsx;

/// Why an export could not be produced.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// rust_xlsxwriter refused to write the workbook.
    #[error("spreadsheet could not be written: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    /// docx-rs could not build or zip the document.
    #[error("document could not be written: {0}")]
    Docx(String),
    /// The input holds a value the export cannot represent honestly.
    #[error("invalid export input `{field}`: {reason}")]
    Invalid { field: String, reason: String },
}

impl ExportError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ExportError::Invalid { field: field.into(), reason: reason.into() }
    }
}

/// About how many lines `text` fills when wrapped in a column `width`
/// characters wide: greedy word wrap. Column widths count the digit "0";
/// mixed-case text fits a little more per line, hence the 1.1.
pub(crate) fn wrapped_lines(text: &str, width: f64) -> usize {
    let per_line = (width * 1.1 - 1.0).max(1.0) as usize;
    let lines: usize = text
        .lines()
        .map(|line| {
            let (mut lines, mut used) = (1, 0);
            for word in line.split_whitespace().map(|w| w.chars().count()) {
                if used == 0 {
                    used = word;
                } else if used + 1 + word <= per_line {
                    used += 1 + word;
                } else {
                    lines += 1;
                    used = word;
                }
                while used > per_line {
                    lines += 1;
                    used -= per_line;
                }
            }
            lines
        })
        .sum();
    lines.max(1)
}

/// A spreadsheet row height (points) tall enough for every `(text, column width)`
/// when wrapped, since LibreOffice does not grow wrapped rows on opening.
pub(crate) fn row_height<'a>(cells: impl IntoIterator<Item = (&'a str, f64)>) -> f64 {
    let lines = cells.into_iter().map(|(text, width)| wrapped_lines(text, width)).max().unwrap_or(1);
    (15.0 * lines as f64).min(409.0)
}
