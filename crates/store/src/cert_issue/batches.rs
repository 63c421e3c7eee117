//! Issuing batches (发证批次): start, claim and resume, finish (publish all at once), abandon.

use sqlx::Row;

use super::{batch_row, CertBatch, IssueCandidate, BATCH_COLUMNS, BATCH_FROM};
use crate::audit::{append, Actor, NewEvent};
use crate::certificates::{cert_row, CERT_COLUMNS};
use crate::{now_text, Certificate, Page, PageRequest, Result, Store, StoreError};

impl Store {
    /// The passed candidates of a plan, each with what it already holds.
    pub async fn issue_candidates(&self, plan_id: i64) -> Result<Vec<IssueCandidate>> {
        let rows = sqlx::query(
            "SELECT c.id, c.name, c.id_masked, c.level, c.photo_document_id, own.cert_no, other.id, other.cert_no \
             FROM candidates c JOIN plans p ON p.id = c.plan_id JOIN occupations o ON o.id = p.occupation_id \
             LEFT JOIN certificates own ON own.candidate_id = c.id \
             LEFT JOIN certificates other ON other.id_hash = c.id_hash AND other.occupation_code = o.code AND other.level = c.level AND other.state = 'valid' AND other.candidate_id <> c.id \
             WHERE c.plan_id = $1 AND c.passed = 1 ORDER BY c.id",
        )
        .bind(plan_id)
        .fetch_all(&self.db.pool)
        .await?;
        let mut out: Vec<IssueCandidate> = vec![];
        for r in &rows {
            let id: i64 = r.get(0);
            let own: Option<String> = r.get(5);
            let other = r
                .get::<Option<i64>, _>(6)
                .zip(r.get::<Option<String>, _>(7));
            if let Some(last) = out.last_mut().filter(|c| c.candidate_id == id) {
                last.issued = last.issued.take().or(own);
                last.holds_same = last.holds_same.take().or(other);
                continue;
            }
            out.push(IssueCandidate {
                candidate_id: id,
                name: r.get(1),
                id_masked: r.get(2),
                level: r.get(3),
                photo_document_id: r.get(4),
                issued: own,
                holds_same: other,
            });
        }
        Ok(out)
    }

    /// Start a batch for `plan` with `items` (candidate, certificate it replaces). While a batch of
    /// the plan is running, that batch is returned instead (`false`): starting twice is harmless.
    pub async fn start_cert_batch(
        &self,
        actor: &Actor,
        plan: &crate::Plan,
        issued_on: &str,
        reissue: bool,
        items: &[(i64, Option<i64>)],
    ) -> Result<(CertBatch, bool)> {
        if let Some(b) = self.running_cert_batch(plan.id).await? {
            return Ok((b, false));
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        if !reissue && !items.is_empty() {
            // A request that raced a batch which finished in the meantime: its candidates hold
            // published certificates now, and an empty second batch would only add noise.
            let ids: Vec<String> = items.iter().map(|(c, _)| c.to_string()).collect();
            let left: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) FROM candidates c WHERE c.id IN ({}) AND NOT EXISTS (SELECT 1 FROM certificates x WHERE x.candidate_id = c.id AND x.reissue_of IS NULL AND x.published = 1)",
                ids.join(", ")
            ))
            .fetch_one(tx.conn())
            .await?
            .get(0);
            if left == 0 {
                return Err(StoreError::Duplicate(
                    "本计划通过的考生均已发证，无需再次签发".into(),
                ));
            }
        }
        let id: i64 = match sqlx::query("INSERT INTO cert_batches (plan_id, institution_id, status, reissue, issued_on, total, created_by, created_at, updated_at) VALUES ($1, $2, 'running', $3, $4, $5, $6, $7, $8) RETURNING id")
            .bind(plan.id)
            .bind(plan.institution_id)
            .bind(reissue as i64)
            .bind(issued_on)
            .bind(items.len() as i64)
            .bind(&actor.username)
            .bind(&now)
            .bind(&now)
            .fetch_one(tx.conn())
            .await
        {
            Ok(r) => r.get(0),
            Err(e) => {
                drop(tx);
                // Another request started it first.
                return match StoreError::unique(e, "") {
                    StoreError::Duplicate(_) => self
                        .running_cert_batch(plan.id)
                        .await?
                        .map(|b| (b, false))
                        .ok_or(StoreError::Conflict),
                    other => Err(other),
                };
            }
        };
        // Several rows per statement: a batch of a large plan starts in one round trip per 300.
        for chunk in items.chunks(300) {
            let values: Vec<String> = (0..chunk.len())
                .map(|k| format!("($1, ${}, ${})", 2 * k + 2, 2 * k + 3))
                .collect();
            let sql = format!(
                "INSERT INTO cert_batch_items (batch_id, candidate_id, replaces_id) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(id);
            for (candidate, replaces) in chunk {
                q = q.bind(candidate).bind(replaces);
            }
            q.execute(tx.conn()).await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "certificate.batch_start",
                object_type: "cert_batch",
                object_id: id.to_string(),
                summary: serde_json::json!({ "plan_id": plan.id, "items": items.len(), "reissue": reissue, "issued_on": issued_on }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok((self.cert_batch(id).await?, true))
    }

    pub async fn cert_batch(&self, id: i64) -> Result<CertBatch> {
        sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM {BATCH_FROM} WHERE b.id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .as_ref()
        .map(batch_row)
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    pub async fn running_cert_batch(&self, plan_id: i64) -> Result<Option<CertBatch>> {
        sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM {BATCH_FROM} WHERE b.plan_id = $1 AND b.status = 'running'"
        ))
        .bind(plan_id)
        .fetch_optional(&self.db.pool)
        .await?
        .as_ref()
        .map(batch_row)
        .transpose()
    }

    /// Batches, newest first (of one plan, or all; an institution sees its own).
    pub async fn list_cert_batches(
        &self,
        plan_id: Option<i64>,
        institution_id: Option<i64>,
        page: PageRequest,
    ) -> Result<Page<CertBatch>> {
        let mut w = crate::sql::Where::new();
        if let Some(p) = plan_id {
            w.eq_int("b.plan_id", p);
        }
        if let Some(i) = institution_id {
            w.eq_int("b.institution_id", i);
        }
        w.fetch_page(
            &self.db,
            BATCH_COLUMNS,
            BATCH_FROM,
            "b.id DESC",
            page,
            batch_row,
        )
        .await
    }

    /// Running batches nobody works on (no job holds their lease: the server that ran them
    /// stopped), each with its lease, taken here. A batch is resumed at once after a restart,
    /// never twice at a time.
    pub async fn stalled_cert_batches(&self) -> Result<Vec<(CertBatch, crate::Lease)>> {
        let running = sqlx::query(&format!(
            "SELECT {BATCH_COLUMNS} FROM {BATCH_FROM} WHERE b.status = 'running' ORDER BY b.id"
        ))
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(batch_row)
        .collect::<Result<Vec<_>>>()?;
        let mut out = vec![];
        for b in running {
            if let Some(lease) = self.db.try_lease(crate::LeaseOn::CertBatch, b.id).await? {
                out.push((b, lease));
            }
        }
        Ok(out)
    }

    /// Claim a running batch for a job: the batch's job moves from `expected` (the job that was
    /// working on it, `None` for a new batch) to `job_id`. Returns false when another job claimed
    /// it first, so two requests (or a request and the scheduler) never run one batch twice.
    pub async fn claim_batch_job(
        &self,
        batch_id: i64,
        job_id: i64,
        expected: Option<i64>,
    ) -> Result<bool> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE cert_batches SET job_id = $1, updated_at = $2 \
             WHERE id = $3 AND status = 'running' AND COALESCE(job_id, 0) = $4",
        )
        .bind(job_id)
        .bind(now_text())
        .bind(batch_id)
        .bind(expected.unwrap_or(0))
        .execute(tx.conn())
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Publish every certificate of a batch at once and supersede the certificates its reissues
    /// replace. Refused while an item has no certificate.
    pub async fn finish_cert_batch(&self, actor: &Actor, batch_id: i64) -> Result<i64> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let r = sqlx::query("SELECT status, total, job_id FROM cert_batches WHERE id = $1")
            .bind(batch_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        if r.get::<String, _>(0) != "running" {
            return Err(StoreError::Conflict);
        }
        let staged: i64 = sqlx::query("SELECT COUNT(*) FROM certificates WHERE batch_id = $1")
            .bind(batch_id)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        let total: i64 = r.get(1);
        if staged < total {
            return Err(StoreError::Invalid(format!(
                "本批尚有 {} 名考生未签发，不能完成",
                total - staged
            )));
        }
        sqlx::query("UPDATE certificates SET published = 1 WHERE batch_id = $1 AND published = 0")
            .bind(batch_id)
            .execute(tx.conn())
            .await?;
        let reissues = sqlx::query(
            "SELECT id, reissue_of FROM certificates WHERE batch_id = $1 AND reissue_of IS NOT NULL",
        )
        .bind(batch_id)
        .fetch_all(tx.conn())
        .await?;
        for r in &reissues {
            let (new, old): (i64, i64) = (r.get(0), r.get(1));
            sqlx::query("UPDATE certificates SET state = 'corrected', superseded_by = $1, revoke_reason = '已补发新证', revoked_at = $2, version = version + 1 WHERE id = $3 AND state = 'valid'")
                .bind(new)
                .bind(&now)
                .bind(old)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("UPDATE cert_batches SET status = 'done', done = $1, updated_at = $2, finished_at = $2, message = $3 WHERE id = $4")
            .bind(staged)
            .bind(&now)
            .bind(format!("已签发 {staged} 本证书"))
            .bind(batch_id)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "certificate.issue",
                object_type: "cert_batch",
                object_id: batch_id.to_string(),
                summary: serde_json::json!({ "count": staged, "reissues": reissues.len() }),
            },
        )
        .await?;
        // The job working on the batch ends with the publication, in this transaction: a crash
        // right after it never shows a published batch under an interrupted job.
        if let Some(job) = r.get::<Option<i64>, _>(2) {
            crate::jobs::finish_job_in(
                &mut tx,
                job,
                true,
                &format!("已签发 {staged} 本证书并公开查询"),
                Some(&serde_json::json!({ "link": format!("/cert-batches/{batch_id}") })),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(staged)
    }

    /// Give a running batch up: its unpublished certificates are deleted (their numbers are
    /// never reused: the counters do not go back).
    pub async fn abandon_cert_batch(&self, actor: &Actor, batch_id: i64, why: &str) -> Result<()> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE cert_batches SET status = 'failed', message = $1, updated_at = $2, finished_at = $2 WHERE id = $3 AND status = 'running'")
            .bind(why)
            .bind(&now)
            .bind(batch_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let deleted = sqlx::query("DELETE FROM certificates WHERE batch_id = $1 AND published = 0")
            .bind(batch_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "certificate.batch_abandon",
                object_type: "cert_batch",
                object_id: batch_id.to_string(),
                summary: serde_json::json!({ "reason": why, "unpublished_deleted": deleted }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Record a batch run's failure message (the batch stays running, so it can resume).
    pub async fn note_batch_error(&self, batch_id: i64, message: &str) -> Result<()> {
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE cert_batches SET message = $1 WHERE id = $2")
            .bind(message)
            .bind(batch_id)
            .execute(tx.conn())
            .await?;
        tx.commit().await
    }

    /// Unpublished and published certificates of a batch (the center's batch page).
    pub async fn batch_certificates(&self, batch_id: i64) -> Result<Vec<Certificate>> {
        Ok(sqlx::query(&format!(
            "SELECT {CERT_COLUMNS} FROM certificates c WHERE c.batch_id = $1 ORDER BY c.cert_no"
        ))
        .bind(batch_id)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(cert_row)
        .collect::<Result<Vec<_>>>()?)
    }
}
