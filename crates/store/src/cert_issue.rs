//! Issuing certificates (证书数据的生成) in batches, and revoking or correcting them with both
//! city keys.
//!
//! A batch fixes its candidates when it starts. Its certificates are written in chunks, each in
//! one transaction that allocates the serials from the counter row (`UPDATE … RETURNING`: a row
//! lock on PostgreSQL, the writer lock on SQLite), signs and inserts; they stay unpublished until
//! the batch completes in one last transaction (all or nothing to the outside). After a crash the
//! batch resumes with the candidates that have no certificate yet; a candidate's first
//! certificate is unique in the schema, so no rerun can duplicate one.

use domain::certissue::{BatchStatus, ChangeKind, ChangeStatus};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::certificates::{cert_row, CERT_COLUMNS};
use crate::db::WriteTx;
use crate::{now_text, Certificate, Page, PageRequest, Result, Store, StoreError};

/// One issue run of a plan.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertBatch {
    pub id: i64,
    pub plan_id: i64,
    pub plan_no: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub occupation_name: String,
    /// running | done | failed
    pub status: BatchStatus,
    /// 补发: candidates holding the same certificate are included; the old one is superseded.
    pub reissue: bool,
    pub issued_on: String,
    pub total: i64,
    pub done: i64,
    pub job_id: Option<i64>,
    pub message: String,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub finished_at: Option<String>,
}

impl CertBatch {
    pub fn status_label(&self) -> &'static str {
        match self.status.as_str() {
            "running" => "签发中",
            "done" => "已完成",
            "failed" => "已放弃",
            _ => "未知",
        }
    }
}

const BATCH_COLUMNS: &str = "b.id, b.plan_id, p.plan_no, b.institution_id, i.name, o.name, b.status, b.reissue, b.issued_on, b.total, b.done, b.job_id, b.message, b.created_by, b.created_at, b.updated_at, b.finished_at";
const BATCH_FROM: &str = "cert_batches b JOIN plans p ON p.id = b.plan_id JOIN institutions i ON i.id = b.institution_id JOIN occupations o ON o.id = p.occupation_id";

fn batch_row(r: &AnyRow) -> Result<CertBatch> {
    Ok(CertBatch {
        id: r.get(0),
        plan_id: r.get(1),
        plan_no: r.get(2),
        institution_id: r.get(3),
        institution_name: r.get(4),
        occupation_name: r.get(5),
        status: crate::sql::code(r, 6)?,
        reissue: r.get::<i64, _>(7) != 0,
        issued_on: r.get(8),
        total: r.get(9),
        done: r.get(10),
        job_id: r.get(11),
        message: r.get(12),
        created_by: r.get(13),
        created_at: r.get(14),
        updated_at: r.get(15),
        finished_at: r.get(16),
    })
}

/// A passed candidate of a plan as the center sees it before issuing.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct IssueCandidate {
    pub candidate_id: i64,
    pub name: String,
    pub id_masked: String,
    pub level: i64,
    pub photo_document_id: Option<i64>,
    /// A certificate this candidate already has (from this plan).
    pub issued: Option<String>,
    /// A valid certificate of the same person, occupation and level from elsewhere: (id, number).
    pub holds_same: Option<(i64, String)>,
}

/// Everything a certificate is made of, gathered from the candidate, plan, institution and batch.
#[derive(Debug, Clone)]
pub struct IssueDraft {
    pub candidate_id: i64,
    pub plan_id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    /// `social_org`, `enterprise`… (S or Y in the number).
    pub institution_kind: String,
    pub district_code: String,
    /// Empty when the city has not entered it.
    pub site_code: String,
    pub occupation_code: String,
    pub occupation_name: String,
    /// `occupation` or `special` (专项职业能力).
    pub occupation_kind: String,
    pub work_type: String,
    pub level: i64,
    pub holder_name: String,
    pub id_type: String,
    pub id_hash: String,
    pub id_masked: String,
    pub photo_document_id: Option<i64>,
    pub issued_on: String,
    /// The certificate this one replaces (reissue or correction).
    pub replaces_id: Option<i64>,
}

/// A signature made by the web layer (which holds the key).
#[derive(Debug, Clone)]
pub struct Signed {
    pub cose: Vec<u8>,
    pub key_id: String,
    pub signed_at: i64,
}

/// Composes the number from a draft and its serial.
pub type Compose<'a> = &'a (dyn Fn(&IssueDraft, i64) -> std::result::Result<String, String> + Sync);
/// Signs a draft under its number and status-list index.
pub type Sign<'a> =
    &'a (dyn Fn(&IssueDraft, &str, i64) -> std::result::Result<Signed, String> + Sync);

/// A revocation (撤销) or correction (更正) waiting for, or given, its second key.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertChange {
    pub id: i64,
    pub certificate_id: i64,
    pub cert_no: String,
    pub holder_name: String,
    /// revoke | correct
    pub kind: ChangeKind,
    pub reason: String,
    /// Corrected fields: holder_name, work_type.
    pub corrections: serde_json::Value,
    /// proposed | applied | withdrawn
    pub status: ChangeStatus,
    pub proposed_by: String,
    pub proposed_role: String,
    pub proposed_at: String,
    pub confirmed_by: Option<String>,
    pub confirmed_role: Option<String>,
    pub confirmed_at: Option<String>,
    pub new_certificate_id: Option<i64>,
    pub version: i64,
}

impl CertChange {
    pub fn kind_label(&self) -> &'static str {
        if self.kind == ChangeKind::Revoke {
            "撤销"
        } else {
            "更正"
        }
    }
}

const CHANGE_COLUMNS: &str = "x.id, x.certificate_id, c.cert_no, c.holder_name, x.kind, x.reason, x.corrections, x.status, x.proposed_by, x.proposed_role, x.proposed_at, x.confirmed_by, x.confirmed_role, x.confirmed_at, x.new_certificate_id, x.version";

fn change_row(r: &AnyRow) -> Result<CertChange> {
    Ok(CertChange {
        id: r.get(0),
        certificate_id: r.get(1),
        cert_no: r.get(2),
        holder_name: r.get(3),
        kind: crate::sql::code(r, 4)?,
        reason: r.get(5),
        corrections: serde_json::from_str(&r.get::<String, _>(6)).unwrap_or_default(),
        status: crate::sql::code(r, 7)?,
        proposed_by: r.get(8),
        proposed_role: r.get(9),
        proposed_at: r.get(10),
        confirmed_by: r.get(11),
        confirmed_role: r.get(12),
        confirmed_at: r.get(13),
        new_certificate_id: r.get(14),
        version: r.get(15),
    })
}

const DRAFT_COLUMNS: &str = "c.id, c.plan_id, p.institution_id, i.name, i.kind, i.district_code, COALESCE(i.site_code, ''), o.code, o.name, o.kind, c.level, c.name, c.id_type, c.id_hash, c.id_masked, c.photo_document_id";
const DRAFT_FROM: &str = "candidates c JOIN plans p ON p.id = c.plan_id JOIN institutions i ON i.id = p.institution_id JOIN occupations o ON o.id = p.occupation_id";

fn draft_row(r: &AnyRow, issued_on: &str, replaces_id: Option<i64>) -> IssueDraft {
    IssueDraft {
        candidate_id: r.get(0),
        plan_id: r.get(1),
        institution_id: r.get(2),
        institution_name: r.get(3),
        institution_kind: r.get(4),
        district_code: r.get(5),
        site_code: r.get(6),
        occupation_code: r.get(7),
        occupation_name: r.get(8),
        occupation_kind: r.get(9),
        level: r.get(10),
        holder_name: r.get(11),
        id_type: r.get(12),
        id_hash: r.get(13),
        id_masked: r.get(14),
        photo_document_id: r.get(15),
        work_type: "--".into(),
        issued_on: issued_on.to_string(),
        replaces_id,
    }
}

/// The next serial of (institution, year, level): `UPDATE … RETURNING` locks the counter row on
/// PostgreSQL until commit; on SQLite the transaction already holds the writer lock.
async fn next_serial(tx: &mut WriteTx, institution_id: i64, year: i64, level: i64) -> Result<i64> {
    bump_serial(tx, (institution_id, year, level), 1).await
}

/// Reserve `n` consecutive status-list indexes; returns the first. Taken first in every issuing
/// transaction, so issuing transactions queue on this row and never deadlock on the counters.
async fn reserve_status_indexes(tx: &mut WriteTx, n: i64) -> Result<i64> {
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
async fn insert_certificate(
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

    /// The items of a batch that have no certificate yet, as drafts.
    pub async fn pending_drafts(&self, batch: &CertBatch) -> Result<Vec<IssueDraft>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRAFT_COLUMNS}, bi.replaces_id FROM {DRAFT_FROM} JOIN cert_batch_items bi ON bi.candidate_id = c.id \
             WHERE bi.batch_id = $1 AND NOT EXISTS (SELECT 1 FROM certificates z WHERE z.batch_id = bi.batch_id AND z.candidate_id = bi.candidate_id) ORDER BY bi.id"
        ))
        .bind(batch.id)
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

    // -- two-key changes ---------------------------------------------------------------------

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
            Some(id) => ("x.certificate_id = $1", id),
            None => ("x.status = 'proposed' AND x.id > $1", 0),
        };
        Ok(sqlx::query(&format!("SELECT {CHANGE_COLUMNS} FROM cert_changes x JOIN certificates c ON c.id = x.certificate_id WHERE {cond} ORDER BY x.id"))
            .bind(arg)
            .fetch_all(&self.db.pool)
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
