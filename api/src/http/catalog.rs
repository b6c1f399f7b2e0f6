//! The catalog of hour routes: search it, read an entry, list categories and versions, import a new one.

use std::collections::BTreeMap;
use std::io::Cursor;

use axum::extract::multipart::MultipartRejection;
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use calamine::{Data, Reader, Xlsx};
use domain::catalog::{CatalogEntry, RoleHours};
use domain::catalog_import::{parse_csv, parse_rows, RowError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::auth::{Role, User};
use crate::catalog::{self, CatalogVersion, CategoryCount, Search};
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ValidPath, ValidQuery};
use crate::startup::AppState;
use crate::uploads::multipart::read_file_field;
use crate::uploads::{sniff, DocumentKind};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_one))
        .routes(routes!(categories))
        .routes(routes!(versions))
        .routes(routes!(import))
}

#[derive(Serialize, ToSchema)]
pub struct RoleHoursView {
    pub role: String,
    /// `onshore`, `nearshore` or `offshore`.
    pub location: String,
    /// Hours for ONE asset.
    pub hours: f64,
}

#[derive(Serialize, ToSchema)]
pub struct CatalogEntryView {
    pub catalog_id: String,
    pub category: String,
    pub sub_category: String,
    pub sub_category_description: Option<String>,
    pub asset_name: String,
    pub complexity: String,
    pub asset_description: String,
    pub complexity_description: Option<String>,
    pub agency_caveats: Option<String>,
    /// Hours per role, by model type (e.g. `standard`, `hybrid`).
    pub hours: BTreeMap<String, Vec<RoleHoursView>>,
    /// Hours of one asset, by model type.
    pub total_hours: BTreeMap<String, f64>,
}

impl From<CatalogEntry> for CatalogEntryView {
    fn from(e: CatalogEntry) -> Self {
        let total_hours = e
            .hours
            .keys()
            .map(|m| (m.clone(), (e.total_hours(m).unwrap_or(0.0) * 100.0).round() / 100.0))
            .collect();
        let view = |r: RoleHours| RoleHoursView {
            role: r.role,
            location: r.location.as_str().into(),
            hours: r.hours,
        };
        let hours =
            e.hours.into_iter().map(|(m, roles)| (m, roles.into_iter().map(view).collect())).collect();
        Self {
            catalog_id: e.catalog_id,
            category: e.category,
            sub_category: e.sub_category,
            sub_category_description: e.sub_category_description,
            asset_name: e.asset_name,
            complexity: e.complexity,
            asset_description: e.asset_description,
            complexity_description: e.complexity_description,
            agency_caveats: e.agency_caveats,
            hours,
            total_hours,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// Words that must all appear (case-insensitively) in the id, names, complexity or descriptions.
    pub q: Option<String>,
    /// Exact category, ignoring case.
    pub category: Option<String>,
    /// Exact complexity (e.g. `Simple`), ignoring case.
    pub complexity: Option<String>,
    /// Only entries with hours for this model type (e.g. `hybrid`).
    pub model_type: Option<String>,
    /// A past version; the current one by default.
    pub version: Option<i64>,
    /// 1–500, default 100.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

/// The version asked for (it must exist), or the current one; `None` when no catalog is stored.
async fn pick_version(state: &AppState, version: Option<i64>) -> ApiResult<Option<i64>> {
    match version {
        None => Ok(catalog::current_version(&state.pool).await?),
        Some(v) if v < 1 => Err(ApiError::invalid("version", format!("version must be 1 or more, got {v}"))),
        Some(v) if catalog::version_exists(&state.pool, v).await? => Ok(Some(v)),
        Some(_) => Err(ApiError::NotFound("catalog version")),
    }
}

/// Searches the entries of the current catalog version (or `version`), ordered by id. The total is
/// in `X-Total-Count`.
#[utoipa::path(get, operation_id = "list_catalog_entries",
    path = "/api/catalog", tag = "catalog", params(CatalogQuery),
    responses((status = 200, body = Vec<CatalogEntryView>), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn list(
    _user: User,
    State(state): State<AppState>,
    ValidQuery(q): ValidQuery<CatalogQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<CatalogEntryView>>)> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", format!("limit must be between 1 and 500, got {limit}")));
    }
    let offset = q.offset.unwrap_or(0);
    if offset < 0 {
        return Err(ApiError::invalid("offset", "offset must not be negative"));
    }
    let blank = |s: Option<String>| s.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
    let search = Search {
        words: q.q.as_deref().unwrap_or("").split_whitespace().map(str::to_string).collect(),
        category: blank(q.category),
        complexity: blank(q.complexity),
        model_type: blank(q.model_type),
    };
    let (entries, total) = match pick_version(&state, q.version).await? {
        Some(version) => catalog::search(&state.pool, version, &search, limit, offset).await?,
        None => (Vec::new(), 0),
    };
    let mut headers = HeaderMap::new();
    headers.insert("x-total-count", HeaderValue::from(total));
    Ok((headers, Json(entries.into_iter().map(Into::into).collect())))
}

/// One entry of the current catalog version.
#[utoipa::path(get, operation_id = "get_catalog_entry",
    path = "/api/catalog/{catalog_id}", tag = "catalog", params(("catalog_id" = String, Path)),
    responses((status = 200, body = CatalogEntryView), (status = 404, body = Problem)))]
async fn get_one(
    _user: User,
    State(state): State<AppState>,
    ValidPath(catalog_id): ValidPath<String>,
) -> ApiResult<Json<CatalogEntryView>> {
    let version = catalog::current_version(&state.pool).await?.ok_or(ApiError::NotFound("catalog entry"))?;
    let entry = catalog::entries(&state.pool, version, &[catalog_id]).await?.into_iter().next();
    entry.map(|e| Json(e.into())).ok_or(ApiError::NotFound("catalog entry"))
}

/// The categories of the current catalog version with their entry counts, alphabetically.
#[utoipa::path(get, operation_id = "list_catalog_categories",
    path = "/api/catalog/categories", tag = "catalog",
    responses((status = 200, body = Vec<CategoryCount>)))]
async fn categories(_user: User, State(state): State<AppState>) -> ApiResult<Json<Vec<CategoryCount>>> {
    Ok(Json(match catalog::current_version(&state.pool).await? {
        Some(version) => catalog::categories(&state.pool, version).await?,
        None => Vec::new(),
    }))
}

/// Every catalog version, newest (current) first.
#[utoipa::path(get, operation_id = "list_catalog_versions", path = "/api/catalog/versions", tag = "catalog",
    responses((status = 200, body = Vec<CatalogVersion>)))]
async fn versions(_user: User, State(state): State<AppState>) -> ApiResult<Json<Vec<CatalogVersion>>> {
    Ok(Json(catalog::versions(&state.pool).await?))
}

#[derive(Serialize, ToSchema)]
pub struct ImportResult {
    /// The new current version.
    pub version: i64,
    pub entry_count: usize,
    /// The imported file's name.
    pub source: String,
}

fn unsupported(message: String) -> ApiError {
    ApiError::UnsupportedFile { field: "file".into(), message }
}

/// A cell as the sheet shows it: whole numbers without ".0".
fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        other => other.to_string().trim().to_string(),
    }
}

/// The first sheet's rows, numbered as the spreadsheet numbers them.
fn xlsx_rows(bytes: &[u8]) -> ApiResult<Vec<Vec<String>>> {
    let unreadable = |e: calamine::XlsxError| ApiError::invalid("file", format!("unreadable xlsx: {e}"));
    let mut book: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| ApiError::invalid("file", "the workbook has no sheets"))?
        .map_err(unreadable)?;
    let (top, left) = range.start().unwrap_or((0, 0));
    let mut rows = vec![Vec::new(); top as usize];
    for row in range.rows() {
        let padding = std::iter::repeat_n(String::new(), left as usize);
        rows.push(padding.chain(row.iter().map(cell_text)).collect());
    }
    Ok(rows)
}

/// Reads a .csv or .xlsx file (checked by content) into entries, or every problem in it.
fn read_catalog(filename: &str, bytes: &[u8]) -> ApiResult<Result<Vec<CatalogEntry>, Vec<RowError>>> {
    let ext = filename.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    match ext.as_str() {
        "xlsx" => {
            sniff(filename, bytes)?;
            Ok(parse_rows(&xlsx_rows(bytes)?))
        }
        "csv" => {
            // Checked as text: a workbook, PDF or binary renamed to .csv is refused.
            if sniff(&format!("{filename}.txt"), bytes).map_err(|_| ()) != Ok(DocumentKind::Text) {
                return Err(unsupported(format!("{filename:?} is named like a CSV file but is not text")));
            }
            Ok(parse_csv(&String::from_utf8_lossy(bytes)))
        }
        _ => Err(unsupported(format!("{filename:?}: only .csv and .xlsx catalogs are accepted"))),
    }
}

fn row_problems(errors: &[RowError]) -> ApiError {
    let listed: Vec<String> = errors
        .iter()
        .map(|e| match e.field.as_str() {
            "" => format!("row {}: {}", e.row, e.message),
            field => format!("row {} {field}: {}", e.row, e.message),
        })
        .collect();
    let count =
        if errors.len() == 1 { "1 problem".to_string() } else { format!("{} problems", errors.len()) };
    ApiError::invalid("file", format!("nothing was imported; fix {count}: {}", listed.join("; ")))
}

/// Imports a catalog (admin only; multipart field `file`, .csv or .xlsx in the catalog sheet shape)
/// as a new current version. Any bad row rejects the whole file, listing every problem.
#[utoipa::path(post, operation_id = "import_catalog", path = "/api/catalog/import", tag = "catalog",
    request_body(content_type = "multipart/form-data", content = super::files::FileUpload,
        description = "field `file`: the catalog sheet"),
    responses((status = 201, body = ImportResult), (status = 403, body = Problem), (status = 413, body = Problem),
        (status = 415, body = Problem), (status = 422, body = Problem)))]
async fn import(
    user: User,
    State(state): State<AppState>,
    multipart: Result<Multipart, MultipartRejection>,
) -> ApiResult<(StatusCode, Json<ImportResult>)> {
    user.require(Role::Admin)?;
    let (filename, bytes) = read_file_field(multipart, state.settings.max_upload_bytes).await?;
    let name = filename.clone();
    let parsed = tokio::task::spawn_blocking(move || read_catalog(&name, &bytes)).await.map_err(|e| {
        match e.is_panic() {
            // The sheet parser panics on some malformed workbooks: the file is at fault, not us.
            true => ApiError::invalid("file", "the catalog file is malformed and cannot be read"),
            false => ApiError::Internal(format!("catalog parsing failed: {e}")),
        }
    })??;
    let entries = parsed.map_err(|errors| row_problems(&errors))?;
    let version = catalog::import(&state.pool, &entries, &filename, &user.email).await?;
    tracing::info!(version, entries = entries.len(), source = %filename, by = %user.email, "catalog imported");
    Ok((StatusCode::CREATED, Json(ImportResult { version, entry_count: entries.len(), source: filename })))
}
