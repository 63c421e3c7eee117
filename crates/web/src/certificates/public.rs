//! Public verification, no login (公示查询的上网环节, 二(三)): the query page (number + name, or
//! name + ID number), the QR landing page `/v/{number}` (the signed payload from the QR text,
//! checked against the published keys, and the live state from the database), the JSON query,
//! the public keys, the signed status list and the offline verifier page.
//!
//! Every query is counted in `/metrics` and limited per client address in the database (so the
//! limit holds across app servers). Personal data is masked (ID: first 4 + last 4).

use crate::routing::Routes;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use domain::Action;
use serde::Deserialize;
use store::PublicCertificate;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::{MaybeAuthed, RequestMeta};
use crate::error::AppError;
use crate::pages::{render_status, Layout};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get("/public/certificates", Action::PublicView, query_page)
        .get("/v/{number}", Action::PublicView, landing)
        .get("/public/certificates/keys", Action::PublicView, keys)
        .get(
            "/public/certificates/status",
            Action::PublicView,
            status_list,
        )
        .get(
            "/public/certificates/verify",
            Action::PublicView,
            verifier_page,
        )
        .get("/static/verify.js", Action::PublicView, verifier_js)
}

pub fn api_routes() -> ApiRouter {
    ApiRouter::new().routes(crate::routing::guard(
        Action::PublicView,
        routes!(api_query),
    ))
}

/// Window of the rate limit.
const WINDOW_SECS: i64 = 60;

/// Count the query of `channel` against the client's limit; a 429 with a Chinese message beyond it.
async fn guard(
    state: &AppState,
    meta: &RequestMeta,
    channel: &'static str,
) -> Result<(), AppError> {
    let limit = state.config.public_query_limit;
    if state
        .store
        .public_query_allowed(&meta.client_addr, limit, WINDOW_SECS)
        .await?
    {
        Ok(())
    } else {
        state.metrics.count_cert_query(channel, "limited");
        Err(AppError::TooManyRequests(format!(
            "查询过于频繁：每个网络地址每分钟最多查询 {limit} 次，请稍后再试"
        )))
    }
}

/// A certificate number checked against the policy's numbering schemes (Chinese message).
fn check_number(state: &AppState, number: &str) -> Result<String, AppError> {
    let n = number.trim().to_uppercase();
    state
        .policy
        .numbering()
        .validate_any(&n)
        .map(|_| n)
        .map_err(|e| AppError::BadRequest(e.to_string()))
}

/// What a query found.
pub enum Outcome {
    Found(Vec<PublicCertificate>),
    NotFound,
}

/// Service: the public query. By number + name, or by name + ID number.
pub async fn query(
    state: &AppState,
    meta: &RequestMeta,
    channel: &'static str,
    number: Option<&str>,
    name: &str,
    id_number: Option<&str>,
) -> Result<Outcome, AppError> {
    guard(state, meta, channel).await?;
    let name = name.trim();
    let result = async {
        if name.is_empty() {
            return Err(AppError::invalid("name", "请填写持证人姓名"));
        }
        if name.chars().count() > 30 {
            return Err(AppError::invalid("name", "姓名过长"));
        }
        match (
            number.map(str::trim).filter(|s| !s.is_empty()),
            id_number.map(str::trim).filter(|s| !s.is_empty()),
        ) {
            (Some(no), _) => {
                let no = check_number(state, no)?;
                Ok(state
                    .store
                    .find_certificate(&no, name)
                    .await?
                    .into_iter()
                    .collect::<Vec<_>>())
            }
            (None, Some(id)) => {
                let id = id.to_uppercase();
                let plausible = domain::id_number::IdNumber::parse(&id).is_ok()
                    || ((6..=20).contains(&id.len())
                        && id.chars().all(|c| c.is_ascii_alphanumeric())
                        && id.len() != 18);
                if !plausible {
                    return Err(AppError::invalid(
                        "id_number",
                        "证件号码格式不正确（居民身份证为18位，末位可为X）",
                    ));
                }
                Ok(state.store.find_certificates_by_id(name, &id).await?)
            }
            (None, None) => Err(AppError::invalid(
                "cert_no",
                "请填写证书编号，或填写证件号码",
            )),
        }
    }
    .await;
    match result {
        Ok(v) if v.is_empty() => {
            state.metrics.count_cert_query(channel, "not_found");
            Ok(Outcome::NotFound)
        }
        Ok(v) => {
            state.metrics.count_cert_query(channel, "found");
            Ok(Outcome::Found(v))
        }
        Err(e) => {
            state.metrics.count_cert_query(channel, "invalid");
            Err(e)
        }
    }
}

#[derive(Deserialize, Default)]
struct QueryParams {
    cert_no: Option<String>,
    name: Option<String>,
    id_number: Option<String>,
    /// "id": the name + ID number form.
    by: Option<String>,
}

#[derive(Template)]
#[template(path = "certificate_query.html")]
struct QueryPage {
    layout: Layout,
    cert_no: String,
    name: String,
    by_id: bool,
    searched: bool,
    error: Option<String>,
    found: Vec<PublicCertificate>,
}

async fn query_page(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    meta: RequestMeta,
    Query(q): Query<QueryParams>,
) -> Result<Response, AppError> {
    let by_id = q.by.as_deref() == Some("id") || q.id_number.is_some();
    let searched = q.cert_no.is_some() || q.name.is_some() || q.id_number.is_some();
    let mut page = QueryPage {
        layout: Layout::new(&state, me.as_ref(), "证书查询", "/public/certificates"),
        cert_no: q.cert_no.clone().unwrap_or_default().trim().to_uppercase(),
        name: q.name.clone().unwrap_or_default().trim().to_string(),
        by_id,
        searched,
        error: None,
        found: vec![],
    };
    if !searched {
        return Ok(render_status(StatusCode::OK, &page));
    }
    let channel = if by_id { "id" } else { "page" };
    let number = if by_id { None } else { q.cert_no.as_deref() };
    let status = match query(
        &state,
        &meta,
        channel,
        number,
        page.name.as_str(),
        q.id_number.as_deref(),
    )
    .await
    {
        Ok(Outcome::Found(v)) => {
            page.found = v;
            StatusCode::OK
        }
        Ok(Outcome::NotFound) => StatusCode::NOT_FOUND,
        Err(AppError::TooManyRequests(m)) => return Err(AppError::TooManyRequests(m)),
        Err(e) => {
            let s = e.status();
            page.error = Some(e.to_string());
            s
        }
    };
    Ok(render_status(status, &page))
}

#[derive(Deserialize, Default)]
struct LandingParams {
    /// The signed payload (COSE_Sign1 in decimal digits, as in the QR code).
    s: Option<String>,
}

#[derive(Template)]
#[template(path = "certificate_landing.html")]
struct LandingPage {
    layout: Layout,
    number: String,
    /// The signed content (None: the page was opened without the QR's signature).
    signed: Option<certsign::CertificatePayload>,
    signed_level: String,
    key_id: String,
    /// The live record (None: unknown to the database).
    live: Option<PublicCertificate>,
}

/// Service: the QR landing. The signature is checked first (an altered QR text is refused);
/// the state comes from the live database.
pub async fn verify_qr(
    state: &AppState,
    meta: &RequestMeta,
    number: &str,
    s: &str,
) -> Result<
    (
        certsign::CertificatePayload,
        String,
        Option<PublicCertificate>,
    ),
    AppError,
> {
    guard(state, meta, "qr").await?;
    let text = format!("/v/{number}?s={s}");
    let verified = state.certs.ring.verify_qr(&text).and_then(|p| {
        let (_, cose) = certsign::parse_qr_text(&text)?;
        Ok((p, certsign::CoseSign1::parse(&cose)?.kid))
    });
    let (payload, kid) = match verified {
        Ok(v) => v,
        Err(e) => {
            state.metrics.count_cert_query("qr", "invalid");
            return Err(AppError::invalid("s", e.to_string()));
        }
    };
    let live = state
        .store
        .public_certificate_by_no(&payload.number)
        .await?;
    state
        .metrics
        .count_cert_query("qr", if live.is_some() { "found" } else { "not_found" });
    Ok((payload, hex::encode(kid), live))
}

async fn landing(
    State(state): State<AppState>,
    MaybeAuthed(me): MaybeAuthed,
    meta: RequestMeta,
    Path(number): Path<String>,
    Query(q): Query<LandingParams>,
) -> Result<Response, AppError> {
    let layout = Layout::new(&state, me.as_ref(), "证书查验", "/public/certificates");
    let Some(s) = q.s.filter(|s| !s.is_empty()) else {
        let number = check_number(&state, &number)?;
        return Ok(render_status(
            StatusCode::OK,
            &LandingPage {
                layout,
                number,
                signed: None,
                signed_level: String::new(),
                key_id: String::new(),
                live: None,
            },
        ));
    };
    let (payload, key_id, live) = verify_qr(&state, &meta, &number, &s).await?;
    Ok(render_status(
        if live.is_some() {
            StatusCode::OK
        } else {
            StatusCode::NOT_FOUND
        },
        &LandingPage {
            layout,
            number: payload.number.clone(),
            signed_level: super::level_name(payload.level as i64),
            signed: Some(payload),
            key_id,
            live,
        },
    ))
}

/// The published public keys with their validity (JSON key file, see docs/certificate-format.md).
async fn keys(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        state.certs.ring.to_json(),
    )
        .into_response()
}

/// Public service: the signed, dated status list (W3C Bitstring Status List v1.0, 证书状态列表) of
/// revoked and corrected certificates, for offline verifiers, as JSON text. The online query
/// always reads the live database.
pub async fn signed_status_list(state: &AppState, base: &str) -> Result<String, AppError> {
    let key = state.certs.signer()?;
    let (revoked, last) = state.store.status_list_entries().await?;
    let len = ((last + 1).max(0) as usize).max(certsign::StatusList::MIN_BITS);
    let mut list = certsign::StatusList::new(len);
    for i in revoked {
        if let Ok(i) = u32::try_from(i) {
            list.set(i, true);
        }
    }
    Ok(list.to_credential(
        &key,
        &format!("{base}/public/certificates/status"),
        &format!("{base}/"),
        &format!("{base}/public/certificates/keys"),
        state.now_unix(),
    ))
}

async fn status_list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let json = signed_status_list(&state, &super::base_url(&state, &headers)).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        json,
    )
        .into_response())
}

/// The offline verifier (static page: checks a QR text in the browser with WebCrypto Ed25519
/// against the published keys, without sending the QR text anywhere).
async fn verifier_page() -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        include_str!("../../static/verify.html"),
    )
        .into_response()
}

async fn verifier_js() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/verify.js"),
    )
        .into_response()
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ApiQueryParams {
    /// 持证人姓名 (must match).
    name: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/public/certificates/{number}", tag = "公开信息", operation_id = "public_certificate", security(()),
    params(("number" = String, Path, description = "证书编号（22位）"), ApiQueryParams),
    responses((status = 200, body = PublicCertificate, description = "证书（证件号码脱敏，状态取自实时数据库：有效/已撤销/已更正）"),
        (status = 400, body = crate::api::ErrorBody, description = "证书编号格式不正确"),
        (status = 404, body = crate::api::ErrorBody, description = "编号与姓名不匹配或不存在"),
        (status = 422, body = crate::api::ErrorBody, description = "缺少姓名"),
        (status = 429, body = crate::api::ErrorBody, description = "查询过于频繁")))]
async fn api_query(
    State(state): State<AppState>,
    meta: RequestMeta,
    Path(number): Path<String>,
    Query(q): Query<ApiQueryParams>,
) -> Result<Json<PublicCertificate>, AppError> {
    match query(
        &state,
        &meta,
        "api",
        Some(&number),
        q.name.as_deref().unwrap_or(""),
        None,
    )
    .await?
    {
        Outcome::Found(mut v) => Ok(Json(v.remove(0))),
        Outcome::NotFound => Err(AppError::NotFound),
    }
}
