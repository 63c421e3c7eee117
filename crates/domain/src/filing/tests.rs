use super::*;
use crate::institution::InstitutionKind;
use crate::occupation::Level;

fn p() -> Policy {
    Policy::zhengzhou_2022()
}
fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}
fn app(kind: FilingKind, inst: InstitutionKind, state: FilingState) -> AppState {
    AppState {
        flow: Flow::of(kind, inst),
        state,
        center_approved: false,
        division_approved: false,
        has_commitment: false,
        publicity_end: None,
    }
}
fn item(id: i64, new_occupation: bool) -> ItemFact {
    ItemFact {
        occupation_id: id,
        name: format!("职业{id}"),
        new_occupation,
    }
}
fn ok_facts() -> Facts {
    Facts {
        today: Some(d(2026, 3, 16)),
        items: vec![item(1, true), item(2, true)],
        increment_round: Some("2026-03".into()),
        levels: vec![Level::Five, Level::Four],
        legal_person: true,
        employees: 200,
        capital_yuan: 0,
        opinions_complete: true,
        publicity: Some(crate::calendar::PublicityPeriod {
            published_on: d(2026, 3, 16),
            from: d(2026, 3, 17),
            until: d(2026, 3, 23),
            working_days: 5,
            basis: crate::calendar::CalendarBasis::Official,
        }),
        ..Facts::default()
    }
}

#[test]
fn flows_differ_in_data() {
    let so = Flow::of(FilingKind::SocialOrg, InstitutionKind::SocialOrg);
    assert_eq!(so.route, Route::District);
    assert!(so.onsite_review && !so.waiver_allowed);
    let assoc = Flow::of(FilingKind::SocialOrg, InstitutionKind::Association);
    assert_eq!(assoc.route, Route::City);
    let ent = Flow::of(FilingKind::Enterprise, InstitutionKind::Enterprise);
    assert!(ent.waiver_allowed && ent.enterprise_eligibility);
    let sp = Flow::of(FilingKind::SpecialAbility, InstitutionKind::SocialOrg);
    assert_eq!((sp.route, sp.catalogue), (Route::City, Catalogue::Special));
    let inc = Flow::of(FilingKind::Increment, InstitutionKind::Enterprise);
    assert!(inc.window && inc.increment_count && inc.route == Route::City);
}

#[test]
fn city_only_flags_route_special_ability_and_increments() {
    let mut p = p();
    let sp = Flow::of(FilingKind::SpecialAbility, InstitutionKind::SocialOrg);
    let inc = Flow::of(FilingKind::Increment, InstitutionKind::Enterprise);
    assert_eq!(sp.under(&p).route, Route::City);
    assert_eq!(inc.under(&p).route, Route::City);
    p.special_ability_city_only.value = false;
    assert_eq!(sp.under(&p).route, Route::District);
    assert!(sp.under(&p).onsite_review);
    assert_eq!(inc.under(&p).route, Route::City);
    p.increment_city_only.value = false;
    assert_eq!(inc.under(&p).route, Route::District);
    // A submitted special-ability filing then waits for the district's 初审, not the city's.
    assert!(sp.under(&p).organised_by(Role::District));
    assert!(!sp.under(&p).organised_by(Role::CityCenter));
}

#[test]
fn social_org_walks_the_district_route() {
    let p = p();
    let f = ok_facts();
    let mut a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    let steps = [
        (Role::Institution, Command::Submit, FilingState::Submitted),
        (Role::District, Command::Pass, FilingState::DistrictPassed),
        (
            Role::District,
            Command::RecordDraw,
            FilingState::ExpertsDrawn,
        ),
        (
            Role::District,
            Command::CompleteOnsite,
            FilingState::OnsiteReviewed,
        ),
        (
            Role::District,
            Command::DistrictOpinion,
            FilingState::CityReview,
        ),
        (
            Role::CityDivision,
            Command::Approve,
            FilingState::CityReview,
        ),
        (Role::CityCenter, Command::Approve, FilingState::Publicity),
    ];
    for (role, cmd, to) in steps {
        let o = decide(&p, &a, role, &cmd, "同意", &f).unwrap();
        assert_eq!(o.to, to, "{cmd:?}");
        for e in &o.effects {
            match e {
                Effect::CenterKey => a.center_approved = true,
                Effect::DivisionKey => a.division_approved = true,
                Effect::StartPublicity { period } => a.publicity_end = Some(period.until),
                _ => {}
            }
        }
        a.state = o.to;
    }
    let early = Facts {
        today: Some(d(2026, 3, 23)),
        ..ok_facts()
    };
    assert!(matches!(
        decide(&p, &a, Role::CityCenter, &Command::Finish, "", &early),
        Err(FilingError::WrongState(_))
    ));
    let later = Facts {
        today: Some(d(2026, 3, 24)),
        ..ok_facts()
    };
    let o = decide(&p, &a, Role::CityCenter, &Command::Finish, "", &later).unwrap();
    assert_eq!(o.to, FilingState::Filed);
    assert!(o.effects.contains(&Effect::AssignFilingNo));
}

#[test]
fn roles_are_enforced_and_reasons_required() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::Submitted,
    );
    let e = decide(&p, &a, Role::Institution, &Command::Pass, "x", &ok_facts()).unwrap_err();
    assert!(matches!(e, FilingError::Forbidden(_)));
    let e = decide(&p, &a, Role::District, &Command::Return, " ", &ok_facts()).unwrap_err();
    assert_eq!(e, FilingError::ReasonRequired("退回补正"));
    // The city cannot act on the district's 初审.
    let e = decide(&p, &a, Role::CityCenter, &Command::Reject, "x", &ok_facts()).unwrap_err();
    assert!(matches!(e, FilingError::Forbidden(_)));
}

#[test]
fn same_key_twice_is_refused_and_either_can_return() {
    let p = p();
    let mut a = app(
        FilingKind::SpecialAbility,
        InstitutionKind::SocialOrg,
        FilingState::CityReview,
    );
    a.center_approved = true;
    let e = decide(&p, &a, Role::CityCenter, &Command::Approve, "", &ok_facts()).unwrap_err();
    assert!(matches!(e, FilingError::WrongState(_)));
    let o = decide(
        &p,
        &a,
        Role::CityDivision,
        &Command::Return,
        "材料不全",
        &ok_facts(),
    )
    .unwrap();
    assert_eq!(o.to, FilingState::Returned);
    assert!(o.effects.contains(&Effect::ClearKeys));
}

#[test]
fn city_route_is_reviewed_by_the_city() {
    let p = p();
    for (k, i) in [
        (FilingKind::SocialOrg, InstitutionKind::Association),
        (FilingKind::SpecialAbility, InstitutionKind::SocialOrg),
        (FilingKind::Increment, InstitutionKind::SocialOrg),
    ] {
        let mut a = app(k, i, FilingState::Draft);
        let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &ok_facts()).unwrap();
        assert_eq!(o.to, FilingState::Submitted, "{k:?}");
        a.state = o.to;
        // The district has no stage on the city route; approving before the review is refused.
        let e = decide(&p, &a, Role::District, &Command::Pass, "x", &ok_facts()).unwrap_err();
        assert!(matches!(e, FilingError::Forbidden(_)), "{k:?}");
        let e = decide(&p, &a, Role::CityCenter, &Command::Approve, "", &ok_facts());
        assert!(matches!(e, Err(FilingError::WrongState(_))), "{k:?}");
        let o = decide(
            &p,
            &a,
            Role::CityDivision,
            &Command::Pass,
            "受理",
            &ok_facts(),
        )
        .unwrap();
        assert_eq!(o.to, FilingState::DistrictPassed, "{k:?}");
        a.state = FilingState::ExpertsDrawn;
        // The city records how it reviewed.
        let e = decide(
            &p,
            &a,
            Role::CityCenter,
            &Command::CompleteOnsite,
            "完成",
            &ok_facts(),
        )
        .unwrap_err();
        assert_eq!(e.first_rule().unwrap().rule, "city_review_mode");
        assert_eq!(e.first_rule().unwrap().clause, k.clause());
        let f = Facts {
            review_mode: Some(ReviewMode::Written),
            ..ok_facts()
        };
        let o = decide(
            &p,
            &a,
            Role::CityCenter,
            &Command::CompleteOnsite,
            "材料齐备，书面评审",
            &f,
        )
        .unwrap();
        assert!(o
            .effects
            .contains(&Effect::RecordReviewMode(ReviewMode::Written)));
        a.state = o.to;
        let o = decide(
            &p,
            &a,
            Role::CityDivision,
            &Command::DistrictOpinion,
            "建议备案",
            &f,
        )
        .unwrap();
        assert_eq!(o.to, FilingState::CityReview);
    }
}

#[test]
fn district_review_is_on_site() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::ExpertsDrawn,
    );
    let f = Facts {
        review_mode: Some(ReviewMode::Written),
        ..ok_facts()
    };
    let e = decide(&p, &a, Role::District, &Command::CompleteOnsite, "x", &f).unwrap_err();
    assert_eq!(e.first_rule().unwrap().clause, "一(一)");
    // The city cannot take the district's review over.
    let e = decide(
        &p,
        &a,
        Role::CityCenter,
        &Command::CompleteOnsite,
        "x",
        &ok_facts(),
    )
    .unwrap_err();
    assert!(matches!(e, FilingError::Forbidden(_)));
}

#[test]
fn high_levels_at_first_filing_need_a_reason() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::Association,
        FilingState::Submitted,
    );
    let f = Facts {
        levels: vec![Level::Three, Level::Two],
        ..ok_facts()
    };
    let e = decide(&p, &a, Role::CityCenter, &Command::Pass, "受理", &f).unwrap_err();
    assert_eq!(e.first_rule().unwrap().clause, "三(一)");
    let f = Facts {
        high_level_reason: "协会具备技师评价条件".into(),
        ..f
    };
    let o = decide(&p, &a, Role::CityCenter, &Command::Pass, "受理", &f).unwrap();
    assert!(o
        .effects
        .contains(&Effect::HighLevelReason("协会具备技师评价条件".into())));
    // An increment adds levels by its nature: no extra reason.
    let inc = app(
        FilingKind::Increment,
        InstitutionKind::SocialOrg,
        FilingState::Submitted,
    );
    let f = Facts {
        levels: vec![Level::Two],
        ..ok_facts()
    };
    assert!(decide(&p, &inc, Role::CityCenter, &Command::Pass, "受理", &f).is_ok());
}

#[test]
fn panel_fail_majority_needs_a_reason() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::OnsiteReviewed,
    );
    let panel = Panel::of(["不通过", "不通过", "整改后通过"]);
    assert!(panel.fail_majority());
    assert!(!Panel::of(["不通过", "通过"]).fail_majority());
    let f = Facts {
        panel,
        ..ok_facts()
    };
    let e = decide(
        &p,
        &a,
        Role::District,
        &Command::DistrictOpinion,
        "建议备案",
        &f,
    )
    .unwrap_err();
    assert_eq!(
        e.first_rule().unwrap().rule,
        "expert_panel_fail_needs_reason"
    );
    let f = Facts {
        panel_override_reason: "整改已完成并经复核".into(),
        ..f
    };
    let o = decide(
        &p,
        &a,
        Role::District,
        &Command::DistrictOpinion,
        "建议备案",
        &f,
    )
    .unwrap();
    assert!(o.effects.contains(&Effect::PanelConclusion {
        summary: panel.summary(),
        override_reason: Some("整改已完成并经复核".into()),
    }));
}

#[test]
fn approve_waits_for_supervision_opinions() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::CityReview,
    );
    let f = Facts {
        supervision_opinions_missing: 1,
        ..ok_facts()
    };
    let e = decide(&p, &a, Role::CityCenter, &Command::Approve, "", &f).unwrap_err();
    assert_eq!(
        e.first_rule().unwrap().rule,
        "review_supervision_joint_dispatch"
    );
    assert!(decide(&p, &a, Role::CityCenter, &Command::Approve, "", &ok_facts()).is_ok());
}

#[test]
fn waiver_needs_commitment_and_enterprise() {
    let p = p();
    let mut a = app(
        FilingKind::Enterprise,
        InstitutionKind::Enterprise,
        FilingState::DistrictPassed,
    );
    let e = decide(
        &p,
        &a,
        Role::District,
        &Command::WaiveOnsite,
        "承诺",
        &ok_facts(),
    )
    .unwrap_err();
    assert_eq!(e.first_rule().unwrap().clause, "一(二)2");
    a.has_commitment = true;
    let o = decide(
        &p,
        &a,
        Role::District,
        &Command::WaiveOnsite,
        "承诺",
        &ok_facts(),
    )
    .unwrap();
    assert_eq!(o.to, FilingState::OnsiteReviewed);
    let so = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::DistrictPassed,
    );
    assert!(decide(
        &p,
        &so,
        Role::District,
        &Command::WaiveOnsite,
        "x",
        &ok_facts()
    )
    .is_err());
}

#[test]
fn submission_rules_name_their_clauses() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    let f = Facts {
        items: (1..=4).map(|i| item(i, true)).collect(),
        levels: vec![Level::Two],
        quota: vec![QuotaFact {
            name: "电工".into(),
            occupation_id: 1,
            holders: 3,
        }],
        missing_materials: vec!["备案申请表".into()],
        ..ok_facts()
    };
    let e = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap_err();
    let FilingError::Rules(rs) = e else { panic!() };
    let rules: Vec<_> = rs.iter().map(|r| (r.rule, r.clause.as_str())).collect();
    assert_eq!(
        rules,
        vec![
            ("required_materials", p.required_materials.clause.as_str()),
            ("max_occupations_per_applicant", "一(一)"),
            ("district_initial_levels", "三(一)"),
            ("max_institutions_per_occupation_per_district", "一(一)"),
        ]
    );
    let inc = app(
        FilingKind::Increment,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    let f = Facts {
        today: Some(d(2026, 4, 1)),
        increment_round: None,
        ..ok_facts()
    };
    let e = decide(&p, &inc, Role::Institution, &Command::Submit, "", &f).unwrap_err();
    assert_eq!(e.first_rule().unwrap().clause, "一(四)");
    let ent = app(
        FilingKind::Enterprise,
        InstitutionKind::Enterprise,
        FilingState::Draft,
    );
    let f = Facts {
        employees: 10,
        capital_yuan: 10,
        ..ok_facts()
    };
    let e = decide(&p, &ent, Role::Institution, &Command::Submit, "", &f).unwrap_err();
    assert_eq!(e.first_rule().unwrap().clause, "一(二)1(2)");
}

#[test]
fn occupation_limit_per_applicant() {
    let p = p();
    let flow = Flow::of(FilingKind::SocialOrg, InstitutionKind::SocialOrg);
    // Two here, two in another open application: four in all.
    let f = Facts {
        occupations_elsewhere: vec![7, 8],
        ..ok_facts()
    };
    let r = occupation_limit(&p, &flow, &f).unwrap_err();
    assert_eq!(r.rule, "max_occupations_per_applicant");
    assert!(r.message.contains("现为4个"), "{}", r.message);
    // The same occupation in two applications counts once.
    let f = Facts {
        occupations_elsewhere: vec![1, 7],
        ..ok_facts()
    };
    assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![]));
    // An exception naming one of this application's occupations lets it through, and is used.
    let f = Facts {
        occupations_elsewhere: vec![7, 8],
        exceptions: vec![GrantedException {
            id: 9,
            rule: "max_occupations_per_applicant".into(),
            occupations: vec![2],
        }],
        ..ok_facts()
    };
    assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![9]));
    // An exception for another rule, or for occupations not in this application, does not.
    let mut g = f.clone();
    g.exceptions[0].occupations = vec![5];
    assert!(occupation_limit(&p, &flow, &g).is_err());
    g.exceptions[0] = GrantedException {
        id: 9,
        rule: "increment_max_occupations".into(),
        occupations: vec![2],
    };
    assert!(occupation_limit(&p, &flow, &g).is_err());
    // Enterprises and special-ability filings have no occupation quota under this policy.
    for k in [FilingKind::Enterprise, FilingKind::SpecialAbility] {
        let flow = Flow::of(k, InstitutionKind::Enterprise);
        assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![]));
    }
}

#[test]
fn increment_levels_do_not_count_and_exception_takes_effect() {
    let p = p();
    let flow = Flow::of(FilingKind::Increment, InstitutionKind::SocialOrg);
    // Three new occupations plus two level additions: within the limit of three.
    let mut f = Facts {
        items: vec![
            item(1, true),
            item(2, true),
            item(3, true),
            item(4, false),
            item(5, false),
        ],
        ..ok_facts()
    };
    assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![]));
    // A fourth new occupation in another increment of the same round is counted.
    f.occupations_elsewhere = vec![6];
    let r = occupation_limit(&p, &flow, &f).unwrap_err();
    assert_eq!(
        (r.rule, r.clause.as_str()),
        ("increment_max_occupations", "一(四)")
    );
    f.exceptions = vec![GrantedException {
        id: 4,
        rule: "increment_max_occupations".into(),
        occupations: vec![3],
    }];
    assert_eq!(occupation_limit(&p, &flow, &f), Ok(vec![4]));
    let a = app(
        FilingKind::Increment,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap();
    assert!(o.effects.contains(&Effect::UseException(4)));
    assert!(o.effects.contains(&Effect::EnterRound("2026-03".into())));
}

#[test]
fn filed_institution_uses_increments() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    let f = Facts {
        filed_institution: true,
        ..ok_facts()
    };
    let e = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap_err();
    let r = e.first_rule().unwrap();
    assert_eq!(
        (r.rule, r.clause.as_str()),
        ("increment_for_filed_institutions", "一(四)")
    );
    let inc = app(
        FilingKind::Increment,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    assert!(decide(&p, &inc, Role::Institution, &Command::Submit, "", &f).is_ok());
}

#[test]
fn quota_exception_is_used_at_submission_and_pass() {
    let p = p();
    let a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::Draft,
    );
    let f = Facts {
        quota: vec![QuotaFact {
            name: "电工".into(),
            occupation_id: 1,
            holders: 3,
        }],
        exceptions: vec![GrantedException {
            id: 5,
            rule: "max_institutions_per_occupation_per_district".into(),
            occupations: vec![1],
        }],
        ..ok_facts()
    };
    let o = decide(&p, &a, Role::Institution, &Command::Submit, "", &f).unwrap();
    assert!(o.effects.contains(&Effect::UseException(5)));
    // Enterprises are not under the per-district cap.
    let ent = app(
        FilingKind::Enterprise,
        InstitutionKind::Enterprise,
        FilingState::Draft,
    );
    let g = Facts {
        exceptions: vec![],
        ..f.clone()
    };
    let o = decide(&p, &ent, Role::Institution, &Command::Submit, "", &g).unwrap();
    assert!(!o
        .effects
        .iter()
        .any(|e| matches!(e, Effect::UseException(_))));
    assert!(decide(&p, &a, Role::Institution, &Command::Submit, "", &g).is_err());
}

#[test]
fn objection_pauses_and_resolves() {
    let p = p();
    let mut a = app(
        FilingKind::SocialOrg,
        InstitutionKind::SocialOrg,
        FilingState::Publicity,
    );
    a.publicity_end = Some(d(2026, 3, 20));
    let o = decide(
        &p,
        &a,
        Role::CityCenter,
        &Command::Object,
        "举报",
        &ok_facts(),
    )
    .unwrap();
    assert_eq!(o.to, FilingState::PublicityPaused);
    a.state = o.to;
    assert!(decide(&p, &a, Role::CityCenter, &Command::Finish, "", &ok_facts()).is_err());
    let o = decide(
        &p,
        &a,
        Role::CityDivision,
        &Command::ResolveObjection { upheld: false },
        "不成立",
        &ok_facts(),
    )
    .unwrap();
    assert_eq!(o.to, FilingState::Publicity);
    let o = decide(
        &p,
        &a,
        Role::CityDivision,
        &Command::ResolveObjection { upheld: true },
        "成立",
        &ok_facts(),
    )
    .unwrap();
    assert_eq!(o.to, FilingState::Rejected);
}

#[test]
fn available_lists_buttons() {
    let a = app(
        FilingKind::Enterprise,
        InstitutionKind::Enterprise,
        FilingState::DistrictPassed,
    );
    let cmds = available(&p(), &a, Role::District);
    assert!(cmds.contains(&Command::WaiveOnsite));
    assert!(cmds.contains(&Command::Reject));
    assert!(!cmds.contains(&Command::Pass));
    assert!(available(&p(), &a, Role::Expert).is_empty());
}

#[test]
fn filing_numbers_come_from_row_ids() {
    assert_eq!(filing_number(2026, 42), "郑人社评备〔2026〕00042号");
}
