//! Reads a catalog of hour routes ("GMAL") from the customer's sheet shape, and ships the default one.
//!
//! The sheet has one row per (catalog id, model type): descriptive columns, then repeated
//! `role_N`, `role_N_location`, `role_N_hours` triplets. Every problem is reported with the row and
//! column the user sees, all at once, so a sheet can be fixed in one pass.

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;

use crate::catalog::{CatalogEntry, RoleHours};
use crate::limits;
use crate::roles::{self, RoleLocation};

/// The illustrative catalog OSOP ships with until a customer imports their own.
pub const DEFAULT_CATALOG_CSV: &str = include_str!("../data/default_catalog.csv");

/// Role triplets looked for: `role_1` … `role_30`.
const MAX_TRIPLETS: usize = 30;
const FIELDS: [&str; 11] = [
    "catalog_id",
    "category",
    "sub_category",
    "sub_category_description",
    "asset_name",
    "complexity",
    "asset_description",
    "complexity_description",
    "agency_caveats",
    "total_asset_hours",
    "model_type",
];
const REQUIRED: [&str; 4] = ["catalog_id", "category", "asset_name", "complexity"];
/// The longest each text column may be (see `limits`).
const TEXT_LIMITS: [(&str, usize); 10] = [
    ("catalog_id", limits::LABEL),
    ("category", limits::LABEL),
    ("sub_category", limits::LABEL),
    ("sub_category_description", limits::REASONING),
    ("asset_name", limits::ASSET_NAME),
    ("complexity", limits::LABEL),
    ("asset_description", limits::REASONING),
    ("complexity_description", limits::REASONING),
    ("agency_caveats", limits::REASONING),
    ("model_type", limits::MODEL_TYPE),
];
const DEFAULT_MODEL_TYPE: &str = "standard";
const TOLERANCE: f64 = 0.01 + 1e-9;

/// One problem in a sheet: `row` is 1-based as the user sees it (the header is row 1 when first).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

impl RowError {
    fn new(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { row, field: field.into(), message: message.into() }
    }
}

impl fmt::Display for RowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "row {}, {}: {}", self.row, self.field, self.message)
    }
}

/// The shipped default catalog; panics only if the shipped file is invalid (a test guards it).
pub fn default_catalog() -> Vec<CatalogEntry> {
    parse_csv(DEFAULT_CATALOG_CSV).unwrap_or_else(|errors| {
        let listed: Vec<String> = errors.iter().map(ToString::to_string).collect();
        panic!("the shipped default catalog is invalid: {}", listed.join("; "))
    })
}

/// Parses CSV text (a leading BOM, ragged rows and padded cells tolerated), then [`parse_rows`].
/// Blank lines count as rows and quoted line breaks do not, so row numbers match a spreadsheet's.
pub fn parse_csv(text: &str) -> Result<Vec<CatalogEntry>, Vec<RowError>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut rows: Vec<Vec<String>> = Vec::new();
    // Start of the previous record and the line breaks inside its quoted cells.
    let mut previous: Option<(usize, usize)> = None;
    for record in reader.records() {
        let record = record.map_err(|e| vec![RowError::new(rows.len() + 1, "", e.to_string())])?;
        let reported = record.position().map_or(0, |p| p.byte() as usize);
        // The reader reports a record from where the previous one stopped: skip the blank lines.
        let start = text
            .get(reported..)
            .unwrap_or("")
            .find(|c| c != '\r' && c != '\n')
            .map_or(text.len(), |i| reported + i);
        let blanks = match previous {
            None => line_breaks(&text[..start]),
            Some((from, inside)) => line_breaks(&text[from..start]).saturating_sub(inside + 1),
        };
        rows.extend(std::iter::repeat_with(Vec::new).take(blanks));
        previous = Some((start, record.iter().map(line_breaks).sum()));
        rows.push(record.iter().map(|cell| cell.trim().to_owned()).collect());
    }
    parse_rows(&rows)
}

/// Line breaks in `s`, counting "\r\n", a lone "\r" and a lone "\n" as one each.
fn line_breaks(s: &str) -> usize {
    s.matches('\n').count() + s.matches('\r').count() - s.matches("\r\n").count()
}

/// Parses a sheet given as rows of cells. The first row that is neither blank nor a comment (first
/// cell starting with `#`) is the header; columns are found by name, ignoring case and treating
/// spaces, dashes and underscores alike. Sheet-level errors have an empty `field`.
pub fn parse_rows(rows: &[Vec<String>]) -> Result<Vec<CatalogEntry>, Vec<RowError>> {
    let mut lines = rows.iter().enumerate().map(|(i, cells)| (i + 1, cells)).filter(|(_, c)| !skipped(c));
    let Some((header_row, header)) = lines.next() else {
        return Err(vec![RowError::new(1, "", "the sheet is empty: expected a header row and data rows")]);
    };
    let columns = Columns::find(header_row, header)?;
    let mut catalog = Catalog::default();
    for (row, cells) in lines {
        catalog.add(row, columns.read(row, cells));
    }
    catalog.finish(header_row)
}

fn skipped(cells: &[String]) -> bool {
    cells.first().is_some_and(|c| c.trim_start().starts_with('#'))
        || cells.iter().all(|c| c.trim().is_empty())
}

/// "Role 1 Location", "ROLE_1_LOCATION" and "Role1Location" all become "role_1_location".
fn normalise(name: &str) -> String {
    let mut out = String::new();
    for c in name.trim_start_matches('\u{feff}').chars().map(|c| c.to_ascii_lowercase()) {
        let last = out.chars().last();
        if !c.is_ascii_alphanumeric() {
            if last.is_some_and(|l| l != '_') {
                out.push('_');
            }
            continue;
        }
        if last.is_some_and(|l| l != '_' && l.is_ascii_digit() != c.is_ascii_digit()) {
            out.push('_');
        }
        out.push(c);
    }
    out.trim_end_matches('_').to_owned()
}

/// A numeric cell: finite and not negative.
fn number(cell: &str) -> Result<f64, String> {
    match cell.parse::<f64>() {
        Err(_) => Err(format!("\"{cell}\" is not a number")),
        Ok(x) if !x.is_finite() => Err(format!("\"{cell}\" is not a finite number")),
        Ok(x) if x < 0.0 => Err(format!("{cell} is negative")),
        Ok(x) => Ok(x),
    }
}

struct Triplet {
    n: usize,
    role: usize,
    location: Option<usize>,
    hours: usize,
}

/// Where each known column sits in the sheet.
struct Columns {
    fields: HashMap<&'static str, usize>,
    triplets: Vec<Triplet>,
}

impl Columns {
    fn find(row: usize, header: &[String]) -> Result<Self, Vec<RowError>> {
        let mut index: HashMap<String, usize> = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            index.entry(normalise(name)).or_insert(i);
        }
        let fields = FIELDS.iter().filter_map(|&f| index.get(f).map(|&i| (f, i))).collect();
        let mut errors: Vec<RowError> = REQUIRED
            .iter()
            .filter(|&&f| !index.contains_key(f))
            .map(|&f| RowError::new(row, f, "missing column"))
            .collect();
        let mut triplets = Vec::new();
        for n in 1..=MAX_TRIPLETS {
            let column = |suffix: &str| index.get(&format!("role_{n}{suffix}")).copied();
            let (role, location, hours) = (column(""), column("_location"), column("_hours"));
            match (role, hours) {
                (Some(role), Some(hours)) => triplets.push(Triplet { n, role, location, hours }),
                (Some(_), None) => {
                    errors.push(RowError::new(row, format!("role_{n}_hours"), "missing column"))
                }
                (None, _) if hours.or(location).is_some() => {
                    errors.push(RowError::new(row, format!("role_{n}"), "missing column"))
                }
                _ => {}
            }
        }
        if triplets.is_empty() && !errors.iter().any(|e| e.field.starts_with("role_")) {
            let message = "no role columns: expected role_N, role_N_location and role_N_hours";
            errors.push(RowError::new(row, "role_1", message));
        }
        if errors.is_empty() {
            Ok(Self { fields, triplets })
        } else {
            Err(errors)
        }
    }

    fn text(&self, cells: &[String], field: &str) -> String {
        self.fields.get(field).and_then(|&i| cells.get(i)).map_or("", |c| c.trim()).to_owned()
    }

    /// One data row as an entry holding that row's model type only.
    fn read(&self, row: usize, cells: &[String]) -> Result<(String, CatalogEntry), Vec<RowError>> {
        let optional = |field: &str| Some(self.text(cells, field)).filter(|s| !s.is_empty());
        let mut errors: Vec<RowError> = REQUIRED
            .iter()
            .filter(|&&f| self.text(cells, f).is_empty())
            .map(|&f| RowError::new(row, f, "is required"))
            .collect();
        for (field, max) in TEXT_LIMITS {
            if let Err(e) = limits::text(field, &self.text(cells, field), max) {
                errors.push(RowError::new(row, field, e.to_string()));
            }
        }
        let (mut roles, mut filled, mut sum, mut hours_ok) = (Vec::new(), 0, 0.0, true);
        for t in &self.triplets {
            let at = |i: Option<usize>| i.and_then(|i| cells.get(i)).map_or("", |c| c.trim());
            let (name, place, hours) = (at(Some(t.role)), at(t.location), at(Some(t.hours)));
            // Unused triplets may be blank or hold a zero (sheets filled by formula).
            if name.is_empty() && place.is_empty() && (hours.is_empty() || number(hours) == Ok(0.0)) {
                continue;
            }
            filled += 1;
            let mut fail = |suffix: &str, message: String| {
                errors.push(RowError::new(row, format!("role_{}{suffix}", t.n), message));
            };
            let role = roles::role(name).map(|(canonical, _)| canonical);
            if name.is_empty() {
                fail("", format!("{} without a role", if hours.is_empty() { "a location" } else { "hours" }));
            } else if role.is_none() {
                fail("", format!("unknown role \"{name}\""));
            }
            let location =
                if place.is_empty() { Some(RoleLocation::default()) } else { RoleLocation::parse(place) };
            if location.is_none() {
                fail("_location", format!("unknown location \"{place}\" (onshore, nearshore or offshore)"));
            }
            let hours = match number(hours) {
                Ok(h) if h > limits::MAX_ROLE_HOURS => {
                    fail("_hours", format!("{h} is more than {} hours", limits::MAX_ROLE_HOURS));
                    None
                }
                Ok(h) => Some(h),
                Err(message) => {
                    if !hours.is_empty() {
                        fail("_hours", message);
                    } else if !name.is_empty() {
                        fail("_hours", format!("no hours for \"{name}\""));
                    }
                    None
                }
            };
            hours_ok &= hours.is_some() && !name.is_empty();
            sum += hours.unwrap_or(0.0);
            if let (Some(role), Some(location), Some(hours)) = (role, location, hours) {
                if hours > 0.0 {
                    roles.push(RoleHours { role: role.to_owned(), location, hours });
                }
            }
        }
        if filled == 0 {
            errors.push(RowError::new(row, "role_1", "no role hours given"));
        }
        match optional("total_asset_hours").map(|t| number(&t)) {
            Some(Err(message)) => errors.push(RowError::new(row, "total_asset_hours", message)),
            Some(Ok(total)) if hours_ok && (total - sum).abs() > TOLERANCE => {
                let message = format!("{total} does not match the sum of the role hours, {sum:.2}");
                errors.push(RowError::new(row, "total_asset_hours", message));
            }
            _ => {}
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let model_type = optional("model_type").map_or(DEFAULT_MODEL_TYPE.to_owned(), |m| m.to_lowercase());
        let entry = CatalogEntry {
            catalog_id: self.text(cells, "catalog_id"),
            category: self.text(cells, "category"),
            sub_category: self.text(cells, "sub_category"),
            sub_category_description: optional("sub_category_description"),
            asset_name: self.text(cells, "asset_name"),
            complexity: self.text(cells, "complexity"),
            asset_description: self.text(cells, "asset_description"),
            complexity_description: optional("complexity_description"),
            agency_caveats: optional("agency_caveats"),
            hours: BTreeMap::from([(model_type.clone(), roles)]),
        };
        Ok((model_type, entry))
    }
}

/// Entries gathered so far, merging the model types of one catalog id.
#[derive(Default)]
struct Catalog {
    entries: BTreeMap<String, (usize, CatalogEntry)>,
    seen: HashMap<(String, String), usize>,
    errors: Vec<RowError>,
    data_rows: usize,
}

impl Catalog {
    fn add(&mut self, row: usize, parsed: Result<(String, CatalogEntry), Vec<RowError>>) {
        self.data_rows += 1;
        let (model_type, entry) = match parsed {
            Ok(parsed) => parsed,
            Err(errors) => return self.errors.extend(errors),
        };
        let id = entry.catalog_id.clone();
        if let Some(&first) = self.seen.get(&(id.clone(), model_type.clone())) {
            let message = format!("duplicate of row {first}: {id} already has model type \"{model_type}\"");
            return self.errors.push(RowError::new(row, "catalog_id", message));
        }
        self.seen.insert((id.clone(), model_type), row);
        let Some((first, existing)) = self.entries.get_mut(&id) else {
            self.entries.insert(id, (row, entry));
            return;
        };
        let mut consistent = true;
        for (field, was, now) in [
            ("category", &existing.category, &entry.category),
            ("asset_name", &existing.asset_name, &entry.asset_name),
        ] {
            if was != now {
                let message = format!("\"{now}\" differs from \"{was}\" on row {first} for {id}");
                self.errors.push(RowError::new(row, field, message));
                consistent = false;
            }
        }
        if consistent {
            existing.hours.extend(entry.hours);
        }
    }

    fn finish(mut self, header_row: usize) -> Result<Vec<CatalogEntry>, Vec<RowError>> {
        if self.data_rows == 0 {
            self.errors.push(RowError::new(header_row + 1, "", "the sheet has no data rows"));
        }
        if self.errors.is_empty() {
            Ok(self.entries.into_values().map(|(_, entry)| entry).collect())
        } else {
            Err(self.errors)
        }
    }
}
