//! The caller's own account over the API (password change, including the forced change at first
//! login) and the API tokens the admin issues, lists and revokes. The service functions here are
//! shared with the pages (`pages::home` password form, `pages::admin` token page).

use crate::routing::guard;
use axum::extract::{Path, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Action;
use domain::Role;
use serde::{Deserialize, Serialize};
use store::{ApiToken, PasswordParams};
use utoipa::ToSchema;
use utoipa_axum::routes;

use super::{ApiRouter, MeResponse};
use crate::auth::Authed;
use crate::body::JsonBody;
use crate::error::AppError;
use crate::AppState;

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

/// A password change. `Debug` hides the passwords.
#[derive(Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current: String,
    pub new_password: String,
    /// The new password typed again (pages); the API may omit it.
    #[serde(default)]
    pub confirm: Option<String>,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordChange")
            .field("current", &store::HIDDEN)
            .field("new_password", &store::HIDDEN)
            .field("confirm", &self.confirm.as_ref().map(|_| store::HIDDEN))
            .finish()
    }
}

/// Change the caller's own password: the current one must match; the new one must pass the
/// password rules, differ from the current one and (when given) match its confirmation.
/// Clears `must_change_password`; other sessions end, the caller's own session stays.
pub async fn change_password(
    state: &AppState,
    me: &Authed,
    input: &PasswordChange,
) -> Result<(), AppError> {
    let (_, stored) = state
        .store
        .account_by_username(&me.account.username)
        .await?
        .ok_or(AppError::NotFound)?;
    let current = input.current.clone();
    let ok = tokio::task::spawn_blocking(move || PasswordParams::verify(&current, &stored))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    if !ok {
        return Err(AppError::invalid("current", "当前密码不正确"));
    }
    domain::account::validate_password(&me.account.username, &input.new_password)
        .map_err(|e| AppError::invalid("new_password", e.message))?;
    if input
        .confirm
        .as_ref()
        .is_some_and(|c| *c != input.new_password)
    {
        return Err(AppError::invalid("confirm", "两次输入的新密码不一致"));
    }
    if input.new_password == input.current {
        return Err(AppError::invalid(
            "new_password",
            "新密码不能与当前密码相同",
        ));
    }
    let keep = me.session.as_ref().map(|s| s.token_hash.as_str());
    state
        .store
        .set_password(&me.actor(), me.account.id, &input.new_password, false, keep)
        .await?;
    Ok(())
}

#[utoipa::path(post, path = "/api/v1/me/password", tag = "会话", operation_id = "change_password", request_body = PasswordChange,
    responses((status = 200, body = MeResponse, description = "已修改；must_change_password 为 false"), (status = 422, description = "当前密码不正确，或新密码不符合规则（field 指明字段）")))]
async fn change_password_api(
    State(state): State<AppState>,
    me: Authed,
    JsonBody(input): JsonBody<PasswordChange>,
) -> Result<Response, AppError> {
    change_password(&state, &me, &input).await?;
    let (account, _) = state
        .store
        .account_by_username(&me.account.username)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(MeResponse::from(&account)).into_response())
}

// ------------------------------------------------------------------ API tokens

/// A token to issue: it acts as `user_id`, in that account's role and district.
#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// What the token is for (the system that uses it).
    pub name: String,
    pub user_id: i64,
    /// The role the token acts in; must be the account's role.
    pub role: Option<Role>,
    /// The district the token is limited to; must be the account's district.
    pub district: Option<String>,
    /// Days until it expires (1–3650). The API requires it; the page may leave it open.
    pub valid_days: Option<i64>,
}

/// A token just issued: the plain token is shown once.
#[derive(Serialize, ToSchema)]
pub struct IssuedToken {
    pub token: String,
    pub record: ApiToken,
}

/// Issue a token (admin only). The token's scope is its account's role and district, checked
/// again at every use: when the account changes role or district, the token stops working.
pub async fn issue_token(
    state: &AppState,
    me: &Authed,
    req: &TokenRequest,
    require_expiry: bool,
) -> Result<IssuedToken, AppError> {
    me.may(Action::TokenManage)?;
    let name = domain::account::required_text("name", "令牌用途", &req.name, 60)?;
    let account = state
        .store
        .account(&me.scope(), req.user_id)
        .await
        .map_err(|_| AppError::invalid("user_id", "账号不存在"))?;
    if req.role.is_some_and(|r| r != account.role) {
        return Err(AppError::invalid(
            "role",
            format!("令牌只能以其账号的角色（{}）行事", account.role.label()),
        ));
    }
    let district = req
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty());
    if district.is_some() && district != account.district_code.as_deref() {
        return Err(AppError::invalid(
            "district",
            "令牌只能限定在其账号所属的区县（属地管理）",
        ));
    }
    let days = match req.valid_days {
        Some(d) if (1..=3650).contains(&d) => Some(d),
        Some(_) => {
            return Err(AppError::invalid(
                "valid_days",
                "有效天数须为 1–3650 的整数",
            ))
        }
        None if require_expiry => {
            return Err(AppError::invalid(
                "valid_days",
                "请填写有效天数（1–3650）：接口令牌须有有效期",
            ))
        }
        None => None,
    };
    let (token, id) = state
        .store
        .issue_api_token(&me.actor(), account.id, &name, days)
        .await?;
    let record = token_record(state, id).await?;
    Ok(IssuedToken { token, record })
}

async fn token_record(state: &AppState, id: i64) -> Result<ApiToken, AppError> {
    state
        .store
        .list_api_tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id)
        .ok_or(AppError::NotFound)
}

#[utoipa::path(get, path = "/api/v1/api-tokens", tag = "接口令牌", operation_id = "list_api_tokens",
    responses((status = 200, body = Vec<ApiToken>, description = "全部令牌（不含令牌本身），最新在前")))]
async fn list_tokens(State(state): State<AppState>, me: Authed) -> Result<Response, AppError> {
    me.may(Action::TokenManage)?;
    Ok(Json(state.store.list_api_tokens().await?).into_response())
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
    me.may(Action::TokenManage)?;
    state.store.revoke_api_token(&me.actor(), id).await?;
    Ok(Json(token_record(&state, id).await?).into_response())
}
