//! Cross-cutting layers: CSRF refusal, security headers, request ids, per-route metrics.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tower_http::request_id::{MakeRequestId, RequestId};

use crate::auth::{bearer_token, cookie_value, SESSION_COOKIE};
use crate::error::AppError;
use crate::AppState;

/// Refuse state-changing requests that a browser sent from another site. Cookie-less bearer
/// requests are exempt (a browser cannot attach a bearer token cross-site).
pub async fn csrf_guard(req: Request, next: Next) -> Response {
    let m = req.method();
    if m == Method::GET || m == Method::HEAD || m == Method::OPTIONS {
        return next.run(req).await;
    }
    let h = req.headers();
    if bearer_token(h).is_some() && cookie_value(h, SESSION_COOKIE).is_none() {
        return next.run(req).await;
    }
    let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let same_origin = |o: &str| {
        o.split_once("://")
            .map(|(_, rest)| rest.trim_end_matches('/') == host)
            .unwrap_or(false)
    };
    let refused = match (site, origin) {
        (Some(s), _) if s != "same-origin" && s != "none" => true,
        (_, Some(o)) => !same_origin(o),
        (None, None) => true,
        _ => false,
    };
    if refused {
        tracing::warn!(path = %req.uri().path(), ?origin, ?site, "cross-site request refused");
        return AppError::Forbidden("跨站请求已被拒绝（CSRF 防护）".into()).into_response();
    }
    next.run(req).await
}

/// Security headers on every response; no caching of anything but static assets.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=()"),
    );
    if !is_static && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// Request ids: 16 random bytes in hex.
#[derive(Clone, Default)]
pub struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let bytes: [u8; 16] = rand::random();
        HeaderValue::from_str(&hex::encode(bytes))
            .ok()
            .map(RequestId::new)
    }
}

const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default)]
struct RouteStats {
    count: u64,
    sum: f64,
    buckets: [u64; BUCKETS.len()],
}

/// Request counts and latency histograms per route, in Prometheus text format.
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<BTreeMap<(String, String, u16), RouteStats>>,
    /// Public certificate queries by channel (page, id, qr, api) and outcome.
    cert_queries: Mutex<BTreeMap<(&'static str, &'static str), u64>>,
}

impl Metrics {
    /// Count one public certificate query: `channel` page | id | qr | api, `outcome` found |
    /// not_found | invalid | limited.
    pub fn count_cert_query(&self, channel: &'static str, outcome: &'static str) {
        let mut map = self.cert_queries.lock().unwrap_or_else(|e| e.into_inner());
        *map.entry((channel, outcome)).or_default() += 1;
    }

    fn observe(&self, method: &str, route: &str, status: u16, secs: f64) {
        let mut map = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let s = map
            .entry((method.to_string(), route.to_string(), status))
            .or_default();
        s.count += 1;
        s.sum += secs;
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                s.buckets[i] += 1;
            }
        }
    }

    pub fn render(&self) -> String {
        use std::fmt::Write;
        let map = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = String::new();
        out.push_str("# HELP skilleval_http_requests_total HTTP requests by route and status.\n# TYPE skilleval_http_requests_total counter\n");
        for ((m, r, st), s) in map.iter() {
            let _ = writeln!(
                out,
                "skilleval_http_requests_total{{method=\"{m}\",route=\"{r}\",status=\"{st}\"}} {}",
                s.count
            );
        }
        {
            let q = self.cert_queries.lock().unwrap_or_else(|e| e.into_inner());
            out.push_str("# HELP skilleval_certificate_queries_total Public certificate queries by channel and outcome.\n# TYPE skilleval_certificate_queries_total counter\n");
            for ((c, o), n) in q.iter() {
                let _ = writeln!(
                    out,
                    "skilleval_certificate_queries_total{{channel=\"{c}\",outcome=\"{o}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP skilleval_http_request_duration_seconds HTTP request latency by route.\n# TYPE skilleval_http_request_duration_seconds histogram\n");
        for ((m, r, st), s) in map.iter() {
            let labels = format!("method=\"{m}\",route=\"{r}\",status=\"{st}\"");
            for (i, b) in BUCKETS.iter().enumerate() {
                let _ = writeln!(
                    out,
                    "skilleval_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                    s.buckets[i]
                );
            }
            let _ = writeln!(
                out,
                "skilleval_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                s.count
            );
            let _ = writeln!(
                out,
                "skilleval_http_request_duration_seconds_sum{{{labels}}} {}",
                s.sum
            );
            let _ = writeln!(
                out,
                "skilleval_http_request_duration_seconds_count{{{labels}}} {}",
                s.count
            );
        }
        out
    }
}

pub async fn track_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // Unmatched paths share one label, so scanners cannot blow up the series count.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let resp = next.run(req).await;
    state.metrics.observe(
        &method,
        &route,
        resp.status().as_u16(),
        start.elapsed().as_secs_f64(),
    );
    resp
}
