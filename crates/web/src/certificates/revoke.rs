//! Revocation (撤销) and correction (更正) of a certificate: both need a reason and both city keys
//! (市职业技能鉴定中心 and 市人社局职建处, either first). A correction revokes and reissues under a new
//! number, linking the two; the public query shows the revocation at once.

use crate::routing::{guard, Routes};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::certissue;
use domain::Action;
use serde::Deserialize;
use store::CertChange;
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::body::{FormBody, JsonBody};
use crate::error::AppError;
use crate::evaluation::refused;
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .post(
            "/certificates/{id}/changes",
            Action::CertificateChange,
            propose_form,
        )
        .post(
            "/cert-changes/{id}/confirm",
            Action::CertificateChange,
            confirm_form,
        )
        .post(
            "/cert-changes/{id}/withdraw",
            Action::CertificateChange,
            withdraw_form,
        )
}

pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::CertificateChange, routes!(api_propose)))
        .routes(guard(Action::CertificateChange, routes!(api_confirm)))
        .routes(guard(Action::CertificateChange, routes!(api_withdraw)))
}

/// The first key: what to do and why.
#[derive(Deserialize, Default, ToSchema)]
pub struct ChangeRequest {
    /// revoke (撤销) | correct (更正)
    #[serde(default)]
    pub kind: String,
    /// 原因 (required).
    #[serde(default)]
    pub reason: String,
    /// Correction: the right 姓名 (empty: unchanged).
    #[serde(default)]
    pub holder_name: String,
    /// Correction: the right 工种/职业方向 (empty: unchanged).
    #[serde(default)]
    pub work_type: String,
}

/// The second key (or a withdrawal), against the version read.
#[derive(Deserialize, Default, ToSchema)]
pub struct KeyRequest {
    #[serde(default)]
    pub version: i64,
}

fn require_city_key(me: &Authed) -> Result<(), AppError> {
    if certissue::is_city_key(me.role()) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "证书撤销、更正只能由市职业技能鉴定中心和市人社局职建处办理".into(),
        ))
    }
}

/// Service: the first key of a revocation or correction.
pub async fn propose(
    state: &AppState,
    me: &Authed,
    cert_id: i64,
    r: &ChangeRequest,
) -> Result<CertChange, AppError> {
    require_city_key(me)?;
    let cert = state.store.certificate(&me.scope(), cert_id).await?;
    if !cert.published || cert.state != domain::certissue::CertState::Valid {
        return Err(AppError::Conflict(format!(
            "证书{}，不能再撤销或更正",
            cert.state_label()
        )));
    }
    let reason = r.reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写撤销或更正的原因"));
    }
    if reason.chars().count() > 500 {
        return Err(AppError::invalid("reason", "原因不能超过 500 字"));
    }
    let corrections = match r.kind.as_str() {
        "revoke" => serde_json::json!({}),
        "correct" => {
            let name = r.holder_name.trim();
            let work = r.work_type.trim();
            if name.chars().count() > 30 {
                return Err(AppError::invalid("holder_name", "姓名过长"));
            }
            let name_changes = !name.is_empty() && name != cert.holder_name;
            let work_changes = !work.is_empty() && work != cert.work_type;
            if !name_changes && !work_changes {
                return Err(AppError::invalid(
                    "holder_name",
                    "更正须至少改正一项：姓名或工种/职业方向",
                ));
            }
            serde_json::json!({
                "holder_name": if name_changes { name } else { "" },
                "work_type": if work_changes { work } else { "" },
            })
        }
        _ => {
            return Err(AppError::invalid(
                "kind",
                "请选择办理事项：撤销（revoke）或更正（correct）",
            ))
        }
    };
    Ok(state
        .store
        .propose_cert_change(&me.actor(), &cert, &r.kind, reason, &corrections)
        .await?)
}

/// Service: the second key. A correction issues the replacement, dated today.
pub async fn confirm(
    state: &AppState,
    me: &Authed,
    change_id: i64,
    version: i64,
) -> Result<CertChange, AppError> {
    require_city_key(me)?;
    let change = state.store.cert_change(change_id).await?;
    if change.status != domain::certissue::ChangeStatus::Proposed {
        return Err(AppError::Conflict("该申请已办结或已撤回".into()));
    }
    certissue::second_key(&change.proposed_role, me.role()).map_err(refused)?;
    let key = state.certs.signer()?;
    let numbering = state.policy.numbering();
    let compose = |d: &store::IssueDraft, serial: i64| super::compose(&numbering, d, serial);
    let sign = |d: &store::IssueDraft, no: &str, idx: i64| super::sign(&key, d, no, idx);
    let today = state.today().to_string();
    Ok(state
        .store
        .confirm_cert_change(
            &me.actor(),
            change_id,
            version,
            &today,
            state.policy.cert_serial_per_level.value,
            &compose,
            &sign,
        )
        .await?)
}

/// Service: withdraw a proposal (either city role). Returns the withdrawn change.
pub async fn withdraw(
    state: &AppState,
    me: &Authed,
    change_id: i64,
    version: i64,
) -> Result<CertChange, AppError> {
    require_city_key(me)?;
    state.store.cert_change(change_id).await?;
    state
        .store
        .withdraw_cert_change(&me.actor(), change_id, version)
        .await?;
    Ok(state.store.cert_change(change_id).await?)
}

async fn propose_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(r): FormBody<ChangeRequest>,
) -> Result<Response, AppError> {
    propose(&state, &me, id, &r).await?;
    Ok(Redirect::to(&format!("/certificates/{id}?msg=saved")).into_response())
}

async fn confirm_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(r): FormBody<KeyRequest>,
) -> Result<Response, AppError> {
    let c = confirm(&state, &me, id, r.version).await?;
    let target = c.new_certificate_id.unwrap_or(c.certificate_id);
    Ok(Redirect::to(&format!("/certificates/{target}?msg=saved")).into_response())
}

async fn withdraw_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(r): FormBody<KeyRequest>,
) -> Result<Response, AppError> {
    let c = withdraw(&state, &me, id, r.version).await?;
    Ok(Redirect::to(&format!("/certificates/{}?msg=saved", c.certificate_id)).into_response())
}

#[utoipa::path(post, path = "/api/v1/certificates/{id}/changes", tag = "证书", operation_id = "propose_certificate_change", params(("id" = i64, Path)), request_body = ChangeRequest,
    responses((status = 201, body = CertChange, description = "第一把钥匙：待另一市级部门确认"), (status = 403, body = crate::api::ErrorBody, description = "非市级部门"), (status = 409, body = crate::api::ErrorBody, description = "证书已撤销或已更正，或已有待确认的申请"), (status = 422, body = crate::api::ErrorBody, description = "缺少原因或更正内容")))]
async fn api_propose(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(r): JsonBody<ChangeRequest>,
) -> Result<Response, AppError> {
    let c = propose(&state, &me, id, &r).await?;
    Ok((StatusCode::CREATED, Json(c)).into_response())
}

#[utoipa::path(post, path = "/api/v1/cert-changes/{id}/confirm", tag = "证书", operation_id = "confirm_certificate_change", params(("id" = i64, Path)), request_body = KeyRequest,
    responses((status = 200, body = CertChange, description = "第二把钥匙：已撤销，或已更正并补发新证（new_certificate_id）"), (status = 409, body = crate::api::ErrorBody, description = "已办结或版本已变"), (status = 422, body = crate::api::ErrorBody, description = "须由另一市级部门确认")))]
async fn api_confirm(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(r): JsonBody<KeyRequest>,
) -> Result<Json<CertChange>, AppError> {
    Ok(Json(confirm(&state, &me, id, r.version).await?))
}

#[utoipa::path(post, path = "/api/v1/cert-changes/{id}/withdraw", tag = "证书", operation_id = "withdraw_certificate_change", params(("id" = i64, Path)), request_body = KeyRequest,
    responses((status = 204, description = "已撤回"), (status = 409, body = crate::api::ErrorBody)))]
async fn api_withdraw(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    JsonBody(r): JsonBody<KeyRequest>,
) -> Result<Response, AppError> {
    withdraw(&state, &me, id, r.version).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
