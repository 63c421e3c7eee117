//! Disposal (销毁) with two keys, legal holds (冻结), and the execution that removes files and
//! personal data and leaves the tombstone.

use domain::retention::{self as dr, RetentionClass};
use serde::Serialize;
use sqlx::Row;

use super::{disposal_row, Disposal, Hold, RetentionRecord, DISPOSAL_COLUMNS};
use crate::audit::{append, Actor, NewEvent};
use crate::db::WriteTx;
use crate::{now_text, Result, Store, StoreError};

/// What a disposal removed, for the tombstone and the audit event.
#[derive(Debug, Default, Serialize)]
struct Removed {
    documents: i64,
    kept_for_certificates: i64,
    candidates_anonymised: i64,
    certificate_holders_kept: i64,
    texts_cleared: i64,
}

impl Store {
    pub async fn propose_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        expected_version: i64,
        side: dr::KeySide,
        reason: &str,
    ) -> Result<Disposal> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO retention_disposals (record_id, status, reason, first_side, first_by, first_at) VALUES ($1, 'proposed', $2, $3, $4, $5) RETURNING id",
        )
        .bind(record.id)
        .bind(reason)
        .bind(side.as_str())
        .bind(&actor.username)
        .bind(&now)
        .fetch_one(tx.conn())
        .await
        .map_err(|e| StoreError::unique(e, "该档案已有待审批的销毁申请"))?
        .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.disposal_propose",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "disposal": id, "class": record.class, "subject_id": record.subject_id, "side": side.as_str(), "reason": reason, "due_on": record.due_on }),
            },
        )
        .await?;
        let d = Self::disposal_in(&mut tx, id).await?;
        tx.commit().await?;
        Ok(d)
    }

    /// The second key: `side` (the other office, decided by the domain) confirms.
    pub async fn approve_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        disposal_id: i64,
        expected_version: i64,
        side: dr::KeySide,
    ) -> Result<Disposal> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let n = sqlx::query(
            "UPDATE retention_disposals SET status = 'approved', second_side = $1, second_by = $2, second_at = $3 WHERE id = $4 AND record_id = $5 AND status = 'proposed' AND first_side <> $1",
        )
        .bind(side.as_str())
        .bind(&actor.username)
        .bind(&now)
        .bind(disposal_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.disposal_approve",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "disposal": disposal_id, "side": side.as_str() }),
            },
        )
        .await?;
        let d = Self::disposal_in(&mut tx, disposal_id).await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Withdraw an open disposal (either key holder).
    pub async fn withdraw_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        disposal_id: i64,
        expected_version: i64,
    ) -> Result<Disposal> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let n = sqlx::query(
            "UPDATE retention_disposals SET status = 'withdrawn', withdrawn_by = $1, withdrawn_at = $2 WHERE id = $3 AND record_id = $4 AND status IN ('proposed', 'approved')",
        )
        .bind(&actor.username)
        .bind(&now)
        .bind(disposal_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.disposal_withdraw",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "disposal": disposal_id }),
            },
        )
        .await?;
        let d = Self::disposal_in(&mut tx, disposal_id).await?;
        tx.commit().await?;
        Ok(d)
    }

    /// Place a legal hold (冻结) on a kept record.
    pub async fn place_hold(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        expected_version: i64,
        reason: &str,
    ) -> Result<Hold> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let id: i64 = sqlx::query(
            "INSERT INTO retention_holds (record_id, reason, placed_by, placed_role, placed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(record.id)
        .bind(reason)
        .bind(&actor.username)
        .bind(&actor.role)
        .bind(&now)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.hold",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "hold": id, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await?;
        self.retention_holds(record.id)
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .ok_or(StoreError::NotFound)
    }

    /// Lift a legal hold (解除冻结) with a reason.
    pub async fn lift_hold(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        hold_id: i64,
        expected_version: i64,
        reason: &str,
    ) -> Result<()> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        Self::touch_record(&mut tx, record.id, expected_version).await?;
        let n = sqlx::query(
            "UPDATE retention_holds SET lifted_by = $1, lift_reason = $2, lifted_at = $3 WHERE id = $4 AND record_id = $5 AND lifted_at IS NULL",
        )
        .bind(&actor.username)
        .bind(reason)
        .bind(&now)
        .bind(hold_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.hold_lift",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({ "hold": hold_id, "reason": reason }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Carry out an approved disposal (销毁): in one transaction, remove the record's files and
    /// personal data, mark the record disposed (the tombstone) and append the audit event; then
    /// delete the blob files no row names any more. The caller has asked the domain
    /// (`check_disposable`, `check_execute`); the version check makes a hold placed meanwhile win.
    pub async fn execute_disposal(
        &self,
        actor: &Actor,
        record: &RetentionRecord,
        disposal_id: i64,
        expected_version: i64,
    ) -> Result<Disposal> {
        let class = record
            .class()
            .ok_or_else(|| StoreError::Other(format!("未知的保管类别 {}", record.class)))?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE retention_records SET state = 'disposed', disposed_at = $1, version = version + 1 WHERE id = $2 AND version = $3 AND state = 'kept' \
             AND NOT EXISTS (SELECT 1 FROM retention_holds h WHERE h.record_id = retention_records.id AND h.lifted_at IS NULL)",
        )
        .bind(&now)
        .bind(record.id)
        .bind(expected_version)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let mut removed = Removed::default();
        let mut blobs: Vec<String> = vec![];
        let sid = record.subject_id;
        match class {
            RetentionClass::Filing => {
                let docs = ids(
                    &mut tx,
                    "SELECT id FROM documents WHERE owner_type = 'filing_application' AND owner_id = $1",
                    sid,
                )
                .await?;
                remove_documents(&mut tx, &docs, &mut removed, &mut blobs).await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE filing_events SET attachments = '[]' WHERE application_id = $1 AND attachments <> '[]'",
                    sid,
                )
                .await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE filing_supervisors SET opinion_attachments = '[]' WHERE application_id = $1 AND opinion_attachments <> '[]'",
                    sid,
                )
                .await?;
            }
            RetentionClass::Plan => {
                let docs = ids(
                    &mut tx,
                    "SELECT id FROM documents WHERE owner_type IN ('plan', 'supervision_report') AND owner_id = $1",
                    sid,
                )
                .await?;
                remove_documents(&mut tx, &docs, &mut removed, &mut blobs).await?;
                // 考评员 and 内部督导员 are named in the plan and its snapshots; the 督导报告 text
                // is process material. The 督导责任书 stays: it proves the evaluation valid, and
                // with it the certificates (二(三)).
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE plans SET examiners = '', internal_supervisor = '' WHERE id = $1",
                    sid,
                )
                .await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE plan_events SET snapshot = '' WHERE plan_id = $1 AND snapshot <> ''",
                    sid,
                )
                .await?;
                removed.texts_cleared += exec(
                    &mut tx,
                    "UPDATE supervision_reports SET body = '', attachment_name = '', document_id = NULL WHERE plan_id = $1",
                    sid,
                )
                .await?;
            }
            RetentionClass::Candidates => {
                // A certificate holder's name, ID number and photo are certificate data, kept
                // with the certificate (permanent); everyone else's personal data goes.
                let holder =
                    "EXISTS (SELECT 1 FROM certificates k WHERE k.candidate_id = candidates.id)";
                let docs = ids(
                    &mut tx,
                    &format!("SELECT photo_document_id FROM candidates WHERE plan_id = $1 AND photo_document_id IS NOT NULL AND NOT {holder}"),
                    sid,
                )
                .await?;
                let mut all = docs.clone();
                all.extend(
                    ids(
                        &mut tx,
                        &format!("SELECT d.id FROM documents d WHERE d.owner_type = 'candidate' AND d.owner_id IN (SELECT id FROM candidates WHERE plan_id = $1 AND NOT {holder})"),
                        sid,
                    )
                    .await?,
                );
                all.sort_unstable();
                all.dedup();
                sqlx::query(&format!(
                    "UPDATE candidates SET photo_document_id = NULL WHERE plan_id = $1 AND NOT {holder}"
                ))
                .bind(sid)
                .execute(tx.conn())
                .await?;
                remove_documents(&mut tx, &all, &mut removed, &mut blobs).await?;
                removed.candidates_anonymised = exec(
                    &mut tx,
                    &format!("UPDATE candidates SET name = '（已销毁）', id_number = '', id_masked = '', id_hash = 'disposed:' || CAST(id AS TEXT), gender = '', education = '', source = '', phone = '', dup_flag = '', version = version + 1, updated_at = $2 WHERE plan_id = $1 AND NOT {holder}"),
                    (sid, now.clone()),
                )
                .await?;
                removed.certificate_holders_kept = exec(
                    &mut tx,
                    &format!("UPDATE candidates SET education = '', source = '', phone = '', version = version + 1, updated_at = $2 WHERE plan_id = $1 AND {holder}"),
                    (sid, now.clone()),
                )
                .await?;
            }
            RetentionClass::Document => {
                remove_documents(&mut tx, &[sid], &mut removed, &mut blobs).await?;
            }
            RetentionClass::Paper | RetentionClass::Certificate => {}
        }
        blobs.sort();
        blobs.dedup();
        let removed_json = serde_json::to_string(&removed).unwrap_or_else(|_| "{}".into());
        let n = sqlx::query(
            "UPDATE retention_disposals SET status = 'done', executed_by = $1, executed_at = $2, removed = $3, blob_keys = $4 WHERE id = $5 AND record_id = $6 AND status = 'approved'",
        )
        .bind(&actor.username)
        .bind(&now)
        .bind(&removed_json)
        .bind(serde_json::to_string(&blobs).unwrap_or_else(|_| "[]".into()))
        .bind(disposal_id)
        .bind(record.id)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let d = Self::disposal_in(&mut tx, disposal_id).await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "retention.dispose",
                object_type: "retention_record",
                object_id: record.id.to_string(),
                summary: serde_json::json!({
                    "class": record.class, "subject_type": record.subject_type,
                    "subject_id": record.subject_id, "closed_on": record.closed_on,
                    "due_on": record.due_on, "reason": d.reason,
                    "keys": [
                        { "side": d.first_side, "by": d.first_by },
                        { "side": d.second_side, "by": d.second_by },
                    ],
                    "removed": removed, "files": blobs.len(),
                }),
            },
        )
        .await?;
        tx.commit().await?;
        // The files go after the commit: a failure leaves them for the next run's purge.
        if let Err(e) = self.purge_blobs_of(d.id).await {
            tracing::warn!(disposal = d.id, error = %e, "blob purge postponed");
        }
        let sql = format!("SELECT {DISPOSAL_COLUMNS} FROM retention_disposals WHERE id = $1");
        disposal_row(
            &sqlx::query(&sql)
                .bind(d.id)
                .fetch_one(&self.db.pool)
                .await?,
        )
    }

    /// Delete the files of one carried-out disposal that no document row names any more.
    async fn purge_blobs_of(&self, disposal_id: i64) -> Result<usize> {
        let r = sqlx::query(
            "SELECT blob_keys FROM retention_disposals WHERE id = $1 AND status = 'done' AND blobs_purged_at IS NULL",
        )
        .bind(disposal_id)
        .fetch_optional(&self.db.pool)
        .await?;
        let Some(r) = r else { return Ok(0) };
        let keys: Vec<String> = serde_json::from_str(&r.get::<String, _>(0)).unwrap_or_default();
        let mut n = 0;
        for k in &keys {
            let used: i64 = sqlx::query("SELECT COUNT(*) FROM documents WHERE blob_key = $1")
                .bind(k)
                .fetch_one(&self.db.pool)
                .await?
                .get(0);
            if used == 0 {
                self.blobs.delete(k).await?;
                n += 1;
            }
        }
        sqlx::query("UPDATE retention_disposals SET blobs_purged_at = $1 WHERE id = $2")
            .bind(now_text())
            .bind(disposal_id)
            .execute(&self.db.pool)
            .await?;
        Ok(n)
    }

    /// Finish the file deletions of every carried-out disposal whose purge was interrupted.
    pub async fn purge_disposed_blobs(&self) -> Result<usize> {
        let ids: Vec<i64> = sqlx::query(
            "SELECT id FROM retention_disposals WHERE status = 'done' AND blobs_purged_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
        let mut n = 0;
        for id in ids {
            n += self.purge_blobs_of(id).await?;
        }
        Ok(n)
    }
}

/// Binds of the small helper queries below.
trait Binds {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;
}

impl Binds for i64 {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(*self)
    }
}

impl Binds for (i64, String) {
    fn bind_to<'q>(
        &'q self,
        q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
        q.bind(self.0).bind(self.1.as_str())
    }
}

async fn ids(tx: &mut WriteTx, sql: &str, id: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query(sql)
        .bind(id)
        .fetch_all(tx.conn())
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
}

async fn exec(tx: &mut WriteTx, sql: &str, binds: impl Binds) -> Result<i64> {
    Ok(binds
        .bind_to(sqlx::query(sql))
        .execute(tx.conn())
        .await?
        .rows_affected() as i64)
}

/// Delete document rows (keeping those a certificate shows: its photo is certificate data),
/// unlinking the rows that point to them, and collect their blob keys.
async fn remove_documents(
    tx: &mut WriteTx,
    ids: &[i64],
    removed: &mut Removed,
    blobs: &mut Vec<String>,
) -> Result<()> {
    for &id in ids {
        let used_by_certificate: i64 =
            sqlx::query("SELECT COUNT(*) FROM certificates WHERE photo_document_id = $1")
                .bind(id)
                .fetch_one(tx.conn())
                .await?
                .get(0);
        if used_by_certificate > 0 {
            removed.kept_for_certificates += 1;
            continue;
        }
        let Some(key) = sqlx::query("SELECT blob_key FROM documents WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .map(|r| r.get::<String, _>(0))
        else {
            continue;
        };
        for sql in [
            "UPDATE candidates SET photo_document_id = NULL WHERE photo_document_id = $1",
            "UPDATE supervision_reports SET document_id = NULL WHERE document_id = $1",
            "UPDATE efilings SET document_id = NULL WHERE document_id = $1",
            "UPDATE province_reports SET document_id = NULL WHERE document_id = $1",
            "DELETE FROM documents WHERE id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(tx.conn()).await?;
        }
        removed.documents += 1;
        blobs.push(key);
    }
    Ok(())
}
