//! Pulls the readable text out of an accepted document, for the agents to read.

use std::io::{Cursor, Read};

use calamine::{Reader, Xlsx};
use quick_xml::events::Event;

use super::sniff::{DocumentKind, MAX_UNZIPPED_BYTES};
use crate::error::ApiError;

/// Text kept per file (the agents' context budget).
pub const MAX_TEXT_CHARS: usize = 150_000;

fn unreadable(message: String) -> ApiError {
    ApiError::invalid("file", message)
}

/// Extracts text, capped at `MAX_TEXT_CHARS`. CPU-heavy: call from a blocking task.
pub fn extract_text(kind: DocumentKind, bytes: &[u8]) -> Result<String, ApiError> {
    let text = match kind {
        DocumentKind::Text | DocumentKind::Markdown => {
            let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            String::from_utf8_lossy(body).into_owned()
        }
        DocumentKind::Docx => guarded("Word document", || docx_text(bytes))?,
        DocumentKind::Xlsx => guarded("workbook", || xlsx_text(bytes))?,
        DocumentKind::Pdf => guarded("PDF", || pdf_text(bytes))?,
    };
    // PostgreSQL keeps no NUL in text, and the other C0 controls (but tab, line feed and carriage
    // return) are noise to the agents: dropped, so such a file is kept with clean text.
    Ok(cap(domain::limits::strip_forbidden(&text).into_owned()))
}

/// Runs a parser over hostile bytes: the parsers panic on some malformed files, and such a file is
/// the client's problem (a 422), not a crash of the worker thread (a 500).
fn guarded(what: &str, parse: impl FnOnce() -> Result<String, ApiError>) -> Result<String, ApiError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
        .unwrap_or_else(|_| Err(unreadable(format!("the {what} is malformed and its text cannot be read"))))
}

fn cap(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => text[..cut].to_string(),
        None => text,
    }
}

fn docx_text(bytes: &[u8]) -> Result<String, ApiError> {
    let mut zip =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| unreadable(format!("unreadable docx: {e}")))?;
    let mut xml = String::new();
    zip.by_name("word/document.xml")
        .map_err(|e| unreadable(format!("the docx has no document body: {e}")))?
        .take(MAX_UNZIPPED_BYTES)
        .read_to_string(&mut xml)
        .map_err(|e| unreadable(format!("the docx body is not readable XML: {e}")))?;
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut out = String::new();
    let mut in_text = false;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) if e.name().as_ref() == b"w:t" => in_text = true,
            Ok(Event::End(e)) if e.name().as_ref() == b"w:t" => in_text = false,
            Ok(Event::End(e)) if e.name().as_ref() == b"w:p" => out.push('\n'),
            Ok(Event::Empty(e)) if matches!(e.name().as_ref(), b"w:tab") => out.push('\t'),
            Ok(Event::Empty(e)) if matches!(e.name().as_ref(), b"w:br") => out.push('\n'),
            Ok(Event::Text(t)) if in_text => {
                let raw = t.decode().map_err(|e| unreadable(format!("the docx text is not valid: {e}")))?;
                out.push_str(&raw);
            }
            // quick-xml reports `&amp;`, `&#38;` and the like apart from the text around them.
            Ok(Event::GeneralRef(r)) if in_text => {
                if let Ok(Some(c)) = r.resolve_char_ref() {
                    out.push(c);
                } else {
                    let name =
                        r.decode().map_err(|e| unreadable(format!("the docx text is not valid: {e}")))?;
                    match quick_xml::escape::resolve_predefined_entity(&name) {
                        Some(text) => out.push_str(text),
                        // An entity XML does not define: keep it as written rather than lose it.
                        None => out.push_str(&format!("&{name};")),
                    }
                }
            }
            Ok(Event::Eof) => break,
            Err(e) => return Err(unreadable(format!("the docx body is not valid XML: {e}"))),
            _ => {}
        }
        if out.len() > MAX_TEXT_CHARS * 4 {
            break;
        }
    }
    Ok(out)
}

fn xlsx_text(bytes: &[u8]) -> Result<String, ApiError> {
    let mut book: Xlsx<_> =
        Xlsx::new(Cursor::new(bytes)).map_err(|e| unreadable(format!("unreadable xlsx: {e}")))?;
    let mut out = String::new();
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| unreadable(format!("sheet {name:?}: {e}")))?;
        out.push_str(&format!("## {name}\n"));
        for row in range.rows() {
            let cells: Vec<String> = row.iter().map(|c| c.to_string()).collect();
            if cells.iter().any(|c| !c.is_empty()) {
                out.push_str(&cells.join("\t"));
                out.push('\n');
            }
        }
        if out.len() > MAX_TEXT_CHARS * 4 {
            break;
        }
    }
    Ok(out)
}

fn pdf_text(bytes: &[u8]) -> Result<String, ApiError> {
    let text = pdf_extract::extract_text_from_mem(bytes)
        .map_err(|e| unreadable(format!("the PDF's text cannot be read: {e}")))?;
    // The parser skips what it cannot decode, so a damaged file can come out as nothing at all;
    // the agents only read text, so a PDF without any is refused rather than kept as a blank.
    if text.trim().is_empty() {
        return Err(unreadable(
            "no text can be read from the PDF: it is damaged, or a scan without a text layer".into(),
        ));
    }
    Ok(text)
}
