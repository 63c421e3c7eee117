//! Demo data of 机构备案: the expert library (one record per expert-N account) and filing
//! applications of every kind at every stage. Called from `demo::seed`.

use crate::audit::Actor;
use crate::{Result, Store};

/// Demo filing data: the expert library (one record per expert-N account) and applications of
/// every kind at every stage. Called at the end of [`crate::demo::seed`].
pub async fn seed_filing(store: &Store, today: chrono::NaiveDate) -> Result<()> {
    use domain::filing::{decide, AppState, Command, Facts, Flow};

    use domain::policy::Policy;
    use domain::Scope;

    let actor = Actor::system("demo");
    let policy = Policy::zhengzhou_2022();
    let occ = |code: &'static str, kind: &'static str| async move {
        store
            .occupation_by_code(code, kind)
            .await
            .map(|o| o.map(|(id, _, _)| id))
    };
    let mut all_occ = vec![];
    for code in [
        "6-31-01-03",
        "6-18-02-04",
        "6-20-01-01",
        "4-03-02-01",
        "4-03-02-02",
        "4-10-01-06",
        "4-01-02-07",
        "4-10-03-01",
    ] {
        if let Some(id) = occ(code, "occupation").await? {
            all_occ.push(id);
        }
    }
    let specials: Vec<i64> =
        sqlx::query("SELECT id FROM occupations WHERE kind = 'special' ORDER BY id")
            .fetch_all(&store.db.pool)
            .await?
            .iter()
            .map(|r| sqlx::Row::get(r, 0))
            .collect();
    const TITLES: &[&str] = &["高级技师", "高级讲师", "正高级工程师", "技师", "副教授"];
    for n in 1..=12usize {
        let Some((acc, _)) = store.account_by_username(&format!("expert-{n}")).await? else {
            continue;
        };
        let idn = domain::id_number::with_check_digit(&format!(
            "41010519{:02}0{}01{:03}",
            60 + n,
            1 + n % 9,
            n
        ))
        .expect("demo id number");
        let masked = domain::id_number::IdNumber::parse(&idn)
            .map(|i| i.masked())
            .unwrap_or_default();
        let mut occs = all_occ.clone();
        occs.extend(specials.iter().copied());
        store
            .create_expert(
                &actor,
                &crate::NewExpert {
                    name: format!("专家{n}"),
                    id_number: idn,
                    id_masked: masked,
                    employer: acc.employer.clone(),
                    employer_credit_code: None,
                    district_code: None,
                    title: TITLES[n % TITLES.len()].into(),
                    phone: format!("1393710{:04}", n),
                    user_id: Some(acc.id),
                    occupation_ids: occs,
                },
            )
            .await?;
    }

    let inst_of = |user: &'static str| async move {
        store
            .account_by_username(user)
            .await
            .map(|a| a.and_then(|(a, _)| a.institution_id))
    };
    let calendar = store.holiday_calendar().await?;
    // The day the next steps happen: filed applications were approved weeks ago, so that their
    // 公示 is over today; the others act today.
    let on_day = std::sync::atomic::AtomicI32::new(chrono::Datelike::num_days_from_ce(&today));
    let set_on = |d: chrono::NaiveDate| {
        on_day.store(
            chrono::Datelike::num_days_from_ce(&d),
            std::sync::atomic::Ordering::SeqCst,
        )
    };
    let facts_on = |on: chrono::NaiveDate| Facts {
        today: Some(on),
        levels: vec![],
        legal_person: true,
        employees: 1000,
        capital_yuan: 10_000_000,
        opinions_complete: true,
        publicity: policy
            .publicity_period(&calendar, on, &policy.filing_publicity_days)
            .ok(),
        review_mode: Some(domain::filing::ReviewMode::Onsite),
        ..Facts::default()
    };
    // Apply commands in order with the given roles (the demo data is valid by construction).
    let steps = |inst_id: i64, app_id: i64, cmds: Vec<(domain::Role, Command, &'static str)>| {
        let today = chrono::NaiveDate::from_num_days_from_ce_opt(
            on_day.load(std::sync::atomic::Ordering::SeqCst),
        )
        .expect("valid demo date");
        let facts = facts_on(today);
        let policy = policy.clone();
        let actor = actor.clone();
        async move {
            for (role, cmd, reason) in cmds {
                let app = store.filing(&Scope::Institution(inst_id), app_id).await?;
                let flow = Flow::of(app.kind, app.institution_kind);
                let st = AppState {
                    flow,
                    state: app.state(),
                    center_approved: app.center_approved_by.is_some(),
                    division_approved: app.division_approved_by.is_some(),
                    has_commitment: !app.commitment.is_empty(),
                    publicity_end: app.publicity_end_date(),
                };
                if cmd == Command::RecordDraw {
                    let out = decide(&policy, &st, role, &cmd, reason, &facts)
                        .map_err(|e| crate::StoreError::Other(e.to_string()))?;
                    let inst = store.institution(&Scope::City, inst_id).await?;
                    let occ: Vec<i64> = app.items.iter().map(|i| i.occupation_id).collect();
                    let cands = store.draw_candidates(&occ).await?;
                    let (pool, excl) = domain::draw::pool(
                        &cands,
                        &domain::draw::Applicant {
                            institution_id: inst_id,
                            name: inst.name.clone(),
                            credit_code: inst.credit_code.clone(),
                            occupation_ids: occ,
                            date: today,
                            recent_months: 12,
                        },
                    );
                    let d = store
                        .make_draw(&actor, &app, app.version, &out, &pool, &excl, 3, "")
                        .await?;
                    if reason == "opinions pending" {
                        continue;
                    }
                    let app = store.filing(&Scope::City, app_id).await?;
                    for m in store.draw_members(d.id).await? {
                        if let Some(uid) = m.user_id {
                            store
                                .record_opinion(
                                    &actor,
                                    &app,
                                    uid,
                                    "通过",
                                    "场地设施、考评人员与题库符合要求，同意通过。",
                                )
                                .await?;
                        }
                    }
                    continue;
                }
                let out = decide(&policy, &st, role, &cmd, reason, &facts)
                    .map_err(|e| crate::StoreError::Other(format!("demo {cmd:?}: {e}")))?;
                store
                    .apply_filing(
                        &actor,
                        &app,
                        app.version,
                        &out,
                        &crate::TransitionInput {
                            reason: reason.into(),
                            attachments: vec![],
                            today: Some(today),
                            quota_recheck: None,
                        },
                    )
                    .await?;
            }
            Ok::<(), crate::StoreError>(())
        }
    };
    let new = |inst: i64,
               kind: &'static str,
               route: &'static str,
               district: String,
               items: Vec<(i64, String)>,
               commitment: &'static str| crate::NewFiling {
        kind: kind.into(),
        route: route.into(),
        institution_id: inst,
        district_code: district,
        items,
        note: String::new(),
        shared_resources: if kind == "enterprise" {
            "考评员采取购买服务方式；场地自有".into()
        } else {
            String::new()
        },
        commitment: commitment.into(),
    };
    use domain::Role::{CityCenter as C, CityDivision as V, District as D, Institution as I};
    // 统一组织开展: the city receives, draws experts and reviews before its two keys.
    let city_reviewed = |mut then: Vec<(domain::Role, Command, &'static str)>| {
        let mut v = vec![
            (I, Command::Submit, ""),
            (C, Command::Pass, "材料齐全，市级受理"),
            (C, Command::RecordDraw, ""),
            (
                C,
                Command::CompleteOnsite,
                "市级组织现场评审：需实地查看考核场地与设备",
            ),
            (
                V,
                Command::DistrictOpinion,
                "经市级组织专家评审，建议予以备案",
            ),
        ];
        v.append(&mut then);
        v
    };
    let (Some(i1), Some(i2), Some(i3), Some(i4), Some(i5), Some(i6)) = (
        inst_of("inst-1").await?,
        inst_of("inst-2").await?,
        inst_of("inst-3").await?,
        inst_of("inst-4").await?,
        inst_of("inst-5").await?,
        inst_of("inst-6").await?,
    ) else {
        return Ok(());
    };
    let district = |id: i64| async move {
        store
            .institution(&Scope::City, id)
            .await
            .map(|i| i.district_code)
    };
    let occ_id = |i: usize| all_occ.get(i).copied().unwrap_or(1);

    // inst-1 社会培训评价组织: full district route, expert draw done, now in 公示.
    let a1 = store
        .create_filing(
            &actor,
            &new(
                i1,
                "social_org",
                "district",
                district(i1).await?,
                vec![(occ_id(5), "5,4,3".into()), (occ_id(7), "5,4".into())],
                "",
            ),
        )
        .await?;
    steps(
        i1,
        a1,
        vec![
            (I, Command::Submit, ""),
            (D, Command::Pass, "材料齐全，符合初审要求"),
            (D, Command::RecordDraw, ""),
            (D, Command::CompleteOnsite, "现场评审完成，三名专家均同意"),
            (
                D,
                Command::DistrictOpinion,
                "经初审及专家现场评审，建议予以备案",
            ),
            (V, Command::Approve, ""),
            (C, Command::Approve, ""),
        ],
    )
    .await?;
    // inst-3 企业: written-commitment waiver path, approved six weeks ago, filed today.
    set_on(today - chrono::Days::new(42));
    let a3 = store
        .create_filing(
            &actor,
            &new(
                i3,
                "enterprise",
                "district",
                district(i3).await?,
                vec![(occ_id(1), "5,4,3".into()), (occ_id(2), "5,4,3".into())],
                "本企业承诺具备焊工、钳工评价所需场地设施、考评人员与题库，如有不实愿承担责任。",
            ),
        )
        .await?;
    steps(
        i3,
        a3,
        vec![
            (I, Command::Submit, ""),
            (
                D,
                Command::Pass,
                "企业符合独立法人及规模条件，职业在主营业务范围内",
            ),
            (
                D,
                Command::WaiveOnsite,
                "企业书面承诺及佐证材料可证明具备条件，免于现场评估",
            ),
            (D, Command::DistrictOpinion, "建议予以备案"),
            (C, Command::Approve, ""),
            (V, Command::Approve, ""),
        ],
    )
    .await?;
    set_on(today);
    steps(i3, a3, vec![(C, Command::Finish, "")]).await?;
    // inst-4 企业: submitted, waiting for 初审 (part of the transferred batch of 三(三)).
    let a4 = store
        .create_filing(
            &actor,
            &new(
                i4,
                "enterprise",
                "district",
                district(i4).await?,
                vec![(occ_id(3), "5,4,3".into()), (occ_id(4), "5,4".into())],
                "",
            ),
        )
        .await?;
    steps(i4, a4, vec![(I, Command::Submit, "")]).await?;
    // inst-2 社会培训评价组织: returned for correction.
    let a2 = store
        .create_filing(
            &actor,
            &new(
                i2,
                "social_org",
                "district",
                district(i2).await?,
                vec![(occ_id(0), "5,4,3".into())],
                "",
            ),
        )
        .await?;
    steps(
        i2,
        a2,
        vec![
            (I, Command::Submit, ""),
            (D, Command::Return, "缺少考评人员资格证明，请补正后重新提交"),
        ],
    )
    .await?;
    // inst-5 行业协会: city route, one key given.
    let a5 = store
        .create_filing(
            &actor,
            &new(
                i5,
                "social_org",
                "city",
                district(i5).await?,
                vec![(occ_id(5), "5,4,3,2".into())],
                "",
            ),
        )
        .await?;
    steps(i5, a5, city_reviewed(vec![(C, Command::Approve, "")])).await?;
    // inst-6 学会: special ability, waiting for the city; and a draft.
    if let Some(sp) = specials.first() {
        let a6 = store
            .create_filing(
                &actor,
                &new(
                    i6,
                    "special_ability",
                    "city",
                    district(i6).await?,
                    vec![(*sp, String::new())],
                    "",
                ),
            )
            .await?;
        steps(i6, a6, vec![(I, Command::Submit, "")]).await?;
    }
    store
        .create_filing(
            &actor,
            &new(
                i6,
                "social_org",
                "city",
                district(i6).await?,
                vec![(occ_id(0), "5,4,3".into())],
                "",
            ),
        )
        .await?;
    // inst-3 (filed): an incremental draft waiting for the March/September window.
    store
        .create_filing(
            &actor,
            &new(
                i3,
                "increment",
                "city",
                district(i3).await?,
                vec![(occ_id(1), "2,1".into())],
                "",
            ),
        )
        .await?;
    // More stages: experts drawn with opinions pending (expert accounts have work), a
    // district_passed enterprise, a withdrawn draft, a rejected filing, a paused publicity and a
    // filed special-ability item.
    let a7 = store
        .create_filing(
            &actor,
            &new(
                i2,
                "social_org",
                "district",
                district(i2).await?,
                vec![(occ_id(3), "5,4".into())],
                "",
            ),
        )
        .await?;
    steps(
        i2,
        a7,
        vec![
            (I, Command::Submit, ""),
            (D, Command::Pass, "材料齐全"),
            (D, Command::RecordDraw, "opinions pending"),
        ],
    )
    .await?;
    let a8 = store
        .create_filing(
            &actor,
            &new(
                i4,
                "enterprise",
                "district",
                district(i4).await?,
                vec![(occ_id(5), "5,4".into())],
                "",
            ),
        )
        .await?;
    steps(
        i4,
        a8,
        vec![
            (I, Command::Submit, ""),
            (D, Command::Pass, "职业在主营业务范围内"),
        ],
    )
    .await?;
    let a9 = store
        .create_filing(
            &actor,
            &new(
                i1,
                "social_org",
                "district",
                district(i1).await?,
                vec![(occ_id(6), "5".into())],
                "",
            ),
        )
        .await?;
    steps(i1, a9, vec![(I, Command::Withdraw, "机构决定暂不申报")]).await?;
    let a10 = store
        .create_filing(
            &actor,
            &new(
                i6,
                "social_org",
                "city",
                district(i6).await?,
                vec![(occ_id(0), "4,3".into())],
                "",
            ),
        )
        .await?;
    steps(
        i6,
        a10,
        vec![
            (I, Command::Submit, ""),
            (
                V,
                Command::Reject,
                "学会章程未涵盖职业技能评价业务，不予备案",
            ),
        ],
    )
    .await?;
    if let (Some(sp1), Some(sp2)) = (specials.get(1), specials.get(2)) {
        let a11 = store
            .create_filing(
                &actor,
                &new(
                    i5,
                    "special_ability",
                    "city",
                    district(i5).await?,
                    vec![(*sp1, String::new())],
                    "",
                ),
            )
            .await?;
        steps(
            i5,
            a11,
            city_reviewed(vec![
                (C, Command::Approve, ""),
                (V, Command::Approve, ""),
                (
                    C,
                    Command::Object,
                    "收到实名异议：考核场地为租用，租期不足一年",
                ),
            ]),
        )
        .await?;
        set_on(today - chrono::Days::new(42));
        let a12 = store
            .create_filing(
                &actor,
                &new(
                    i5,
                    "special_ability",
                    "city",
                    district(i5).await?,
                    vec![(*sp2, String::new())],
                    "",
                ),
            )
            .await?;
        steps(
            i5,
            a12,
            city_reviewed(vec![(V, Command::Approve, ""), (C, Command::Approve, "")]),
        )
        .await?;
        set_on(today);
        steps(i5, a12, vec![(C, Command::Finish, "")]).await?;
    }
    // 特殊情况申请: 中原区 asks for a 4th 电工 institution; the center has agreed, the division not yet.
    let x = store
        .raise_exception(
            &actor,
            i2,
            &district(i2).await?,
            "max_institutions_per_occupation_per_district",
            &[occ_id(0)],
            "该机构为区内唯一具备高压电工实训基地的机构，申请统筹安排",
        )
        .await?;
    store
        .decide_exception(
            &actor,
            x,
            true,
            true,
            "同意",
            policy.exception_expires_on(today),
        )
        .await?;
    // 三(三) campaign: the transferred batch, deadline 2022-04-30, now overdue.
    store
        .create_campaign(
            &actor,
            "市鉴定中心移交备案（第一批）",
            policy.transferred_filings_deadline.value,
            &policy.transferred_filings_deadline.clause,
            &[a4, a2],
        )
        .await?;
    Ok(())
}
