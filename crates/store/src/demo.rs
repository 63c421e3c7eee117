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

/// Fill an empty database with demo data. Does nothing when accounts exist already.
pub async fn seed(store: &Store) -> Result<bool> {
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
    seed_plans(store).await?;
    Ok(true)
}

/// 二、评价管理 demo: filed scopes, electronic filings and plans at every stage.
pub async fn seed_plans(store: &Store) -> Result<()> {
    use chrono::{Duration, FixedOffset, Utc};
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
    let (Some(cook), Some(pastry), Some(welder)) = (
        occ("4-03-02-01").await?,
        occ("4-03-02-02").await?,
        occ("6-18-02-04").await?,
    ) else {
        return Ok(());
    };
    let inst1 = inst_id("inst-1").await?;
    let inst2 = inst_id("inst-2").await?;
    let inst3 = inst_id("inst-3").await?;
    let inst4 = inst_id("inst-4").await?;
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive();
    let filed_on = (today - Duration::days(200)).format("%Y-%m-%d").to_string();
    store
        .record_filed_occupation(
            &sys,
            inst1,
            cook,
            "5,4,3",
            "ZZBA-2026-0001",
            &filed_on,
            "demo",
        )
        .await?;
    store
        .record_filed_occupation(
            &sys,
            inst2,
            pastry,
            "5,4,3",
            "ZZBA-2026-0002",
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
            "ZZBA-2026-0003",
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
        ("inst-3", inst3, "district-410171", true),
        ("inst-4", inst4, "district-410182", false),
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
    // A confirmed plan with supervisors, a fully signed letter, candidates and publicised results,
    // and one confirmed plan still waiting for supervisors.
    let p = store
        .create_plan(&i1, inst1, &input(cook, "5,4", "theory,skill", 10))
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
    let until = today + Duration::days(7);
    store
        .set_results_status(
            &i1,
            p.id,
            p.version,
            "none",
            "publicised",
            Some(&today.format("%Y-%m-%d").to_string()),
            Some(&until.format("%Y-%m-%d").to_string()),
        )
        .await?;
    let _ = S::Draft;
    // Walking the demo plans notified the parties; a fresh demo starts with an empty inbox.
    sqlx::query("DELETE FROM notifications")
        .execute(&store.db.pool)
        .await?;
    Ok(())
}
