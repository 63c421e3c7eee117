//! 证书数据的生成 (市职业技能鉴定中心): which plans wait, what blocks a candidate (photo, 一人多证),
//! issuing a batch as a background job with progress, resuming or abandoning it. The photos it
//! needs are in `photos`.

use crate::routing::{guard, Routes};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use domain::certissue::{self, Blocker};
use domain::Action;
use serde::{Deserialize, Serialize};
use store::{Actor, CertBatch, IssueCandidate, PageRequest, Plan, PlanFilter};
use utoipa::ToSchema;
use utoipa_axum::routes;

use crate::api::ApiRouter;
use crate::auth::Authed;
use crate::body::FormBody;
use crate::error::AppError;
use crate::evaluation::refused;
use crate::jobs::{spawn_job, JobOutcome};
use crate::pages::{flash_text, render, Layout};
use crate::AppState;

pub fn router() -> Routes {
    Routes::new()
        .get(
            "/certificates/issue",
            Action::CertificatePrepare,
            plans_page,
        )
        .get(
            "/plans/{id}/certificates",
            Action::CertificatePrepare,
            preview_page,
        )
        .post(
            "/plans/{id}/certificates/issue",
            Action::CertificateIssue,
            issue_form,
        )
        .get("/cert-batches/{id}", Action::CertificatePrepare, batch_page)
        .post(
            "/cert-batches/{id}/resume",
            Action::CertificateIssue,
            resume_form,
        )
        .post(
            "/cert-batches/{id}/abandon",
            Action::CertificateIssue,
            abandon_form,
        )
}

pub fn api_routes() -> ApiRouter {
    ApiRouter::new()
        .routes(guard(Action::CertificatePrepare, routes!(api_preview)))
        .routes(guard(Action::CertificateIssue, routes!(api_issue)))
        .routes(guard(Action::CertificatePrepare, routes!(api_batch)))
        .routes(guard(Action::CertificateIssue, routes!(api_resume)))
        .routes(guard(Action::CertificateIssue, routes!(api_abandon)))
}

/// Chunk of certificates numbered, signed and inserted per transaction.
const CHUNK: usize = 50;

/// A passed candidate and what blocks it.
#[derive(Serialize, ToSchema)]
pub struct PreviewRow {
    #[serde(flatten)]
    pub candidate: IssueCandidate,
    /// Why it is not issued in this batch (None: it will be).
    pub blocker: Option<String>,
    pub level_name: String,
}

/// What the center sees before issuing a plan's certificates.
#[derive(Serialize, ToSchema)]
pub struct Preview {
    pub plan_id: i64,
    pub plan_no: String,
    pub institution_name: String,
    pub occupation: String,
    pub results_status: domain::plan::ResultsStatus,
    pub site_code: Option<String>,
    /// The refusal that stops the whole plan (no site code, results not submitted).
    pub refusal: Option<String>,
    pub reissue: bool,
    pub rows: Vec<PreviewRow>,
    pub ready: usize,
    pub blocked: usize,
    pub running: Option<CertBatch>,
    pub batches: Vec<CertBatch>,
}

fn require_city(me: &Authed) -> Result<(), AppError> {
    me.may(Action::CertificatePrepare)
}

/// The one-inch photo check on a stored photo (None when it passes).
async fn photo_blocker(state: &AppState, doc: i64) -> Result<Option<Blocker>, AppError> {
    let (_, bytes) = state
        .store
        .document_bytes(&domain::Scope::City, doc)
        .await?;
    Ok(certissue::check_photo_proportions(&bytes)
        .err()
        .map(Blocker::BadPhoto))
}

/// Service: the preview of a plan (center and division).
pub async fn preview(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    reissue: bool,
) -> Result<Preview, AppError> {
    require_city(me)?;
    let plan = state.store.plan(&me.scope(), plan_id).await?;
    let inst = state
        .store
        .institution(&domain::Scope::City, plan.institution_id)
        .await?;
    let refusal = certissue::require_results_submitted(plan.results_status)
        .and_then(|_| {
            certissue::require_site_code(inst.site_code.as_deref(), &inst.name).map(|_| ())
        })
        .err()
        .map(|r| r.to_string());
    let mut rows = vec![];
    for c in state.store.issue_candidates(plan.id).await? {
        let blocker = if let Some(no) = &c.issued {
            Some(Blocker::AlreadyIssued {
                cert_no: no.clone(),
            })
        } else if let Some((_, no)) = c.holds_same.as_ref().filter(|_| !reissue) {
            Some(Blocker::HoldsSame {
                cert_no: no.clone(),
            })
        } else if let Some(doc) = c.photo_document_id {
            photo_blocker(state, doc).await?
        } else {
            Some(Blocker::NoPhoto)
        };
        rows.push(PreviewRow {
            level_name: super::level_name(c.level),
            blocker: blocker.filter(|b| b.blocks(reissue)).map(|b| b.reason()),
            candidate: c,
        });
    }
    let ready = rows.iter().filter(|r| r.blocker.is_none()).count();
    Ok(Preview {
        plan_id: plan.id,
        plan_no: plan.plan_no.clone(),
        institution_name: plan.institution_name.clone(),
        occupation: format!("{} {}", plan.occupation_code, plan.occupation_name),
        results_status: plan.results_status,
        site_code: inst.site_code,
        refusal,
        reissue,
        blocked: rows.len() - ready,
        ready,
        rows,
        running: state.store.running_cert_batch(plan.id).await?,
        batches: state
            .store
            .list_cert_batches(Some(plan.id), None, PageRequest::new(Some(1), Some(50)))
            .await?
            .items,
    })
}

/// A started (or already running) batch and the job that works on it.
#[derive(Serialize, ToSchema)]
pub struct Started {
    pub batch: CertBatch,
    pub job_id: Option<i64>,
    /// False when a batch of the plan was already running (starting twice is harmless).
    pub created: bool,
}

/// Service: issue the certificates of a plan's passed, unblocked candidates (center only).
pub async fn start_issue(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    reissue: bool,
) -> Result<Started, AppError> {
    me.may(Action::CertificateIssue)?;
    let p = preview(state, me, plan_id, reissue).await?;
    let plan = state.store.plan(&me.scope(), plan_id).await?;
    certissue::require_results_submitted(plan.results_status).map_err(refused)?;
    let inst = state
        .store
        .institution(&domain::Scope::City, plan.institution_id)
        .await?;
    certissue::require_site_code(inst.site_code.as_deref(), &inst.name).map_err(refused)?;
    state.certs.signer()?;
    if let Some(b) = p.running {
        let job_id = resume_if_idle(state, &me.actor(), &b).await?;
        return Ok(Started {
            batch: b,
            job_id,
            created: false,
        });
    }
    let items: Vec<(i64, Option<i64>)> = p
        .rows
        .iter()
        .filter(|r| r.blocker.is_none())
        .map(|r| {
            let c = &r.candidate;
            (
                c.candidate_id,
                c.holds_same.as_ref().filter(|_| reissue).map(|(id, _)| *id),
            )
        })
        .collect();
    if items.is_empty() {
        return Err(AppError::Conflict(format!(
            "没有可发证的考生：通过的考生均已发证或尚有阻碍（{} 名待处理）",
            p.blocked
        )));
    }
    let today = state.today().to_string();
    let (batch, created) = state
        .store
        .start_cert_batch(&me.actor(), &plan, &today, reissue, &items)
        .await?;
    let job_id = if created {
        Some(run_batch(state, &me.actor(), &batch, None).await?)
    } else {
        resume_if_idle(state, &me.actor(), &batch).await?
    };
    Ok(Started {
        batch: state.store.cert_batch(batch.id).await?,
        job_id,
        created,
    })
}

/// Run a batch again unless a job is still working on it (holds its lease, on this server or
/// another). Returns the job id if one started.
async fn resume_if_idle(
    state: &AppState,
    actor: &Actor,
    b: &CertBatch,
) -> Result<Option<i64>, AppError> {
    match state
        .store
        .db
        .try_lease(store::LeaseOn::CertBatch, b.id)
        .await?
    {
        None => Ok(None),
        Some(lease) => Ok(Some(run_batch(state, actor, b, Some(lease)).await?)),
    }
}

/// Stage up to `limit` pending certificates of a batch (all when `None`): number, sign, insert
/// unpublished. Returns how many. The job below uses it; tests use it to stop half-way.
pub async fn stage_pending(
    state: &AppState,
    actor: &Actor,
    batch: &CertBatch,
    limit: Option<usize>,
    progress: Option<&crate::jobs::Progress>,
) -> Result<usize, AppError> {
    let key = state.certs.signer()?;
    let numbering = state.policy.numbering();
    let per_level = state.policy.cert_serial_per_level.value;
    let mut drafts = state.store.pending_drafts(batch).await?;
    let mut done = batch.total - drafts.len() as i64;
    if let Some(n) = limit {
        drafts.truncate(n);
    }
    let compose = |d: &store::IssueDraft, serial: i64| super::compose(&numbering, d, serial);
    let sign = |d: &store::IssueDraft, no: &str, idx: i64| super::sign(&key, d, no, idx);
    let mut staged = 0;
    for chunk in drafts.chunks(CHUNK) {
        if let Some(p) = progress {
            p.set(done, batch.total, "正在编号、签名并写入证书数据")
                .await;
        }
        let n = state
            .store
            .stage_certificates(actor, batch, chunk, per_level, &compose, &sign)
            .await?;
        staged += n;
        done += n as i64;
    }
    if let Some(p) = progress {
        p.set(done, batch.total, "正在公开本批证书").await;
    }
    Ok(staged)
}

/// Start the job of a batch: stage what is pending, then publish all at once. The job holds the
/// batch's lease (`lease`, or taken when it starts) while it works: a batch whose lease is free
/// is an interrupted one, which the scheduler of any server resumes.
pub async fn run_batch(
    state: &AppState,
    actor: &Actor,
    batch: &CertBatch,
    lease: Option<store::Lease>,
) -> Result<i64, AppError> {
    let st = state.clone();
    let who = actor.clone();
    let b = batch.clone();
    let link = format!("/cert-batches/{}", batch.id);
    spawn_job(
        &state.store,
        actor,
        "cert_issue",
        Some(batch.institution_id),
        move |p| async move {
            let _lease = match lease {
                Some(l) => l,
                None => match st.store.db.try_lease(store::LeaseOn::CertBatch, b.id).await {
                    Ok(Some(l)) => l,
                    Ok(None) => {
                        return Ok(
                            JobOutcome::new("本批已由另一任务处理，本任务未重复签发").link(link)
                        )
                    }
                    Err(e) => return Err(JobOutcome::new(format!("未能开始签发：{e}")).link(link)),
                },
            };
            // With the lease, nobody else works on the batch: claim it from whichever job it
            // names now (an interrupted one).
            let current = match st.store.cert_batch(b.id).await {
                Ok(c) if c.status == domain::certissue::BatchStatus::Running => c,
                Ok(c) => {
                    return Ok(
                        JobOutcome::new(format!("本批次{}，无需继续签发", c.status_label()))
                            .link(link),
                    )
                }
                Err(e) => return Err(JobOutcome::new(format!("未能开始签发：{e}")).link(link)),
            };
            match st
                .store
                .claim_batch_job(b.id, p.job_id(), current.job_id)
                .await
            {
                Ok(true) => {}
                Ok(false) => {
                    return Ok(JobOutcome::new("本批已由另一任务处理，本任务未重复签发").link(link))
                }
                Err(e) => return Err(JobOutcome::new(format!("未能开始签发：{e}")).link(link)),
            }
            if let Err(e) = stage_pending(&st, &who, &b, None, Some(&p)).await {
                let msg = format!(
                    "签发中断：{e}。已签发的证书暂不公开，可在批次页“继续签发”或“放弃本批”"
                );
                let _ = st.store.note_batch_error(b.id, &msg).await;
                return Err(JobOutcome::new(msg).link(link));
            }
            match st.store.finish_cert_batch(&who, b.id).await {
                Ok(n) => Ok(JobOutcome::new(format!("已签发 {n} 本证书并公开查询")).link(link)),
                Err(e) => {
                    let msg = format!("本批未能完成：{e}");
                    let _ = st.store.note_batch_error(b.id, &msg).await;
                    Err(JobOutcome::new(msg).link(link))
                }
            }
        },
    )
    .await
}

/// Service: resume an interrupted batch (center).
pub async fn resume(state: &AppState, me: &Authed, batch_id: i64) -> Result<Option<i64>, AppError> {
    me.may(Action::CertificateIssue)?;
    let b = state.store.cert_batch(batch_id).await?;
    if b.status != domain::certissue::BatchStatus::Running {
        return Err(AppError::Conflict(format!(
            "本批次{}，无需继续签发",
            b.status_label()
        )));
    }
    state.certs.signer()?;
    match resume_if_idle(state, &me.actor(), &b).await? {
        Some(j) => Ok(Some(j)),
        None => Err(AppError::Conflict(
            "本批次正在签发中，请稍候查看进度".into(),
        )),
    }
}

/// Service: give up a running batch (center), with a reason.
pub async fn abandon(
    state: &AppState,
    me: &Authed,
    batch_id: i64,
    reason: &str,
) -> Result<(), AppError> {
    me.may(Action::CertificateIssue)?;
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写放弃本批的原因"));
    }
    state.store.cert_batch(batch_id).await?;
    state
        .store
        .abandon_cert_batch(&me.actor(), batch_id, reason)
        .await?;
    Ok(())
}

// -- pages -----------------------------------------------------------------------------------

#[derive(Deserialize, Default)]
struct IssueQuery {
    reissue: Option<String>,
    msg: Option<String>,
    page: Option<i64>,
}

#[derive(Template)]
#[template(path = "cert_plans.html")]
struct PlansPage {
    layout: Layout,
    /// (plan, certificates issued, running batch)
    plans: Vec<(Plan, i64, bool)>,
}

/// Service: the plans whose results were submitted (待生成证书数据), with how many certificates
/// each has and whether a batch is running (city only).
pub async fn plans_awaiting(
    state: &AppState,
    me: &Authed,
    page: Option<i64>,
) -> Result<Vec<(Plan, i64, bool)>, AppError> {
    require_city(me)?;
    let page = state
        .store
        .list_plans(
            &me.scope(),
            &PlanFilter {
                results_status: Some("submitted".into()),
                ..Default::default()
            },
            PageRequest::new(page, Some(100)),
        )
        .await?;
    let mut plans = vec![];
    for p in page.items {
        let issued = state
            .store
            .list_certificates(
                &me.scope(),
                &store::CertificateFilter {
                    plan_id: Some(p.id),
                    ..Default::default()
                },
                PageRequest::new(Some(1), Some(1)),
            )
            .await?
            .total;
        let running = state.store.running_cert_batch(p.id).await?.is_some();
        plans.push((p, issued, running));
    }
    Ok(plans)
}

async fn plans_page(
    State(state): State<AppState>,
    me: Authed,
    Query(q): Query<IssueQuery>,
) -> Result<Response, AppError> {
    let plans = plans_awaiting(&state, &me, q.page).await?;
    Ok(render(&PlansPage {
        layout: Layout::new(&state, Some(&me), "生成证书数据", "/certificates/issue")
            .with_flash(flash_text(q.msg.as_deref())),
        plans,
    }))
}

#[derive(Template)]
#[template(path = "cert_preview.html")]
struct PreviewPage {
    layout: Layout,
    p: Preview,
    may_issue: bool,
}

async fn preview_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<IssueQuery>,
) -> Result<Response, AppError> {
    let p = preview(&state, &me, id, q.reissue.is_some()).await?;
    Ok(render(&PreviewPage {
        layout: Layout::new(&state, Some(&me), "生成证书数据", "/certificates/issue"),
        may_issue: me.can(Action::CertificateIssue),
        p,
    }))
}

#[derive(Deserialize, Default)]
struct IssueForm {
    #[serde(default)]
    reissue: Option<String>,
}

async fn issue_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<IssueForm>,
) -> Result<Response, AppError> {
    let s = start_issue(&state, &me, id, f.reissue.is_some()).await?;
    Ok(match s.job_id {
        Some(j) => Redirect::to(&format!("/jobs/{j}")),
        None => Redirect::to(&format!("/cert-batches/{}", s.batch.id)),
    }
    .into_response())
}

#[derive(Template)]
#[template(path = "cert_batch.html")]
struct BatchPage {
    layout: Layout,
    b: CertBatch,
    certs: Vec<store::Certificate>,
    may_act: bool,
}

/// Service: a batch (证书批次) and its progress (city only).
pub async fn batch(state: &AppState, me: &Authed, id: i64) -> Result<CertBatch, AppError> {
    require_city(me)?;
    Ok(state.store.cert_batch(id).await?)
}

/// Service: a batch with the certificates it staged or issued (city only).
pub async fn batch_with_certificates(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<(CertBatch, Vec<store::Certificate>), AppError> {
    let b = batch(state, me, id).await?;
    Ok((b, state.store.batch_certificates(id).await?))
}

async fn batch_page(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let (b, certs) = batch_with_certificates(&state, &me, id).await?;
    Ok(render(&BatchPage {
        layout: Layout::new(&state, Some(&me), "证书批次", "/certificates/issue"),
        certs,
        may_act: me.can(Action::CertificateIssue)
            && b.status == domain::certissue::BatchStatus::Running,
        b,
    }))
}

async fn resume_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let j = resume(&state, &me, id).await?;
    Ok(Redirect::to(&match j {
        Some(j) => format!("/jobs/{j}"),
        None => format!("/cert-batches/{id}"),
    })
    .into_response())
}

#[derive(Deserialize, Default, ToSchema)]
pub struct AbandonForm {
    /// Why the batch is given up.
    #[serde(default)]
    pub reason: String,
}

async fn abandon_form(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    FormBody(f): FormBody<AbandonForm>,
) -> Result<Response, AppError> {
    abandon(&state, &me, id, &f.reason).await?;
    Ok(Redirect::to(&format!("/cert-batches/{id}")).into_response())
}

// -- API -------------------------------------------------------------------------------------

#[derive(Deserialize, Default, ToSchema)]
pub struct IssueRequest {
    /// 补发: include candidates who hold the same certificate; the old one is superseded.
    #[serde(default)]
    pub reissue: bool,
}

#[derive(Deserialize)]
struct ReissueParam {
    reissue: Option<bool>,
}

#[utoipa::path(get, path = "/api/v1/plans/{id}/certificate-candidates", tag = "证书", operation_id = "certificate_candidates", params(("id" = i64, Path), ("reissue" = Option<bool>, Query)),
    responses((status = 200, body = Preview, description = "通过的考生、阻碍原因（照片、一人多证）、批次"), (status = 404, body = crate::api::ErrorBody)))]
async fn api_preview(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    Query(q): Query<ReissueParam>,
) -> Result<Json<Preview>, AppError> {
    Ok(Json(
        preview(&state, &me, id, q.reissue.unwrap_or(false)).await?,
    ))
}

#[utoipa::path(post, path = "/api/v1/plans/{id}/certificates/issue", tag = "证书", operation_id = "issue_certificates", params(("id" = i64, Path)), request_body = IssueRequest,
    responses((status = 202, body = Started, description = "批次已开始（或已在签发中），进度见 /api/v1/jobs/{job_id}"), (status = 409, body = crate::api::ErrorBody, description = "没有可发证的考生"), (status = 422, body = crate::api::ErrorBody, description = "成绩未上报，或机构未登记评价站点代码（人社鉴发〔2019〕2号）")))]
async fn api_issue(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    crate::body::JsonBody(r): crate::body::JsonBody<IssueRequest>,
) -> Result<Response, AppError> {
    let s = start_issue(&state, &me, id, r.reissue).await?;
    Ok((StatusCode::ACCEPTED, Json(s)).into_response())
}

#[utoipa::path(get, path = "/api/v1/cert-batches/{id}", tag = "证书", operation_id = "certificate_batch", params(("id" = i64, Path)),
    responses((status = 200, body = CertBatch, description = "批次状态与进度"), (status = 404, body = crate::api::ErrorBody)))]
async fn api_batch(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
) -> Result<Json<CertBatch>, AppError> {
    Ok(Json(batch(&state, &me, id).await?))
}

/// The job that resumed a batch.
#[derive(Serialize, ToSchema)]
pub struct Resumed {
    pub job_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/cert-batches/{id}/resume", tag = "证书", operation_id = "resume_certificate_batch", params(("id" = i64, Path)), request_body = IssueRequest,
    responses((status = 202, body = Resumed, description = "继续签发未完成的批次"), (status = 409, body = crate::api::ErrorBody, description = "批次已完成、已放弃或正在签发")))]
async fn api_resume(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    crate::body::JsonBody(_r): crate::body::JsonBody<IssueRequest>,
) -> Result<Response, AppError> {
    let job_id = resume(&state, &me, id).await?;
    Ok((StatusCode::ACCEPTED, Json(Resumed { job_id })).into_response())
}

#[utoipa::path(post, path = "/api/v1/cert-batches/{id}/abandon", tag = "证书", operation_id = "abandon_certificate_batch", params(("id" = i64, Path)), request_body = AbandonForm,
    responses((status = 204, description = "已放弃，未公开的证书已删除（编号不再使用）"), (status = 409, body = crate::api::ErrorBody), (status = 422, body = crate::api::ErrorBody)))]
async fn api_abandon(
    State(state): State<AppState>,
    me: Authed,
    Path(id): Path<i64>,
    crate::body::JsonBody(f): crate::body::JsonBody<AbandonForm>,
) -> Result<Response, AppError> {
    abandon(&state, &me, id, &f.reason).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
