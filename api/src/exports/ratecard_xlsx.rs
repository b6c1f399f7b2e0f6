//! The rate card workbook: an asset × role matrix of hours ("Rate card") and the flat lines it is built from ("Lines").
//!
//! Invariant: a line's `base_hours` are the hours for ONE asset. Every total
//! here multiplies by the volume itself; nothing upstream may pre-multiply.

use rust_xlsxwriter::utility::{cell_range, row_col_to_cell};
use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Formula, Workbook, Worksheet};
use serde::{Deserialize, Serialize};

use super::{row_height, ExportError};

/// One estimate line: how many hours one role spends on ONE asset, and how many assets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatecardLineIn {
    pub asset_name: String,
    #[serde(default)]
    pub client_tier: Option<String>,
    pub catalog_id: String,
    pub role: String,
    pub role_location: String,
    /// Hours for ONE asset, never pre-multiplied by the volume.
    pub base_hours: f64,
    pub volume: u32,
}

/// A matrix column: a role at a location.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleColumn {
    pub role: String,
    pub location: String,
}

impl RoleColumn {
    /// "Role (Location)", or just the role when the location is blank.
    pub fn header(&self) -> String {
        if self.location.trim().is_empty() {
            self.role.clone()
        } else {
            format!("{} ({})", self.role, self.location)
        }
    }
}

/// A matrix row: one asset at one volume, with its hours per role for ONE asset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AssetRow {
    pub asset_name: String,
    pub client_tier: Option<String>,
    pub catalog_id: String,
    pub volume: u32,
    /// Aligned with [`RatecardMatrix::roles`]; `None` where the role does no work on this asset.
    pub hours_by_role: Vec<Option<f64>>,
}

impl AssetRow {
    /// Hours for ONE asset, all roles together.
    pub fn hours_per_asset(&self) -> f64 {
        self.hours_by_role.iter().flatten().sum()
    }

    /// Hours for all `volume` assets.
    pub fn total_hours(&self) -> f64 {
        self.hours_per_asset() * f64::from(self.volume)
    }
}

/// The asset × role matrix the "Rate card" sheet shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatecardMatrix {
    /// In order of first appearance in the lines.
    pub roles: Vec<RoleColumn>,
    /// In order of first appearance in the lines.
    pub assets: Vec<AssetRow>,
}

impl RatecardMatrix {
    /// Per role: its hours per asset × volume, summed over the assets.
    pub fn role_totals(&self) -> Vec<f64> {
        (0..self.roles.len())
            .map(|i| {
                self.assets.iter().map(|a| a.hours_by_role[i].unwrap_or(0.0) * f64::from(a.volume)).sum()
            })
            .collect()
    }

    /// All hours: every asset's hours per asset × its volume.
    pub fn total_hours(&self) -> f64 {
        self.assets.iter().map(AssetRow::total_hours).sum()
    }

    /// How many assets in all (the volumes summed).
    pub fn total_volume(&self) -> u64 {
        self.assets.iter().map(|a| u64::from(a.volume)).sum()
    }
}

/// Builds the matrix. Rows are keyed by asset name, tier, catalog id and
/// volume, so lines that disagree on an asset's volume get separate rows
/// rather than a wrong total; a role appearing twice on one row is summed.
/// Negative or non-finite hours are refused.
pub fn matrix(lines: &[RatecardLineIn]) -> Result<RatecardMatrix, ExportError> {
    let mut roles: Vec<RoleColumn> = Vec::new();
    let mut cells: Vec<(usize, usize, f64)> = Vec::new();
    let mut assets: Vec<AssetRow> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.base_hours.is_finite() || line.base_hours < 0.0 {
            return Err(ExportError::invalid(
                format!("lines[{i}].base_hours"),
                format!("{} is not a non-negative number of hours", line.base_hours),
            ));
        }
        let column = RoleColumn { role: line.role.clone(), location: line.role_location.clone() };
        let r = roles.iter().position(|c| *c == column).unwrap_or_else(|| {
            roles.push(column);
            roles.len() - 1
        });
        let a = assets
            .iter()
            .position(|row| {
                row.asset_name == line.asset_name
                    && row.client_tier == line.client_tier
                    && row.catalog_id == line.catalog_id
                    && row.volume == line.volume
            })
            .unwrap_or_else(|| {
                assets.push(AssetRow {
                    asset_name: line.asset_name.clone(),
                    client_tier: line.client_tier.clone(),
                    catalog_id: line.catalog_id.clone(),
                    volume: line.volume,
                    hours_by_role: Vec::new(),
                });
                assets.len() - 1
            });
        cells.push((a, r, line.base_hours));
    }
    for row in &mut assets {
        row.hours_by_role = vec![None; roles.len()];
    }
    for (a, r, hours) in cells {
        let cell = &mut assets[a].hours_by_role[r];
        *cell = Some(cell.unwrap_or(0.0) + hours);
    }
    Ok(RatecardMatrix { roles, assets })
}

/// The zero-based header row of the "Rate card" sheet; assets follow it, then the totals row.
pub const MATRIX_HEADER_ROW: u32 = 3;
/// The columns before the role columns: Asset, Tier, Catalog ID, Volume.
pub const MATRIX_LEADING_COLUMNS: [&str; 4] = ["Asset", "Tier", "Catalog ID", "Volume"];
/// The "Lines" sheet's header (row 0).
pub const LINES_COLUMNS: [&str; 8] =
    ["Asset", "Tier", "Catalog ID", "Role", "Location", "Base hours (per asset)", "Volume", "Total hours"];

struct Formats {
    title: Format,
    note: Format,
    header: Format,
    text: Format,
    hours: Format,
    count: Format,
    total_hours: Format,
    total_count: Format,
}

impl Formats {
    fn new() -> Self {
        let cell = Format::new().set_border(FormatBorder::Thin).set_align(FormatAlign::Top);
        let total = cell.clone().set_bold().set_background_color(Color::RGB(0xEF_EF_EF));
        Formats {
            title: Format::new().set_bold().set_font_size(14),
            note: Format::new().set_italic(),
            header: cell.clone().set_bold().set_text_wrap().set_background_color(Color::RGB(0xD9_D9_D9)),
            text: cell.clone().set_text_wrap(),
            hours: cell.clone().set_num_format("#,##0.00"),
            count: cell.set_num_format("#,##0"),
            total_hours: total.clone().set_num_format("#,##0.00"),
            total_count: total.set_num_format("#,##0"),
        }
    }
}

/// Writes `value`; with a formula, as that formula carrying `value` as its
/// result, so readers without a calc engine see the number too.
fn put(
    ws: &mut Worksheet,
    at: (u32, u16),
    formula: Option<String>,
    value: f64,
    f: &Format,
) -> Result<(), ExportError> {
    let (row, col) = at;
    match formula.map(|text| Formula::new(text).set_result(value.to_string())) {
        Some(formula) => ws.write_formula_with_format(row, col, formula, f)?,
        None => ws.write_number_with_format(row, col, value, f)?,
    };
    Ok(())
}

/// The rate card workbook: "Rate card" (the matrix, with a totals row) and "Lines".
pub fn ratecard_xlsx(title: &str, lines: &[RatecardLineIn]) -> Result<Vec<u8>, ExportError> {
    let m = matrix(lines)?;
    let f = Formats::new();
    let mut workbook = Workbook::new();
    workbook.push_worksheet(matrix_sheet(title, &m, &f)?);
    workbook.push_worksheet(lines_sheet(lines, &f)?);
    Ok(workbook.save_to_buffer()?)
}

fn matrix_sheet(title: &str, m: &RatecardMatrix, f: &Formats) -> Result<Worksheet, ExportError> {
    let mut ws = Worksheet::new();
    ws.set_name("Rate card")?;
    ws.write_string_with_format(0, 0, title, &f.title)?;
    let note = "Role columns are hours for ONE asset. Total hours = Hours per asset × Volume; \
                the Total row multiplies each role's hours by the volume.";
    ws.write_string_with_format(1, 0, note, &f.note)?;
    let h = MATRIX_HEADER_ROW;
    let first_role = MATRIX_LEADING_COLUMNS.len() as u16;
    let per_asset_col = first_role + m.roles.len() as u16;
    let total_col = per_asset_col + 1;
    let headers = MATRIX_LEADING_COLUMNS
        .iter()
        .map(|s| s.to_string())
        .chain(m.roles.iter().map(RoleColumn::header))
        .chain(["Hours per asset".to_string(), "Total hours".to_string()]);
    let widths = [32.0, 14.0, 14.0, 9.0];
    let width = |col: usize| widths.get(col).copied().unwrap_or(15.0);
    let headers: Vec<String> = headers.collect();
    for (col, name) in headers.iter().enumerate() {
        ws.write_string_with_format(h, col as u16, name, &f.header)?;
        ws.set_column_width(col as u16, width(col))?;
    }
    ws.set_row_height(h, row_height(headers.iter().enumerate().map(|(c, s)| (s.as_str(), width(c)))))?;

    let first = h + 1;
    let last = h + m.assets.len() as u32; // the last asset row (== h when there are none)
    for (i, a) in m.assets.iter().enumerate() {
        let row = first + i as u32;
        let tier = a.client_tier.as_deref().unwrap_or("");
        let wrapped = [(a.asset_name.as_str(), widths[0]), (tier, widths[1]), (&a.catalog_id, widths[2])];
        ws.set_row_height(row, row_height(wrapped))?;
        ws.write_string_with_format(row, 0, &a.asset_name, &f.text)?;
        ws.write_string_with_format(row, 1, tier, &f.text)?;
        ws.write_string_with_format(row, 2, &a.catalog_id, &f.text)?;
        ws.write_number_with_format(row, 3, f64::from(a.volume), &f.count)?;
        for (r, hours) in a.hours_by_role.iter().enumerate() {
            let col = first_role + r as u16;
            match hours {
                Some(v) => ws.write_number_with_format(row, col, *v, &f.hours)?,
                None => ws.write_blank(row, col, &f.hours)?,
            };
        }
        let sum = (!m.roles.is_empty())
            .then(|| format!("=SUM({})", cell_range(row, first_role, row, per_asset_col - 1)));
        put(&mut ws, (row, per_asset_col), sum, a.hours_per_asset(), &f.hours)?;
        let product = format!("={}*{}", row_col_to_cell(row, per_asset_col), row_col_to_cell(row, 3));
        put(&mut ws, (row, total_col), Some(product), a.total_hours(), &f.hours)?;
    }

    // The totals row; with no assets its ranges would be empty, so plain zeros.
    let totals = last + 1;
    let any = !m.assets.is_empty();
    ws.write_string_with_format(totals, 0, "Total", &f.total_count)?;
    for col in [1, 2, per_asset_col] {
        ws.write_blank(totals, col, &f.total_count)?;
    }
    let volumes = cell_range(first, 3, last, 3);
    let sum = any.then(|| format!("=SUM({volumes})"));
    put(&mut ws, (totals, 3), sum, m.total_volume() as f64, &f.total_count)?;
    for (r, value) in m.role_totals().into_iter().enumerate() {
        let col = first_role + r as u16;
        let hours = cell_range(first, col, last, col);
        let sum = any.then(|| format!("=SUMPRODUCT({hours},{volumes})"));
        put(&mut ws, (totals, col), sum, value, &f.total_hours)?;
    }
    let all = cell_range(first, total_col, last, total_col);
    let sum = any.then(|| format!("=SUM({all})"));
    put(&mut ws, (totals, total_col), sum, m.total_hours(), &f.total_hours)?;
    ws.set_freeze_panes(first, 1)?;
    ws.set_landscape().set_print_fit_to_pages(1, 0).set_repeat_rows(h, h)?;
    Ok(ws)
}

fn lines_sheet(lines: &[RatecardLineIn], f: &Formats) -> Result<Worksheet, ExportError> {
    let mut ws = Worksheet::new();
    ws.set_name("Lines")?;
    let widths = [32.0, 14.0, 14.0, 22.0, 16.0, 14.0, 9.0, 14.0];
    for (col, (name, width)) in LINES_COLUMNS.iter().zip(widths).enumerate() {
        let col = col as u16;
        ws.write_string_with_format(0, col, *name, &f.header)?;
        ws.set_column_width(col, width)?;
    }
    ws.set_row_height(0, row_height(LINES_COLUMNS.into_iter().zip(widths)))?;
    let mut grand = 0.0;
    for (i, line) in lines.iter().enumerate() {
        let row = 1 + i as u32;
        let tier = line.client_tier.as_deref().unwrap_or("");
        let texts = [&line.asset_name, tier, &line.catalog_id, &line.role, &line.role_location];
        ws.set_row_height(row, row_height(texts.into_iter().zip(widths)))?;
        let total = line.base_hours * f64::from(line.volume);
        grand += total;
        ws.write_string_with_format(row, 0, &line.asset_name, &f.text)?;
        ws.write_string_with_format(row, 1, tier, &f.text)?;
        ws.write_string_with_format(row, 2, &line.catalog_id, &f.text)?;
        ws.write_string_with_format(row, 3, &line.role, &f.text)?;
        ws.write_string_with_format(row, 4, &line.role_location, &f.text)?;
        ws.write_number_with_format(row, 5, line.base_hours, &f.hours)?;
        ws.write_number_with_format(row, 6, f64::from(line.volume), &f.count)?;
        let product = format!("={}*{}", row_col_to_cell(row, 5), row_col_to_cell(row, 6));
        put(&mut ws, (row, 7), Some(product), total, &f.hours)?;
    }
    let n = lines.len() as u32;
    let totals = n + 1;
    ws.write_string_with_format(totals, 0, "Total", &f.total_count)?;
    for col in 1..7 {
        ws.write_blank(totals, col, &f.total_count)?;
    }
    let sum = (n > 0).then(|| format!("=SUM({})", cell_range(1, 7, n, 7)));
    put(&mut ws, (totals, 7), sum, grand, &f.total_hours)?;
    ws.set_freeze_panes(1, 0)?;
    ws.set_landscape().set_print_fit_to_pages(1, 0).set_repeat_rows(0, 0)?;
    ws.autofilter(0, 0, n, (LINES_COLUMNS.len() - 1) as u16)?;
    Ok(ws)
}
