//! Submission checks of 一(一) and 一(四): occupation limits per filing and per round, quotas,
//! and what a complete submission needs.

use super::flow::{FilingKind, Flow, Route};
use super::state::{Effect, Facts, GrantedException};
use crate::policy::{self, Policy, Refusal};

/// A count check of the policy: `(policy, n, elsewhere)`.
type CountCheck = fn(&Policy, usize, usize) -> Result<(), Refusal>;

/// The occupation limit of 一(一) (initial filings of a quota kind: all the applicant's filings
/// together) or of 一(四) (increments: new occupations per round; 增级别 does not count). Returns the
/// exceptions the application relies on. Kinds outside the quotas have no limit.
pub fn occupation_limit(policy: &Policy, flow: &Flow, f: &Facts) -> Result<Vec<i64>, Refusal> {
    let (rule, check): (&str, CountCheck) = if flow.increment_count {
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
pub(super) fn quota_checks(policy: &Policy, f: &Facts) -> Result<Vec<i64>, Vec<Refusal>> {
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
