//! Who is asking: the one place where sessions, API tokens, roles and jurisdiction are resolved.
//! Every protected handler takes [`Authed`]; every store query it makes takes `authed.scope()`.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use domain::{Action, Role, Scope};
use store::{Account, Actor, SessionInfo};

use crate::error::AppError;
use crate::AppState;

pub const SESSION_COOKIE: &str = "skilleval_session";

/// Request facts every audit event needs.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_addr: String,
    pub user_agent: String,
}

impl RequestMeta {
    pub fn from_parts(parts: &Parts, trust_proxy: bool) -> RequestMeta {
        let request_id = header_str(&parts.headers, "x-request-id").unwrap_or_default();
        let forwarded = trust_proxy
            .then(|| header_str(&parts.headers, "x-forwarded-for"))
            .flatten()
            .and_then(|v| v.split(',').next().map(|s| s.trim().to_string()));
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        RequestMeta {
            request_id,
            client_addr: forwarded.or(peer).unwrap_or_else(|| "unknown".into()),
            user_agent: header_str(&parts.headers, "user-agent").unwrap_or_default(),
        }
    }

    pub fn anonymous_actor(&self) -> Actor {
        Actor {
            user_id: None,
            username: "anonymous".into(),
            role: "public".into(),
            request_id: self.request_id.clone(),
            client_addr: self.client_addr.clone(),
        }
    }
}

impl FromRequestParts<AppState> for RequestMeta {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(RequestMeta::from_parts(parts, state.config.trust_proxy))
    }
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

pub fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

pub fn bearer_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_string())
}

/// An authenticated account, by session cookie or by bearer token.
#[derive(Debug, Clone)]
pub struct Authed {
    pub account: Account,
    /// Present for cookie sessions, absent for bearer tokens.
    pub session: Option<SessionInfo>,
    pub meta: RequestMeta,
}

impl Authed {
    pub fn scope(&self) -> Scope {
        self.account.scope()
    }

    pub fn role(&self) -> Role {
        self.account.role
    }

    /// Refuse (403) unless the permission table lets this role take `action`.
    pub fn may(&self, action: Action) -> Result<(), AppError> {
        if action.permits(self.account.role) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "{}无权{}",
                self.account.role.label(),
                action.label()
            )))
        }
    }

    /// Whether the table lets this role take `action` (for menus and buttons).
    pub fn can(&self, action: Action) -> bool {
        action.permits(self.account.role)
    }

    pub fn actor(&self) -> Actor {
        Actor {
            user_id: Some(self.account.id),
            username: self.account.username.clone(),
            role: self.account.role.as_str().into(),
            request_id: self.meta.request_id.clone(),
            client_addr: self.meta.client_addr.clone(),
        }
    }
}

pub(crate) async fn resolve(
    parts: &mut Parts,
    state: &AppState,
) -> Result<Option<Authed>, AppError> {
    if let Some(a) = parts.extensions.get::<Authed>() {
        return Ok(Some(a.clone()));
    }
    let meta = RequestMeta::from_parts(parts, state.config.trust_proxy);
    let found = if let Some(token) = bearer_token(&parts.headers) {
        let account = state.store.token_account(&token).await?;
        if account.is_none() {
            // A wrong token is an error, not an anonymous visit.
            return Err(AppError::Unauthorized);
        }
        account.map(|a| (a, None))
    } else if let Some(cookie) = cookie_value(&parts.headers, SESSION_COOKIE) {
        state
            .store
            .session_account(&cookie)
            .await?
            .map(|(a, s)| (a, Some(s)))
    } else {
        None
    };
    let authed = found.map(|(account, session)| Authed {
        account,
        session,
        meta,
    });
    if let Some(a) = &authed {
        parts.extensions.insert(a.clone());
    }
    Ok(authed)
}

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let authed = resolve(parts, state).await?.ok_or(AppError::Unauthorized)?;
        crate::api::account::forced_password_change(parts, &authed.account)?;
        Ok(authed)
    }
}

/// An optional login, for public pages that greet a logged-in visitor.
pub struct MaybeAuthed(pub Option<Authed>);

impl FromRequestParts<AppState> for MaybeAuthed {
    type Rejection = AppError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        Ok(MaybeAuthed(resolve(parts, state).await.ok().flatten()))
    }
}
