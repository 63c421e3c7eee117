//! Issuing certificates (证书数据的生成) in batches, and revoking or correcting them with both
//! city keys.
//!
//! A batch fixes its candidates when it starts. Its certificates are written in chunks, each in
//! one transaction that allocates the serials from the counter row (`UPDATE … RETURNING`: a row
//! lock on PostgreSQL, the writer lock on SQLite), signs and inserts; they stay unpublished until
//! the batch completes in one last transaction (all or nothing to the outside). After a crash the
//! batch resumes with the candidates that have no certificate yet; a candidate's first
//! certificate is unique in the schema, so no rerun can duplicate one.

mod batches;
mod changes;
mod stage;

use domain::certissue::{BatchStatus, ChangeKind, ChangeStatus};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::Result;

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
        change_kind_label(self.kind)
    }
}

/// 撤销 or 更正, as the pages name a change.
pub(crate) fn change_kind_label(kind: ChangeKind) -> &'static str {
    if kind == ChangeKind::Revoke {
        "撤销"
    } else {
        "更正"
    }
}

/// Changes that wait for the other city role's key.
pub(crate) const PROPOSED_CHANGES: &str = "x.status = 'proposed' AND x.id > 0";
pub(crate) const CHANGE_FROM: &str =
    "cert_changes x JOIN certificates c ON c.id = x.certificate_id";

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
