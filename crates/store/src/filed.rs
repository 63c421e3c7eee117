//! 备案范围: which occupations and levels each institution is filed for.

use serde::Serialize;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::db::WriteTx;
use crate::{Result, Store};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FiledOccupation {
    pub institution_id: i64,
    pub occupation_id: i64,
    pub occupation_code: String,
    pub occupation_name: String,
    /// Levels filed, "5,4,3".
    pub levels: String,
    pub filing_no: String,
    pub filed_on: String,
}

impl Store {
    /// Record (or widen) the filing scope of an institution and mark it filed; one transaction,
    /// audited. Used by the filing workflow when a filing completes, and by demo data.
    pub async fn record_filed_occupation(
        &self,
        actor: &Actor,
        institution_id: i64,
        occupation_id: i64,
        levels: &str,
        filing_no: &str,
        filed_on: &str,
        source: &str,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        record_in_tx(
            &mut tx,
            actor,
            institution_id,
            occupation_id,
            levels,
            filing_no,
            filed_on,
            source,
        )
        .await?;
        tx.commit().await
    }

    pub async fn filed_occupations(&self, institution_id: i64) -> Result<Vec<FiledOccupation>> {
        let rows = sqlx::query(
            "SELECT f.institution_id, f.occupation_id, o.code, o.name, f.levels, f.filing_no, f.filed_on \
             FROM filed_occupations f JOIN occupations o ON o.id = f.occupation_id \
             WHERE f.institution_id = $1 AND f.revoked_at IS NULL ORDER BY o.code",
        )
        .bind(institution_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| FiledOccupation {
                institution_id: r.get(0),
                occupation_id: r.get(1),
                occupation_code: r.get(2),
                occupation_name: r.get(3),
                levels: r.get(4),
                filing_no: r.get(5),
                filed_on: r.get(6),
            })
            .collect())
    }
}

/// The same, inside the caller's transaction (the filing workflow completes in one transaction).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn record_in_tx(
    tx: &mut WriteTx,
    actor: &Actor,
    institution_id: i64,
    occupation_id: i64,
    levels: &str,
    filing_no: &str,
    filed_on: &str,
    source: &str,
) -> Result<()> {
    // Widen: an incremental filing adds levels to those already filed.
    let existing: Option<String> = sqlx::query(
        "SELECT levels FROM filed_occupations WHERE institution_id = $1 AND occupation_id = $2 AND revoked_at IS NULL",
    )
    .bind(institution_id)
    .bind(occupation_id)
    .fetch_optional(tx.conn())
    .await?
    .map(|r| r.get(0));
    let mut all: Vec<u8> = existing
        .as_deref()
        .unwrap_or("")
        .split(',')
        .chain(levels.split(','))
        .filter_map(|l| l.trim().parse::<u8>().ok())
        .collect();
    all.sort_unstable_by(|a, b| b.cmp(a));
    all.dedup();
    let merged = all
        .iter()
        .map(|l| l.to_string())
        .collect::<Vec<_>>()
        .join(",");
    let levels = merged.as_str();
    sqlx::query("DELETE FROM filed_occupations WHERE institution_id = $1 AND occupation_id = $2")
        .bind(institution_id)
        .bind(occupation_id)
        .execute(tx.conn())
        .await?;
    sqlx::query("INSERT INTO filed_occupations (institution_id, occupation_id, levels, filing_no, filed_on, source) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(institution_id)
            .bind(occupation_id)
            .bind(levels)
            .bind(filing_no)
            .bind(filed_on)
            .bind(source)
            .execute(tx.conn())
            .await?;
    sqlx::query("UPDATE institutions SET filing_status = 'filed', filing_no = COALESCE(filing_no, $1), version = version + 1 WHERE id = $2")
            .bind(filing_no)
            .bind(institution_id)
            .execute(tx.conn())
            .await?;
    append(
            tx,
            actor,
            NewEvent {
                action: "institution.filed_scope",
                object_type: "institution",
                object_id: institution_id.to_string(),
                summary: serde_json::json!({ "occupation_id": occupation_id, "levels": levels, "filing_no": filing_no, "source": source }),
            },
        )
        .await?;
    Ok(())
}
