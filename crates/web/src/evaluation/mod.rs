//! 二、评价管理, shared by pages and the API: each function checks the role and scope, asks the
//! domain to decide, and has the store persist. Handlers only translate HTTP.

use domain::Action;
use std::collections::{HashMap, HashSet};

use chrono::NaiveDate;
use domain::id_number::IdNumber;
use domain::occupation::{parse_levels, Level};
use domain::plan::{
    self, check_efiling_done, check_evaluation_may_start, check_evaluation_valid,
    check_supervisor_conflict, evaluate_result, forms_label, forms_to_string, parse_forms,
    transition, EvalForm, Party, PlanCommand, PlanContent, PlanStatus, SupervisorFacts,
};
use domain::policy::{check_plan_lead_time, PlanLeadError, Refusal};
use domain::Role;
use serde::{Deserialize, Serialize};
use store::{Letter, NewCandidate, Plan, PlanInput, ScoreUpdate, UploadedFile};

use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

pub mod api;
mod candidates;
mod efiling;
mod results;
mod supervision;
pub mod views;

pub use candidates::*;
pub use efiling::*;
pub use results::*;
pub use supervision::*;

/// One status per kind of refusal (as `filing::filing_error`): a role that may not act 403, a
/// command the current status does not allow 409, a rule of the notice 422 naming its clause.
pub fn refused(r: Refusal) -> AppError {
    match r.rule {
        domain::plan::RULE_ROLE => AppError::Forbidden(r.to_string()),
        domain::plan::RULE_STATE => AppError::Conflict(r.to_string()),
        _ => AppError::invalid(r.rule, r.to_string()),
    }
}

fn parse_date(field: &'static str, label: &str, s: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .map_err(|_| AppError::invalid(field, format!("请填写有效的{label}（YYYY-MM-DD）")))
}

// ---------------------------------------------------------------------------------------------
// Plans

/// The plan form as pages and the API send it.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PlanForm {
    /// Occupation id (from the institution's filed occupations).
    #[serde(default)]
    pub occupation_id: String,
    /// "5,4"
    #[serde(default)]
    pub levels: String,
    /// "theory,skill,review" (or 理论、技能、综合评审)
    #[serde(default)]
    pub forms: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub end_date: String,
    #[serde(default)]
    pub venue: String,
    #[serde(default)]
    pub expected_candidates: String,
    #[serde(default)]
    pub examiners: String,
    #[serde(default)]
    pub internal_supervisor: String,
    /// Optimistic version for updates.
    #[serde(default)]
    pub version: Option<i64>,
}

impl PlanForm {
    pub fn from_plan(p: &Plan) -> PlanForm {
        PlanForm {
            occupation_id: p.occupation_id.to_string(),
            levels: p.levels.clone(),
            forms: p.forms.clone(),
            start_date: p.start_date.clone(),
            end_date: p.end_date.clone(),
            venue: p.venue.clone(),
            expected_candidates: p.expected_candidates.to_string(),
            examiners: p.examiners.clone(),
            internal_supervisor: p.internal_supervisor.clone(),
            version: Some(p.version),
        }
    }
}

/// Validate the form against the institution's filing scope.
pub async fn validate_plan_form(
    state: &AppState,
    institution_id: i64,
    f: &PlanForm,
) -> Result<PlanInput, AppError> {
    let occupation_id: i64 = f
        .occupation_id
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("occupation", "请选择已备案的职业（工种）"))?;
    let levels = parse_levels(&f.levels).map_err(|e| AppError::invalid("levels", e.to_string()))?;
    let forms = parse_forms(&f.forms)?;
    let start = parse_date("start_date", "评价开始日期", &f.start_date)?;
    let end = parse_date("end_date", "评价结束日期", &f.end_date)?;
    let expected: i64 = f
        .expected_candidates
        .trim()
        .parse()
        .map_err(|_| AppError::invalid("expected_candidates", "预计考生人数应为整数"))?;
    let filed = state.store.filed_occupations(institution_id).await?;
    let filed_levels: Option<Vec<Level>> = filed
        .iter()
        .find(|o| o.occupation_id == occupation_id)
        .map(|o| parse_levels(&o.levels).unwrap_or_default());
    let content = PlanContent {
        occupation_id,
        levels: levels.clone(),
        forms: forms.clone(),
        start_date: start,
        end_date: end,
        venue: f.venue.trim().to_string(),
        expected_candidates: expected,
        examiners: f.examiners.trim().to_string(),
        internal_supervisor: f.internal_supervisor.trim().to_string(),
    };
    plan::validate_plan(&content, filed_levels.as_deref())?;
    Ok(PlanInput {
        occupation_id,
        levels: domain::occupation::levels_to_string(&levels),
        forms: forms_to_string(&forms),
        start_date: start.format("%Y-%m-%d").to_string(),
        end_date: end.format("%Y-%m-%d").to_string(),
        venue: content.venue,
        expected_candidates: expected,
        examiners: content.examiners,
        internal_supervisor: content.internal_supervisor,
    })
}

pub async fn create_plan(state: &AppState, me: &Authed, f: &PlanForm) -> Result<Plan, AppError> {
    me.may(Action::PlanEdit)?;
    let inst = me.account.institution_id.ok_or_else(AppError::forbidden)?;
    let input = validate_plan_form(state, inst, f).await?;
    Ok(state.store.create_plan(&me.actor(), inst, &input).await?)
}

/// Edit a draft/returned plan, or revise an approved one (a new revision, approval again).
pub async fn update_plan(
    state: &AppState,
    me: &Authed,
    id: i64,
    f: &PlanForm,
) -> Result<Plan, AppError> {
    me.may(Action::PlanEdit)?;
    let p = state.store.plan(&me.scope(), id).await?;
    let version = f.version.unwrap_or(p.version);
    let status = p.status();
    let cmd = match status {
        PlanStatus::Draft | PlanStatus::Returned => PlanCommand::Edit,
        _ => PlanCommand::Revise,
    };
    transition(status, me.role(), cmd).map_err(refused)?;
    if cmd == PlanCommand::Revise && p.results_status != domain::plan::ResultsStatus::None {
        return Err(AppError::Conflict(
            "成绩已公示或上报，计划不能再变更".into(),
        ));
    }
    let input = validate_plan_form(state, p.institution_id, f).await?;
    Ok(state
        .store
        .update_plan(
            &me.actor(),
            &me.scope(),
            id,
            version,
            &input,
            cmd == PlanCommand::Revise,
        )
        .await?)
}

/// The last permitted submission date for a start date: (last calendar day, last working day,
/// calendar basis), with an explicit calendar error outside 2000–2100.
pub async fn latest_submission(
    state: &AppState,
    start: NaiveDate,
) -> Result<(NaiveDate, NaiveDate, domain::calendar::CalendarBasis), AppError> {
    let cal = state.store.holiday_calendar().await?;
    let n = state.policy.plan_min_working_days.value;
    let last = cal
        .latest_submission_date(start, n)
        .map_err(|e| AppError::invalid("start_date", e.to_string()))?;
    let last_working = cal
        .latest_working_submission_date(start, n)
        .map_err(|e| AppError::invalid("start_date", e.to_string()))?;
    Ok((last, last_working, cal.basis(last_working, start)))
}

/// Apply a workflow command to a plan. `paper_received_on` is the day the district received
/// the paper plan (RecordPaper only; default today).
#[allow(clippy::too_many_arguments)]
pub async fn plan_action(
    state: &AppState,
    me: &Authed,
    id: i64,
    version: Option<i64>,
    cmd: PlanCommand,
    reason: &str,
    paper_received_on: Option<&str>,
) -> Result<Plan, AppError> {
    let scope = me.scope();
    let p = state.store.plan(&scope, id).await?;
    let from = p.status();
    let to = transition(from, me.role(), cmd).map_err(refused)?;
    let reason = reason.trim();
    if cmd.needs_reason() && reason.is_empty() {
        return Err(AppError::invalid("reason", "请填写理由"));
    }
    if reason.chars().count() > 1000 {
        return Err(AppError::invalid("reason", "理由不能超过1000字"));
    }
    let today = state.today();
    let mut paper = None;
    match cmd {
        PlanCommand::Submit => {
            let status = state.store.efiling_status(p.institution_id).await?;
            check_efiling_done(status).map_err(refused)?;
            // The filing scope may have changed since the draft was written.
            validate_plan_form(state, p.institution_id, &PlanForm::from_plan(&p)).await?;
            let start = parse_date("start_date", "评价开始日期", &p.start_date)?;
            plan::check_online_submission_before_start(today, start).map_err(refused)?;
        }
        PlanCommand::RecordPaper => {
            let on = match paper_received_on.map(str::trim).filter(|s| !s.is_empty()) {
                Some(s) => parse_date("paper_received_on", "纸质件收取日期", s)?,
                None => today,
            };
            plan::check_paper_receipt_date(today, on, reason)?;
            let start = parse_date("start_date", "评价开始日期", &p.start_date)?;
            check_lead_time(state, on, start).await?;
            paper = Some(store::PaperReceipt {
                received_on: on.format("%Y-%m-%d").to_string(),
                // 二(三): the district's paper copy is complete on receipt and kept for the
                // paper period from that day (decisions-retention.md).
                retention_until: paper_due_on(state, on),
            });
        }
        PlanCommand::Cancel if p.results_status != domain::plan::ResultsStatus::None => {
            return Err(AppError::Conflict("成绩已公示或上报，计划不能取消".into()));
        }
        _ => {}
    }
    Ok(state
        .store
        .transition_plan(
            &me.actor(),
            &scope,
            id,
            version.unwrap_or(p.version),
            from,
            to,
            cmd,
            reason,
            paper.as_ref(),
            today,
        )
        .await?)
}

/// 保存至 of a paper copy closed on `on` (二(三) 纸质版材料保存三年).
fn paper_due_on(state: &AppState, on: NaiveDate) -> String {
    domain::retention::due_on(&state.policy, domain::retention::RetentionClass::Paper, on)
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_default()
}

/// 二(二): `plan_min_working_days` working days between the paper plan's receipt and the start.
async fn check_lead_time(
    state: &AppState,
    on: NaiveDate,
    start: NaiveDate,
) -> Result<(), AppError> {
    let cal = state.store.holiday_calendar().await?;
    match check_plan_lead_time(&state.policy, &cal, on, start) {
        Ok(()) => Ok(()),
        Err(PlanLeadError::Refused(r)) => Err(refused(r)),
        Err(PlanLeadError::Calendar(e)) => Err(AppError::invalid("start_date", e.to_string())),
    }
}

/// Which commands `me` may apply to `p` now (for buttons).
pub fn available_commands(me: &Authed, p: &Plan) -> Vec<PlanCommand> {
    use PlanCommand as C;
    [
        C::Submit,
        C::RecordPaper,
        C::DistrictApprove,
        C::DistrictReturn,
        C::DistrictReject,
        C::Enter,
        C::CityConfirm,
        C::CityReturn,
        C::Cancel,
    ]
    .into_iter()
    .filter(|c| transition(p.status(), me.role(), *c).is_ok())
    .collect()
}

// ---------------------------------------------------------------------------------------------
