//! 一次流转的落库：状态、事件、效果与审计，在一个事务里。

use super::*;

impl Store {
    /// Persist a decided transition: one transaction, optimistic version check, event row, audit.
    pub async fn apply_filing(
        &self,
        actor: &Actor,
        app: &FilingApp,
        expected_version: i64,
        outcome: &Outcome,
        input: &TransitionInput,
    ) -> Result<FilingApp> {
        if app.version != expected_version {
            return Err(StoreError::Conflict);
        }
        let now = now_text();
        let mut tx = self.db.write().await?;
        crate::filing::advance_state(&mut tx, app.id, expected_version, outcome.to.as_str(), &now)
            .await?;
        // The quota is taken at 初审: re-count inside the transaction, serialised per district
        // and occupation (PostgreSQL advisory lock; SQLite writers are serialised already), so two
        // districts officers passing at once cannot both take the last slot.
        if let Some(q) = &input.quota_recheck {
            let today = input
                .today
                .ok_or_else(|| StoreError::Other("quota re-check needs today".into()))?;
            let exceptions =
                usable_exceptions(tx.conn(), app.institution_id, Some(app.id), today).await?;
            for it in &app.items {
                if tx.backend == crate::Backend::Postgres {
                    sqlx::query("SELECT pg_advisory_xact_lock($1)")
                        .bind(quota_lock_key(&app.district_code, it.occupation_id))
                        .execute(tx.conn())
                        .await?;
                }
                if exceptions.iter().any(|x| {
                    x.rule == "max_institutions_per_occupation_per_district"
                        && x.occupations.contains(&it.occupation_id)
                }) {
                    continue;
                }
                let n = quota_count(
                    tx.conn(),
                    &app.district_code,
                    it.occupation_id,
                    app.institution_id,
                    &q.filing_kinds,
                    &q.institution_kinds,
                )
                .await?;
                if n >= q.limit {
                    return Err(StoreError::Invalid(format!(
                        "“{}”：{}（已有{n}家）",
                        it.name, q.message
                    )));
                }
            }
        }
        let set = |sql: &'static str| sql;
        for e in &outcome.effects {
            match e {
                Effect::CenterKey => {
                    sqlx::query(set("UPDATE filing_applications SET center_approved_by = $1, center_approved_at = $2 WHERE id = $3"))
                        .bind(&actor.username).bind(&now).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::DivisionKey => {
                    sqlx::query(set("UPDATE filing_applications SET division_approved_by = $1, division_approved_at = $2 WHERE id = $3"))
                        .bind(&actor.username).bind(&now).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::ClearKeys => {
                    sqlx::query("UPDATE filing_applications SET center_approved_by = NULL, center_approved_at = NULL, division_approved_by = NULL, division_approved_at = NULL WHERE id = $1")
                        .bind(app.id).execute(tx.conn()).await?;
                }
                Effect::Waiver => {
                    sqlx::query("UPDATE filing_applications SET waiver = 1, waiver_by = $1, waiver_reason = $2 WHERE id = $3")
                        .bind(&actor.username).bind(&input.reason).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::StartPublicity { period } => {
                    // A resumed publicity keeps its first day and gets a new end.
                    sqlx::query("UPDATE filing_applications SET publicity_start = COALESCE(publicity_start, $1), publicity_end = $2, publicity_calendar = $3 WHERE id = $4")
                        .bind(period.from.to_string()).bind(period.until.to_string()).bind(period.basis.as_str()).bind(app.id).execute(tx.conn()).await?;
                    append(
                        &mut tx,
                        actor,
                        NewEvent {
                            action: "filing.publicity_period",
                            object_type: "filing_application",
                            object_id: app.id.to_string(),
                            summary: serde_json::json!({
                                "published_on": period.published_on.to_string(),
                                "from": period.from.to_string(),
                                "until": period.until.to_string(),
                                "working_days": period.working_days,
                                "calendar": period.basis.as_str(),
                            }),
                        },
                    )
                    .await?;
                }
                Effect::SaveOpinion => {
                    sqlx::query(
                        "UPDATE filing_applications SET district_opinion = $1 WHERE id = $2",
                    )
                    .bind(&input.reason)
                    .bind(app.id)
                    .execute(tx.conn())
                    .await?;
                }
                Effect::RecordReviewMode(mode) => {
                    sqlx::query("UPDATE filing_applications SET review_mode = $1, review_mode_reason = $2 WHERE id = $3")
                        .bind(mode.as_str()).bind(&input.reason).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::HighLevelReason(r) => {
                    sqlx::query(
                        "UPDATE filing_applications SET high_level_reason = $1 WHERE id = $2",
                    )
                    .bind(r)
                    .bind(app.id)
                    .execute(tx.conn())
                    .await?;
                }
                Effect::PanelConclusion {
                    summary,
                    override_reason,
                } => {
                    sqlx::query("UPDATE filing_applications SET panel_conclusion = $1, panel_override_reason = $2 WHERE id = $3")
                        .bind(summary).bind(override_reason).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::MarkSubmitted => {
                    sqlx::query("UPDATE filing_applications SET submitted_at = COALESCE(submitted_at, $1) WHERE id = $2")
                        .bind(&now).bind(app.id).execute(tx.conn()).await?;
                    sqlx::query("UPDATE institutions SET filing_status = 'filing' WHERE id = $1 AND filing_status = 'unfiled'")
                        .bind(app.institution_id).execute(tx.conn()).await?;
                }
                Effect::UseException(x) => {
                    let by: Option<i64> = sqlx::query(
                        "SELECT used_by_application FROM filing_exceptions WHERE id = $1",
                    )
                    .bind(*x)
                    .fetch_one(tx.conn())
                    .await?
                    .get(0);
                    if by == Some(app.id) {
                        continue;
                    }
                    // Once, by this application: another application that used it first wins.
                    let n = sqlx::query("UPDATE filing_exceptions SET used_by_application = $1, used_at = $2, version = version + 1 WHERE id = $3 AND status = 'granted' AND used_by_application IS NULL")
                        .bind(app.id).bind(&now).bind(*x).execute(tx.conn()).await?.rows_affected();
                    if n == 0 {
                        return Err(StoreError::Conflict);
                    }
                    append(
                        &mut tx,
                        actor,
                        NewEvent {
                            action: "filing_exception.use",
                            object_type: "filing_exception",
                            object_id: x.to_string(),
                            summary: serde_json::json!({ "application_id": app.id, "command": outcome.action }),
                        },
                    )
                    .await?;
                }
                Effect::EnterRound(round) => {
                    sqlx::query("UPDATE filing_applications SET increment_round = COALESCE(increment_round, $1) WHERE id = $2")
                        .bind(round).bind(app.id).execute(tx.conn()).await?;
                }
                Effect::AssignFilingNo => {
                    let today = input
                        .today
                        .unwrap_or_else(|| chrono::Utc::now().date_naive());
                    use chrono::Datelike;
                    let no = domain::filing::filing_number(today.year(), app.id);
                    sqlx::query("UPDATE filing_applications SET filing_no = $1, filed_on = $2 WHERE id = $3")
                        .bind(&no).bind(today.to_string()).bind(app.id).execute(tx.conn()).await?;
                    for it in &app.items {
                        crate::filed::record_in_tx(
                            &mut tx,
                            actor,
                            app.institution_id,
                            it.occupation_id,
                            &it.levels,
                            &no,
                            &today.to_string(),
                            &app.kind,
                        )
                        .await?;
                    }
                }
            }
        }
        if outcome.to == FilingState::DistrictPassed {
            crate::experts::commit_next(&mut tx, actor, app.id).await?;
        }
        if outcome.to.is_terminal() {
            sqlx::query(
                "UPDATE filing_applications SET closed_at = $1, retention_until = $2 WHERE id = $3",
            )
            .bind(&now)
            .bind(&input.retention_until)
            .bind(app.id)
            .execute(tx.conn())
            .await?;
        }
        event(
            &mut tx,
            actor,
            app.id,
            &outcome.action,
            &app.state,
            outcome.to.as_str(),
            &input.reason,
            &input.attachments,
        )
        .await?;
        // The institution sees every decision with its reason (in the platform, and by SMS
        // through the outbox when a contact phone is on file).
        // Demo data and CLI runs (role "system") send nothing.
        if actor.role != "institution" && actor.role != "system" {
            let title = format!("备案申请 #{}：{}", app.id, outcome.to.label());
            let body = if input.reason.is_empty() {
                format!("{}（{}）", outcome.to.label(), actor.username)
            } else {
                format!("{}。理由/意见：{}", outcome.to.label(), input.reason)
            };
            Store::notify(
                &mut tx,
                &crate::NewNotification::to_institution(app.institution_id, &title, &body)
                    .link(format!("/filings/{}", app.id)),
            )
            .await?;
            let phone: String = sqlx::query("SELECT contact_phone FROM institutions WHERE id = $1")
                .bind(app.institution_id)
                .fetch_one(tx.conn())
                .await?
                .get(0);
            if !phone.trim().is_empty()
                && !matches!(
                    outcome.to,
                    FilingState::CityReview
                        | FilingState::ExpertsDrawn
                        | FilingState::OnsiteReviewed
                )
            {
                // The gateway's template `filing_decision` takes id, state and reason.
                let sms =
                    crate::OutboxMessage::sms(phone, format!("【郑州技能评价】{title}。{body}"))
                        .template(
                            "filing_decision",
                            serde_json::json!({
                                "id": app.id.to_string(),
                                "state": outcome.to.label(),
                                "reason": input.reason,
                            }),
                        );
                Store::enqueue_outbox(&mut tx, &sms).await?;
            }
        }
        tx.commit().await?;
        self.filing(&Scope::City, app.id)
            .await
            .or_else(|_| Err(StoreError::NotFound))
    }

    /// Set the publicity end directly (tests and the city's period correction); audited.
    pub async fn set_publicity_end(
        &self,
        actor: &Actor,
        id: i64,
        end: NaiveDate,
        reason: &str,
    ) -> Result<()> {
        let mut tx = self.db.write().await?;
        let state: String = sqlx::query("SELECT state FROM filing_applications WHERE id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?
            .ok_or(StoreError::NotFound)?
            .get(0);
        sqlx::query("UPDATE filing_applications SET publicity_end = $1, version = version + 1 WHERE id = $2")
            .bind(end.to_string())
            .bind(id)
            .execute(tx.conn())
            .await?;
        event(
            &mut tx,
            actor,
            id,
            "filing.publicity_period",
            &state,
            &state,
            reason,
            &[],
        )
        .await?;
        tx.commit().await
    }

    // ---- 特殊情况申请 ----
}
