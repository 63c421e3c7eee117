//! One error type for the web layer. It renders as JSON under `/api` and as a Chinese page
//! elsewhere; [`render_error_pages`] turns every bare 4xx/5xx (unknown route, 405, 413) into the same.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("请先登录")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("您要访问的页面或记录不存在")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    /// A field failed validation: 422, naming the field.
    #[error("{message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    #[error("上传内容过大")]
    PayloadTooLarge,
    /// 413 with a specific Chinese message (e.g. "文件超过 20 MB 上限").
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("服务器内部错误，请稍后重试")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden(_) => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::BadRequest(_) => StatusCode::BAD_REQUEST,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict(_) => StatusCode::CONFLICT,
            AppError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound => "not_found",
            AppError::BadRequest(_) => "bad_request",
            AppError::Invalid { .. } => "invalid",
            AppError::Conflict(_) => "conflict",
            AppError::PayloadTooLarge => "payload_too_large",
            AppError::TooLarge(_) => "payload_too_large",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Internal(_) => "internal",
        }
    }

    pub fn forbidden() -> AppError {
        AppError::Forbidden("您没有执行此操作的权限".into())
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict => AppError::Conflict(e.to_string()),
            StoreError::Duplicate(m) => AppError::Conflict(m),
            StoreError::Invalid(m) => AppError::BadRequest(m),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<domain::FieldError> for AppError {
    fn from(e: domain::FieldError) -> AppError {
        AppError::invalid(e.field, e.message)
    }
}

/// Marks a response body as already rendered by us, so the page middleware leaves it alone.
#[derive(Clone)]
pub struct ErrorInfo {
    pub status: StatusCode,
    pub message: String,
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.status();
        if let AppError::Internal(detail) = &self {
            // Logged with its cause; the client only sees a generic message.
            tracing::error!(%detail, "internal error");
        }
        let mut body = json!({ "error": self.code(), "message": self.to_string() });
        if let AppError::Invalid { field, .. } = &self {
            body["field"] = json!(field);
        }
        let mut resp = (status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(ErrorInfo {
            status,
            message: self.to_string(),
        });
        if status == StatusCode::UNAUTHORIZED {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

fn default_message(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "请求格式不正确",
        401 => "请先登录",
        403 => "您没有执行此操作的权限",
        404 => "您要访问的页面或记录不存在",
        405 => "不支持该请求方法",
        408 => "请求超时",
        409 => "操作冲突，请刷新后重试",
        413 => "上传内容过大，超过平台允许的大小",
        415 => "不支持的内容类型",
        422 => "提交的内容有误",
        429 => "请求过于频繁，请稍后再试",
        _ => "服务器内部错误，请稍后重试",
    }
}

/// Turn error responses into JSON (for `/api`) or a Chinese error page (for everything else).
pub async fn render_error_pages(req: Request, next: Next) -> Response {
    let is_api = req.uri().path().starts_with("/api/");
    let logged_in = req.headers().get(header::COOKIE).is_some();
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    if resp
        .extensions()
        .get::<crate::pages::RenderedPage>()
        .is_some()
    {
        return resp;
    }
    let info = resp.extensions().get::<ErrorInfo>().cloned();
    if is_api {
        if info.is_some() {
            return resp;
        }
        let body = json!({ "error": status.as_str(), "message": default_message(status) });
        let mut r = (status, axum::Json(body)).into_response();
        copy_security(&resp, &mut r);
        return r;
    }
    if status == StatusCode::UNAUTHORIZED {
        // Pages send the visitor to the login form instead.
        return axum::response::Redirect::to("/login").into_response();
    }
    let message = info
        .map(|i| i.message)
        .unwrap_or_else(|| default_message(status).to_string());
    let page = crate::pages::error_page(status, &message, logged_in);
    let mut r = (status, Html(page)).into_response();
    copy_security(&resp, &mut r);
    r
}

fn copy_security(from: &Response<Body>, to: &mut Response) {
    if let Some(v) = from.headers().get("x-request-id") {
        to.headers_mut().insert("x-request-id", v.clone());
    }
}
