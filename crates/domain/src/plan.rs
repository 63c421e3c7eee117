//! 二、评价管理: electronic filing, the evaluation work plan (评价工作计划) state machine,
//! supervision (督导责任书 signed by three parties) and results. Pure rules, no I/O.
//!
//! Plan flow (二(二)): the institution drafts and submits → the district records the paper copy
//! (who, when) → the district approves, returns or rejects → the institution enters the
//! approved plan on the platform → the city confirms (认可). Only then may the evaluation
//! start (candidates, supervision letter, results). A change after approval makes a new
//! revision that goes through approval again.

use std::fmt;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::account::FieldError;
use crate::occupation::Level;
use crate::policy::{component_passes, Policy, Refusal};
use crate::Role;

fn refusal(rule: &'static str, clause: &str, message: impl Into<String>) -> Refusal {
    Refusal {
        rule,
        clause: clause.to_string(),
        message: message.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Electronic filing (电子备案), 二(二)

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EfilingStatus {
    /// Nothing uploaded yet.
    Missing,
    /// Uploaded, waiting for the district.
    Submitted,
    /// The district sent it back for correction.
    Returned,
    /// The district confirmed it: plans may be submitted.
    Confirmed,
}

impl EfilingStatus {
    pub const ALL: [EfilingStatus; 4] = [
        EfilingStatus::Missing,
        EfilingStatus::Submitted,
        EfilingStatus::Returned,
        EfilingStatus::Confirmed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            EfilingStatus::Missing => "missing",
            EfilingStatus::Submitted => "submitted",
            EfilingStatus::Returned => "returned",
            EfilingStatus::Confirmed => "confirmed",
        }
    }
    pub fn parse(s: &str) -> EfilingStatus {
        match s {
            "submitted" => EfilingStatus::Submitted,
            "returned" => EfilingStatus::Returned,
            "confirmed" => EfilingStatus::Confirmed,
            _ => EfilingStatus::Missing,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            EfilingStatus::Missing => "未上传",
            EfilingStatus::Submitted => "待区县确认",
            EfilingStatus::Returned => "已退回补正",
            EfilingStatus::Confirmed => "已完成电子备案",
        }
    }
}

/// 二(二): "机构完成备案后，需在平台上注册评价机构账号并上传备案材料电子版完成电子备案" —
/// a plan can be submitted only once the district confirmed the electronic filing.
pub fn check_efiling_done(status: EfilingStatus) -> Result<(), Refusal> {
    if status == EfilingStatus::Confirmed {
        Ok(())
    } else {
        Err(refusal(
            "electronic_filing",
            "二(二)",
            format!(
                "机构尚未完成电子备案（当前：{}），须上传备案材料电子版并经区县人社部门确认后方可提交评价工作计划",
                status.label()
            ),
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// The plan state machine

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    Draft,
    Submitted,
    PaperReceived,
    DistrictApproved,
    Returned,
    Rejected,
    Entered,
    CityConfirmed,
    Cancelled,
}

impl PlanStatus {
    pub const ALL: [PlanStatus; 9] = [
        PlanStatus::Draft,
        PlanStatus::Submitted,
        PlanStatus::PaperReceived,
        PlanStatus::DistrictApproved,
        PlanStatus::Returned,
        PlanStatus::Rejected,
        PlanStatus::Entered,
        PlanStatus::CityConfirmed,
        PlanStatus::Cancelled,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            PlanStatus::Draft => "draft",
            PlanStatus::Submitted => "submitted",
            PlanStatus::PaperReceived => "paper_received",
            PlanStatus::DistrictApproved => "district_approved",
            PlanStatus::Returned => "returned",
            PlanStatus::Rejected => "rejected",
            PlanStatus::Entered => "entered",
            PlanStatus::CityConfirmed => "city_confirmed",
            PlanStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<PlanStatus> {
        PlanStatus::ALL.into_iter().find(|p| p.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            PlanStatus::Draft => "草稿",
            PlanStatus::Submitted => "已提交，待区县收取纸质件",
            PlanStatus::PaperReceived => "纸质件已收，待区县审核",
            PlanStatus::DistrictApproved => "区县已审核通过，待机构平台填报",
            PlanStatus::Returned => "已退回修改",
            PlanStatus::Rejected => "区县不予通过",
            PlanStatus::Entered => "已填报，待市级认可",
            PlanStatus::CityConfirmed => "市级已认可，可开展评价",
            PlanStatus::Cancelled => "已取消",
        }
    }
    pub fn is_closed(self) -> bool {
        matches!(self, PlanStatus::Rejected | PlanStatus::Cancelled)
    }
}

impl fmt::Display for PlanStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What an actor asks of a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanCommand {
    /// Institution: change a draft or a returned plan.
    Edit,
    /// Institution: submit to the district (the 3-working-day rule is checked by the caller
    /// with [`crate::policy::check_plan_lead_time`], because it needs the calendar and today).
    Submit,
    /// District: the paper copy arrived.
    RecordPaper,
    DistrictApprove,
    DistrictReturn,
    DistrictReject,
    /// Institution: enter the approved plan on the platform (填报).
    Enter,
    /// City: confirm (认可).
    CityConfirm,
    CityReturn,
    /// Institution: change an approved plan: a new revision that needs approval again.
    Revise,
    Cancel,
}

impl PlanCommand {
    /// The permission-table action this command needs.
    pub fn action(self) -> crate::permission::Action {
        use crate::permission::Action as A;
        match self {
            PlanCommand::Edit | PlanCommand::Submit | PlanCommand::Enter | PlanCommand::Revise => {
                A::PlanEdit
            }
            PlanCommand::RecordPaper
            | PlanCommand::DistrictApprove
            | PlanCommand::DistrictReturn
            | PlanCommand::DistrictReject => A::PlanDistrictReview,
            PlanCommand::CityConfirm | PlanCommand::CityReturn => A::PlanCityConfirm,
            PlanCommand::Cancel => A::PlanCancel,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            PlanCommand::Edit => "edit",
            PlanCommand::Submit => "submit",
            PlanCommand::RecordPaper => "paper",
            PlanCommand::DistrictApprove => "approve",
            PlanCommand::DistrictReturn => "return",
            PlanCommand::DistrictReject => "reject",
            PlanCommand::Enter => "enter",
            PlanCommand::CityConfirm => "confirm",
            PlanCommand::CityReturn => "city_return",
            PlanCommand::Revise => "revise",
            PlanCommand::Cancel => "cancel",
        }
    }
    pub fn parse(s: &str) -> Option<PlanCommand> {
        use PlanCommand::*;
        [
            Edit,
            Submit,
            RecordPaper,
            DistrictApprove,
            DistrictReturn,
            DistrictReject,
            Enter,
            CityConfirm,
            CityReturn,
            Revise,
            Cancel,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            PlanCommand::Edit => "修改",
            PlanCommand::Submit => "提交区县",
            PlanCommand::RecordPaper => "登记纸质件已收取",
            PlanCommand::DistrictApprove => "审核通过",
            PlanCommand::DistrictReturn => "退回修改",
            PlanCommand::DistrictReject => "不予通过",
            PlanCommand::Enter => "平台填报确认",
            PlanCommand::CityConfirm => "市级认可",
            PlanCommand::CityReturn => "市级退回",
            PlanCommand::Revise => "变更计划（需重新审核）",
            PlanCommand::Cancel => "取消计划",
        }
    }
    /// Return, reject and cancel need a reason.
    pub fn needs_reason(self) -> bool {
        matches!(
            self,
            PlanCommand::DistrictReturn
                | PlanCommand::DistrictReject
                | PlanCommand::CityReturn
                | PlanCommand::Cancel
        )
    }
}

/// Refusal of a role that may not give the command (HTTP 403).
pub const RULE_ROLE: &str = "plan_role";
/// Refusal of a command the plan's current status does not allow (HTTP 409, like a stale version:
/// the caller acted on a state that is not, or no longer, the plan's).
pub const RULE_STATE: &str = "plan_state";

/// The transition: (current status, actor role, command) → the new status, or a refusal
/// naming the rule. Jurisdiction (which district, which institution) is the caller's scope.
pub fn transition(status: PlanStatus, role: Role, cmd: PlanCommand) -> Result<PlanStatus, Refusal> {
    use PlanCommand as C;
    use PlanStatus as S;
    // Who may give the command is the permission table's (crate::permission).
    let who_ok = cmd.action().permits(role);
    if !who_ok {
        return Err(refusal(
            RULE_ROLE,
            "二(二)",
            format!("{}不能执行“{}”", role.label(), cmd.label()),
        ));
    }
    let next = match (cmd, status) {
        (C::Edit, S::Draft | S::Returned) => Some(status),
        (C::Submit, S::Draft | S::Returned) => Some(S::Submitted),
        (C::RecordPaper, S::Submitted) => Some(S::PaperReceived),
        (C::DistrictApprove, S::PaperReceived) => Some(S::DistrictApproved),
        (C::DistrictReturn | C::DistrictReject, S::Submitted | S::PaperReceived) => {
            Some(if cmd == C::DistrictReturn {
                S::Returned
            } else {
                S::Rejected
            })
        }
        (C::Enter, S::DistrictApproved) => Some(S::Entered),
        (C::CityConfirm, S::Entered) => Some(S::CityConfirmed),
        (C::CityReturn, S::Entered) => Some(S::Returned),
        (C::Revise, S::DistrictApproved | S::Entered | S::CityConfirmed) => Some(S::Draft),
        (C::Cancel, s) if !s.is_closed() => Some(S::Cancelled),
        _ => None,
    };
    next.ok_or_else(|| {
        let hint = match (cmd, status) {
            (C::DistrictApprove, S::Submitted) => "：须先登记纸质版评价工作计划已收取",
            (C::Enter, _) => "：须经区县人社部门审核通过后方可在平台填报",
            (C::CityConfirm, _) => "：须由区县审核通过并经机构平台填报后方可认可",
            _ => "",
        };
        refusal(
            RULE_STATE,
            "二(二)",
            format!(
                "计划当前状态为“{}”，不能执行“{}”{}",
                status.label(),
                cmd.label(),
                hint
            ),
        )
    })
}

/// 二(二): "经区县(市)人社部门审核通过后 … 并经市级人社部门认可，方可开展评价工作".
/// Everything about the evaluation (candidates, signing, results) checks this first.
pub fn check_evaluation_may_start(status: PlanStatus) -> Result<(), Refusal> {
    if status == PlanStatus::CityConfirmed {
        Ok(())
    } else {
        Err(refusal(
            "plan_city_confirmation",
            "二(二)",
            format!(
                "评价工作计划须经区县人社部门审核通过并经市级人社部门认可后方可开展评价工作（当前：{}）",
                status.label()
            ),
        ))
    }
}

/// 二(二): the online submission must come before the evaluation starts. The 3-working-day
/// rule applies to the paper plan (see [`check_paper_receipt_date`]), not to this.
pub fn check_online_submission_before_start(
    today: NaiveDate,
    start: NaiveDate,
) -> Result<(), Refusal> {
    if today < start {
        return Ok(());
    }
    Err(refusal(
        "plan_online_before_start",
        "二(二)",
        format!(
            "评价工作计划须在评价开始日期（{}）之前在平台提交",
            start.format("%Y年%m月%d日")
        ),
    ))
}

/// 二(二) "评价机构要提前3个工作日向区县（市）人社部门提交纸质版评价工作计划": the district
/// records the day it received the paper plan. It defaults to today; a day in the future is
/// not a receipt, and an earlier day needs a reason (it is recorded after the fact). The
/// working-day rule itself is [`crate::policy::check_plan_lead_time`] on this date.
pub fn check_paper_receipt_date(
    today: NaiveDate,
    received_on: NaiveDate,
    reason: &str,
) -> Result<(), FieldError> {
    if received_on > today {
        return Err(FieldError::new(
            "paper_received_on",
            "纸质件收取日期不能晚于今天",
        ));
    }
    if received_on < today && reason.trim().is_empty() {
        return Err(FieldError::new(
            "reason",
            "登记早于今天的纸质件收取日期，须说明理由",
        ));
    }
    Ok(())
}

/// 二(三) "评价完成后 …": results follow the evaluation. Scores can be entered from the
/// evaluation's start date.
pub fn check_scores_may_be_entered(today: NaiveDate, start: NaiveDate) -> Result<(), Refusal> {
    if today >= start {
        return Ok(());
    }
    Err(refusal(
        "results_after_evaluation",
        "二(三)",
        format!(
            "评价自{}开始，开始前不能录入成绩",
            start.format("%Y年%m月%d日")
        ),
    ))
}

/// 二(三): results are published only after the evaluation's last day.
pub fn check_results_may_be_published(today: NaiveDate, end: NaiveDate) -> Result<(), Refusal> {
    if today > end {
        return Ok(());
    }
    Err(refusal(
        "results_after_evaluation",
        "二(三)",
        format!(
            "评价于{}结束，评价完成后（次日起）方可公示成绩",
            end.format("%Y年%m月%d日")
        ),
    ))
}

// ---------------------------------------------------------------------------------------------
// Plan content

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum EvalForm {
    Theory,
    Skill,
    Review,
}

impl EvalForm {
    pub const ALL: [EvalForm; 3] = [EvalForm::Theory, EvalForm::Skill, EvalForm::Review];
    pub fn as_str(self) -> &'static str {
        match self {
            EvalForm::Theory => "theory",
            EvalForm::Skill => "skill",
            EvalForm::Review => "review",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            EvalForm::Theory => "理论知识考试",
            EvalForm::Skill => "操作技能考核",
            EvalForm::Review => "综合评审",
        }
    }
    pub fn short(self) -> &'static str {
        match self {
            EvalForm::Theory => "理论",
            EvalForm::Skill => "技能",
            EvalForm::Review => "综合评审",
        }
    }
    pub fn parse(s: &str) -> Option<EvalForm> {
        let s = s.trim();
        EvalForm::ALL
            .into_iter()
            .find(|f| f.as_str() == s || f.short() == s || f.label() == s)
    }
}

/// "theory,skill" ⇄ forms.
pub fn parse_forms(s: &str) -> Result<Vec<EvalForm>, FieldError> {
    let mut out = vec![];
    for p in s
        .split([',', '，', '、', ' '])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let f = EvalForm::parse(p)
            .ok_or_else(|| FieldError::new("forms", format!("评价方式“{p}”无效")))?;
        if !out.contains(&f) {
            out.push(f);
        }
    }
    out.sort_by_key(|f| *f as u8);
    Ok(out)
}

pub fn forms_to_string(forms: &[EvalForm]) -> String {
    forms
        .iter()
        .map(|f| f.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

pub fn forms_label(forms: &[EvalForm]) -> String {
    forms
        .iter()
        .map(|f| f.short())
        .collect::<Vec<_>>()
        .join("、")
}

/// The content of a plan (二(二)3) as the institution fills it in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanContent {
    pub occupation_id: i64,
    pub levels: Vec<Level>,
    pub forms: Vec<EvalForm>,
    pub start_date: NaiveDate,
    pub end_date: NaiveDate,
    pub venue: String,
    pub expected_candidates: i64,
    /// 考评员, one per line or separated by "、".
    pub examiners: String,
    /// 内部督导员.
    pub internal_supervisor: String,
}

/// Field checks of a plan, given the levels the institution is filed for in that occupation
/// (`None` = not filed for the occupation at all).
pub fn validate_plan(c: &PlanContent, filed_levels: Option<&[Level]>) -> Result<(), FieldError> {
    let Some(filed) = filed_levels else {
        return Err(FieldError::new(
            "occupation",
            "本机构未备案该职业（工种），只能为已备案的职业（工种）制定评价计划",
        ));
    };
    if c.levels.is_empty() {
        return Err(FieldError::new("levels", "请至少选择一个等级"));
    }
    if let Some(l) = c.levels.iter().find(|l| !filed.contains(l)) {
        return Err(FieldError::new(
            "levels",
            format!(
                "本机构该职业（工种）未备案{}，只能评价已备案的等级",
                l.name()
            ),
        ));
    }
    if c.forms.is_empty() {
        return Err(FieldError::new("forms", "请至少选择一种评价方式"));
    }
    if c.forms.contains(&EvalForm::Review)
        && !c.levels.iter().any(|l| l.needs_comprehensive_review())
    {
        return Err(FieldError::new(
            "forms",
            "综合评审仅适用于二级/技师和一级/高级技师",
        ));
    }
    if c.end_date < c.start_date {
        return Err(FieldError::new("end_date", "结束日期不能早于开始日期"));
    }
    if (c.end_date - c.start_date).num_days() > 60 {
        return Err(FieldError::new(
            "end_date",
            "一次评价的实施期不宜超过60天，请分批制定计划",
        ));
    }
    if c.venue.trim().chars().count() < 4 {
        return Err(FieldError::new("venue", "请填写评价场地的详细地址"));
    }
    if !(1..=100_000).contains(&c.expected_candidates) {
        return Err(FieldError::new(
            "expected_candidates",
            "预计考生人数应在1至100000之间",
        ));
    }
    if c.examiners.trim().is_empty() {
        return Err(FieldError::new("examiners", "请填写考评员"));
    }
    if c.internal_supervisor.trim().is_empty() {
        return Err(FieldError::new("internal_supervisor", "请填写内部督导员"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Supervision (二(三))

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Party {
    City,
    District,
    Institution,
}

impl Party {
    pub const ALL: [Party; 3] = [Party::City, Party::District, Party::Institution];
    pub fn as_str(self) -> &'static str {
        match self {
            Party::City => "city",
            Party::District => "district",
            Party::Institution => "institution",
        }
    }
    pub fn parse(s: &str) -> Option<Party> {
        Party::ALL.into_iter().find(|p| p.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            Party::City => "市级督导员",
            Party::District => "区县督导员",
            Party::Institution => "评价机构",
        }
    }
}

/// Relations that exclude a supervisor (回避): 亲属、师生、师徒、同事.
pub const RELATION_KINDS: [&str; 4] = ["亲属", "师生", "师徒", "同事"];

/// A candidate supervisor as the conflict check sees them.
pub struct SupervisorFacts<'a> {
    pub institution_id: Option<i64>,
    pub employer: &'a str,
    /// Relations recorded between this supervisor and the plan's institution.
    pub relations: &'a [String],
}

/// 二(三) and the national recusal rule: nobody from the institution, nobody related to it.
pub fn check_supervisor_conflict(
    s: &SupervisorFacts<'_>,
    institution_id: i64,
    institution_name: &str,
) -> Result<(), Refusal> {
    let from_inst = s.institution_id == Some(institution_id)
        || (!s.employer.trim().is_empty() && s.employer.trim() == institution_name.trim());
    if from_inst {
        return Err(refusal(
            "supervisor_recusal",
            "二(三)",
            "督导人员不得来自被督导的评价机构（回避）",
        ));
    }
    if let Some(k) = s.relations.first() {
        return Err(refusal(
            "supervisor_recusal",
            "二(三)",
            format!("该督导人员与被督导机构存在{k}关系，须回避"),
        ));
    }
    Ok(())
}

/// 二(三): "督导责任书经三方签字认可后，本次评价过程视为有效".
pub fn evaluation_valid(signed: &[Party]) -> bool {
    Party::ALL.iter().all(|p| signed.contains(p))
}

pub fn check_evaluation_valid(signed: &[Party]) -> Result<(), Refusal> {
    if evaluation_valid(signed) {
        return Ok(());
    }
    let missing: Vec<&str> = Party::ALL
        .iter()
        .filter(|p| !signed.contains(p))
        .map(|p| p.label())
        .collect();
    Err(refusal(
        "supervision_letter",
        "二(三)",
        format!(
            "督导责任书尚缺{}签字，三方签字认可前本次评价无效",
            missing.join("、")
        ),
    ))
}

/// The facts printed in a 督导责任书.
pub struct LetterFacts<'a> {
    pub plan_no: &'a str,
    pub revision: i64,
    pub institution: &'a str,
    pub occupation: &'a str,
    pub levels: &'a str,
    pub forms: &'a str,
    pub start_date: &'a str,
    pub end_date: &'a str,
    pub venue: &'a str,
    pub city_supervisor: &'a str,
    pub district_supervisor: &'a str,
    pub internal_supervisor: &'a str,
}

/// The canonical text of the letter: what is hashed and signed. Line endings are `\n`, no
/// trailing spaces, so the hash is reproducible from the facts.
pub fn supervision_letter_text(f: &LetterFacts<'_>) -> String {
    format!(
        "督导责任书\n\
计划编号：{}（第{}版）\n\
评价机构：{}\n\
职业（工种）：{}\n\
等级：{}\n\
评价方式：{}\n\
评价时间：{} 至 {}\n\
评价场地：{}\n\
市级督导员：{}\n\
区县督导员：{}\n\
机构内部督导员：{}\n\
依据郑人社办〔2022〕87号 二(三)，市级人社部门（督导组）和区县（市）人社部门各派遣一名督导人员实施外部督导。\n\
三方承诺：督导人员依规履行督导职责，如实记录评价过程，遵守回避规定；评价机构严格按照备案范围和评价工作计划组织实施，接受督导。\n\
本责任书经市级督导员、区县督导员和评价机构三方签字认可后，本次评价过程视为有效。\n",
        f.plan_no,
        f.revision,
        f.institution,
        f.occupation,
        f.levels,
        f.forms,
        f.start_date,
        f.end_date,
        f.venue,
        f.city_supervisor,
        f.district_supervisor,
        f.internal_supervisor
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The message a party signs: binds the letter hash to the party, the signer and the time.
pub fn signature_message(letter_hash: &str, party: Party, signer: &str, at: &str) -> String {
    format!(
        "skilleval-supervision-letter\n{letter_hash}\n{}\n{signer}\n{at}",
        party.as_str()
    )
}

// ---------------------------------------------------------------------------------------------
// Results (二(三); national: a component passes at ≥ 60, 综合评审 for levels 2 and 1)

/// Which components a candidate of `level` sits in a plan evaluated by `forms`.
pub fn required_components(forms: &[EvalForm], level: Level) -> Vec<EvalForm> {
    forms
        .iter()
        .copied()
        .filter(|f| *f != EvalForm::Review || level.needs_comprehensive_review())
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ResultOutcome {
    pub passed: bool,
    /// Components below the pass score.
    pub failed: Vec<EvalForm>,
}

/// Scores out of 100 per component: every required component must be present; the candidate
/// passes when each reaches the pass score. A score given for a component that does not apply
/// (综合评审 below level 2) is refused, not silently ignored.
pub fn evaluate_result(
    policy: &Policy,
    forms: &[EvalForm],
    level: Level,
    theory: Option<u32>,
    skill: Option<u32>,
    review: Option<u32>,
) -> Result<ResultOutcome, FieldError> {
    let required = required_components(forms, level);
    let mut failed = vec![];
    for (form, score) in [
        (EvalForm::Theory, theory),
        (EvalForm::Skill, skill),
        (EvalForm::Review, review),
    ] {
        let field = match form {
            EvalForm::Theory => "theory_score",
            EvalForm::Skill => "skill_score",
            EvalForm::Review => "review_score",
        };
        match (required.contains(&form), score) {
            (true, None) => {
                return Err(FieldError::new(
                    field,
                    format!("请填写{}成绩", form.short()),
                ))
            }
            (false, Some(_)) => {
                let why = if form == EvalForm::Review {
                    "综合评审仅适用于二级/技师和一级/高级技师"
                } else {
                    "本计划不含该评价方式"
                };
                return Err(FieldError::new(
                    field,
                    format!("{}成绩不适用：{why}", form.short()),
                ));
            }
            (true, Some(s)) if s > 100 => {
                return Err(FieldError::new(
                    field,
                    format!("{}成绩应在0至100之间", form.short()),
                ))
            }
            (true, Some(s)) => {
                if !component_passes(policy, s) {
                    failed.push(form);
                }
            }
            (false, None) => {}
        }
    }
    Ok(ResultOutcome {
        passed: failed.is_empty(),
        failed,
    })
}

/// Mask a name for public lists: keep the first character ("张*", "欧阳**").
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => {
            let rest = chars.count().max(1);
            format!("{first}{}", "*".repeat(rest))
        }
        None => String::new(),
    }
}

crate::code_enum! {
    /// 评价结果状态 (二(三)): where a plan's results stand.
    pub enum ResultsStatus("评价结果状态") {
        /// 未公示: results are being entered.
        None = "none", "未公示";
        /// 公示中.
        Publicised = "publicised", "公示中";
        /// 已上报市级: the city may generate certificate data.
        Submitted = "submitted", "已上报市级";
    }
}
crate::impl_code!(PlanStatus, "计划状态");
crate::impl_code!(EfilingStatus, "电子备案状态");

#[cfg(test)]
mod tests {
    use super::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn plan_online_submission_before_start() {
        assert!(check_online_submission_before_start(day(2026, 12, 7), day(2026, 12, 8)).is_ok());
        let r =
            check_online_submission_before_start(day(2026, 12, 8), day(2026, 12, 8)).unwrap_err();
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("plan_online_before_start", "二(二)")
        );
    }

    #[test]
    fn paper_receipt_date_defaults_to_today_earlier_needs_reason() {
        let today = day(2026, 12, 2);
        assert!(check_paper_receipt_date(today, today, "").is_ok());
        assert_eq!(
            check_paper_receipt_date(today, day(2026, 12, 1), "")
                .unwrap_err()
                .field,
            "reason"
        );
        assert!(check_paper_receipt_date(today, day(2026, 12, 1), "补录").is_ok());
        assert_eq!(
            check_paper_receipt_date(today, day(2026, 12, 3), "x")
                .unwrap_err()
                .field,
            "paper_received_on"
        );
    }

    #[test]
    fn results_after_evaluation() {
        let (start, end) = (day(2026, 12, 8), day(2026, 12, 9));
        let r = check_scores_may_be_entered(day(2026, 12, 2), start).unwrap_err();
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("results_after_evaluation", "二(三)")
        );
        assert!(check_scores_may_be_entered(start, start).is_ok());
        assert!(check_results_may_be_published(end, end).is_err());
        assert!(check_results_may_be_published(day(2026, 12, 10), end).is_ok());
    }
    use crate::calendar::HolidayCalendar;
    use crate::policy::{check_plan_lead_time, PlanLeadError};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    /// The named rule test at domain level: 3 full working days between submission and
    /// start, counted on the State Council calendar including 调休 working days.
    #[test]
    fn plan_three_working_days_rule() {
        let p = Policy::zhengzhou_2022();
        let cal = HolidayCalendar::builtin();
        // Ordinary week: Monday 2026-03-16 start → Wed/Thu/Fri must be free → Tuesday is last.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 3, 10), d(2026, 3, 16)).is_ok());
        match check_plan_lead_time(&p, &cal, d(2026, 3, 11), d(2026, 3, 16)) {
            Err(PlanLeadError::Refused(r)) => {
                assert_eq!(r.rule, "plan_min_working_days");
                assert!(r.to_string().contains("二(二)"), "{r}");
            }
            other => panic!("expected a refusal, got {other:?}"),
        }
        // National Day 2026: 10-01..10-07 off, Saturday 10-10 is a make-up working day.
        // Start Monday 10-12: working days before it are 10-10 (Sat), 10-09, 10-08.
        // So the last submission day is 10-07 (a holiday); the last working day is 09-30.
        assert_eq!(
            cal.latest_submission_date(d(2026, 10, 12), 3).unwrap(),
            d(2026, 10, 7)
        );
        assert_eq!(
            cal.latest_working_submission_date(d(2026, 10, 12), 3)
                .unwrap(),
            d(2026, 9, 30)
        );
        assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 30), d(2026, 10, 12)).is_ok());
        // Submitting on 10-08 leaves only 10-09 and 10-10 strictly between → refused.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 8), d(2026, 10, 12)).is_err());
        // Start Tuesday 10-13: working days before are 10-12, 10-10 (make-up Saturday), 10-09:
        // submitting on 10-08 is in time only because the Saturday counts.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 8), d(2026, 10, 13)).is_ok());
        assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 9), d(2026, 10, 13)).is_err());
        // Sunday 2026-09-20 is a make-up working day: start Wed 09-23 needs 09-22, 09-21, 09-20;
        // submitting on Saturday 09-19 is in time, on Sunday 09-20 it is not.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 19), d(2026, 9, 23)).is_ok());
        assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 20), d(2026, 9, 23)).is_err());
        // A year outside 2000–2100 is an error, never a guess.
        assert!(matches!(
            check_plan_lead_time(&p, &cal, d(2101, 1, 4), d(2101, 1, 20)),
            Err(PlanLeadError::Calendar(_))
        ));
    }

    #[test]
    fn plan_workflow_needs_district_then_city() {
        use PlanCommand as C;
        use PlanStatus as S;
        let s = transition(S::Draft, Role::Institution, C::Submit).unwrap();
        assert_eq!(s, S::Submitted);
        // Approval before the paper copy is recorded is refused, naming 二(二).
        let e = transition(s, Role::District, C::DistrictApprove).unwrap_err();
        assert!(e.to_string().contains("纸质"), "{e}");
        assert!(e.to_string().contains("二(二)"), "{e}");
        let s = transition(s, Role::District, C::RecordPaper).unwrap();
        // The city cannot confirm before the district approved and the institution entered.
        assert!(transition(s, Role::CityCenter, C::CityConfirm).is_err());
        let s = transition(s, Role::District, C::DistrictApprove).unwrap();
        assert!(check_evaluation_may_start(s).is_err());
        assert!(transition(s, Role::CityCenter, C::CityConfirm).is_err());
        assert!(transition(s, Role::District, C::Enter).is_err());
        let s = transition(s, Role::Institution, C::Enter).unwrap();
        assert!(check_evaluation_may_start(s).is_err());
        let s = transition(s, Role::CityDivision, C::CityConfirm).unwrap();
        assert_eq!(s, S::CityConfirmed);
        assert!(check_evaluation_may_start(s).is_ok());
        // A change after approval goes back to draft (a new revision).
        assert_eq!(
            transition(s, Role::Institution, C::Revise).unwrap(),
            S::Draft
        );
        // Cancelled is final.
        let c = transition(S::Draft, Role::Institution, C::Cancel).unwrap();
        assert!(transition(c, Role::Institution, C::Submit).is_err());
        assert!(transition(c, Role::Institution, C::Cancel).is_err());
        // Wrong role.
        assert!(transition(S::Draft, Role::District, C::Submit).is_err());
        assert!(transition(S::Submitted, Role::Institution, C::RecordPaper).is_err());
    }

    #[test]
    fn efiling_must_be_confirmed_before_plans() {
        let e = check_efiling_done(EfilingStatus::Submitted).unwrap_err();
        assert!(e.to_string().contains("二(二)"));
        assert!(check_efiling_done(EfilingStatus::Confirmed).is_ok());
    }

    fn content() -> PlanContent {
        PlanContent {
            occupation_id: 1,
            levels: vec![Level::Four],
            forms: vec![EvalForm::Theory, EvalForm::Skill],
            start_date: d(2026, 12, 7),
            end_date: d(2026, 12, 8),
            venue: "郑州市金水区示范路11号实训楼".into(),
            expected_candidates: 30,
            examiners: "李考评、王考评".into(),
            internal_supervisor: "赵督导".into(),
        }
    }

    #[test]
    fn plan_only_filed_occupations_and_levels() {
        let filed = [Level::Five, Level::Four, Level::Three];
        assert!(validate_plan(&content(), Some(&filed)).is_ok());
        assert_eq!(
            validate_plan(&content(), None).unwrap_err().field,
            "occupation"
        );
        let mut c = content();
        c.levels = vec![Level::Two];
        assert_eq!(validate_plan(&c, Some(&filed)).unwrap_err().field, "levels");
        let mut c = content();
        c.forms.push(EvalForm::Review);
        let e = validate_plan(&c, Some(&filed)).unwrap_err();
        assert_eq!(e.field, "forms");
        let all = Level::ALL;
        c.levels = vec![Level::Two];
        assert!(validate_plan(&c, Some(&all)).is_ok());
    }

    #[test]
    fn results_components_and_pass_score() {
        let p = Policy::zhengzhou_2022();
        let tsr = [EvalForm::Theory, EvalForm::Skill, EvalForm::Review];
        let r = evaluate_result(&p, &tsr, Level::Four, Some(60), Some(59), None).unwrap();
        assert!(!r.passed);
        assert_eq!(r.failed, vec![EvalForm::Skill]);
        assert!(
            evaluate_result(&p, &tsr, Level::Four, Some(60), Some(60), None)
                .unwrap()
                .passed
        );
        // 综合评审 is required for level 2 and refused for level 4.
        assert_eq!(
            evaluate_result(&p, &tsr, Level::Two, Some(90), Some(90), None)
                .unwrap_err()
                .field,
            "review_score"
        );
        assert!(evaluate_result(&p, &tsr, Level::Four, Some(90), Some(90), Some(90)).is_err());
        assert!(evaluate_result(&p, &tsr, Level::Four, Some(101), Some(90), None).is_err());
    }

    #[test]
    fn letter_needs_three_signatures() {
        assert!(!evaluation_valid(&[Party::City, Party::District]));
        let e = check_evaluation_valid(&[Party::Institution]).unwrap_err();
        assert!(e.to_string().contains("市级督导员"));
        assert!(evaluation_valid(&[
            Party::Institution,
            Party::City,
            Party::District
        ]));
    }

    #[test]
    fn supervisor_recusal() {
        let rel = vec!["师徒".to_string()];
        let s = SupervisorFacts {
            institution_id: None,
            employer: "",
            relations: &rel,
        };
        assert!(check_supervisor_conflict(&s, 1, "甲")
            .unwrap_err()
            .to_string()
            .contains("师徒"));
        let s = SupervisorFacts {
            institution_id: None,
            employer: "甲机构",
            relations: &[],
        };
        assert!(check_supervisor_conflict(&s, 1, "甲机构").is_err());
        assert!(check_supervisor_conflict(&s, 1, "乙机构").is_ok());
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name("王"), "王*");
    }
}
