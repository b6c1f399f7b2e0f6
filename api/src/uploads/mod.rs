//! Uploaded documents: what they really are (by content, not name) and the text inside them.

pub mod multipart;
pub mod sniff;
pub mod text;

pub use sniff::{sniff, DocumentKind};
pub use text::{extract_text, MAX_TEXT_CHARS};
