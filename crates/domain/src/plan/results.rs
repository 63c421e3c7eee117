//! Results (成绩, 二(三)): which components a candidate sits, whether they pass (a component at
//! ≥ 60, 综合评审 for levels 2 and 1), and the masked name for publicity (公示).

use serde::Serialize;

use super::content::EvalForm;
use crate::account::FieldError;
use crate::occupation::Level;
use crate::policy::{component_passes, Policy};

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
