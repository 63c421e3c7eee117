//! The HTTP face of skilleval: Chinese pages (askama) and the JSON API under `/api/v1`.
//! Handlers translate; the domain decides; the store remembers.

pub mod accounts;
pub mod api;
pub mod audit;
pub mod auth;
pub mod body;
pub mod certificates;
pub mod documents;
pub mod error;
pub mod evaluation;
pub mod filing;
pub mod forms;
pub mod imports;
pub mod institutions;
pub mod jobs;
pub mod middleware;
pub mod notifications;
pub mod outbox;
pub mod outreach;
pub mod pages;
pub mod published;
mod queue;
pub mod reference;
pub mod registration;
pub mod retention;
pub mod review;
pub mod routing;
pub mod scheduler;
pub mod statistics;
pub mod upload;
pub mod workbench;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Router;
use domain::calendar::HolidayCalendar;
use domain::policy::Policy;
use store::{LoginLimits, Store};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use error::AppError;
pub use queue::today_cn;

/// Settings of the web layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// Demo mode: the login page shows the demo password.
    pub demo: bool,
    /// Take the client address from `X-Forwarded-For` (only behind our own proxy).
    pub trust_proxy: bool,
    /// Mark the session cookie `Secure` (behind HTTPS).
    pub secure_cookies: bool,
    pub session_hours: i64,
    /// Limit of every request body except uploads.
    pub max_body_bytes: usize,
    /// Limit of the files of one upload request (routes with `upload::upload_limit_layer()`).
    pub max_upload_bytes: usize,
    pub login_limits: LoginLimits,
    /// Pin "today" (China time) for drills and tests of date rules (增量备案 windows, 公示期).
    pub fixed_today: Option<chrono::NaiveDate>,
    /// Run the scheduler (到期处理) in this server. Tests drive it by hand instead.
    pub scheduler: bool,
    /// The public address of the platform (behind a reverse proxy that may rewrite `Host`):
    /// browsers' form posts must come from this origin, and certificate QR codes print it.
    /// `None`: from the origin of `Host`.
    pub public_url: Option<String>,
    /// More origins whose pages may post here.
    pub trusted_origins: Vec<String>,
    /// The certificate signing key (read by the binary from the PEM file of the settings; never
    /// from the database). `None`: a demo server derives the demo key, any other cannot issue.
    pub cert_signing_key: Option<Arc<certsign::SigningKey>>,
    /// The published public keys with their validity (the key file of the settings). `None`:
    /// the signing key's public key alone.
    pub cert_public_keys: Option<Arc<certsign::KeyRing>>,
    /// Public certificate queries per client address per minute (all app servers together).
    pub public_query_limit: u32,
    /// Where the scheduler appends anchors of the audit chain (审计锚点) and whence
    /// `/api/v1/public/audit/anchors` reads them. `None`: no periodic anchors.
    pub anchor_dir: Option<std::path::PathBuf>,
    /// How often the scheduler anchors the chain's head.
    pub anchor_every: std::time::Duration,
    /// The outbox sender (SMTP, SMS gateway) with its retry rule. `None`: no channel is
    /// configured, SMS and e-mail stay pending (the admin page says so).
    pub outbox: Option<outbox::OutboxConfig>,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            demo: false,
            trust_proxy: false,
            secure_cookies: false,
            session_hours: 12,
            max_body_bytes: 2 * 1024 * 1024,
            max_upload_bytes: 20 * 1024 * 1024,
            login_limits: LoginLimits::default(),
            fixed_today: None,
            scheduler: true,
            public_url: None,
            trusted_origins: Vec::new(),
            cert_signing_key: None,
            cert_public_keys: None,
            public_query_limit: 30,
            anchor_dir: None,
            anchor_every: std::time::Duration::from_secs(3600),
            outbox: None,
        }
    }
}

/// A value cached for display, with the time it was read.
type Cached<T> = Arc<tokio::sync::RwLock<Option<(std::time::Instant, Arc<T>)>>>;

/// Shared by every request.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<WebConfig>,
    pub policy: Arc<Policy>,
    pub metrics: Arc<middleware::Metrics>,
    /// Certificate keys: the signing key (if any) and the published key ring.
    pub certs: Arc<certificates::CertKeys>,
    calendar: Cached<HolidayCalendar>,
    /// When this server started (monotonic): a pinned server's clock runs on from its pinned noon.
    started: std::time::Instant,
    districts: Cached<Vec<store::Division>>,
}

impl AppState {
    /// Today in China time (+08:00), or the pinned date of the configuration.
    pub fn today(&self) -> chrono::NaiveDate {
        self.config.fixed_today.unwrap_or_else(queue::today_cn)
    }

    /// Now as unix seconds (signing times of published lists). While "today" is pinned, noon
    /// of that day in China time, so that pinned servers and tests never read the clock.
    pub fn now_unix(&self) -> i64 {
        match self.config.fixed_today {
            Some(d) => d.and_hms_opt(4, 0, 0).expect("time").and_utc().timestamp(),
            None => chrono::Utc::now().timestamp(),
        }
    }

    /// Now, for timers that must run (the outbox's back-off). While "today" is pinned: noon
    /// of that day in China time plus the time this server has run, so retries still come due
    /// in a drill; tests pass their own times to the sender and never call this.
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        match self.config.fixed_today {
            Some(_) => {
                chrono::DateTime::from_timestamp(self.now_unix(), 0).expect("valid time")
                    + chrono::Duration::from_std(self.started.elapsed()).unwrap_or_default()
            }
            None => chrono::Utc::now(),
        }
    }

    pub fn new(store: Store, config: WebConfig, policy: Policy) -> AppState {
        let certs = Arc::new(certificates::CertKeys::from_config(&config));
        AppState {
            store,
            certs,
            config: Arc::new(config),
            policy: Arc::new(policy),
            metrics: Arc::new(middleware::Metrics::default()),
            calendar: Arc::default(),
            started: std::time::Instant::now(),
            districts: Arc::default(),
        }
    }

    /// The districts for display (filters of public lists), cached for a minute like the
    /// display calendar: the public pages then cost one query less.
    pub async fn display_districts(&self) -> Result<Arc<Vec<store::Division>>, AppError> {
        if let Some((at, d)) = self.districts.read().await.as_ref() {
            if at.elapsed() < Duration::from_secs(60) {
                return Ok(d.clone());
            }
        }
        let d = Arc::new(self.store.districts().await?);
        *self.districts.write().await = Some((std::time::Instant::now(), d.clone()));
        Ok(d)
    }

    /// The working-day calendar for display (waiting times), cached for a minute: an admin's edit
    /// reaches every app server within that time. Rules that refuse something load it fresh.
    pub async fn display_calendar(&self) -> Result<Arc<HolidayCalendar>, AppError> {
        if let Some((at, cal)) = self.calendar.read().await.as_ref() {
            if at.elapsed() < Duration::from_secs(60) {
                return Ok(cal.clone());
            }
        }
        let cal = Arc::new(self.store.holiday_calendar().await?);
        *self.calendar.write().await = Some((std::time::Instant::now(), cal.clone()));
        Ok(cal)
    }
}

/// Every page route with the action it needs (the API's are in its OpenAPI document).
pub fn page_routes() -> routing::Routes {
    use domain::Action;
    routing::Routes::new()
        .merge(pages::router())
        .merge(documents::router())
        .merge(jobs::router())
        .merge(notifications::router())
        .merge(outbox::router())
        .merge(outreach::router())
        .merge(registration::router())
        .merge(certificates::router())
        .merge(retention::router())
        .get("/healthz", Action::PublicView, healthz)
        .get("/metrics", Action::PublicView, metrics)
        .get("/static/app.css", Action::PublicView, css)
        .get("/static/app.js", Action::PublicView, js)
        .get("/favicon.ico", Action::PublicView, favicon)
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    // The outer cap admits uploads; every route not marked as an upload route keeps
    // `max_body` through `DefaultBodyLimit` (see `upload`).
    let max_upload = state.config.max_upload_bytes;
    let max_request = max_body.max(max_upload + upload::MULTIPART_OVERHEAD);
    page_routes()
        .into_router()
        .merge(api::router())
        .fallback(not_found)
        // The permission gate of every route (routing::gate) reads the state from here.
        .layer(axum::Extension(state.clone()))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::track_metrics,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::csrf_guard,
        ))
        .layer(axum::middleware::from_fn(middleware::refuse_nul_in_uri))
        .layer(CatchPanicLayer::custom(|_| {
            AppError::Internal("panic in handler".into()).into_response()
        }))
        .layer(RequestBodyLimitLayer::new(max_request))
        .layer(axum::middleware::from_fn(move |req, next| {
            upload::refuse_declared_oversize(req, next, max_request, max_upload)
        }))
        .layer(axum::middleware::from_fn(error::render_error_pages))
        .layer(axum::middleware::from_fn(middleware::security_headers))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(middleware::RandomRequestId))
        .with_state(state)
}

/// Serve until ctrl-c (or SIGTERM).
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    if state.config.scheduler {
        scheduler::spawn(state.clone());
        outbox::spawn(state.clone());
    }
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    // Give in-flight requests a moment; axum waits for them anyway.
    tokio::time::sleep(Duration::from_millis(50)).await;
}

/// 健康检查, a public view (no caller): whether the database answers.
pub async fn database_ready(state: &AppState) -> bool {
    state.store.db.ping().await.is_ok()
}

async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    if database_ready(&state).await {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unavailable")
    }
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}

async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.css"),
    )
}

async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../static/app.js"),
    )
}

/// The site icon (browsers ask for it on every first visit; made by static/make_favicon.py).
async fn favicon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/x-icon"),
            (header::CACHE_CONTROL, "public, max-age=86400"),
        ],
        include_bytes!("../static/favicon.ico").as_slice(),
    )
}

async fn not_found() -> AppError {
    AppError::NotFound
}
