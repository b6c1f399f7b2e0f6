//! Downloads: the client Q&A pack (xlsx, docx), the rate card (xlsx) and the pitch deck (markdown).

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::Response;
use utoipa_axum::{router::OpenApiRouter, routes};
use uuid::Uuid;

use super::clarifications::load_all;
use super::efficiency::saved_shape;
use super::opportunity_view::load_detail;
use super::ratecard::load_lines;
use crate::auth::User;
use crate::error::{ApiError, ApiResult, Problem};
use crate::exports::pitch_markdown::{self, AssetVolume, QualificationSummary, QuickDeckInput, TeamRole};
use crate::exports::qa_pack::{self, Priority, QaPackMeta, QaQuestion};
use crate::exports::ratecard_xlsx::{self, RatecardLineIn};
use crate::extract::{uuid_param, ValidPath};
use crate::startup::AppState;

const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
const MARKDOWN: &str = "text/markdown; charset=utf-8";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(qa_pack_excel))
        .routes(routes!(qa_pack_word))
        .routes(routes!(ratecard_excel))
        .routes(routes!(quick_deck))
        .routes(routes!(outline))
}

fn download(bytes: Vec<u8>, media_type: &str, filename: &str) -> ApiResult<Response> {
    Response::builder()
        .header(header::CONTENT_TYPE, media_type)
        .header(header::CONTENT_DISPOSITION, super::attachment::content_disposition(filename))
        .body(Body::from(bytes))
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn export_failed(e: crate::exports::ExportError) -> ApiError {
    ApiError::Internal(format!("export failed: {e}"))
}

async fn qa_inputs(state: &AppState, id: Uuid) -> ApiResult<(QaPackMeta, Vec<QaQuestion>, String)> {
    let detail = load_detail(&state.pool, id).await?;
    let questions = load_all(state, id)
        .await?
        .into_iter()
        .map(|c| QaQuestion {
            number: None,
            category: c.category,
            question: c.question,
            rationale: c.rationale,
            priority: match c.priority.as_str() {
                "red" => Priority::Red,
                "green" => Priority::Green,
                _ => Priority::Amber,
            },
            status: c.status,
            client_answer: c.client_answer,
        })
        .collect();
    let meta = QaPackMeta {
        opportunity_name: detail.summary.name.clone(),
        client_name: detail.summary.client_name.clone(),
        generated_at: crate::clock::now(),
    };
    Ok((meta, questions, detail.summary.name))
}

/// The client Q&A pack as a spreadsheet: RED → AMBER → GREEN, colour-coded, with an answer column.
#[utoipa::path(get, operation_id = "export_qa_pack_excel",
    path = "/api/opportunities/{id}/qa-pack/excel", tag = "exports", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        description = "the .xlsx"), (status = 404, body = Problem)))]
async fn qa_pack_excel(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Response> {
    let id = uuid_param("id", &id)?;
    let (meta, questions, name) = qa_inputs(&state, id).await?;
    let bytes = qa_pack::qa_pack_xlsx(&meta, &questions).map_err(export_failed)?;
    download(bytes, XLSX, &format!("{name} - Q&A pack.xlsx"))
}

/// The client Q&A pack as a Word document, grouped by category with an answer slot per question.
#[utoipa::path(get, operation_id = "export_qa_pack_word",
    path = "/api/opportunities/{id}/qa-pack/word", tag = "exports", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        description = "the .docx"), (status = 404, body = Problem)))]
async fn qa_pack_word(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Response> {
    let id = uuid_param("id", &id)?;
    let (meta, questions, name) = qa_inputs(&state, id).await?;
    let bytes = qa_pack::qa_pack_docx(&meta, &questions).map_err(export_failed)?;
    download(bytes, DOCX, &format!("{name} - Q&A pack.docx"))
}

/// The rate card as an asset × role hour matrix with volumes and totals.
#[utoipa::path(get, operation_id = "export_ratecard_excel",
    path = "/api/opportunities/{id}/ratecard/excel", tag = "exports", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        description = "the .xlsx"), (status = 404, body = Problem)))]
async fn ratecard_excel(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Response> {
    let id = uuid_param("id", &id)?;
    let detail = load_detail(&state.pool, id).await?;
    let lines: Vec<RatecardLineIn> = load_lines(&state, id)
        .await?
        .into_iter()
        .map(|l| RatecardLineIn {
            asset_name: l.asset_name,
            client_tier: l.client_tier,
            catalog_id: l.catalog_id,
            role: l.role,
            role_location: l.role_location.as_str().to_string(),
            base_hours: l.base_hours,
            volume: l.volume,
        })
        .collect();
    if lines.is_empty() {
        return Err(ApiError::NotFound("rate card (build it first)"));
    }
    let bytes = ratecard_xlsx::ratecard_xlsx(&detail.summary.name, &lines).map_err(export_failed)?;
    download(bytes, XLSX, &format!("{} - rate card.xlsx", detail.summary.name))
}

/// A quick pitch deck composed from what the platform holds (no LLM); slides without data are left out.
#[utoipa::path(get, operation_id = "export_pitch_deck_markdown",
    path = "/api/opportunities/{id}/pitch-deck/markdown", tag = "exports", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/markdown", description = "the deck"), (status = 404, body = Problem)))]
async fn quick_deck(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Response> {
    let id = uuid_param("id", &id)?;
    let s = load_detail(&state.pool, id).await?.summary;
    let assets: Vec<(String, i32)> =
        sqlx::query_as("SELECT raw_name, volume FROM assets WHERE opportunity_id = $1 ORDER BY position")
            .bind(id)
            .fetch_all(&state.pool)
            .await?;
    let open: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM clarifications WHERE opportunity_id = $1 AND status = 'pending'",
    )
    .bind(id)
    .fetch_one(&state.pool)
    .await?;
    let (shape, efficiency) = saved_shape(&state, id).await?;
    let has_lines = shape.total_hours > 0.0;
    let input = QuickDeckInput {
        qualification: match (s.qualification_total, s.qualification_score, &s.qualification_recommendation) {
            (Some(t), Some(p), Some(r)) => {
                Some(QualificationSummary { total_score: t as u32, percentage: p, recommendation: r.clone() })
            }
            _ => None,
        },
        assets: assets
            .into_iter()
            .map(|(name, volume)| AssetVolume { name, volume: volume as u32 })
            .collect(),
        total_hours: has_lines.then_some(shape.total_hours),
        fte_total: has_lines.then_some(shape.total_fte_after),
        team: shape
            .disciplines
            .iter()
            .flat_map(|d| &d.roles)
            .map(|r| TeamRole { role: r.role.clone(), fte: r.fte_after })
            .collect(),
        efficiency_pct: efficiency,
        open_clarifications: open as usize,
        deal_status: s.deal_status.clone(),
        opportunity_name: s.name,
        client_name: s.client_name,
        region: s.region,
        brands: s.brands.0,
        service_types: s.service_types.0,
        deadline: s.deadline,
        go_live: s.go_live,
        description: s.description,
    };
    let name = input.opportunity_name.clone();
    download(
        pitch_markdown::quick_deck_markdown(&input).into_bytes(),
        MARKDOWN,
        &format!("{name} - pitch deck.md"),
    )
}

/// The pitch-deck agent's outline rendered to markdown (once that agent has run).
#[utoipa::path(get, operation_id = "export_pitch_deck_outline_markdown",
    path = "/api/opportunities/{id}/pitch-deck/outline-markdown", tag = "exports",
    params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/markdown", description = "the outline"), (status = 404, body = Problem)))]
async fn outline(
    _user: User,
    State(state): State<AppState>,
    ValidPath(id): ValidPath<String>,
) -> ApiResult<Response> {
    let id = uuid_param("id", &id)?;
    let name = load_detail(&state.pool, id).await?.summary.name;
    // The pitch-deck agent (stage 15) records its outline as an artifact; until it has run there is none.
    let outline: Option<serde_json::Value> = sqlx::query_scalar(
        "SELECT output FROM agent_runs WHERE opportunity_id = $1 AND agent = 'pitch_deck' AND status = 'succeeded'
          ORDER BY finished_at DESC LIMIT 1",
    )
    .bind(id)
    .fetch_optional(&state.pool)
    .await?;
    let outline = outline.ok_or(ApiError::NotFound(
        "pitch-deck outline: the pitch-deck agent has not run for this opportunity yet",
    ))?;
    let markdown = pitch_markdown::outline_markdown(&outline).map_err(export_failed)?;
    download(markdown.into_bytes(), MARKDOWN, &format!("{name} - pitch outline.md"))
}
