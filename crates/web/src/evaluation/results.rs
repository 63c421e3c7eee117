//! 评价结果: scores, their 公示 and the submission to the city.

use super::*;

pub const SCORE_HEADERS: [&str; 5] = ["姓名", "证件号码", "理论", "技能", "综合评审"];

#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct ScoreForm {
    #[serde(default)]
    pub theory: Option<String>,
    #[serde(default)]
    pub skill: Option<String>,
    #[serde(default)]
    pub review: Option<String>,
}

fn score(field: &'static str, s: &Option<String>) -> Result<Option<u32>, domain::FieldError> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|f| (0.0..=100.0).contains(f) && f.fract() == 0.0)
            .map(|f| Some(f as u32))
            .ok_or_else(|| domain::FieldError::new(field, "成绩应为0至100之间的整数")),
    }
}

/// Results may be entered once the evaluation may start and the letter is signed by all three.
async fn plan_for_results(state: &AppState, me: &Authed, plan_id: i64) -> Result<Plan, AppError> {
    me.may(Action::CandidateEnter)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let parties = state.store.signed_parties(p.id).await?;
    check_evaluation_valid(&parties).map_err(refused)?;
    if p.results_status != domain::plan::ResultsStatus::None {
        return Err(AppError::Conflict("成绩已公示，不能再修改".into()));
    }
    Ok(p)
}

/// 二(三): scores from the evaluation's start date.
fn check_scores_open(state: &AppState, p: &Plan) -> Result<(), AppError> {
    let start = parse_date("start_date", "评价开始日期", &p.start_date)?;
    plan::check_scores_may_be_entered(state.today(), start).map_err(refused)
}

fn decide_scores(
    state: &AppState,
    forms: &[EvalForm],
    level: i64,
    f: &ScoreForm,
) -> Result<(Option<u32>, Option<u32>, Option<u32>, bool), domain::FieldError> {
    let t = score("theory_score", &f.theory)?;
    let s = score("skill_score", &f.skill)?;
    let r = score("review_score", &f.review)?;
    let level = Level::from_u8(level as u8).unwrap_or(Level::Five);
    let out = evaluate_result(&state.policy, forms, level, t, s, r)?;
    Ok((t, s, r, out.passed))
}

pub async fn save_score(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    candidate_id: i64,
    f: &ScoreForm,
) -> Result<bool, AppError> {
    let p = plan_for_results(state, me, plan_id).await?;
    check_scores_open(state, &p)?;
    let c = state
        .store
        .all_candidates(p.id)
        .await?
        .into_iter()
        .find(|c| c.id == candidate_id)
        .ok_or(AppError::NotFound)?;
    let (t, s, r, passed) = decide_scores(state, &p.forms(), c.level, f)?;
    state
        .store
        .save_scores(
            &me.actor(),
            p.id,
            &[ScoreUpdate {
                candidate_id,
                theory: t.map(i64::from),
                skill: s.map(i64::from),
                review: r.map(i64::from),
                passed,
            }],
            "form",
        )
        .await?;
    Ok(passed)
}

/// Scores from xlsx: all rows valid, or nothing saved.
pub async fn import_scores(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    bytes: &[u8],
) -> Result<Result<usize, Vec<RowError>>, AppError> {
    let p = plan_for_results(state, me, plan_id).await?;
    check_scores_open(state, &p)?;
    let rows =
        sheets::read(&score_spec(), bytes).map_err(|e| AppError::invalid("file", e.to_string()))?;
    let by_hash = state.store.candidate_ids_by_hash(p.id).await?;
    let forms = p.forms();
    let mut errors = vec![];
    let mut updates = vec![];
    let mut seen = HashSet::new();
    for r in rows.iter() {
        let row = r.row as usize;
        let id = r.get("id_number").trim().to_uppercase();
        let Some((cid, level)) = by_hash.get(&state.store.id_hash(&id)?).copied() else {
            errors.push(RowError {
                row,
                field: "证件号码".into(),
                message: "本计划中没有该证件号码的考生".into(),
            });
            continue;
        };
        if !seen.insert(cid) {
            errors.push(RowError {
                row,
                field: "证件号码".into(),
                message: "同一考生的成绩出现了两次".into(),
            });
            continue;
        }
        let f = ScoreForm {
            theory: Some(r.get("theory").to_string()),
            skill: Some(r.get("skill").to_string()),
            review: Some(r.get("review").to_string()),
        };
        match decide_scores(state, &forms, level, &f) {
            Ok((t, s, rv, passed)) => updates.push(ScoreUpdate {
                candidate_id: cid,
                theory: t.map(i64::from),
                skill: s.map(i64::from),
                review: rv.map(i64::from),
                passed,
            }),
            Err(e) => errors.push(RowError {
                row,
                field: field_label(e.field).into(),
                message: e.message,
            }),
        }
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    state
        .store
        .save_scores(&me.actor(), p.id, &updates, "xlsx")
        .await?;
    Ok(Ok(updates.len()))
}

pub async fn publish_results(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    version: Option<i64>,
) -> Result<Plan, AppError> {
    let p = plan_for_results(state, me, plan_id).await?;
    let end = parse_date("end_date", "评价结束日期", &p.end_date)?;
    plan::check_results_may_be_published(state.today(), end).map_err(refused)?;
    let cands = state.store.all_candidates(p.id).await?;
    if cands.is_empty() {
        return Err(AppError::Conflict("本计划尚无考生，不能公示成绩".into()));
    }
    let missing = cands.iter().filter(|c| c.passed.is_none()).count();
    if missing > 0 {
        return Err(AppError::Conflict(format!(
            "尚有{missing}名考生未录入成绩，全部录入后方可公示"
        )));
    }
    let today = state.today();
    let cal = state.store.holiday_calendar().await?;
    let period = state
        .policy
        .publicity_period(&cal, today, &state.policy.results_publicity_working_days)
        .map_err(|e| AppError::invalid("date", e.to_string()))?;
    state
        .store
        .set_results_status(
            &me.actor(),
            p.id,
            version.unwrap_or(p.version),
            "none",
            "publicised",
            Some(&period),
            today,
        )
        .await?;
    Ok(state.store.plan(&me.scope(), plan_id).await?)
}

pub async fn submit_results(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    version: Option<i64>,
) -> Result<Plan, AppError> {
    me.may(Action::CandidateEnter)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    if p.results_status != domain::plan::ResultsStatus::Publicised {
        return Err(AppError::Conflict(
            "成绩须先公示，公示期满后方可上报".into(),
        ));
    }
    let until = p
        .results_publicity_until
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .ok_or_else(|| AppError::Internal("publicity date missing".into()))?;
    if state.today() <= until {
        return Err(AppError::invalid(
            "results_publicity_working_days",
            format!(
                "成绩公示期为{}个工作日，至{}止，期满后方可上报（依据：{}）",
                state.policy.results_publicity_working_days.value,
                until.format("%Y年%m月%d日"),
                state.policy.results_publicity_working_days.clause
            ),
        ));
    }
    state
        .store
        .set_results_status(
            &me.actor(),
            p.id,
            version.unwrap_or(p.version),
            "publicised",
            "submitted",
            None,
            state.today(),
        )
        .await?;
    Ok(state.store.plan(&me.scope(), plan_id).await?)
}

/// Plan detail for the API: the plan, what it still needs, supervision and counts.
pub async fn plan_json(
    state: &AppState,
    me: &Authed,
    p: &Plan,
) -> Result<serde_json::Value, AppError> {
    let sup = supervision_view(state, p).await?;
    let start = NaiveDate::parse_from_str(&p.start_date, "%Y-%m-%d").ok();
    let latest = match start {
        Some(s) => latest_submission(state, s)
            .await
            .map(|(a, b, basis)| serde_json::json!({ "latest": a.to_string(), "latest_working": b.to_string(), "calendar": basis }))
            .unwrap_or_else(|e| serde_json::json!({ "error": e.to_string() })),
        None => serde_json::Value::Null,
    };
    Ok(serde_json::json!({
        "plan": p,
        "status_label": p.status().label(),
        "evaluation_may_start": check_evaluation_may_start(p.status()).is_ok(),
        "evaluation_valid": sup.evaluation_valid,
        "validity": sup.validity,
        "supervision": sup,
        "latest_submission": latest,
        "commands": available_commands(me, p).iter().map(|c| c.as_str()).collect::<Vec<_>>(),
    }))
}
