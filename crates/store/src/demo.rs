//! Demo data (`serve --demo` only): every role, every district, a few institutions of each kind.
//! All accounts use the password `demo-password`.

use domain::credit_code::with_check_digit;
use domain::Role;

use crate::audit::Actor;
use crate::{InstitutionInput, NewAccount, Result, Store};

pub const DEMO_PASSWORD: &str = "demo-password";

/// (name, kind, district, employees, capital in yuan, business scope)
const INSTITUTIONS: &[(&str, &str, &str, i64, i64, &str)] = &[
    (
        "郑州市金水区华信职业培训学校",
        "social_org",
        "410105",
        45,
        500_000,
        "职业技能培训；职业技能等级认定",
    ),
    (
        "郑州中原匠心职业技能培训中心",
        "social_org",
        "410102",
        30,
        300_000,
        "职业技能培训",
    ),
    (
        "郑州宇辰重工机械有限公司",
        "enterprise",
        "410171",
        860,
        120_000_000,
        "工程机械制造；焊接；机械加工",
    ),
    (
        "荥阳市豫味餐饮管理有限公司",
        "enterprise",
        "410182",
        210,
        5_000_000,
        "餐饮服务；中式烹调；面点制作",
    ),
    (
        "郑州市家政服务业协会",
        "association",
        "410105",
        12,
        100_000,
        "家政服务行业自律与培训",
    ),
    (
        "郑州市电工技术学会",
        "society",
        "410103",
        8,
        50_000,
        "电工技术交流与培训",
    ),
];

const EXPERT_EMPLOYERS: &[&str] = &[
    "郑州职业技术学院",
    "河南工业职业技术学院",
    "郑州宇辰重工机械有限公司",
    "郑州市技师学院",
    "河南省烹饪协会",
    "郑州铁路职业技术学院",
];

/// Fill an empty database with demo data laid out around `today` (so the demo works in any
/// year). Does nothing when accounts exist already.
pub async fn seed(store: &Store, today: chrono::NaiveDate) -> Result<bool> {
    if store.count_accounts().await? > 0 {
        return Ok(false);
    }
    let actor = Actor::system("demo");
    let account = |username: &str, display: &str, role: Role| NewAccount {
        username: username.into(),
        display_name: display.into(),
        role,
        district_code: None,
        institution_id: None,
        employer: String::new(),
        phone: String::new(),
        password: DEMO_PASSWORD.into(),
        must_change_password: false,
    };
    store
        .create_account(&actor, account("admin", "平台管理员", Role::Admin))
        .await?;
    store
        .create_account(
            &actor,
            account("center", "市职业技能鉴定中心", Role::CityCenter),
        )
        .await?;
    store
        .create_account(
            &actor,
            account("bureau", "市人社局职建处", Role::CityDivision),
        )
        .await?;
    store
        .create_account(
            &actor,
            account("sup-city-1", "市督导组 王建国", Role::Supervisor),
        )
        .await?;
    store
        .create_account(
            &actor,
            account("sup-city-2", "市督导组 李秀英", Role::Supervisor),
        )
        .await?;
    for d in store.districts().await? {
        store
            .create_account(
                &actor,
                NewAccount {
                    district_code: Some(d.code.clone()),
                    ..account(
                        &format!("district-{}", d.code),
                        &format!("{}人社局", d.name),
                        Role::District,
                    )
                },
            )
            .await?;
        store
            .create_account(
                &actor,
                NewAccount {
                    district_code: Some(d.code.clone()),
                    ..account(
                        &format!("sup-{}-1", d.code),
                        &format!("{}督导员", d.name),
                        Role::Supervisor,
                    )
                },
            )
            .await?;
    }
    for (n, (name, kind, district, employees, capital, scope)) in INSTITUTIONS.iter().enumerate() {
        let n = n + 1;
        let district_name = store.division(district).await?.name;
        let prefix = if *kind == "enterprise" { "91" } else { "52" };
        let code = with_check_digit(&format!("{prefix}{}MA{:07}", &district[..6], n * 7919))
            .expect("demo credit code");
        let inst = store
            .create_institution(
                &actor,
                &InstitutionInput {
                    name: (*name).into(),
                    credit_code: code,
                    kind: (*kind).into(),
                    legal_person: true,
                    employees: *employees,
                    capital_yuan: *capital,
                    business_scope: (*scope).into(),
                    reg_address: format!("郑州市{district_name}示范路{}号", 10 + n),
                    reg_district: (*district).into(),
                    biz_address: format!("郑州市{district_name}示范路{}号", 10 + n),
                    biz_district: (*district).into(),
                    contact_name: "张老师".into(),
                    // The association has not completed its contacts yet: a work-queue item for its district.
                    contact_phone: if *kind == "association" {
                        String::new()
                    } else {
                        format!("1380371{:04}", n)
                    },
                },
            )
            .await?;
        store
            .create_account(
                &actor,
                NewAccount {
                    institution_id: Some(inst.id),
                    ..account(&format!("inst-{n}"), name, Role::Institution)
                },
            )
            .await?;
    }
    for n in 1..=12 {
        store
            .create_account(
                &actor,
                NewAccount {
                    employer: EXPERT_EMPLOYERS[n % EXPERT_EMPLOYERS.len()].into(),
                    ..account(&format!("expert-{n}"), &format!("专家{n}"), Role::Expert)
                },
            )
            .await?;
    }
    seed_filing(store, today).await?;
    seed_plans(store, today).await?;
    crate::demo_filing_review::seed_filing_review(store, today).await?;
    crate::demo_filing_rules::seed_filing_rules(store, today).await?;
    crate::demo_inst_plans::seed_inst_plans(store, today).await?;
    crate::demo_certificates::seed_certificates(store, today).await?;
    store.seed_outbox_demo(today).await?;
    crate::demo_retention::seed_retention(store, today).await?;
    Ok(true)
}

/// Demo filing data: the expert library (one record per expert-N account) and applications of
/// every kind at every stage. Called at the end of [`seed`].
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

/// 二、评价管理 demo: filed scopes, electronic filings and plans at every stage.
pub async fn seed_plans(store: &Store, today: chrono::NaiveDate) -> Result<()> {
    use chrono::Duration;
    use domain::plan::{self as dp, Party, PlanCommand as C, PlanStatus as S};
    use domain::Scope;

    let sys = Actor::system("demo");
    let actor_of = |username: &str| {
        let username = username.to_string();
        async move {
            let (a, _) = store
                .account_by_username(&username)
                .await?
                .ok_or(crate::StoreError::NotFound)?;
            Ok::<_, crate::StoreError>(Actor {
                user_id: Some(a.id),
                username: a.username.clone(),
                role: a.role.as_str().into(),
                request_id: String::new(),
                client_addr: "demo".into(),
            })
        }
    };
    let occ = |code: &'static str| async move {
        let r = sqlx::query("SELECT id FROM occupations WHERE code = $1 ORDER BY id LIMIT 1")
            .bind(code)
            .fetch_optional(&store.db.pool)
            .await?;
        Ok::<_, crate::StoreError>(r.map(|r| sqlx::Row::get::<i64, _>(&r, 0)))
    };
    let inst_id = |username: &'static str| async move {
        let (a, _) = store
            .account_by_username(username)
            .await?
            .ok_or(crate::StoreError::NotFound)?;
        a.institution_id.ok_or(crate::StoreError::NotFound)
    };
    let (Some(cook), Some(welder)) = (occ("4-03-02-01").await?, occ("6-18-02-04").await?) else {
        return Ok(());
    };
    let inst1 = inst_id("inst-1").await?;
    let inst3 = inst_id("inst-3").await?;
    let filed_on = (today - Duration::days(200)).format("%Y-%m-%d").to_string();
    store
        .record_filed_occupation(
            &sys,
            inst1,
            cook,
            "5,4,3",
            "郑人社评备〔2025〕90001号",
            &filed_on,
            "demo",
        )
        .await?;
    store
        .record_filed_occupation(
            &sys,
            inst3,
            welder,
            "5,4,3,2,1",
            "郑人社评备〔2025〕90003号",
            &filed_on,
            "demo",
        )
        .await?;
    let pdf = crate::UploadedFile {
        name: "备案材料电子版.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.4\n% demo filing materials\n".to_vec(),
    };
    for (user, inst, district, confirm) in [
        ("inst-1", inst1, "district-410105", true),
        // inst-3 (filed through the filing workflow): e-filing waiting for 410171.
        ("inst-3", inst3, "district-410171", false),
    ] {
        let a = actor_of(user).await?;
        store
            .submit_efiling(
                &a,
                inst,
                "营业执照、备案通知书、场地设备清单、考评人员名册",
                &pdf,
            )
            .await?;
        if confirm {
            let d = actor_of(district).await?;
            store
                .review_efiling(&d, &Scope::City, inst, 1, true, "")
                .await?;
        }
    }

    let input = |occupation_id: i64, levels: &str, forms: &str, start_in: i64| crate::PlanInput {
        occupation_id,
        levels: levels.into(),
        forms: forms.into(),
        start_date: (today + Duration::days(start_in))
            .format("%Y-%m-%d")
            .to_string(),
        end_date: (today + Duration::days(start_in + 1))
            .format("%Y-%m-%d")
            .to_string(),
        venue: "郑州市金水区示范路11号实训楼三层".into(),
        expected_candidates: 30,
        examiners: "李明（考评员证号 K2021001）、王芳（K2021002）".into(),
        internal_supervisor: "赵强".into(),
    };
    let i1 = actor_of("inst-1").await?;
    let d1 = actor_of("district-410105").await?;
    let center = actor_of("center").await?;
    // Walk a plan through the domain's transitions up to `target`.
    let walk = |plan_id: i64, steps: Vec<(C, &'static str)>| {
        let actors = [
            ("inst", i1.clone()),
            ("district", d1.clone()),
            ("city", center.clone()),
        ];
        async move {
            for (cmd, who) in steps {
                let a = &actors.iter().find(|(k, _)| *k == who).expect("actor").1;
                let p = store.plan(&Scope::City, plan_id).await?;
                let role = domain::Role::parse(&a.role).expect("role");
                let to = dp::transition(p.status(), role, cmd)
                    .map_err(|r| crate::StoreError::Invalid(r.to_string()))?;
                let reason = if cmd.needs_reason() {
                    "演示：请补充考评员资质证明"
                } else {
                    ""
                };
                store
                    .transition_plan(
                        a,
                        &Scope::City,
                        plan_id,
                        p.version,
                        p.status(),
                        to,
                        cmd,
                        reason,
                        None,
                        today,
                    )
                    .await?;
            }
            Ok::<_, crate::StoreError>(())
        }
    };
    use C::*;
    let full = vec![
        (Submit, "inst"),
        (RecordPaper, "district"),
        (DistrictApprove, "district"),
        (Enter, "inst"),
        (CityConfirm, "city"),
    ];
    let stages: Vec<(i64, Vec<(C, &'static str)>)> = vec![
        (30, vec![]),
        (20, full[..1].to_vec()),
        (18, full[..2].to_vec()),
        (16, full[..3].to_vec()),
        (14, full[..4].to_vec()),
        (
            12,
            vec![
                (Submit, "inst"),
                (RecordPaper, "district"),
                (DistrictReturn, "district"),
            ],
        ),
        (25, vec![(Cancel, "inst")]),
    ];
    for (start_in, steps) in stages {
        let p = store
            .create_plan(&i1, inst1, &input(cook, "4", "theory,skill", start_in))
            .await?;
        walk(p.id, steps).await?;
    }
    // A confirmed plan held ten days ago, with supervisors, a fully signed letter, candidates and
    // results publicised yesterday; and one confirmed plan still waiting for supervisors.
    let p = store
        .create_plan(&i1, inst1, &input(cook, "5,4", "theory,skill", -10))
        .await?;
    walk(p.id, full.clone()).await?;
    let p2 = store
        .create_plan(&i1, inst1, &input(cook, "4", "theory,skill", 8))
        .await?;
    walk(p2.id, full.clone()).await?;
    let p = store.plan(&Scope::City, p.id).await?;
    let sc = actor_of("sup-city-1").await?;
    let sd = actor_of("sup-410105-1").await?;
    store
        .assign_supervisor(&center, p.id, Party::City, sc.user_id.unwrap_or_default())
        .await?;
    store
        .assign_supervisor(&d1, p.id, Party::District, sd.user_id.unwrap_or_default())
        .await?;
    let body = dp::supervision_letter_text(&dp::LetterFacts {
        plan_no: &p.plan_no,
        revision: p.revision,
        institution: &p.institution_name,
        occupation: &format!("{} {}", p.occupation_code, p.occupation_name),
        levels: "五级/初级工、四级/中级工",
        forms: "理论、技能",
        start_date: &p.start_date,
        end_date: &p.end_date,
        venue: &p.venue,
        city_supervisor: "市督导组 王建国",
        district_supervisor: "金水区督导员",
        internal_supervisor: &p.internal_supervisor,
    });
    let letter = store.issue_letter(&center, p.id, p.revision, &body).await?;
    store
        .sign_letter(&sc, &letter, Party::City, "市督导组 王建国")
        .await?;
    store
        .sign_letter(&sd, &letter, Party::District, "金水区督导员")
        .await?;
    store
        .sign_letter(
            &i1,
            &letter,
            Party::Institution,
            "郑州市金水区华信职业培训学校",
        )
        .await?;
    let names = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"];
    let list: Vec<crate::NewCandidate> = names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let male = n % 2 == 0;
            let id = domain::id_number::with_check_digit(&format!(
                "41010519{:02}0{}1{}0{}",
                85 + n,
                1 + n % 9,
                n,
                if male { 31 } else { 42 }
            ))
            .expect("demo id");
            let parsed = domain::id_number::IdNumber::parse(&id).expect("demo id valid");
            crate::NewCandidate {
                name: (*name).into(),
                id_type: "居民身份证".into(),
                id_masked: parsed.masked(),
                id_number: id,
                gender: parsed.gender().name().into(),
                education: "高中".into(),
                source: "社会人员".into(),
                phone: format!("1390371{:04}", n),
                level: if n < 2 { 5 } else { 4 },
            }
        })
        .collect();
    store
        .add_candidates(&i1, &p, &list, &vec![String::new(); list.len()], "demo")
        .await?;
    let cands = store.all_candidates(p.id).await?;
    let scores: Vec<crate::ScoreUpdate> = cands
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let (t, s) = (70 + n as i64 * 3, if n == 3 { 55 } else { 68 + n as i64 });
            crate::ScoreUpdate {
                candidate_id: c.id,
                theory: Some(t),
                skill: Some(s),
                review: None,
                passed: t >= 60 && s >= 60,
            }
        })
        .collect();
    store.save_scores(&i1, p.id, &scores, "demo").await?;
    let p = store.plan(&Scope::City, p.id).await?;
    let policy = domain::policy::Policy::zhengzhou_2022();
    let period = policy
        .publicity_period(
            &store.holiday_calendar().await?,
            today - Duration::days(1),
            &policy.results_publicity_working_days,
        )
        .map_err(|e| crate::StoreError::Invalid(e.to_string()))?;
    store
        .set_results_status(
            &i1,
            p.id,
            p.version,
            "none",
            "publicised",
            Some(&period),
            today,
        )
        .await?;
    let _ = S::Draft;
    // Walking the demo plans notified the parties; drop those so the demo inbox stays readable.
    sqlx::query("DELETE FROM notifications WHERE link LIKE '/plans/%'")
        .execute(&store.db.pool)
        .await?;
    Ok(())
}
