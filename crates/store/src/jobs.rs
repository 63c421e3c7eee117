//! Background jobs (large imports and the like) with progress kept in the database, so that any
//! app server can answer "how far is it?" while another one runs the job.
//!
//! Lifecycle: `queued` → `running` (first progress) → `succeeded` | `failed`. The server running a
//! job holds its lease (`store::lease`); the sweep at every server's start fails at once the
//! unfinished jobs nobody holds ("任务中断": their server stopped; jobs run in-process and are not
//! resumed, except certificate batches, which resume by themselves). As a last resort a job still
//! `queued`/`running` whose `updated_at` is older than [`STALE_AFTER_MINUTES`] is reported as failed.

use chrono::Utc;
use domain::job::JobStatus;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::db::Backend;
use crate::{now_text, time_text, Result, Store, StoreError};

/// A running job that has not reported for this long is considered interrupted.
pub const STALE_AFTER_MINUTES: i64 = 15;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Job {
    pub id: i64,
    pub kind: String,
    pub owner_user_id: i64,
    pub institution_id: Option<i64>,
    pub status: JobStatus,
    pub done: i64,
    pub total: i64,
    pub message: String,
    /// Free JSON set by the job when it finishes. Conventions: `link` (where to see the
    /// outcome) and `report_url` (a per-row error report to download).
    pub result: Option<serde_json::Value>,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

impl Job {
    pub fn is_finished(&self) -> bool {
        self.status.is_finished()
    }

    /// Chinese name of the kind (unknown kinds show their key). Add new kinds here.
    pub fn kind_label(&self) -> &str {
        match self.kind.as_str() {
            "expert_import" => "专家库导入",
            "candidate_import" => "考生名单导入",
            "score_import" => "成绩导入",
            "calendar_import" => "工作日历导入",
            other => other,
        }
    }

    /// Chinese status label.
    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }
}

const COLUMNS: &str = "id, kind, owner_user_id, institution_id, status, done, total, message, result_json, created_at, updated_at, finished_at";

fn from_row(r: &AnyRow) -> Result<Job> {
    let result: Option<String> = r.get(8);
    let mut job = Job {
        id: r.get(0),
        kind: r.get(1),
        owner_user_id: r.get(2),
        institution_id: r.get(3),
        status: crate::sql::code(r, 4)?,
        done: r.get(5),
        total: r.get(6),
        message: r.get(7),
        result: result.and_then(|s| serde_json::from_str(&s).ok()),
        created_at: r.get(9),
        updated_at: r.get(10),
        finished_at: r.get(11),
    };
    let cutoff = time_text(Utc::now() - chrono::Duration::minutes(STALE_AFTER_MINUTES));
    if !job.is_finished() && job.updated_at < cutoff {
        job.status = JobStatus::Failed;
        job.message = "任务中断（服务器可能已重启），请重新提交".into();
    }
    Ok(job)
}

impl Store {
    /// Create a queued job owned by `actor` (who must be a user), with the lease that says it
    /// runs (hold it until the job is finished: [`Store::finish_interrupted_jobs`] fails the
    /// unfinished jobs nobody holds). The lease is taken before the row is committed, so no other
    /// server ever sees the job without it. Audited.
    pub async fn create_job(
        &self,
        actor: &Actor,
        kind: &str,
        institution_id: Option<i64>,
    ) -> Result<(Job, crate::Lease)> {
        let owner = actor
            .user_id
            .ok_or_else(|| StoreError::Invalid("后台任务须由登录用户发起".into()))?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query(
            "INSERT INTO jobs (kind, owner_user_id, institution_id, status, created_at, updated_at) VALUES ($1, $2, $3, 'queued', $4, $5) RETURNING id",
        )
        .bind(kind)
        .bind(owner)
        .bind(institution_id)
        .bind(&now)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        let lease = self
            .db
            .try_lease(crate::LeaseOn::Job, id)
            .await?
            .ok_or_else(|| StoreError::Other(format!("任务 {id} 的租约已被占用")))?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "job.create",
                object_type: "job",
                object_id: id.to_string(),
                summary: serde_json::json!({ "kind": kind }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((self.job_unchecked(id).await?, lease))
    }

    /// Jobs left queued or running by a server that stopped (nobody holds their lease) end as
    /// failed, "任务中断", at once: every server sweeps at start. Returns how many.
    pub async fn finish_interrupted_jobs(&self) -> Result<usize> {
        let ids: Vec<i64> =
            sqlx::query("SELECT id FROM jobs WHERE status IN ('queued', 'running') ORDER BY id")
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
        let mut n = 0;
        for id in ids {
            let Some(_lease) = self.db.try_lease(crate::LeaseOn::Job, id).await? else {
                continue;
            };
            self.finish_job(
                id,
                false,
                "任务中断（服务器重启或停止），未完成的部分未保存，请重新提交",
                None,
            )
            .await?;
            n += 1;
        }
        Ok(n)
    }

    /// Report progress (marks the job running). Not audited: progress is not a business fact.
    ///
    /// On SQLite, when another write transaction is open (a job inserting its rows in one
    /// transaction, say) the update is skipped rather than waiting: progress is advisory.
    /// Returns whether it was written.
    pub async fn update_progress(
        &self,
        id: i64,
        done: i64,
        total: i64,
        message: &str,
    ) -> Result<bool> {
        let sql = "UPDATE jobs SET status = 'running', done = $1, total = $2, message = $3, updated_at = $4 WHERE id = $5 AND status IN ('queued', 'running')";
        if self.db.backend == Backend::Sqlite {
            let Some(mut tx) = self.db.try_write().await? else {
                return Ok(false);
            };
            sqlx::query(sql)
                .bind(done)
                .bind(total)
                .bind(message)
                .bind(now_text())
                .bind(id)
                .execute(tx.conn())
                .await?;
            tx.commit().await?;
        } else {
            sqlx::query(sql)
                .bind(done)
                .bind(total)
                .bind(message)
                .bind(now_text())
                .bind(id)
                .execute(&self.db.pool)
                .await?;
        }
        Ok(true)
    }

    /// Finish a job: `succeeded` or `failed`, with a message and an optional JSON result.
    /// A job finishes once; later calls are ignored. Audited.
    pub async fn finish_job(
        &self,
        id: i64,
        succeeded: bool,
        message: &str,
        result: Option<&serde_json::Value>,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        if finish_job_in(&mut tx, id, succeeded, message, result).await? {
            tx.commit().await?;
        }
        Ok(())
    }

    /// A job, for its owner or the city (any other actor: NotFound).
    pub async fn job(&self, user_id: i64, scope: &Scope, id: i64) -> Result<Job> {
        let job = self.job_unchecked(id).await?;
        if job.owner_user_id == user_id || *scope == Scope::City {
            Ok(job)
        } else {
            Err(StoreError::NotFound)
        }
    }

    async fn job_unchecked(&self, id: i64) -> Result<Job> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM jobs WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref()
            .map(from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }
}

/// What a job's work records as its outcome in its own transaction: the job ends with the work's
/// commit, so a crash between the two can never show imported rows under an "interrupted" job.
#[derive(Debug, Clone)]
pub struct JobDone {
    pub job_id: i64,
    pub message: String,
    pub result: serde_json::Value,
}

/// Finish job `id` inside `tx` (see [`Store::finish_job`]). Returns false when it had already
/// finished (nothing written).
pub(crate) async fn finish_job_in(
    tx: &mut crate::WriteTx,
    id: i64,
    succeeded: bool,
    message: &str,
    result: Option<&serde_json::Value>,
) -> Result<bool> {
    let now = now_text();
    let status = if succeeded {
        JobStatus::Succeeded
    } else {
        JobStatus::Failed
    };
    let row = sqlx::query("SELECT owner_user_id, kind FROM jobs WHERE id = $1")
        .bind(id)
        .fetch_optional(tx.conn())
        .await?
        .ok_or(StoreError::NotFound)?;
    let owner: i64 = row.get(0);
    let kind: String = row.get(1);
    let n = sqlx::query(
        "UPDATE jobs SET status = $1, message = $2, result_json = $3, updated_at = $4, finished_at = $5, done = CASE WHEN $6 = 1 AND total > 0 THEN total ELSE done END WHERE id = $7 AND status IN ('queued', 'running')",
    )
    .bind(status.as_str())
    .bind(message)
    .bind(result.map(|r| r.to_string()))
    .bind(&now)
    .bind(&now)
    .bind(succeeded as i64)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(false);
    }
    let actor = Actor {
        user_id: Some(owner),
        username: format!("job:{id}"),
        role: "system".into(),
        ..Actor::default()
    };
    append(
        tx,
        &actor,
        NewEvent {
            action: "job.finish",
            object_type: "job",
            object_id: id.to_string(),
            summary: serde_json::json!({ "kind": kind, "status": status, "message": message }),
        },
    )
    .await?;
    Ok(true)
}
