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
        e.to_string().contains("special_ability_cert_pattern") || e.to_string().contains("serial"),
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
    assert!(check_district_initial_levels(&p, &[Level::Five, Level::Four, Level::Three]).is_ok());
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
