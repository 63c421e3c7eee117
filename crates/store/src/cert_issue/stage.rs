//! Numbering (证书编号), status-list indexes, signing and staging certificates unpublished.

use sqlx::Row;

use super::{draft_row, CertBatch, Compose, IssueDraft, Sign, Signed, DRAFT_COLUMNS, DRAFT_FROM};
use crate::audit::{append, Actor, NewEvent};
use crate::db::WriteTx;
use crate::{now_text, Result, Store, StoreError};

/// The next serial of (institution, year, level): `UPDATE … RETURNING` locks the counter row on
/// PostgreSQL until commit; on SQLite the transaction already holds the writer lock.
async fn next_serial(tx: &mut WriteTx, institution_id: i64, year: i64, level: i64) -> Result<i64> {
    bump_serial(tx, (institution_id, year, level), 1).await
}

/// Reserve `n` consecutive status-list indexes; returns the first. Taken first in every issuing
/// transaction, so issuing transactions queue on this row and never deadlock on the counters.
pub(super) async fn reserve_status_indexes(tx: &mut WriteTx, n: i64) -> Result<i64> {
    let last: i64 = sqlx::query(
        "UPDATE cert_status_counter SET last_index = last_index + $1 WHERE id = 1 RETURNING last_index",
    )
    .bind(n)
    .fetch_one(tx.conn())
    .await?
    .get(0);
    Ok(last - n + 1)
}

/// Number, sign and insert one certificate inside `tx`. Returns its id and number.
#[allow(clippy::too_many_arguments)]
pub(super) async fn insert_certificate(
    tx: &mut WriteTx,
    d: &IssueDraft,
    batch_id: Option<i64>,
    status_index: i64,
    per_level: bool,
    published: bool,
    compose: Compose<'_>,
    sign: Sign<'_>,
) -> Result<(i64, String)> {
    use base64::Engine;
    let year: i64 = d
        .issued_on
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(0);
    // One counter per institution and year (and level, if the policy says so); 专项职业能力
    // certificates count apart (level -1).
    let counter_level = if d.occupation_kind == "special" {
        -1
    } else if per_level {
        d.level
    } else {
        0
    };
    let serial = next_serial(tx, d.institution_id, year, counter_level).await?;
    let cert_no = compose(d, serial).map_err(StoreError::Invalid)?;
    let signed = sign(d, &cert_no, status_index).map_err(StoreError::Invalid)?;
    let id: i64 = sqlx::query(
        "INSERT INTO certificates (cert_no, candidate_id, plan_id, batch_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, work_type, level, holder_name, id_type, id_hash, id_masked, photo_document_id, issued_on, state, published, reissue_of, status_index, signed_at, key_id, cose, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, 'valid', $19, $20, $21, $22, $23, $24, $25) RETURNING id",
    )
    .bind(&cert_no)
    .bind(d.candidate_id)
    .bind(d.plan_id)
    .bind(batch_id)
    .bind(d.institution_id)
    .bind(&d.institution_name)
    .bind(&d.district_code)
    .bind(&d.site_code)
    .bind(&d.occupation_code)
    .bind(&d.occupation_name)
    .bind(&d.work_type)
    .bind(d.level)
    .bind(&d.holder_name)
    .bind(&d.id_type)
    .bind(&d.id_hash)
    .bind(&d.id_masked)
    .bind(d.photo_document_id)
    .bind(&d.issued_on)
    .bind(published as i64)
    .bind(d.replaces_id)
    .bind(status_index)
    .bind(signed.signed_at)
    .bind(&signed.key_id)
    .bind(base64::engine::general_purpose::STANDARD.encode(&signed.cose))
    .bind(now_text())
    .fetch_one(tx.conn())
    .await
    .map_err(|e| StoreError::unique(e, &format!("{}已发证或证书编号 {cert_no} 已被占用，未重复发证", d.holder_name)))?
    .get(0);
    Ok((id, cert_no))
}

/// The first draft of `drafts` (first issues only) whose person already holds a valid
/// certificate of the same occupation and level through another candidate, with its number.
async fn held_elsewhere_any<'d>(
    tx: &mut WriteTx,
    drafts: &'d [IssueDraft],
) -> Result<Option<(&'d IssueDraft, String)>> {
    let firsts: Vec<&IssueDraft> = drafts.iter().filter(|d| d.replaces_id.is_none()).collect();
    if firsts.is_empty() {
        return Ok(None);
    }
    let marks: Vec<String> = (1..=firsts.len()).map(|k| format!("${k}")).collect();
    let sql = format!(
        "SELECT id_hash, occupation_code, level, candidate_id, cert_no FROM certificates WHERE state = 'valid' AND id_hash IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query(&sql);
    for d in &firsts {
        q = q.bind(&d.id_hash);
    }
    let held = q.fetch_all(tx.conn()).await?;
    for d in firsts {
        if let Some(r) = held.iter().find(|r| {
            r.get::<String, _>(0) == d.id_hash
                && r.get::<String, _>(1) == d.occupation_code
                && r.get::<i64, _>(2) == d.level
                && r.get::<i64, _>(3) != d.candidate_id
        }) {
            return Ok(Some((d, r.get(4))));
        }
    }
    Ok(None)
}

/// The serial counter a draft counts on: (institution, year, level or 0); 专项职业能力
/// certificates count apart (level -1).
fn counter_of(d: &IssueDraft, per_level: bool) -> (i64, i64, i64) {
    let year: i64 = d
        .issued_on
        .get(..4)
        .and_then(|y| y.parse().ok())
        .unwrap_or(0);
    let level = if d.occupation_kind == "special" {
        -1
    } else if per_level {
        d.level
    } else {
        0
    };
    (d.institution_id, year, level)
}

/// Serials for `drafts`, in order: one counter bump per counter the chunk uses (instead of
/// one per certificate), under the same row lock / writer lock as [`next_serial`].
async fn allocate_serials(
    tx: &mut WriteTx,
    drafts: &[IssueDraft],
    per_level: bool,
) -> Result<Vec<i64>> {
    let keys: Vec<(i64, i64, i64)> = drafts.iter().map(|d| counter_of(d, per_level)).collect();
    let mut firsts: Vec<((i64, i64, i64), i64)> = vec![];
    for key in &keys {
        if firsts.iter().any(|(k, _)| k == key) {
            continue;
        }
        let n = keys.iter().filter(|k| *k == key).count() as i64;
        let last = bump_serial(tx, *key, n).await?;
        firsts.push((*key, last - n + 1));
    }
    Ok(keys
        .iter()
        .map(|key| {
            let slot = firsts.iter_mut().find(|(k, _)| k == key).expect("counter");
            slot.1 += 1;
            slot.1 - 1
        })
        .collect())
}

/// Advance a counter by `n`; returns its new last serial.
async fn bump_serial(
    tx: &mut WriteTx,
    (inst, year, level): (i64, i64, i64),
    n: i64,
) -> Result<i64> {
    let bump = "UPDATE cert_counters SET last_serial = last_serial + $4 WHERE institution_id = $1 AND year = $2 AND level = $3 RETURNING last_serial";
    for _ in 0..2 {
        if let Some(r) = sqlx::query(bump)
            .bind(inst)
            .bind(year)
            .bind(level)
            .bind(n)
            .fetch_optional(tx.conn())
            .await?
        {
            return Ok(r.get(0));
        }
        sqlx::query("INSERT INTO cert_counters (institution_id, year, level, last_serial) VALUES ($1, $2, $3, 0) ON CONFLICT (institution_id, year, level) DO NOTHING")
            .bind(inst)
            .bind(year)
            .bind(level)
            .execute(tx.conn())
            .await?;
    }
    Err(StoreError::Other("证书流水号计数器不可用".into()))
}

/// The columns every certificate insert writes (state 'valid').
const INSERT_COLUMNS: &str = "cert_no, candidate_id, plan_id, batch_id, institution_id, institution_name, district_code, site_code, occupation_code, occupation_name, work_type, level, holder_name, id_type, id_hash, id_masked, photo_document_id, issued_on, state, published, reissue_of, status_index, signed_at, key_id, cose, created_at";

/// Insert a chunk of numbered, signed drafts (unpublished) with one statement per 40 rows.
async fn insert_staged(
    tx: &mut WriteTx,
    drafts: &[IssueDraft],
    numbers: &[String],
    signed: &[Signed],
    batch_id: i64,
    first_index: i64,
) -> Result<()> {
    use base64::Engine;
    const ROWS: usize = 40;
    const PER_ROW: usize = 24;
    let now = now_text();
    for (c, chunk) in drafts.chunks(ROWS).enumerate() {
        let values: Vec<String> = (0..chunk.len())
            .map(|k| {
                let m: Vec<String> = (1..=PER_ROW)
                    .map(|j| format!("${}", k * PER_ROW + j))
                    .collect();
                // 'valid' and published 0 are literals between the 18th and 19th marks.
                format!(
                    "({}, 'valid', 0, {})",
                    m[..18].join(", "),
                    m[18..].join(", ")
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO certificates ({INSERT_COLUMNS}) VALUES {}",
            values.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for (k, d) in chunk.iter().enumerate() {
            let i = c * ROWS + k;
            q = q
                .bind(&numbers[i])
                .bind(d.candidate_id)
                .bind(d.plan_id)
                .bind(batch_id)
                .bind(d.institution_id)
                .bind(&d.institution_name)
                .bind(&d.district_code)
                .bind(&d.site_code)
                .bind(&d.occupation_code)
                .bind(&d.occupation_name)
                .bind(&d.work_type)
                .bind(d.level)
                .bind(&d.holder_name)
                .bind(&d.id_type)
                .bind(&d.id_hash)
                .bind(&d.id_masked)
                .bind(d.photo_document_id)
                .bind(&d.issued_on)
                .bind(d.replaces_id)
                .bind(first_index + i as i64)
                .bind(signed[i].signed_at)
                .bind(&signed[i].key_id)
                .bind(base64::engine::general_purpose::STANDARD.encode(&signed[i].cose))
                .bind(&now);
        }
        q.execute(tx.conn()).await.map_err(|e| {
            StoreError::unique(e, "本批中有考生已发证或证书编号已被占用，未重复发证")
        })?;
    }
    Ok(())
}

impl Store {
    /// The items of a batch that have no certificate yet, as drafts.
    pub async fn pending_drafts(&self, batch: &CertBatch) -> Result<Vec<IssueDraft>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS}, bi.replaces_id FROM {DRAFT_FROM} JOIN cert_batch_items bi ON bi.candidate_id = c.id \
             WHERE bi.batch_id = $1 AND c.plan_id = $2 AND NOT EXISTS (SELECT 1 FROM certificates z WHERE z.batch_id = bi.batch_id AND z.candidate_id = bi.candidate_id) ORDER BY bi.id"
        ))
        .bind(batch.id)
        // A batch's candidates are its plan's: said here so that the planner reads them by
        // plan, never by walking every candidate in id order to meet the batch's (a merge join
        // PostgreSQL chose on statistics from when the tables were small).
        .bind(batch.plan_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| draft_row(r, &batch.issued_on, r.get(16)))
            .collect())
    }

    /// Number, sign and insert (unpublished) the certificates of `drafts` in one transaction.
    pub async fn stage_certificates(
        &self,
        actor: &Actor,
        batch: &CertBatch,
        drafts: &[IssueDraft],
        per_level: bool,
        compose: Compose<'_>,
        sign: Sign<'_>,
    ) -> Result<usize> {
        if drafts.is_empty() {
            return Ok(0);
        }
        let mut tx = self.db.write().await?;
        let first_index = reserve_status_indexes(&mut tx, drafts.len() as i64).await?;
        let status: String = sqlx::query("SELECT status FROM cert_batches WHERE id = $1")
            .bind(batch.id)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        if status != "running" {
            return Err(StoreError::Conflict);
        }
        // 一人一证: one query for the whole chunk.
        if let Some((d, no)) = held_elsewhere_any(&mut tx, drafts).await? {
            return Err(StoreError::Invalid(format!(
                "{}：{}",
                d.holder_name,
                domain::certissue::Blocker::HoldsSame { cert_no: no }.reason()
            )));
        }
        let serials = allocate_serials(&mut tx, drafts, per_level).await?;
        let mut numbers = Vec::with_capacity(drafts.len());
        let mut signed = Vec::with_capacity(drafts.len());
        for (k, d) in drafts.iter().enumerate() {
            let no = compose(d, serials[k]).map_err(StoreError::Invalid)?;
            signed.push(sign(d, &no, first_index + k as i64).map_err(StoreError::Invalid)?);
            numbers.push(no);
        }
        insert_staged(&mut tx, drafts, &numbers, &signed, batch.id, first_index).await?;
        sqlx::query("UPDATE cert_batches SET done = (SELECT COUNT(*) FROM certificates WHERE batch_id = $1), updated_at = $2 WHERE id = $1")
            .bind(batch.id)
            .bind(now_text())
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "certificate.stage",
                object_type: "cert_batch",
                object_id: batch.id.to_string(),
                summary: serde_json::json!({ "count": numbers.len(), "first": numbers.first(), "last": numbers.last() }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(numbers.len())
    }
}
