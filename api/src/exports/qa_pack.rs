//! The client Q&A pack (pipeline stage 4): the questions the agency sends the client to clarify an RFP brief, as xlsx and docx.
//!
//! Both writers put the questions in the order [`ordered`] gives them, so the
//! spreadsheet, the document and the question numbers always agree.

use std::io::Cursor;

use chrono::{DateTime, Utc};
use docx_rs::{Docx, LineSpacing, Paragraph, Run, Style, StyleType};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook};
use serde::{Deserialize, Serialize};

use super::{row_height, ExportError};

/// The category a question without one is filed under.
pub const GENERAL_CATEGORY: &str = "General";

/// How urgently the agency needs the answer: RED first, GREEN last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Red,
    Amber,
    Green,
}

impl Priority {
    /// The text shown in the exports: "RED", "AMBER" or "GREEN".
    pub fn label(self) -> &'static str {
        match self {
            Priority::Red => "RED",
            Priority::Amber => "AMBER",
            Priority::Green => "GREEN",
        }
    }

    /// The spreadsheet fill behind the priority cell.
    pub fn fill_rgb(self) -> u32 {
        match self {
            Priority::Red => 0xE0_66_66,
            Priority::Amber => 0xF6_B2_6B,
            Priority::Green => 0x93_C4_7D,
        }
    }

    /// A darker shade of the same colour, readable as text on white.
    fn text_hex(self) -> &'static str {
        match self {
            Priority::Red => "CC0000",
            Priority::Amber => "B45F06",
            Priority::Green => "38761D",
        }
    }
}

/// One clarification question for the client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaQuestion {
    /// The number in the pack; [`ordered`] assigns 1..n, whatever it was before.
    #[serde(default)]
    pub number: Option<usize>,
    pub category: String,
    pub question: String,
    /// Why the agency asks: shown to the client as "Why we ask".
    pub rationale: String,
    pub priority: Priority,
    /// The question's workflow status as the pipeline names it (e.g. "open", "answered").
    pub status: String,
    /// The client's answer, when one has been received already.
    #[serde(default)]
    pub client_answer: Option<String>,
}

/// What the pack is about and when it was produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QaPackMeta {
    pub opportunity_name: String,
    #[serde(default)]
    pub client_name: Option<String>,
    pub generated_at: DateTime<Utc>,
}

/// The questions in pack order, numbered 1..n.
///
/// Order: priority first (RED, AMBER, GREEN); within a priority, category
/// alphabetically (case-insensitively, then exactly); within a category, the
/// order the questions were given in (the sort is stable). A blank category is
/// filed under [`GENERAL_CATEGORY`] and categories are trimmed.
pub fn ordered(questions: &[QaQuestion]) -> Vec<QaQuestion> {
    let mut out: Vec<QaQuestion> = questions
        .iter()
        .cloned()
        .map(|mut q| {
            let trimmed = q.category.trim();
            q.category = if trimmed.is_empty() { GENERAL_CATEGORY.to_string() } else { trimmed.to_string() };
            q
        })
        .collect();
    out.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| a.category.to_lowercase().cmp(&b.category.to_lowercase()))
            .then_with(|| a.category.cmp(&b.category))
    });
    for (i, q) in out.iter_mut().enumerate() {
        q.number = Some(i + 1);
    }
    out
}

/// The spreadsheet's column headers, in order, with their widths (characters).
pub const XLSX_COLUMNS: [(&str, f64); 7] = [
    ("No.", 6.0),
    ("Priority", 10.0),
    ("Category", 20.0),
    ("Question", 60.0),
    ("Rationale", 45.0),
    ("Client answer", 55.0),
    ("Status", 14.0),
];

/// The zero-based row of the spreadsheet's header; questions follow it.
pub const XLSX_HEADER_ROW: u32 = 3;

fn number_of(q: &QaQuestion) -> usize {
    q.number.unwrap_or_default()
}

fn prepared_line(meta: &QaPackMeta) -> String {
    let date = meta.generated_at.format("%-d %B %Y");
    match meta.client_name.as_deref().map(str::trim) {
        Some(client) if !client.is_empty() => format!("Prepared for {client} on {date}"),
        _ => format!("Prepared on {date}"),
    }
}

/// The pack as a one-sheet workbook ("Q&A pack"): title rows, then a frozen,
/// filterable table with the client answer column left for the client to fill.
pub fn qa_pack_xlsx(meta: &QaPackMeta, questions: &[QaQuestion]) -> Result<Vec<u8>, ExportError> {
    let qs = ordered(questions);
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name("Q&A pack")?;

    let title = Format::new().set_bold().set_font_size(14);
    let header = Format::new()
        .set_bold()
        .set_text_wrap()
        .set_align(FormatAlign::Top)
        .set_border(FormatBorder::Thin)
        .set_background_color(Color::RGB(0xD9_D9_D9));
    let cell = Format::new().set_text_wrap().set_align(FormatAlign::Top).set_border(FormatBorder::Thin);
    let answer = cell.clone().set_background_color(Color::RGB(0xFF_F2_CC));

    sheet.write_string_with_format(0, 0, format!("Client Q&A pack: {}", meta.opportunity_name), &title)?;
    sheet.write_string(1, 0, prepared_line(meta))?;
    for (col, (name, width)) in XLSX_COLUMNS.iter().enumerate() {
        let col = col as u16;
        sheet.write_string_with_format(XLSX_HEADER_ROW, col, *name, &header)?;
        sheet.set_column_width(col, *width)?;
    }
    for (i, q) in qs.iter().enumerate() {
        let row = XLSX_HEADER_ROW + 1 + i as u32;
        let answer_text = q.client_answer.as_deref().unwrap_or("");
        let wrapped = [(2, q.category.as_str()), (3, &q.question), (4, &q.rationale), (5, answer_text)];
        sheet.set_row_height(row, row_height(wrapped.map(|(col, text)| (text, XLSX_COLUMNS[col].1))))?;
        let priority = cell
            .clone()
            .set_bold()
            .set_align(FormatAlign::Center)
            .set_background_color(Color::RGB(q.priority.fill_rgb()));
        sheet.write_number_with_format(row, 0, number_of(q) as f64, &cell)?;
        sheet.write_string_with_format(row, 1, q.priority.label(), &priority)?;
        sheet.write_string_with_format(row, 2, &q.category, &cell)?;
        sheet.write_string_with_format(row, 3, &q.question, &cell)?;
        sheet.write_string_with_format(row, 4, &q.rationale, &cell)?;
        match q.client_answer.as_deref() {
            Some(text) if !text.trim().is_empty() => sheet.write_string_with_format(row, 5, text, &answer)?,
            _ => sheet.write_blank(row, 5, &answer)?,
        };
        sheet.write_string_with_format(row, 6, &q.status, &cell)?;
    }
    sheet.set_freeze_panes(XLSX_HEADER_ROW + 1, 0)?;
    sheet.set_landscape().set_print_fit_to_pages(1, 0).set_repeat_rows(XLSX_HEADER_ROW, XLSX_HEADER_ROW)?;
    let last_col = (XLSX_COLUMNS.len() - 1) as u16;
    sheet.autofilter(XLSX_HEADER_ROW, 0, XLSX_HEADER_ROW + qs.len() as u32, last_col)?;
    Ok(workbook.save_to_buffer()?)
}

fn styles(doc: Docx) -> Docx {
    let heading = |id: &str, name: &str, size: usize, color: &str, level: usize| {
        Style::new(id, StyleType::Paragraph)
            .name(name)
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(size)
            .bold()
            .color(color)
            .outline_lvl(level)
            .line_spacing(LineSpacing::new().before(240).after(120))
    };
    doc.add_style(
        Style::new("Title", StyleType::Paragraph)
            .name("Title")
            .based_on("Normal")
            .next("Normal")
            .q_format(true)
            .size(40)
            .bold()
            .line_spacing(LineSpacing::new().after(200)),
    )
    .add_style(heading("Heading1", "heading 1", 32, "1F3864", 0))
    .add_style(heading("Heading2", "heading 2", 26, "2F5496", 1))
}

fn text(s: impl Into<String>) -> Run {
    Run::new().add_text(s)
}

fn intro(count: usize) -> String {
    if count == 0 {
        return "We have no open questions about the brief at this time.".to_string();
    }
    let noun = if count == 1 { "question" } else { "questions" };
    format!(
        "To scope our response to your brief accurately, we would be grateful for answers to \
         the {count} {noun} below. They are ordered by priority: RED questions are the most \
         urgent, then AMBER, then GREEN. Please write your answer beneath each question."
    )
}

/// The pack as a Word document: a title, an intro, then per priority a
/// Heading 1, per category within it a Heading 2, and per question its
/// number, priority, text, "Why we ask" and an answer (or an empty slot).
pub fn qa_pack_docx(meta: &QaPackMeta, questions: &[QaQuestion]) -> Result<Vec<u8>, ExportError> {
    let qs = ordered(questions);
    let mut doc = styles(Docx::new())
        .add_paragraph(
            Paragraph::new()
                .style("Title")
                .add_run(text(format!("Client Q&A pack: {}", meta.opportunity_name))),
        )
        .add_paragraph(Paragraph::new().add_run(text(prepared_line(meta)).italic()))
        .add_paragraph(Paragraph::new().add_run(text(intro(qs.len()))));

    let mut section: Option<(Priority, &str)> = None;
    for q in &qs {
        if section.map(|(p, _)| p) != Some(q.priority) {
            doc = doc.add_paragraph(
                Paragraph::new().style("Heading1").add_run(text(format!("{} priority", q.priority.label()))),
            );
        }
        if section != Some((q.priority, q.category.as_str())) {
            doc = doc.add_paragraph(Paragraph::new().style("Heading2").add_run(text(&q.category)));
        }
        section = Some((q.priority, q.category.as_str()));

        doc = doc.add_paragraph(
            Paragraph::new()
                .line_spacing(LineSpacing::new().before(160))
                .add_run(text(format!("Q{} ", number_of(q))).bold())
                .add_run(text(format!("[{}]", q.priority.label())).bold().color(q.priority.text_hex()))
                .add_run(text(format!(" {}", q.question))),
        );
        if !q.rationale.trim().is_empty() {
            doc = doc.add_paragraph(
                Paragraph::new()
                    .add_run(text("Why we ask: ").italic().bold())
                    .add_run(text(&q.rationale).italic()),
            );
        }
        let answer = Paragraph::new().add_run(text("Answer: ").bold());
        doc = match q.client_answer.as_deref() {
            Some(a) if !a.trim().is_empty() => doc.add_paragraph(answer.add_run(text(a))),
            _ => doc
                .add_paragraph(answer)
                .add_paragraph(Paragraph::new().add_run(text("_".repeat(60)).color("999999"))),
        };
    }

    let mut buf = Cursor::new(Vec::new());
    doc.pack(&mut buf).map_err(|e| ExportError::Docx(e.to_string()))?;
    Ok(buf.into_inner())
}
