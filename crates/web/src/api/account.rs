//! The caller's own account over the API (password change, including the forced change at first
//! login) and the API tokens the admin issues, lists and revokes: adapters of the use cases in
//! `accounts`, which the pages (`pages::home` password form, `pages::admin` token page) call too.

use crate::routing::guard;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Action;
use store::ApiToken;
use utoipa_axum::routes;

use super::{ApiRouter, MeResponse};
use crate::auth::Authed;
use crate::body::JsonBody;
use crate::error::AppError;
use crate::AppState;

pub use crate::accounts::{
    change_password, issue_token, IssuedToken, PasswordChange, TokenRequest,
};

pub fn routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::OwnAccount, routes!(change_password_api)))
        .routes(guard(Action::TokenManage, routes!(list_tokens)))
        .routes(guard(Action::TokenManage, routes!(issue_token_api)))
        .routes(guard(Action::TokenManage, routes!(revoke_token_api)))
}

/// Where an account that must change its password is sent (named in the refusal).
pub const PASSWORD_ENDPOINT: &str = "/api/v1/me/password";

/// An account that must change its password may, over the API, only change it, read its session
/// and log out; everything else is 403 naming the endpoint. Pages keep their own redirect.
pub fn forced_password_change(parts: &Parts, account: &store::Account) -> Result<(), AppError> {
    if !account.must_change_password || !parts.uri.path().starts_with("/api/") {
        return Ok(());
    }
    let path = parts.uri.path();
    let allowed = (path == PASSWORD_ENDPOINT && parts.method == Method::POST)
        || (path == "/api/v1/session" && matches!(parts.method, Method::GET | Method::DELETE))
        || (path == "/api/v1/me" && parts.method == Method::GET);
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "首次登录或密码被重置后须先修改密码：请调用 POST {PASSWORD_ENDPOINT}（或在页面“修改密码”中修改）后再使用其他功能"
        )))
    }
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "会话", operation_id = "change_password", request_body = PasswordChange,
    responses((status = 200, body = MeResponse, description = "已修改；must_change_password 为 false"), (status = 422, description = "当前密码不正确，或新密码不符合规则（field 指明字段）")))]
async fn change_password_api(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<PasswordChange>,
) -> Result<Response, AppError> {
    let account = change_password(&state, &me, &input).await?;
    Ok(Json(MeResponse::from(&account)).into_response())
}

// ------------------------------------------------------------------ API tokens

#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "接口令牌", operation_id = "list_api_tokens",
    responses((status = 200, body = Vec<ApiToken>, description = "全部令牌（不含令牌本身），最新在前")))]
async fn list_tokens(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    Ok(Json(crate::accounts::tokens(&state, &me).await?).into_response())
}

#[utoipa::path(post, path = "/api/v1/api-tokens", tag = "接口令牌", operation_id = "issue_api_token", request_body = TokenRequest,
    responses((status = 201, body = IssuedToken, description = "令牌只显示这一次"), (status = 422, description = "账号不存在、角色或区县与账号不符、未填有效期")))]
async fn issue_token_api(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(req): JsonBody<TokenRequest>,
) -> Result<Response, AppError> {
    let issued = issue_token(&state, &me, &req, true).await?;
    Ok((StatusCode::CREATED, Json(issued)).into_response())
}

#[utoipa::path(delete, path = "/api/v1/api-tokens/{id}", tag = "接口令牌", operation_id = "revoke_api_token", params(("id" = i64, Path)),
    responses((status = 200, body = ApiToken, description = "已吊销的令牌"), (status = 404, description = "不存在或已吊销")))]
async fn revoke_token_api(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    Ok(Json(crate::accounts::revoke_token(&state, &me, id).await?).into_response())
}
