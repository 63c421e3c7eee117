//! Demo certificates (issue 9): a plan whose results were publicised and submitted, with photos;
//! the center issued its certificates; one was revoked and one corrected with both city keys. One
//! passed candidate has no photo, so the center's queue shows what blocks it.

use chrono::Duration;
use domain::plan::{self as dp, PlanCommand as C};
use domain::Scope;

use crate::audit::Actor;
use crate::{Result, Store, StoreError};

/// A one-inch demo photo (295×413 PNG, a silhouette).
pub const DEMO_PHOTO_PNG: &[u8] = include_bytes!("../../../data/demo/photo-1inch.png");

/// The demo's 评价站点代码 of inst-1.
pub const DEMO_SITE_CODE: &str = "410105";

async fn actor_of(store: &Store, username: &str) -> Result<Actor> {
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

/// A plan of inst-1 (中式烹调师), held `days_ago` days before `today`, with `names` as candidates
/// (those in `failed` fail), photos for all but those in `no_photo`, results publicised and
/// submitted to the city. Returns the plan. Used by the demo and by tests.
pub async fn submitted_plan(
    store: &Store,
    today: chrono::NaiveDate,
    days_ago: i64,
    names: &[&str],
    failed: &[usize],
    no_photo: &[usize],
    id_seed: u32,
) -> Result<crate::Plan> {
    let inst = actor_of(store, "inst-1").await?;
    let district = actor_of(store, "district-410105").await?;
    let center = actor_of(store, "center").await?;
    let inst_id = store
        .account_by_username("inst-1")
        .await?
        .and_then(|(a, _)| a.institution_id)
        .ok_or(StoreError::NotFound)?;
    let occupation: i64 = sqlx::Row::get(
        &sqlx::query("SELECT id FROM occupations WHERE code = '4-03-02-01' ORDER BY id LIMIT 1")
            .fetch_one(&store.db.pool)
            .await?,
        0,
    );
    let day = |d: i64| (today - Duration::days(d)).format("%Y-%m-%d").to_string();
    let p = store
        .create_plan(
            &inst,
            inst_id,
            &crate::PlanInput {
                occupation_id: occupation,
                levels: "5,4".into(),
                forms: "theory,skill".into(),
                start_date: day(days_ago),
                end_date: day(days_ago - 1),
                venue: "郑州市金水区示范路11号实训楼三层".into(),
                expected_candidates: names.len() as i64,
                examiners: "李明（考评员证号 K2021001）、王芳（K2021002）".into(),
                internal_supervisor: "赵强".into(),
            },
        )
        .await?;
    for (cmd, who) in [
        (C::Submit, &inst),
        (C::RecordPaper, &district),
        (C::DistrictApprove, &district),
        (C::Enter, &inst),
        (C::CityConfirm, &center),
    ] {
        let cur = store.plan(&Scope::City, p.id).await?;
        let role = domain::Role::parse(&who.role).expect("role");
        let to = dp::transition(cur.status(), role, cmd)
            .map_err(|r| StoreError::Invalid(r.to_string()))?;
        store
            .transition_plan(
                who,
                &Scope::City,
                p.id,
                cur.version,
                cur.status(),
                to,
                cmd,
                "",
                None,
                today,
            )
            .await?;
    }
    let list: Vec<crate::NewCandidate> = names
        .iter()
        .enumerate()
        .map(|(n, name)| {
            let male = n % 2 == 0;
            let id = domain::id_number::with_check_digit(&format!(
                "410102{}0{}1{}{:02}{}",
                1980 + (id_seed + n as u32) % 20,
                1 + n % 9,
                n % 10,
                (id_seed as usize + n) % 100,
                if male { 1 } else { 2 }
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
                phone: format!("1370371{:04}", n),
                level: if n % 3 == 0 { 5 } else { 4 },
            }
        })
        .collect();
    let plan = store.plan(&Scope::City, p.id).await?;
    store
        .add_candidates(
            &inst,
            &plan,
            &list,
            &vec![String::new(); list.len()],
            "demo",
        )
        .await?;
    let cands = store.all_candidates(p.id).await?;
    for (n, c) in cands.iter().enumerate() {
        if !no_photo.contains(&n) {
            store
                .set_candidate_photo(
                    &inst,
                    &plan,
                    c.id,
                    &crate::UploadedFile {
                        name: "一寸照片.png".into(),
                        content_type: "image/png".into(),
                        bytes: DEMO_PHOTO_PNG.to_vec(),
                    },
                )
                .await?;
        }
    }
    let scores: Vec<crate::ScoreUpdate> = cands
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let fail = failed.contains(&n);
            crate::ScoreUpdate {
                candidate_id: c.id,
                theory: Some(if fail { 52 } else { 72 + n as i64 }),
                skill: Some(80),
                review: None,
                passed: !fail,
            }
        })
        .collect();
    store.save_scores(&inst, p.id, &scores, "demo").await?;
    let policy = domain::policy::Policy::zhengzhou_2022();
    let period = policy
        .publicity_period(
            &store.holiday_calendar().await?,
            today - Duration::days(days_ago - 3),
            &policy.results_publicity_working_days,
        )
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
    let cur = store.plan(&Scope::City, p.id).await?;
    store
        .set_results_status(
            &inst,
            p.id,
            cur.version,
            "none",
            "publicised",
            Some(&period),
            today,
        )
        .await?;
    let cur = store.plan(&Scope::City, p.id).await?;
    store
        .set_results_status(
            &inst,
            p.id,
            cur.version,
            "publicised",
            "submitted",
            None,
            // Submitted once its publicity was over: the plan's closing date (办结日期).
            today - Duration::days((days_ago - 10).max(0)),
        )
        .await?;
    store.plan(&Scope::City, p.id).await
}

/// Issue every unblocked passed candidate of `plan` in one batch dated `issued_on`, signed with
/// `key` (the demo; tests).
pub async fn issue_plan(
    store: &Store,
    actor: &Actor,
    plan: &crate::Plan,
    issued_on: &str,
    key: &certsign::SigningKey,
) -> Result<crate::CertBatch> {
    let items: Vec<(i64, Option<i64>)> = store
        .issue_candidates(plan.id)
        .await?
        .into_iter()
        .filter(|c| c.issued.is_none() && c.holds_same.is_none() && c.photo_document_id.is_some())
        .map(|c| (c.candidate_id, None))
        .collect();
    let (batch, _) = store
        .start_cert_batch(actor, plan, issued_on, false, &items)
        .await?;
    let policy = domain::policy::Policy::zhengzhou_2022();
    let numbering = policy.numbering();
    let compose =
        |d: &crate::IssueDraft, s: i64| crate::cert_sign::compose_number(&numbering, d, s);
    let sign =
        |d: &crate::IssueDraft, no: &str, i: i64| crate::cert_sign::sign_draft(key, d, no, i);
    let drafts = store.pending_drafts(&batch).await?;
    store
        .stage_certificates(
            actor,
            &batch,
            &drafts,
            policy.cert_serial_per_level.value,
            &compose,
            &sign,
        )
        .await?;
    store.finish_cert_batch(actor, batch.id).await?;
    store.cert_batch(batch.id).await
}

pub(crate) async fn seed_certificates(store: &Store, today: chrono::NaiveDate) -> Result<()> {
    let center = actor_of(store, "center").await?;
    let bureau = actor_of(store, "bureau").await?;
    let inst_id = store
        .account_by_username("inst-1")
        .await?
        .and_then(|(a, _)| a.institution_id)
        .ok_or(StoreError::NotFound)?;
    store
        .set_site_code(&center, inst_id, Some(DEMO_SITE_CODE))
        .await?;
    let plan = submitted_plan(
        store,
        today,
        40,
        &["赵丽", "钱伟", "孙敏", "周杰", "吴霞", "郑浩"],
        &[5],
        &[4],
        7,
    )
    .await?;
    let key = crate::cert_sign::demo_signing_key();
    let issued_on = (today - Duration::days(20)).format("%Y-%m-%d").to_string();
    let batch = issue_plan(store, &center, &plan, &issued_on, &key).await?;
    let certs = store.batch_certificates(batch.id).await?;
    let policy = domain::policy::Policy::zhengzhou_2022();
    let numbering = policy.numbering();
    let compose =
        |d: &crate::IssueDraft, s: i64| crate::cert_sign::compose_number(&numbering, d, s);
    let sign =
        |d: &crate::IssueDraft, no: &str, i: i64| crate::cert_sign::sign_draft(&key, d, no, i);
    let per_level = policy.cert_serial_per_level.value;
    // One revoked (center proposes, bureau confirms) …
    let by_name = |n: &str| certs.iter().find(|c| c.holder_name == n);
    if let Some(c) = by_name("钱伟") {
        let x = store
            .propose_cert_change(
                &center,
                c,
                "revoke",
                "经核查，该考生技能考核存在替考行为，撤销证书（演示）",
                &serde_json::json!({}),
            )
            .await?;
        store
            .confirm_cert_change(
                &bureau, x.id, x.version, &issued_on, per_level, &compose, &sign,
            )
            .await?;
    }
    // … and one corrected (bureau proposes, center confirms): the name was misspelt.
    if let Some(c) = by_name("孙敏") {
        let x = store
            .propose_cert_change(
                &bureau,
                c,
                "correct",
                "姓名录入错误，更正后补发（演示）",
                &serde_json::json!({ "holder_name": "孙敏慧", "work_type": "" }),
            )
            .await?;
        let corrected_on = (today - Duration::days(10)).format("%Y-%m-%d").to_string();
        store
            .confirm_cert_change(
                &center,
                x.id,
                x.version,
                &corrected_on,
                per_level,
                &compose,
                &sign,
            )
            .await?;
    }
    // Walking the plan notified the parties; drop those so the demo inbox stays readable.
    sqlx::query("DELETE FROM notifications WHERE link LIKE '/plans/%'")
        .execute(&store.db.pool)
        .await?;
    Ok(())
}
