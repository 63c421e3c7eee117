//! 备案流转：一次命令的事实、决定与落库；专家抽取与重放。

use super::*;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct ActionInput {
    pub action: String,
    #[serde(default)]
    pub reason: String,
    pub version: i64,
    /// For resolve_objection: the objection is upheld (→ rejected).
    #[serde(default)]
    pub upheld: bool,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// complete_onsite on the city route: `onsite` | `written` (评审方式; the reason says why).
    #[serde(default)]
    pub review_mode: Option<String>,
    /// pass on the city route with levels above 三级 at a first filing (三(一)).
    #[serde(default)]
    pub high_level_reason: String,
    /// opinion when most experts said 不通过: why the application goes on.
    #[serde(default)]
    pub override_reason: String,
}

/// The one generic transition entry point (API and pages).
pub async fn act(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &ActionInput,
) -> Result<FilingApp, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    let cmd = Command::parse(&input.action, input.upheld)
        .ok_or_else(|| AppError::invalid("action", format!("未知操作“{}”", input.action)))?;
    if app.version != input.version {
        return Err(conflict_text(&app));
    }
    let mut f = facts(state, &app, &cmd).await?;
    f.review_mode = match input
        .review_mode
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(m) => Some(filing::ReviewMode::parse(m).ok_or_else(|| {
            AppError::invalid(
                "review_mode",
                "评审方式应为 onsite（现场评审）或 written（书面评审）",
            )
        })?),
        None => None,
    };
    f.high_level_reason = input.high_level_reason.clone();
    f.panel_override_reason = input.override_reason.clone();
    let outcome = filing::decide(
        &state.policy,
        &app_state(&app),
        me.role(),
        &cmd,
        &input.reason,
        &f,
    )
    .map_err(filing_error)?;
    let attachments: Vec<String> = input
        .attachments
        .iter()
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    for a in &attachments {
        if a.contains("..") || a.contains('/') || a.contains('\\') {
            return Err(AppError::invalid(
                "attachments",
                "附件名称不能包含路径（如 ../）",
            ));
        }
    }
    state
        .store
        .apply_filing(
            &me.actor(),
            &app,
            input.version,
            &outcome,
            &TransitionInput {
                reason: input.reason.trim().to_string(),
                attachments,
                today: Some(state.today()),
                quota_recheck: (cmd == Command::Pass
                    && state.policy.quota_applies(app_state(&app).flow.kind))
                .then(|| {
                    let r = &state.policy.max_institutions_per_occupation_per_district;
                    store::QuotaRecheck {
                        limit: r.value as i64,
                        message: domain::policy::Refusal {
                            rule: "max_institutions_per_occupation_per_district",
                            clause: r.clause.clone(),
                            message: format!(
                                "同一职业（工种）在同一区县（市）备案不多于{}家",
                                r.value
                            ),
                        }
                        .to_string(),
                        filing_kinds: state.policy.quota_filing_kinds.value.clone(),
                        institution_kinds: quota_institution_kinds(state),
                    }
                }),
            },
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict => conflict_text(&app),
            store::StoreError::Invalid(m) => {
                AppError::invalid("max_institutions_per_occupation_per_district", m)
            }
            e => e.into(),
        })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct DrawInput {
    pub version: i64,
    /// Required for a second or later attempt.
    #[serde(default)]
    pub reason: String,
}

pub async fn do_draw(
    state: &AppState,
    me: &Authed,
    id: i64,
    input: &DrawInput,
) -> Result<store::DrawRow, AppError> {
    let app = state.store.filing(&me.scope(), id).await?;
    if app.version != input.version {
        return Err(conflict_text(&app));
    }
    let outcome = filing::decide(
        &state.policy,
        &app_state(&app),
        me.role(),
        &Command::RecordDraw,
        "",
        &Facts::default(),
    )
    .map_err(filing_error)?;
    if app.state() == FilingState::ExpertsDrawn && input.reason.trim().is_empty() {
        return Err(AppError::invalid(
            "reason",
            "重新抽取须说明理由；每次抽取均留痕并报市级可见",
        ));
    }
    let inst = state
        .store
        .institution(&domain::Scope::City, app.institution_id)
        .await?;
    let occ: Vec<i64> = app.items.iter().map(|i| i.occupation_id).collect();
    let candidates = state.store.draw_candidates(&occ).await?;
    let (pool, excl) = draw::pool(
        &candidates,
        &draw::Applicant {
            institution_id: inst.id,
            name: inst.name.clone(),
            credit_code: inst.credit_code.clone(),
            occupation_ids: occ,
            date: state.today(),
            recent_months: state.policy.expert_recent_review_months.value,
        },
    );
    let size = state.policy.expert_draw_size.value as usize;
    if pool.len() < size {
        return Err(AppError::Conflict(format!(
            "符合条件的专家仅{}名，少于应抽取的{}名；请市鉴定中心补充专家库后再抽取",
            pool.len(),
            size
        )));
    }
    state
        .store
        .make_draw(
            &me.actor(),
            &app,
            input.version,
            &outcome,
            &pool,
            &excl,
            size,
            input.reason.trim(),
        )
        .await
        .map_err(|e| match e {
            store::StoreError::Conflict => conflict_text(&app),
            e => e.into(),
        })
}

/// Replay a draw; (matches, problems).
pub fn replay(d: &store::DrawRow) -> (bool, Vec<String>) {
    if d.status == domain::draw::DrawStatus::Committed {
        return (false, vec!["该次抽取尚未进行（仅公布了承诺值）".into()]);
    }
    let bad = draw::verify(&d.record());
    (bad.is_empty(), bad)
}

// ---------------------------------------------------------------- API handlers
