//! Supervision of a plan (督导): supervisor assignments, relations, the tripartite letter
//! (三方责任书) and its signatures, supervision reports, and the supervisor pool.

use domain::plan::Party;
use domain::signature::Signer;
use serde::Serialize;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::plans::UploadedFile;
use crate::sql::{Arg, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError};

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Assignment {
    pub side: String,
    pub supervisor_id: i64,
    pub supervisor_name: String,
    pub supervisor_username: String,
    pub assigned_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Relation {
    pub id: i64,
    pub supervisor_id: i64,
    pub supervisor_name: String,
    pub institution_id: i64,
    pub institution_name: String,
    pub kind: String,
    pub note: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Letter {
    pub id: i64,
    pub plan_id: i64,
    pub revision: i64,
    pub body: String,
    pub sha256: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Signature {
    pub party: String,
    pub signer_id: i64,
    pub signer_name: String,
    pub signed_at: String,
    pub doc_sha256: String,
    pub algorithm: String,
    pub key_id: String,
    pub signature: String,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Report {
    pub id: i64,
    pub supervisor_name: String,
    pub side: String,
    pub body: String,
    pub attachment_name: String,
    pub attachment_sha256: String,
    pub document_id: Option<i64>,
    pub filed_at: String,
}

impl Store {
    // -- supervision -----------------------------------------------------------------------------

    pub async fn assignments(&self, plan_id: i64) -> Result<Vec<Assignment>> {
        let rows = sqlx::query(
            "SELECT a.side, a.supervisor_id, u.display_name, u.username, a.assigned_at FROM supervision_assignments a JOIN users u ON u.id = a.supervisor_id WHERE a.plan_id = $1 ORDER BY a.side",
        )
        .bind(plan_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows
            .iter()
            .map(|r| Assignment {
                side: r.get(0),
                supervisor_id: r.get(1),
                supervisor_name: r.get(2),
                supervisor_username: r.get(3),
                assigned_at: r.get(4),
            })
            .collect())
    }

    /// Relation kinds recorded between a supervisor and an institution.
    pub async fn relation_kinds(
        &self,
        supervisor_id: i64,
        institution_id: i64,
    ) -> Result<Vec<String>> {
        Ok(sqlx::query(
            "SELECT kind FROM supervisor_relations WHERE supervisor_id = $1 AND institution_id = $2 ORDER BY kind",
        )
        .bind(supervisor_id)
        .bind(institution_id)
        .fetch_all(&self.db.pool)
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect())
    }

    pub async fn list_relations(
        &self,
        page: PageRequest,
        q: Option<&str>,
    ) -> Result<Page<Relation>> {
        let mut w = Where::new();
        w.search(&["u.display_name", "i.name", "r.kind"], q);
        let from = "supervisor_relations r JOIN users u ON u.id = r.supervisor_id JOIN institutions i ON i.id = r.institution_id";
        let rows = w
            .page(
                &self.db,
                &format!("SELECT r.id, r.supervisor_id, u.display_name, r.institution_id, i.name, r.kind, r.note, r.recorded_at FROM {from}"),
                "r.id DESC",
                page,
            )
            .await?;
        let total = w.total_after(&self.db, from, page, rows.len()).await?;
        Ok(Page {
            items: rows
                .iter()
                .map(|r| Relation {
                    id: r.get(0),
                    supervisor_id: r.get(1),
                    supervisor_name: r.get(2),
                    institution_id: r.get(3),
                    institution_name: r.get(4),
                    kind: r.get(5),
                    note: r.get(6),
                    recorded_at: r.get(7),
                })
                .collect(),
            total,
            page: page.page,
            per_page: page.per_page,
        })
    }

    pub async fn add_relation(
        &self,
        actor: &Actor,
        supervisor_id: i64,
        institution_id: i64,
        kind: &str,
        note: &str,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let id: i64 = sqlx::query("INSERT INTO supervisor_relations (supervisor_id, institution_id, kind, note, recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id")
            .bind(supervisor_id)
            .bind(institution_id)
            .bind(kind)
            .bind(note)
            .bind(actor.user_id)
            .bind(now_text())
            .fetch_one(tx.conn())
            .await
            .map_err(|e| StoreError::unique(e, "该关系已登记"))?
            .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "supervision.relation",
                object_type: "supervisor_relation",
                object_id: id.to_string(),
                summary: serde_json::json!({ "supervisor_id": supervisor_id, "institution_id": institution_id, "kind": kind }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Assign (or replace, while nobody signed) the supervisor of one side. The caller checked
    /// the pool and the conflict rules. Any unsigned letter is superseded.
    pub async fn assign_supervisor(
        &self,
        actor: &Actor,
        plan_id: i64,
        side: Party,
        supervisor_id: i64,
    ) -> Result<()> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let signed: i64 = sqlx::query("SELECT COUNT(*) FROM letter_signatures s JOIN supervision_letters l ON l.id = s.letter_id WHERE l.plan_id = $1 AND l.superseded_at IS NULL")
            .bind(plan_id)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        if signed > 0 {
            return Err(StoreError::Invalid(
                "督导责任书已有签字，不能再更换督导人员".into(),
            ));
        }
        sqlx::query("DELETE FROM supervision_assignments WHERE plan_id = $1 AND side = $2")
            .bind(plan_id)
            .bind(side.as_str())
            .execute(tx.conn())
            .await?;
        sqlx::query("INSERT INTO supervision_assignments (plan_id, side, supervisor_id, assigned_by, assigned_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(plan_id)
            .bind(side.as_str())
            .bind(supervisor_id)
            .bind(actor.user_id)
            .bind(&now)
            .execute(tx.conn())
            .await?;
        sqlx::query("UPDATE supervision_letters SET superseded_at = $1 WHERE plan_id = $2 AND superseded_at IS NULL")
            .bind(&now)
            .bind(plan_id)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "supervision.assign",
                object_type: "plan",
                object_id: plan_id.to_string(),
                summary: serde_json::json!({ "side": side.as_str(), "supervisor_id": supervisor_id }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The current (not superseded) letter of a plan.
    pub async fn current_letter(&self, plan_id: i64) -> Result<Option<Letter>> {
        let r = sqlx::query("SELECT id, plan_id, revision, body, sha256, created_at FROM supervision_letters WHERE plan_id = $1 AND superseded_at IS NULL ORDER BY id DESC LIMIT 1")
            .bind(plan_id)
            .fetch_optional(&self.db.pool)
            .await?;
        Ok(r.map(|r| Letter {
            id: r.get(0),
            plan_id: r.get(1),
            revision: r.get(2),
            body: r.get(3),
            sha256: r.get(4),
            created_at: r.get(5),
        }))
    }

    /// Store a generated letter (the text composed by the domain) unless the same text is current.
    pub async fn issue_letter(
        &self,
        actor: &Actor,
        plan_id: i64,
        revision: i64,
        body: &str,
    ) -> Result<Letter> {
        let sha = domain::plan::sha256_hex(body.as_bytes());
        if let Some(l) = self.current_letter(plan_id).await? {
            if l.sha256 == sha {
                return Ok(l);
            }
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE supervision_letters SET superseded_at = $1 WHERE plan_id = $2 AND superseded_at IS NULL")
            .bind(&now)
            .bind(plan_id)
            .execute(tx.conn())
            .await?;
        let id: i64 = sqlx::query("INSERT INTO supervision_letters (plan_id, revision, body, sha256, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id")
            .bind(plan_id)
            .bind(revision)
            .bind(body)
            .bind(&sha)
            .bind(&now)
            .fetch_one(tx.conn())
            .await?
            .get(0);
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "supervision.letter",
                object_type: "plan",
                object_id: plan_id.to_string(),
                summary: serde_json::json!({ "letter_id": id, "sha256": sha, "revision": revision }),
            },
        )
        .await?;
        tx.commit().await?;
        self.current_letter(plan_id)
            .await?
            .ok_or(StoreError::NotFound)
    }

    pub async fn signatures(&self, letter_id: i64) -> Result<Vec<Signature>> {
        let rows = sqlx::query("SELECT party, signer_id, signer_name, signed_at, doc_sha256, algorithm, key_id, signature FROM letter_signatures WHERE letter_id = $1 ORDER BY id")
            .bind(letter_id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Signature {
                party: r.get(0),
                signer_id: r.get(1),
                signer_name: r.get(2),
                signed_at: r.get(3),
                doc_sha256: r.get(4),
                algorithm: r.get(5),
                key_id: r.get(6),
                signature: r.get(7),
            })
            .collect())
    }

    /// Parties that signed the current letter of a plan.
    pub async fn signed_parties(&self, plan_id: i64) -> Result<Vec<Party>> {
        let Some(l) = self.current_letter(plan_id).await? else {
            return Ok(vec![]);
        };
        Ok(self
            .signatures(l.id)
            .await?
            .iter()
            .filter_map(|s| Party::parse(&s.party))
            .collect())
    }

    /// Sign the letter as `party`: a signature over the letter's SHA-256, bound to the signer
    /// and the time, by the platform key. One signature per party.
    pub async fn sign_letter(
        &self,
        actor: &Actor,
        letter: &Letter,
        party: Party,
        signer_name: &str,
    ) -> Result<Signature> {
        let signer = self.letter_signer()?;
        let at = now_text();
        let uid = actor
            .user_id
            .ok_or(StoreError::Invalid("签字须由登录账号执行".into()))?;
        let msg = domain::plan::signature_message(&letter.sha256, party, &uid.to_string(), &at);
        let sig = signer.sign(msg.as_bytes());
        let mut tx = self.db.write().await?;
        // The letter must still be current.
        let current: i64 = sqlx::query(
            "SELECT COUNT(*) FROM supervision_letters WHERE id = $1 AND superseded_at IS NULL",
        )
        .bind(letter.id)
        .fetch_one(tx.conn())
        .await?
        .get(0);
        if current == 0 {
            return Err(StoreError::Conflict);
        }
        sqlx::query("INSERT INTO letter_signatures (letter_id, plan_id, party, signer_id, signer_name, signed_at, doc_sha256, algorithm, key_id, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
            .bind(letter.id)
            .bind(letter.plan_id)
            .bind(party.as_str())
            .bind(uid)
            .bind(signer_name)
            .bind(&at)
            .bind(&letter.sha256)
            .bind(signer.algorithm())
            .bind(signer.key_id())
            .bind(&sig)
            .execute(tx.conn())
            .await
            .map_err(|e| StoreError::unique(e, &format!("{}已签字", party.label())))?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "supervision.sign",
                object_type: "plan",
                object_id: letter.plan_id.to_string(),
                summary: serde_json::json!({ "party": party.as_str(), "letter_id": letter.id, "sha256": letter.sha256, "signature": sig }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(Signature {
            party: party.as_str().into(),
            signer_id: uid,
            signer_name: signer_name.into(),
            signed_at: at,
            doc_sha256: letter.sha256.clone(),
            algorithm: signer.algorithm().into(),
            key_id: signer.key_id().into(),
            signature: sig,
        })
    }

    /// Verify every stored signature of a letter against its text and the configured key of its
    /// key id (current or retired: keys rotate). A key id not configured does not verify.
    pub async fn verify_letter(&self, letter: &Letter) -> Result<bool> {
        let body_ok = domain::plan::sha256_hex(letter.body.as_bytes()) == letter.sha256;
        let mut ok = body_ok;
        for s in self.signatures(letter.id).await? {
            let Some(p) = Party::parse(&s.party) else {
                return Ok(false);
            };
            let msg = domain::plan::signature_message(
                &s.doc_sha256,
                p,
                &s.signer_id.to_string(),
                &s.signed_at,
            );
            let verified = self
                .keys
                .letter_verifier(&s.key_id)
                .is_some_and(|k| k.verify(msg.as_bytes(), &s.signature));
            ok &= s.doc_sha256 == letter.sha256 && verified;
        }
        Ok(ok)
    }

    pub async fn file_report(
        &self,
        actor: &Actor,
        plan: &crate::Plan,
        side: Party,
        body: &str,
        attachment: Option<&UploadedFile>,
    ) -> Result<()> {
        let uid = actor.user_id.ok_or(StoreError::NotFound)?;
        let doc = match attachment {
            Some(f) => Some(
                self.add_document(
                    actor,
                    crate::NewDocument {
                        owner_type: "supervision_report".into(),
                        owner_id: plan.id,
                        institution_id: Some(plan.institution_id),
                        district_code: Some(plan.district_code.clone()),
                        kind: "supervision_report".into(),
                        filename: f.name.clone(),
                        retention_until: None,
                    },
                    &f.bytes,
                )
                .await?,
            ),
            None => None,
        };
        let mut tx = self.db.write().await?;
        sqlx::query("INSERT INTO supervision_reports (plan_id, supervisor_id, side, body, attachment_name, attachment_type, attachment_sha256, document_id, filed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
            .bind(plan.id)
            .bind(uid)
            .bind(side.as_str())
            .bind(body)
            .bind(doc.as_ref().map(|d| d.filename.clone()).unwrap_or_default())
            .bind(doc.as_ref().map(|d| d.content_type.clone()).unwrap_or_default())
            .bind(doc.as_ref().map(|d| d.sha256.clone()).unwrap_or_default())
            .bind(doc.as_ref().map(|d| d.id))
            .bind(now_text())
            .execute(tx.conn())
            .await
            .map_err(|e| StoreError::unique(e, "您已提交过本次评价的督导报告"))?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "supervision.report",
                object_type: "plan",
                object_id: plan.id.to_string(),
                summary: serde_json::json!({ "side": side.as_str(), "document_id": doc.as_ref().map(|d| d.id) }),
            },
        )
        .await?;
        tx.commit().await
    }

    pub async fn reports(&self, plan_id: i64) -> Result<Vec<Report>> {
        let rows = sqlx::query("SELECT r.id, u.display_name, r.side, r.body, r.attachment_name, r.attachment_sha256, r.document_id, r.filed_at FROM supervision_reports r JOIN users u ON u.id = r.supervisor_id WHERE r.plan_id = $1 ORDER BY r.id")
            .bind(plan_id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| Report {
                id: r.get(0),
                supervisor_name: r.get(1),
                side: r.get(2),
                body: r.get(3),
                attachment_name: r.get(4),
                attachment_sha256: r.get(5),
                document_id: r.get(6),
                filed_at: r.get(7),
            })
            .collect())
    }

    /// Supervisors of the platform: city pool (no district) or a district's pool.
    pub async fn supervisor_pool(&self, district: Option<&str>) -> Result<Vec<crate::Account>> {
        let mut w = Where::new();
        w.raw("role = 'supervisor' AND active = 1");
        match district {
            Some(d) => {
                let p = w.arg(Arg::Text(d.to_string()));
                w.raw(format!("district_code = {p}"));
            }
            None => w.raw("district_code IS NULL"),
        }
        let rows = w
            .page(
                &self.db,
                &format!("SELECT {} FROM users", crate::accounts::ACCOUNT_COLUMNS),
                "username",
                PageRequest::new(Some(1), Some(200)),
            )
            .await?;
        rows.iter().map(crate::accounts::account_from_row).collect()
    }
}
