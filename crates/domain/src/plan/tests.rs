use super::*;
use crate::occupation::Level;
use crate::policy::Policy;

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn plan_online_submission_before_start() {
    assert!(check_online_submission_before_start(day(2026, 12, 7), day(2026, 12, 8)).is_ok());
    let r = check_online_submission_before_start(day(2026, 12, 8), day(2026, 12, 8)).unwrap_err();
    assert_eq!(
        (r.rule, r.clause.as_str()),
        ("plan_online_before_start", "二(二)")
    );
}

#[test]
fn paper_receipt_date_defaults_to_today_earlier_needs_reason() {
    let today = day(2026, 12, 2);
    assert!(check_paper_receipt_date(today, today, "").is_ok());
    assert_eq!(
        check_paper_receipt_date(today, day(2026, 12, 1), "")
            .unwrap_err()
            .field,
        "reason"
    );
    assert!(check_paper_receipt_date(today, day(2026, 12, 1), "补录").is_ok());
    assert_eq!(
        check_paper_receipt_date(today, day(2026, 12, 3), "x")
            .unwrap_err()
            .field,
        "paper_received_on"
    );
}

#[test]
fn results_after_evaluation() {
    let (start, end) = (day(2026, 12, 8), day(2026, 12, 9));
    let r = check_scores_may_be_entered(day(2026, 12, 2), start).unwrap_err();
    assert_eq!(
        (r.rule, r.clause.as_str()),
        ("results_after_evaluation", "二(三)")
    );
    assert!(check_scores_may_be_entered(start, start).is_ok());
    assert!(check_results_may_be_published(end, end).is_err());
    assert!(check_results_may_be_published(day(2026, 12, 10), end).is_ok());
}
use crate::calendar::HolidayCalendar;
use crate::policy::{check_plan_lead_time, PlanLeadError};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

/// The named rule test at domain level: 3 full working days between submission and
/// start, counted on the State Council calendar including 调休 working days.
#[test]
fn plan_three_working_days_rule() {
    let p = Policy::zhengzhou_2022();
    let cal = HolidayCalendar::builtin();
    // Ordinary week: Monday 2026-03-16 start → Wed/Thu/Fri must be free → Tuesday is last.
    assert!(check_plan_lead_time(&p, &cal, d(2026, 3, 10), d(2026, 3, 16)).is_ok());
    match check_plan_lead_time(&p, &cal, d(2026, 3, 11), d(2026, 3, 16)) {
        Err(PlanLeadError::Refused(r)) => {
            assert_eq!(r.rule, "plan_min_working_days");
            assert!(r.to_string().contains("二(二)"), "{r}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    // National Day 2026: 10-01..10-07 off, Saturday 10-10 is a make-up working day.
    // Start Monday 10-12: working days before it are 10-10 (Sat), 10-09, 10-08.
    // So the last submission day is 10-07 (a holiday); the last working day is 09-30.
    assert_eq!(
        cal.latest_submission_date(d(2026, 10, 12), 3).unwrap(),
        d(2026, 10, 7)
    );
    assert_eq!(
        cal.latest_working_submission_date(d(2026, 10, 12), 3)
            .unwrap(),
        d(2026, 9, 30)
    );
    assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 30), d(2026, 10, 12)).is_ok());
    // Submitting on 10-08 leaves only 10-09 and 10-10 strictly between → refused.
    assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 8), d(2026, 10, 12)).is_err());
    // Start Tuesday 10-13: working days before are 10-12, 10-10 (make-up Saturday), 10-09:
    // submitting on 10-08 is in time only because the Saturday counts.
    assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 8), d(2026, 10, 13)).is_ok());
    assert!(check_plan_lead_time(&p, &cal, d(2026, 10, 9), d(2026, 10, 13)).is_err());
    // Sunday 2026-09-20 is a make-up working day: start Wed 09-23 needs 09-22, 09-21, 09-20;
    // submitting on Saturday 09-19 is in time, on Sunday 09-20 it is not.
    assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 19), d(2026, 9, 23)).is_ok());
    assert!(check_plan_lead_time(&p, &cal, d(2026, 9, 20), d(2026, 9, 23)).is_err());
    // A year outside 2000–2100 is an error, never a guess.
    assert!(matches!(
        check_plan_lead_time(&p, &cal, d(2101, 1, 4), d(2101, 1, 20)),
        Err(PlanLeadError::Calendar(_))
    ));
}

#[test]
fn plan_workflow_needs_district_then_city() {
    use PlanCommand as C;
    use PlanStatus as S;
    let s = transition(S::Draft, Role::Institution, C::Submit).unwrap();
    assert_eq!(s, S::Submitted);
    // Approval before the paper copy is recorded is refused, naming 二(二).
    let e = transition(s, Role::District, C::DistrictApprove).unwrap_err();
    assert!(e.to_string().contains("纸质"), "{e}");
    assert!(e.to_string().contains("二(二)"), "{e}");
    let s = transition(s, Role::District, C::RecordPaper).unwrap();
    // The city cannot confirm before the district approved and the institution entered.
    assert!(transition(s, Role::CityCenter, C::CityConfirm).is_err());
    let s = transition(s, Role::District, C::DistrictApprove).unwrap();
    assert!(check_evaluation_may_start(s).is_err());
    assert!(transition(s, Role::CityCenter, C::CityConfirm).is_err());
    assert!(transition(s, Role::District, C::Enter).is_err());
    let s = transition(s, Role::Institution, C::Enter).unwrap();
    assert!(check_evaluation_may_start(s).is_err());
    let s = transition(s, Role::CityDivision, C::CityConfirm).unwrap();
    assert_eq!(s, S::CityConfirmed);
    assert!(check_evaluation_may_start(s).is_ok());
    // A change after approval goes back to draft (a new revision).
    assert_eq!(
        transition(s, Role::Institution, C::Revise).unwrap(),
        S::Draft
    );
    // Cancelled is final.
    let c = transition(S::Draft, Role::Institution, C::Cancel).unwrap();
    assert!(transition(c, Role::Institution, C::Submit).is_err());
    assert!(transition(c, Role::Institution, C::Cancel).is_err());
    // Wrong role.
    assert!(transition(S::Draft, Role::District, C::Submit).is_err());
    assert!(transition(S::Submitted, Role::Institution, C::RecordPaper).is_err());
}

#[test]
fn efiling_must_be_confirmed_before_plans() {
    let e = check_efiling_done(EfilingStatus::Submitted).unwrap_err();
    assert!(e.to_string().contains("二(二)"));
    assert!(check_efiling_done(EfilingStatus::Confirmed).is_ok());
}

fn content() -> PlanContent {
    PlanContent {
        occupation_id: 1,
        levels: vec![Level::Four],
        forms: vec![EvalForm::Theory, EvalForm::Skill],
        start_date: d(2026, 12, 7),
        end_date: d(2026, 12, 8),
        venue: "郑州市金水区示范路11号实训楼".into(),
        expected_candidates: 30,
        examiners: "李考评、王考评".into(),
        internal_supervisor: "赵督导".into(),
    }
}

#[test]
fn plan_only_filed_occupations_and_levels() {
    let filed = [Level::Five, Level::Four, Level::Three];
    assert!(validate_plan(&content(), Some(&filed)).is_ok());
    assert_eq!(
        validate_plan(&content(), None).unwrap_err().field,
        "occupation"
    );
    let mut c = content();
    c.levels = vec![Level::Two];
    assert_eq!(validate_plan(&c, Some(&filed)).unwrap_err().field, "levels");
    let mut c = content();
    c.forms.push(EvalForm::Review);
    let e = validate_plan(&c, Some(&filed)).unwrap_err();
    assert_eq!(e.field, "forms");
    let all = Level::ALL;
    c.levels = vec![Level::Two];
    assert!(validate_plan(&c, Some(&all)).is_ok());
}

#[test]
fn results_components_and_pass_score() {
    let p = Policy::zhengzhou_2022();
    let tsr = [EvalForm::Theory, EvalForm::Skill, EvalForm::Review];
    let r = evaluate_result(&p, &tsr, Level::Four, Some(60), Some(59), None).unwrap();
    assert!(!r.passed);
    assert_eq!(r.failed, vec![EvalForm::Skill]);
    assert!(
        evaluate_result(&p, &tsr, Level::Four, Some(60), Some(60), None)
            .unwrap()
            .passed
    );
    // 综合评审 is required for level 2 and refused for level 4.
    assert_eq!(
        evaluate_result(&p, &tsr, Level::Two, Some(90), Some(90), None)
            .unwrap_err()
            .field,
        "review_score"
    );
    assert!(evaluate_result(&p, &tsr, Level::Four, Some(90), Some(90), Some(90)).is_err());
    assert!(evaluate_result(&p, &tsr, Level::Four, Some(101), Some(90), None).is_err());
}

#[test]
fn letter_needs_three_signatures() {
    assert!(!evaluation_valid(&[Party::City, Party::District]));
    let e = check_evaluation_valid(&[Party::Institution]).unwrap_err();
    assert!(e.to_string().contains("市级督导员"));
    assert!(evaluation_valid(&[
        Party::Institution,
        Party::City,
        Party::District
    ]));
}

#[test]
fn supervisor_recusal() {
    let rel = vec!["师徒".to_string()];
    let s = SupervisorFacts {
        institution_id: None,
        employer: "",
        relations: &rel,
    };
    assert!(check_supervisor_conflict(&s, 1, "甲")
        .unwrap_err()
        .to_string()
        .contains("师徒"));
    let s = SupervisorFacts {
        institution_id: None,
        employer: "甲机构",
        relations: &[],
    };
    assert!(check_supervisor_conflict(&s, 1, "甲机构").is_err());
    assert!(check_supervisor_conflict(&s, 1, "乙机构").is_ok());
}

#[test]
fn names_are_masked() {
    assert_eq!(mask_name("张三"), "张*");
    assert_eq!(mask_name("欧阳娜娜"), "欧***");
    assert_eq!(mask_name("王"), "王*");
}
