//! Revocation (撤销) and correction (更正) of a certificate with both city keys: proposal,
//! withdrawal and confirmation.

use domain::certissue::ChangeKind;
use sqlx::Row;

use super::stage::{insert_certificate, reserve_status_indexes};
use super::{
    change_row, draft_row, CertChange, Compose, Sign, CHANGE_COLUMNS, CHANGE_FROM, DRAFT_COLUMNS,
    DRAFT_FROM, PROPOSED_CHANGES,
};
use crate::audit::{append, Actor, NewEvent};
use crate::{now_text, Certificate, Result, Store, StoreError};

impl Store {
    /// The first key of a revocation or correction.
    pub async fn propose_cert_change(
        &self,
        actor: &Actor,
        cert: &Certificate,
        kind: &str,
        reason: &str,
        corrections: &serde_json::Value,
    ) -> Result<CertChange> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO cert_changes (certificate_id, kind, reason, corrections, proposed_by, proposed_role, proposed_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
            .bind(cert.id)
            .bind(kind)
            .bind(reason)
            .bind(corrections.to_string())
            .bind(&actor.username)
            .bind(&actor.role)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await
            .map_err(|e| StoreError::unique(e, "该证书已有待确认的撤销或更正申请"))?
            .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: &format!("certificate.{kind}_propose"),
                object_type: "certificate",
                object_id: cert.id.to_string(),
                summary: serde_json::json!({ "change_id": id, "cert_no": cert.cert_no, "reason": reason, "corrections": corrections }),
            },
        )
        .await?;
        tx.commit().await?;
        self.cert_change(id).await
    }

    pub async fn cert_change(&self, id: i64) -> Result<CertChange> {
        sqlx::query(&format!("SELECT {CHANGE_COLUMNS} FROM cert_changes x JOIN certificates c ON c.id = x.certificate_id WHERE x.id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .as_ref()
            .map(change_row).transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// Changes of one certificate, or every open one (`certificate_id` None).
    pub async fn cert_changes(&self, certificate_id: Option<i64>) -> Result<Vec<CertChange>> {
        let (cond, arg) = match certificate_id {
            Some(id) => ("x.certificate_id = $1", Some(id)),
            None => (PROPOSED_CHANGES, None),
        };
        let sql = format!("SELECT {CHANGE_COLUMNS} FROM {CHANGE_FROM} WHERE {cond} ORDER BY x.id");
        let mut q = sqlx::query(&sql);
        if let Some(id) = arg {
            q = q.bind(id);
        }
        Ok(q.fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(change_row)
            .collect::<Result<Vec<_>>>()?)
    }

    /// Withdraw a proposal that has not been confirmed.
    pub async fn withdraw_cert_change(&self, actor: &Actor, id: i64, version: i64) -> Result<()> {
        let mut tx = self.db.write().await?;
        let n = sqlx::query("UPDATE cert_changes SET status = 'withdrawn', version = version + 1 WHERE id = $1 AND version = $2 AND status = 'proposed'")
            .bind(id)
            .bind(version)
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
                action: "certificate.change_withdraw",
                object_type: "cert_change",
                object_id: id.to_string(),
                summary: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The second key: apply the change. A revocation marks the certificate 已撤销; a correction
    /// marks it 已更正 and issues its replacement (new number, linked both ways) dated `issued_on`.
    /// The caller checked that the second key is the other city role.
    #[allow(clippy::too_many_arguments)]
    pub async fn confirm_cert_change(
        &self,
        actor: &Actor,
        id: i64,
        version: i64,
        issued_on: &str,
        per_level: bool,
        compose: Compose<'_>,
        sign: Sign<'_>,
    ) -> Result<CertChange> {
        let change = self.cert_change(id).await?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        let first_index = reserve_status_indexes(&mut tx, 1).await?;
        let n = sqlx::query("UPDATE cert_changes SET status = 'applied', confirmed_by = $1, confirmed_role = $2, confirmed_at = $3, version = version + 1 WHERE id = $4 AND version = $5 AND status = 'proposed' AND proposed_role <> $2")
            .bind(&actor.username)
            .bind(&actor.role)
            .bind(&now)
            .bind(id)
            .bind(version)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        let mut new_id = None;
        let new_state = if change.kind == ChangeKind::Correct {
            let r = sqlx::query(&format!(
                "SELECT {DRAFT_COLUMNS} FROM {DRAFT_FROM} WHERE c.id = (SELECT candidate_id FROM certificates WHERE id = $1)"
            ))
            .bind(change.certificate_id)
            .fetch_one(tx.conn())
            .await?;
            let mut d = draft_row(&r, issued_on, Some(change.certificate_id));
            let old = sqlx::query(
                "SELECT holder_name, work_type, photo_document_id FROM certificates WHERE id = $1",
            )
            .bind(change.certificate_id)
            .fetch_one(tx.conn())
            .await?;
            d.holder_name = old.get(0);
            d.work_type = old.get(1);
            d.photo_document_id = old.get(2);
            let text = |k: &str| {
                change
                    .corrections
                    .get(k)
                    .and_then(|v| v.as_str())
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
            };
            if let Some(n) = text("holder_name") {
                d.holder_name = n;
            }
            if let Some(w) = text("work_type") {
                d.work_type = w;
            }
            let (nid, _) = insert_certificate(
                &mut tx,
                &d,
                None,
                first_index,
                per_level,
                true,
                compose,
                sign,
            )
            .await?;
            new_id = Some(nid);
            "corrected"
        } else {
            "revoked"
        };
        let n = sqlx::query("UPDATE certificates SET state = $1, revoke_reason = $2, revoked_at = $3, superseded_by = $4, version = version + 1 WHERE id = $5 AND state = 'valid' AND published = 1")
            .bind(new_state)
            .bind(&change.reason)
            .bind(&now)
            .bind(new_id)
            .bind(change.certificate_id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Invalid(
                "该证书已撤销或已更正，不能再次变更".into(),
            ));
        }
        sqlx::query("UPDATE cert_changes SET new_certificate_id = $1 WHERE id = $2")
            .bind(new_id)
            .bind(id)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: &format!("certificate.{}", change.kind),
                object_type: "certificate",
                object_id: change.certificate_id.to_string(),
                summary: serde_json::json!({ "change_id": id, "cert_no": change.cert_no, "reason": change.reason, "proposed_by": change.proposed_by, "new_certificate_id": new_id }),
            },
        )
        .await?;
        tx.commit().await?;
        self.cert_change(id).await
    }
}
