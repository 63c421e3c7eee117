//! Supervision (督导: assignments, relations, the tripartite letter and its signatures, reports),
//! candidates (考生) and results (成绩, 公示, 上报) of a plan.

use domain::plan::Party;
use domain::signature::Signer;
use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
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

/// A validated candidate, ready to store.
#[derive(Debug, Clone)]
pub struct NewCandidate {
    pub name: String,
    pub id_type: String,
    pub id_number: String,
    pub id_masked: String,
    pub gender: String,
    pub education: String,
    pub source: String,
    pub phone: String,
    pub level: i64,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Candidate {
    pub id: i64,
    pub plan_id: i64,
    pub name: String,
    pub id_type: String,
    /// Masked: the full number only through [`Store::candidate_id_number`] (audited).
    pub id_masked: String,
    pub gender: String,
    pub education: String,
    pub source: String,
    pub phone: String,
    pub level: i64,
    pub dup_flag: String,
    pub theory_score: Option<i64>,
    pub skill_score: Option<i64>,
    pub review_score: Option<i64>,
    pub passed: Option<bool>,
    pub version: i64,
    /// The photo document (download at /documents/{id}, audited as personal data).
    pub photo_document_id: Option<i64>,
}

const CAND_COLUMNS: &str = "c.id, c.plan_id, c.name, c.id_type, c.id_masked, c.gender, c.education, c.source, c.phone, c.level, c.dup_flag, c.theory_score, c.skill_score, c.review_score, c.passed, c.version, c.photo_document_id";

fn cand_row(r: &AnyRow) -> Result<Candidate> {
    Ok(Candidate {
        id: r.get(0),
        plan_id: r.get(1),
        name: r.get(2),
        id_type: r.get(3),
        id_masked: r.get(4),
        gender: r.get(5),
        education: r.get(6),
        source: r.get(7),
        phone: r.get(8),
        level: r.get(9),
        dup_flag: r.get(10),
        theory_score: r.get(11),
        skill_score: r.get(12),
        review_score: r.get(13),
        passed: r.get::<Option<i64>, _>(14).map(|v| v != 0),
        version: r.get(15),
        photo_document_id: r.get(16),
    })
}

/// Scores of one candidate, decided by the domain.
#[derive(Debug, Clone)]
pub struct ScoreUpdate {
    pub candidate_id: i64,
    pub theory: Option<i64>,
    pub skill: Option<i64>,
    pub review: Option<i64>,
    pub passed: bool,
}

/// A row of the public results list: masked.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PublicResult {
    pub name_masked: String,
    pub id_masked: String,
    pub level: i64,
    pub theory_score: Option<i64>,
    pub skill_score: Option<i64>,
    pub review_score: Option<i64>,
    pub passed: bool,
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

    // -- candidates ------------------------------------------------------------------------------

    /// ID hashes already in a plan (duplicate check before insert).
    pub async fn plan_candidate_hashes(
        &self,
        plan_id: i64,
    ) -> Result<std::collections::HashSet<String>> {
        Ok(
            sqlx::query("SELECT id_hash FROM candidates WHERE plan_id = $1")
                .bind(plan_id)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect(),
        )
    }

    /// ID hashes already certified for an occupation code and level (一人多证 check).
    pub async fn certified_hashes(
        &self,
        occupation_code: &str,
        levels: &[i64],
    ) -> Result<std::collections::HashSet<(String, i64)>> {
        let rows = sqlx::query("SELECT id_hash, level FROM certificates WHERE occupation_code = $1 AND state = 'valid'")
            .bind(occupation_code)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1)))
            .filter(|(_, l)| levels.contains(l))
            .collect())
    }

    /// Insert candidates into a plan: all or nothing, in one transaction, one audit event.
    /// `flags[i]` is the duplicate flag of `list[i]` (empty: none). A candidate already in the
    /// plan makes the whole insert fail with its row number.
    pub async fn add_candidates(
        &self,
        actor: &Actor,
        plan: &crate::Plan,
        list: &[NewCandidate],
        flags: &[String],
        source: &str,
    ) -> Result<usize> {
        self.add_candidates_for_job(actor, plan, list, flags, source, None)
            .await
    }

    /// [`Store::add_candidates`] run by a background job, which ends (succeeded, `done`) in the
    /// same transaction.
    pub async fn add_candidates_for_job(
        &self,
        actor: &Actor,
        plan: &crate::Plan,
        list: &[NewCandidate],
        flags: &[String],
        source: &str,
        done: Option<&crate::JobDone>,
    ) -> Result<usize> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        // Multi-row INSERTs: fewer round trips. SQLite resolves `$n` names per statement, so its
        // statements stay small (100k candidates, release: 23.6 s with 500-row statements, 5.5 s with 50).
        let chunk_rows: usize = match tx.backend {
            crate::Backend::Sqlite => 50,
            crate::Backend::Postgres => 500,
        };
        for (ci, chunk) in list.chunks(chunk_rows).enumerate() {
            let mut sql = String::from("INSERT INTO candidates (plan_id, institution_id, district_code, name, id_type, id_number, id_hash, id_masked, gender, education, source, phone, level, dup_flag, created_at, updated_at) VALUES ");
            let mut n = 0;
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for j in 0..16 {
                    if j > 0 {
                        sql.push_str(", ");
                    }
                    n += 1;
                    sql.push_str(&format!("${n}"));
                }
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for (i, c) in chunk.iter().enumerate() {
                let flag = flags.get(ci * chunk_rows + i).cloned().unwrap_or_default();
                q = q
                    .bind(plan.id)
                    .bind(plan.institution_id)
                    .bind(plan.district_code.clone())
                    .bind(c.name.clone())
                    .bind(c.id_type.clone())
                    .bind(c.id_number.clone())
                    .bind(self.id_hash(&c.id_number)?)
                    .bind(c.id_masked.clone())
                    .bind(c.gender.clone())
                    .bind(c.education.clone())
                    .bind(c.source.clone())
                    .bind(c.phone.clone())
                    .bind(c.level)
                    .bind(flag)
                    .bind(now.clone())
                    .bind(now.clone());
            }
            q.execute(tx.conn())
                .await
                .map_err(|e| StoreError::unique(e, "同一考生在本计划中重复报名（证件号码重复）"))?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "candidate.add",
                object_type: "plan",
                object_id: plan.id.to_string(),
                summary: serde_json::json!({ "count": list.len(), "source": source, "flagged": flags.iter().filter(|f| !f.is_empty()).count() }),
            },
        )
        .await?;
        if let Some(d) = done {
            crate::jobs::finish_job_in(&mut tx, d.job_id, true, &d.message, Some(&d.result))
                .await?;
        }
        tx.commit().await?;
        Ok(list.len())
    }

    pub async fn list_candidates(
        &self,
        plan_id: i64,
        q: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<Candidate>> {
        let mut w = Where::new();
        w.eq_int("c.plan_id", plan_id);
        w.search(&["c.name", "c.id_masked", "c.phone"], q);
        w.fetch_page(
            &self.db,
            CAND_COLUMNS,
            "candidates c",
            "c.id",
            page,
            cand_row,
        )
        .await
    }

    /// All candidates of a plan (for scoring and publicity); masked.
    pub async fn all_candidates(&self, plan_id: i64) -> Result<Vec<Candidate>> {
        let rows = sqlx::query(&format!(
            "SELECT {CAND_COLUMNS} FROM candidates c WHERE c.plan_id = $1 ORDER BY c.id"
        ))
        .bind(plan_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.iter().map(cand_row).collect::<Result<Vec<_>>>()?)
    }

    /// Candidate id by ID number hash within a plan (score import).
    pub async fn candidate_ids_by_hash(
        &self,
        plan_id: i64,
    ) -> Result<std::collections::HashMap<String, (i64, i64)>> {
        Ok(
            sqlx::query("SELECT id_hash, id, level FROM candidates WHERE plan_id = $1")
                .bind(plan_id)
                .fetch_all(&self.db.pool)
                .await?
                .iter()
                .map(|r| {
                    (
                        r.get::<String, _>(0),
                        (r.get::<i64, _>(1), r.get::<i64, _>(2)),
                    )
                })
                .collect(),
        )
    }

    /// Attach (or replace) a candidate's photo: the document and the link in one transaction.
    /// Only JPEG/PNG are accepted.
    pub async fn set_candidate_photo(
        &self,
        actor: &Actor,
        plan: &crate::Plan,
        candidate_id: i64,
        file: &UploadedFile,
    ) -> Result<i64> {
        let checked = domain::upload::check_upload(&file.name, &file.bytes, 5 * 1024 * 1024)
            .map_err(|e| StoreError::Invalid(e.message))?;
        if !matches!(
            checked.kind,
            domain::upload::FileKind::Jpeg | domain::upload::FileKind::Png
        ) {
            return Err(StoreError::Invalid("考生照片须为 JPG 或 PNG 图片".into()));
        }
        let blob = self.blobs.put(&file.bytes).await?;
        let mut tx = self.db.write().await?;
        let doc = self
            .add_document_in(
                &mut tx,
                actor,
                crate::NewDocument {
                    owner_type: "candidate".into(),
                    owner_id: candidate_id,
                    institution_id: Some(plan.institution_id),
                    district_code: Some(plan.district_code.clone()),
                    kind: "photo".into(),
                    filename: file.name.clone(),
                    retention_until: None,
                },
                &checked,
                &blob,
            )
            .await?;
        let n = sqlx::query("UPDATE candidates SET photo_document_id = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND plan_id = $4")
            .bind(doc)
            .bind(now_text())
            .bind(candidate_id)
            .bind(plan.id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "candidate.photo",
                object_type: "candidate",
                object_id: candidate_id.to_string(),
                summary: serde_json::json!({ "document_id": doc }),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(doc)
    }

    /// The full ID number of a candidate: personal data, so every read is audited.
    pub async fn candidate_id_number(
        &self,
        actor: &Actor,
        scope: &Scope,
        candidate_id: i64,
    ) -> Result<String> {
        let r = sqlx::query("SELECT plan_id, id_number FROM candidates WHERE id = $1")
            .bind(candidate_id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound)?;
        let plan_id: i64 = r.get(0);
        self.plan(scope, plan_id).await?;
        crate::audit::record(
            &self.db,
            actor,
            NewEvent {
                action: "candidate.view_id_number",
                object_type: "candidate",
                object_id: candidate_id.to_string(),
                summary: serde_json::json!({ "plan_id": plan_id }),
            },
        )
        .await?;
        Ok(r.get(1))
    }

    /// Store scores (decided by the domain) for several candidates in one transaction.
    pub async fn save_scores(
        &self,
        actor: &Actor,
        plan_id: i64,
        scores: &[ScoreUpdate],
        source: &str,
    ) -> Result<()> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        for s in scores {
            let n = sqlx::query("UPDATE candidates SET theory_score = $1, skill_score = $2, review_score = $3, passed = $4, scored_at = $5, updated_at = $5, version = version + 1 WHERE id = $6 AND plan_id = $7")
                .bind(s.theory)
                .bind(s.skill)
                .bind(s.review)
                .bind(s.passed as i64)
                .bind(&now)
                .bind(s.candidate_id)
                .bind(plan_id)
                .execute(tx.conn())
                .await?
                .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound);
            }
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "results.scores",
                object_type: "plan",
                object_id: plan_id.to_string(),
                summary: serde_json::json!({ "count": scores.len(), "source": source, "passed": scores.iter().filter(|s| s.passed).count() }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// Results status change: 'publicised' (with dates) or 'submitted' (which closes the plan
    /// on `today`, China time).
    #[allow(clippy::too_many_arguments)]
    pub async fn set_results_status(
        &self,
        actor: &Actor,
        plan_id: i64,
        expected_version: i64,
        from: &str,
        to: &str,
        period: Option<&domain::calendar::PublicityPeriod>,
        today: chrono::NaiveDate,
    ) -> Result<()> {
        let now = now_text();
        let mut tx = self.db.write().await?;
        let published_on = period.map(|p| p.published_on.to_string());
        let from_day = period.map(|p| p.from.to_string());
        let until = period.map(|p| p.until.to_string());
        let basis = period.map_or("official", |p| p.basis.as_str());
        let n = if to == "publicised" {
            sqlx::query("UPDATE plans SET results_status = $1, results_published_on = $2, results_publicity_until = $3, updated_at = $4, status_since = $4, version = version + 1, results_publicity_from = $8, results_publicity_calendar = $9 WHERE id = $5 AND version = $6 AND results_status = $7")
                .bind(to)
                .bind(&published_on)
                .bind(&until)
                .bind(&now)
                .bind(plan_id)
                .bind(expected_version)
                .bind(from)
                .bind(&from_day)
                .bind(basis)
                .execute(tx.conn())
                .await?
        } else {
            // Submitting the results closes the plan (办结): its process material and its
            // candidates' data are kept from this day (二(三)).
            sqlx::query("UPDATE plans SET results_status = $1, results_submitted_at = $2, updated_at = $2, status_since = $2, version = version + 1, closed_at = $2, closed_on = $6 WHERE id = $3 AND version = $4 AND results_status = $5")
                .bind(to)
                .bind(&now)
                .bind(plan_id)
                .bind(expected_version)
                .bind(from)
                .bind(crate::retention::closing_date(Some(today), &now))
                .execute(tx.conn())
                .await?
        }
        .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict);
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: &format!("results.{to}"),
                object_type: "plan",
                object_id: plan_id.to_string(),
                summary: serde_json::json!({ "published_on": published_on, "from": from_day, "until": until, "calendar": period.map(|p| p.basis.as_str()) }),
            },
        )
        .await?;
        tx.commit().await
    }

    /// The public results list of plans whose results are in publicity: masked.
    pub async fn public_results(&self, plan_id: i64) -> Result<Vec<PublicResult>> {
        let rows = sqlx::query("SELECT c.name, c.id_masked, c.level, c.theory_score, c.skill_score, c.review_score, c.passed FROM candidates c JOIN plans p ON p.id = c.plan_id WHERE c.plan_id = $1 AND p.results_status = 'publicised' ORDER BY c.id")
            .bind(plan_id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| PublicResult {
                name_masked: domain::plan::mask_name(&r.get::<String, _>(0)),
                id_masked: r.get(1),
                level: r.get(2),
                theory_score: r.get(3),
                skill_score: r.get(4),
                review_score: r.get(5),
                passed: r.get::<Option<i64>, _>(6).unwrap_or(0) != 0,
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
