//! 机构备案 (一、机构备案工作流程): ONE state machine for the four filing kinds.
//!
//! The kinds differ in data, not in code: [`Flow`] says which stages apply (district stage,
//! expert on-site review or waiver, eligibility checks, window, level limits) and
//! [`decide`] walks the same transitions for all of them. Every transition names the roles
//! that may take it and whether a reason is required; it returns the new state and the
//! effects to persist, or an error naming its rule.

use chrono::NaiveDate;

use crate::calendar::PublicityPeriod;
use crate::policy::{Policy, Refusal};
use crate::role::Role;

mod checks;
mod flow;
mod state;

use checks::quota_checks;
pub use checks::{occupation_limit, submission_checks};
pub use flow::{Catalogue, FilingKind, Flow, Panel, ReviewMode, Route, MATERIAL_KINDS};
pub use state::{
    AppState, Command, Effect, Facts, FilingError, FilingState, GrantedException, ItemFact,
    Outcome, QuotaFact,
};

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
mod tests;
