//! 机构备案 (一、机构备案工作流程): ONE state machine for the four filing kinds.
//!
//! The kinds differ in data, not in code: [`Flow`] says which stages apply (district stage,
//! expert on-site review or waiver, eligibility checks, window, level limits) and
//! [`decide`] walks the same transitions for all of them. Every transition names the roles
//! that may take it and whether a reason is required; it returns the new state and the
//! effects to persist, or an error naming its rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::PublicityPeriod;
use crate::institution::InstitutionKind;
use crate::occupation::Level;
use crate::policy::{self, Policy, Refusal};
use crate::role::Role;

/// The four filing kinds of section 一.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FilingKind {
    /// 社会培训评价组织备案 一(一) (incl. 行业协会/学会, routed to the city).
    SocialOrg,
    /// 企业职业技能等级认定备案 一(二).
    Enterprise,
    /// 专项职业能力考核备案 一(三).
    SpecialAbility,
    /// 职业（工种）增量增级别备案 一(四).
    Increment,
}

impl FilingKind {
    pub const ALL: [FilingKind; 4] = [
        FilingKind::SocialOrg,
        FilingKind::Enterprise,
        FilingKind::SpecialAbility,
        FilingKind::Increment,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            FilingKind::SocialOrg => "social_org",
            FilingKind::Enterprise => "enterprise",
            FilingKind::SpecialAbility => "special_ability",
            FilingKind::Increment => "increment",
        }
    }
    pub fn parse(s: &str) -> Option<FilingKind> {
        FilingKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
    pub fn label(self) -> &'static str {
        match self {
            FilingKind::SocialOrg => "社会培训评价组织备案",
            FilingKind::Enterprise => "企业职业技能等级认定备案",
            FilingKind::SpecialAbility => "专项职业能力考核备案",
            FilingKind::Increment => "增量增级别备案",
        }
    }
    pub fn clause(self) -> &'static str {
        match self {
            FilingKind::SocialOrg => "一(一)",
            FilingKind::Enterprise => "一(二)",
            FilingKind::SpecialAbility => "一(三)",
            FilingKind::Increment => "一(四)",
        }
    }
}

/// Who runs the stages before the city's two-key review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// 区县初审 → 专家抽取/现场评审 → 初评结果意见 → 市级审核.
    District,
    /// 市人社局职建处会同市鉴定中心统一组织开展 (associations, special ability, increment):
    /// the city takes the district's place for 受理, expert draw and review, then the two keys.
    City,
}

impl Route {
    pub const ALL: [Route; 2] = [Route::District, Route::City];
    pub fn as_str(self) -> &'static str {
        match self {
            Route::District => "district",
            Route::City => "city",
        }
    }
    pub fn parse(s: &str) -> Option<Route> {
        match s {
            "district" => Some(Route::District),
            "city" => Some(Route::City),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Route::District => "区县受理",
            Route::City => "市级统一组织评审",
        }
    }
}

/// 评审方式: how the expert review was organised. The district's review of 一(一) is on site
/// (现场勘察并组织评审); the city records which one it chose and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ReviewMode {
    /// 现场评审.
    Onsite,
    /// 书面评审.
    Written,
}

impl ReviewMode {
    pub const ALL: [ReviewMode; 2] = [ReviewMode::Onsite, ReviewMode::Written];
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewMode::Onsite => "onsite",
            ReviewMode::Written => "written",
        }
    }
    pub fn parse(s: &str) -> Option<ReviewMode> {
        match s.trim() {
            "onsite" => Some(ReviewMode::Onsite),
            "written" => Some(ReviewMode::Written),
            _ => None,
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            ReviewMode::Onsite => "现场评审",
            ReviewMode::Written => "书面评审",
        }
    }
}

/// 专家组意见: the conclusions of the drawn experts who took part (declined ones excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Panel {
    /// 通过 or 整改后通过.
    pub pass: u32,
    /// 不通过.
    pub fail: u32,
}

impl Panel {
    /// Count conclusions as recorded by the experts.
    pub fn of<'a>(conclusions: impl IntoIterator<Item = &'a str>) -> Panel {
        let mut p = Panel::default();
        for c in conclusions {
            if c.trim() == "不通过" {
                p.fail += 1;
            } else {
                p.pass += 1;
            }
        }
        p
    }
    pub fn total(self) -> u32 {
        self.pass + self.fail
    }
    /// More than half of the experts said 不通过.
    pub fn fail_majority(self) -> bool {
        self.fail * 2 > self.total()
    }
    /// The panel's conclusion as recorded with the 初评结果意见.
    pub fn summary(self) -> String {
        if self.total() == 0 {
            return "无专家评审（免于现场评估）".into();
        }
        format!(
            "专家组{}（通过{}人，不通过{}人）",
            if self.fail_majority() {
                "多数意见不通过"
            } else {
                "多数意见通过"
            },
            self.pass,
            self.fail
        )
    }
}

/// Which occupation catalogue an application draws from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Catalogue {
    /// 职业（工种）.
    Occupation,
    /// 专项职业能力.
    Special,
}

/// Material kinds of a filing application (key, label). The policy lists which of them each kind
/// must carry before it is submitted (`required_materials`).
pub const MATERIAL_KINDS: &[(&str, &str)] = &[
    ("application_form", "备案申请表"),
    ("qualification", "场地设施、考评人员等条件证明"),
    ("commitment", "书面承诺及佐证材料"),
    ("scheme", "评价方案与题库说明"),
    ("correction", "补正材料"),
    ("review", "评审与审核材料"),
    ("supervision", "督导意见附件"),
    ("other", "其他材料"),
];

impl FilingKind {
    /// Institution kinds whose initial filings are of this kind (for counting filed holders).
    pub fn institution_kinds(self) -> &'static [InstitutionKind] {
        match self {
            FilingKind::SocialOrg => &[
                InstitutionKind::SocialOrg,
                InstitutionKind::Association,
                InstitutionKind::Society,
            ],
            FilingKind::Enterprise => &[InstitutionKind::Enterprise],
            FilingKind::SpecialAbility | FilingKind::Increment => &[],
        }
    }
}

/// What differs between the kinds: data, not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub kind: FilingKind,
    pub route: Route,
    pub catalogue: Catalogue,
    /// Expert draw + review after 初审 (both routes; the organiser differs, see [`Flow::organised_by`]).
    pub onsite_review: bool,
    /// 一(二)2: a written commitment may replace the on-site assessment.
    pub waiver_allowed: bool,
    /// 一(二)1: enterprise eligibility.
    pub enterprise_eligibility: bool,
    /// 一(四): March / September only.
    pub window: bool,
    /// 三(一): a district accepts initial filings for levels 5, 4, 3 only.
    pub district_levels: bool,
    /// 一(四): the stricter incremental occupation limit instead of the general one.
    pub increment_count: bool,
}

impl Flow {
    /// The flow of `kind` for an institution of `inst`.
    pub fn of(kind: FilingKind, inst: InstitutionKind) -> Flow {
        let base = Flow {
            kind,
            route: Route::District,
            catalogue: Catalogue::Occupation,
            onsite_review: true,
            waiver_allowed: false,
            enterprise_eligibility: false,
            window: false,
            district_levels: true,
            increment_count: false,
        };
        match kind {
            FilingKind::SocialOrg if inst.city_handles_directly() => Flow {
                route: Route::City,
                district_levels: false,
                ..base
            },
            FilingKind::SocialOrg => base,
            FilingKind::Enterprise => Flow {
                waiver_allowed: true,
                enterprise_eligibility: true,
                ..base
            },
            FilingKind::SpecialAbility => Flow {
                route: Route::City,
                catalogue: Catalogue::Special,
                district_levels: false,
                ..base
            },
            FilingKind::Increment => Flow {
                route: Route::City,
                district_levels: false,
                window: true,
                increment_count: true,
                ..base
            },
        }
    }

    /// Who organises the stages before the two keys (受理、抽取专家、评审、初评结果意见):
    /// the district on the district route, either city role on the city route (统一组织开展).
    pub fn organised_by(&self, role: Role) -> bool {
        match self.route {
            Route::District => role == Role::District,
            Route::City => role.is_city_officer(),
        }
    }

    /// The stage-organiser's name, for refusals.
    pub fn organiser_label(&self) -> &'static str {
        match self.route {
            Route::District => "区县（市）人社部门",
            Route::City => "市人社局职建处或市职业技能鉴定中心",
        }
    }

    /// The flow as the policy routes it: 一(三) special ability and 一(四) increments go to the
    /// city only while `special_ability_city_only` / `increment_city_only` say so; otherwise
    /// they take the district route (初审, expert draw, on-site review) like a social org.
    pub fn under(self, policy: &Policy) -> Flow {
        let city_only = match self.kind {
            FilingKind::SpecialAbility => policy.special_ability_city_only.value,
            FilingKind::Increment => policy.increment_city_only.value,
            _ => return self,
        };
        if city_only {
            self
        } else {
            Flow {
                route: Route::District,
                onsite_review: true,
                ..self
            }
        }
    }

    /// Which kinds an institution of `inst` may apply for.
    pub fn kind_allowed(kind: FilingKind, inst: InstitutionKind) -> Result<(), String> {
        match (kind, inst) {
            (FilingKind::Enterprise, InstitutionKind::Enterprise) => Ok(()),
            (FilingKind::Enterprise, _) => {
                Err("企业职业技能等级认定备案仅限企业申报（一(二)）".into())
            }
            (FilingKind::SocialOrg, InstitutionKind::Enterprise) => {
                Err("企业请选择“企业职业技能等级认定备案”（一(二)）".into())
            }
            _ => Ok(()),
        }
    }
}

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

/// The occupation limit of 一(一) (initial filings of a quota kind: all the applicant's filings
/// together) or of 一(四) (increments: new occupations per round; 增级别 does not count). Returns the
/// exceptions the application relies on. Kinds outside the quotas have no limit.
pub fn occupation_limit(policy: &Policy, flow: &Flow, f: &Facts) -> Result<Vec<i64>, Refusal> {
    let (rule, check): (&str, fn(&Policy, usize, usize) -> Result<(), Refusal>) =
        if flow.increment_count {
            (
                "increment_max_occupations",
                policy::check_increment_occupation_count,
            )
        } else if policy.quota_applies(flow.kind) {
            (
                "max_occupations_per_applicant",
                policy::check_occupation_count,
            )
        } else {
            return Ok(vec![]);
        };
    let mine: Vec<i64> = f
        .items
        .iter()
        .filter(|i| i.new_occupation || !flow.increment_count)
        .map(|i| i.occupation_id)
        .collect();
    let mut all: Vec<i64> = f.occupations_elsewhere.clone();
    all.extend(mine.iter().copied());
    all.sort_unstable();
    all.dedup();
    let elsewhere = all.iter().filter(|o| !mine.contains(o)).count();
    // Only the occupations of this application can be let through by an exception.
    let exceptions: Vec<&GrantedException> = f
        .exceptions
        .iter()
        .filter(|x| x.rule == rule && x.occupations.iter().any(|o| mine.contains(o)))
        .collect();
    let covered: Vec<i64> = mine
        .iter()
        .copied()
        .filter(|o| exceptions.iter().any(|x| x.occupations.contains(o)))
        .collect();
    let counted = all.iter().filter(|o| !covered.contains(o)).count();
    check(policy, counted, elsewhere)?;
    if check(policy, all.len(), elsewhere).is_ok() {
        return Ok(vec![]);
    }
    Ok(exceptions.iter().map(|x| x.id).collect())
}

/// Checks run when the institution submits (and again, for the quota, at 初审). On success,
/// the effects that record what the submission relies on (exceptions, increment round).
pub fn submission_checks(
    policy: &Policy,
    flow: &Flow,
    f: &Facts,
) -> Result<Vec<Effect>, Vec<Refusal>> {
    let mut out = vec![];
    let mut effects = vec![];
    if f.filed_institution && matches!(flow.kind, FilingKind::SocialOrg | FilingKind::Enterprise) {
        out.push(Refusal {
            rule: "increment_for_filed_institutions",
            clause: policy.increment_months.clause.clone(),
            message: "本机构已备案，新增职业（工种）或等级须通过增量增级别备案申报，不能再提交初次备案申请".into(),
        });
    }
    if !f.missing_materials.is_empty() {
        out.push(Refusal {
            rule: "required_materials",
            clause: policy.required_materials.clause.clone(),
            message: format!(
                "提交{}前须上传：{}",
                flow.kind.label(),
                f.missing_materials.join("、")
            ),
        });
    }
    match occupation_limit(policy, flow, f) {
        Ok(used) => effects.extend(used.into_iter().map(Effect::UseException)),
        Err(r) => out.push(r),
    }
    if flow.window {
        match &f.increment_round {
            Some(round) => effects.push(Effect::EnterRound(round.clone())),
            None => {
                let today = f.today.unwrap_or_default();
                out.push(
                    policy::check_increment_window(policy, today)
                        .err()
                        .unwrap_or_else(|| Refusal {
                            rule: "increment_months",
                            clause: policy.increment_months.clause.clone(),
                            message: "当前不在增量增级别备案申报期内".into(),
                        }),
                );
            }
        }
    }
    if flow.district_levels && flow.route == Route::District {
        if let Err(r) = policy::check_district_initial_levels(policy, &f.levels) {
            out.push(r);
        }
    }
    if flow.enterprise_eligibility {
        if let Err(rs) = policy::check_enterprise_eligibility(
            policy,
            f.legal_person,
            f.employees,
            f.capital_yuan,
        ) {
            out.extend(rs);
        }
    }
    if policy.quota_applies(flow.kind) {
        match quota_checks(policy, f) {
            Ok(used) => effects.extend(used.into_iter().map(Effect::UseException)),
            Err(rs) => out.extend(rs),
        }
    }
    if out.is_empty() {
        effects.dedup();
        Ok(effects)
    } else {
        Err(out)
    }
}

/// 一(一): ≤ N institutions per occupation per district, unless an exception names the occupation.
fn quota_checks(policy: &Policy, f: &Facts) -> Result<Vec<i64>, Vec<Refusal>> {
    let rule = "max_institutions_per_occupation_per_district";
    let mut out = vec![];
    let mut used = vec![];
    for q in &f.quota {
        let exception = f
            .exceptions
            .iter()
            .find(|x| x.rule == rule && x.occupations.contains(&q.occupation_id));
        if let Err(mut r) =
            policy::check_institutions_per_occupation(policy, q.holders, exception.is_some())
        {
            r.message = format!("“{}”：{}", q.name, r.message);
            out.push(r);
        } else if let Some(x) = exception {
            if policy::check_institutions_per_occupation(policy, q.holders, false).is_err()
                && !used.contains(&x.id)
            {
                used.push(x.id);
            }
        }
    }
    if out.is_empty() {
        Ok(used)
    } else {
        Err(out)
    }
}

fn not_organiser(flow: &Flow, role: Role, cmd: &Command) -> FilingError {
    FilingError::Forbidden(format!(
        "本申请（{}）的“{}”由{}办理，{}无权执行",
        flow.route.label(),
        cmd.label(),
        flow.organiser_label(),
        role.label()
    ))
}

/// The review stages belong to the route's organiser (district, or the city for 统一组织开展).
fn organiser_only(
    flow: &Flow,
    role: Role,
    cmd: &Command,
    _s: FilingState,
) -> Result<(), FilingError> {
    if flow.organised_by(role) {
        Ok(())
    } else {
        Err(not_organiser(flow, role, cmd))
    }
}

/// 三(一): levels above the district's initial levels at a first filing on the city route need a
/// recorded reason when the city accepts the application.
fn high_level_reason(
    policy: &Policy,
    flow: &Flow,
    facts: &Facts,
) -> Result<Option<String>, FilingError> {
    if flow.route != Route::City || flow.kind == FilingKind::Increment {
        return Ok(None);
    }
    let rule = &policy.district_initial_levels;
    let high: Vec<&str> = facts
        .levels
        .iter()
        .filter(|l| !rule.value.contains(&l.number()))
        .map(|l| l.name())
        .collect();
    if high.is_empty() {
        return Ok(None);
    }
    let r = facts.high_level_reason.trim();
    if r.is_empty() {
        return Err(FilingError::Rules(vec![Refusal {
            rule: "district_initial_levels",
            clause: rule.clause.clone(),
            message: format!(
                "初次备案申报{}，高于五、四、三级，市级受理时须记录理由",
                high.join("、")
            ),
        }]));
    }
    Ok(Some(r.to_string()))
}

/// The district's review is on site (现场勘察); the city records which way it reviewed.
fn review_mode(flow: &Flow, facts: &Facts) -> Result<ReviewMode, FilingError> {
    match (flow.route, facts.review_mode) {
        (Route::District, None | Some(ReviewMode::Onsite)) => Ok(ReviewMode::Onsite),
        (Route::District, Some(ReviewMode::Written)) => Err(FilingError::Rules(vec![Refusal {
            rule: "district_review_onsite",
            clause: "一(一)".into(),
            message: "区县（市）人社部门应组织现场勘察并评审，不能改为书面评审".into(),
        }])),
        (Route::City, Some(m)) => Ok(m),
        (Route::City, None) => Err(FilingError::Rules(vec![Refusal {
            rule: "city_review_mode",
            clause: flow.kind.clause().into(),
            message: "市级统一组织的评审须记录评审方式（现场评审或书面评审）及理由".into(),
        }])),
    }
}

/// 一(一) "结合专家评审意见": when most experts said 不通过, passing the application on needs a
/// written reason.
fn panel_override(policy: &Policy, facts: &Facts) -> Result<Option<String>, FilingError> {
    let r = facts.panel_override_reason.trim();
    if facts.panel.fail_majority() && policy.expert_panel_fail_needs_reason.value {
        if r.is_empty() {
            return Err(FilingError::Rules(vec![Refusal {
                rule: "expert_panel_fail_needs_reason",
                clause: policy.expert_panel_fail_needs_reason.clause.clone(),
                message: format!(
                    "{}，继续报送须书面说明理由（override_reason）",
                    facts.panel.summary()
                ),
            }]));
        }
        return Ok(Some(r.to_string()));
    }
    Ok((!r.is_empty()).then(|| r.to_string()))
}

fn wrong_state(cmd: &Command, s: FilingState) -> FilingError {
    FilingError::WrongState(format!(
        "当前状态为“{}”，不能执行“{}”",
        s.label(),
        cmd.label()
    ))
}

/// THE transition function: (current application, actor role, command, reason, facts) →
/// new state + effects, or an error naming its rule.
pub fn decide(
    policy: &Policy,
    app: &AppState,
    role: Role,
    cmd: &Command,
    reason: &str,
    facts: &Facts,
) -> Result<Outcome, FilingError> {
    use FilingState as S;
    if !cmd.roles().contains(&role) {
        let who = cmd
            .roles()
            .iter()
            .map(|r| r.label())
            .collect::<Vec<_>>()
            .join("或");
        return Err(FilingError::Forbidden(format!(
            "“{}”只能由{}执行",
            cmd.label(),
            who
        )));
    }
    if cmd.needs_reason() && reason.trim().is_empty() {
        return Err(FilingError::ReasonRequired(cmd.label()));
    }
    let flow = &app.flow.under(policy);
    let s = app.state;
    let out = |to: S, effects: Vec<Effect>| Outcome {
        to,
        effects,
        action: format!("filing.{}", cmd.as_str()),
    };
    let city = role.is_city_officer();
    match cmd {
        Command::Submit => {
            if !s.editable() {
                return Err(wrong_state(cmd, s));
            }
            let relied_on = submission_checks(policy, flow, facts).map_err(FilingError::Rules)?;
            // Both routes are received and reviewed before the two keys; only the organiser differs.
            let mut effects = vec![Effect::ClearKeys, Effect::MarkSubmitted];
            effects.extend(relied_on);
            Ok(out(S::Submitted, effects))
        }
        Command::Withdraw => match s {
            S::Draft | S::Submitted | S::Returned => Ok(out(S::Withdrawn, vec![])),
            _ => Err(wrong_state(cmd, s)),
        },
        Command::Pass => {
            organiser_only(flow, role, cmd, s)?;
            if s != S::Submitted {
                return Err(wrong_state(cmd, s));
            }
            // The quota is re-checked when the district accepts: accepted applications hold a slot.
            let mut effects = vec![];
            if policy.quota_applies(flow.kind) {
                let used = quota_checks(policy, facts).map_err(FilingError::Rules)?;
                effects.extend(used.into_iter().map(Effect::UseException));
            }
            if let Some(r) = high_level_reason(policy, flow, facts)? {
                effects.push(Effect::HighLevelReason(r));
            }
            if flow.onsite_review {
                Ok(out(S::DistrictPassed, effects))
            } else {
                Ok(out(S::OnsiteReviewed, effects))
            }
        }
        Command::Return | Command::Reject => {
            let ok = match s {
                S::Submitted | S::DistrictPassed | S::ExpertsDrawn | S::OnsiteReviewed => {
                    flow.organised_by(role)
                }
                S::CityReview => city,
                _ => false,
            };
            if !ok {
                return Err(if s.is_terminal() || matches!(s, S::Draft | S::Returned) {
                    wrong_state(cmd, s)
                } else {
                    FilingError::Forbidden(format!(
                        "当前状态为“{}”，{}无权执行“{}”",
                        s.label(),
                        role.label(),
                        cmd.label()
                    ))
                });
            }
            let to = if *cmd == Command::Return {
                S::Returned
            } else {
                S::Rejected
            };
            Ok(out(to, vec![Effect::ClearKeys]))
        }
        Command::RecordDraw => match s {
            _ if !flow.organised_by(role) => Err(not_organiser(flow, role, cmd)),
            S::DistrictPassed | S::ExpertsDrawn if flow.onsite_review => {
                Ok(out(S::ExpertsDrawn, vec![]))
            }
            _ => Err(wrong_state(cmd, s)),
        },
        Command::WaiveOnsite => {
            organiser_only(flow, role, cmd, s)?;
            if !flow.waiver_allowed || !policy.enterprise_onsite_waiver_allowed.value {
                return Err(FilingError::Rules(vec![Refusal {
                    rule: "enterprise_onsite_waiver_allowed",
                    clause: policy.enterprise_onsite_waiver_allowed.clause.clone(),
                    message: "仅企业职业技能等级认定备案可凭书面承诺免于现场评估".into(),
                }]));
            }
            if !app.has_commitment {
                return Err(FilingError::Rules(vec![Refusal {
                    rule: "enterprise_onsite_waiver_allowed",
                    clause: policy.enterprise_onsite_waiver_allowed.clause.clone(),
                    message: "企业尚未提交书面承诺及佐证材料，不能免于现场评估".into(),
                }]));
            }
            match s {
                S::DistrictPassed => Ok(out(S::OnsiteReviewed, vec![Effect::Waiver])),
                _ => Err(wrong_state(cmd, s)),
            }
        }
        Command::CompleteOnsite => {
            organiser_only(flow, role, cmd, s)?;
            if s != S::ExpertsDrawn {
                return Err(wrong_state(cmd, s));
            }
            if !facts.opinions_complete {
                return Err(FilingError::Incomplete(
                    "尚有抽取的专家未提交现场评审意见，不能结束现场评审".into(),
                ));
            }
            let mode = review_mode(flow, facts)?;
            Ok(out(S::OnsiteReviewed, vec![Effect::RecordReviewMode(mode)]))
        }
        Command::DistrictOpinion => {
            organiser_only(flow, role, cmd, s)?;
            if s != S::OnsiteReviewed {
                return Err(wrong_state(cmd, s));
            }
            let override_reason = panel_override(policy, facts)?;
            Ok(out(
                S::CityReview,
                vec![
                    Effect::SaveOpinion,
                    Effect::ClearKeys,
                    Effect::PanelConclusion {
                        summary: facts.panel.summary(),
                        override_reason,
                    },
                ],
            ))
        }
        Command::Approve => {
            if s != S::CityReview {
                return Err(wrong_state(cmd, s));
            }
            let (mine, other, key) = match role {
                Role::CityCenter => (
                    app.center_approved,
                    app.division_approved,
                    Effect::CenterKey,
                ),
                _ => (
                    app.division_approved,
                    app.center_approved,
                    Effect::DivisionKey,
                ),
            };
            if mine {
                return Err(FilingError::WrongState(format!(
                    "{}已审核同意，等待另一方审核",
                    role.label()
                )));
            }
            // 一(一): the city sees the review supervisor's 督导意见 before it approves.
            if facts.supervision_opinions_missing > 0
                && policy.review_supervision_joint_dispatch.value
            {
                return Err(FilingError::Rules(vec![Refusal {
                    rule: "review_supervision_joint_dispatch",
                    clause: policy.review_supervision_joint_dispatch.clause.clone(),
                    message: format!(
                        "已派遣的评审督导尚有{}人未提交督导意见，市级暂不能审核同意",
                        facts.supervision_opinions_missing
                    ),
                }]));
            }
            if other {
                let period = facts.publicity.ok_or_else(|| {
                    FilingError::Incomplete("无法计算公示期，请联系平台管理员核对工作日历".into())
                })?;
                Ok(out(
                    S::Publicity,
                    vec![key, Effect::StartPublicity { period }],
                ))
            } else {
                Ok(out(S::CityReview, vec![key]))
            }
        }
        Command::Object => match s {
            S::Publicity => Ok(out(S::PublicityPaused, vec![])),
            _ => Err(wrong_state(cmd, s)),
        },
        Command::ResolveObjection { upheld } => match s {
            S::PublicityPaused if *upheld => Ok(out(S::Rejected, vec![])),
            S::PublicityPaused => {
                let mut eff = vec![];
                if let Some(period) = facts.publicity {
                    eff.push(Effect::StartPublicity { period });
                }
                Ok(out(S::Publicity, eff))
            }
            _ => Err(wrong_state(cmd, s)),
        },
        Command::Finish => {
            if s != S::Publicity {
                return Err(wrong_state(cmd, s));
            }
            let today = facts.today.unwrap_or_default();
            match app.publicity_end {
                Some(end) if today > end => Ok(out(S::Filed, vec![Effect::AssignFilingNo])),
                Some(end) => Err(FilingError::WrongState(format!(
                    "公示期至{}止，期满后方可完成备案",
                    end.format("%Y年%m月%d日")
                ))),
                None => Err(FilingError::WrongState("公示期未设置".into())),
            }
        }
    }
}

/// Commands the role may offer on the page for an application in `app` (buttons).
pub fn available(policy: &Policy, app: &AppState, role: Role) -> Vec<Command> {
    let all = [
        Command::Submit,
        Command::Withdraw,
        Command::Pass,
        Command::Return,
        Command::Reject,
        Command::WaiveOnsite,
        Command::CompleteOnsite,
        Command::DistrictOpinion,
        Command::Approve,
        Command::Object,
        Command::ResolveObjection { upheld: false },
        Command::ResolveObjection { upheld: true },
        Command::Finish,
    ];
    let facts = Facts {
        today: Some(NaiveDate::MAX),
        opinions_complete: true,
        publicity: Some(PublicityPeriod {
            published_on: NaiveDate::MAX,
            from: NaiveDate::MAX,
            until: NaiveDate::MAX,
            working_days: 1,
            basis: crate::calendar::CalendarBasis::Official,
        }),
        employees: u32::MAX,
        capital_yuan: u64::MAX,
        legal_person: true,
        ..Facts::default()
    };
    all.into_iter()
        .filter(|c| {
            !matches!(
                decide(policy, app, role, c, "理由", &facts),
                Err(FilingError::Forbidden(_)) | Err(FilingError::WrongState(_))
            )
        })
        .filter(|c| {
            // Hide waiver where it cannot apply at all.
            *c != Command::WaiveOnsite
                || (app.flow.waiver_allowed && app.state == FilingState::DistrictPassed)
        })
        .collect()
}

/// 备案编号: derived from the application's database id, so it is unique across app servers.
pub fn filing_number(year: i32, application_id: i64) -> String {
    format!("郑人社评备〔{year}〕{application_id:05}号")
}

crate::code_enum! {
    /// 例外审核状态: a district's request for an exception to a filing rule.
    pub enum ExceptionStatus("例外审核状态") {
        /// 待市级审核.
        Pending = "pending", "待市级审核";
        /// 已同意.
        Granted = "granted", "已同意";
        /// 不同意.
        Refused = "refused", "不同意";
    }
}
crate::code_enum! {
    /// 评审督导状态: a supervisor the city named for a filing review.
    pub enum SupervisorStatus("评审督导状态") {
        /// 拟派.
        Proposed = "proposed", "拟派";
        /// 已派.
        Dispatched = "dispatched", "已派";
    }
}
crate::code_enum! {
    /// 双钥审核状态: a change that needs the second key (属地变更).
    pub enum MoveStatus("属地变更状态") {
        /// 待市级审核.
        Pending = "pending", "待市级审核";
        /// 已同意.
        Approved = "approved", "已同意";
        /// 不同意.
        Refused = "refused", "不同意";
    }
}
crate::impl_code!(FilingKind, "备案类型");
crate::impl_code!(Route, "受理路径");
crate::impl_code!(ReviewMode, "评审方式");
crate::impl_code!(FilingState, "备案申请状态");

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Policy {
        Policy::zhengzhou_2022()
    }
    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }
    fn app(kind: FilingKind, inst: InstitutionKind, state: FilingState) -> AppState {
        AppState {
            flow: Flow::of(kind, inst),
            state,
            center_approved: false,
            division_approved: false,
            has_commitment: false,
            publicity_end: None,
        }
    }
    fn item(id: i64, new_occupation: bool) -> ItemFact {
        ItemFact {
            occupation_id: id,
            name: format!("职业{id}"),
            new_occupation,
        }
    }
    fn ok_facts() -> Facts {
        Facts {
            today: Some(d(2026, 3, 16)),
            items: vec![item(1, true), item(2, true)],
            increment_round: Some("2026-03".into()),
            levels: vec![Level::Five, Level::Four],
            legal_person: true,
            employees: 200,
            capital_yuan: 0,
            opinions_complete: true,
            publicity: Some(crate::calendar::PublicityPeriod {
                published_on: d(2026, 3, 16),
                from: d(2026, 3, 17),
                until: d(2026, 3, 23),
                working_days: 5,
                basis: crate::calendar::CalendarBasis::Official,
            }),
            ..Facts::default()
        }
    }

    #[test]
    fn flows_differ_in_data() {
        let so = Flow::of(FilingKind::SocialOrg, InstitutionKind::SocialOrg);
        assert_eq!(so.route, Route::District);
        assert!(so.onsite_review && !so.waiver_allowed);
        let assoc = Flow::of(FilingKind::SocialOrg, InstitutionKind::Association);
        assert_eq!(assoc.route, Route::City);
        let ent = Flow::of(FilingKind::Enterprise, InstitutionKind::Enterprise);
        assert!(ent.waiver_allowed && ent.enterprise_eligibility);
        let sp = Flow::of(FilingKind::SpecialAbility, InstitutionKind::SocialOrg);
        assert_eq!((sp.route, sp.catalogue), (Route::City, Catalogue::Special));
        let inc = Flow::of(FilingKind::Increment, InstitutionKind::Enterprise);
        assert!(inc.window && inc.increment_count && inc.route == Route::City);
    }

    #[test]
    fn city_only_flags_route_special_ability_and_increments() {
        let mut p = p();
        let sp = Flow::of(FilingKind::SpecialAbility, InstitutionKind::SocialOrg);
        let inc = Flow::of(FilingKind::Increment, InstitutionKind::Enterprise);
        assert_eq!(sp.under(&p).route, Route::City);
        assert_eq!(inc.under(&p).route, Route::City);
        p.special_ability_city_only.value = false;
        assert_eq!(sp.under(&p).route, Route::District);
        assert!(sp.under(&p).onsite_review);
        assert_eq!(inc.under(&p).route, Route::City);
        p.increment_city_only.value = false;
        assert_eq!(inc.under(&p).route, Route::District);
        // A submitted special-ability filing then waits for the district's 初审, not the city's.
        assert!(sp.under(&p).organised_by(Role::District));
        assert!(!sp.under(&p).organised_by(Role::CityCenter));
    }

    #[test]
    fn social_org_walks_the_district_route() {
        let p = p();
        let f = ok_facts();
        let mut a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let steps = [
            (Role::Institution, Command::Submit, FilingState::Submitted),
            (Role::District, Command::Pass, FilingState::DistrictPassed),
            (
                Role::District,
                Command::RecordDraw,
                FilingState::ExpertsDrawn,
            ),
            (
                Role::District,
                Command::CompleteOnsite,
                FilingState::OnsiteReviewed,
            ),
            (
                Role::District,
                Command::DistrictOpinion,
                FilingState::CityReview,
            ),
            (
                Role::CityDivision,
                Command::Approve,
                FilingState::CityReview,
            ),
            (Role::CityCenter, Command::Approve, FilingState::Publicity),
        ];
        for (role, cmd, to) in steps {
            let o = decide(&p, &a, role, &cmd, "同意", &f).unwrap();
            assert_eq!(o.to, to, "{cmd:?}");
            for e in &o.effects {
                match e {
                    Effect::CenterKey => a.center_approved = true,
                    Effect::DivisionKey => a.division_approved = true,
                    Effect::StartPublicity { period } => a.publicity_end = Some(period.until),
                    _ => {}
                }
            }
            a.state = o.to;
        }
        let early = Facts {
            today: Some(d(2026, 3, 23)),
            ..ok_facts()
        };
        assert!(matches!(
            decide(&p, &a, Role::CityCenter, &Command::Finish, "", &early),
            Err(FilingError::WrongState(_))
        ));
        let later = Facts {
            today: Some(d(2026, 3, 24)),
            ..ok_facts()
        };
        let o = decide(&p, &a, Role::CityCenter, &Command::Finish, "", &later).unwrap();
        assert_eq!(o.to, FilingState::Filed);
        assert!(o.effects.contains(&Effect::AssignFilingNo));
    }

    #[test]
    fn roles_are_enforced_and_reasons_required() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::Submitted,
        );
        let e = decide(&p, &a, Role::Institution, &Command::Pass, "x", &ok_facts()).unwrap_err();
        assert!(matches!(e, FilingError::Forbidden(_)));
        let e = decide(&p, &a, Role::District, &Command::Return, " ", &ok_facts()).unwrap_err();
        assert_eq!(e, FilingError::ReasonRequired("退回补正"));
        // The city cannot act on the district's 初审.
        let e = decide(&p, &a, Role::CityCenter, &Command::Reject, "x", &ok_facts()).unwrap_err();
        assert!(matches!(e, FilingError::Forbidden(_)));
    }

    #[test]
    fn same_key_twice_is_refused_and_either_can_return() {
        let p = p();
        let mut a = app(
            FilingKind::SpecialAbility,
            InstitutionKind::SocialOrg,
            FilingState::CityReview,
        );
        a.center_approved = true;
        let e = decide(&p, &a, Role::CityCenter, &Command::Approve, "", &ok_facts()).unwrap_err();
        assert!(matches!(e, FilingError::WrongState(_)));
        let o = decide(
            &p,
            &a,
            Role::CityDivision,
            &Command::Return,
            "材料不全",
            &ok_facts(),
        )
        .unwrap();
        assert_eq!(o.to, FilingState::Returned);
        assert!(o.effects.contains(&Effect::ClearKeys));
    }

    #[test]
    fn city_route_is_reviewed_by_the_city() {
        let p = p();
        for (k, i) in [
            (FilingKind::SocialOrg, InstitutionKind::Association),
            (FilingKind::SpecialAbility, InstitutionKind::SocialOrg),
            (FilingKind::Increment, InstitutionKind::SocialOrg),
        ] {
            let mut a = app(k, i, FilingState::Draft);
            let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &ok_facts()).unwrap();
            assert_eq!(o.to, FilingState::Submitted, "{k:?}");
            a.state = o.to;
            // The district has no stage on the city route; approving before the review is refused.
            let e = decide(&p, &a, Role::District, &Command::Pass, "x", &ok_facts()).unwrap_err();
            assert!(matches!(e, FilingError::Forbidden(_)), "{k:?}");
            let e = decide(&p, &a, Role::CityCenter, &Command::Approve, "", &ok_facts());
            assert!(matches!(e, Err(FilingError::WrongState(_))), "{k:?}");
            let o = decide(
                &p,
                &a,
                Role::CityDivision,
                &Command::Pass,
                "受理",
                &ok_facts(),
            )
            .unwrap();
            assert_eq!(o.to, FilingState::DistrictPassed, "{k:?}");
            a.state = FilingState::ExpertsDrawn;
            // The city records how it reviewed.
            let e = decide(
                &p,
                &a,
                Role::CityCenter,
                &Command::CompleteOnsite,
                "完成",
                &ok_facts(),
            )
            .unwrap_err();
            assert_eq!(e.first_rule().unwrap().rule, "city_review_mode");
            assert_eq!(e.first_rule().unwrap().clause, k.clause());
            let f = Facts {
                review_mode: Some(ReviewMode::Written),
                ..ok_facts()
            };
            let o = decide(
                &p,
                &a,
                Role::CityCenter,
                &Command::CompleteOnsite,
                "材料齐备，书面评审",
                &f,
            )
            .unwrap();
            assert!(o
                .effects
                .contains(&Effect::RecordReviewMode(ReviewMode::Written)));
            a.state = o.to;
            let o = decide(
                &p,
                &a,
                Role::CityDivision,
                &Command::DistrictOpinion,
                "建议备案",
                &f,
            )
            .unwrap();
            assert_eq!(o.to, FilingState::CityReview);
        }
    }

    #[test]
    fn district_review_is_on_site() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::ExpertsDrawn,
        );
        let f = Facts {
            review_mode: Some(ReviewMode::Written),
            ..ok_facts()
        };
        let e = decide(&p, &a, Role::District, &Command::CompleteOnsite, "x", &f).unwrap_err();
        assert_eq!(e.first_rule().unwrap().clause, "一(一)");
        // The city cannot take the district's review over.
        let e = decide(
            &p,
            &a,
            Role::CityCenter,
            &Command::CompleteOnsite,
            "x",
            &ok_facts(),
        )
        .unwrap_err();
        assert!(matches!(e, FilingError::Forbidden(_)));
    }

    #[test]
    fn high_levels_at_first_filing_need_a_reason() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::Association,
            FilingState::Submitted,
        );
        let f = Facts {
            levels: vec![Level::Three, Level::Two],
            ..ok_facts()
        };
        let e = decide(&p, &a, Role::CityCenter, &Command::Pass, "受理", &f).unwrap_err();
        assert_eq!(e.first_rule().unwrap().clause, "三(一)");
        let f = Facts {
            high_level_reason: "协会具备技师评价条件".into(),
            ..f
        };
        let o = decide(&p, &a, Role::CityCenter, &Command::Pass, "受理", &f).unwrap();
        assert!(o
            .effects
            .contains(&Effect::HighLevelReason("协会具备技师评价条件".into())));
        // An increment adds levels by its nature: no extra reason.
        let inc = app(
            FilingKind::Increment,
            InstitutionKind::SocialOrg,
            FilingState::Submitted,
        );
        let f = Facts {
            levels: vec![Level::Two],
            ..ok_facts()
        };
        assert!(decide(&p, &inc, Role::CityCenter, &Command::Pass, "受理", &f).is_ok());
    }

    #[test]
    fn panel_fail_majority_needs_a_reason() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::OnsiteReviewed,
        );
        let panel = Panel::of(["不通过", "不通过", "整改后通过"]);
        assert!(panel.fail_majority());
        assert!(!Panel::of(["不通过", "通过"]).fail_majority());
        let f = Facts {
            panel,
            ..ok_facts()
        };
        let e = decide(
            &p,
            &a,
            Role::District,
            &Command::DistrictOpinion,
            "建议备案",
            &f,
        )
        .unwrap_err();
        assert_eq!(
            e.first_rule().unwrap().rule,
            "expert_panel_fail_needs_reason"
        );
        let f = Facts {
            panel_override_reason: "整改已完成并经复核".into(),
            ..f
        };
        let o = decide(
            &p,
            &a,
            Role::District,
            &Command::DistrictOpinion,
            "建议备案",
            &f,
        )
        .unwrap();
        assert!(o.effects.contains(&Effect::PanelConclusion {
            summary: panel.summary(),
            override_reason: Some("整改已完成并经复核".into()),
        }));
    }

    #[test]
    fn approve_waits_for_supervision_opinions() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::CityReview,
        );
        let f = Facts {
            supervision_opinions_missing: 1,
            ..ok_facts()
        };
        let e = decide(&p, &a, Role::CityCenter, &Command::Approve, "", &f).unwrap_err();
        assert_eq!(
            e.first_rule().unwrap().rule,
            "review_supervision_joint_dispatch"
        );
        assert!(decide(&p, &a, Role::CityCenter, &Command::Approve, "", &ok_facts()).is_ok());
    }

    #[test]
    fn waiver_needs_commitment_and_enterprise() {
        let p = p();
        let mut a = app(
            FilingKind::Enterprise,
            InstitutionKind::Enterprise,
            FilingState::DistrictPassed,
        );
        let e = decide(
            &p,
            &a,
            Role::District,
            &Command::WaiveOnsite,
            "承诺",
            &ok_facts(),
        )
        .unwrap_err();
        assert_eq!(e.first_rule().unwrap().clause, "一(二)2");
        a.has_commitment = true;
        let o = decide(
            &p,
            &a,
            Role::District,
            &Command::WaiveOnsite,
            "承诺",
            &ok_facts(),
        )
        .unwrap();
        assert_eq!(o.to, FilingState::OnsiteReviewed);
        let so = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::DistrictPassed,
        );
        assert!(decide(
            &p,
            &so,
            Role::District,
            &Command::WaiveOnsite,
            "x",
            &ok_facts()
        )
        .is_err());
    }

    #[test]
    fn submission_rules_name_their_clauses() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let f = Facts {
            items: (1..=4).map(|i| item(i, true)).collect(),
            levels: vec![Level::Two],
            quota: vec![QuotaFact {
                name: "电工".into(),
                occupation_id: 1,
                holders: 3,
            }],
            missing_materials: vec!["备案申请表".into()],
            ..ok_facts()
        };
        let e = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap_err();
        let FilingError::Rules(rs) = e else { panic!() };
        let rules: Vec<_> = rs.iter().map(|r| (r.rule, r.clause.as_str())).collect();
        assert_eq!(
            rules,
            vec![
                ("required_materials", p.required_materials.clause.as_str()),
                ("max_occupations_per_applicant", "一(一)"),
                ("district_initial_levels", "三(一)"),
                ("max_institutions_per_occupation_per_district", "一(一)"),
            ]
        );
        let inc = app(
            FilingKind::Increment,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let f = Facts {
            today: Some(d(2026, 4, 1)),
            increment_round: None,
            ..ok_facts()
        };
        let e = decide(&p, &inc, Role::Institution, &Command::Submit, "", &f).unwrap_err();
        assert_eq!(e.first_rule().unwrap().clause, "一(四)");
        let ent = app(
            FilingKind::Enterprise,
            InstitutionKind::Enterprise,
            FilingState::Draft,
        );
        let f = Facts {
            employees: 10,
            capital_yuan: 10,
            ..ok_facts()
        };
        let e = decide(&p, &ent, Role::Institution, &Command::Submit, "", &f).unwrap_err();
        assert_eq!(e.first_rule().unwrap().clause, "一(二)1(2)");
    }

    #[test]
    fn occupation_limit_per_applicant() {
        let p = p();
        let flow = Flow::of(FilingKind::SocialOrg, InstitutionKind::SocialOrg);
        // Two here, two in another open application: four in all.
        let f = Facts {
            occupations_elsewhere: vec![7, 8],
            ..ok_facts()
        };
        let r = occupation_limit(&p, &flow, &f).unwrap_err();
        assert_eq!(r.rule, "max_occupations_per_applicant");
        assert!(r.message.contains("现为4个"), "{}", r.message);
        // The same occupation in two applications counts once.
        let f = Facts {
            occupations_elsewhere: vec![1, 7],
            ..ok_facts()
        };
        assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![]));
        // An exception naming one of this application's occupations lets it through, and is used.
        let f = Facts {
            occupations_elsewhere: vec![7, 8],
            exceptions: vec![GrantedException {
                id: 9,
                rule: "max_occupations_per_applicant".into(),
                occupations: vec![2],
            }],
            ..ok_facts()
        };
        assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![9]));
        // An exception for another rule, or for occupations not in this application, does not.
        let mut g = f.clone();
        g.exceptions[0].occupations = vec![5];
        assert!(occupation_limit(&p, &flow, &g).is_err());
        g.exceptions[0] = GrantedException {
            id: 9,
            rule: "increment_max_occupations".into(),
            occupations: vec![2],
        };
        assert!(occupation_limit(&p, &flow, &g).is_err());
        // Enterprises and special-ability filings have no occupation quota under this policy.
        for k in [FilingKind::Enterprise, FilingKind::SpecialAbility] {
            let flow = Flow::of(k, InstitutionKind::Enterprise);
            assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![]));
        }
    }

    #[test]
    fn increment_levels_do_not_count_and_exception_takes_effect() {
        let p = p();
        let flow = Flow::of(FilingKind::Increment, InstitutionKind::SocialOrg);
        // Three new occupations plus two level additions: within the limit of three.
        let mut f = Facts {
            items: vec![
                item(1, true),
                item(2, true),
                item(3, true),
                item(4, false),
                item(5, false),
            ],
            ..ok_facts()
        };
        assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![]));
        // A fourth new occupation in another increment of the same round is counted.
        f.occupations_elsewhere = vec![6];
        let r = occupation_limit(&p, &flow, &f).unwrap_err();
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("increment_max_occupations", "一(四)")
        );
        f.exceptions = vec![GrantedException {
            id: 4,
            rule: "increment_max_occupations".into(),
            occupations: vec![3],
        }];
        assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![4]));
        let a = app(
            FilingKind::Increment,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap();
        assert!(o.effects.contains(&Effect::UseException(4)));
        assert!(o.effects.contains(&Effect::EnterRound("2026-03".into())));
    }

    #[test]
    fn filed_institution_uses_increments() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let f = Facts {
            filed_institution: true,
            ..ok_facts()
        };
        let e = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap_err();
        let r = e.first_rule().unwrap();
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("increment_for_filed_institutions", "一(四)")
        );
        let inc = app(
            FilingKind::Increment,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        assert!(decide(&p, &inc, Role::Institution, &Command::Submit, "", &f).is_ok());
    }

    #[test]
    fn quota_exception_is_used_at_submission_and_pass() {
        let p = p();
        let a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let f = Facts {
            quota: vec![QuotaFact {
                name: "电工".into(),
                occupation_id: 1,
                holders: 3,
            }],
            exceptions: vec![GrantedException {
                id: 5,
                rule: "max_institutions_per_occupation_per_district".into(),
                occupations: vec![1],
            }],
            ..ok_facts()
        };
        let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap();
        assert!(o.effects.contains(&Effect::UseException(5)));
        // Enterprises are not under the per-district cap.
        let ent = app(
            FilingKind::Enterprise,
            InstitutionKind::Enterprise,
            FilingState::Draft,
        );
        let g = Facts {
            exceptions: vec![],
            ..f.clone()
        };
        let o = decide(&p, &ent, Role::Institution, &Command::Submit, "", &g).unwrap();
        assert!(!o
            .effects
            .iter()
            .any(|e| matches!(e, Effect::UseException(_))));
        assert!(decide(&p, &a, Role::Institution, &Command::Submit, "", &g).is_err());
    }

    #[test]
    fn objection_pauses_and_resolves() {
        let p = p();
        let mut a = app(
            FilingKind::SocialOrg,
            InstitutionKind::SocialOrg,
            FilingState::Publicity,
        );
        a.publicity_end = Some(d(2026, 3, 20));
        let o = decide(
            &p,
            &a,
            Role::CityCenter,
            &Command::Object,
            "举报",
            &ok_facts(),
        )
        .unwrap();
        assert_eq!(o.to, FilingState::PublicityPaused);
        a.state = o.to;
        assert!(decide(&p, &a, Role::CityCenter, &Command::Finish, "", &ok_facts()).is_err());
        let o = decide(
            &p,
            &a,
            Role::CityDivision,
            &Command::ResolveObjection { upheld: false },
            "不成立",
            &ok_facts(),
        )
        .unwrap();
        assert_eq!(o.to, FilingState::Publicity);
        let o = decide(
            &p,
            &a,
            Role::CityDivision,
            &Command::ResolveObjection { upheld: true },
            "成立",
            &ok_facts(),
        )
        .unwrap();
        assert_eq!(o.to, FilingState::Rejected);
    }

    #[test]
    fn available_lists_buttons() {
        let a = app(
            FilingKind::Enterprise,
            InstitutionKind::Enterprise,
            FilingState::DistrictPassed,
        );
        let cmds = available(&p(), &a, Role::District);
        assert!(cmds.contains(&Command::WaiveOnsite));
        assert!(cmds.contains(&Command::Reject));
        assert!(!cmds.contains(&Command::Pass));
        assert!(available(&p(), &a, Role::Expert).is_empty());
    }

    #[test]
    fn filing_numbers_come_from_row_ids() {
        assert_eq!(filing_number(2026, 42), "郑人社评备〔2026〕00042号");
    }
}
