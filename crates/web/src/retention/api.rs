//! `/api/v1/retention` and `/api/v1/paper-records`: the same service functions as the pages.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Action;
use serde::Deserialize;
use store::{Disposal, Hold, PageRequest, PaperFilter, PaperRecord, RetentionFilter};
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{PaperForm, RecordDetail};
use crate::api::{ApiRouter, ErrorBody};
use crate::auth::Authed;
use crate::body::JsonBody;
use crate::error::AppError;
use crate::routing::guard;
use crate::AppState;

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::RetentionView, routes!(list)))
        .routes(guard(Action::RetentionView, routes!(detail)))
        .routes(guard(Action::RetentionApproveDisposal, routes!(propose)))
        .routes(guard(Action::RetentionApproveDisposal, routes!(approve)))
        .routes(guard(Action::RetentionApproveDisposal, routes!(withdraw)))
        .routes(guard(Action::RetentionApproveDisposal, routes!(execute)))
        .routes(guard(Action::RetentionHold, routes!(hold)))
        .routes(guard(Action::RetentionHold, routes!(lift)))
        .routes(guard(Action::RetentionView, routes!(paper_list)))
        .routes(guard(
            Action::RetentionRegisterPaper,
            routes!(paper_register),
        ))
}

#[derive(Deserialize, Default)]
struct ListParams {
    state: Option<String>,
    class: Option<String>,
    district: Option<String>,
    q: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/retention", tag = "档案保管", operation_id = "retention_list",
    params(("state" = Option<String>, Query, description = "due（默认：已到期待销毁）| upcoming | kept | held | pending | disposed | all"),
        ("class" = Option<String>, Query, description = "filing | plan | candidates | document | paper"),
        ("district" = Option<String>, Query, description = "市级可按保管单位筛选：区县代码，或 city（市级保管）"),
        ("q" = Option<String>, Query, description = "档案名称"), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = crate::api::schema::PageOf<store::RetentionRecord>, description = "档案保管台账（仅本人辖区）"), (status = 403, body = ErrorBody)))]
async fn list(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<ListParams>,
) -> Result<Response, AppError> {
    let f = RetentionFilter {
        state: p.state,
        class: p.class,
        district: p.district,
        q: p.q,
    };
    let page = super::list(&state, &me, &f, PageRequest::new(p.page, p.per_page)).await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(get, path = "/api/v1/retention/{id}", tag = "档案保管", operation_id = "retention_detail", params(("id" = i64, Path)),
    responses((status = 200, body = RecordDetail, description = "档案、保管期限及依据、冻结记录、销毁审批（含销毁记录）"), (status = 404, body = ErrorBody, description = "不存在或不在辖区内")))]
async fn detail(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<RecordDetail>, AppError> {
    Ok(Json(super::detail(&state, &me, id).await?))
}

/// A step on a record, against the version read.
#[derive(Deserialize, Default, ToSchema)]
pub struct StepRequest {
    /// The record's version (optimistic concurrency); the current one when absent.
    pub version: Option<i64>,
    /// 原因 (提出销毁, 冻结, 解除冻结).
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/retention/{id}/disposal", tag = "档案保管", operation_id = "retention_propose_disposal", params(("id" = i64, Path)), request_body = StepRequest,
    responses((status = 201, body = Disposal, description = "第一把钥匙：待另一方确认"), (status = 403, body = ErrorBody, description = "该角色不能审批此档案的销毁"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "未到期、已冻结、已有销毁申请或版本已变"), (status = 422, body = ErrorBody, description = "缺少原因")))]
async fn propose(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StepRequest>,
) -> Result<Response, AppError> {
    let d = super::propose(&state, &me, id, b.version, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(d)).into_response())
}

#[utoipa::path(post, path = "/api/v1/retention/{id}/disposal/approve", tag = "档案保管", operation_id = "retention_approve_disposal", params(("id" = i64, Path)), request_body = StepRequest,
    responses((status = 200, body = Disposal, description = "第二把钥匙：双方同意，待执行"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "须由另一方确认、已冻结、无待确认申请或版本已变")))]
async fn approve(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StepRequest>,
) -> Result<Json<Disposal>, AppError> {
    Ok(Json(super::approve(&state, &me, id, b.version).await?))
}

#[utoipa::path(post, path = "/api/v1/retention/{id}/disposal/withdraw", tag = "档案保管", operation_id = "retention_withdraw_disposal", params(("id" = i64, Path)), request_body = StepRequest,
    responses((status = 200, body = Disposal, description = "已撤回"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn withdraw(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StepRequest>,
) -> Result<Json<Disposal>, AppError> {
    Ok(Json(super::withdraw(&state, &me, id, b.version).await?))
}

/// The irreversible step: `confirm` must be true.
#[derive(Deserialize, Default, ToSchema)]
pub struct ExecuteRequest {
    pub version: Option<i64>,
    /// 确认销毁（不可恢复）.
    #[serde(default)]
    pub confirm: bool,
}

#[utoipa::path(post, path = "/api/v1/retention/{id}/disposal/execute", tag = "档案保管", operation_id = "retention_execute_disposal", params(("id" = i64, Path)), request_body = ExecuteRequest,
    responses((status = 200, body = Disposal, description = "已销毁：文件和个人信息已删除，档案记录与本销毁记录保留为墓碑"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "尚缺第二把钥匙、已冻结、未到期或版本已变"), (status = 422, body = ErrorBody, description = "未确认（confirm）")))]
async fn execute(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ExecuteRequest>,
) -> Result<Json<Disposal>, AppError> {
    Ok(Json(
        super::execute(&state, Some(&me), id, b.version, b.confirm).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/retention/{id}/hold", tag = "档案保管", operation_id = "retention_place_hold", params(("id" = i64, Path)), request_body = StepRequest,
    responses((status = 201, body = Hold, description = "已冻结：解除前不得销毁"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody, description = "缺少原因")))]
async fn hold(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<StepRequest>,
) -> Result<Response, AppError> {
    let h = super::place_hold(&state, &me, id, b.version, &b.reason).await?;
    Ok((StatusCode::CREATED, Json(h)).into_response())
}

#[derive(Deserialize, Default, ToSchema)]
pub struct LiftRequest {
    pub version: Option<i64>,
    /// The hold to lift (the oldest active one when absent).
    pub hold_id: Option<i64>,
    #[serde(default)]
    pub reason: String,
}

#[utoipa::path(post, path = "/api/v1/retention/{id}/hold/lift", tag = "档案保管", operation_id = "retention_lift_hold", params(("id" = i64, Path)), request_body = LiftRequest,
    responses((status = 204, description = "已解除冻结"), (status = 403, body = ErrorBody, description = "市级设置的冻结只能由市级解除"), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn lift(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LiftRequest>,
) -> Result<Response, AppError> {
    super::lift_hold(&state, &me, id, b.hold_id, b.version, &b.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize, Default)]
struct PaperParams {
    kind: Option<String>,
    q: Option<String>,
    district: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/paper-records", tag = "档案保管", operation_id = "paper_record_list",
    params(("kind" = Option<String>, Query, description = "filing | plan | process | other"), ("q" = Option<String>, Query), ("district" = Option<String>, Query), ("page" = Option<i64>, Query), ("per_page" = Option<i64>, Query)),
    responses((status = 200, body = crate::api::schema::PageOf<PaperRecord>, description = "纸质档案登记（仅本人辖区）"), (status = 403, body = ErrorBody)))]
async fn paper_list(
    State(state): State<AppState>,
    me: Authed,
    Query(p): Query<PaperParams>,
) -> Result<Response, AppError> {
    let f = PaperFilter {
        kind: p.kind,
        q: p.q,
        district: p.district,
    };
    let page = super::list_paper(&state, &me, &f, PageRequest::new(p.page, p.per_page)).await?;
    Ok(Json(page).into_response())
}

#[utoipa::path(post, path = "/api/v1/paper-records", tag = "档案保管", operation_id = "paper_record_register", request_body = PaperForm,
    responses((status = 201, body = PaperRecord, description = "已登记，含保存期限（record_id 为台账编号）"), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody, description = "字段有误，field 指明字段")))]
async fn paper_register(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(f): JsonBody<PaperForm>,
) -> Result<Response, AppError> {
    let p = super::register_paper(&state, &me, &f).await?;
    Ok((StatusCode::CREATED, Json(p)).into_response())
}
