//! 规则: the values of 郑人社办〔2022〕87号 as data, each with its clause, and the checks
//! that refuse with a citation. Another city adopts the platform by writing its own policy file.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

use crate::calendar::{CalendarError, HolidayCalendar};
use crate::filing::{FilingKind, MATERIAL_KINDS};
use crate::occupation::Level;

mod checks;
mod rules;

pub use checks::{
    check_district_initial_levels, check_enterprise_eligibility, check_increment_occupation_count,
    check_increment_window, check_institutions_per_occupation, check_occupation_count,
    check_plan_lead_time, component_passes, PlanLeadError,
};

/// One policy value with its source clause (条款) and a short Chinese description.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Rule<T> {
    pub value: T,
    /// "一(一)" for a clause of the notice; values from elsewhere name their source,
    /// e.g. "国家规定（人社职司便函〔2020〕17号）" or "平台默认值（…）".
    pub clause: String,
    pub text: String,
}

/// 评价工作规则 (default: Zhengzhou 2022). Field docs give the unit of each value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub id: String,
    pub title: String,
    /// 文号, e.g. 郑人社办〔2022〕87号.
    pub document: String,
    /// 申报单位申报职业（工种）数上限：同一申报单位所有在办及已备案的初次备案合计.
    pub max_occupations_per_applicant: Rule<u32>,
    /// 同一职业在同一区县备案机构数上限.
    pub max_institutions_per_occupation_per_district: Rule<u32>,
    /// 企业须有独立法人.
    pub enterprise_requires_legal_person: Rule<bool>,
    /// 企业注册员工数下限（与注册资金满足其一）.
    pub enterprise_min_employees: Rule<u32>,
    /// 企业注册资金下限，元（与员工数满足其一）.
    pub enterprise_min_capital_yuan: Rule<u64>,
    /// 申报职业须在主营业务范围内（审核人员判断；企业筛查台账据此要求登记主营业务）.
    pub enterprise_occupation_in_business_scope: Rule<bool>,
    /// 两项数量限制（申报职业数、同一职业同一区县机构数）适用的备案类型 (filing kind keys).
    pub quota_filing_kinds: Rule<Vec<String>>,
    /// 特殊情况申请经市级同意后未使用的有效天数（自然日）.
    pub exception_valid_days: Rule<u32>,
    /// 各备案类型提交时必须上传的材料 (filing kind key → material kind keys).
    pub required_materials: Rule<BTreeMap<String, Vec<String>>>,
    /// 书面承诺可免现场评估.
    pub enterprise_onsite_waiver_allowed: Rule<bool>,
    /// 专项职业能力考核备案仅由市级办理.
    pub special_ability_city_only: Rule<bool>,
    /// 增量增级别备案仅由市级办理.
    pub increment_city_only: Rule<bool>,
    /// 增量增级别备案开放月份 (1–12).
    pub increment_months: Rule<Vec<u32>>,
    /// 增量备案职业数上限.
    pub increment_max_occupations: Rule<u32>,
    /// 评价工作计划提前工作日数.
    pub plan_min_working_days: Rule<u32>,
    /// 纸质材料保存年限, from the record's closing date (read through [`crate::retention`]).
    pub retention_paper_years: Rule<u32>,
    /// 电子材料保存年限, from the record's closing date.
    pub retention_electronic_years: Rule<u32>,
    /// 证书数据长期保存: certificates never expire; only the process material behind them does.
    /// Optional in the file: older policy files keep certificates permanently.
    #[serde(default = "default_retention_certificates_permanent")]
    pub retention_certificates_permanent: Rule<bool>,
    /// 区县受理初次备案的等级 (numbers 1–5).
    pub district_initial_levels: Rule<Vec<u8>>,
    /// 移交备案完成期限.
    pub transferred_filings_deadline: Rule<NaiveDate>,
    /// 单科合格分数线（百分制）.
    pub pass_score: Rule<u32>,
    /// 评价结果公示工作日数.
    pub results_publicity_working_days: Rule<u32>,
    /// 备案公示期，工作日数.
    pub filing_publicity_days: Rule<u32>,
    /// 公示期是否计入发布当日 (one rule for every 公示).
    pub publicity_first_day_counts: Rule<bool>,
    /// 每次抽取专家人数.
    pub expert_draw_size: Rule<u32>,
    /// 专家回避：近若干个月评审过同一机构者不再抽取.
    pub expert_recent_review_months: Rule<u32>,
    /// 专家组多数意见不通过时，初评结果意见须写明继续报送的理由.
    pub expert_panel_fail_needs_reason: Rule<bool>,
    /// 评审督导由市人社局职建处会同市鉴定中心共同派遣；督导意见提交后方可市级审核.
    pub review_supervision_joint_dispatch: Rule<bool>,
    /// 证书编号第6–7位省份代码 (two digits). Optional in the file: older policy files get "41".
    #[serde(default = "default_cert_province_code")]
    pub cert_province_code: Rule<String>,
    /// 证书编号末六位序号是否按等级分别编号 (default no: one counter per institution and year).
    #[serde(default = "default_cert_serial_per_level")]
    pub cert_serial_per_level: Rule<bool>,
    /// 专项职业能力证书编号规则 (a [`crate::certno::PatternScheme`] pattern; an assumption).
    #[serde(default = "default_special_ability_cert_pattern")]
    pub special_ability_cert_pattern: Rule<String>,
}

fn default_retention_certificates_permanent() -> Rule<bool> {
    Rule {
        value: true,
        clause: "平台规定（二(三) 证书数据由市职业技能鉴定中心生成并公示查询，须长期可查；保存年限只适用于备案和评价过程资料）".into(),
        text: "职业技能等级证书数据长期保存、长期可查询验证；到期销毁的只是证书背后的评价过程资料（考生个人信息、照片、评价计划及督导材料等）。".into(),
    }
}

fn default_cert_province_code() -> Rule<String> {
    Rule {
        value: "41".into(),
        clause: "国家规定（人社鉴发〔2019〕2号，证书编号第6至7位为省份代码）".into(),
        text: "证书编号第6至7位为省份代码，河南省为41。".into(),
    }
}

fn default_cert_serial_per_level() -> Rule<bool> {
    Rule {
        value: false,
        clause: "平台默认值（人社鉴发〔2019〕2号未明确末6位序号是否按等级分别编号，待省级技能人才评价指导中心确认）".into(),
        text: "证书编号末6位为评价机构当年发证的流水序号，各等级共用一个序号，不按等级重新起编；编号一经使用不再重复。".into(),
    }
}

fn default_special_ability_cert_pattern() -> Rule<String> {
    Rule {
        value: crate::certno::PatternScheme::DEFAULT.into(),
        clause: "平台假定（国家未公布专项职业能力证书编号规则，待省级部门确认）".into(),
        text: "专项职业能力证书编号暂按：Z＋0000＋省份代码＋6位评价站点代码＋2位年份＋0＋6位序号，共22位；第1位Z、第16位0使其不会与职业技能等级证书编号重复。".into(),
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    #[error("规则文件格式错误：{0}")]
    Parse(String),
    #[error("规则“{rule}”的取值无效：{message}")]
    Invalid { rule: &'static str, message: String },
}

/// One line of the public 规则 page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RuleView {
    pub key: &'static str,
    pub name: &'static str,
    pub value: String,
    pub clause: String,
    pub text: String,
}

const ZHENGZHOU_2022: &str = include_str!("../../../../policy/zhengzhou-2022.toml");

fn invalid(rule: &'static str, message: impl Into<String>) -> PolicyError {
    PolicyError::Invalid {
        rule,
        message: message.into(),
    }
}

impl Policy {
    /// Parses a policy file; every rule must be present (a missing one is an error naming it).
    pub fn from_toml(text: &str) -> Result<Policy, PolicyError> {
        let p: Policy =
            toml::from_str(text).map_err(|e| PolicyError::Parse(e.message().to_string()))?;
        p.validate()?;
        Ok(p)
    }

    /// The built-in Zhengzhou policy (郑人社办〔2022〕87号).
    pub fn zhengzhou_2022() -> Policy {
        Policy::from_toml(ZHENGZHOU_2022).expect("policy/zhengzhou-2022.toml is valid")
    }

    fn validate(&self) -> Result<(), PolicyError> {
        if self.document.trim().is_empty() {
            return Err(invalid("document", "请填写文号"));
        }
        for v in self.rules() {
            if v.clause.trim().is_empty() {
                return Err(invalid(v.key, "缺少条款出处"));
            }
        }
        if self.increment_months.value.is_empty()
            || self
                .increment_months
                .value
                .iter()
                .any(|m| !(1..=12).contains(m))
        {
            return Err(invalid(
                "increment_months",
                "月份应为1至12之间的数字，且至少一个",
            ));
        }
        if self.district_initial_levels.value.is_empty()
            || self
                .district_initial_levels
                .value
                .iter()
                .any(|l| Level::from_u8(*l).is_none())
        {
            return Err(invalid(
                "district_initial_levels",
                "等级应为1至5之间的数字，且至少一个",
            ));
        }
        for k in &self.quota_filing_kinds.value {
            if FilingKind::parse(k).is_none() || k == FilingKind::Increment.as_str() {
                return Err(invalid(
                    "quota_filing_kinds",
                    format!("“{k}”不是可适用数量限制的备案类型（social_org、enterprise、special_ability）"),
                ));
            }
        }
        for (kind, materials) in &self.required_materials.value {
            if FilingKind::parse(kind).is_none() {
                return Err(invalid(
                    "required_materials",
                    format!("“{kind}”不是备案类型"),
                ));
            }
            if let Some(m) = materials
                .iter()
                .find(|m| !MATERIAL_KINDS.iter().any(|(k, _)| k == m))
            {
                return Err(invalid("required_materials", format!("“{m}”不是材料类别")));
            }
        }
        let p = &self.cert_province_code.value;
        if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid("cert_province_code", "省份代码应为2位数字"));
        }
        if let Err(e) =
            crate::certno::PatternScheme::new(&self.special_ability_cert_pattern.value, p)
        {
            return Err(invalid("special_ability_cert_pattern", e.to_string()));
        }
        if self.pass_score.value > 100 {
            return Err(invalid("pass_score", "合格分数线不能超过100分"));
        }
        for (key, rule) in [
            (
                "max_occupations_per_applicant",
                &self.max_occupations_per_applicant,
            ),
            (
                "max_institutions_per_occupation_per_district",
                &self.max_institutions_per_occupation_per_district,
            ),
            ("increment_max_occupations", &self.increment_max_occupations),
            ("expert_draw_size", &self.expert_draw_size),
        ] {
            if rule.value == 0 {
                return Err(invalid(key, "不能为0"));
            }
        }
        Ok(())
    }

    /// 证书编号方案 of this policy: the national layout for 职业技能等级证书 and the pattern
    /// for 专项职业能力证书 (both validated when the policy was loaded).
    pub fn numbering(&self) -> crate::certno::Numbering {
        use crate::certno::{NationalScheme, Numbering, PatternScheme};
        let province = self.cert_province_code.value.clone();
        Numbering {
            special_ability: Box::new(
                PatternScheme::new(&self.special_ability_cert_pattern.value, &province)
                    .expect("validated with the policy"),
            ),
            skill_level: Box::new(NationalScheme { province }),
            serial_per_level: self.cert_serial_per_level.value,
        }
    }

    /// 一(一): whether the two quotas (occupations per applicant, institutions per occupation per
    /// district) apply to filings of `kind`.
    pub fn quota_applies(&self, kind: FilingKind) -> bool {
        self.quota_filing_kinds
            .value
            .iter()
            .any(|k| k == kind.as_str())
    }

    /// The materials (key, label) a filing of `kind` must carry before it is submitted.
    pub fn required_materials(&self, kind: FilingKind) -> Vec<(&'static str, &'static str)> {
        let keys = self
            .required_materials
            .value
            .get(kind.as_str())
            .cloned()
            .unwrap_or_default();
        MATERIAL_KINDS
            .iter()
            .filter(|(k, _)| keys.iter().any(|x| x == k))
            .copied()
            .collect()
    }

    /// The last day an exception granted on `granted_on` may still be used.
    pub fn exception_expires_on(&self, granted_on: NaiveDate) -> NaiveDate {
        granted_on + chrono::Days::new(self.exception_valid_days.value as u64)
    }

    /// 公示期 of something published on `published_on`, for `days` (the filing or the results
    /// rule): every publicity period is counted by this one function.
    pub fn publicity_period(
        &self,
        cal: &HolidayCalendar,
        published_on: NaiveDate,
        days: &Rule<u32>,
    ) -> Result<crate::calendar::PublicityPeriod, CalendarError> {
        cal.publicity_period(
            published_on,
            days.value,
            self.publicity_first_day_counts.value,
        )
    }

    /// Whether the 三(三) campaign deadline has passed on `today` (the deadline day itself is in time).
    pub fn transferred_filings_overdue(&self, today: NaiveDate) -> bool {
        today > self.transferred_filings_deadline.value
    }
}

fn yuan(v: u64) -> String {
    if v >= 10_000 && matches!(v % 10_000, 0) {
        format!("{} 万元", v / 10_000)
    } else {
        format!("{v} 元")
    }
}

/// A refusal that names its rule and clause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Refusal {
    /// The policy key, e.g. "max_occupations_per_application".
    pub rule: &'static str,
    pub clause: String,
    pub message: String,
}

impl Refusal {
    fn new<T>(rule: &'static str, r: &Rule<T>, message: String) -> Refusal {
        Refusal {
            rule,
            clause: r.clause.clone(),
            message,
        }
    }
}

/// "{message}（依据：郑人社办〔2022〕87号 {clause}）". A clause that names its own source
/// (国家规定（…〔…〕…）, 平台默认值（…）) is printed as is, without the notice's number.
impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.clause.contains('〔')
            || self.clause.starts_with("平台")
            || self.clause.starts_with("国家")
        {
            write!(f, "{}（依据：{}）", self.message, self.clause)
        } else {
            write!(
                f,
                "{}（依据：郑人社办〔2022〕87号 {}）",
                self.message, self.clause
            )
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests;
