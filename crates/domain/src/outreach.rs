//! 三(二) "区县(市)人社部门要全面筛查辖区企业状况" and 一(二) "区县(市)人社部门要指导未备案企业
//! 制定工作方案": the district's enterprise register (企业筛查台账), its outreach status and
//! guidance notes; and 二(二) institution self-registration. Pure rules, no I/O.

use serde::Serialize;

use crate::account::FieldError;
use crate::policy::{check_enterprise_eligibility, Policy, Refusal};

/// 宣传对接状态 of an enterprise in the register.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outreach {
    /// 未联系
    Uncontacted,
    /// 已宣传
    Informed,
    /// 有意向
    Interested,
    /// 已申报 (set by the district, or shown once a filing of the enterprise exists)
    Applied,
    /// 不符合
    Ineligible,
}

impl Outreach {
    pub const ALL: [Outreach; 5] = [
        Outreach::Uncontacted,
        Outreach::Informed,
        Outreach::Interested,
        Outreach::Applied,
        Outreach::Ineligible,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            Outreach::Uncontacted => "uncontacted",
            Outreach::Informed => "informed",
            Outreach::Interested => "interested",
            Outreach::Applied => "applied",
            Outreach::Ineligible => "ineligible",
        }
    }
    pub fn label(self) -> &'static str {
        match self {
            Outreach::Uncontacted => "未联系",
            Outreach::Informed => "已宣传",
            Outreach::Interested => "有意向",
            Outreach::Applied => "已申报",
            Outreach::Ineligible => "不符合",
        }
    }
    /// Accepts the key or the Chinese label.
    pub fn parse(s: &str) -> Option<Outreach> {
        let s = s.trim();
        Outreach::ALL
            .into_iter()
            .find(|o| o.as_str() == s || o.label() == s)
    }
    /// What the register shows: once the enterprise has a filing application it is 已申报,
    /// whatever was recorded before.
    pub fn effective(recorded: Outreach, has_filing: bool) -> Outreach {
        if has_filing {
            Outreach::Applied
        } else {
            recorded
        }
    }
}

/// 一(二)1 for a register row: legal person is assumed (the register lists 企业法人; it is
/// checked again at filing), employees or capital, and — when the policy says the occupation
/// must lie in the main business (一(二)1(3)) — a recorded main business to judge it against.
pub fn register_eligibility(
    policy: &Policy,
    employees: u32,
    capital_yuan: u64,
    main_business: &str,
) -> Vec<Refusal> {
    let mut out = check_enterprise_eligibility(policy, true, employees, capital_yuan)
        .err()
        .unwrap_or_default();
    let scope = &policy.enterprise_occupation_in_business_scope;
    if scope.value && main_business.trim().is_empty() {
        out.push(Refusal {
            rule: "enterprise_occupation_in_business_scope",
            clause: scope.clause.clone(),
            message: "未登记主营业务，无法判断申报职业（工种）是否在主营业务范围内".into(),
        });
    }
    out
}

/// 一(二): guidance is for enterprises that have not filed yet.
pub fn check_guidance_allowed(filed: bool) -> Result<(), Refusal> {
    if filed {
        return Err(Refusal {
            rule: "enterprise_guidance",
            clause: "一(二)".into(),
            message: "该企业已完成备案；工作方案指导适用于未备案企业".into(),
        });
    }
    Ok(())
}

/// A guidance note: 5–2000 characters.
pub fn validate_guidance_note(note: &str) -> Result<(), FieldError> {
    let n = note.trim().chars().count();
    if !(5..=2000).contains(&n) {
        return Err(FieldError::new("note", "指导意见应为5至2000字"));
    }
    Ok(())
}

/// A contact phone: digits and "-", 7–20 characters.
pub fn validate_phone(field: &'static str, phone: &str) -> Result<(), FieldError> {
    let p = phone.trim();
    if (7..=20).contains(&p.len()) && p.chars().all(|c| c.is_ascii_digit() || c == '-') {
        Ok(())
    } else {
        Err(FieldError::new(field, "联系电话只能包含数字和“-”，7–20 位"))
    }
}

/// 二(二) self-registration: the credit code and 备案编号 must name a filed institution.
pub fn registration_mismatch() -> Refusal {
    Refusal {
        rule: "institution_registration",
        clause: "二(二)".into(),
        message:
            "未找到统一社会信用代码与备案编号相符的已备案机构；机构完成备案后方可注册评价机构账号"
                .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enterprise_screening_eligibility() {
        let p = Policy::zhengzhou_2022();
        assert!(register_eligibility(&p, 150, 0, "餐饮服务").is_empty());
        assert!(register_eligibility(&p, 10, 3_000_000, "餐饮服务").is_empty());
        let r = register_eligibility(&p, 10, 100_000, "餐饮服务");
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].clause, "一(二)1(2)");
        let r = register_eligibility(&p, 200, 0, " ");
        assert_eq!(r[0].rule, "enterprise_occupation_in_business_scope");
        assert_eq!(r[0].clause, "一(二)1(3)");
    }

    #[test]
    fn outreach_filing_means_applied() {
        assert_eq!(Outreach::parse("有意向"), Some(Outreach::Interested));
        assert_eq!(Outreach::parse("ineligible"), Some(Outreach::Ineligible));
        assert_eq!(
            Outreach::effective(Outreach::Informed, true),
            Outreach::Applied
        );
        assert_eq!(
            Outreach::effective(Outreach::Informed, false),
            Outreach::Informed
        );
    }

    #[test]
    fn guidance_only_before_filing() {
        assert!(check_guidance_allowed(false).is_ok());
        assert_eq!(check_guidance_allowed(true).unwrap_err().clause, "一(二)");
        assert!(validate_guidance_note("短").is_err());
    }
}
