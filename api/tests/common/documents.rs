//! Well-formed documents of each accepted kind, built in memory for upload tests.

use std::io::Cursor;

/// A .docx with one paragraph per entry.
pub fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let mut doc = docx_rs::Docx::new();
    for p in paragraphs {
        doc = doc.add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text(*p)));
    }
    let mut out = Cursor::new(Vec::new());
    doc.build().pack(&mut out).unwrap();
    out.into_inner()
}

/// A one-page PDF showing `text` in Helvetica.
pub fn pdf(text: &str) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{dictionary, Document, Object, Stream};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica", "Encoding" => "WinAnsiEncoding",
    });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let content = Content {
        operations: vec![
            Operation::new("BT", vec![]),
            Operation::new("Tf", vec!["F1".into(), 18.into()]),
            Operation::new("Td", vec![72.into(), 720.into()]),
            Operation::new("Tj", vec![Object::string_literal(text)]),
            Operation::new("ET", vec![]),
        ],
    };
    let content_id = doc.add_object(Stream::new(dictionary! {}, content.encode().unwrap()));
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id, "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    });
    let pages = dictionary! { "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1 };
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// `docx(paragraphs)` with `replacements` applied to the raw XML of its body, for markup a
/// document builder never writes (numeric character references, for one).
pub fn docx_with_raw_xml(paragraphs: &[&str], replacements: &[(&str, &str)]) -> Vec<u8> {
    use std::io::{Read, Write};
    let mut source = zip::ZipArchive::new(Cursor::new(docx(paragraphs))).unwrap();
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for i in 0..source.len() {
        let mut entry = source.by_index(i).unwrap();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if entry.name() == "word/document.xml" {
            let mut xml = String::from_utf8(bytes).unwrap();
            for (from, to) in replacements {
                assert!(xml.contains(from), "{from} is not in the body");
                xml = xml.replace(from, to);
            }
            bytes = xml.into_bytes();
        }
        out.start_file(entry.name(), zip::write::SimpleFileOptions::default()).unwrap();
        out.write_all(&bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}
