//! JSON API of 二、评价管理 under /api/v1: e-filing, plans, supervision, candidates, results.

use crate::routing::guard;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use domain::plan::PlanCommand;
use domain::Action;
use serde::Deserialize;
use serde_json::json;
use store::{PageRequest, PlanFilter, UploadedFile};
use utoipa_axum::routes;

use crate::api::{with_upload_limit, ApiRouter};
use crate::auth::Authed;
use crate::body::JsonBody;
use crate::error::AppError;
use crate::evaluation::{self as ev, views, CandidateForm, ImportStart, PlanForm, ScoreForm};
use crate::AppState;

/// The evaluation-management routes with their documentation (see `api::v1`).
pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::PlanView, routes!(list_plans)))
        .routes(guard(Action::PlanEdit, routes!(create_plan)))
        .routes(guard(Action::PlanView, routes!(get_plan)))
        .routes(guard(Action::PlanEdit, routes!(update_plan)))
        .routes(guard(Action::PlanAct, routes!(plan_action)))
        .routes(guard(Action::ReferenceRead, routes!(latest_submission)))
        .routes(guard(
            Action::EfilingSubmit,
            with_upload_limit(routes!(my_efiling)),
        ))
        .routes(guard(
            Action::EfilingSubmit,
            with_upload_limit(routes!(submit_efiling)),
        ))
        .routes(guard(Action::EfilingReview, routes!(review_efiling)))
        .routes(guard(Action::LetterView, routes!(supervision)))
        .routes(guard(Action::SupervisorAssign, routes!(assign)))
        .routes(guard(Action::LetterSign, routes!(sign)))
        .routes(guard(Action::SupervisionReport, routes!(report)))
        .routes(guard(Action::RelationManage, routes!(add_relation)))
        .routes(guard(Action::CandidateView, routes!(list_candidates)))
        .routes(guard(Action::CandidateEnter, routes!(add_candidate)))
        .routes(guard(
            Action::CandidateEnter,
            with_upload_limit(routes!(import_candidates)),
        ))
        .routes(guard(Action::CandidateEnter, routes!(template)))
        .routes(guard(Action::CandidateIdNumber, routes!(id_number)))
        .routes(guard(Action::CandidateEnter, routes!(save_score)))
        .routes(guard(
            Action::CandidateEnter,
            with_upload_limit(routes!(candidate_photo)),
        ))
        .routes(guard(
            Action::CandidateEnter,
            with_upload_limit(routes!(import_scores)),
        ))
        .routes(guard(Action::CandidateEnter, routes!(score_template)))
        .routes(guard(Action::CandidateEnter, routes!(publish)))
        .routes(guard(Action::CandidateEnter, routes!(submit_results)))
}

#[derive(Deserialize, Default)]
struct ListParams {
    q: Option<String>,
    status: Option<String>,
    district: Option<String>,
    results: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/plans", tag = "评价管理", params(("q" = Option<String>, Query, description = "编号、机构、职业或场地"), ("status" = Option<String>, Query), ("district" = Option<String>, Query), ("results" = Option<String>, Query, description = "none | publicised | submitted"), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::Plan>, description = "分页列表，仅含本人辖区或本人督导的计划")))]
async fn list_plans(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let f = PlanFilter {
        q: p.q,
        status: p.status,
        district: p.district,
        results_status: p.results,
        ..Default::default()
    };
    let page = views::plans(&state, &me, &f, PageRequest::new(p.page, p.per_page)).await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(post, path = "/api/v1/plans", tag = "评价管理", request_body = PlanForm, responses((status = 201, body = crate::api::schema::Object, description = "草稿已创建"), (status = 403, description = "仅评价机构"), (status = 422, description = "字段有误（仅限已备案职业与等级），field 指明字段")))]
async fn create_plan(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(f): JsonBody<PlanForm>,
) -> Result<Response, AppError> {
    let p = ev::create_plan(&state, &me, &f).await?;
    Ok((
        StatusCode::CREATED,
        Json(ev::plan_json(&state, &me, &p).await?),
    )
        .into_response())
}

#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "评价管理", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::Object, description = "{plan, status_label, evaluation_may_start, evaluation_valid, validity, supervision, latest_submission, commands}"), (status = 404, description = "不存在或无权查看")))]
async fn get_plan(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let p = views::plan(&state, &me, id).await?;
    Ok(Json(ev::plan_json(&state, &me, &p).await?).into_response())
}

#[utoipa::path(put, path = "/api/v1/plans/{id}", tag = "评价管理", params(("id" = i64, Path)), request_body = PlanForm, responses((status = 200, body = crate::api::schema::Object, description = "已修改；审核通过后的变更生成新版本并回到草稿"), (status = 409, description = "版本冲突"), (status = 422, description = "字段有误或当前状态不能修改")))]
async fn update_plan(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(f): JsonBody<PlanForm>,
) -> Result<Response, AppError> {
    let p = ev::update_plan(&state, &me, id, &f).await?;
    Ok(Json(ev::plan_json(&state, &me, &p).await?).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ActionBody {
    command: String,
    version: Option<i64>,
    #[serde(default)]
    reason: String,
    /// paper: the day the district received the paper plan (YYYY-MM-DD, default today).
    #[serde(default)]
    paper_received_on: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/actions", tag = "评价管理", params(("id" = i64, Path)), request_body = ActionBody, responses((status = 200, body = crate::api::schema::Object, description = "新状态"), (status = 409, description = "版本冲突"), (status = 422, description = "被规则拒绝，message 注明条款（如 二(二)）")))]
async fn plan_action(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ActionBody>,
) -> Result<Response, AppError> {
    let cmd = PlanCommand::parse(&b.command)
        .filter(|c| !matches!(c, PlanCommand::Edit | PlanCommand::Revise))
        .ok_or_else(|| AppError::invalid("command", "未知的操作"))?;
    let p = ev::plan_action(
        &state,
        &me,
        id,
        b.version,
        cmd,
        &b.reason,
        b.paper_received_on.as_deref(),
    )
    .await?;
    Ok(Json(ev::plan_json(&state, &me, &p).await?).into_response())
}

#[derive(Deserialize)]
struct StartParam {
    start: String,
}

/// 最晚提交日期 for a planned start (used by the plan form's script).
#[utoipa::path(get, path = "/api/v1/calendar/latest-submission", tag = "评价管理", params(("start" = String, Query, description = "评价开始日期 YYYY-MM-DD")), responses((status = 200, body = crate::api::schema::Object, description = "{latest, latest_working, min_working_days, clause, calendar: official|provisional, text}"), (status = 422, description = "日期无效或超出 2000—2100 年")))]
async fn latest_submission(
    State(state): State<AppState>,
    _me: Authed,
    Query(q): Query<StartParam>,
) -> Result<Response, AppError> {
    let start = NaiveDate::parse_from_str(q.start.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid("start", "请填写有效的开始日期（YYYY-MM-DD）"))?;
    let (last, working, basis) = ev::latest_submission(&state, start).await?;
    Ok(Json(json!({
        "start": start.to_string(),
        "latest": last.to_string(),
        "latest_working": working.to_string(),
        "min_working_days": state.policy.plan_min_working_days.value,
        "clause": state.policy.plan_min_working_days.clause,
        "calendar": basis,
        "text": format!("最晚提交日期：{}（须在开始日前至少留出{}个完整工作日；如遇节假日，纸质件请于{}前送达）{}",
            last.format("%Y年%m月%d日"), state.policy.plan_min_working_days.value, working.format("%Y年%m月%d日"), basis.note()),
    }))
    .into_response())
}

#[utoipa::path(get, path = "/api/v1/efiling", tag = "评价管理", responses((status = 200, body = crate::api::schema::Object, description = "本机构电子备案状态")))]
async fn my_efiling(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    let e = views::own_efiling(&state, &me).await?;
    let status = e
        .as_ref()
        .map(|e| e.status)
        .unwrap_or(domain::plan::EfilingStatus::Missing);
    Ok(Json(json!({ "status": status, "efiling": e })).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct EfilingBody {
    file_name: String,
    content_base64: String,
    #[serde(default)]
    content_type: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/efiling", tag = "评价管理", request_body = EfilingBody, responses((status = 201, body = crate::api::schema::Object, description = "已上传，待区县确认"), (status = 422, description = "未备案、文件类型不符等")))]
async fn submit_efiling(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(b): JsonBody<EfilingBody>,
) -> Result<Response, AppError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b.content_base64.trim())
        .map_err(|_| AppError::invalid("content_base64", "文件内容不是有效的 Base64 编码"))?;
    let file = UploadedFile {
        name: b.file_name,
        content_type: b.content_type,
        bytes,
    };
    ev::submit_efiling(&state, &me, &b.note, &file).await?;
    Ok(StatusCode::CREATED.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ReviewBody {
    confirm: bool,
    version: i64,
    #[serde(default)]
    reason: String,
}

#[utoipa::path(post, path = "/api/v1/efilings/{institution_id}/review", tag = "评价管理", params(("institution_id" = i64, Path)), request_body = ReviewBody, responses((status = 204, description = "已确认或退回"), (status = 404, description = "不在辖区内")))]
async fn review_efiling(
    State(state): State<AppState>,
    me: Authed,
    Path(inst): Path<i64>,
    JsonBody(b): JsonBody<ReviewBody>,
) -> Result<Response, AppError> {
    ev::review_efiling(&state, &me, inst, b.version, b.confirm, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/supervision", tag = "评价管理", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::Object, description = "{assignments, letter, signatures, evaluation_valid, validity, signatures_verified}")))]
async fn supervision(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (_, v) = views::plan_supervision(&state, &me, id).await?;
    Ok(Json(v).into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct AssignBody {
    supervisor_id: i64,
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/supervisors", tag = "评价管理", params(("id" = i64, Path)), request_body = AssignBody, responses((status = 200, body = crate::api::schema::Object, description = "督导情况"), (status = 422, description = "不在督导库中或须回避（二(三)）")))]
async fn assign(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AssignBody>,
) -> Result<Response, AppError> {
    ev::assign_supervisor(&state, &me, id, b.supervisor_id).await?;
    let (_, v) = views::plan_supervision(&state, &me, id).await?;
    Ok(Json(v).into_response())
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/letter/sign", tag = "评价管理", params(("id" = i64, Path)), responses((status = 201, body = crate::api::schema::Object, description = "{signature, evaluation_valid, validity}"), (status = 409, description = "已签字或责任书未生成")))]
async fn sign(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let s = ev::sign_letter(&state, &me, id).await?;
    let (_, v) = views::plan_supervision(&state, &me, id).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "signature": s, "evaluation_valid": v.evaluation_valid, "validity": v.validity })),
    )
        .into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct ReportBody {
    body: String,
    attachment_name: Option<String>,
    attachment_base64: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/reports", tag = "评价管理", params(("id" = i64, Path)), request_body = ReportBody, responses((status = 201, body = crate::api::schema::Object, description = "督导报告已提交")))]
async fn report(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ReportBody>,
) -> Result<Response, AppError> {
    use base64::Engine;
    let att = match (b.attachment_name, b.attachment_base64) {
        (Some(name), Some(data)) if !name.trim().is_empty() => Some(UploadedFile {
            name,
            content_type: String::new(),
            bytes: base64::engine::general_purpose::STANDARD
                .decode(data.trim())
                .map_err(|_| {
                    AppError::invalid("attachment_base64", "附件不是有效的 Base64 编码")
                })?,
        }),
        _ => None,
    };
    ev::file_report(&state, &me, id, &b.body, att.as_ref()).await?;
    Ok(StatusCode::CREATED.into_response())
}

#[derive(Deserialize, utoipa::ToSchema)]
struct RelationBody {
    supervisor_id: i64,
    institution_id: i64,
    kind: String,
    #[serde(default)]
    note: String,
}

#[utoipa::path(post, path = "/api/v1/supervision/relations", tag = "评价管理", request_body = RelationBody, responses((status = 201, body = crate::api::schema::Object, description = "已登记"), (status = 409, description = "已登记过")))]
async fn add_relation(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(b): JsonBody<RelationBody>,
) -> Result<Response, AppError> {
    ev::record_relation(
        &state,
        &me,
        b.supervisor_id,
        b.institution_id,
        &b.kind,
        &b.note,
    )
    .await?;
    Ok(StatusCode::CREATED.into_response())
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/candidates", tag = "评价管理", params(("id" = i64, Path), ("q" = Option<String>, Query), ("page" = Option<i64>, Query)), responses((status = 200, body = crate::api::schema::PageOf<store::Candidate>, description = "分页列表，证件号码已脱敏")))]
async fn list_candidates(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let (_, page) = views::candidates(
        &state,
        &me,
        id,
        p.q.as_deref(),
        PageRequest::new(p.page, p.per_page),
    )
    .await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/candidates", tag = "评价管理", params(("id" = i64, Path)), request_body = CandidateForm, responses((status = 201, body = store::Candidate, description = "已登记的考生（dup_flag：已持证时标注）"), (status = 422, description = "字段有误、重复或计划未经市级认可")))]
async fn add_candidate(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(f): JsonBody<CandidateForm>,
) -> Result<Response, AppError> {
    ev::add_candidate(&state, &me, id, &f).await?;
    // The record just made: the newest candidate of the plan with this name.
    let made = views::newest_candidate_named(&state, &me, id, &f.name).await?;
    Ok((StatusCode::CREATED, Json(made)).into_response())
}

/// Body: the xlsx file itself.
#[utoipa::path(post, path = "/api/v1/plans/{id}/candidates/import", tag = "评价管理", params(("id" = i64, Path)), request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), responses((status = 200, body = crate::api::schema::Object, description = "全部导入"), (status = 202, description = "大文件：{job_id, progress_url}"), (status = 422, description = "全部未导入：{message, rows:[{row, field, message}]}")))]
async fn import_candidates(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    Ok(
        match ev::start_candidate_import(&state, &me, id, body).await? {
            ImportStart::Done { imported, flagged } => {
                Json(json!({ "state": "done", "imported": imported, "flagged": flagged }))
                    .into_response()
            }
            ImportStart::Failed(rows) => {
                rows_error(format!("发现{}处错误，全部数据未导入", rows.len()), &rows)
            }
            ImportStart::Background(job) => (
            StatusCode::ACCEPTED,
            Json(json!({ "state": "running", "job_id": job, "progress_url": format!("/api/v1/jobs/{job}"), "page": format!("/jobs/{job}") })),
        )
            .into_response(),
        },
    )
}

fn xlsx(name: &str, bytes: Vec<u8>) -> Response {
    crate::upload::send_bytes(name, sheets::XLSX_CONTENT_TYPE, bytes)
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/scores/template.xlsx", tag = "评价管理", params(("id" = i64, Path)), responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "成绩导入模板"), (status = 404, description = "计划不存在或不在辖区内")))]
async fn score_template(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(xlsx(
        "成绩导入模板.xlsx",
        views::score_template(&state, &me, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/candidates/template.xlsx", tag = "评价管理", params(("id" = i64, Path)), responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>, description = "考生导入模板"), (status = 404, description = "计划不存在或不在辖区内")))]
async fn template(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(xlsx(
        "考生导入模板.xlsx",
        views::candidate_template(&state, &me, id).await?,
    ))
}

#[utoipa::path(get, path = "/api/v1/candidates/{id}/id-number", tag = "评价管理", params(("id" = i64, Path)), responses((status = 200, body = crate::api::schema::IdNumberView, description = "完整证件号码（每次查看记入审计日志）")))]
async fn id_number(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let n = views::candidate_id_number(&state, &me, id).await?;
    Ok(Json(json!({ "id_number": n })).into_response())
}

/// Multipart with one file field `photo` (JPEG/PNG, ≤ 5 MB).
#[utoipa::path(post, path = "/api/v1/plans/{id}/candidates/{cid}/photo", tag = "评价管理", params(("id" = i64, Path), ("cid" = i64, Path)), request_body(content_type = "multipart/form-data", description = "file=考生照片（JPG/PNG）"), responses((status = 201, body = crate::api::schema::Object, description = "{document_id}"), (status = 422, description = "不是 JPG/PNG 图片")))]
async fn candidate_photo(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
    mp: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let parts = crate::upload::read_upload(mp, state.config.max_upload_bytes).await?;
    let f = parts
        .into_iter()
        .find(|p| p.field == "photo" && p.is_file() && !p.bytes.is_empty())
        .ok_or_else(|| AppError::invalid("photo", "请选择考生照片"))?;
    let file = UploadedFile {
        name: f.filename,
        content_type: String::new(),
        bytes: f.bytes,
    };
    let doc = ev::candidate_photo(&state, &me, id, cid, &file).await?;
    Ok((StatusCode::CREATED, Json(json!({ "document_id": doc }))).into_response())
}

#[utoipa::path(put, path = "/api/v1/plans/{id}/candidates/{cid}/scores", tag = "评价管理", params(("id" = i64, Path), ("cid" = i64, Path)), request_body = ScoreForm, responses((status = 200, body = crate::api::schema::Object, description = "{passed}"), (status = 422, description = "成绩有误，或督导责任书未经三方签字（二(三)）")))]
async fn save_score(
    State(state): State<AppState>,
    me: Authed,
    Path((id, cid)): Path<(i64, i64)>,
    JsonBody(f): JsonBody<ScoreForm>,
) -> Result<Response, AppError> {
    let passed = ev::save_score(&state, &me, id, cid, &f).await?;
    Ok(Json(json!({ "passed": passed })).into_response())
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/scores/import", tag = "评价管理", params(("id" = i64, Path)), request_body(content = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), responses((status = 200, body = crate::api::schema::Object, description = "全部导入"), (status = 422, description = "全部未导入，逐行报告")))]
async fn import_scores(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, AppError> {
    Ok(match ev::import_scores(&state, &me, id, &body).await? {
        Ok(n) => Json(json!({ "state": "done", "imported": n })).into_response(),
        Err(rows) => rows_error(format!("发现{}处错误，全部成绩未导入", rows.len()), &rows),
    })
}

/// The version of the plan the caller saw (optimistic concurrency: a stale one is 409).
#[derive(Deserialize, Default, utoipa::ToSchema)]
struct VersionBody {
    version: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/results/publish", tag = "评价管理", params(("id" = i64, Path)), request_body = VersionBody, responses((status = 200, body = store::Plan, description = "公示中的计划（新版本号）"), (status = 409, description = "尚有考生未录入成绩")))]
async fn publish(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<VersionBody>,
) -> Result<Response, AppError> {
    let p = ev::publish_results(&state, &me, id, b.version).await?;
    Ok(Json(p).into_response())
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/results/submit", tag = "评价管理", params(("id" = i64, Path)), request_body = VersionBody, responses((status = 200, body = store::Plan, description = "已上报市级的计划（新版本号）"), (status = 422, description = "公示期未满")))]
async fn submit_results(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<VersionBody>,
) -> Result<Response, AppError> {
    let p = ev::submit_results(&state, &me, id, b.version).await?;
    Ok(Json(p).into_response())
}

/// 422 with a per-row report; marked as already rendered so the error middleware keeps it.
pub(crate) fn rows_error(message: String, rows: &[ev::RowError]) -> Response {
    let mut r = (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "error": "invalid", "message": message, "rows": rows })),
    )
        .into_response();
    r.extensions_mut().insert(crate::error::ErrorInfo {
        status: StatusCode::UNPROCESSABLE_ENTITY,
        message,
    });
    r
}
