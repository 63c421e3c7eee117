//! Every rule of a policy with its value and clause, in the order of the notice, as listed on
//! the public 规则 page.

use super::{yuan, Policy, Rule, RuleView};
use crate::filing::FilingKind;
use crate::occupation::Level;

impl Policy {
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
}
