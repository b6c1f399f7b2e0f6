//! Reads every document export back: xlsx with calamine, docx by unzipping its XML, markdown by structure.
//!
//! With OSOP_EXPORT_DIR set, the samples are also written there (scripts/check-exports.sh converts them with LibreOffice).

use std::io::{Cursor, Read};

use api::exports::pitch_markdown::{format_number, outline_markdown, quick_deck_markdown, QuickDeckInput};
use api::exports::qa_pack::{ordered, qa_pack_docx, qa_pack_xlsx, Priority, QaPackMeta, QaQuestion};
use api::exports::ratecard_xlsx::{ratecard_xlsx, RatecardLineIn};
use api::exports::ExportError;
use calamine::{open_workbook_from_rs, Data, Range, Reader, Xlsx};
use chrono::{TimeZone, Utc};
use quick_xml::events::Event;
use serde_json::json;

fn save(name: &str, bytes: &[u8]) {
    if let Ok(dir) = std::env::var("OSOP_EXPORT_DIR") {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(std::path::Path::new(&dir).join(name), bytes).unwrap();
    }
}

fn q(priority: Priority, category: &str, question: &str, answer: Option<&str>) -> QaQuestion {
    QaQuestion {
        number: None,
        category: category.into(),
        question: question.into(),
        rationale: format!("Because of {question}"),
        priority,
        status: if answer.is_some() { "answered" } else { "open" }.into(),
        client_answer: answer.map(Into::into),
    }
}

/// Given out of order; the comment is each question's place in the pack.
fn questions() -> Vec<QaQuestion> {
    use Priority::*;
    vec![
        q(Green, "Timeline", "Are there blackout dates?", None), // 6
        q(Red, "Scope", "How many markets & languages?", None),  // 2
        q(Amber, "Budget", "Is there a budget ceiling?", Some("Yes, 120k")), // 4
        q(Red, "Budget", "Who signs off the budget?", None),     // 1
        q(Red, "Scope", "Which formats are mandatory?", None),   // 3
        q(Amber, "", "Who are the stakeholders?", None),         // 5, filed under General
    ]
}

const EXPECTED_ORDER: [(&str, &str, &str); 6] = [
    ("RED", "Budget", "Who signs off the budget?"),
    ("RED", "Scope", "How many markets & languages?"),
    ("RED", "Scope", "Which formats are mandatory?"),
    ("AMBER", "Budget", "Is there a budget ceiling?"),
    ("AMBER", "General", "Who are the stakeholders?"),
    ("GREEN", "Timeline", "Are there blackout dates?"),
];

fn meta() -> QaPackMeta {
    QaPackMeta {
        opportunity_name: "Acme Spring Relaunch".into(),
        client_name: Some("Acme Corp".into()),
        generated_at: Utc.with_ymd_and_hms(2025, 3, 5, 9, 30, 0).unwrap(),
    }
}

fn sheet(bytes: &[u8], name: &str) -> Range<Data> {
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).unwrap();
    book.worksheet_range(name).unwrap()
}

fn text(r: &Range<Data>, row: u32, col: u32) -> String {
    match r.get_value((row, col)) {
        Some(Data::String(s)) => s.clone(),
        Some(Data::Empty) | None => String::new(),
        other => panic!("({row},{col}) is not text: {other:?}"),
    }
}

fn num(r: &Range<Data>, row: u32, col: u32) -> f64 {
    match r.get_value((row, col)) {
        Some(Data::Float(f)) => *f,
        Some(Data::Int(i)) => *i as f64,
        other => panic!("({row},{col}) is not a number: {other:?}"),
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn ordered_is_red_amber_green_then_category_then_given_order() {
    let out = ordered(&questions());
    let got: Vec<_> =
        out.iter().map(|q| (q.priority.label(), q.category.as_str(), q.question.as_str())).collect();
    assert_eq!(got, EXPECTED_ORDER);
    let numbers: Vec<_> = out.iter().map(|q| q.number).collect();
    assert_eq!(numbers, (1..=6).map(Some).collect::<Vec<_>>());
    let json = serde_json::to_value(&out[0]).unwrap();
    assert_eq!(json["priority"], "red");
    let back: QaQuestion = serde_json::from_value(json!({"category": "X", "question": "Q",
        "rationale": "R", "priority": "amber", "status": "open"}))
    .unwrap();
    assert_eq!((back.priority, back.number, back.client_answer), (Priority::Amber, None, None));
}

#[test]
fn qa_pack_xlsx_reads_back_in_priority_order() {
    let bytes = qa_pack_xlsx(&meta(), &questions()).unwrap();
    save("qa-pack.xlsx", &bytes);
    let r = sheet(&bytes, "Q&A pack");
    assert_eq!(text(&r, 0, 0), "Client Q&A pack: Acme Spring Relaunch");
    assert_eq!(text(&r, 1, 0), "Prepared for Acme Corp on 5 March 2025");
    let header: Vec<_> = (0..7).map(|c| text(&r, 3, c)).collect();
    assert_eq!(header, ["No.", "Priority", "Category", "Question", "Rationale", "Client answer", "Status"]);
    for (i, (priority, category, question)) in EXPECTED_ORDER.iter().enumerate() {
        let row = 4 + i as u32;
        assert_eq!(num(&r, row, 0), (i + 1) as f64);
        assert_eq!(text(&r, row, 1), *priority);
        assert_eq!(text(&r, row, 2), *category);
        assert_eq!(text(&r, row, 3), *question);
        assert_eq!(text(&r, row, 4), format!("Because of {question}"));
    }
    assert_eq!(text(&r, 7, 5), "Yes, 120k");
    assert_eq!(text(&r, 7, 6), "answered");
    assert_eq!(text(&r, 4, 5), "", "unanswered questions leave the answer blank");
    assert_eq!(text(&r, 10, 3), "", "nothing after the last question");

    let empty = qa_pack_xlsx(&meta(), &[]).unwrap();
    save("qa-pack-empty.xlsx", &empty);
    assert_eq!(text(&sheet(&empty, "Q&A pack"), 3, 3), "Question");
}

/// The paragraphs of a docx part: (style id, text) each.
fn paragraphs(xml: &str) -> Vec<(String, String)> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut out, mut in_text) = (Vec::new(), false);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == b"w:p" => out.push((String::new(), String::new())),
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"w:pStyle" => {
                let val = e.try_get_attribute("w:val").unwrap().unwrap();
                out.last_mut().unwrap().0 = String::from_utf8(val.value.to_vec()).unwrap();
            }
            Event::Start(e) if e.name().as_ref() == b"w:t" => in_text = true,
            Event::End(e) if e.name().as_ref() == b"w:t" => in_text = false,
            Event::Text(t) if in_text => out.last_mut().unwrap().1 += &t.decode().unwrap(),
            Event::GeneralRef(g) if in_text => {
                let name = g.decode().unwrap();
                let entity = quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string);
                let entity = entity.unwrap_or_else(|| g.resolve_char_ref().unwrap().unwrap().to_string());
                out.last_mut().unwrap().1 += &entity;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn docx_part(bytes: &[u8], name: &str) -> String {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name(name).unwrap().read_to_string(&mut xml).unwrap();
    xml
}

#[test]
fn qa_pack_docx_has_its_styles_headings_and_questions_in_order() {
    let bytes = qa_pack_docx(&meta(), &questions()).unwrap();
    save("qa-pack.docx", &bytes);
    let styles = docx_part(&bytes, "word/styles.xml");
    for id in ["Heading1", "Heading2", "Title"] {
        assert!(styles.contains(&format!("w:styleId=\"{id}\"")), "styles.xml lacks {id}");
    }
    let paras = paragraphs(&docx_part(&bytes, "word/document.xml"));
    let styled = |style: &str| -> Vec<String> {
        paras.iter().filter(|(s, _)| s == style).map(|(_, t)| t.clone()).collect()
    };
    assert_eq!(styled("Title"), ["Client Q&A pack: Acme Spring Relaunch"]);
    assert_eq!(styled("Heading1"), ["RED priority", "AMBER priority", "GREEN priority"]);
    assert_eq!(styled("Heading2"), ["Budget", "Scope", "Budget", "General", "Timeline"]);
    let texts: Vec<&str> = paras.iter().map(|(_, t)| t.as_str()).collect();
    assert!(texts.contains(&"Prepared for Acme Corp on 5 March 2025"));
    assert!(texts.iter().any(|t| t.contains("the 6 questions below")));

    let asked: Vec<&str> = texts.iter().copied().filter(|t| t.starts_with('Q')).collect();
    let expected: Vec<String> = EXPECTED_ORDER
        .iter()
        .enumerate()
        .map(|(i, (p, _, question))| format!("Q{} [{p}] {question}", i + 1))
        .collect();
    assert_eq!(asked, expected);
    for (_, _, question) in EXPECTED_ORDER {
        let at = texts.iter().position(|t| t.ends_with(question)).unwrap();
        assert_eq!(texts[at + 1], format!("Why we ask: Because of {question}"));
        assert!(texts[at + 2].starts_with("Answer:"));
    }
    assert!(texts.contains(&"Answer: Yes, 120k"));
    let slots = texts.iter().filter(|t| t.starts_with("____")).count();
    assert_eq!(slots, 5, "one answer slot per unanswered question");

    let empty = qa_pack_docx(&meta(), &[]).unwrap();
    save("qa-pack-empty.docx", &empty);
    let paras = paragraphs(&docx_part(&empty, "word/document.xml"));
    assert!(paras.iter().any(|(_, t)| t.contains("no open questions")));
}

fn line(asset: &str, volume: u32, role: &str, location: &str, base_hours: f64) -> RatecardLineIn {
    RatecardLineIn {
        asset_name: asset.into(),
        client_tier: Some("Tier 1".into()),
        catalog_id: format!("CAT-{}", asset.len()),
        role: role.into(),
        role_location: location.into(),
        base_hours,
        volume,
    }
}

fn ratecard_lines() -> Vec<RatecardLineIn> {
    vec![
        line("Banner", 10, "Designer", "London", 2.0),
        line("Banner", 10, "Copywriter", "", 1.0),
        line("Video", 3, "Designer", "London", 5.0),
        line("Video", 3, "Editor", "Manila", 8.0),
        line("Banner", 10, "Designer", "London", 0.5), // same cell: summed
        line("Banner", 4, "Copywriter", "", 1.5),      // another volume: own row
    ]
}

#[test]
fn ratecard_matrix_is_per_asset_and_totals_multiply_by_volume() {
    let lines = ratecard_lines();
    let bytes = ratecard_xlsx("Acme rate card", &lines).unwrap();
    save("ratecard.xlsx", &bytes);
    let r = sheet(&bytes, "Rate card");
    assert_eq!(text(&r, 0, 0), "Acme rate card");
    let header = (0..9).map(|c| text(&r, 3, c)).collect::<Vec<_>>().join("|");
    let roles = "Designer (London)|Copywriter|Editor (Manila)";
    assert_eq!(header, format!("Asset|Tier|Catalog ID|Volume|{roles}|Hours per asset|Total hours"));
    // (asset, volume, hours per ONE asset by role; 0 = blank)
    let rows = [
        ("Banner", 10.0, [2.5, 1.0, 0.0]),
        ("Video", 3.0, [5.0, 0.0, 8.0]),
        ("Banner", 4.0, [0.0, 1.5, 0.0]),
    ];
    for (i, (asset, volume, hours)) in rows.iter().enumerate() {
        let row = 4 + i as u32;
        assert_eq!(text(&r, row, 0), *asset);
        assert_eq!(text(&r, row, 1), "Tier 1");
        assert_eq!(num(&r, row, 3), *volume);
        for (c, h) in hours.iter().enumerate() {
            let col = 4 + c as u32;
            if *h == 0.0 {
                assert_eq!(text(&r, row, col), "", "a role with no work is blank");
            } else {
                assert!(close(num(&r, row, col), *h), "role cells are per ONE asset");
            }
        }
        let per_asset: f64 = hours.iter().sum();
        assert!(close(num(&r, row, 7), per_asset));
        assert!(close(num(&r, row, 8), per_asset * volume), "total = per asset × volume");
    }
    // The invariant, stated directly: Banner ×10 with 2.5 designer hours each.
    assert!(close(num(&r, 4, 4), 2.5) && close(num(&r, 4, 8), 35.0));
    let totals = 7;
    assert_eq!(text(&r, totals, 0), "Total");
    assert!(close(num(&r, totals, 3), 17.0));
    for (c, expected) in [25.0 + 15.0, 10.0 + 6.0, 24.0].iter().enumerate() {
        assert!(close(num(&r, totals, 4 + c as u32), *expected), "role total column {c}");
    }
    let from_lines: f64 = lines.iter().map(|l| l.base_hours * f64::from(l.volume)).sum();
    assert!(close(from_lines, 80.0));
    assert!(close(num(&r, totals, 8), from_lines));

    let l = sheet(&bytes, "Lines");
    assert_eq!(text(&l, 0, 5), "Base hours (per asset)");
    for (i, line) in lines.iter().enumerate() {
        let row = 1 + i as u32;
        assert_eq!(text(&l, row, 0), line.asset_name);
        assert_eq!(text(&l, row, 3), line.role);
        assert_eq!(text(&l, row, 4), line.role_location);
        assert!(close(num(&l, row, 5), line.base_hours));
        assert_eq!(num(&l, row, 6), f64::from(line.volume));
        assert!(close(num(&l, row, 7), line.base_hours * f64::from(line.volume)));
    }
    assert_eq!(text(&l, 7, 0), "Total");
    assert!(close(num(&l, 7, 7), from_lines));
}

#[test]
fn ratecard_refuses_bad_hours_and_handles_no_lines() {
    let mut lines = ratecard_lines();
    lines[2].base_hours = -1.0;
    match ratecard_xlsx("x", &lines) {
        Err(ExportError::Invalid { field, .. }) => assert_eq!(field, "lines[2].base_hours"),
        other => panic!("expected Invalid, got {other:?}"),
    }
    lines[2].base_hours = f64::NAN;
    assert!(ratecard_xlsx("x", &lines).is_err());

    let bytes = ratecard_xlsx("Empty", &[]).unwrap();
    save("ratecard-empty.xlsx", &bytes);
    let r = sheet(&bytes, "Rate card");
    assert_eq!(text(&r, 4, 0), "Total");
    assert_eq!(num(&r, 4, 5), 0.0);
}

/// Filled from JSON, the way the API layer will fill it.
fn full_deck() -> QuickDeckInput {
    serde_json::from_value(json!({
        "opportunity_name": "Acme Spring Relaunch", "client_name": "Acme Corp", "region": "EMEA",
        "brands": ["Acme", "Acme Kids"], "service_types": ["Design", "Video"],
        "deadline": "2025-04-01", "go_live": "2025-06-15",
        "description": "Relaunch of the spring range across markets.",
        "qualification": {"total_score": 42, "percentage": 84.0, "recommendation": "Go"},
        "assets": [{"name": "Banner | static", "volume": 1200}, {"name": "Video", "volume": 3}],
        "total_hours": 1234.5, "fte_total": 2.75, "efficiency_pct": 12.345,
        "team": [{"role": "Designer", "fte": 1.5}, {"role": "Editor", "fte": 1.25}],
        "open_clarifications": 3, "deal_status": "qualified"
    }))
    .unwrap()
}

#[test]
fn quick_deck_has_every_slide_when_the_data_is_there() {
    let md = quick_deck_markdown(&full_deck());
    save("quick-deck.md", md.as_bytes());
    let slides: Vec<&str> = md.split("\n\n---\n\n").collect();
    let titles: Vec<&str> = slides.iter().map(|s| s.lines().next().unwrap()).collect();
    assert_eq!(
        titles,
        ["# Acme Spring Relaunch", "## Context", "## Scope", "## Team", "## Commercials", "## Next steps"]
    );
    assert!(slides[0].contains("## Acme Corp") && slides[0].contains("*EMEA*"));
    assert!(slides[1].contains("Relaunch of the spring range"));
    assert!(slides[1].contains("- **Brands:** Acme, Acme Kids"));
    assert!(slides[1].contains("- **Response deadline:** 1 April 2025"));
    assert!(slides[1].contains("- **Go-live:** 15 June 2025"));
    assert!(slides[1].contains("42 points (84%), recommendation: Go"));
    assert!(slides[2].contains("| Banner \\| static | 1,200 |"));
    assert!(slides[2].ends_with("| **Total** | **1,203** |"));
    assert!(slides[3].ends_with("| **Total** | **2.75** |"));
    assert!(slides[4].contains("**Total effort:** 1,234.5 hours"));
    assert!(slides[4].contains("**Team size:** 2.75 FTE"));
    assert!(slides[4].contains("**Efficiency:** 12.3%"));
    assert!(slides[5].contains("Resolve the 3 open clarifications"));
    assert!(slides[5].contains("Submit the response by 1 April 2025"));
    assert!(slides[5].contains("**qualified**"));
}

#[test]
fn quick_deck_leaves_out_slides_without_data() {
    let bare = QuickDeckInput { opportunity_name: "Bare".into(), ..Default::default() };
    assert_eq!(quick_deck_markdown(&bare), "# Bare\n");

    let some = QuickDeckInput {
        opportunity_name: "Some".into(),
        total_hours: Some(80.0),
        deal_status: "open".into(),
        ..Default::default()
    };
    let expected = "# Some\n\n---\n\n## Commercials\n\n- **Total effort:** 80 hours\n\n---\n\n\
                    ## Next steps\n\n- Current deal status: **open**\n";
    assert_eq!(quick_deck_markdown(&some), expected);
}

#[test]
fn numbers_are_formatted_for_people() {
    let cases = [
        (1234.5, 1, "1,234.5"),
        (1_000_000.0, 2, "1,000,000"),
        (0.25, 2, "0.25"),
        (2.0, 2, "2"),
        (-1234.56, 1, "-1,234.6"),
        (-0.01, 1, "0"),
        (999.96, 1, "1,000"),
    ];
    for (v, d, s) in cases {
        assert_eq!(format_number(v, d), s, "{v} to {d} decimals");
    }
}

#[test]
fn outline_renders_slides_notes_callouts_and_appendix() {
    let outline = json!({
        "headline": "Acme, relaunched",
        "deck_summary": "Why we are the right partner.",
        "slides": [
            {"section": "Opening", "title": "The brief", "key_points": ["Ten markets", "Tight timeline"],
             "speaker_notes": "Open warmly.\nThen pause.", "data_callout": "1,203 assets"},
            {"section": "Approach", "key_points": []},
        ],
        "appendix": ["Case studies", {"title": "Rates", "key_points": ["Blended"]}]
    });
    let md = outline_markdown(&outline).unwrap();
    save("outline.md", md.as_bytes());
    let expected = "# Acme, relaunched\n\nWhy we are the right partner.\n\n\
        ## 1. The brief\n\n*Section: Opening*\n\n- Ten markets\n- Tight timeline\n\n\
        **1,203 assets**\n\n> Open warmly.\n> Then pause.\n\n\
        ## 2. Approach\n\n*Section: Approach*\n\n\
        ## Appendix\n\n- Case studies\n- **Rates**: Blended\n";
    assert_eq!(md, expected);
}

#[test]
fn outline_errors_name_the_missing_field() {
    let field = |v: serde_json::Value| match outline_markdown(&v) {
        Err(ExportError::Invalid { field, .. }) => field,
        other => panic!("expected Invalid, got {other:?}"),
    };
    assert_eq!(field(json!({"slides": []})), "headline");
    assert_eq!(field(json!({"headline": "  ", "slides": []})), "headline");
    assert_eq!(field(json!({"headline": "H"})), "slides");
    assert_eq!(field(json!({"headline": "H", "slides": "one"})), "slides");
    assert_eq!(field(json!({"headline": "H", "slides": [{}, 3]})), "slides[1]");
    let err = outline_markdown(&json!({"headline": "H"})).unwrap_err();
    assert!(err.to_string().contains("slides"), "{err}");
    assert_eq!(outline_markdown(&json!({"headline": "H", "slides": []})).unwrap(), "# H\n");
}
