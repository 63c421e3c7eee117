//! The states of a filing application (备案申请状态), the commands that move it, the facts a
//! decision reads and the effects it returns.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::flow::{Flow, Panel, ReviewMode};
use crate::calendar::PublicityPeriod;
use crate::occupation::Level;
use crate::policy::Refusal;
use crate::role::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilingState {
    Draft,
    Submitted,
    Returned,
    DistrictPassed,
    ExpertsDrawn,
    OnsiteReviewed,
    CityReview,
    Publicity,
    PublicityPaused,
    Filed,
    Rejected,
    Withdrawn,
}

impl FilingState {
    pub const ALL: [FilingState; 12] = [
        FilingState::Draft,
        FilingState::Submitted,
        FilingState::Returned,
        FilingState::DistrictPassed,
        FilingState::ExpertsDrawn,
        FilingState::OnsiteReviewed,
        FilingState::CityReview,
        FilingState::Publicity,
        FilingState::PublicityPaused,
        FilingState::Filed,
        FilingState::Rejected,
        FilingState::Withdrawn,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FilingState::Draft => "draft",
            FilingState::Submitted => "submitted",
            FilingState::Returned => "returned",
            FilingState::DistrictPassed => "district_passed",
            FilingState::ExpertsDrawn => "experts_drawn",
            FilingState::OnsiteReviewed => "onsite_reviewed",
            FilingState::CityReview => "city_review",
            FilingState::Publicity => "publicity",
            FilingState::PublicityPaused => "publicity_paused",
            FilingState::Filed => "filed",
            FilingState::Rejected => "rejected",
            FilingState::Withdrawn => "withdrawn",
        }
    }
    pub fn parse(s: &str) -> Option<FilingState> {
        FilingState::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            FilingState::Draft => "草稿",
            FilingState::Submitted => "待初审",
            FilingState::Returned => "退回补正",
            FilingState::DistrictPassed => "初审通过，待抽取专家",
            FilingState::ExpertsDrawn => "专家已抽取，现场评审中",
            FilingState::OnsiteReviewed => "现场评审完成，待出具初评意见",
            FilingState::CityReview => "市级审核中",
            FilingState::Publicity => "公示中",
            FilingState::PublicityPaused => "公示暂停（异议处理中）",
            FilingState::Filed => "已备案",
            FilingState::Rejected => "未通过",
            FilingState::Withdrawn => "已撤回",
        }
    }
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            FilingState::Filed | FilingState::Rejected | FilingState::Withdrawn
        )
    }
    /// Past the district's acceptance and not finished: holds a slot of the per-district quota.
    pub fn holds_quota_slot(self) -> bool {
        matches!(
            self,
            FilingState::DistrictPassed
                | FilingState::ExpertsDrawn
                | FilingState::OnsiteReviewed
                | FilingState::CityReview
                | FilingState::Publicity
                | FilingState::PublicityPaused
        )
    }
    /// States in which the institution may edit its application.
    pub fn editable(self) -> bool {
        matches!(self, FilingState::Draft | FilingState::Returned)
    }
}

/// A command on an application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Submit,
    Withdraw,
    /// 初审通过.
    Pass,
    /// 退回补正.
    Return,
    Reject,
    /// The draw was made (district): DistrictPassed → ExpertsDrawn.
    RecordDraw,
    /// 书面承诺免现场评估 (enterprise only).
    WaiveOnsite,
    /// On-site review done, every expert's opinion recorded.
    CompleteOnsite,
    /// 初评结果意见 → city.
    DistrictOpinion,
    /// One key of the two-key city review.
    Approve,
    /// 公示异议.
    Object,
    /// Resolve an objection: upheld → rejected; dismissed → publicity resumes.
    ResolveObjection {
        upheld: bool,
    },
    /// Publicity over without open objection → filed.
    Finish,
}

impl Command {
    pub fn parse(s: &str, upheld: bool) -> Option<Command> {
        Some(match s {
            "submit" => Command::Submit,
            "withdraw" => Command::Withdraw,
            "pass" => Command::Pass,
            "return" => Command::Return,
            "reject" => Command::Reject,
            "waive_onsite" => Command::WaiveOnsite,
            "complete_onsite" => Command::CompleteOnsite,
            "opinion" => Command::DistrictOpinion,
            "approve" => Command::Approve,
            "object" => Command::Object,
            "resolve_objection" => Command::ResolveObjection { upheld },
            "finish" => Command::Finish,
            _ => return None,
        })
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Command::Submit => "submit",
            Command::Withdraw => "withdraw",
            Command::Pass => "pass",
            Command::Return => "return",
            Command::Reject => "reject",
            Command::RecordDraw => "draw",
            Command::WaiveOnsite => "waive_onsite",
            Command::CompleteOnsite => "complete_onsite",
            Command::DistrictOpinion => "opinion",
            Command::Approve => "approve",
            Command::Object => "object",
            Command::ResolveObjection { .. } => "resolve_objection",
            Command::Finish => "finish",
        }
    }
    pub fn label(&self) -> &'static str {
        match self {
            Command::Submit => "提交申请",
            Command::Withdraw => "撤回申请",
            Command::Pass => "初审通过",
            Command::Return => "退回补正",
            Command::Reject => "不予通过",
            Command::RecordDraw => "抽取专家",
            Command::WaiveOnsite => "书面承诺免现场评估",
            Command::CompleteOnsite => "现场评审完成",
            Command::DistrictOpinion => "出具初评结果意见",
            Command::Approve => "审核同意",
            Command::Object => "登记公示异议",
            Command::ResolveObjection { upheld: true } => "异议成立，不予备案",
            Command::ResolveObjection { upheld: false } => "异议不成立，恢复公示",
            Command::Finish => "公示期满，完成备案",
        }
    }
    /// The permission-table action this command needs (before the route is considered).
    pub fn action(&self) -> crate::permission::Action {
        use crate::permission::Action as A;
        match self {
            Command::Submit | Command::Withdraw => A::FilingApply,
            // The route decides which of these may act (Flow::organised_by).
            Command::Pass
            | Command::RecordDraw
            | Command::WaiveOnsite
            | Command::CompleteOnsite
            | Command::DistrictOpinion
            | Command::Return
            | Command::Reject => A::FilingReview,
            Command::Approve | Command::Object | Command::ResolveObjection { .. } => {
                A::FilingApprove
            }
            Command::Finish => A::FilingFinish,
        }
    }
    /// Roles that may take this command, from the permission table.
    pub fn roles(&self) -> &'static [Role] {
        self.action().roles()
    }
    /// Whether a written reason is required.
    pub fn needs_reason(&self) -> bool {
        !matches!(
            self,
            Command::Submit | Command::RecordDraw | Command::Approve | Command::Finish
        )
    }
}

/// The current application as the state machine needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppState {
    pub flow: Flow,
    pub state: FilingState,
    pub center_approved: bool,
    pub division_approved: bool,
    /// The applicant attached a written commitment (书面承诺).
    pub has_commitment: bool,
    pub publicity_end: Option<NaiveDate>,
}

/// A 特殊情况申请 the city granted (both keys) that this application may still use: unused and
/// not expired, or already used by this very application (一(一), 一(四)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedException {
    pub id: i64,
    /// The policy key of the limit it lifts.
    pub rule: String,
    /// The occupations it names.
    pub occupations: Vec<i64>,
}

/// One occupation of the application, as the limits see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemFact {
    pub occupation_id: i64,
    pub name: String,
    /// false: 增级别 on an occupation the institution already holds (一(四)): adds a level, not an
    /// occupation.
    pub new_occupation: bool,
}

/// Per occupation: the district's quota as counted now (一(一)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotaFact {
    pub name: String,
    pub occupation_id: i64,
    /// Institutions holding a slot in the district (other than the applicant).
    pub holders: u32,
}

/// Facts gathered by the store for the checks a command runs.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Today in China time (+08:00).
    pub today: Option<NaiveDate>,
    /// This application's occupations.
    pub items: Vec<ItemFact>,
    /// Occupations counted together with this application's: for an initial filing, those of the
    /// applicant's other open and filed filings; for an increment, the new occupations of its
    /// other increments in the same round.
    pub occupations_elsewhere: Vec<i64>,
    /// Exceptions this application may use.
    pub exceptions: Vec<GrantedException>,
    pub levels: Vec<Level>,
    /// Enterprise profile (一(二)1).
    pub legal_person: bool,
    pub employees: u32,
    pub capital_yuan: u64,
    pub quota: Vec<QuotaFact>,
    /// The institution already holds filed occupations: more only through an increment (一(四)).
    pub filed_institution: bool,
    /// 一(四): the increment round this submission belongs to (a March/September window, an extra
    /// round opened by the city, or the round of its first submission when it comes back after
    /// correction); None outside every round.
    pub increment_round: Option<String>,
    /// Labels of the materials the policy requires for this kind that are not uploaded.
    pub missing_materials: Vec<String>,
    /// Every drawn expert has recorded an opinion.
    pub opinions_complete: bool,
    /// The 公示期 that would start today (`Policy::publicity_period`), for the second key and
    /// for resuming after an objection.
    pub publicity: Option<PublicityPeriod>,
    /// 评审方式 given with "complete_onsite".
    pub review_mode: Option<ReviewMode>,
    /// 三(一): why levels above 三级 are accepted at a first filing (city route, at 受理).
    pub high_level_reason: String,
    /// The conclusions of the current panel (for the 初评结果意见).
    pub panel: Panel,
    /// Why the application goes on although most experts said 不通过.
    pub panel_override_reason: String,
    /// Dispatched review supervisors (评审督导) who have not filed their 督导意见.
    pub supervision_opinions_missing: usize,
}

/// What to persist besides the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    CenterKey,
    DivisionKey,
    ClearKeys,
    Waiver,
    StartPublicity {
        period: PublicityPeriod,
    },
    AssignFilingNo,
    SaveOpinion,
    MarkSubmitted,
    /// Record how the review was organised (with the command's reason as the why).
    RecordReviewMode(ReviewMode),
    /// 三(一): the recorded reason for levels above 三级 at a first filing.
    HighLevelReason(String),
    /// The panel's conclusion and, when most experts said 不通过, the written reason.
    PanelConclusion {
        summary: String,
        override_reason: Option<String>,
    },
    /// The application relies on this 特殊情况申请: it is used, by this application only.
    UseException(i64),
    /// 一(四): the increment belongs to this round (kept from its first submission).
    EnterRound(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub to: FilingState,
    pub effects: Vec<Effect>,
    /// Event action name, e.g. "filing.pass".
    pub action: String,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    WrongState(String),
    #[error("请填写理由（{0}须说明理由）")]
    ReasonRequired(&'static str),
    #[error("{}", .0.iter().map(|r| r.to_string()).collect::<Vec<_>>().join("；"))]
    Rules(Vec<Refusal>),
    #[error("{0}")]
    Incomplete(String),
}

impl FilingError {
    pub fn first_rule(&self) -> Option<&Refusal> {
        match self {
            FilingError::Rules(r) => r.first(),
            _ => None,
        }
    }
}
