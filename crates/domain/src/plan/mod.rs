//! 二、评价管理: electronic filing, the evaluation work plan (评价工作计划) state machine,
//! supervision (督导责任书 signed by three parties) and results. Pure rules, no I/O.
//!
//! Plan flow (二(二)): the institution drafts and submits → the district records the paper copy
//! (who, when) → the district approves, returns or rejects → the institution enters the
//! approved plan on the platform → the city confirms (认可). Only then may the evaluation
//! start (candidates, supervision letter, results). A change after approval makes a new
//! revision that goes through approval again.

use chrono::NaiveDate;
use serde::Serialize;
use std::fmt;

use crate::account::FieldError;
use crate::policy::Refusal;
use crate::Role;

mod content;
mod results;
mod supervision;

pub use content::{
    forms_label, forms_to_string, parse_forms, validate_plan, EvalForm, PlanContent,
};
pub use results::{evaluate_result, mask_name, required_components, ResultOutcome, ResultsStatus};
pub use supervision::{
    check_evaluation_valid, check_supervisor_conflict, evaluation_valid, sha256_hex,
    signature_message, supervision_letter_text, LetterFacts, Party, SupervisorFacts,
    RELATION_KINDS,
};

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

crate::impl_code!(PlanStatus, "计划状态");
crate::impl_code!(EfilingStatus, "电子备案状态");

#[cfg(test)]
mod tests;
