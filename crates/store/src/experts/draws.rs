//! 专家抽取：承诺、抽取、回避、意见与独立核验所需的记录。

use domain::draw::{DrawStatus, MemberStatus};

use super::*;

/// A draw attempt as stored.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawRow {
    pub id: i64,
    pub application_id: i64,
    pub attempt: i64,
    pub commitment: String,
    /// Revealed once the draw is made; empty before.
    pub secret: String,
    pub status: DrawStatus,
    pub size: i64,
    pub pool: Vec<i64>,
    pub pool_hash: String,
    pub exclusions: Vec<Exclusion>,
    pub seed: String,
    pub selected: Vec<i64>,
    pub declined: Vec<i64>,
    pub reason: String,
    pub committed_at: String,
    pub drawn_by: Option<String>,
    pub drawn_at: Option<String>,
}

impl DrawRow {
    pub fn record(&self) -> DrawRecord {
        DrawRecord {
            application_id: self.application_id,
            attempt: self.attempt,
            commitment: self.commitment.clone(),
            secret: self.secret.clone(),
            pool: self.pool.clone(),
            pool_hash: self.pool_hash.clone(),
            seed: self.seed.clone(),
            size: self.size as usize,
            selected: self.selected.clone(),
            declined: self.declined.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DrawMember {
    pub expert_id: i64,
    pub name: String,
    pub employer: String,
    pub user_id: Option<i64>,
    pub position: i64,
    pub status: MemberStatus,
    pub decline_reason: Option<String>,
    pub conclusion: Option<String>,
    pub opinion: Option<String>,
    pub opinion_at: Option<String>,
}

pub(super) const DRAW_COLUMNS: &str = "id, application_id, attempt, commitment, secret, status, size, pool, pool_hash, exclusions, seed, selected, declined, reason, committed_at, drawn_by, drawn_at";

pub(super) fn ids(s: &str) -> Vec<i64> {
    serde_json::from_str(s).unwrap_or_default()
}

pub(super) fn draw_from_row(r: &AnyRow) -> Result<DrawRow> {
    let status: DrawStatus = crate::sql::code(r, 5)?;
    let secret: String = r.get(4);
    Ok(DrawRow {
        id: r.get(0),
        application_id: r.get(1),
        attempt: r.get(2),
        commitment: r.get(3),
        // The secret stays hidden until the draw is made.
        secret: if status == DrawStatus::Committed {
            String::new()
        } else {
            secret
        },
        status,
        size: r.get(6),
        pool: ids(&r.get::<String, _>(7)),
        pool_hash: r.get(8),
        exclusions: serde_json::from_str(&r.get::<String, _>(9)).unwrap_or_default(),
        seed: r.get(10),
        selected: ids(&r.get::<String, _>(11)),
        declined: ids(&r.get::<String, _>(12)),
        reason: r.get(13),
        committed_at: r.get(14),
        drawn_by: r.get(15),
        drawn_at: r.get(16),
    })
}

/// Write the commitment for the next attempt of `application_id` (inside the caller's tx).
pub(crate) async fn commit_next(
    tx: &mut WriteTx,
    actor: &Actor,
    application_id: i64,
) -> Result<()> {
    let pending: i64 = sqlx::query(
        "SELECT COUNT(*) FROM expert_draws WHERE application_id = $1 AND status = 'committed'",
    )
    .bind(application_id)
    .fetch_one(tx.conn())
    .await?
    .get(0);
    if pending > 0 {
        return Ok(());
    }
    let next: i64 = sqlx::query(
        "SELECT COALESCE(MAX(attempt), 0) + 1 FROM expert_draws WHERE application_id = $1",
    )
    .bind(application_id)
    .fetch_one(tx.conn())
    .await?
    .get(0);
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let c = draw::commitment(&secret);
    sqlx::query("INSERT INTO expert_draws (application_id, attempt, commitment, secret, status, committed_at) VALUES ($1, $2, $3, $4, 'committed', $5)")
        .bind(application_id)
        .bind(next)
        .bind(&c)
        .bind(&secret)
        .bind(now_text())
        .execute(tx.conn())
        .await?;
    append(
        tx,
        actor,
        NewEvent {
            action: "expert_draw.commit",
            object_type: "filing_application",
            object_id: application_id.to_string(),
            summary: serde_json::json!({ "attempt": next, "commitment": c }),
        },
    )
    .await?;
    Ok(())
}

impl Store {
    pub async fn draws(&self, application_id: i64) -> Result<Vec<DrawRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {DRAW_COLUMNS} FROM expert_draws WHERE application_id = $1 ORDER BY attempt"
        ))
        .bind(application_id)
        .fetch_all(&self.db.pool)
        .await?;
        Ok(rows.iter().map(draw_from_row).collect::<Result<Vec<_>>>()?)
    }

    pub async fn draw_by_id(&self, id: i64) -> Result<DrawRow> {
        sqlx::query(&format!(
            "SELECT {DRAW_COLUMNS} FROM expert_draws WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(&self.db.pool)
        .await?
        .map(|r| draw_from_row(&r))
        .transpose()?
        .ok_or(StoreError::NotFound)
    }

    pub async fn draw_members(&self, draw_id: i64) -> Result<Vec<DrawMember>> {
        let rows = sqlx::query("SELECT dm.expert_id, e.name, e.employer, e.user_id, dm.position, dm.status, dm.decline_reason, dm.conclusion, dm.opinion, dm.opinion_at FROM draw_members dm JOIN experts e ON e.id = dm.expert_id WHERE dm.draw_id = $1 ORDER BY dm.position")
            .bind(draw_id)
            .fetch_all(&self.db.pool)
            .await?;
        Ok(rows
            .iter()
            .map(|r| -> Result<DrawMember> {
                Ok(DrawMember {
                    expert_id: r.get(0),
                    name: r.get(1),
                    employer: r.get(2),
                    user_id: r.get(3),
                    position: r.get(4),
                    status: crate::sql::code(r, 5)?,
                    decline_reason: r.get(6),
                    conclusion: r.get(7),
                    opinion: r.get(8),
                    opinion_at: r.get(9),
                })
            })
            .collect::<Result<Vec<_>>>()?)
    }

    /// The current (drawn, not superseded) draw of an application.
    pub async fn current_draw(&self, application_id: i64) -> Result<Option<DrawRow>> {
        Ok(self
            .draws(application_id)
            .await?
            .into_iter()
            .rev()
            .find(|d| d.status == DrawStatus::Drawn))
    }

    /// Make the draw for the committed attempt: record pool, exclusions, seed and result, move
    /// the application (version-checked), publish the next attempt's commitment. One transaction.
    #[allow(clippy::too_many_arguments)]
    pub async fn make_draw(
        &self,
        actor: &Actor,
        app: &FilingApp,
        expected_version: i64,
        outcome: &Outcome,
        pool: &[i64],
        exclusions: &[Exclusion],
        size: usize,
        reason: &str,
    ) -> Result<DrawRow> {
        if app.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        crate::filing::advance_state(&mut tx, app.id, expected_version, outcome.to.as_str(), &now)
            .await?;
        let committed = sqlx::query("SELECT id, attempt, secret FROM expert_draws WHERE application_id = $1 AND status = 'committed' ORDER BY attempt DESC LIMIT 1")
            .bind(app.id)
            .fetch_optional(tx.conn())
            .await?;
        let (draw_id, attempt, secret): (i64, i64, String) = match committed {
            Some(r) => (r.get(0), r.get(1), r.get(2)),
            None => return Err(StoreError::Invalid("尚未生成本次抽取的承诺值".into())),
        };
        let rec = draw::make(app.id, attempt, &secret, pool, size);
        sqlx::query("UPDATE expert_draws SET status = 'superseded' WHERE application_id = $1 AND status = 'drawn'")
            .bind(app.id)
            .execute(tx.conn())
            .await?;
        sqlx::query("UPDATE expert_draws SET status = 'drawn', size = $1, pool = $2, pool_hash = $3, exclusions = $4, seed = $5, selected = $6, reason = $7, drawn_by = $8, drawn_at = $9 WHERE id = $10")
            .bind(size as i64)
            .bind(serde_json::to_string(&rec.pool).unwrap_or_default())
            .bind(&rec.pool_hash)
            .bind(serde_json::to_string(exclusions).unwrap_or_default())
            .bind(&rec.seed)
            .bind(serde_json::to_string(&rec.selected).unwrap_or_default())
            .bind(reason)
            .bind(&actor.username)
            .bind(&now)
            .bind(draw_id)
            .execute(tx.conn())
            .await?;
        for (i, e) in rec.selected.iter().enumerate() {
            sqlx::query("INSERT INTO draw_members (draw_id, application_id, expert_id, position, status) VALUES ($1, $2, $3, $4, 'selected')")
                .bind(draw_id)
                .bind(app.id)
                .bind(*e)
                .bind(i as i64 + 1)
                .execute(tx.conn())
                .await?;
        }
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "expert_draw.draw",
                object_type: "expert_draw",
                object_id: draw_id.to_string(),
                summary: serde_json::json!({ "application_id": app.id, "attempt": attempt, "commitment": rec.commitment, "secret": rec.secret, "pool": rec.pool, "pool_hash": rec.pool_hash, "exclusions": exclusions, "seed": rec.seed, "selected": rec.selected, "reason": reason }),
            },
        )
        .await?;
        let text = if attempt > 1 {
            format!(
                "第{attempt}次抽取（重新抽取理由：{reason}），抽中专家编号 {:?}",
                rec.selected
            )
        } else {
            format!("第{attempt}次抽取，抽中专家编号 {:?}", rec.selected)
        };
        event(
            &mut tx,
            actor,
            app.id,
            &outcome.action,
            app.state.as_str(),
            outcome.to.as_str(),
            &text,
            &[],
        )
        .await?;
        commit_next(&mut tx, actor, app.id).await?;
        tx.commit().await?;
        self.draw_by_id(draw_id).await
    }

    /// A drawn expert declines: replaced by the next of the draw order; both recorded.
    pub async fn decline_expert(
        &self,
        actor: &Actor,
        app: &FilingApp,
        expert_id: i64,
        reason: &str,
    ) -> Result<Option<i64>> {
        let d = self
            .current_draw(app.id)
            .await?
            .ok_or(StoreError::Invalid("本申请尚未抽取专家".into()))?;
        let members = self.draw_members(d.id).await?;
        if !members
            .iter()
            .any(|m| m.expert_id == expert_id && m.status != MemberStatus::Declined)
        {
            return Err(StoreError::Invalid(
                "该专家不在本次抽取结果中或已谢绝".into(),
            ));
        }
        let mut rec = d.record();
        let repl = draw::replacement(&rec);
        rec.declined.push(expert_id);
        if let Some(r) = repl {
            rec.selected.push(r);
        }
        let mut tx = self.db.write().await?;
        sqlx::query("UPDATE draw_members SET status = 'declined', decline_reason = $1 WHERE draw_id = $2 AND expert_id = $3")
            .bind(reason)
            .bind(d.id)
            .bind(expert_id)
            .execute(tx.conn())
            .await?;
        if let Some(r) = repl {
            sqlx::query("INSERT INTO draw_members (draw_id, application_id, expert_id, position, status) VALUES ($1, $2, $3, $4, 'replacement')")
                .bind(d.id)
                .bind(app.id)
                .bind(r)
                .bind(rec.selected.len() as i64)
                .execute(tx.conn())
                .await?;
        }
        sqlx::query("UPDATE expert_draws SET selected = $1, declined = $2 WHERE id = $3")
            .bind(serde_json::to_string(&rec.selected).unwrap_or_default())
            .bind(serde_json::to_string(&rec.declined).unwrap_or_default())
            .bind(d.id)
            .execute(tx.conn())
            .await?;
        append(
            &mut tx,
            actor,
            NewEvent {
                action: "expert_draw.decline",
                object_type: "expert_draw",
                object_id: d.id.to_string(),
                summary: serde_json::json!({ "declined": expert_id, "reason": reason, "replacement": repl }),
            },
        )
        .await?;
        let text = match repl {
            Some(r) => format!("专家{expert_id}谢绝（{reason}），按抽取顺序由专家{r}递补"),
            None => format!("专家{expert_id}谢绝（{reason}），候选池已无可递补专家"),
        };
        event(
            &mut tx,
            actor,
            app.id,
            "expert_draw.decline",
            app.state.as_str(),
            app.state.as_str(),
            &text,
            &[],
        )
        .await?;
        tx.commit().await?;
        Ok(repl)
    }

    /// An expert records (or, until the 初评结果意见 is written, changes) its review opinion for an
    /// application it was drawn for. Each record bumps the application's version, so that the
    /// organiser's next action, taken on what it saw before, is refused as stale (409).
    pub async fn record_opinion(
        &self,
        actor: &Actor,
        app: &FilingApp,
        user_id: i64,
        conclusion: &str,
        opinion: &str,
    ) -> Result<()> {
        let d = self
            .current_draw(app.id)
            .await?
            .ok_or(StoreError::NotFound)?;
        let now = now_text();
        let mut tx = self.db.write().await?;
        let before = sqlx::query("SELECT dm.conclusion, dm.opinion FROM draw_members dm JOIN experts e ON e.id = dm.expert_id WHERE dm.draw_id = $1 AND dm.status <> 'declined' AND e.user_id = $2")
            .bind(d.id)
            .bind(user_id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?;
        let (old_c, old_o): (Option<String>, Option<String>) = (before.get(0), before.get(1));
        if old_c.as_deref() == Some(conclusion) && old_o.as_deref() == Some(opinion) {
            return Ok(());
        }
        // Final once the 初评结果意见 is written: the state guard makes this race-free.
        let n = sqlx::query("UPDATE filing_applications SET version = version + 1, updated_at = $1 WHERE id = $2 AND state IN ('experts_drawn', 'onsite_reviewed')")
            .bind(&now)
            .bind(app.id)
            .execute(tx.conn())
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Invalid(
                "初评结果意见已出具，专家意见已定稿，不能再修改".into(),
            ));
        }
        sqlx::query("UPDATE draw_members SET conclusion = $1, opinion = $2, opinion_at = $3 WHERE draw_id = $4 AND status <> 'declined' AND expert_id IN (SELECT id FROM experts WHERE user_id = $5)")
            .bind(conclusion)
            .bind(opinion)
            .bind(&now)
            .bind(d.id)
            .bind(user_id)
            .execute(tx.conn())
            .await?;
        let (action, text) = match old_c {
            Some(c) => (
                "expert.opinion_change",
                format!(
                    "修改评审意见：原（{c}）{}；现（{conclusion}）{opinion}",
                    old_o.unwrap_or_default()
                ),
            ),
            None => (
                "expert.opinion",
                format!("现场评审意见（{conclusion}）：{opinion}"),
            ),
        };
        event(
            &mut tx,
            actor,
            app.id,
            action,
            app.state.as_str(),
            app.state.as_str(),
            &text,
            &[],
        )
        .await?;
        tx.commit().await
    }

    /// The conclusions of the current panel (members not declined, opinions recorded).
    pub async fn panel_conclusions(&self, application_id: i64) -> Result<Vec<String>> {
        let Some(d) = self.current_draw(application_id).await? else {
            return Ok(vec![]);
        };
        Ok(self
            .draw_members(d.id)
            .await?
            .into_iter()
            .filter(|m| m.status != MemberStatus::Declined)
            .filter_map(|m| m.conclusion)
            .collect())
    }

    /// Every member of the current draw (not declined) has recorded an opinion.
    pub async fn opinions_complete(&self, application_id: i64) -> Result<bool> {
        let Some(d) = self.current_draw(application_id).await? else {
            return Ok(false);
        };
        let m = self.draw_members(d.id).await?;
        let active: Vec<_> = m
            .iter()
            .filter(|m| m.status != MemberStatus::Declined)
            .collect();
        Ok(!active.is_empty() && active.iter().all(|m| m.opinion.is_some()))
    }

    /// Applications an expert (by user id) was drawn for, for the scope check of its pages.
    pub async fn expert_for_user(&self, user_id: i64) -> Result<Option<i64>> {
        Ok(sqlx::query("SELECT id FROM experts WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.get(0)))
    }

    /// Scope-checked read of a draw: visible when its application is visible.
    pub async fn draw_in_scope(&self, scope: &Scope, id: i64) -> Result<DrawRow> {
        let d = self.draw_by_id(id).await?;
        self.filing(scope, d.application_id).await?;
        Ok(d)
    }
}
