//! The checks of the notice that refuse with a citation: occupation counts, institutions per
//! occupation, enterprise eligibility, windows, initial levels, plan lead time, pass score.

use chrono::{Datelike, NaiveDate};

use super::{yuan, Policy, Refusal, Rule};
use crate::calendar::{CalendarError, HolidayCalendar};
use crate::occupation::Level;

/// 一(一) "申报单位申报职业(工种)不超过三个": `n` counts every occupation of the applicant's open
/// and filed initial filings together, this application included (`elsewhere` of them in other
/// applications); occupations covered by a granted exception are left out by the caller.
/// Zero is refused: an application names at least one occupation.
pub fn check_occupation_count(policy: &Policy, n: usize, elsewhere: usize) -> Result<(), Refusal> {
    count_check(
        "max_occupations_per_applicant",
        &policy.max_occupations_per_applicant,
        "申报单位申报的职业（工种）合计",
        "本单位其他在办或已备案的申请",
        n,
        elsewhere,
    )
}

/// 一(四): at most N new occupations per increment round (增级别 items do not count); `elsewhere`
/// of them in the applicant's other increments of the same round. Exception as above.
pub fn check_increment_occupation_count(
    policy: &Policy,
    n: usize,
    elsewhere: usize,
) -> Result<(), Refusal> {
    count_check(
        "increment_max_occupations",
        &policy.increment_max_occupations,
        "增量备案本轮新增的职业（工种）（增级别不计）",
        "本轮其他增量申请",
        n,
        elsewhere,
    )
}

fn count_check(
    key: &'static str,
    rule: &Rule<u32>,
    what: &str,
    other: &str,
    n: usize,
    elsewhere: usize,
) -> Result<(), Refusal> {
    if n > rule.value as usize {
        let detail = if elsewhere > 0 {
            format!("，其中{other}{elsewhere}个")
        } else {
            String::new()
        };
        return Err(Refusal::new(
            key,
            rule,
            format!(
                "{what}不得超过{}个，现为{n}个{detail}；确有特殊情况的，须由区县（市）人社部门提出特殊情况申请，经市人社部门审核同意",
                rule.value
            ),
        ));
    }
    Ok(())
}

/// 一(一): an occupation may have at most N filed institutions in one district;
/// `existing_count` is the number already filed there, so the new one would be `existing_count + 1`.
pub fn check_institutions_per_occupation(
    policy: &Policy,
    existing_count: u32,
    exception_granted: bool,
) -> Result<(), Refusal> {
    let rule = &policy.max_institutions_per_occupation_per_district;
    if existing_count >= rule.value && !exception_granted {
        return Err(Refusal::new(
            "max_institutions_per_occupation_per_district",
            rule,
            format!(
                "该职业（工种）在本区县（市）已有{}家备案机构，不得多于{}家；确有特殊情况的，须由区县（市）人社部门提出特殊情况申请，经市人社部门审核同意",
                existing_count, rule.value
            ),
        ));
    }
    Ok(())
}

/// 一(二)1: independent legal person, and employees ≥ N **or** registered capital ≥ M yuan
/// ("以上" read as inclusive). Returns every failed condition. The business-scope condition
/// 一(二)1(3) is a reviewer's judgement and is not checked here.
pub fn check_enterprise_eligibility(
    policy: &Policy,
    legal_person: bool,
    employees: u32,
    capital_yuan: u64,
) -> Result<(), Vec<Refusal>> {
    let mut out = Vec::new();
    if policy.enterprise_requires_legal_person.value && !legal_person {
        out.push(Refusal::new(
            "enterprise_requires_legal_person",
            &policy.enterprise_requires_legal_person,
            "申报备案企业应有独立法人".into(),
        ));
    }
    let emp = &policy.enterprise_min_employees;
    let cap = &policy.enterprise_min_capital_yuan;
    if employees < emp.value && capital_yuan < cap.value {
        out.push(Refusal::new(
            "enterprise_min_employees",
            emp,
            format!(
                "企业注册员工数量应在{}人以上或注册资金达到{}以上，当前员工{}人、注册资金{}",
                emp.value,
                yuan(cap.value),
                employees,
                yuan(capital_yuan)
            ),
        ));
    }
    if out.is_empty() {
        Ok(())
    } else {
        Err(out)
    }
}

/// 一(四): incremental filings open only in the window months (March and September).
/// `date` is the submission date in China time (+08:00).
pub fn check_increment_window(policy: &Policy, date: NaiveDate) -> Result<(), Refusal> {
    let rule = &policy.increment_months;
    if rule.value.contains(&date.month()) {
        return Ok(());
    }
    let months = rule
        .value
        .iter()
        .map(|m| format!("{m}月"))
        .collect::<Vec<_>>()
        .join("和");
    Err(Refusal::new(
        "increment_months",
        rule,
        format!(
            "增量增级别备案每年{months}开放申报，{}不在申报期内",
            date.format("%Y年%m月%d日")
        ),
    ))
}

/// 三(一): a district accepts an initial filing only for the listed levels (五、四、三级);
/// higher levels go to the city as an incremental filing.
pub fn check_district_initial_levels(policy: &Policy, levels: &[Level]) -> Result<(), Refusal> {
    let rule = &policy.district_initial_levels;
    let bad: Vec<&str> = levels
        .iter()
        .filter(|l| !rule.value.contains(&l.number()))
        .map(|l| l.name())
        .collect();
    if bad.is_empty() {
        return Ok(());
    }
    let allowed = rule
        .value
        .iter()
        .filter_map(|n| Level::from_u8(*n))
        .map(Level::name)
        .collect::<Vec<_>>()
        .join("、");
    Err(Refusal::new(
        "district_initial_levels",
        rule,
        format!(
            "区县（市）受理初次备案的等级应为{allowed}；{}需向市级人社部门申请增级别备案",
            bad.join("、")
        ),
    ))
}

/// Why a plan's timing was not accepted: the rule refused it, or the calendar cannot answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanLeadError {
    #[error("{0}")]
    Refused(Refusal),
    #[error("{0}")]
    Calendar(#[from] CalendarError),
}

/// 二(二): the paper plan must reach the district at least N working days before the
/// evaluation, read as N full working days strictly between the day the district received it
/// and the start day
/// (see [`HolidayCalendar::latest_submission_date`]).
pub fn check_plan_lead_time(
    policy: &Policy,
    calendar: &HolidayCalendar,
    submit_date: NaiveDate,
    start_date: NaiveDate,
) -> Result<(), PlanLeadError> {
    let rule = &policy.plan_min_working_days;
    let latest = calendar.latest_submission_date(start_date, rule.value)?;
    if submit_date <= latest {
        return Ok(());
    }
    let latest_working = calendar.latest_working_submission_date(start_date, rule.value)?;
    let between = calendar.working_days_strictly_between(submit_date, start_date)?;
    Err(PlanLeadError::Refused(Refusal::new(
        "plan_min_working_days",
        rule,
        format!(
            "纸质版评价工作计划须至少提前{}个工作日提交区县（市）人社部门：评价开始日期为{}，最晚应于{}提交，本次收取日{}与开始日之间仅有{}个工作日",
            rule.value,
            start_date.format("%Y年%m月%d日"),
            latest_working.format("%Y年%m月%d日"),
            submit_date.format("%Y年%m月%d日"),
            between
        ),
    )))
}

/// National: a component (理论/技能/综合评审) passes at ≥ the pass score out of 100.
pub fn component_passes(policy: &Policy, score: u32) -> bool {
    score >= policy.pass_score.value
}
