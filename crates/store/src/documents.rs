//! Uploaded materials (材料): one row per uploaded version, the bytes in the blob store.
//!
//! Jurisdiction: a document carries the institution and district it belongs to; [`Store::document`]
//! applies the actor's [`Scope`]: the city sees all, a district its district, an institution its
//! own. Experts and supervisors (`Scope::Assigned`) are refused here; a workflow that has
//! checked an assignment to the owner reads through [`Store::document_of_owner`] instead.

use domain::upload;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::blobs::StoredBlob;
use crate::db::WriteTx;
use crate::{now_text, Result, Store, StoreError};

/// Owner types whose documents are personal data (downloads are audited by the web layer).
pub const PERSONAL_OWNER_TYPES: &[&str] = &["candidate", "expert"];

/// A document to add. The web layer has already validated the upload
/// (`domain::upload::check_upload`); the store checks the content again and derives the type.
#[derive(Debug, Clone, Default)]
pub struct NewDocument {
    /// e.g. `filing_application`, `institution`, `plan`, `supervision_report`.
    pub owner_type: String,
    pub owner_id: i64,
    /// The institution the material belongs to (jurisdiction). When set and `district_code` is
    /// `None`, the district is taken from the institution.
    pub institution_id: Option<i64>,
    pub district_code: Option<String>,
    /// 材料类别 key, e.g. `business_license`.
    pub kind: String,
    /// The client's file name (sanitised again here).
    pub filename: String,
    /// 'YYYY-MM-DD', when the owner knows it already.
    pub retention_until: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Document {
    pub id: i64,
    pub owner_type: String,
    pub owner_id: i64,
    pub institution_id: Option<i64>,
    pub district_code: Option<String>,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub blob_key: String,
    /// 1 for the first upload of (owner, kind, filename), then 2, 3 …
    pub version: i64,
    pub uploaded_by: Option<i64>,
    pub uploaded_at: String,
    pub retention_until: Option<String>,
}

impl Document {
    /// Size for people: "12.3 KB".
    pub fn size_text(&self) -> String {
        let b = self.size_bytes as f64;
        if b >= 1024.0 * 1024.0 {
            format!("{:.1} MB", b / 1024.0 / 1024.0)
        } else if b >= 1024.0 {
            format!("{:.1} KB", b / 1024.0)
        } else {
            format!("{} 字节", self.size_bytes)
        }
    }

    pub fn is_personal(&self) -> bool {
        PERSONAL_OWNER_TYPES.contains(&self.owner_type.as_str())
    }
}

/// The latest version of one (kind, filename) with its earlier versions, newest first.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DocumentVersions {
    pub latest: Document,
    pub older: Vec<Document>,
}

const COLUMNS: &str = "id, owner_type, owner_id, institution_id, district_code, kind, filename, content_type, size_bytes, sha256, blob_key, version, uploaded_by, uploaded_at, retention_until";

fn from_row(r: &AnyRow) -> Result<Document> {
    Ok(Document {
        id: r.get(0),
        owner_type: r.get(1),
        owner_id: r.get(2),
        institution_id: r.get(3),
        district_code: r.get(4),
        kind: r.get(5),
        filename: r.get(6),
        content_type: r.get(7),
        size_bytes: r.get(8),
        sha256: r.get(9),
        blob_key: r.get(10),
        version: r.get(11),
        uploaded_by: r.get(12),
        uploaded_at: r.get(13),
        retention_until: r.get(14),
    })
}

impl Store {
    /// Store the bytes in the blob store, then insert the row (next version of owner + kind +
    /// filename) and its audit event in one transaction. Returns the new document.
    ///
    /// Refuses (`StoreError::Invalid`, Chinese) content of an unsupported type or whose
    /// extension does not match; size limits are the web layer's.
    pub async fn add_document(
        &self,
        actor: &Actor,
        doc: NewDocument,
        bytes: &[u8],
    ) -> Result<Document> {
        let checked = upload::check_upload(&doc.filename, bytes, u64::MAX)
            .map_err(|e| StoreError::Invalid(e.message))?;
        let blob = self.blobs.put(bytes).await?;
        let mut tx = self.db.write().await?;
        let id = self
            .add_document_in(&mut tx, actor, doc, &checked, &blob)
            .await?;
        tx.commit().await?;
        self.document(&Scope::City, id).await
    }

    /// For workflows that attach a document inside their own transaction: store the blob with
    /// `store.blobs.put(bytes)` and check the upload with `domain::upload::check_upload`
    /// BEFORE opening the transaction, then call this. Returns the document id.
    pub async fn add_document_in(
        &self,
        tx: &mut WriteTx,
        actor: &Actor,
        doc: NewDocument,
        checked: &upload::CheckedUpload,
        blob: &StoredBlob,
    ) -> Result<i64> {
        let district = match (&doc.district_code, doc.institution_id) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(inst)) => {
                sqlx::query("SELECT district_code FROM institutions WHERE id = $1")
                    .bind(inst)
                    .fetch_optional(tx.conn())
                    .await?
                    .map(|r| r.get::<String, _>(0))
            }
            (None, None) => None,
        };
        let version: i64 = sqlx::query(
            "SELECT COALESCE(MAX(version), 0) + 1 FROM documents WHERE owner_type = $1 AND owner_id = $2 AND kind = $3 AND filename = $4",
        )
        .bind(&doc.owner_type)
        .bind(doc.owner_id)
        .bind(&doc.kind)
        .bind(&checked.filename)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        let id: i64 = sqlx::query(
            "INSERT INTO documents (owner_type, owner_id, institution_id, district_code, kind, filename, content_type, size_bytes, sha256, blob_key, version, uploaded_by, uploaded_at, retention_until) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
        )
        .bind(&doc.owner_type)
        .bind(doc.owner_id)
        .bind(doc.institution_id)
        .bind(&district)
        .bind(&doc.kind)
        .bind(&checked.filename)
        .bind(checked.kind.content_type())
        .bind(blob.size as i64)
        .bind(&blob.sha256)
        .bind(&blob.key)
        .bind(version)
        .bind(actor.user_id)
        .bind(now_text())
        .bind(&doc.retention_until)
        .fetch_one(tx.conn())
        .await
        // Two uploads of the same name at once: one wins, the other retries.
        .map_err(|e| match StoreError::unique(e, "") {
            StoreError::Duplicate(_) => StoreError::Conflict,
            other => other,
        })?
        .get(0);
        append(
            tx,
            actor,
            NewEvent {
                action: "document.upload",
                object_type: "document",
                object_id: id.to_string(),
                summary: serde_json::json!({
                    "owner_type": doc.owner_type, "owner_id": doc.owner_id, "kind": doc.kind,
                    "filename": checked.filename, "version": version,
                    "sha256": blob.sha256, "size": blob.size,
                }),
            },
        )
        .await?;
        Ok(id)
    }

    /// Every document of an owner, grouped by (kind, filename): the latest version with its
    /// history, ordered by kind then newest upload first. Not scoped: call it only after the
    /// actor was allowed to see the owner itself.
    pub async fn documents_of(
        &self,
        owner_type: &str,
        owner_id: i64,
    ) -> Result<Vec<DocumentVersions>> {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM documents WHERE owner_type = $1 AND owner_id = $2 ORDER BY kind, filename, version DESC"
        ))
        .bind(owner_type)
        .bind(owner_id)
        .fetch_all(&self.db.pool)
        .await?;
        let mut groups: Vec<DocumentVersions> = Vec::new();
        for d in rows.iter().map(from_row) {
            let d = d?;
            match groups.last_mut() {
                Some(g) if g.latest.kind == d.kind && g.latest.filename == d.filename => {
                    g.older.push(d)
                }
                _ => groups.push(DocumentVersions {
                    latest: d,
                    older: vec![],
                }),
            }
        }
        groups.sort_by(|a, b| {
            a.latest
                .kind
                .cmp(&b.latest.kind)
                .then(b.latest.uploaded_at.cmp(&a.latest.uploaded_at))
                .then(b.latest.id.cmp(&a.latest.id))
        });
        Ok(groups)
    }

    /// One document if `scope` covers it; otherwise `NotFound` (a 404, never a hint).
    /// `Scope::Assigned` is always refused here (see the module docs).
    pub async fn document(&self, scope: &Scope, id: i64) -> Result<Document> {
        let row = sqlx::query(&format!("SELECT {COLUMNS} FROM documents WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let d = from_row(&row)?;
        if scope.covers(d.district_code.as_deref(), d.institution_id) {
            Ok(d)
        } else {
            Err(StoreError::NotFound)
        }
    }

    /// One document of a given owner, without a scope check: for workflows that have already
    /// verified that the actor may see the owner (e.g. an expert assigned to an application).
    pub async fn document_of_owner(
        &self,
        owner_type: &str,
        owner_id: i64,
        id: i64,
    ) -> Result<Document> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM documents WHERE id = $1 AND owner_type = $2 AND owner_id = $3"
        ))
        .bind(id)
        .bind(owner_type)
        .bind(owner_id)
        .fetch_optional(&self.db.pool)
        .await?;
        row.as_ref()
            .map(from_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
    }

    /// The document (scope-checked) and its bytes.
    pub async fn document_bytes(&self, scope: &Scope, id: i64) -> Result<(Document, Vec<u8>)> {
        let d = self.document(scope, id).await?;
        let bytes = self.blobs.get(&d.blob_key).await?;
        Ok((d, bytes))
    }
}
