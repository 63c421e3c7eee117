//! 机构备案 (一、机构备案工作流程): ONE state machine for the four filing kinds.
//!
//! The kinds differ in data, not in code: [`Flow`] says which stages apply (district stage,
//! expert on-site review or waiver, eligibility checks, window, level limits) and
//! [`decide`] walks the same transitions for all of them. Every transition names the roles
//! that may take it and whether a reason is required; it returns the new state and the
//! effects to persist, or an error naming its rule.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::institution::InstitutionKind;
use crate::occupation::Level;
use crate::policy::{self, Policy, Refusal};
use crate::role::Role;

/// The four filing kinds of section 一.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
#[serde(rename_all = "snake_case")]
pub enum Route {
    /// 区县初审 → 专家抽取/现场评审 → 初评结果意见 → 市级审核.
    District,
    /// 市人社局职建处会同市鉴定中心直接办理 (associations, special ability, increment).
    City,
}

impl Route {
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
            Route::City => "市级直接办理",
        }
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

/// What differs between the kinds: data, not code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flow {
    pub kind: FilingKind,
    pub route: Route,
    pub catalogue: Catalogue,
    /// Expert draw + on-site review after 初审 (district route only).
    pub onsite_review: bool,
    /// 一(二)2: a written commitment may replace the on-site assessment.
    pub waiver_allowed: bool,
    /// 一(二)1: enterprise eligibility.
    pub enterprise_eligibility: bool,
    /// 一(四): March / September only.
    pub window: bool,
    /// 三(一): a district accepts initial filings for levels 5, 4, 3 only.
    pub district_levels: bool,
    /// 一(一): ≤ N institutions per occupation per district.
    pub quota: bool,
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
            quota: true,
            increment_count: false,
        };
        match kind {
            FilingKind::SocialOrg if inst.city_handles_directly() => Flow {
                route: Route::City,
                onsite_review: false,
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
                onsite_review: false,
                district_levels: false,
                quota: false,
                ..base
            },
            FilingKind::Increment => Flow {
                route: Route::City,
                onsite_review: false,
                district_levels: false,
                window: true,
                increment_count: true,
                ..base
            },
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
    /// Roles that may take this command (before the route is considered).
    pub fn roles(&self) -> &'static [Role] {
        match self {
            Command::Submit | Command::Withdraw => &[Role::Institution],
            Command::Pass
            | Command::RecordDraw
            | Command::WaiveOnsite
            | Command::CompleteOnsite
            | Command::DistrictOpinion => &[Role::District],
            Command::Return | Command::Reject => {
                &[Role::District, Role::CityCenter, Role::CityDivision]
            }
            Command::Approve | Command::Object | Command::ResolveObjection { .. } => {
                &[Role::CityCenter, Role::CityDivision]
            }
            Command::Finish => &[Role::CityCenter],
        }
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

/// Facts gathered by the store for the checks a command runs.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Today in China time (+08:00).
    pub today: Option<NaiveDate>,
    pub occupation_count: usize,
    pub levels: Vec<Level>,
    /// Granted 特殊情况申请 for the occupation count.
    pub count_exception: bool,
    /// Enterprise profile (一(二)1).
    pub legal_person: bool,
    pub employees: u32,
    pub capital_yuan: u64,
    /// Per occupation: (name, institutions holding a slot in the district, exception granted).
    pub quota: Vec<(String, u32, bool)>,
    /// Every drawn expert has recorded an opinion.
    pub opinions_complete: bool,
    /// Publicity end chosen on the second key (default from the policy).
    pub publicity_end: Option<NaiveDate>,
}

/// What to persist besides the state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    CenterKey,
    DivisionKey,
    ClearKeys,
    Waiver,
    StartPublicity { end: NaiveDate },
    AssignFilingNo,
    SaveOpinion,
    MarkSubmitted,
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

/// Checks run when the institution submits (and again, for the quota, at 初审).
pub fn submission_checks(policy: &Policy, flow: &Flow, f: &Facts) -> Result<(), Vec<Refusal>> {
    let mut out = vec![];
    let count = if flow.increment_count {
        policy::check_increment_occupation_count(policy, f.occupation_count, f.count_exception)
    } else {
        policy::check_occupation_count(policy, f.occupation_count, f.count_exception)
    };
    if let Err(r) = count {
        out.push(r);
    }
    if flow.window {
        let today = f.today.unwrap_or_default();
        if let Err(r) = policy::check_increment_window(policy, today) {
            out.push(r);
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
    if flow.quota {
        out.extend(quota_checks(policy, f));
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

fn quota_checks(policy: &Policy, f: &Facts) -> Vec<Refusal> {
    let mut out = vec![];
    for (name, existing, exception) in &f.quota {
        if let Err(mut r) = policy::check_institutions_per_occupation(policy, *existing, *exception)
        {
            r.message = format!("“{name}”：{}", r.message);
            out.push(r);
        }
    }
    out
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
            submission_checks(policy, flow, facts).map_err(FilingError::Rules)?;
            let to = match flow.route {
                Route::District => S::Submitted,
                Route::City => S::CityReview,
            };
            Ok(out(to, vec![Effect::ClearKeys, Effect::MarkSubmitted]))
        }
        Command::Withdraw => match s {
            S::Draft | S::Submitted | S::Returned => Ok(out(S::Withdrawn, vec![])),
            _ => Err(wrong_state(cmd, s)),
        },
        Command::Pass => {
            if s != S::Submitted {
                return Err(wrong_state(cmd, s));
            }
            // The quota is re-checked when the district accepts: accepted applications hold a slot.
            if flow.quota {
                let r = quota_checks(policy, facts);
                if !r.is_empty() {
                    return Err(FilingError::Rules(r));
                }
            }
            if flow.onsite_review {
                Ok(out(S::DistrictPassed, vec![]))
            } else {
                Ok(out(S::OnsiteReviewed, vec![]))
            }
        }
        Command::Return | Command::Reject => {
            let ok = match s {
                S::Submitted => role == Role::District,
                S::DistrictPassed | S::ExpertsDrawn | S::OnsiteReviewed => role == Role::District,
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
            S::DistrictPassed | S::ExpertsDrawn if flow.onsite_review => {
                Ok(out(S::ExpertsDrawn, vec![]))
            }
            _ => Err(wrong_state(cmd, s)),
        },
        Command::WaiveOnsite => {
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
            if s != S::ExpertsDrawn {
                return Err(wrong_state(cmd, s));
            }
            if !facts.opinions_complete {
                return Err(FilingError::Incomplete(
                    "尚有抽取的专家未提交现场评审意见，不能结束现场评审".into(),
                ));
            }
            Ok(out(S::OnsiteReviewed, vec![]))
        }
        Command::DistrictOpinion => {
            if s != S::OnsiteReviewed || flow.route != Route::District {
                return Err(wrong_state(cmd, s));
            }
            Ok(out(
                S::CityReview,
                vec![Effect::SaveOpinion, Effect::ClearKeys],
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
            if other {
                let end = facts.publicity_end.ok_or_else(|| {
                    FilingError::Incomplete("无法计算公示期（工作日历未录入）".into())
                })?;
                Ok(out(S::Publicity, vec![key, Effect::StartPublicity { end }]))
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
                if let Some(end) = facts.publicity_end {
                    eff.push(Effect::StartPublicity { end });
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
        occupation_count: 1,
        opinions_complete: true,
        publicity_end: Some(NaiveDate::MAX),
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
    fn ok_facts() -> Facts {
        Facts {
            today: Some(d(2026, 3, 16)),
            occupation_count: 2,
            levels: vec![Level::Five, Level::Four],
            legal_person: true,
            employees: 200,
            capital_yuan: 0,
            opinions_complete: true,
            publicity_end: Some(d(2026, 3, 23)),
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
        // A submitted special-ability filing then waits for the district's 初审.
        let st = app(
            FilingKind::SpecialAbility,
            InstitutionKind::SocialOrg,
            FilingState::Draft,
        );
        let facts = Facts {
            occupation_count: 1,
            ..Default::default()
        };
        let out = decide(&p, &st, Role::Institution, &Command::Submit, "", &facts).unwrap();
        assert_eq!(out.to, FilingState::Submitted);
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
                    Effect::StartPublicity { end } => a.publicity_end = Some(*end),
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
    fn city_route_skips_the_district() {
        let p = p();
        for (k, i) in [
            (FilingKind::SocialOrg, InstitutionKind::Association),
            (FilingKind::SpecialAbility, InstitutionKind::SocialOrg),
            (FilingKind::Increment, InstitutionKind::SocialOrg),
        ] {
            let a = app(k, i, FilingState::Draft);
            let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &ok_facts()).unwrap();
            assert_eq!(o.to, FilingState::CityReview, "{k:?}");
        }
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
            occupation_count: 4,
            levels: vec![Level::Two],
            quota: vec![("电工".into(), 3, false)],
            ..ok_facts()
        };
        let e = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap_err();
        let FilingError::Rules(rs) = e else { panic!() };
        let rules: Vec<_> = rs.iter().map(|r| (r.rule, r.clause.as_str())).collect();
        assert_eq!(
            rules,
            vec![
                ("max_occupations_per_application", "一(一)"),
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
