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

/// Cross-origin protection as browsers and Go 1.25's `http.CrossOriginProtection` define it:
///
/// - GET, HEAD and OPTIONS pass (they change nothing);
/// - `Sec-Fetch-Site: same-origin` or `none` (typed into the address bar) passes; any other
///   value (`same-site`, `cross-site`) is refused unless `Origin` is a trusted origin;
/// - without `Sec-Fetch-Site` (older browsers), `Origin` must be a trusted origin: the
///   configured `public_url`, one of `trusted_origins`, or, when no `public_url` is set, the
///   origin of the `Host` the request names;
/// - a request with neither header did not come from a browser (curl, scripts, other systems:
///   they carry no ambient cookies of a victim) and passes.
///
/// Cookie-less bearer requests pass too: a page on another site cannot attach a bearer token.
/// A path or query string with a NUL character (`%00`) is refused with a 400 before any
/// extractor reads it (PostgreSQL refuses NUL in text; no form of ours sends one).
pub async fn refuse_nul_in_uri(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let nul = |s: &str| {
        s.as_bytes()
            .windows(3)
            .any(|w| w.eq_ignore_ascii_case(b"%00"))
    };
    if nul(uri.path()) || uri.query().is_some_and(nul) {
        return crate::body::nul_refused().into_response();
    }
    next.run(req).await
}

pub async fn csrf_guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
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
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    let config = &state.config;
    fn listed(list: &[String], o: &str) -> bool {
        normalize_origin(o).is_ok_and(|o| {
            list.iter()
                .any(|t| normalize_origin(t).is_ok_and(|t| t == o))
        })
    }
    // An origin another system was given leave to post from (Go: AddTrustedOrigin).
    let extra = |o: &str| listed(&config.trusted_origins, o);
    // Our own origin: the public URL, or the Host the request names when none is configured.
    let own = |o: &str| match &config.public_url {
        Some(public) => listed(std::slice::from_ref(public), o),
        None => normalize_origin(o).is_ok_and(|o| {
            host.is_some_and(|hst| {
                o.split_once("://")
                    .is_some_and(|(_, a)| a.eq_ignore_ascii_case(hst))
            })
        }),
    };
    let refused = match (site, origin) {
        (Some("same-origin" | "none"), _) => false,
        (Some(_), o) => !o.is_some_and(extra),
        (None, Some(o)) => !(own(o) || extra(o)),
        (None, None) => false,
    };
    if refused {
        tracing::warn!(path = %req.uri().path(), ?origin, ?site, ?host, "cross-origin request refused");
        return AppError::Forbidden(
            "跨站请求已被拒绝（CSRF 防护）：请从本平台的页面提交；经反向代理访问时，请管理员配置 public_url"
                .into(),
        )
        .into_response();
    }
    next.run(req).await
}

/// The origin of a URL: lower-case `scheme://host[:port]`, without a default port, path or
/// trailing slash. Only http and https URLs have one.
pub fn normalize_origin(url: &str) -> Result<String, String> {
    let url = url.trim();
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("“{url}”不是 http(s):// 开头的地址"))?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return Err(format!("“{url}”不是 http(s):// 开头的地址")),
    };
    let authority = rest
        .split(['/', '?', '#'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if authority.is_empty() || authority.contains('@') || authority.contains(char::is_whitespace) {
        return Err(format!("“{url}”中没有有效的主机名"));
    }
    let authority = authority
        .strip_suffix(default_port)
        .unwrap_or(&authority)
        .to_string();
    Ok(format!("{scheme}://{authority}"))
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

#[cfg(test)]
mod tests {
    use super::normalize_origin;

    #[test]
    fn origins_normalise_to_scheme_host_port() {
        let n = |u: &str| normalize_origin(u);
        assert_eq!(
            n("https://PJ.example.gov.cn/").unwrap(),
            "https://pj.example.gov.cn"
        );
        assert_eq!(
            n("https://pj.example.gov.cn:443/login?x=1").unwrap(),
            "https://pj.example.gov.cn"
        );
        assert_eq!(
            n("http://pj.example.gov.cn:80").unwrap(),
            "http://pj.example.gov.cn"
        );
        assert_eq!(n("http://10.0.0.5:8080").unwrap(), "http://10.0.0.5:8080");
        assert_ne!(
            n("http://pj.example.gov.cn").unwrap(),
            n("https://pj.example.gov.cn").unwrap()
        );
        for bad in [
            "null",
            "pj.example.gov.cn",
            "ftp://x",
            "https://",
            "https://u:p@evil.example",
        ] {
            assert!(n(bad).is_err(), "{bad}");
        }
    }
}
