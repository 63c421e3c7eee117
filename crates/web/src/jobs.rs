//! Background jobs with progress: [`spawn_job`] runs a closure on a tokio task and keeps its
//! progress in the `jobs` table, so the page `/jobs/{id}` (polling `GET /api/v1/jobs/{id}`
//! from static/app.js) works whichever app server answers.
//!
//! ```ignore
//! let job_id = jobs::spawn_job(&state.store, &me.actor(), "candidate_import", Some(inst), move |p| async move {
//!     for (i, row) in rows.iter().enumerate() {
//!         p.set(i as i64 + 1, rows.len() as i64, "正在校验").await;
//!         …
//!     }
//!     Ok(JobOutcome::new("已导入 120 名考生").link(format!("/plans/{plan}")))
//!     // or Err(JobOutcome::new("第 3 行有误，未导入任何记录").report_url(format!("/documents/{id}")))
//! }).await?;
//! Ok(Redirect::to(&format!("/jobs/{job_id}")))
//! ```

use crate::routing::guard;
use crate::routing::Routes;
use domain::Action;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::Serialize;
use store::{Actor, Job, Store};
use tokio::sync::Mutex;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::error::AppError;
use crate::pages::{render, Layout};
use crate::AppState;
use utoipa_axum::routes;

pub fn router() -> Routes {
    Routes::new()
        .get("/jobs/{id}", Action::OwnAccount, page)
        .get("/jobs/{id}/report", Action::OwnAccount, report)
}

/// The job route of the API with its documentation (see `api::v1`).
pub fn api_routes() -> ApiRouter {
    ApiRouter::new().routes(guard(Action::OwnAccount, routes!(api_job)))
}

/// How a job ended: a Chinese message and a JSON result (conventions: `link`, `report_url`).
#[derive(Debug, Clone, Default)]
pub struct JobOutcome {
    pub message: String,
    pub result: serde_json::Map<String, serde_json::Value>,
}

impl JobOutcome {
    pub fn new(message: impl Into<String>) -> JobOutcome {
        JobOutcome {
            message: message.into(),
            result: Default::default(),
        }
    }
    /// Where to see the outcome (shown as a button when the job is done).
    pub fn link(self, url: impl Into<String>) -> JobOutcome {
        self.with("link", url.into())
    }
    /// A downloadable per-row error report.
    pub fn report_url(self, url: impl Into<String>) -> JobOutcome {
        self.with("report_url", url.into())
    }
    pub fn with(mut self, key: &str, value: impl Into<serde_json::Value>) -> JobOutcome {
        self.result.insert(key.to_string(), value.into());
        self
    }
}

/// Handed to the job's closure to report progress. Writes are throttled (at most one every
/// 500 ms, plus the first and the last) and never fail the job.
#[derive(Clone)]
pub struct Progress {
    store: Store,
    job_id: i64,
    last: Arc<Mutex<Option<Instant>>>,
}

impl Progress {
    pub fn job_id(&self) -> i64 {
        self.job_id
    }

    /// Store a per-row error report (headers 行号, 列, 错误说明) in the blob store. Returns the
    /// download URL (`/jobs/{id}/report`) and the blob key; put both in the outcome
    /// (`report_url`, `report_key`), as `imports::validate_rows` does.
    pub async fn save_report(&self, rows: &[Vec<String>]) -> Result<(String, String), AppError> {
        let bytes = sheets::write_report("错误报告", &["行号", "列", "错误说明"], rows)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        let blob = self.store.blobs.put(&bytes).await?;
        Ok((format!("/jobs/{}/report", self.job_id), blob.key))
    }

    /// `done` of `total` steps, with a short Chinese message.
    pub async fn set(&self, done: i64, total: i64, message: &str) {
        let mut last = self.last.lock().await;
        let due = match *last {
            None => true,
            Some(t) => t.elapsed() >= Duration::from_millis(500) || done >= total,
        };
        if !due {
            return;
        }
        match self
            .store
            .update_progress(self.job_id, done, total, message)
            .await
        {
            Ok(true) => *last = Some(Instant::now()),
            Ok(false) => {}
            Err(e) => tracing::warn!(job = self.job_id, error = %e, "progress update failed"),
        }
    }
}

/// Create a job owned by `actor` and run `work` on a tokio task. Returns the job id at once.
/// `Ok(outcome)` ends the job `succeeded`, `Err(outcome)` ends it `failed`; a panic ends it
/// `failed` with a generic message (the detail is logged).
pub async fn spawn_job<F, Fut>(
    store: &Store,
    actor: &Actor,
    kind: &str,
    institution_id: Option<i64>,
    work: F,
) -> Result<i64, AppError>
where
    F: FnOnce(Progress) -> Fut + Send + 'static,
    Fut: Future<Output = Result<JobOutcome, JobOutcome>> + Send + 'static,
{
    // The lease lives as long as the task: a job nobody holds is an interrupted one.
    let (job, lease) = store.create_job(actor, kind, institution_id).await?;
    let id = job.id;
    let progress = Progress {
        store: store.clone(),
        job_id: id,
        last: Arc::new(Mutex::new(None)),
    };
    let store = store.clone();
    tokio::spawn(async move {
        let handle = tokio::spawn(work(progress));
        let (ok, outcome) = match handle.await {
            Ok(Ok(o)) => (true, o),
            Ok(Err(o)) => (false, o),
            Err(e) => {
                tracing::error!(job = id, error = %e, "job panicked");
                (
                    false,
                    JobOutcome::new("任务异常终止，请稍后重试或联系管理员"),
                )
            }
        };
        let result = serde_json::Value::Object(outcome.result);
        if let Err(e) = store
            .finish_job(id, ok, &outcome.message, Some(&result))
            .await
        {
            tracing::error!(job = id, error = %e, "could not record the end of a job");
        }
        lease.release().await;
    });
    Ok(id)
}

/// The JSON of `GET /api/v1/jobs/{id}`.
#[derive(Serialize)]
pub struct JobView {
    pub id: i64,
    pub kind: String,
    pub status: domain::job::JobStatus,
    pub status_label: &'static str,
    pub done: i64,
    pub total: i64,
    pub message: String,
    pub result: Option<serde_json::Value>,
    pub finished: bool,
}

impl From<Job> for JobView {
    fn from(j: Job) -> JobView {
        JobView {
            status_label: j.status_label(),
            finished: j.is_finished(),
            id: j.id,
            kind: j.kind,
            status: j.status,
            done: j.done,
            total: j.total,
            message: j.message,
            result: j.result,
        }
    }
}

/// 后台任务: a job its starter or a city user may follow (otherwise "not found").
pub async fn job(state: &AppState, me: &Authed, id: i64) -> Result<Job, AppError> {
    me.may(Action::OwnAccount)?;
    Ok(state.store.job(me.account.id, &me.scope(), id).await?)
}

/// 错误报告: the xlsx error report of a job (from `result.report_key`), through the job's scope.
pub async fn job_report(state: &AppState, me: &Authed, id: i64) -> Result<Vec<u8>, AppError> {
    let job = job(state, me, id).await?;
    let key = job
        .result
        .as_ref()
        .and_then(|r| r.get("report_key"))
        .and_then(|v| v.as_str())
        .ok_or(AppError::NotFound)?;
    Ok(state.store.blobs.get(key).await?)
}

/// The OpenAPI paths of this module (merged into `/api/openapi.json`).

#[utoipa::path(get, path = "/api/v1/jobs/{id}", tag = "后台任务", params(("id" = i64, Path)),
    responses((status = 200, body = crate::api::schema::Object, description = "{id, kind, status: queued|running|succeeded|failed, status_label, done, total, message, result, finished}"), (status = 404, description = "不存在，或既非发起人也非市级用户")))]
async fn api_job(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<JobView>, AppError> {
    Ok(Json(job(&state, &me, id).await?.into()))
}

#[derive(Template)]
#[template(path = "job.html")]
struct JobPage {
    layout: Layout,
    job: Job,
    link: Option<String>,
    report_url: Option<String>,
}

fn result_str(job: &Job, key: &str) -> Option<String> {
    job.result
        .as_ref()
        .and_then(|r| r.get(key))
        .and_then(|v| v.as_str())
        .filter(|s| s.starts_with('/'))
        .map(str::to_string)
}

/// The error report of a job (owner or city), from `result.report_key`.
async fn report(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let bytes = job_report(&state, &me, id).await?;
    Ok(crate::upload::send_bytes(
        &format!("错误报告-任务{id}.xlsx"),
        sheets::XLSX_CONTENT_TYPE,
        bytes,
    ))
}

async fn page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let job = job(&state, &me, id).await?;
    Ok(render(&JobPage {
        layout: Layout::new(&state, Some(&me), "后台任务", ""),
        link: result_str(&job, "link"),
        report_url: result_str(&job, "report_url"),
        job,
    }))
}
