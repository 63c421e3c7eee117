//! 证书数据的生成 (市职业技能鉴定中心): which plans wait, what blocks a candidate (photo, 一人多证),
//! issuing a batch as a background job with progress, resuming or abandoning it. The photos it
//! needs are in `photos`.

mod api;
mod pages;

pub use api::{api_routes, IssueRequest, Resumed};
pub use pages::router;

use domain::certissue::{self, Blocker};
use domain::Action;
use serde::{Deserialize, Serialize};
use store::{Actor, CertBatch, IssueCandidate, PageRequest, Plan, PlanFilter};
use utoipa::ToSchema;

use crate::auth::Authed;
use crate::error::AppError;
use crate::evaluation::refused;
use crate::jobs::{spawn_job, JobOutcome};
use crate::AppState;

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

#[derive(Deserialize, Default, ToSchema)]
pub struct AbandonForm {
    /// Why the batch is given up.
    #[serde(default)]
    pub reason: String,
}
