//! Demo data of 二、评价管理: filed scopes, electronic filings and plans at every stage.
//! Called from `demo::seed`.

use crate::audit::Actor;
use crate::{Result, Store};

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
