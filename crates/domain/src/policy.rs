//! 规则: the values of 郑人社办〔2022〕87号 as data, each with its clause, and the checks
//! that refuse with a citation. Another city adopts the platform by writing its own policy file.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{CalendarError, HolidayCalendar};
use crate::filing::{FilingKind, MATERIAL_KINDS};
use crate::occupation::Level;

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

const ZHENGZHOU_2022: &str = include_str!("../../../policy/zhengzhou-2022.toml");

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

    /// Every rule, in the order of the notice, for the public 规则 page.
    pub fn rules(&self) -> Vec<RuleView> {
        fn view<T>(key: &'static str, name: &'static str, r: &Rule<T>, value: String) -> RuleView {
            RuleView {
                key,
                name,
                value,
                clause: r.clause.clone(),
                text: r.text.clone(),
            }
        }
        let yes = |b: bool| {
            if b {
                "是".to_string()
            } else {
                "否".to_string()
            }
        };
        let months = self
            .increment_months
            .value
            .iter()
            .map(|m| format!("{m}月"))
            .collect::<Vec<_>>()
            .join("、");
        let levels = self
            .district_initial_levels
            .value
            .iter()
            .filter_map(|l| Level::from_u8(*l))
            .map(Level::name)
            .collect::<Vec<_>>()
            .join("、");
        vec![
            view(
                "max_occupations_per_applicant",
                "申报单位申报职业（工种）数上限（各申请合计）",
                &self.max_occupations_per_applicant,
                format!("{} 个", self.max_occupations_per_applicant.value),
            ),
            view(
                "max_institutions_per_occupation_per_district",
                "同一职业（工种）同一区县（市）备案机构数上限",
                &self.max_institutions_per_occupation_per_district,
                format!(
                    "{} 家",
                    self.max_institutions_per_occupation_per_district.value
                ),
            ),
            view(
                "quota_filing_kinds",
                "上述两项数量限制适用的备案类型",
                &self.quota_filing_kinds,
                self.quota_filing_kinds
                    .value
                    .iter()
                    .filter_map(|k| FilingKind::parse(k))
                    .map(FilingKind::label)
                    .collect::<Vec<_>>()
                    .join("、"),
            ),
            view(
                "exception_valid_days",
                "特殊情况申请同意后的有效期（未使用即失效）",
                &self.exception_valid_days,
                format!("{} 天", self.exception_valid_days.value),
            ),
            view(
                "required_materials",
                "提交备案申请须上传的材料",
                &self.required_materials,
                FilingKind::ALL
                    .iter()
                    .map(|k| {
                        let list = self
                            .required_materials(*k)
                            .iter()
                            .map(|(_, label)| *label)
                            .collect::<Vec<_>>();
                        format!(
                            "{}：{}",
                            k.label(),
                            if list.is_empty() {
                                "无".to_string()
                            } else {
                                list.join("、")
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("；"),
            ),
            view(
                "enterprise_requires_legal_person",
                "企业须有独立法人",
                &self.enterprise_requires_legal_person,
                yes(self.enterprise_requires_legal_person.value),
            ),
            view(
                "enterprise_min_employees",
                "企业注册员工数（与注册资金满足其一）",
                &self.enterprise_min_employees,
                format!("{} 人以上", self.enterprise_min_employees.value),
            ),
            view(
                "enterprise_min_capital_yuan",
                "企业注册资金（与员工数满足其一）",
                &self.enterprise_min_capital_yuan,
                format!("{}以上", yuan(self.enterprise_min_capital_yuan.value)),
            ),
            view(
                "enterprise_occupation_in_business_scope",
                "申报职业（工种）须在企业主营业务范围内",
                &self.enterprise_occupation_in_business_scope,
                yes(self.enterprise_occupation_in_business_scope.value),
            ),
            view(
                "enterprise_onsite_waiver_allowed",
                "企业书面承诺可免现场评估",
                &self.enterprise_onsite_waiver_allowed,
                yes(self.enterprise_onsite_waiver_allowed.value),
            ),
            view(
                "special_ability_city_only",
                "专项职业能力考核备案由市级办理",
                &self.special_ability_city_only,
                yes(self.special_ability_city_only.value),
            ),
            view(
                "increment_city_only",
                "增量增级别备案由市级办理",
                &self.increment_city_only,
                yes(self.increment_city_only.value),
            ),
            view(
                "increment_months",
                "增量增级别备案开放月份",
                &self.increment_months,
                months,
            ),
            view(
                "increment_max_occupations",
                "增量备案职业（工种）数上限",
                &self.increment_max_occupations,
                format!("{} 个", self.increment_max_occupations.value),
            ),
            view(
                "plan_min_working_days",
                "评价工作计划提前提交",
                &self.plan_min_working_days,
                format!("{} 个工作日", self.plan_min_working_days.value),
            ),
            view(
                "retention_paper_years",
                "纸质材料保存年限",
                &self.retention_paper_years,
                format!("{} 年", self.retention_paper_years.value),
            ),
            view(
                "retention_electronic_years",
                "电子材料保存年限",
                &self.retention_electronic_years,
                format!("{} 年", self.retention_electronic_years.value),
            ),
            view(
                "retention_certificates_permanent",
                "证书数据长期保存",
                &self.retention_certificates_permanent,
                yes(self.retention_certificates_permanent.value),
            ),
            view(
                "district_initial_levels",
                "区县（市）受理初次备案的等级",
                &self.district_initial_levels,
                levels,
            ),
            view(
                "transferred_filings_deadline",
                "移交备案完成期限",
                &self.transferred_filings_deadline,
                self.transferred_filings_deadline
                    .value
                    .format("%Y年%m月%d日")
                    .to_string(),
            ),
            view(
                "pass_score",
                "单科合格分数线",
                &self.pass_score,
                format!("{} 分", self.pass_score.value),
            ),
            view(
                "results_publicity_working_days",
                "评价结果公示期",
                &self.results_publicity_working_days,
                format!("{} 个工作日", self.results_publicity_working_days.value),
            ),
            view(
                "filing_publicity_days",
                "备案公示期",
                &self.filing_publicity_days,
                format!("{} 个工作日", self.filing_publicity_days.value),
            ),
            view(
                "publicity_first_day_counts",
                "公示期起算",
                &self.publicity_first_day_counts,
                if self.publicity_first_day_counts.value {
                    "发布当日为工作日的，计入公示期".to_string()
                } else {
                    "发布当日不计入，自下一个工作日起算".to_string()
                },
            ),
            view(
                "expert_draw_size",
                "每次抽取评审专家人数",
                &self.expert_draw_size,
                format!("{} 名", self.expert_draw_size.value),
            ),
            view(
                "expert_recent_review_months",
                "专家回避期",
                &self.expert_recent_review_months,
                format!("{} 个月", self.expert_recent_review_months.value),
            ),
            view(
                "expert_panel_fail_needs_reason",
                "专家组多数不通过时报送须写明理由",
                &self.expert_panel_fail_needs_reason,
                yes(self.expert_panel_fail_needs_reason.value),
            ),
            view(
                "review_supervision_joint_dispatch",
                "评审督导由市级两部门共同派遣",
                &self.review_supervision_joint_dispatch,
                yes(self.review_supervision_joint_dispatch.value),
            ),
            view(
                "cert_province_code",
                "证书编号省份代码",
                &self.cert_province_code,
                self.cert_province_code.value.clone(),
            ),
            view(
                "cert_serial_per_level",
                "证书编号序号按等级分别编号",
                &self.cert_serial_per_level,
                yes(self.cert_serial_per_level.value),
            ),
            view(
                "special_ability_cert_pattern",
                "专项职业能力证书编号规则",
                &self.special_ability_cert_pattern,
                self.special_ability_cert_pattern.value.clone(),
            ),
        ]
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p() -> Policy {
        Policy::zhengzhou_2022()
    }

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn certificate_numbering_policy_defaults_and_old_files_load() {
        let p = p();
        assert!(!p.cert_serial_per_level.value);
        assert!(p
            .cert_serial_per_level
            .clause
            .contains("人社鉴发〔2019〕2号"));
        assert_eq!(p.cert_province_code.value, "41");
        let n = p.numbering();
        assert!(!n.serial_per_level);
        assert_eq!(
            n.validate_any("S000041000123265000001").unwrap(),
            crate::certno::CertificateType::SkillLevel
        );
        // A policy file written before these rules existed still loads, with the defaults.
        let old: String = ZHENGZHOU_2022
            .split("\n[cert_province_code]")
            .next()
            .unwrap()
            .to_string();
        assert!(!old.contains("cert_serial_per_level"));
        let q = Policy::from_toml(&old).unwrap();
        assert_eq!(q.cert_serial_per_level, p.cert_serial_per_level);
        assert_eq!(
            q.special_ability_cert_pattern,
            p.special_ability_cert_pattern
        );
        // Per-level serials and a bad pattern are read and checked.
        let per_level = ZHENGZHOU_2022.replace(
            "[cert_serial_per_level]\nvalue = false",
            "[cert_serial_per_level]\nvalue = true",
        );
        assert!(
            Policy::from_toml(&per_level)
                .unwrap()
                .numbering()
                .serial_per_level
        );
        let bad = ZHENGZHOU_2022.replace(
            "value = \"Z0000{province}{site}{yy}0{serial:6}\"",
            "value = \"Z{site}\"",
        );
        let e = Policy::from_toml(&bad).unwrap_err();
        assert!(
            e.to_string().contains("special_ability_cert_pattern")
                || e.to_string().contains("serial"),
            "{e}"
        );
        assert!(p
            .rules()
            .iter()
            .any(|r| r.key == "cert_serial_per_level" && r.value == "否"));
    }

    #[test]
    fn policy_file_holds_the_notice_values() {
        let p = p();
        assert_eq!(p.document, "郑人社办〔2022〕87号");
        assert_eq!(p.max_occupations_per_applicant.value, 3);
        assert_eq!(p.max_occupations_per_applicant.clause, "一(一)");
        assert_eq!(p.quota_filing_kinds.value, vec!["social_org".to_string()]);
        assert_eq!(p.max_institutions_per_occupation_per_district.value, 3);
        assert!(p.enterprise_requires_legal_person.value);
        assert_eq!(p.enterprise_min_employees.value, 150);
        assert_eq!(p.enterprise_min_capital_yuan.value, 3_000_000);
        assert_eq!(p.enterprise_min_capital_yuan.clause, "一(二)1(2)");
        assert_eq!(p.increment_months.value, vec![3, 9]);
        assert_eq!(p.increment_max_occupations.clause, "一(四)");
        assert_eq!(p.plan_min_working_days.value, 3);
        assert_eq!(p.plan_min_working_days.clause, "二(二)");
        assert_eq!(
            (
                p.retention_paper_years.value,
                p.retention_electronic_years.value
            ),
            (3, 5)
        );
        assert_eq!(p.district_initial_levels.value, vec![5, 4, 3]);
        assert_eq!(p.district_initial_levels.clause, "三(一)");
        assert_eq!(p.transferred_filings_deadline.value, d(2022, 4, 30));
        assert_eq!(p.pass_score.value, 60);
        assert!(p.pass_score.clause.contains("人社职司便函〔2020〕17号"));
        assert_eq!(p.results_publicity_working_days.value, 5);
        assert_eq!(p.filing_publicity_days.value, 5);
        assert_eq!(p.expert_draw_size.value, 3);
        assert_eq!(p.expert_recent_review_months.value, 12);
    }

    #[test]
    fn policy_rules_page_lists_every_rule_with_clause() {
        let rules = p().rules();
        // Every rule of the policy file is listed, once.
        let file: toml::Table = toml::from_str(ZHENGZHOU_2022).unwrap();
        let mut in_file: Vec<&str> = file
            .iter()
            .filter(|(_, v)| v.is_table())
            .map(|(k, _)| k.as_str())
            .collect();
        let mut listed: Vec<&str> = rules.iter().map(|r| r.key).collect();
        in_file.sort();
        listed.sort();
        assert_eq!(listed, in_file);
        assert!(rules
            .iter()
            .all(|r| !r.clause.is_empty() && !r.text.is_empty() && !r.value.is_empty()));
        let cap = rules
            .iter()
            .find(|r| r.key == "enterprise_min_capital_yuan")
            .unwrap();
        assert_eq!(cap.value, "300 万元以上");
        let lv = rules
            .iter()
            .find(|r| r.key == "district_initial_levels")
            .unwrap();
        assert_eq!(lv.value, "五级/初级工、四级/中级工、三级/高级工");
        let m = rules.iter().find(|r| r.key == "increment_months").unwrap();
        assert_eq!(m.value, "3月、9月");
    }

    #[test]
    fn policy_missing_rule_is_an_error() {
        let text = ZHENGZHOU_2022.replace("[pass_score]", "[pass_score_typo]");
        let e = Policy::from_toml(&text).unwrap_err();
        assert!(matches!(e, PolicyError::Parse(_)), "{e}");
        assert!(e.to_string().starts_with("规则文件格式错误"), "{e}");
    }

    #[test]
    fn policy_invalid_values_are_refused() {
        let text = ZHENGZHOU_2022.replace("value = [3, 9]", "value = [3, 13]");
        let e = Policy::from_toml(&text).unwrap_err();
        assert_eq!(
            e,
            invalid("increment_months", "月份应为1至12之间的数字，且至少一个")
        );
        let text = ZHENGZHOU_2022.replace("value = [5, 4, 3]", "value = [5, 4, 0]");
        assert!(Policy::from_toml(&text).is_err());
    }

    #[test]
    fn policy_another_city_can_change_values() {
        let text = ZHENGZHOU_2022.replace(
            "[max_occupations_per_applicant]\nvalue = 3",
            "[max_occupations_per_applicant]\nvalue = 5",
        );
        let other = Policy::from_toml(&text).unwrap();
        assert_eq!(other.max_occupations_per_applicant.value, 5);
        assert!(check_occupation_count(&other, 5, 0).is_ok());
        assert!(check_occupation_count(&p(), 5, 0).is_err());
        // Enterprises can be put under the quotas by the policy file.
        assert!(!p().quota_applies(FilingKind::Enterprise));
        let text = ZHENGZHOU_2022.replace(
            "value = [\"social_org\"]",
            "value = [\"social_org\", \"enterprise\"]",
        );
        assert!(Policy::from_toml(&text)
            .unwrap()
            .quota_applies(FilingKind::Enterprise));
    }

    #[test]
    fn max_occupations_per_applicant() {
        let p = p();
        assert!(check_occupation_count(&p, 3, 2).is_ok());
        let r = check_occupation_count(&p, 4, 2).unwrap_err();
        assert_eq!(r.rule, "max_occupations_per_applicant");
        assert_eq!(r.clause, "一(一)");
        assert!(
            r.message
                .contains("合计不得超过3个，现为4个，其中本单位其他在办或已备案的申请2个"),
            "{}",
            r.message
        );
        assert!(
            r.to_string()
                .ends_with("（依据：郑人社办〔2022〕87号 一(一)）"),
            "{r}"
        );
    }

    #[test]
    fn quotas_apply_to_social_orgs_only() {
        let p = p();
        assert!(p.quota_applies(FilingKind::SocialOrg));
        for k in [
            FilingKind::Enterprise,
            FilingKind::SpecialAbility,
            FilingKind::Increment,
        ] {
            assert!(!p.quota_applies(k), "{k:?}");
        }
        let text = ZHENGZHOU_2022.replace("value = [\"social_org\"]", "value = [\"increment\"]");
        assert!(Policy::from_toml(&text).is_err());
    }

    #[test]
    fn required_materials_per_kind() {
        let p = p();
        let so: Vec<_> = p
            .required_materials(FilingKind::SocialOrg)
            .iter()
            .map(|(k, _)| *k)
            .collect();
        assert_eq!(so, vec!["application_form", "qualification", "scheme"]);
        assert!(!p.required_materials(FilingKind::Enterprise).is_empty());
        let text = ZHENGZHOU_2022.replace("\"scheme\"]", "\"schema\"]");
        let e = Policy::from_toml(&text).unwrap_err();
        assert!(e.to_string().contains("schema"), "{e}");
    }

    #[test]
    fn exception_validity_period() {
        let p = p();
        assert_eq!(
            p.exception_expires_on(d(2026, 3, 2)),
            d(2026, 3, 2) + chrono::Days::new(p.exception_valid_days.value as u64)
        );
    }

    #[test]
    fn increment_max_occupations() {
        let p = p();
        assert!(check_increment_occupation_count(&p, 3, 1).is_ok());
        let r = check_increment_occupation_count(&p, 4, 1).unwrap_err();
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("increment_max_occupations", "一(四)")
        );
        assert!(r.message.contains("增级别不计"), "{}", r.message);
    }

    #[test]
    fn max_institutions_per_occupation_per_district() {
        let p = p();
        assert!(check_institutions_per_occupation(&p, 2, false).is_ok());
        let r = check_institutions_per_occupation(&p, 3, false).unwrap_err();
        assert_eq!(r.rule, "max_institutions_per_occupation_per_district");
        assert_eq!(r.clause, "一(一)");
        assert!(r.message.contains("已有3家"), "{}", r.message);
        assert!(check_institutions_per_occupation(&p, 3, true).is_ok());
    }

    #[test]
    fn enterprise_requires_legal_person_and_size() {
        let p = p();
        // Either employees or capital suffices; thresholds are inclusive.
        assert!(check_enterprise_eligibility(&p, true, 150, 0).is_ok());
        assert!(check_enterprise_eligibility(&p, true, 10, 3_000_000).is_ok());
        let r = check_enterprise_eligibility(&p, true, 149, 2_999_999).unwrap_err();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].rule, "enterprise_min_employees");
        assert_eq!(r[0].clause, "一(二)1(2)");
        // All failures are reported at once.
        let r = check_enterprise_eligibility(&p, false, 20, 100_000).unwrap_err();
        let rules: Vec<_> = r.iter().map(|x| x.rule).collect();
        assert_eq!(
            rules,
            vec![
                "enterprise_requires_legal_person",
                "enterprise_min_employees"
            ]
        );
        assert_eq!(r[0].clause, "一(二)1(1)");
        let r = check_enterprise_eligibility(&p, false, 500, 0).unwrap_err();
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn increment_months_window() {
        let p = p();
        assert!(check_increment_window(&p, d(2026, 3, 1)).is_ok());
        assert!(check_increment_window(&p, d(2026, 9, 30)).is_ok());
        let r = check_increment_window(&p, d(2026, 4, 1)).unwrap_err();
        assert_eq!((r.rule, r.clause.as_str()), ("increment_months", "一(四)"));
        assert!(r.message.contains("3月和9月"), "{}", r.message);
        assert!(check_increment_window(&p, d(2026, 2, 28)).is_err());
    }

    #[test]
    fn district_initial_levels() {
        let p = p();
        assert!(
            check_district_initial_levels(&p, &[Level::Five, Level::Four, Level::Three]).is_ok()
        );
        let r = check_district_initial_levels(&p, &[Level::Three, Level::Two]).unwrap_err();
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("district_initial_levels", "三(一)")
        );
        assert!(
            r.message.contains("二级/技师需向市级人社部门申请"),
            "{}",
            r.message
        );
        assert!(!r.message.contains("三级/高级工需"), "{}", r.message);
    }

    #[test]
    fn plan_min_working_days() {
        let p = p();
        let cal = HolidayCalendar::builtin();
        // Monday 2026-03-16: Tuesday 03-10 is the last day; Wednesday is too late.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 3, 10), d(2026, 3, 16)).is_ok());
        let e = check_plan_lead_time(&p, &cal, d(2026, 3, 11), d(2026, 3, 16)).unwrap_err();
        let PlanLeadError::Refused(r) = e else {
            panic!("expected refusal")
        };
        assert_eq!(
            (r.rule, r.clause.as_str()),
            ("plan_min_working_days", "二(二)")
        );
        assert!(
            r.message.contains("最晚应于2026年03月10日提交"),
            "{}",
            r.message
        );
        assert!(r.message.contains("仅有2个工作日"), "{}", r.message);
        // Make-up Saturday 10/10 counts; the National Day holiday does not.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 30), d(2026, 10, 12)).is_ok());
        assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 8), d(2026, 10, 12)).is_err());
        // Submitting on or after the start is refused.
        assert!(check_plan_lead_time(&p, &cal, d(2026, 3, 16), d(2026, 3, 16)).is_err());
        assert!(check_plan_lead_time(&p, &cal, d(2026, 3, 20), d(2026, 3, 16)).is_err());
    }

    #[test]
    fn plan_min_working_days_out_of_range_year_surfaces_calendar_error() {
        let p = p();
        let cal = HolidayCalendar::builtin();
        // A provisional year answers; only years outside 2000–2100 are an error.
        assert!(check_plan_lead_time(&p, &cal, d(2027, 1, 4), d(2027, 1, 20)).is_ok());
        let e = check_plan_lead_time(&p, &cal, d(2101, 1, 4), d(2101, 1, 20)).unwrap_err();
        assert_eq!(
            e,
            PlanLeadError::Calendar(CalendarError::YearOutOfRange(2101))
        );
    }

    #[test]
    fn pass_score() {
        let p = p();
        assert!(component_passes(&p, 60));
        assert!(component_passes(&p, 100));
        assert!(!component_passes(&p, 59));
    }

    #[test]
    fn refusal_citing_national_rule_names_its_own_source() {
        let p = p();
        let r = Refusal::new("pass_score", &p.pass_score, "成绩不合格".into());
        assert_eq!(
            r.to_string(),
            "成绩不合格（依据：国家规定（人社职司便函〔2020〕17号））"
        );
    }

    #[test]
    fn transferred_filings_deadline() {
        let p = p();
        assert!(!p.transferred_filings_overdue(d(2022, 4, 30)));
        assert!(p.transferred_filings_overdue(d(2022, 5, 1)));
    }
}
