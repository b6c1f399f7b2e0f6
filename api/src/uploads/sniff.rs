//! Decides what an upload is from its bytes, and refuses anything that is not a brief document.

use std::io::{Cursor, Read};

use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocumentKind {
    Text,
    Markdown,
    Docx,
    Xlsx,
    Pdf,
}

/// Limits that keep a small compressed upload from expanding into gigabytes.
pub const MAX_ZIP_ENTRIES: usize = 5_000;
pub const MAX_UNZIPPED_BYTES: u64 = 100 * 1024 * 1024;

impl DocumentKind {
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain",
            Self::Markdown => "text/markdown",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pdf => "application/pdf",
        }
    }

    fn from_extension(ext: &str) -> Option<Self> {
        match ext {
            "txt" | "text" => Some(Self::Text),
            "md" | "markdown" => Some(Self::Markdown),
            "docx" => Some(Self::Docx),
            "xlsx" => Some(Self::Xlsx),
            "pdf" => Some(Self::Pdf),
            _ => None,
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Self::Text | Self::Markdown => "a text file",
            Self::Docx => "a Word document",
            Self::Xlsx => "an Excel workbook",
            Self::Pdf => "a PDF",
        }
    }
}

fn unsupported(message: String) -> ApiError {
    ApiError::UnsupportedFile { field: "file".into(), message }
}

/// What the upload is, checked against both its name and its content.
pub fn sniff(filename: &str, bytes: &[u8]) -> Result<DocumentKind, ApiError> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    let claimed = DocumentKind::from_extension(&ext).ok_or_else(|| {
        unsupported(format!("{filename:?}: only .txt, .md, .docx, .xlsx and .pdf files are accepted"))
    })?;
    let actual = content_kind(bytes)?;
    let compatible =
        actual == claimed || matches!((claimed, actual), (DocumentKind::Markdown, DocumentKind::Text));
    if !compatible {
        return Err(unsupported(format!(
            "{filename:?} is named like {} but its content is {}",
            claimed.describe(),
            actual.describe()
        )));
    }
    Ok(claimed)
}

fn content_kind(bytes: &[u8]) -> Result<DocumentKind, ApiError> {
    if bytes.starts_with(b"%PDF-") {
        return Ok(DocumentKind::Pdf);
    }
    if bytes.starts_with(b"PK\x03\x04") {
        return office_kind(bytes);
    }
    if let Some(t) = infer::get(bytes) {
        if t.mime_type() != "text/plain" {
            return Err(unsupported(format!(
                "the content is {} ({}), which is not an accepted document",
                t.mime_type(),
                t.extension()
            )));
        }
    }
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // A stray NUL or other control character is dropped from the extracted text (see text.rs);
    // content made of them for more than a quarter is binary.
    let controls = body.iter().filter(|b| domain::limits::is_forbidden(char::from(**b))).count();
    if std::str::from_utf8(body).is_err() || controls * 4 > body.len() {
        return Err(unsupported("the content is binary, not UTF-8 text".into()));
    }
    Ok(DocumentKind::Text)
}

/// Opens a zip, refusing archives that would expand beyond the limits, and says which Office
/// format it holds.
fn office_kind(bytes: &[u8]) -> Result<DocumentKind, ApiError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| unsupported(format!("the content is a damaged zip archive: {e}")))?;
    if zip.len() > MAX_ZIP_ENTRIES {
        return Err(unsupported(format!(
            "the archive holds {} entries; at most {MAX_ZIP_ENTRIES}",
            zip.len()
        )));
    }
    // Declared sizes can lie, so every entry is inflated with a hard cap on what it may produce.
    let mut total = 0u64;
    let mut names = Vec::with_capacity(zip.len());
    for i in 0..zip.len() {
        let entry = zip.by_index(i).map_err(|e| unsupported(format!("the archive cannot be read: {e}")))?;
        names.push(entry.name().to_string());
        let budget = MAX_UNZIPPED_BYTES - total;
        let produced = std::io::copy(&mut entry.take(budget + 1), &mut std::io::sink())
            .map_err(|e| unsupported(format!("the archive cannot be inflated: {e}")))?;
        total += produced;
        if total > MAX_UNZIPPED_BYTES {
            return Err(unsupported(format!(
                "the archive expands beyond {} MiB (a zip bomb?)",
                MAX_UNZIPPED_BYTES / 1024 / 1024
            )));
        }
    }
    if names.iter().any(|n| n == "word/document.xml") {
        Ok(DocumentKind::Docx)
    } else if names.iter().any(|n| n == "xl/workbook.xml") {
        Ok(DocumentKind::Xlsx)
    } else {
        Err(unsupported("the content is a zip archive, not a Word or Excel document".into()))
    }
}
