//! Demo data of 档案保管与销毁 (issue 10 §1), laid out around `today`: records closed years ago
//! that are due now — one plain, one held by the district, one held by the city, one with the
//! first key only, one approved by both keys (for `skilleval retention run`), a tombstone of an
//! electronic and of a paper record — and paper records in the register, due and not due.

use chrono::{Datelike, Duration, NaiveDate};
use domain::policy::Policy;
use domain::retention::{self as dr, PaperEntry, PaperKind, RetentionClass};
use domain::Scope;
use sqlx::Row;

use crate::audit::Actor;
use crate::{NewDocument, PlanInput, Result, RetentionRecord, Store, StoreError};

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

async fn institution_of(store: &Store, username: &str) -> Result<i64> {
    store
        .account_by_username(username)
        .await?
        .and_then(|(a, _)| a.institution_id)
        .ok_or(StoreError::NotFound)
}

/// `years` and `days` before `today` (Feb 29 rolls to Feb 28).
fn back(today: NaiveDate, years: i32, days: i64) -> NaiveDate {
    let y = today.year() - years;
    NaiveDate::from_ymd_opt(y, today.month(), today.day())
        .or_else(|| NaiveDate::from_ymd_opt(y, today.month(), 28))
        .expect("valid date")
        - Duration::days(days)
}

fn day(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A time of day `d` (China noon) as stored.
fn at(d: NaiveDate) -> String {
    format!("{}T04:00:00.000000Z", day(d))
}

/// An application closed long ago (inserted as it stands: its history predates the platform's
/// demo), with one uploaded material so that its disposal has a file to remove.
#[allow(clippy::too_many_arguments)]
async fn old_filing(
    store: &Store,
    institution: i64,
    district: &str,
    route: &str,
    state: &str,
    submitted: NaiveDate,
    closed: NaiveDate,
    note: &str,
) -> Result<i64> {
    let id: i64 = sqlx::query(
        "INSERT INTO filing_applications (kind, route, institution_id, district_code, state, state_since, note, submitted_at, created_by, created_at, updated_at, closed_at, closed_on) \
         VALUES ('social_org', $1, $2, $3, $4, $5, $6, $7, 'demo', $7, $5, $5, $8) RETURNING id",
    )
    .bind(route)
    .bind(institution)
    .bind(district)
    .bind(state)
    .bind(at(closed))
    .bind(note)
    .bind(at(submitted))
    .bind(day(closed))
    .fetch_one(&store.db.pool)
    .await?
    .get(0);
    let bytes = format!("%PDF-1.4\n% demo archived filing material {id}\n%%EOF\n");
    store
        .add_document(
            &Actor::system("demo"),
            NewDocument {
                owner_type: "filing_application".into(),
                owner_id: id,
                institution_id: Some(institution),
                district_code: Some(district.into()),
                kind: "application_form".into(),
                filename: "备案申请表.pdf".into(),
                retention_until: None,
            },
            bytes.as_bytes(),
        )
        .await?;
    Ok(id)
}

async fn record(store: &Store, class: RetentionClass, subject: i64) -> Result<RetentionRecord> {
    store
        .retention_record_of(class, subject)
        .await?
        .ok_or(StoreError::NotFound)
}

#[allow(clippy::too_many_arguments)]
async fn paper(
    store: &Store,
    policy: &Policy,
    actor: &Actor,
    district: Option<&str>,
    kind: PaperKind,
    title: &str,
    location: &str,
    custodian: &str,
    closed: NaiveDate,
) -> Result<RetentionRecord> {
    let entry = PaperEntry {
        kind,
        title: title.into(),
        location: location.into(),
        custodian: custodian.into(),
        closed_on: closed,
        note: String::new(),
    };
    let due = dr::due_on(policy, RetentionClass::Paper, closed).expect("paper expires");
    let rule = RetentionClass::Paper.rule(policy);
    let p = store
        .register_paper_record(actor, district, &entry, due, &rule.clause)
        .await?;
    store.retention_record(&Scope::City, p.record_id).await
}

/// Turn the first key (and the second) of `r` as the domain says these actors may.
async fn keys(
    store: &Store,
    r: &RetentionRecord,
    first: &Actor,
    second: Option<&Actor>,
    reason: &str,
) -> Result<RetentionRecord> {
    let role = |a: &Actor| domain::Role::parse(&a.role).expect("role");
    let side =
        dr::key_side(&r.keeper(), role(first)).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let d = store
        .propose_disposal(first, r, r.version, side, reason)
        .await?;
    if let Some(second) = second {
        let cur = store.retention_record(&Scope::City, r.id).await?;
        let s2 = dr::second_key(&r.keeper(), side, role(second))
            .map_err(|e| StoreError::Invalid(e.to_string()))?;
        store
            .approve_disposal(second, &cur, d.id, cur.version, s2)
            .await?;
    }
    store.retention_record(&Scope::City, r.id).await
}

pub async fn seed_retention(store: &Store, today: NaiveDate) -> Result<()> {
    let policy = Policy::zhengzhou_2022();
    let district = actor_of(store, "district-410105").await?;
    let district2 = actor_of(store, "district-410102").await?;
    let center = actor_of(store, "center").await?;
    let bureau = actor_of(store, "bureau").await?;
    let inst1 = institution_of(store, "inst-1").await?;
    let inst5 = institution_of(store, "inst-5").await?;

    // Electronic records closed more than five years ago (二(三) 电子版材料保存五年).
    let due_plain = old_filing(
        store,
        inst1,
        "410105",
        "district",
        "withdrawn",
        back(today, 6, 70),
        back(today, 6, 40),
        "演示：多年前撤回的初次备案申请（已到期，待提出销毁）",
    )
    .await?;
    let half = old_filing(
        store,
        inst1,
        "410105",
        "district",
        "rejected",
        back(today, 5, 160),
        back(today, 5, 100),
        "演示：多年前不予备案的申请（区县已同意销毁，待市级确认）",
    )
    .await?;
    let city_held = old_filing(
        store,
        inst5,
        "410105",
        "city",
        "rejected",
        back(today, 5, 90),
        back(today, 5, 30),
        "演示：市级办理、已到期但涉诉冻结的申请",
    )
    .await?;
    // An evaluation plan cancelled long ago, with its material: the electronic tombstone.
    let occupation: i64 =
        sqlx::query("SELECT id FROM occupations WHERE code = '4-03-02-01' ORDER BY id LIMIT 1")
            .fetch_one(&store.db.pool)
            .await?
            .get(0);
    let start = back(today, 5, 200);
    let plan = store
        .create_plan(
            &actor_of(store, "inst-1").await?,
            inst1,
            &PlanInput {
                occupation_id: occupation,
                levels: "5,4".into(),
                forms: "theory,skill".into(),
                start_date: day(start),
                end_date: day(start + Duration::days(1)),
                venue: "演示：本机构实训楼".into(),
                expected_candidates: 20,
                examiners: "王考评、李考评".into(),
                internal_supervisor: "赵督导".into(),
            },
        )
        .await?;
    let cancelled = start - Duration::days(10);
    sqlx::query("UPDATE plans SET status = 'cancelled', status_since = $1, last_reason = '演示：机构取消本次评价', closed_at = $1, closed_on = $2 WHERE id = $3")
        .bind(at(cancelled))
        .bind(day(cancelled))
        .bind(plan.id)
        .execute(&store.db.pool)
        .await?;
    let bytes = format!(
        "%PDF-1.4\n% demo cancelled plan material {}\n%%EOF\n",
        plan.id
    );
    store
        .add_document(
            &Actor::system("demo"),
            NewDocument {
                owner_type: "plan".into(),
                owner_id: plan.id,
                institution_id: Some(inst1),
                district_code: Some("410105".into()),
                kind: "plan_material".into(),
                filename: "考评人员名单.pdf".into(),
                retention_until: None,
            },
            bytes.as_bytes(),
        )
        .await?;

    // Everything closed so far (the demo's own filings and plans, and the ones above) enters the
    // register with its due date.
    store.register_closed_records(&policy).await?;
    let _ = record(store, RetentionClass::Filing, due_plain).await?;

    // 冻结: the city holds a record it keeps (a lawsuit), so its keys cannot turn.
    let r = record(store, RetentionClass::Filing, city_held).await?;
    store
        .place_hold(
            &bureau,
            &r,
            r.version,
            "演示：行政诉讼（2025）豫0105行初88号审理中，相关备案材料须保留",
        )
        .await?;

    // 一方同意: the district turned the first key; the city has not yet.
    let r = record(store, RetentionClass::Filing, half).await?;
    keys(
        store,
        &r,
        &district,
        None,
        "保存期满（电子版五年），经核对无未结事项",
    )
    .await?;

    // 销毁记录 (electronic): the old plan, disposed with the district's and the city's keys.
    let r = record(store, RetentionClass::Plan, plan.id).await?;
    let r = keys(
        store,
        &r,
        &district,
        Some(&center),
        "保存期满（电子版五年），计划已取消，无未结事项",
    )
    .await?;
    let d = store.retention_disposals(r.id).await?;
    store
        .execute_disposal(&district, &r, d[0].id, r.version)
        .await?;

    // Paper records (纸质档案登记): 3 years from their closing date.
    paper(
        store,
        &policy,
        &district,
        Some("410105"),
        PaperKind::Plan,
        "本年度评价工作计划（纸质）汇总卷",
        "金水区人社局档案室 2 号柜",
        "刘档案",
        today - Duration::days(20),
    )
    .await?;
    paper(
        store,
        &policy,
        &district,
        Some("410105"),
        PaperKind::Filing,
        "华信职业培训学校初次备案纸质材料",
        "金水区人社局档案室 1 号柜第 3 层",
        "刘档案",
        back(today, 1, 30),
    )
    .await?;
    let held = paper(
        store,
        &policy,
        &district,
        Some("410105"),
        PaperKind::Process,
        "2023年第三季度评价签到表、考场记录",
        "金水区人社局档案室 4 号柜",
        "刘档案",
        back(today, 3, 60),
    )
    .await?;
    store
        .place_hold(
            &district,
            &held,
            held.version,
            "演示：信访事项调查中（金信〔2026〕17号），资料暂不销毁",
        )
        .await?;
    // 双方同意: due, both keys turned; `skilleval retention run` carries it out.
    let approved = paper(
        store,
        &policy,
        &district2,
        Some("410102"),
        PaperKind::Filing,
        "中原匠心职业技能培训中心备案纸质材料（首次）",
        "中原区人社局档案室 A-07",
        "陈保管",
        back(today, 3, 10),
    )
    .await?;
    keys(
        store,
        &approved,
        &district2,
        Some(&center),
        "保存期满（纸质版三年），待按规定销毁",
    )
    .await?;
    // 销毁记录 (paper): the city's own paper, destroyed with the center's and the bureau's keys.
    let city_paper = paper(
        store,
        &policy,
        &center,
        None,
        PaperKind::Filing,
        "市级办理的备案纸质材料（第一批）",
        "市职业技能鉴定中心档案室 B-02",
        "周保管",
        back(today, 4, 0),
    )
    .await?;
    let r = keys(
        store,
        &city_paper,
        &center,
        Some(&bureau),
        "保存期满（纸质版三年），已监销",
    )
    .await?;
    let d = store.retention_disposals(r.id).await?;
    store
        .execute_disposal(&bureau, &r, d[0].id, r.version)
        .await?;
    paper(
        store,
        &policy,
        &center,
        None,
        PaperKind::Other,
        "市级评审督导纸质记录",
        "市职业技能鉴定中心档案室 B-05",
        "周保管",
        back(today, 0, 45),
    )
    .await?;
    Ok(())
}
