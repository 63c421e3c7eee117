//! Plan content (评价工作计划的内容): evaluation forms (评价方式), levels, dates, and its validation.

use chrono::NaiveDate;
use serde::Serialize;

use crate::account::FieldError;
use crate::occupation::Level;

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
