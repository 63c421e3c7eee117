//! Demo data for the review stages of 机构备案 (issue 7, items 6–10 and 18): a city-organised
//! written review with a 三(一) reason for 二级, a district review whose panel said 不通过 with
//! the district's written reason, an expert who changed its opinion, supervisors proposed and
//! jointly dispatched (with and without a 督导意见), a report to the province with its
//! attachment, and 属地 moves (one agreed, one waiting). Called at the end of `demo::seed`.

use chrono::NaiveDate;
use domain::filing::{decide, AppState, Command, Facts, Flow, Panel, ReviewMode};
use domain::policy::Policy;
use domain::{Role, Scope};

use crate::audit::Actor;
use crate::{InstitutionInput, NewFiling, Result, Store, StoreError, TransitionInput};

/// A demo actor in a role (the store reads the role from the actor, e.g. for the joint dispatch).
/// Decisions are applied with [`quiet`] so that, as in the rest of the demo, nobody is notified.
async fn actor(store: &Store, username: &str) -> Result<Actor> {
    let (a, _) = store
        .account_by_username(username)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(Actor {
        user_id: Some(a.id),
        username: a.username.clone(),
        role: a.role.as_str().into(),
        request_id: String::new(),
        client_addr: "demo".into(),
    })
}

/// The same person acting as the demo (role `system`: no notifications, no SMS).
fn quiet(a: Actor) -> Actor {
    Actor {
        role: "system".into(),
        ..a
    }
}

async fn inst(store: &Store, username: &str) -> Result<i64> {
    store
        .account_by_username(username)
        .await?
        .and_then(|(a, _)| a.institution_id)
        .ok_or(StoreError::NotFound)
}

async fn occupation(store: &Store, code: &str, kind: &str) -> Result<i64> {
    Ok(store
        .occupation_by_code(code, kind)
        .await?
        .ok_or(StoreError::NotFound)?
        .0)
}

/// Decide and apply one command as `who`, with the facts the command needs.
#[allow(clippy::too_many_arguments)]
async fn step(
    store: &Store,
    policy: &Policy,
    today: NaiveDate,
    id: i64,
    who: &str,
    cmd: Command,
    reason: &str,
    extra: Facts,
) -> Result<()> {
    // Drafts are visible to their institution only.
    let inst: i64 = sqlx::Row::get(
        &sqlx::query("SELECT institution_id FROM filing_applications WHERE id = $1")
            .bind(id)
            .fetch_one(&store.db.pool)
            .await?,
        0,
    );
    let app = store.filing(&Scope::Institution(inst), id).await?;
    let st = AppState {
        flow: Flow::of(app.kind, app.institution_kind),
        state: app.state(),
        center_approved: app.center_approved_by.is_some(),
        division_approved: app.division_approved_by.is_some(),
        has_commitment: !app.commitment.is_empty(),
        publicity_end: app.publicity_end_date(),
    };
    let facts = Facts {
        today: Some(today),
        items: app
            .items
            .iter()
            .map(|i| domain::filing::ItemFact {
                occupation_id: i.occupation_id,
                name: i.name.clone(),
                new_occupation: true,
            })
            .collect(),
        legal_person: true,
        employees: 1000,
        capital_yuan: 10_000_000,
        opinions_complete: true,
        publicity: policy
            .publicity_period(
                &store.holiday_calendar().await?,
                today,
                &policy.filing_publicity_days,
            )
            .ok(),
        ..extra
    };
    let a = actor(store, who).await?;
    let role = Role::parse(&a.role).unwrap_or(Role::Admin);
    let out = decide(policy, &st, role, &cmd, reason, &facts)
        .map_err(|e| StoreError::Other(format!("demo review {cmd:?}: {e}")))?;
    if cmd == Command::RecordDraw {
        let inst = store.institution(&Scope::City, app.institution_id).await?;
        let occ: Vec<i64> = app.items.iter().map(|i| i.occupation_id).collect();
        let cands = store.draw_candidates(&occ).await?;
        let (pool, excl) = domain::draw::pool(
            &cands,
            &domain::draw::Applicant {
                institution_id: inst.id,
                name: inst.name.clone(),
                credit_code: inst.credit_code.clone(),
                occupation_ids: occ,
                date: today,
                recent_months: 0,
            },
        );
        store
            .make_draw(&quiet(a), &app, app.version, &out, &pool, &excl, 3, "")
            .await?;
        return Ok(());
    }
    store
        .apply_filing(
            &quiet(a),
            &app,
            app.version,
            &out,
            &TransitionInput {
                reason: reason.into(),
                today: Some(today),
                ..Default::default()
            },
        )
        .await?;
    Ok(())
}

/// Every drawn expert of `id` records `conclusions[i]` (cycled).
async fn opinions(store: &Store, id: i64, conclusions: &[&str]) -> Result<()> {
    let d = store.current_draw(id).await?.ok_or(StoreError::NotFound)?;
    for (i, m) in store.draw_members(d.id).await?.into_iter().enumerate() {
        let Some(uid) = m.user_id else { continue };
        let app = store.filing(&Scope::City, id).await?;
        let username: String = sqlx::Row::get(
            &sqlx::query("SELECT username FROM users WHERE id = $1")
                .bind(uid)
                .fetch_one(&store.db.pool)
                .await?,
            0,
        );
        let a = Actor {
            user_id: Some(uid),
            username,
            role: "expert".into(),
            request_id: String::new(),
            client_addr: "demo".into(),
        };
        let c = conclusions[i % conclusions.len()];
        let text = if c == "不通过" {
            "考核场地面积不足，实操工位少于要求。"
        } else {
            "场地设施、考评人员与题库符合要求。"
        };
        store.record_opinion(&a, &app, uid, c, text).await?;
    }
    Ok(())
}

pub async fn seed_filing_review(store: &Store, today: NaiveDate) -> Result<()> {
    let policy = Policy::zhengzhou_2022();
    let none = Facts::default;
    let new = |institution_id: i64, kind: &str, route: &str, district: String, items| NewFiling {
        kind: kind.into(),
        route: route.into(),
        institution_id,
        district_code: district,
        items,
        note: String::new(),
        shared_resources: String::new(),
        commitment: String::new(),
    };
    let sys = Actor::system("demo");

    // 1. 学会 (一(一) 行业协会/学会), 二级 at a first filing: the city accepts with a 三(一) reason, draws experts,
    //    reviews in writing (recorded with why), writes its conclusion: waiting for the two keys,
    //    with a review supervisor proposed by the division and not yet confirmed by the center.
    let i5 = inst(store, "inst-6").await?;
    let d5 = store.institution(&Scope::City, i5).await?.district_code;
    let occ = occupation(store, "4-10-03-01", "occupation").await?;
    let a = store
        .create_filing(
            &sys,
            &new(i5, "social_org", "city", d5, vec![(occ, "4,3,2".into())]),
        )
        .await?;
    step(
        store,
        &policy,
        today,
        a,
        "inst-6",
        Command::Submit,
        "",
        none(),
    )
    .await?;
    step(
        store,
        &policy,
        today,
        a,
        "center",
        Command::Pass,
        "材料齐全，市级统一组织评审",
        Facts {
            levels: vec![
                domain::occupation::Level::Four,
                domain::occupation::Level::Three,
                domain::occupation::Level::Two,
            ],
            high_level_reason: "协会会员单位集中、技师考评人员充足，经市级研究同意受理二级".into(),
            ..none()
        },
    )
    .await?;
    let app = store.filing(&Scope::City, a).await?;
    let sup = store
        .account_by_username("sup-city-2")
        .await?
        .ok_or(StoreError::NotFound)?
        .0;
    store
        .dispatch_supervisor(
            &actor(store, "bureau").await?,
            &app,
            sup.id,
            &sup.username,
            true,
        )
        .await?;
    step(
        store,
        &policy,
        today,
        a,
        "center",
        Command::RecordDraw,
        "",
        none(),
    )
    .await?;
    opinions(store, a, &["通过"]).await?;
    step(
        store,
        &policy,
        today,
        a,
        "bureau",
        Command::CompleteOnsite,
        "协会场地已于上年度现场核验，本次书面评审材料与题库",
        Facts {
            review_mode: Some(ReviewMode::Written),
            ..none()
        },
    )
    .await?;
    step(
        store,
        &policy,
        today,
        a,
        "bureau",
        Command::DistrictOpinion,
        "经市级组织专家书面评审，建议予以备案",
        Facts {
            panel: Panel { pass: 3, fail: 0 },
            ..none()
        },
    )
    .await?;

    // 2. 企业 (district route, on-site review): two of three experts said 不通过, one changed its
    //    opinion before the district wrote its 初评结果意见; the district passed it on with a written
    //    reason, a supervisor jointly dispatched filed its 督导意见, and the city gave one key.
    let i1 = inst(store, "inst-4").await?;
    let d1 = store.institution(&Scope::City, i1).await?.district_code;
    let occ = occupation(store, "4-03-02-01", "occupation").await?;
    let b = store
        .create_filing(
            &sys,
            &new(
                i1,
                "enterprise",
                "district",
                d1.clone(),
                vec![(occ, "5,4".into())],
            ),
        )
        .await?;
    let district = format!("district-{d1}");
    step(
        store,
        &policy,
        today,
        b,
        "inst-4",
        Command::Submit,
        "",
        none(),
    )
    .await?;
    step(
        store,
        &policy,
        today,
        b,
        &district,
        Command::Pass,
        "材料齐全",
        none(),
    )
    .await?;
    let app = store.filing(&Scope::City, b).await?;
    let sup1 = store
        .account_by_username("sup-city-1")
        .await?
        .ok_or(StoreError::NotFound)?
        .0;
    store
        .dispatch_supervisor(
            &actor(store, "center").await?,
            &app,
            sup1.id,
            &sup1.username,
            true,
        )
        .await?;
    store
        .dispatch_supervisor(
            &actor(store, "bureau").await?,
            &app,
            sup1.id,
            &sup1.username,
            true,
        )
        .await?;
    step(
        store,
        &policy,
        today,
        b,
        &district,
        Command::RecordDraw,
        "",
        none(),
    )
    .await?;
    opinions(store, b, &["通过", "不通过", "不通过"]).await?;
    // The first expert changes its opinion (the application's version moves on).
    opinions(store, b, &["整改后通过", "不通过", "不通过"]).await?;
    let app = store.filing(&Scope::City, b).await?;
    store
        .file_supervision_opinion(
            &actor(store, "sup-city-1").await?,
            &app,
            sup1.id,
            "评审程序规范，专家独立打分；场地问题已现场指出。",
            &[],
        )
        .await?;
    step(
        store,
        &policy,
        today,
        b,
        &district,
        Command::CompleteOnsite,
        "现场勘察并评审完成",
        none(),
    )
    .await?;
    let c = store.panel_conclusions(b).await?;
    step(
        store,
        &policy,
        today,
        b,
        &district,
        Command::DistrictOpinion,
        "建议予以备案，请市级重点审核场地整改情况",
        Facts {
            panel: Panel::of(c.iter().map(String::as_str)),
            panel_override_reason: "机构已租赁相邻场地并提交租赁合同，实操工位整改到位".into(),
            ..none()
        },
    )
    .await?;
    step(
        store,
        &policy,
        today,
        b,
        "center",
        Command::Approve,
        "",
        none(),
    )
    .await?;

    // 3. Reported to the province: the approved applications not yet reported, with the
    //    report's attachment.
    let apps = store.approved_unreported().await?;
    if !apps.is_empty() {
        // Its own bytes (blobs are content-addressed): a PDF with a comment line.
        let pdf: &[u8] = b"%PDF-1.4\n% demo province report\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n98\n%%EOF\n";
        let checked = domain::upload::check_upload("报送函.pdf", pdf, u64::MAX)
            .map_err(|e| StoreError::Invalid(e.message))?;
        let blob = store.blobs.put(pdf).await?;
        store
            .record_province_report(
                &actor(store, "center").await?,
                today,
                &format!("郑人社鉴〔{}〕1号", chrono::Datelike::year(&today)),
                "首批审核通过的备案申请",
                &apps,
                Some((
                    crate::NewDocument {
                        owner_type: "province_report".into(),
                        kind: "province_report".into(),
                        filename: checked.filename.clone(),
                        ..Default::default()
                    },
                    checked,
                    blob,
                )),
            )
            .await?;
    }

    // 4. 属地 (二(一)): institutions whose premises lie in another district; the city agreed to
    //    move one, refused another, and a third request waits.
    for (n, (name, reg, biz, agree)) in [
        (
            "郑州二七区启航职业技能培训学校",
            "410103",
            "410105",
            Some(true),
        ),
        ("郑州管城众创技能培训中心", "410104", "410102", None),
        ("郑州惠济宏图职业培训学校", "410108", "410105", Some(false)),
    ]
    .into_iter()
    .enumerate()
    {
        let code =
            domain::credit_code::with_check_digit(&format!("52{}MB{:07}", reg, (n + 1) * 104_729))
                .ok_or_else(|| StoreError::Other("demo credit code".into()))?;
        let reg_name = store.division(reg).await?.name;
        let biz_name = store.division(biz).await?.name;
        let i = store
            .create_institution(
                &sys,
                &InstitutionInput {
                    name: name.into(),
                    credit_code: code,
                    kind: "social_org".into(),
                    legal_person: true,
                    employees: 25,
                    capital_yuan: 500_000,
                    business_scope: "职业技能培训".into(),
                    reg_address: format!("郑州市{reg_name}建设路1号"),
                    reg_district: reg.into(),
                    biz_address: format!("郑州市{biz_name}实训路8号"),
                    biz_district: biz.into(),
                    contact_name: "刘老师".into(),
                    contact_phone: "13803710000".into(),
                },
            )
            .await?;
        let m = store
            .request_district_move(
                &sys,
                i.id,
                reg,
                biz,
                "注册地仅为办公地址，培训与考核均在经营场所进行，申请划归经营场所所在区县管理",
            )
            .await?;
        if let Some(agree) = agree {
            store
                .decide_district_move(
                    &quiet(actor(store, "center").await?),
                    m,
                    1,
                    agree,
                    if agree {
                        "经核实经营场所，同意按经营场所所在地划归"
                    } else {
                        "经营场所仅为临时租用的教室，仍按注册地管理"
                    },
                )
                .await?;
        }
    }
    Ok(())
}
