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
    transition, EfilingStatus, EvalForm, Party, PlanCommand, PlanContent, PlanStatus,
    SupervisorFacts,
};
use domain::policy::{check_plan_lead_time, PlanLeadError, Refusal};
use domain::Role;
use serde::{Deserialize, Serialize};
use store::{Letter, NewCandidate, Plan, PlanInput, ScoreUpdate, UploadedFile};

use crate::auth::Authed;
use crate::error::AppError;
use crate::AppState;

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
    if cmd == PlanCommand::Revise && p.results_status != "none" {
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
            let status = EfilingStatus::parse(&state.store.efiling_status(p.institution_id).await?);
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
        PlanCommand::Cancel if p.results_status != "none" => {
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
// Electronic filing

pub async fn submit_efiling(
    state: &AppState,
    me: &Authed,
    note: &str,
    file: &UploadedFile,
) -> Result<(), AppError> {
    me.may(Action::EfilingSubmit)?;
    let inst_id = me.account.institution_id.ok_or_else(AppError::forbidden)?;
    let inst = state.store.institution(&me.scope(), inst_id).await?;
    if inst.filing_status != "filed" {
        return Err(AppError::invalid(
            "file",
            "机构尚未完成备案，备案通过后方可上传备案材料电子版（二(二)）",
        ));
    }
    if file.bytes.is_empty() {
        return Err(AppError::invalid("file", "请选择要上传的备案材料电子版"));
    }
    let ok_type = file.bytes.starts_with(b"%PDF")
        || file.bytes.starts_with(b"PK")
        || file.bytes.starts_with(&[0xFF, 0xD8, 0xFF])
        || file.bytes.starts_with(b"\x89PNG");
    if !ok_type {
        return Err(AppError::invalid(
            "file",
            "备案材料电子版须为 PDF、图片（JPG/PNG）或压缩包/Office 文档",
        ));
    }
    Ok(state
        .store
        .submit_efiling(&me.actor(), inst_id, note.trim(), file)
        .await?)
}

pub async fn review_efiling(
    state: &AppState,
    me: &Authed,
    institution_id: i64,
    version: i64,
    confirm: bool,
    reason: &str,
) -> Result<(), AppError> {
    me.may(Action::EfilingReview)?;
    if !confirm && reason.trim().is_empty() {
        return Err(AppError::invalid("reason", "退回须填写理由"));
    }
    Ok(state
        .store
        .review_efiling(
            &me.actor(),
            &me.scope(),
            institution_id,
            version,
            confirm,
            reason.trim(),
        )
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Supervision

/// The state of supervision of a plan, as pages and the API show it.
#[derive(Debug, Serialize)]
pub struct SupervisionView {
    pub assignments: Vec<store::Assignment>,
    pub letter: Option<Letter>,
    pub signatures: Vec<store::Signature>,
    pub evaluation_valid: bool,
    /// Why it is (not) valid, in Chinese, naming 二(三).
    pub validity: String,
    pub signatures_verified: bool,
}

pub async fn supervision_view(state: &AppState, p: &Plan) -> Result<SupervisionView, AppError> {
    let assignments = state.store.assignments(p.id).await?;
    let letter = state.store.current_letter(p.id).await?;
    let (signatures, verified) = match &letter {
        Some(l) => (
            state.store.signatures(l.id).await?,
            state.store.verify_letter(l).await?,
        ),
        None => (vec![], true),
    };
    let parties: Vec<Party> = signatures
        .iter()
        .filter_map(|s| Party::parse(&s.party))
        .collect();
    let (valid, validity) = match check_evaluation_valid(&parties) {
        Ok(()) if verified => (
            true,
            "督导责任书已经市级督导员、区县督导员和评价机构三方签字认可，本次评价过程有效（二(三)）"
                .to_string(),
        ),
        Ok(()) => (false, "签字校验失败：督导责任书或签字记录与存档不一致".into()),
        Err(r) => (false, r.to_string()),
    };
    Ok(SupervisionView {
        assignments,
        letter,
        signatures,
        evaluation_valid: valid,
        validity,
        signatures_verified: verified,
    })
}

async fn ensure_letter(state: &AppState, me: &Authed, p: &Plan) -> Result<(), AppError> {
    let a = state.store.assignments(p.id).await?;
    let name = |side: &str| {
        a.iter()
            .find(|x| x.side == side)
            .map(|x| x.supervisor_name.clone())
    };
    let (Some(city), Some(district)) = (name("city"), name("district")) else {
        return Ok(());
    };
    let levels = p
        .levels()
        .iter()
        .map(|l| l.name())
        .collect::<Vec<_>>()
        .join("、");
    let body = plan::supervision_letter_text(&plan::LetterFacts {
        plan_no: &p.plan_no,
        revision: p.revision,
        institution: &p.institution_name,
        occupation: &format!("{} {}", p.occupation_code, p.occupation_name),
        levels: &levels,
        forms: &forms_label(&p.forms()),
        start_date: &p.start_date,
        end_date: &p.end_date,
        venue: &p.venue,
        city_supervisor: &city,
        district_supervisor: &district,
        internal_supervisor: &p.internal_supervisor,
    });
    state
        .store
        .issue_letter(&me.actor(), p.id, p.revision, &body)
        .await?;
    Ok(())
}

/// City officers assign the city supervisor, the district the district supervisor.
pub async fn assign_supervisor(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    supervisor_id: i64,
) -> Result<(), AppError> {
    let side = match me.role() {
        Role::CityCenter | Role::CityDivision => Party::City,
        Role::District => Party::District,
        _ => return Err(AppError::forbidden()),
    };
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let pool = state
        .store
        .supervisor_pool(match side {
            Party::City => None,
            _ => Some(p.district_code.as_str()),
        })
        .await?;
    let Some(sup) = pool.iter().find(|a| a.id == supervisor_id) else {
        return Err(AppError::invalid(
            "supervisor_id",
            match side {
                Party::City => "请从市级督导组中选择督导人员",
                _ => "请从本区县督导人员中选择",
            },
        ));
    };
    let relations = state.store.relation_kinds(sup.id, p.institution_id).await?;
    check_supervisor_conflict(
        &SupervisorFacts {
            institution_id: sup.institution_id,
            employer: &sup.employer,
            relations: &relations,
        },
        p.institution_id,
        &p.institution_name,
    )
    .map_err(refused)?;
    state
        .store
        .assign_supervisor(&me.actor(), plan_id, side, supervisor_id)
        .await?;
    ensure_letter(state, me, &p).await
}

/// The city records a relation that excludes a supervisor from an institution (回避).
pub async fn record_relation(
    state: &AppState,
    me: &Authed,
    supervisor_id: i64,
    institution_id: i64,
    kind: &str,
    note: &str,
) -> Result<(), AppError> {
    me.may(Action::RelationManage)?;
    if !plan::RELATION_KINDS.contains(&kind) {
        return Err(AppError::invalid(
            "kind",
            "关系类型应为亲属、师生、师徒或同事",
        ));
    }
    state
        .store
        .institution(&me.scope(), institution_id)
        .await
        .map_err(|_| AppError::invalid("institution_id", "请选择机构"))?;
    let sup = state
        .store
        .account(&me.scope(), supervisor_id)
        .await
        .map_err(|_| AppError::invalid("supervisor_id", "请选择督导员"))?;
    if sup.role != Role::Supervisor {
        return Err(AppError::invalid("supervisor_id", "请选择督导人员账号"));
    }
    if note.chars().count() > 500 {
        return Err(AppError::invalid("note", "说明不能超过500字"));
    }
    Ok(state
        .store
        .add_relation(
            &me.actor(),
            supervisor_id,
            institution_id,
            kind,
            note.trim(),
        )
        .await?)
}

/// Sign the current letter as the party `me` represents.
pub async fn sign_letter(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
) -> Result<store::Signature, AppError> {
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let party = match me.role() {
        Role::Institution => Party::Institution,
        Role::Supervisor => {
            let a = state.store.assignments(p.id).await?;
            let side = a
                .iter()
                .find(|x| x.supervisor_id == me.account.id)
                .map(|x| x.side.clone())
                .ok_or_else(AppError::forbidden)?;
            Party::parse(&side).ok_or_else(AppError::forbidden)?
        }
        _ => return Err(AppError::forbidden()),
    };
    let letter = state.store.current_letter(p.id).await?.ok_or_else(|| {
        AppError::Conflict("市级与区县督导人员均派遣后才生成督导责任书，暂不能签字".into())
    })?;
    Ok(state
        .store
        .sign_letter(&me.actor(), &letter, party, &me.account.display_name)
        .await?)
}

pub async fn file_report(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    body: &str,
    attachment: Option<&UploadedFile>,
) -> Result<(), AppError> {
    me.may(Action::SupervisionReport)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    let side = state
        .store
        .assignments(p.id)
        .await?
        .into_iter()
        .find(|a| a.supervisor_id == me.account.id)
        .and_then(|a| Party::parse(&a.side))
        .ok_or_else(AppError::forbidden)?;
    let start = parse_date("start_date", "评价开始日期", &p.start_date)?;
    if state.today() < start {
        return Err(AppError::invalid(
            "body",
            format!("评价于{}开始，评价实施后方可提交督导报告", p.start_date),
        ));
    }
    if body.trim().chars().count() < 10 {
        return Err(AppError::invalid("body", "督导报告内容不少于10字"));
    }
    Ok(state
        .store
        .file_report(&me.actor(), &p, side, body.trim(), attachment)
        .await?)
}

// ---------------------------------------------------------------------------------------------
// Candidates

pub const CANDIDATE_HEADERS: [&str; 8] = [
    "姓名",
    "证件类型",
    "证件号码",
    "性别",
    "文化程度",
    "考生来源",
    "联系电话",
    "申报等级",
];

/// The candidate template (crates/sheets): headers, hints and an example in 填写说明.
pub fn candidate_spec() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "考生名单",
        columns: vec![
            Column::new("name", "姓名").required().example("张三"),
            Column::new("id_type", "证件类型")
                .hint("居民身份证、港澳台居民居住证、护照或其他；留空视为居民身份证")
                .example("居民身份证"),
            Column::new("id_number", "证件号码")
                .required()
                .hint("居民身份证须为18位并通过校验位检查（GB 11643）；请设为文本格式")
                .example("11010519491231002X"),
            Column::new("gender", "性别")
                .required()
                .hint("男或女，须与身份证号码一致")
                .example("女"),
            Column::new("education", "文化程度").example("高中"),
            Column::new("source", "考生来源").example("社会人员"),
            Column::new("phone", "联系电话")
                .hint("11位手机号码")
                .example("13800000000"),
            Column::new("level", "申报等级")
                .required()
                .hint("1至5（五级/初级工为5），须为本计划的等级")
                .example("4"),
        ],
        instructions: vec![
            "一行一名考生，不要修改表头；导入为“全部成功或全部不导入”。",
            "同一人在本计划中重复会被拒绝；已持有同职业同等级证书的考生会被标注。",
        ],
    }
}

/// The score template.
pub fn score_spec() -> sheets::SheetSpec {
    use sheets::Column;
    sheets::SheetSpec {
        title: "成绩",
        columns: vec![
            Column::new("name", "姓名"),
            Column::new("id_number", "证件号码").required(),
            Column::new("theory", "理论").hint("0至100的整数"),
            Column::new("skill", "技能").hint("0至100的整数"),
            Column::new("review", "综合评审").hint("仅二级、一级填写"),
        ],
        instructions: vec!["各项≥60分为合格；导入为“全部成功或全部不导入”。"],
    }
}
pub const ID_TYPES: [&str; 4] = ["居民身份证", "港澳台居民居住证", "护照", "其他"];

/// One candidate as entered in a form or a row of the template.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct CandidateForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub id_type: String,
    #[serde(default)]
    pub id_number: String,
    #[serde(default)]
    pub gender: String,
    #[serde(default)]
    pub education: String,
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub phone: String,
    /// 1..5 or "四级".
    #[serde(default)]
    pub level: String,
}

impl CandidateForm {
    pub fn from_row(r: &sheets::SheetRow) -> CandidateForm {
        let g = |k: &str| r.get(k).to_string();
        CandidateForm {
            name: g("name"),
            id_type: g("id_type"),
            id_number: g("id_number"),
            gender: g("gender"),
            education: g("education"),
            source: g("source"),
            phone: g("phone"),
            level: g("level"),
        }
    }
}

fn parse_level(s: &str) -> Option<Level> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return Level::from_u8(n);
    }
    Level::ALL
        .into_iter()
        .find(|l| l.name() == s || l.name().starts_with(s) || l.name().split('/').any(|x| x == s))
}

/// Validate one candidate against the plan's levels.
pub fn validate_candidate(
    f: &CandidateForm,
    plan_levels: &[Level],
) -> Result<NewCandidate, domain::FieldError> {
    use domain::FieldError as E;
    let name = f.name.trim();
    let n = name.chars().count();
    if n == 0 || n > 50 {
        return Err(E::new("name", "请填写考生姓名（不超过50字）"));
    }
    let id_type = if f.id_type.trim().is_empty() {
        "居民身份证"
    } else {
        f.id_type.trim()
    };
    if !ID_TYPES.contains(&id_type) {
        return Err(E::new(
            "id_type",
            format!("证件类型“{id_type}”无效，应为{}", ID_TYPES.join("、")),
        ));
    }
    let gender = f.gender.trim();
    if !matches!(gender, "男" | "女") {
        return Err(E::new("gender", "性别应为“男”或“女”"));
    }
    let (id_number, id_masked) = if id_type == "居民身份证" {
        let id = IdNumber::parse(&f.id_number).map_err(|e| E::new("id_number", e.to_string()))?;
        if id.gender().name() != gender {
            return Err(E::new(
                "gender",
                format!("性别与身份证号码不符（号码显示为{}）", id.gender().name()),
            ));
        }
        (id.as_str().to_string(), id.masked())
    } else {
        let s = f.id_number.trim().to_uppercase();
        let ok =
            (5..=30).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !ok {
            return Err(E::new("id_number", "证件号码应为5至30位字母或数字"));
        }
        let masked = format!("{}****{}", &s[..2], &s[s.len() - 2..]);
        (s, masked)
    };
    let phone = f.phone.trim();
    if !phone.is_empty()
        && !(phone.len() == 11
            && phone.starts_with('1')
            && phone.chars().all(|c| c.is_ascii_digit()))
    {
        return Err(E::new("phone", "联系电话应为11位手机号码"));
    }
    let level = parse_level(&f.level).ok_or_else(|| E::new("level", "申报等级应为1至5"))?;
    if !plan_levels.contains(&level) {
        return Err(E::new(
            "level",
            format!("本计划不含{}，不能报名该等级", level.name()),
        ));
    }
    if f.education.trim().chars().count() > 20 || f.source.trim().chars().count() > 50 {
        return Err(E::new("education", "文化程度或考生来源过长"));
    }
    Ok(NewCandidate {
        name: name.to_string(),
        id_type: id_type.to_string(),
        id_number,
        id_masked,
        gender: gender.to_string(),
        education: f.education.trim().to_string(),
        source: f.source.trim().to_string(),
        phone: phone.to_string(),
        level: level.number() as i64,
    })
}

/// A problem in one row of an import (row = spreadsheet row number, header = 1).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub message: String,
}

pub const ROW_ERROR_HEADERS: [&str; 3] = ["行号", "字段", "问题"];

/// Plans of an evaluation that may take candidates: city-confirmed, results not yet published.
async fn plan_for_evaluation(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
) -> Result<Plan, AppError> {
    me.may(Action::CandidateEnter)?;
    let p = state.store.plan(&me.scope(), plan_id).await?;
    check_evaluation_may_start(p.status()).map_err(refused)?;
    if p.results_status != "none" {
        return Err(AppError::Conflict("成绩已公示，考生名单不能再变更".into()));
    }
    Ok(p)
}

pub async fn add_candidate(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    f: &CandidateForm,
) -> Result<String, AppError> {
    let p = plan_for_evaluation(state, me, plan_id).await?;
    let c = validate_candidate(f, &p.levels())?;
    let hash = state.store.id_hash(&c.id_number)?;
    if state
        .store
        .plan_candidate_hashes(p.id)
        .await?
        .contains(&hash)
    {
        return Err(AppError::invalid(
            "id_number",
            "该考生已在本计划中（同一人不能重复报名）",
        ));
    }
    let certified = state
        .store
        .certified_hashes(&p.occupation_code, &[c.level])
        .await?;
    let flag = if certified.contains(&(hash, c.level)) {
        "已持有同职业同等级证书".to_string()
    } else {
        String::new()
    };
    state
        .store
        .add_candidates(&me.actor(), &p, &[c], std::slice::from_ref(&flag), "form")
        .await?;
    Ok(flag)
}

/// Attach an optional photo (JPEG/PNG) to a candidate.
pub async fn candidate_photo(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    candidate_id: i64,
    file: &UploadedFile,
) -> Result<i64, AppError> {
    let p = plan_for_evaluation(state, me, plan_id).await?;
    state
        .store
        .set_candidate_photo(&me.actor(), &p, candidate_id, file)
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(m) => AppError::invalid("photo", m),
            other => other.into(),
        })
}

/// Rows above this run as a background job with progress; below, the answer is immediate.
pub const BACKGROUND_ROWS: usize = 2_000;
pub const MAX_IMPORT_ROWS: usize = 200_000;

/// Validate every row, then insert all in one transaction — or nothing, with a per-row report.
pub async fn run_candidate_import(
    state: &AppState,
    actor: &store::Actor,
    p: &Plan,
    rows: Vec<sheets::SheetRow>,
    progress: Option<&crate::jobs::Progress>,
) -> Result<(usize, usize), Vec<RowError>> {
    let levels = p.levels();
    let mut errors = vec![];
    let mut list = Vec::with_capacity(rows.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let existing = state
        .store
        .plan_candidate_hashes(p.id)
        .await
        .map_err(|e| vec![internal_row(e)])?;
    let lv: Vec<i64> = levels.iter().map(|l| l.number() as i64).collect();
    let certified = state
        .store
        .certified_hashes(&p.occupation_code, &lv)
        .await
        .map_err(|e| vec![internal_row(e)])?;
    let mut flags = Vec::with_capacity(rows.len());
    let total = rows.len();
    for (i, r) in rows.iter().enumerate() {
        let row = r.row as usize;
        match validate_candidate(&CandidateForm::from_row(r), &levels) {
            Ok(c) => {
                let h = state
                    .store
                    .id_hash(&c.id_number)
                    .map_err(|e| vec![internal_row(e)])?;
                if let Some(first) = seen.get(&h) {
                    errors.push(RowError {
                        row,
                        field: "证件号码".into(),
                        message: format!("与第{first}行为同一考生（同一人在本计划中重复）"),
                    });
                } else if existing.contains(&h) {
                    errors.push(RowError {
                        row,
                        field: "证件号码".into(),
                        message: "该考生已在本计划中".into(),
                    });
                } else {
                    seen.insert(h.clone(), row);
                    flags.push(if certified.contains(&(h, c.level)) {
                        "已持有同职业同等级证书".to_string()
                    } else {
                        String::new()
                    });
                    list.push(c);
                }
            }
            Err(e) => errors.push(RowError {
                row,
                field: field_label(e.field).into(),
                message: e.message,
            }),
        }
        if let Some(p) = progress {
            if i % 1000 == 0 {
                p.set(i as i64, total as i64 * 2, "正在校验").await;
            }
        }
        if errors.len() >= 1000 {
            errors.push(RowError {
                row: 0,
                field: String::new(),
                message: "错误超过1000处，已停止检查，请修正后重新导入".into(),
            });
            break;
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    if let Some(p) = progress {
        p.set(total as i64, total as i64 * 2, "校验通过，正在保存")
            .await;
    }
    let flagged = flags.iter().filter(|f| !f.is_empty()).count();
    let n = state
        .store
        .add_candidates(actor, p, &list, &flags, "xlsx")
        .await
        .map_err(|e| vec![internal_row(e)])?;
    Ok((n, flagged))
}

fn internal_row(e: store::StoreError) -> RowError {
    RowError {
        row: 0,
        field: String::new(),
        message: match e {
            store::StoreError::Duplicate(m) | store::StoreError::Invalid(m) => m,
            other => {
                tracing::error!(error = %other, "candidate import");
                "导入失败，全部数据未导入，请稍后重试".into()
            }
        },
    }
}

fn field_label(f: &str) -> &'static str {
    match f {
        "name" => "姓名",
        "id_type" => "证件类型",
        "id_number" => "证件号码",
        "gender" => "性别",
        "education" => "文化程度",
        "phone" => "联系电话",
        "level" => "申报等级",
        "theory_score" => "理论",
        "skill_score" => "技能",
        "review_score" => "综合评审",
        _ => "其他",
    }
}

/// What an import request answers.
pub enum ImportStart {
    Done {
        imported: usize,
        flagged: usize,
    },
    Failed(Vec<RowError>),
    /// A background job (crate::jobs): progress at /jobs/{id} and GET /api/v1/jobs/{id}.
    Background(i64),
}

pub async fn start_candidate_import(
    state: &AppState,
    me: &Authed,
    plan_id: i64,
    bytes: &[u8],
) -> Result<ImportStart, AppError> {
    let p = plan_for_evaluation(state, me, plan_id).await?;
    let rows = sheets::read(&candidate_spec(), bytes)
        .map_err(|e| AppError::invalid("file", e.to_string()))?;
    if rows.is_empty() {
        return Err(AppError::invalid("file", "模板中没有考生数据"));
    }
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(AppError::invalid(
            "file",
            format!("一次最多导入{MAX_IMPORT_ROWS}名考生，请分批导入"),
        ));
    }
    if rows.len() < BACKGROUND_ROWS {
        return Ok(
            match run_candidate_import(state, &me.actor(), &p, rows, None).await {
                Ok((imported, flagged)) => ImportStart::Done { imported, flagged },
                Err(errors) => ImportStart::Failed(errors),
            },
        );
    }
    let st = state.clone();
    let actor = me.actor();
    let total = rows.len() as i64;
    let job = crate::jobs::spawn_job(
        &state.store,
        &me.actor(),
        "candidate_import",
        Some(p.institution_id),
        move |progress| async move {
            match run_candidate_import(&st, &actor, &p, rows, Some(&progress)).await {
                Ok((n, f)) => {
                    progress.set(total * 2, total * 2, "已完成").await;
                    Ok(crate::jobs::JobOutcome::new(format!(
                        "已导入{n}名考生（{f}名已持有同职业同等级证书，已标注）"
                    ))
                    .link(format!("/plans/{}/candidates", p.id))
                    .with("imported", n as i64)
                    .with("flagged", f as i64))
                }
                Err(errors) => {
                    let mut out = crate::jobs::JobOutcome::new(format!(
                        "发现{}处错误，全部数据未导入",
                        errors.len()
                    ))
                    .with("errors", errors.len() as i64);
                    // The per-row report becomes a document of the plan, downloadable from the job page.
                    if let Ok(bytes) = error_report_xlsx(&errors) {
                        let doc = st
                            .store
                            .add_document(
                                &actor,
                                store::NewDocument {
                                    owner_type: "plan".into(),
                                    owner_id: p.id,
                                    institution_id: Some(p.institution_id),
                                    district_code: Some(p.district_code.clone()),
                                    kind: "import_report".into(),
                                    filename: "考生导入错误报告.xlsx".into(),
                                    retention_until: None,
                                },
                                &bytes,
                            )
                            .await;
                        if let Ok(d) = doc {
                            out = out.report_url(format!("/documents/{}", d.id));
                        }
                    }
                    Err(out)
                }
            }
        },
    )
    .await?;
    Ok(ImportStart::Background(job))
}

pub fn error_report_xlsx(errors: &[RowError]) -> Result<Vec<u8>, AppError> {
    let rows: Vec<Vec<String>> = errors
        .iter()
        .map(|e| {
            vec![
                if e.row == 0 {
                    "-".into()
                } else {
                    e.row.to_string()
                },
                e.field.clone(),
                e.message.clone(),
            ]
        })
        .collect();
    sheets::write_report("错误报告", &ROW_ERROR_HEADERS, &rows)
        .map_err(|e| AppError::Internal(e.to_string()))
}

pub fn candidate_template() -> Result<Vec<u8>, AppError> {
    sheets::template(&candidate_spec()).map_err(|e| AppError::Internal(e.to_string()))
}

// ---------------------------------------------------------------------------------------------
// Results

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
    if p.results_status != "none" {
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
    if p.results_status != "publicised" {
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
