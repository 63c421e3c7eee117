//! Candidates (考生) of a plan and their results: import, photos, scores (成绩), publicity
//! (公示) and submission (上报).

use domain::Scope;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::audit::{append, Actor, NewEvent};
use crate::plans::UploadedFile;
use crate::sql::{Params, Where};
use crate::{now_text, Page, PageRequest, Result, Store, StoreError, WriteTx};

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

    /// Of `hashes` (one import chunk), those already in the plan, and (hash, level) of those
    /// holding a valid certificate of the plan's occupation: one query each, whatever the size
    /// of the plan or of the register.
    pub async fn known_hashes(
        &self,
        plan: &crate::Plan,
        hashes: &[String],
    ) -> Result<(
        std::collections::HashSet<String>,
        std::collections::HashSet<(String, i64)>,
    )> {
        let mut in_plan = std::collections::HashSet::new();
        let mut certified = std::collections::HashSet::new();
        // Within PostgreSQL's and SQLite's parameter limits.
        for part in hashes.chunks(2_000) {
            let mut p = Params::new(self.db.backend);
            let mut sql = String::from("SELECT id_hash FROM candidates WHERE plan_id = ");
            p.push(&mut sql);
            sql.push_str(" AND id_hash IN (");
            p.list(&mut sql, part.len());
            sql.push(')');
            let mut q = sqlx::query(&sql).bind(plan.id);
            for h in part {
                q = q.bind(h.as_str());
            }
            in_plan.extend(q.fetch_all(&self.db.pool).await?.iter().map(|r| r.get(0)));

            let mut p = Params::new(self.db.backend);
            let mut sql =
                String::from("SELECT id_hash, level FROM certificates WHERE occupation_code = ");
            p.push(&mut sql);
            sql.push_str(" AND state = 'valid' AND id_hash IN (");
            p.list(&mut sql, part.len());
            sql.push(')');
            let mut q = sqlx::query(&sql).bind(plan.occupation_code.as_str());
            for h in part {
                q = q.bind(h.as_str());
            }
            certified.extend(
                q.fetch_all(&self.db.pool)
                    .await?
                    .iter()
                    .map(|r| (r.get::<String, _>(0), r.get::<i64, _>(1))),
            );
        }
        Ok((in_plan, certified))
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
        let hashes = list
            .iter()
            .map(|c| self.id_hash(&c.id_number))
            .collect::<Result<Vec<_>>>()?;
        let mut import = self.begin_candidate_import(plan).await?;
        import.insert(list, &hashes, flags).await?;
        import.commit(actor, source, done).await
    }

    /// Start inserting candidates into a plan chunk by chunk (imports of up to 200,000 rows
    /// that are read as they go): one write transaction, so nothing is visible before
    /// [`CandidateImport::commit`] and dropping the import rolls everything back.
    pub async fn begin_candidate_import(&self, plan: &crate::Plan) -> Result<CandidateImport> {
        Ok(CandidateImport {
            tx: self.db.write().await?,
            plan_id: plan.id,
            institution_id: plan.institution_id,
            district_code: plan.district_code.clone(),
            now: now_text(),
            count: 0,
            flagged: 0,
        })
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
}

/// Candidates being inserted into a plan in one transaction (see
/// [`Store::begin_candidate_import`]).
pub struct CandidateImport {
    tx: WriteTx,
    plan_id: i64,
    institution_id: i64,
    district_code: String,
    now: String,
    count: usize,
    flagged: usize,
}

impl CandidateImport {
    /// Insert validated candidates: `hashes[i]` is the ID hash ([`Store::id_hash`]) and
    /// `flags[i]` the duplicate flag (empty: none) of `list[i]`. A candidate already in the
    /// plan fails the whole import.
    pub async fn insert(
        &mut self,
        list: &[NewCandidate],
        hashes: &[String],
        flags: &[String],
    ) -> Result<()> {
        const COLUMNS: usize = 16;
        // Multi-row INSERTs: fewer round trips, one prepared statement per size.
        let chunk_rows: usize = 500;
        for (ci, chunk) in list.chunks(chunk_rows).enumerate() {
            let mut sql = String::from("INSERT INTO candidates (plan_id, institution_id, district_code, name, id_type, id_number, id_hash, id_masked, gender, education, source, phone, level, dup_flag, created_at, updated_at) VALUES ");
            let mut p = Params::new(self.tx.backend);
            for i in 0..chunk.len() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                p.list(&mut sql, COLUMNS);
                sql.push(')');
            }
            let mut q = sqlx::query(&sql);
            for (i, c) in chunk.iter().enumerate() {
                let at = ci * chunk_rows + i;
                let flag = flags.get(at).map(String::as_str).unwrap_or_default();
                let hash = hashes.get(at).ok_or_else(|| {
                    StoreError::Other("candidate import: an ID hash per candidate".into())
                })?;
                self.flagged += usize::from(!flag.is_empty());
                q = q
                    .bind(self.plan_id)
                    .bind(self.institution_id)
                    .bind(self.district_code.as_str())
                    .bind(c.name.as_str())
                    .bind(c.id_type.as_str())
                    .bind(c.id_number.as_str())
                    .bind(hash.as_str())
                    .bind(c.id_masked.as_str())
                    .bind(c.gender.as_str())
                    .bind(c.education.as_str())
                    .bind(c.source.as_str())
                    .bind(c.phone.as_str())
                    .bind(c.level)
                    .bind(flag)
                    .bind(self.now.as_str())
                    .bind(self.now.as_str());
            }
            q.execute(self.tx.conn())
                .await
                .map_err(|e| StoreError::unique(e, "同一考生在本计划中重复报名（证件号码重复）"))?;
        }
        self.count += list.len();
        Ok(())
    }

    /// Candidates inserted so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Commit: one audit event for the whole import and, for a background job, its end
    /// (succeeded, `done`) in the same transaction. Returns the number of candidates.
    pub async fn commit(
        mut self,
        actor: &Actor,
        source: &str,
        done: Option<&crate::JobDone>,
    ) -> Result<usize> {
        append(
            &mut self.tx,
            actor,
            NewEvent {
                action: "candidate.add",
                object_type: "plan",
                object_id: self.plan_id.to_string(),
                summary: serde_json::json!({ "count": self.count, "source": source, "flagged": self.flagged }),
            },
        )
        .await?;
        if let Some(d) = done {
            crate::jobs::finish_job_in(&mut self.tx, d.job_id, true, &d.message, Some(&d.result))
                .await?;
        }
        self.tx.commit().await?;
        Ok(self.count)
    }
}
