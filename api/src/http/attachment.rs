//! The `Content-Disposition` of a download: an ASCII `filename` every client understands, and the
//! exact name as `filename*` (RFC 6266, RFC 8187) for the clients that read it, which most do.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What stays literal in `filename*`: RFC 8187's attr-char beyond letters and digits.
const ATTR_CHAR: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="…"; filename*=UTF-8''…` for `name`.
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || " -_.()".contains(c) { c } else { '_' })
        .collect();
    let exact = utf8_percent_encode(name, ATTR_CHAR);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn a_plain_name_is_the_same_in_both_forms() {
        assert_eq!(
            content_disposition("brief.docx"),
            "attachment; filename=\"brief.docx\"; filename*=UTF-8''brief.docx"
        );
    }

    #[test]
    fn a_name_beyond_ascii_keeps_its_letters_in_the_extended_form() {
        assert_eq!(
            content_disposition("Ålesund \"brief\".pdf"),
            "attachment; filename=\"_lesund _brief_.pdf\"; filename*=UTF-8''%C3%85lesund%20%22brief%22.pdf"
        );
    }
}
