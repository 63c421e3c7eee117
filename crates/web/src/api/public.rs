//! What the public pages show, as JSON (no login): filings in 公示, filed institutions with their
//! occupations and levels, results in 公示. Like the pages, they show only what the notice makes
//! public (names of persons and ID numbers masked). Also an institution's filed scope, in scope.

use crate::routing::guard;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Action;
use serde::{Deserialize, Serialize};
use store::PageRequest;
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::schema::PageOf;
use super::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::PublicView, routes!(public_filings)))
        .routes(guard(Action::PublicView, routes!(public_institutions)))
        .routes(guard(Action::PublicView, routes!(public_results)))
        .routes(guard(Action::PublicView, routes!(public_result)))
        .routes(guard(Action::PublicView, routes!(public_audit_anchors)))
        .routes(guard(
            Action::InstitutionView,
            routes!(institution_occupations),
        ))
}

#[derive(Deserialize, Default)]
struct PublicQuery {
    q: Option<String>,
    district: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// An occupation of a public record with its levels.
#[derive(Serialize, ToSchema)]
pub struct PublicItem {
    pub occupation_code: String,
    pub occupation_name: String,
    /// `occupation` (职业) or `special` (专项职业能力).
    pub kind: String,
    pub levels: Vec<domain::occupation::Level>,
}

/// An application in 公示.
#[derive(Serialize, ToSchema)]
pub struct PublicFiling {
    pub id: i64,
    pub institution_name: String,
    pub kind: domain::filing::FilingKind,
    pub district_name: String,
    pub items: Vec<PublicItem>,
    /// 评审经过.
    pub review_path: String,
    pub publicity_start: Option<String>,
    pub publicity_end: Option<String>,
    /// 公示期 as printed.
    pub publicity_text: Option<String>,
    /// An objection is being handled (公示暂停).
    pub paused: bool,
}

fn levels(text: &str) -> Vec<domain::occupation::Level> {
    domain::occupation::parse_levels(text).unwrap_or_default()
}

#[utoipa::path(get, path = "/api/v1/public/filings", tag = "公开信息", operation_id = "public_filings", security(()),
    params(("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = PageOf<PublicFiling>, description = "正在公示（或因异议暂停）的备案申请")))]
async fn public_filings(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let page = crate::published::filings_in_publicity(&state, PageRequest::new(q.page, q.per_page))
        .await?;
    let items: Vec<PublicFiling> = page
        .items
        .iter()
        .map(|a| PublicFiling {
            id: a.id,
            institution_name: a.institution_name.clone(),
            kind: a.kind,
            district_name: a.district_name.clone(),
            items: a
                .items
                .iter()
                .map(|i| PublicItem {
                    occupation_code: i.code.clone(),
                    occupation_name: i.name.clone(),
                    kind: i.kind.clone(),
                    levels: levels(&i.levels),
                })
                .collect(),
            review_path: if crate::review::went_through_district(a) {
                "经区县初审、专家评审，市级审核通过"
            } else {
                "市级统一组织专家评审，市级审核通过"
            }
            .into(),
            publicity_start: a.publicity_start.clone(),
            publicity_end: a.publicity_end.clone(),
            publicity_text: a.publicity_text(),
            paused: a.state() == domain::filing::FilingState::PublicityPaused,
        })
        .collect();
    Ok(Json(PageOf {
        items,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    })
    .into_response())
}

/// A filed institution's occupation (one row per institution and occupation).
#[derive(Serialize, ToSchema)]
pub struct PublicFiledRow {
    pub institution: String,
    pub district: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub occupation_kind: domain::reference::ItemKind,
    pub levels: Vec<domain::occupation::Level>,
    pub filing_no: String,
    pub filed_on: String,
}

#[utoipa::path(get, path = "/api/v1/public/institutions", tag = "公开信息", operation_id = "public_institutions", security(()),
    params(("q" = Option<String>, Query, description = "机构、职业代码或名称"), ("district" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = PageOf<PublicFiledRow>, description = "已备案评价机构及其备案职业（工种）和等级")))]
async fn public_institutions(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let page = crate::published::filed_institutions(
        &state,
        q.district.as_deref(),
        q.q.as_deref(),
        PageRequest::new(q.page, q.per_page),
    )
    .await?;
    let items = page
        .items
        .into_iter()
        .map(|f| PublicFiledRow {
            levels: levels(&f.levels),
            institution: f.institution,
            district: f.district,
            occupation_code: f.occupation_code,
            occupation_name: f.occupation_name,
            occupation_kind: f.occupation_kind,
            filing_no: f.filing_no,
            filed_on: f.filed_on,
        })
        .collect();
    Ok(Json(PageOf {
        items,
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    })
    .into_response())
}

/// A plan whose results are in 公示.
#[derive(Serialize, ToSchema)]
pub struct PublicResultsPlan {
    pub id: i64,
    pub plan_no: String,
    pub institution_name: String,
    pub occupation_code: String,
    pub occupation_name: String,
    pub start_date: String,
    pub end_date: String,
    pub publicity_text: Option<String>,
}

impl From<&store::Plan> for PublicResultsPlan {
    fn from(p: &store::Plan) -> Self {
        PublicResultsPlan {
            id: p.id,
            plan_no: p.plan_no.clone(),
            institution_name: p.institution_name.clone(),
            occupation_code: p.occupation_code.clone(),
            occupation_name: p.occupation_name.clone(),
            start_date: p.start_date.clone(),
            end_date: p.end_date.clone(),
            publicity_text: p.results_publicity_text(),
        }
    }
}

/// Results in 公示 of one plan, masked.
#[derive(Serialize, ToSchema)]
pub struct PublicResults {
    pub plan: PublicResultsPlan,
    pub results: Vec<store::PublicResult>,
}

#[utoipa::path(get, path = "/api/v1/public/results", tag = "公开信息", operation_id = "public_results", security(()),
    params(("q" = Option<String>, Query, description = "机构或职业"), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = PageOf<PublicResultsPlan>, description = "评价结果公示中的计划")))]
async fn public_results(
    State(state): State<AppState>,
    Query(q): Query<PublicQuery>,
) -> Result<Response, AppError> {
    let page =
        crate::published::results_in_publicity(&state, q.q, PageRequest::new(q.page, q.per_page))
            .await?;
    Ok(Json(PageOf {
        items: page.items.iter().map(PublicResultsPlan::from).collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    })
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/public/results/{id}", tag = "公开信息", operation_id = "public_result", security(()), params(("id" = i64, Path)),
    responses((status = 200, body = PublicResults, description = "一个计划的评价结果（姓名、证件号码已脱敏）"), (status = 404, description = "不存在或不在公示中")))]
async fn public_result(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (p, results) = crate::published::plan_results(&state, id).await?;
    Ok(Json(PublicResults {
        plan: PublicResultsPlan::from(&p),
        results,
    })
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/institutions/{id}/occupations", tag = "评价机构", operation_id = "institution_occupations", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<store::FiledOccupation>, description = "机构已备案的职业（工种）和等级"), (status = 404, description = "不存在或不在辖区内")))]
async fn institution_occupations(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(crate::institutions::filed_occupations(&state, &me, id).await?).into_response())
}

/// How many of the latest anchors the public URL shows.
const PUBLIC_ANCHORS: usize = 50;

/// 审计锚点 as published: anyone can keep a copy and later check the trail against it with
/// `skilleval audit verify --anchor`.
#[utoipa::path(get, path = "/api/v1/public/audit/anchors", tag = "公开信息", operation_id = "public_audit_anchors", security(()),
    responses((status = 200, body = Vec<store::anchor::Anchor>, description = "最近的审计锚点（审计链头的序号、哈希、时间及签名），最新的在后")))]
async fn public_audit_anchors(State(state): State<AppState>) -> Result<Response, AppError> {
    let Some(dir) = &state.config.anchor_dir else {
        return Ok(Json(Vec::<store::anchor::Anchor>::new()).into_response());
    };
    let file = dir.join(store::anchor::ANCHORS_FILE);
    let mut anchors = if file.exists() {
        store::anchor::read_anchors(&file)?
    } else {
        Vec::new()
    };
    let skip = anchors.len().saturating_sub(PUBLIC_ANCHORS);
    anchors.drain(..skip);
    Ok(Json(anchors).into_response())
}
