//! 电子备案（二(一)）：机构提交的材料与区县的审核。

use super::*;
use domain::plan::EfilingStatus;

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Efiling {
    pub id: i64,
    pub institution_id: i64,
    pub institution_name: String,
    pub district_code: String,
    pub status: EfilingStatus,
    pub note: String,
    pub file_name: String,
    pub file_type: String,
    pub file_size: i64,
    pub file_sha256: String,
    pub submitted_at: Option<String>,
    pub reviewed_at: Option<String>,
    pub review_reason: String,
    pub version: i64,
    /// The uploaded copy (download at /documents/{id}).
    pub document_id: Option<i64>,
}

/// An uploaded file, stored as a document (`documents` table, bytes in the blob store).
#[derive(Debug, Clone)]
pub struct UploadedFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

pub(super) const EFILING_COLUMNS: &str = "e.id, e.institution_id, i.name, e.district_code, e.status, e.note, e.file_name, e.file_type, e.file_size, e.file_sha256, e.submitted_at, e.reviewed_at, e.review_reason, e.version, e.document_id";

pub(crate) const EFILING_FROM: &str = "efilings e JOIN institutions i ON i.id = e.institution_id";
pub(crate) const EFILING_ORDER: &str = "e.submitted_at DESC, e.id";

/// The conditions of the electronic filing list (also a source of the work queue).
pub(crate) fn efiling_filter(w: &mut Where, scope: &Scope, f: &EfilingFilter) {
    scope_by_owner(w, scope, "e.district_code", "e.institution_id");
    w.search(&["i.name", "e.file_name"], f.q.as_deref());
    w.eq_text("e.status", f.status.as_deref());
}

pub(super) fn efiling_row(r: &AnyRow) -> Result<Efiling> {
    Ok(Efiling {
        id: r.get(0),
        institution_id: r.get(1),
        institution_name: r.get(2),
        district_code: r.get(3),
        status: crate::sql::code(r, 4)?,
        note: r.get(5),
        file_name: r.get(6),
        file_type: r.get(7),
        file_size: r.get(8),
        file_sha256: r.get(9),
        submitted_at: r.get(10),
        reviewed_at: r.get(11),
        review_reason: r.get(12),
        version: r.get(13),
        document_id: r.get(14),
    })
}

#[derive(Debug, Clone, Default)]
pub struct EfilingFilter {
    pub q: Option<String>,
    pub status: Option<String>,
}

impl Store {
    /// The electronic filing of an institution in scope (None: nothing uploaded yet).
    pub async fn efiling(&self, scope: &Scope, institution_id: i64) -> Result<Option<Efiling>> {
        let mut w = Where::new();
        w.eq_int("e.institution_id", institution_id);
        scope_by_owner(&mut w, scope, "e.district_code", "e.institution_id");
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {EFILING_COLUMNS} FROM efilings e JOIN institutions i ON i.id = e.institution_id"),
                "e.id",
                PageRequest::new(Some(1), Some(1)),
            )
            .await?;
        rows.first().map(efiling_row).transpose()
    }

    pub async fn efiling_status(&self, institution_id: i64) -> Result<EfilingStatus> {
        let row = sqlx::query("SELECT status FROM efilings WHERE institution_id = $1")
            .bind(institution_id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(match row {
            Some(r) => crate::sql::code(&r, 0)?,
            None => EfilingStatus::Missing,
        })
    }

    pub async fn list_efilings(
        &self,
        scope: &Scope,
        f: &EfilingFilter,
        page: PageRequest,
    ) -> Result<Page<Efiling>> {
        let mut w = Where::new();
        efiling_filter(&mut w, scope, f);
        w.fetch_page(
            &self.db,
            EFILING_COLUMNS,
            EFILING_FROM,
            EFILING_ORDER,
            page,
            efiling_row,
        )
        .await
    }

    /// The institution uploads (or re-uploads after a return) its electronic filing copy: the
    /// file becomes a document of the institution (kind `filing_materials`).
    pub async fn submit_efiling(
        &self,
        actor: &Actor,
        institution_id: i64,
        note: &str,
        file: &UploadedFile,
    ) -> Result<()> {
        let district = self.institution_district(institution_id).await?;
        let status = self.efiling_status(institution_id).await?;
        if status == EfilingStatus::Confirmed {
            return Err(StoreError::Invalid(
                "电子备案已经区县确认，无需重复上传".into(),
            ));
        }
        if status == EfilingStatus::Submitted {
            return Err(StoreError::Invalid(
                "电子备案已提交，正在等待区县确认".into(),
            ));
        }
        let doc = self
            .add_document(
                actor,
                crate::NewDocument {
                    owner_type: "institution".into(),
                    owner_id: institution_id,
                    institution_id: Some(institution_id),
                    district_code: Some(district.clone()),
                    kind: "filing_materials".into(),
                    filename: file.name.clone(),
                    retention_until: None,
                },
                &file.bytes,
            )
            .await?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        sqlx::query("DELETE FROM efilings WHERE institution_id = $1")
            .bind(institution_id)
            .execute(tx.conn())
            .await?;
        sqlx::query(
            "INSERT INTO efilings (institution_id, district_code, status, note, file_name, file_type, file_size, file_sha256, document_id, submitted_by, submitted_at, created_at, updated_at) \
             VALUES ($1, $2, 'submitted', $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(institution_id)
        .bind(&district)
        .bind(note)
        .bind(&doc.filename)
        .bind(&doc.content_type)
        .bind(doc.size_bytes)
        .bind(&doc.sha256)
        .bind(doc.id)
        .bind(actor.user_id)
        .bind(&now)
        .bind(&now)
        .bind(&now)
        .execute(tx.conn())
        .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "efiling.submit",
                object_type: "institution",
                object_id: institution_id.to_string(),
                summary: serde_json::json!({ "document_id": doc.id, "file": doc.filename, "size": doc.size_bytes, "sha256": doc.sha256 }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The district confirms or returns the electronic filing.
    pub async fn review_efiling(
        &self,
        actor: &Actor,
        scope: &Scope,
        institution_id: i64,
        expected_version: i64,
        confirm: bool,
        reason: &str,
    ) -> Result<()> {
        let e = self
            .efiling(scope, institution_id)
            .await?
            .ok_or(StoreError::NotFound)?;
        if e.status != EfilingStatus::Submitted {
            return Err(StoreError::Invalid(format!(
                "电子备案当前状态为“{}”，不能审核",
                e.status.label()
            )));
        }
        let to = if confirm { "confirmed" } else { "returned" };
        let now = now_text();
        let mut tx = self.db.write().await?;
        let n = sqlx::query(
            "UPDATE efilings SET status = $1, reviewed_by = $2, reviewed_at = $3, review_reason = $4, updated_at = $5, version = version + 1 \
             WHERE id = $6 AND version = $7",
        )
        .bind(to)
        .bind(actor.user_id)
        .bind(&now)
        .bind(reason)
        .bind(&now)
        .bind(e.id)
        .bind(expected_version)
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
                action: if confirm {
                    "efiling.confirm"
                } else {
                    "efiling.return"
                },
                object_type: "institution",
                object_id: institution_id.to_string(),
                summary: serde_json::json!({ "reason": reason }),
            },
        )
        .await?;
        tx.commit().await
    }
}

// ---------------------------------------------------------------------------------------------
// Plans
