//! 评价管理的查询: the read use cases of plans, e-filings, candidates and supervision that the
//! pages and the API share. Each checks the permission table and loads the records through the
//! caller's scope (属地管理); the handlers only render what they return.

use domain::plan::PlanStatus;
use domain::{Action, Role};
use store::{
    Account, Candidate, Efiling, EfilingFilter, Institution, Page, PageRequest, Plan, PlanEvent,
    PlanFilter, Relation, Report,
};

use super::SupervisionView;
use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

/// 评价工作计划: one plan in the caller's scope (another area's plan is "not found").
pub async fn plan(state: &AppState, me: &Authed, id: i64) -> Result<Plan, AppError> {
    me.may(Action::PlanView)?;
    Ok(state.store.plan(&me.scope(), id).await?)
}

/// 评价工作计划列表 of the caller's area (or the plans a supervisor supervises).
pub async fn plans(
    state: &AppState,
    me: &Authed,
    f: &PlanFilter,
    page: PageRequest,
) -> Result<Page<Plan>, AppError> {
    me.may(Action::PlanView)?;
    Ok(state.store.list_plans(&me.scope(), f, page).await?)
}

/// A plan with what its page shows: 督导情况, 流转记录, 督导报告 and the supervisors the caller
/// may dispatch now.
pub struct PlanDetail {
    pub plan: Plan,
    pub supervision: SupervisionView,
    pub events: Vec<PlanEvent>,
    pub reports: Vec<Report>,
    /// 可派遣的督导员: empty unless the caller assigns supervisors (city side or the plan's
    /// district), the plan is confirmed and nobody has signed the letter yet.
    pub assignable: Vec<Account>,
}

/// 计划详情.
pub async fn plan_detail(state: &AppState, me: &Authed, id: i64) -> Result<PlanDetail, AppError> {
    let plan = plan(state, me, id).await?;
    let supervision = super::supervision_view(state, &plan).await?;
    let side = match me.role() {
        Role::CityCenter | Role::CityDivision => Some(None),
        Role::District => Some(Some(plan.district_code.clone())),
        _ => None,
    };
    let assignable = match side {
        Some(district)
            if me.can(Action::SupervisorAssign)
                && plan.status() == PlanStatus::CityConfirmed
                && supervision.signatures.is_empty() =>
        {
            state.store.supervisor_pool(district.as_deref()).await?
        }
        _ => vec![],
    };
    Ok(PlanDetail {
        events: state.store.plan_events(plan.id).await?,
        reports: state.store.reports(plan.id).await?,
        supervision,
        assignable,
        plan,
    })
}

/// A plan the caller may edit (编制或变更计划): still open and without published results.
pub async fn editable_plan(state: &AppState, me: &Authed, id: i64) -> Result<Plan, AppError> {
    me.may(Action::PlanEdit)?;
    let p = state.store.plan(&me.scope(), id).await?;
    if p.status().is_closed() || p.results_status != domain::plan::ResultsStatus::None {
        return Err(AppError::Conflict(format!(
            "计划当前状态为“{}”，不能再修改",
            if p.results_status != domain::plan::ResultsStatus::None {
                "成绩已公示"
            } else {
                p.status().label()
            }
        )));
    }
    Ok(p)
}

/// The institution of the caller, who is about to write a new plan (新建评价工作计划).
pub fn own_institution_for_plan(me: &Authed) -> Result<i64, AppError> {
    me.may(Action::PlanEdit)?;
    me.account.institution_id.ok_or_else(AppError::forbidden)
}

/// 督导情况 of a plan: assignments, the letter and its signatures.
pub async fn plan_supervision(
    state: &AppState,
    me: &Authed,
    id: i64,
) -> Result<(Plan, SupervisionView), AppError> {
    me.may(Action::LetterView)?;
    let p = state.store.plan(&me.scope(), id).await?;
    let v = super::supervision_view(state, &p).await?;
    Ok((p, v))
}

/// The plan a supervisor files a 督导报告 on.
pub async fn report_plan(state: &AppState, me: &Authed, id: i64) -> Result<Plan, AppError> {
    me.may(Action::SupervisionReport)?;
    Ok(state.store.plan(&me.scope(), id).await?)
}

/// The caller's own 电子备案 (institution), if any.
pub async fn own_efiling(state: &AppState, me: &Authed) -> Result<Option<Efiling>, AppError> {
    me.may(Action::EfilingSubmit)?;
    let id = me.account.institution_id.ok_or_else(AppError::forbidden)?;
    Ok(state.store.efiling(&me.scope(), id).await?)
}

/// 电子备案列表 of the caller's area.
pub async fn efilings(
    state: &AppState,
    me: &Authed,
    f: &EfilingFilter,
    page: PageRequest,
) -> Result<Page<Efiling>, AppError> {
    me.may(Action::EfilingView)?;
    Ok(state.store.list_efilings(&me.scope(), f, page).await?)
}

/// One institution's 电子备案 in the caller's area.
pub async fn efiling(
    state: &AppState,
    me: &Authed,
    institution_id: i64,
) -> Result<Efiling, AppError> {
    me.may(Action::EfilingView)?;
    state
        .store
        .efiling(&me.scope(), institution_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// The 电子备案 a district reviews (审核电子备案).
pub async fn efiling_to_review(
    state: &AppState,
    me: &Authed,
    institution_id: i64,
) -> Result<Efiling, AppError> {
    me.may(Action::EfilingReview)?;
    state
        .store
        .efiling(&me.scope(), institution_id)
        .await?
        .ok_or(AppError::NotFound)
}

/// 考生名单 of a plan, searched and paged (ID numbers masked).
pub async fn candidates(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    q: Option<&str>,
    page: PageRequest,
) -> Result<(Plan, Page<Candidate>), AppError> {
    me.may(Action::CandidateView)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    let list = state.store.list_candidates(p.id, q, page).await?;
    Ok((p, list))
}

/// The plan whose candidates or scores the caller enters (录入考生与成绩).
pub async fn entry_plan(state: &AppState, me: &Authed, plan_id: i64) -> Result<Plan, AppError> {
    me.may(Action::CandidateEnter)?;
    Ok(state.store.plan(&me.scope(), plan_id).await?)
}

/// One candidate of a plan in scope, for score entry.
pub async fn candidate(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    candidate_id: i64,
) -> Result<(Plan, Candidate), AppError> {
    let p = entry_plan(state, me, plan_id).await?;
    let c = state
        .store
        .all_candidates(p.id)
        .await?
        .into_iter()
        .find(|c| c.id == candidate_id)
        .ok_or(AppError::NotFound)?;
    Ok((p, c))
}

/// The candidate just added to a plan under `name` (the newest of that name).
pub async fn newest_candidate_named(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    name: &str,
) -> Result<Candidate, AppError> {
    let p = entry_plan(state, me, plan_id).await?;
    state
        .store
        .all_candidates(p.id)
        .await?
        .into_iter()
        .filter(|c| c.name == name.trim())
        .max_by_key(|c| c.id)
        .ok_or(AppError::NotFound)
}

/// 完整证件号码 of a candidate. Every reading is audited (personal data).
pub async fn candidate_id_number(
    state: &AppState,
    me: &Authed,
    candidate_id: i64,
) -> Result<String, AppError> {
    me.may(Action::CandidateIdNumber)?;
    Ok(state
        .store
        .candidate_id_number(&me.actor(), &me.scope(), candidate_id)
        .await?)
}

/// 考生导入模板 of a plan in scope.
pub async fn candidate_template(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
) -> Result<Vec<u8>, AppError> {
    // The template is the plan's: a plan outside the caller's scope is not found.
    entry_plan(state, me, plan_id).await?;
    super::candidate_template()
}

/// 成绩导入模板 of a plan in scope.
pub async fn score_template(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
) -> Result<Vec<u8>, AppError> {
    entry_plan(state, me, plan_id).await?;
    sheets::template(&super::score_spec()).map_err(|e| AppError::Internal(e.to_string()))
}

/// 督导回避关系 (city officers keep the register).
pub async fn relations(
    state: &AppState,
    me: &Authed,
    q: Option<&str>,
    page: PageRequest,
) -> Result<Page<Relation>, AppError> {
    me.may(Action::RelationManage)?;
    Ok(state.store.list_relations(page, q).await?)
}

/// The choices of the relation form: supervisors and institutions of the caller's area.
pub async fn relation_choices(
    state: &AppState,
    me: &Authed,
) -> Result<(Vec<Account>, Vec<Institution>), AppError> {
    me.may(Action::RelationManage)?;
    let sups = state
        .store
        .list_accounts(
            &me.scope(),
            &store::UserFilter {
                role: Some("supervisor".into()),
                ..Default::default()
            },
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items;
    let insts = state
        .store
        .list_institutions(
            &me.scope(),
            &store::InstitutionFilter::default(),
            PageRequest::new(Some(1), Some(200)),
        )
        .await?
        .items;
    Ok((sups, insts))
}
