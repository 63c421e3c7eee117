//! The issuing API (证书数据的生成): a plan's candidates and blockers, starting, following,
//! resuming and abandoning a batch.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Action;
use serde::{Deserialize, Serialize};
use store::CertBatch;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::routing::guard;
use crate::AppState;

use super::{abandon, batch, preview, resume, start_issue, AbandonForm, Preview, Started};

pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::CertificatePrepare, routes!(api_preview)))
        .routes(guard(Action::CertificateIssue, routes!(api_issue)))
        .routes(guard(Action::CertificatePrepare, routes!(api_batch)))
        .routes(guard(Action::CertificateIssue, routes!(api_resume)))
        .routes(guard(Action::CertificateIssue, routes!(api_abandon)))
}

#[derive(Deserialize, Default, ToSchema)]
pub struct IssueRequest {
    /// 补发: include candidates who hold the same certificate; the old one is superseded.
    #[serde(default)]
    pub reissue: bool,
}

#[derive(Deserialize)]
struct ReissueParam {
    reissue: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/certificate-candidates", tag = "证书", operation_id = "certificate_candidates", params(("id" = i64, Path), ("reissue" = Option<bool>, Query)),
    responses((status = 200, body = Preview, description = "通过的考生、阻碍原因（照片、一人多证）、批次"), (status = 404, body = crate::api::ErrorBody)))]
async fn api_preview(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<ReissueParam>,
) -> Result<Json<Preview>, AppError> {
    Ok(Json(
        preview(&state, &me, id, q.reissue.unwrap_or(false)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/certificates/issue", tag = "证书", operation_id = "issue_certificates", params(("id" = i64, Path)), request_body = IssueRequest,
    responses((status = 202, body = Started, description = "批次已开始（或已在签发中），进度见 /api/v1/jobs/{job_id}"), (status = 409, body = crate::api::ErrorBody, description = "没有可发证的考生"), (status = 422, body = crate::api::ErrorBody, description = "成绩未上报，或机构未登记评价站点代码（人社鉴发〔2019〕2号）")))]
async fn api_issue(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    crate::body::JsonBody(r): crate::body::JsonBody<IssueRequest>,
) -> Result<Response, AppError> {
    let s = start_issue(&state, &me, id, r.reissue).await?;
    Ok((StatusCode::ACCEPTED, Json(s)).into_response())
}

#[utoipa::path(get, path = "/api/v1/cert-batches/{id}", tag = "证书", operation_id = "certificate_batch", params(("id" = i64, Path)),
    responses((status = 200, body = CertBatch, description = "批次状态与进度"), (status = 404, body = crate::api::ErrorBody)))]
async fn api_batch(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<CertBatch>, AppError> {
    Ok(Json(batch(&state, &me, id).await?))
}

/// The job that resumed a batch.
#[derive(Serialize, ToSchema)]
pub struct Resumed {
    pub job_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/cert-batches/{id}/resume", tag = "证书", operation_id = "resume_certificate_batch", params(("id" = i64, Path)), request_body = IssueRequest,
    responses((status = 202, body = Resumed, description = "继续签发未完成的批次"), (status = 409, body = crate::api::ErrorBody, description = "批次已完成、已放弃或正在签发")))]
async fn api_resume(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    crate::body::JsonBody(_r): crate::body::JsonBody<IssueRequest>,
) -> Result<Response, AppError> {
    let job_id = resume(&state, &me, id).await?;
    Ok((StatusCode::ACCEPTED, Json(Resumed { job_id })).into_response())
}

#[utoipa::path(post, path = "/api/v1/cert-batches/{id}/abandon", tag = "证书", operation_id = "abandon_certificate_batch", params(("id" = i64, Path)), request_body = AbandonForm,
    responses((status = 204, description = "已放弃，未公开的证书已删除（编号不再使用）"), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
async fn api_abandon(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    crate::body::JsonBody(f): crate::body::JsonBody<AbandonForm>,
) -> Result<Response, AppError> {
    abandon(&state, &me, id, &f.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
