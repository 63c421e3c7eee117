//! 机构备案 end to end through the HTTP API as the real roles: the four kinds, every rule with
//! its clause, the two-key exception, the verifiable draw, concurrency and bad input.

use chrono::NaiveDate;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sqlx::Row;
use web::WebConfig;

use crate::helpers::{spawn_app, spawn_app_with, TestApp};

pub(crate) const TINY_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000052 00000 n \ntrailer<</Size 3/Root 1 0 R>>\nstartxref\n98\n%%EOF\n";

pub(crate) async fn inst_of(app: &TestApp, username: &str) -> i64 {
    if let Some(d) = username.strip_prefix("applicant-") {
        return app.applicant(d).await;
    }
    sqlx::query("SELECT institution_id FROM users WHERE username = $1")
        .bind(username)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

pub(crate) async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let s = r.status().as_u16();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (s, v)
}

pub(crate) async fn create(app: &TestApp, c: &reqwest::Client, body: Value) -> (u16, Value) {
    json_of(
        c.post(app.url("/api/v1/filings"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) async fn get(app: &TestApp, c: &reqwest::Client, id: i64) -> (u16, Value) {
    json_of(
        c.get(app.url(&format!("/api/v1/filings/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) async fn version(app: &TestApp, id: i64) -> i64 {
    sqlx::query("SELECT version FROM filing_applications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

pub(crate) async fn state_of(app: &TestApp, id: i64) -> String {
    sqlx::query("SELECT state FROM filing_applications WHERE id = $1")
        .bind(id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

/// Take an action with the current version; returns (status, body).
pub(crate) async fn act(
    app: &TestApp,
    c: &reqwest::Client,
    id: i64,
    action: &str,
    reason: &str,
) -> (u16, Value) {
    let v = version(app, id).await;
    json_of(
        c.post(app.url(&format!("/api/v1/filings/{id}/actions")))
            .json(&json!({ "action": action, "reason": reason, "version": v }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

pub(crate) async fn ok_act(
    app: &TestApp,
    c: &reqwest::Client,
    id: i64,
    action: &str,
    reason: &str,
) -> Value {
    let (s, b) = act(app, c, id, action, reason).await;
    assert_eq!(s, 200, "{action}: {b}");
    b
}

/// End the publicity period (as if the days had passed) and finish as the center.
pub(crate) async fn finish(app: &TestApp, center: &reqwest::Client, id: i64) -> Value {
    let (s, b) = act(app, center, id, "finish", "").await;
    assert_eq!(s, 409, "finish before the period ends is refused: {b}");
    assert!(b["message"].as_str().unwrap().contains("期满后"), "{b}");
    sqlx::query("UPDATE filing_applications SET publicity_end = '2020-01-01' WHERE id = $1")
        .bind(id)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    ok_act(app, center, id, "finish", "").await
}

/// A draft with the required materials uploaded, ready to submit.
pub(crate) async fn new_app(app: &TestApp, who: &str, body: Value) -> (reqwest::Client, i64) {
    inst_of(app, who).await;
    let c = app.login(who).await;
    let (s, b) = create(app, &c, body).await;
    assert_eq!(s, 201, "{b}");
    let id = b["id"].as_i64().unwrap();
    app.attach_required_materials(id).await;
    (c, id)
}

pub(crate) async fn username_of(app: &TestApp, user_id: i64) -> String {
    sqlx::query("SELECT username FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

/// Draw experts for `id` as `district`; returns the draw JSON.
pub(crate) async fn draw(
    app: &TestApp,
    district: &reqwest::Client,
    id: i64,
    reason: &str,
) -> (u16, Value) {
    let v = version(app, id).await;
    json_of(
        district
            .post(app.url(&format!("/api/v1/filings/{id}/draws")))
            .json(&json!({ "version": v, "reason": reason }))
            .send()
            .await
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn filing_social_org_full_path() {
    let app = spawn_app().await;
    let inst = inst_of(&app, "applicant-410105").await;
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5, 4, 3] }], "note": "申报电工" }),
    )
    .await;
    // Materials: a real PDF is accepted as a new document of the application.
    let r = ic
        .post(app.url(&format!("/api/v1/filings/{id}/documents")))
        .multipart(Form::new().text("kind", "application_form").part(
            "file",
            Part::bytes(TINY_PDF.to_vec()).file_name("备案申请表.pdf"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    // A draft is invisible to the district until submitted.
    let district = app.login("district-410105").await;
    assert_eq!(get(&app, &district, id).await.0, 404);
    let b = ok_act(&app, &ic, id, "submit", "").await;
    assert_eq!(b["state"], "submitted");
    assert_eq!(get(&app, &district, id).await.0, 200);
    // 初审 passes with a reason; the commitment of the first draw is published before the draw.
    ok_act(&app, &district, id, "pass", "材料齐全").await;
    let (_, d) = get(&app, &district, id).await;
    assert_eq!(d["draws"][0]["draw"]["status"], "committed");
    assert_eq!(d["draws"][0]["draw"]["secret"], "");
    let commitment = d["draws"][0]["draw"]["commitment"]
        .as_str()
        .unwrap()
        .to_string();
    // The division with the center dispatches a review supervisor, who then sees the application.
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    for c in [&center, &bureau] {
        let r = c
            .post(app.url(&format!("/api/v1/filings/{id}/supervisors")))
            .json(&json!({ "username": "sup-city-1" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
    }
    let sup = app.login("sup-city-1").await;
    assert_eq!(get(&app, &sup, id).await.0, 200);
    // Draw: 3 experts, the commitment revealed and matching.
    let (s, dr) = draw(&app, &district, id, "").await;
    assert_eq!(s, 201, "{dr}");
    assert_eq!(dr["commitment"], commitment.as_str());
    let selected: Vec<i64> = dr["selected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(selected.len(), 3);
    // Completing the on-site review before every opinion is in is refused.
    let (s, b) = act(&app, &district, id, "complete_onsite", "完成").await;
    assert_eq!(s, 409, "{b}");
    // Each drawn expert records an opinion; an expert not drawn sees nothing (404).
    let (_, d) = get(&app, &district, id).await;
    let members = d["draws"][0]["members"].as_array().unwrap().clone();
    let mut drawn_users = vec![];
    for m in &members {
        let uname = username_of(&app, m["user_id"].as_i64().unwrap()).await;
        drawn_users.push(uname.clone());
        let e = app.login(&uname).await;
        assert_eq!(get(&app, &e, id).await.0, 200);
        // A drawn expert reads the materials through the application.
        let (_, docs) = json_of(
            e.get(app.url(&format!("/api/v1/filings/{id}/documents")))
                .send()
                .await
                .unwrap(),
        )
        .await;
        let doc = docs[0]["latest"]["id"].as_i64().unwrap();
        let r = e
            .get(app.url(&format!("/api/v1/filings/{id}/documents/{doc}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
        let r = e
            .post(app.url(&format!("/api/v1/filings/{id}/opinions")))
            .json(&json!({ "conclusion": "通过", "opinion": "场地与考评人员符合要求" }))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let other = (1..=12)
        .map(|n| format!("expert-{n}"))
        .find(|u| !drawn_users.contains(u))
        .unwrap();
    let oc = app.login(&other).await;
    assert_eq!(get(&app, &oc, id).await.0, 404);
    assert_eq!(
        oc.get(app.url(&format!("/api/v1/filings/{id}/documents/1")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    ok_act(&app, &district, id, "complete_onsite", "现场评审完成").await;
    let b = ok_act(&app, &district, id, "opinion", "建议予以备案").await;
    assert_eq!(b["state"], "city_review");
    assert_eq!(b["district_opinion"], "建议予以备案");
    // The supervisor's 督导意见 comes first; then two keys, center first this time.
    let r = sup
        .post(app.url(&format!("/api/v1/filings/{id}/supervision-opinion")))
        .json(&json!({ "opinion": "评审程序规范" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let b = ok_act(&app, &center, id, "approve", "").await;
    assert_eq!(b["state"], "city_review");
    let b = ok_act(&app, &bureau, id, "approve", "").await;
    assert_eq!(b["state"], "publicity");
    // Public page lists it without login.
    let page = app
        .client()
        .get(app.url("/public/filings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("郑州市金水区华信职业培训学校"), "public page");
    let b = finish(&app, &center, id).await;
    assert_eq!(b["state"], "filed");
    let no = b["filing_no"].as_str().unwrap();
    assert!(no.starts_with("郑人社评备〔"), "{no}");
    // The filed scope is written; the institution sees every decision with its reason.
    let n = app
        .count(&format!(
            "SELECT COUNT(*) FROM filed_occupations f JOIN occupations o ON o.id = f.occupation_id WHERE f.institution_id = {inst} AND o.code = '6-31-01-03'"
        ))
        .await;
    assert_eq!(n, 1);
    let (_, d) = get(&app, &ic, id).await;
    let reasons: Vec<&str> = d["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["reason"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"材料齐全"));
    assert!(reasons.contains(&"建议予以备案"));
    // Notified in the platform with the reason, and an SMS queued in the outbox.
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM notifications WHERE institution_id = {inst} AND body LIKE '%材料齐全%'")).await,
        1
    );
    assert!(
        app.count("SELECT COUNT(*) FROM outbox WHERE channel = 'sms' AND kind = 'filing_decision'")
            .await
            >= 2
    );
    // Every transition is also in the audit chain.
    assert!(
        app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE object_type = 'filing_application' AND object_id = '{id}'"))
            .await
            >= 10
    );
    // Printable receipt.
    let receipt = ic
        .get(app.url(&format!("/filings/{id}/receipt")))
        .send()
        .await
        .unwrap();
    assert_eq!(receipt.status(), 200);
    assert!(receipt.text().await.unwrap().contains(no));
}

#[tokio::test]
async fn filing_enterprise_waiver_path() {
    let app = spawn_app().await;
    let c = app.login("inst-4").await;
    let (s, e) = json_of(
        c.get(app.url("/api/v1/filings/eligibility"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(e["eligible"], true, "{e}");
    let (ic, id) = new_app(
        &app,
        "inst-4",
        json!({ "kind": "enterprise", "occupations": [{ "code": "4-03-02-02", "levels": [5, 4, 3] }],
                "shared_resources": "考评员采取购买服务方式", "commitment": "本企业书面承诺具备评价条件" }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let district = app.login("district-410182").await;
    ok_act(&app, &district, id, "pass", "职业在主营业务范围内").await;
    let b = ok_act(
        &app,
        &district,
        id,
        "waive_onsite",
        "书面承诺及佐证材料可证明具备条件",
    )
    .await;
    assert_eq!(b["state"], "onsite_reviewed");
    assert_eq!(b["waiver"], true);
    assert_eq!(b["waiver_by"], "district-410182");
    ok_act(&app, &district, id, "opinion", "建议予以备案").await;
    let bureau = app.login("bureau").await;
    let center = app.login("center").await;
    ok_act(&app, &bureau, id, "approve", "").await;
    ok_act(&app, &center, id, "approve", "").await;
    let b = finish(&app, &center, id).await;
    assert_eq!(b["state"], "filed");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM draw_members").await,
        app.count("SELECT COUNT(*) FROM draw_members WHERE application_id <> 0")
            .await
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM expert_draws WHERE application_id = {id} AND status = 'drawn'"
        ))
        .await,
        0,
        "no draw with a waiver"
    );
}

#[tokio::test]
async fn filing_industry_association_city_path() {
    let app = spawn_app().await;
    // Level 2 is allowed: the district's 5/4/3 limit applies to district intake only.
    let (ic, id) = new_app(
        &app,
        "inst-5",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-10-01-06", "levels": [4, 3, 2] }] }),
    )
    .await;
    let b = ok_act(&app, &ic, id, "submit", "").await;
    assert_eq!(b["route"], "city");
    assert_eq!(
        b["state"], "submitted",
        "associations skip the district, not the review"
    );
    let district = app.login("district-410105").await;
    let (s, _) = act(&app, &district, id, "pass", "x").await;
    assert!(s == 403 || s == 409, "district has no stage here: {s}");
    let bureau = app.login("bureau").await;
    let center = app.login("center").await;
    // Either city role can return; the institution corrects and resubmits.
    let b = ok_act(&app, &bureau, id, "return", "请补充协会章程").await;
    assert_eq!(b["state"], "returned");
    ok_act(&app, &ic, id, "submit", "").await;
    crate::notice_filing_review::city_review(
        &app,
        id,
        json!({ "high_level_reason": "协会具备技师评价条件" }),
    )
    .await;
    ok_act(&app, &bureau, id, "approve", "").await;
    let (s, b) = act(&app, &bureau, id, "approve", "").await;
    assert_eq!(s, 409, "the same key twice: {b}");
    let b = ok_act(&app, &center, id, "approve", "").await;
    assert_eq!(b["state"], "publicity");
    // An objection pauses the publicity; resolved with a reason.
    let b = ok_act(&app, &center, id, "object", "收到实名异议：场地不符").await;
    assert_eq!(b["state"], "publicity_paused");
    let (s, _) = act(&app, &center, id, "finish", "").await;
    assert_eq!(s, 409);
    let v = version(&app, id).await;
    let r = bureau
        .post(app.url(&format!("/api/v1/filings/{id}/actions")))
        .json(&json!({ "action": "resolve_objection", "reason": "经核实异议不成立", "upheld": false, "version": v }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let b = finish(&app, &center, id).await;
    assert_eq!(b["state"], "filed");
}

#[tokio::test]
async fn filing_special_ability_path() {
    let app = spawn_app().await;
    let c = app.login("inst-2").await;
    // An occupation code is not a special-ability item.
    let (s, b) = create(
        &app,
        &c,
        json!({ "kind": "special_ability", "occupations": [{ "code": "6-31-01-03" }] }),
    )
    .await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("专项职业能力项目"));
    let (ic, id) = new_app(
        &app,
        "inst-2",
        json!({ "kind": "special_ability", "occupations": [{ "code": "ZX-41-001" }] }),
    )
    .await;
    let b = ok_act(&app, &ic, id, "submit", "").await;
    assert_eq!(b["state"], "submitted");
    crate::notice_filing_review::city_review(&app, id, json!({})).await;
    let bureau = app.login("bureau").await;
    let center = app.login("center").await;
    ok_act(&app, &center, id, "approve", "").await;
    ok_act(&app, &bureau, id, "approve", "").await;
    let b = finish(&app, &center, id).await;
    assert_eq!(b["state"], "filed");
    let inst = inst_of(&app, "inst-2").await;
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM filed_occupations f JOIN occupations o ON o.id = f.occupation_id WHERE f.institution_id = {inst} AND o.kind = 'special'")).await,
        1
    );
}

pub(crate) async fn spawn_on(day: &str) -> TestApp {
    spawn_app_with(WebConfig {
        demo: true,
        fixed_today: Some(day.parse::<NaiveDate>().unwrap()),
        ..Default::default()
    })
    .await
}

#[tokio::test]
async fn filing_increment_window() {
    // April: outside the window, refused naming 一(四); nothing moves.
    let app = spawn_on("2026-04-15").await;
    let (ic, id) = new_app(
        &app,
        "inst-3",
        json!({ "kind": "increment", "occupations": [{ "code": "6-20-01-01", "levels": [2, 1] }] }),
    )
    .await;
    let (s, b) = act(&app, &ic, id, "submit", "").await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "increment_months");
    assert!(b["message"].as_str().unwrap().contains("一(四)"), "{b}");
    assert_eq!(state_of(&app, id).await, "draft");
    // An unfiled institution cannot ask for an increment.
    let c2 = app.login("inst-2").await;
    let (s, _) = create(
        &app,
        &c2,
        json!({ "kind": "increment", "occupations": [{ "code": "6-20-01-01", "levels": [2] }] }),
    )
    .await;
    assert_eq!(s, 422);

    // September: accepted; reviewed by the city; the filed levels widen.
    let app = spawn_on("2026-09-10").await;
    let (ic, id) = new_app(
        &app,
        "inst-3",
        json!({ "kind": "increment", "occupations": [{ "code": "6-20-01-01", "levels": [2, 1] }] }),
    )
    .await;
    let b = ok_act(&app, &ic, id, "submit", "").await;
    assert_eq!(b["state"], "submitted");
    crate::notice_filing_review::city_review(&app, id, json!({})).await;
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    ok_act(&app, &center, id, "approve", "").await;
    let b = ok_act(&app, &bureau, id, "approve", "").await;
    assert!(b["publicity_end"].as_str().unwrap() > "2026-09-10");
    finish(&app, &center, id).await;
    let inst = inst_of(&app, "inst-3").await;
    let levels: String = sqlx::query("SELECT f.levels FROM filed_occupations f JOIN occupations o ON o.id = f.occupation_id WHERE f.institution_id = $1 AND o.code = '6-20-01-01'")
        .bind(inst)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0);
    assert_eq!(levels, "5,4,3,2,1");
}

// ------------------------------------------------------------------ one test per rule

#[tokio::test]
async fn rule_max_occupations_per_application() {
    let app = spawn_app().await;
    inst_of(&app, "applicant-410105").await;
    let c = app.login("applicant-410105").await;
    let before = app.count("SELECT COUNT(*) FROM filing_applications").await;
    let (s, b) = create(
        &app,
        &c,
        json!({ "kind": "social_org", "occupations": [
            { "code": "6-31-01-03", "levels": [5] }, { "code": "6-18-02-04", "levels": [5] },
            { "code": "6-20-01-01", "levels": [5] }, { "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "occupations");
    let m = b["message"].as_str().unwrap();
    assert!(m.contains("不得超过3个") && m.contains("一(一)"), "{m}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM filing_applications").await,
        before
    );
}

#[tokio::test]
async fn rule_increment_max_occupations() {
    let app = spawn_on("2026-03-10").await;
    let c = app.login("inst-3").await;
    let (s, b) = create(
        &app,
        &c,
        json!({ "kind": "increment", "occupations": [
            { "code": "6-31-01-03", "levels": [5] }, { "code": "6-18-02-04", "levels": [2] },
            { "code": "6-20-01-01", "levels": [5] }, { "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    assert_eq!(s, 422);
    assert!(b["message"].as_str().unwrap().contains("一(四)"), "{b}");
}

#[tokio::test]
async fn rule_district_initial_levels() {
    let app = spawn_app().await;
    let (c, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [3, 2] }] }),
    )
    .await;
    let (s, b) = act(&app, &c, id, "submit", "").await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "district_initial_levels");
    assert!(b["message"].as_str().unwrap().contains("三(一)"), "{b}");
    assert_eq!(state_of(&app, id).await, "draft");
}

#[tokio::test]
async fn rule_enterprise_eligibility() {
    let app = spawn_app().await;
    let inst = inst_of(&app, "inst-4").await;
    sqlx::query("UPDATE institutions SET employees = 20, capital_yuan = 500000 WHERE id = $1")
        .bind(inst)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let c = app.login("inst-4").await;
    // Shown before submitting.
    let (_, e) = json_of(
        c.get(app.url("/api/v1/filings/eligibility"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(e["eligible"], false);
    assert!(
        e["problems"][0].as_str().unwrap().contains("一(二)1(2)"),
        "{e}"
    );
    let (c, id) = new_app(
        &app,
        "inst-4",
        json!({ "kind": "enterprise", "occupations": [{ "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    let (s, b) = act(&app, &c, id, "submit", "").await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "enterprise_min_employees");
    assert!(b["message"].as_str().unwrap().contains("一(二)1(2)"));
    assert_eq!(state_of(&app, id).await, "draft");
}

#[tokio::test]
async fn rule_onsite_waiver_requires_commitment() {
    let app = spawn_app().await;
    let (ic, id) = new_app(
        &app,
        "inst-4",
        json!({ "kind": "enterprise", "occupations": [{ "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let district = app.login("district-410182").await;
    ok_act(&app, &district, id, "pass", "通过").await;
    let (s, b) = act(&app, &district, id, "waive_onsite", "免于现场").await;
    assert_eq!(s, 422);
    assert!(b["message"].as_str().unwrap().contains("一(二)2"), "{b}");
    assert_eq!(state_of(&app, id).await, "district_passed");
    // A social organisation cannot be waived at all.
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let d5 = app.login("district-410105").await;
    ok_act(&app, &d5, id, "pass", "通过").await;
    let (s, b) = act(&app, &d5, id, "waive_onsite", "免于现场").await;
    assert_eq!(s, 422, "{b}");
}

#[tokio::test]
async fn rule_reason_required() {
    let app = spawn_app().await;
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let d = app.login("district-410105").await;
    for action in ["return", "reject", "pass"] {
        let (s, b) = act(&app, &d, id, action, "  ").await;
        assert_eq!(s, 422, "{action}");
        assert_eq!(b["field"], "reason");
    }
    assert_eq!(state_of(&app, id).await, "submitted");
}

/// Fill the 410105 quota of 电工 with three other filed institutions.
async fn fill_quota(app: &TestApp) {
    fill_quota_n(app, 3).await
}

async fn fill_quota_n(app: &TestApp, count: usize) {
    let occ: i64 =
        sqlx::query("SELECT id FROM occupations WHERE code = '6-31-01-03' AND kind = 'occupation'")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap()
            .get(0);
    let actor = store::Actor::system("test");
    for n in 1..=count {
        let code =
            domain::credit_code::with_check_digit(&format!("52410105MA{:07}", 4242 + n)).unwrap();
        let inst = app
            .store
            .create_institution(
                &actor,
                &store::InstitutionInput {
                    name: format!("金水区第{n}电工培训学校"),
                    credit_code: code,
                    kind: "social_org".into(),
                    legal_person: true,
                    employees: 10,
                    capital_yuan: 100000,
                    business_scope: "培训".into(),
                    reg_address: "金水路".into(),
                    reg_district: "410105".into(),
                    biz_address: "金水路".into(),
                    biz_district: "410105".into(),
                    contact_name: "李".into(),
                    contact_phone: "13800000000".into(),
                },
            )
            .await
            .unwrap();
        app.store
            .record_filed_occupation(
                &actor,
                inst.id,
                occ,
                "5,4,3",
                &format!("T-{n}"),
                "2025-01-01",
                "test",
            )
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn rule_max_institutions_per_occupation_per_district() {
    let app = spawn_app().await;
    fill_quota(&app).await;
    let (c, id) = new_app(&app, "applicant-410105", json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5, 4] }] })).await;
    let (s, b) = act(&app, &c, id, "submit", "").await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "max_institutions_per_occupation_per_district");
    let m = b["message"].as_str().unwrap();
    assert!(m.contains("已有3家") && m.contains("一(一)"), "{m}");
    assert_eq!(state_of(&app, id).await, "draft");
    // Another district is not affected by 金水区's quota.
    let (c2, id2) = new_app(&app, "inst-2", json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5, 4] }] })).await;
    ok_act(&app, &c2, id2, "submit", "").await;
}

#[tokio::test]
async fn quota_exception_two_key() {
    let app = spawn_app().await;
    fill_quota(&app).await;
    let inst = inst_of(&app, "applicant-410105").await;
    let (c, id) = new_app(&app, "applicant-410105", json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5, 4] }] })).await;
    assert_eq!(act(&app, &c, id, "submit", "").await.0, 422);
    let body = json!({ "institution_id": inst, "rule": "max_institutions_per_occupation_per_district", "occupation_code": "6-31-01-03", "reason": "该机构具备区内唯一高压电工实训基地" });
    // Only the district of the institution raises it.
    assert_eq!(
        c.post(app.url("/api/v1/filing-exceptions"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    let other = app.login("district-410102").await;
    assert_eq!(
        other
            .post(app.url("/api/v1/filing-exceptions"))
            .json(&body)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let district = app.login("district-410105").await;
    let (s, x) = json_of(
        district
            .post(app.url("/api/v1/filing-exceptions"))
            .json(&body)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 201, "{x}");
    let xid = x["id"].as_i64().unwrap();
    // The district cannot decide its own request.
    let r = district
        .post(app.url(&format!("/api/v1/filing-exceptions/{xid}/decide")))
        .json(&json!({ "approve": true }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // One key is not enough.
    let center = app.login("center").await;
    let (s, x) = json_of(
        center
            .post(app.url(&format!("/api/v1/filing-exceptions/{xid}/decide")))
            .json(&json!({ "approve": true, "reason": "同意" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(x["status"], "pending");
    assert_eq!(act(&app, &c, id, "submit", "").await.0, 422);
    let (s, _) = json_of(
        center
            .post(app.url(&format!("/api/v1/filing-exceptions/{xid}/decide")))
            .json(&json!({ "approve": true }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 409, "the same key twice");
    let bureau = app.login("bureau").await;
    let (s, x) = json_of(
        bureau
            .post(app.url(&format!("/api/v1/filing-exceptions/{xid}/decide")))
            .json(&json!({ "approve": true, "reason": "统筹安排" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(x["status"], "granted");
    assert_eq!(x["center_by"], "center");
    assert_eq!(x["division_by"], "bureau");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM notifications WHERE institution_id = {inst} AND title LIKE '%特殊情况申请%'")).await,
        1,
        "the institution is told the outcome"
    );
    let b = ok_act(&app, &c, id, "submit", "").await;
    assert_eq!(b["state"], "submitted");
    ok_act(&app, &district, id, "pass", "按特殊情况申请统筹安排").await;
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE object_type = 'filing_exception' AND object_id = '{xid}'")).await,
        4,
        "raised, two keys, used once (by this application, at submission)"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT used_by_application FROM filing_exceptions WHERE id = {xid}"
        ))
        .await,
        id
    );
}

#[tokio::test]
async fn rule_campaign_deadline_overdue_view() {
    let app = spawn_app().await;
    let (c, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    ok_act(&app, &c, id, "submit", "").await;
    let center = app.login("center").await;
    let r = center
        .post(app.url("/api/v1/filing-campaigns"))
        .json(&json!({ "name": "移交备案批次", "deadline": "2022-04-30", "application_ids": [id] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let (_, o) = json_of(
        center
            .get(app.url("/api/v1/filings/overdue"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let ids: Vec<i64> = o["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert!(ids.contains(&id), "{o}");
    assert_eq!(o["items"][0]["campaign_deadline"], "2022-04-30");
    // 中原区 sees only its own overdue applications.
    let other = app.login("district-410102").await;
    let (_, o) = json_of(
        other
            .get(app.url("/api/v1/filings/overdue"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(o["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["district_code"] == "410102"));
    assert_eq!(
        c.get(app.url("/api/v1/filings/overdue"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // A bad date is a Chinese 422.
    let r = center
        .post(app.url("/api/v1/filing-campaigns"))
        .json(&json!({ "name": "x", "deadline": "四月底" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
}

// ------------------------------------------------------------------ the draw

async fn expert_id(app: &TestApp, n: usize) -> i64 {
    sqlx::query("SELECT id FROM experts WHERE name = $1")
        .bind(format!("专家{n}"))
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

async fn passed_app(app: &TestApp) -> (reqwest::Client, i64) {
    passed_app_of(app, "applicant-410105").await
}

async fn passed_app_of(app: &TestApp, who: &str) -> (reqwest::Client, i64) {
    let (ic, id) = new_app(app, who, json!({ "kind": "social_org", "occupations": [{ "code": "4-10-01-06", "levels": [5, 4] }] })).await;
    ok_act(app, &ic, id, "submit", "").await;
    let d = app.login("district-410105").await;
    ok_act(app, &d, id, "pass", "材料齐全").await;
    (d, id)
}

#[tokio::test]
async fn draw_excludes_conflicts() {
    let app = spawn_app().await;
    // The demo draw for inst-1 makes its three experts "reviewed within 12 months".
    let demo_reviewers: Vec<i64> = sqlx::query("SELECT dm.expert_id FROM draw_members dm JOIN filing_applications a ON a.id = dm.application_id JOIN users u ON u.institution_id = a.institution_id WHERE u.username = 'inst-1'")
        .fetch_all(&app.store.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(demo_reviewers.len(), 3);
    let free: Vec<usize> = (1..=12).collect();
    let mut others = vec![];
    for n in free {
        let id = expert_id(&app, n).await;
        if !demo_reviewers.contains(&id) {
            others.push(id);
        }
    }
    let (same_employer, inactive, unavailable) = (others[0], others[1], others[2]);
    sqlx::query("UPDATE experts SET employer = '郑州市金水区华信职业培训学校' WHERE id = $1")
        .bind(same_employer)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    app.store
        .set_expert_active(&store::Actor::system("test"), inactive, false)
        .await
        .unwrap();
    let center = app.login("center").await;
    let today = store::testing::today();
    let r = center
        .post(app.url(&format!("/api/v1/experts/{unavailable}/unavailable")))
        .json(&json!({ "from": (today - chrono::Days::new(3)).to_string(), "to": (today + chrono::Days::new(3)).to_string(), "reason": "出差" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "the changed expert comes back");
    // inst-1 applies again after its demo filed scope was revoked (a filed institution adds
    // occupations only through increments, 一(四)).
    sqlx::query("UPDATE filed_occupations SET revoked_at = '2026-01-01T00:00:00Z' WHERE institution_id = (SELECT institution_id FROM users WHERE username = 'inst-1')")
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let (d, id) = passed_app_of(&app, "inst-1").await;
    let (s, dr) = draw(&app, &d, id, "").await;
    assert_eq!(s, 201, "{dr}");
    let excl: Vec<(i64, String)> = dr["exclusions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["expert_id"].as_i64().unwrap(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |id: i64| {
        excl.iter()
            .find(|(e, _)| *e == id)
            .map(|(_, r)| r.clone())
            .unwrap_or_default()
    };
    for r in &demo_reviewers {
        assert!(reason(*r).contains("12个月内评审过"), "{excl:?}");
    }
    assert!(reason(same_employer).contains("同一单位"));
    assert!(reason(inactive).contains("已停用"));
    assert!(reason(unavailable).contains("不可参加评审"));
    let pool: Vec<i64> = dr["pool"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    assert_eq!(pool.len(), 12 - excl.len());
    for s in dr["selected"].as_array().unwrap() {
        let s = s.as_i64().unwrap();
        assert!(pool.contains(&s) && excl.iter().all(|(e, _)| *e != s));
    }
}

#[tokio::test]
async fn draw_replays_identically() {
    let app = spawn_app().await;
    let (d, id) = passed_app(&app).await;
    let (_, first) = draw(&app, &d, id, "").await;
    let did = first["id"].as_i64().unwrap();
    let center = app.login("center").await;
    let (s, v) = json_of(
        center
            .get(app.url(&format!("/api/v1/draws/{did}/verify")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["ok"], true, "{v}");
    // A redraw needs a reason; every attempt stays visible to the city.
    let (s, b) = draw(&app, &d, id, "").await;
    assert_eq!(s, 422, "{b}");
    let (s, second) = draw(&app, &d, id, "一名专家突发疾病，整组重新抽取").await;
    assert_eq!(s, 201);
    assert_eq!(second["attempt"], 2);
    assert_ne!(second["seed"], first["seed"]);
    let (_, detail) = get(&app, &center, id).await;
    let statuses: Vec<&str> = detail["draws"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["draw"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["superseded", "drawn", "committed"]);
    // The superseded attempt still replays.
    let (_, v) = json_of(
        center
            .get(app.url(&format!("/api/v1/draws/{did}/verify")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["ok"], true);
    // Tampering with the stored result is detected.
    let sel = first["selected"].as_array().unwrap();
    let pool = first["pool"].as_array().unwrap();
    let outsider = pool.iter().find(|p| !sel.contains(p)).unwrap();
    let tampered = json!([outsider, sel[1], sel[2]]).to_string();
    sqlx::query("UPDATE expert_draws SET selected = $1 WHERE id = $2")
        .bind(tampered)
        .bind(did)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let (_, v) = json_of(
        center
            .get(app.url(&format!("/api/v1/draws/{did}/verify")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["ok"], false);
    // The page shows the same verdict.
    let page = center
        .get(app.url(&format!("/draws/{did}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("不一致"), "page shows mismatch");
}

#[tokio::test]
async fn draw_decline_redraw_recorded() {
    let app = spawn_app().await;
    let (d, id) = passed_app(&app).await;
    let (_, dr) = draw(&app, &d, id, "").await;
    let did = dr["id"].as_i64().unwrap();
    let declined = dr["selected"][0].as_i64().unwrap();
    let (s, b) = json_of(
        d.post(app.url(&format!("/api/v1/filings/{id}/draws/decline")))
            .json(&json!({ "expert_id": declined, "reason": "与评审时间冲突" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let repl = b["replacement"].as_i64().unwrap();
    assert!(!dr["selected"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x.as_i64() == Some(repl)));
    let center = app.login("center").await;
    let (_, v) = json_of(
        center
            .get(app.url(&format!("/api/v1/draws/{did}/verify")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(v["ok"], true, "{v}");
    assert_eq!(v["draw"]["declined"], json!([declined]));
    assert_eq!(v["draw"]["selected"].as_array().unwrap().len(), 4);
    let (_, detail) = get(&app, &center, id).await;
    let members = detail["draws"][0]["members"].as_array().unwrap();
    assert!(members.iter().any(|m| m["expert_id"] == declined
        && m["status"] == "declined"
        && m["decline_reason"] == "与评审时间冲突"));
    assert!(members
        .iter()
        .any(|m| m["expert_id"] == repl && m["status"] == "replacement"));
    assert!(detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "expert_draw.decline"));
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'expert_draw.decline' AND object_type = 'expert_draw' AND object_id = '{did}'")).await, 1);
}

// ------------------------------------------------------------------ concurrency

#[tokio::test]
async fn concurrent_review_one_wins() {
    let app = spawn_app().await;
    // A second officer of 金水区, created by the city center.
    let center = app.login("center").await;
    let r = center
        .post(app.url("/api/v1/users"))
        .json(&json!({ "username": "district-410105-b", "display_name": "金水区人社局 二", "role": "district", "district": "410105", "password": "Another-demo-pass-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "4-03-02-01", "levels": [5] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let a = app.login("district-410105").await;
    let b = app.client();
    let r = b
        .post(app.url("/api/v1/session"))
        .json(&json!({ "username": "district-410105-b", "password": "Another-demo-pass-1" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // A new account changes its first password before it may act (issue 8, item 12).
    let r = b
        .post(app.url("/api/v1/me/password"))
        .json(&json!({ "current": "Another-demo-pass-1", "new_password": "Second-officer-pass-2" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v = version(&app, id).await;
    let send = |c: reqwest::Client, action: &'static str| {
        let url = app.url(&format!("/api/v1/filings/{id}/actions"));
        async move {
            let r = c
                .post(url)
                .json(&json!({ "action": action, "reason": "审核意见", "version": v }))
                .send()
                .await
                .unwrap();
            json_of(r).await
        }
    };
    let (ra, rb) = tokio::join!(send(a, "pass"), send(b, "return"));
    let mut statuses = vec![ra.0, rb.0];
    statuses.sort();
    assert_eq!(statuses, vec![200, 409], "{ra:?} {rb:?}");
    let loser = if ra.0 == 409 { &ra.1 } else { &rb.1 };
    assert!(
        loser["message"].as_str().unwrap().contains("已被他人处理"),
        "{loser}"
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM filing_events WHERE application_id = {id} AND action IN ('filing.pass', 'filing.return')")).await,
        1
    );
}

// ------------------------------------------------------------------ bad input

#[tokio::test]
async fn filing_bad_input_is_refused_and_nothing_stored() {
    let app = spawn_app().await;
    inst_of(&app, "applicant-410105").await;
    let c = app.login("applicant-410105").await;
    let apps = app.count("SELECT COUNT(*) FROM filing_applications").await;
    // Unknown occupation code.
    let (s, b) = create(
        &app,
        &c,
        json!({ "kind": "social_org", "occupations": [{ "code": "9-99-99-99", "levels": [5] }] }),
    )
    .await;
    assert_eq!(s, 422);
    assert!(b["message"].as_str().unwrap().contains("不在目录中"), "{b}");
    // Text in a numeric field (levels).
    let (s, b) = create(&app, &c, json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": ["五级"] }] })).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"]
        .as_str()
        .unwrap()
        .chars()
        .any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)));
    // Unknown kind.
    let (s, _) = create(
        &app,
        &c,
        json!({ "kind": "whatever", "occupations": [{ "code": "6-31-01-03", "levels": [5] }] }),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM filing_applications").await,
        apps
    );
    // Text in a numeric field (version) on an action.
    let (_, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5] }] }),
    )
    .await;
    let (s, b) = json_of(
        c.post(app.url(&format!("/api/v1/filings/{id}/actions")))
            .json(&json!({ "action": "submit", "version": "最新" }))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "version");
    assert_eq!(state_of(&app, id).await, "draft");
    // Invalid credit code of an expert's employer; invalid ID number.
    let center = app.login("center").await;
    let experts = app.count("SELECT COUNT(*) FROM experts").await;
    let (s, b) = json_of(center.post(app.url("/api/v1/experts")).json(&json!({ "name": "王五", "id_number": "11010519491231002X", "employer": "某公司", "employer_credit_code": "91350100M000100Y44", "occupations": ["6-31-01-03"] })).send().await.unwrap()).await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "employer_credit_code");
    let (s, b) = json_of(center.post(app.url("/api/v1/experts")).json(&json!({ "name": "王五", "id_number": "110105194912310021", "occupations": ["6-31-01-03"] })).send().await.unwrap()).await;
    assert_eq!(s, 422);
    assert_eq!(b["field"], "id_number");
    assert_eq!(app.count("SELECT COUNT(*) FROM experts").await, experts);
    // Uploads: .exe renamed .pdf, a name with ../, and 200 MB.
    let docs = app.count("SELECT COUNT(*) FROM documents").await;
    let up = |name: &'static str, bytes: Vec<u8>| {
        let c = c.clone();
        let url = app.url(&format!("/api/v1/filings/{id}/documents"));
        async move {
            c.post(url)
                .multipart(
                    Form::new()
                        .text("kind", "application_form")
                        .part("file", Part::bytes(bytes).file_name(name)),
                )
                .send()
                .await
        }
    };
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    exe.extend_from_slice(&[0u8; 512]);
    let r = up("申请表.pdf", exe).await.unwrap();
    assert_eq!(r.status(), 422);
    let (s, b) = json_of(up("../../etc/申请表.pdf", TINY_PDF.to_vec()).await.unwrap()).await;
    assert_eq!(s, 422);
    assert!(b["message"].as_str().unwrap().contains(".."), "{b}");
    let mut huge = TINY_PDF.to_vec();
    huge.resize(200 * 1024 * 1024, b' ');
    match up("大文件.pdf", huge).await {
        Ok(r) => {
            assert_eq!(r.status(), 413);
            let b: Value = r.json().await.unwrap();
            assert!(b["message"].as_str().unwrap().contains("MB"), "{b}");
        }
        // The server may close the connection after answering 413 to a declared oversize.
        Err(e) => assert!(e.is_request() || e.is_body(), "{e}"),
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM documents").await, docs);
    // Attachment names on an event cannot carry paths either.
    let v = version(&app, id).await;
    let r = c
        .post(app.url(&format!("/api/v1/filings/{id}/actions")))
        .json(&json!({ "action": "submit", "version": v, "attachments": ["../x.pdf"] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(state_of(&app, id).await, "draft");
}

#[tokio::test]
async fn filing_other_district_is_invisible() {
    let app = spawn_app().await;
    let (ic, id) = new_app(
        &app,
        "applicant-410105",
        json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5] }] }),
    )
    .await;
    ok_act(&app, &ic, id, "submit", "").await;
    let other = app.login("district-410102").await;
    assert_eq!(get(&app, &other, id).await.0, 404);
    let (s, _) = act(&app, &other, id, "pass", "越权").await;
    assert_eq!(s, 404);
    let (_, list) = json_of(other.get(app.url("/api/v1/filings")).send().await.unwrap()).await;
    assert!(list["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["district_code"] == "410102"));
    let inst2 = app.login("inst-2").await;
    assert_eq!(get(&app, &inst2, id).await.0, 404);
    assert_eq!(state_of(&app, id).await, "submitted");
}

#[tokio::test]
async fn expert_library_import_and_audited_id_view() {
    let app = spawn_app().await;
    let center = app.login("center").await;
    let r = center
        .get(app.url("/experts/template.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("spreadsheetml"));
    let spec = web::filing::expert_sheet();
    let labels: Vec<&str> = spec.columns.iter().map(|c| c.label).collect();
    let row = |name: &str, id: &str| -> Vec<String> {
        vec![
            name.into(),
            id.into(),
            "郑州市技师学院".into(),
            "".into(),
            "410105".into(),
            "高级技师".into(),
            "13800000001".into(),
            "".into(),
            "6-31-01-03、6-18-02-04".into(),
        ]
    };
    let before = app.count("SELECT COUNT(*) FROM experts").await;
    let bad = sheets::write_report(
        "专家",
        &labels,
        &[
            row("甲", "11010519491231002X"),
            row("乙", "110105194912310021"),
        ],
    )
    .unwrap();
    let up = |bytes: Vec<u8>| {
        center
            .post(app.url("/api/v1/experts/import"))
            .multipart(Form::new().part("file", Part::bytes(bytes).file_name("专家.xlsx")))
            .send()
    };
    let (s, b) = json_of(up(bad).await.unwrap()).await;
    assert_eq!(s, 422, "{b}");
    assert!(b["message"].as_str().unwrap().contains("第3行"), "{b}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM experts").await,
        before,
        "nothing stored"
    );
    let good = sheets::write_report(
        "专家",
        &labels,
        &[
            row("甲", "11010519491231002X"),
            row("乙", "440524198001010013"),
        ],
    )
    .unwrap();
    let (s, b) = json_of(up(good).await.unwrap()).await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["imported"], 2);
    let (_, list) = json_of(
        center
            .get(app.url("/api/v1/experts?q=甲"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    let e = &list["items"][0];
    assert_eq!(e["id_masked"].as_str().unwrap().len(), 18);
    assert!(
        !e.to_string().contains("11010519491231002X"),
        "list is masked"
    );
    let id = e["id"].as_i64().unwrap();
    let (s, full) = json_of(
        center
            .get(app.url(&format!("/api/v1/experts/{id}/id-number")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(full["id_number"], "11010519491231002X");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'expert.read_id_number' AND object_id = '{id}'")).await, 1);
    let d = app.login("district-410105").await;
    assert_eq!(
        d.get(app.url(&format!("/api/v1/experts/{id}/id-number")))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
}

/// Every filing page renders for the roles that use it (Chinese heading, no error page), and the
/// two-key exception can be decided through the pages.
#[tokio::test]
async fn filing_pages_render_for_each_role() {
    let app = spawn_app().await;
    let page_login = |user: &'static str| {
        let c = app.client();
        let url = app.url("/login");
        async move {
            let r = c
                .post(url)
                .form(&[
                    ("username", user),
                    ("password", crate::helpers::DEMO_PASSWORD),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 303, "login {user}");
            c
        }
    };
    let any_app: i64 = app
        .count("SELECT MIN(id) FROM filing_applications WHERE state = 'publicity'")
        .await;
    let checks: &[(&str, &[&str])] = &[
        (
            "center",
            &[
                "/filings",
                "/filings/overdue",
                "/filing-exceptions",
                "/experts",
                "/experts/import",
                "/dashboard",
            ],
        ),
        ("bureau", &["/filings", "/filing-exceptions", "/experts"]),
        (
            "district-410105",
            &[
                "/filings",
                "/filing-exceptions",
                "/filing-exceptions/new",
                "/experts",
                "/dashboard",
            ],
        ),
        ("inst-1", &["/filings", "/filings/new", "/dashboard"]),
        ("expert-1", &["/filings", "/dashboard"]),
    ];
    for (user, paths) in checks {
        let c = page_login(user).await;
        for p in *paths {
            let r = c.get(app.url(p)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{user} {p}");
            let t = r.text().await.unwrap();
            assert!(t.contains("<h1>"), "{user} {p}");
        }
        if matches!(*user, "center" | "district-410105" | "inst-1") {
            let r = c
                .get(app.url(&format!("/filings/{any_app}")))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{user} detail");
        }
    }
    // Overdue page shows the demo batch of 三(三).
    let c = page_login("center").await;
    let t = c
        .get(app.url("/filings/overdue"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        t.contains("荥阳市豫味餐饮管理有限公司"),
        "overdue lists the transferred batch"
    );
    // A campaign batch through the page: a bad date is shown again (422), a good one is saved.
    let r = c
        .post(app.url("/filing-campaigns"))
        .form(&[
            ("name", "第二批"),
            ("deadline", "四月底"),
            ("applications", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("YYYY-MM-DD"));
    let r = c
        .post(app.url("/filing-campaigns"))
        .form(&[
            ("name", "第二批"),
            ("deadline", "2022-04-30"),
            ("applications", &any_app.to_string()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM filing_applications a JOIN filing_campaigns c ON c.id = a.campaign_id WHERE a.id = {any_app} AND c.name = '第二批'")).await, 1);
    // The demo exception has the center's key; the division decides it through the page.
    let xid = app.count("SELECT MIN(id) FROM filing_exceptions").await;
    let b = page_login("bureau").await;
    let r = b
        .get(app.url(&format!("/filing-exceptions/{xid}")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = b
        .post(app.url(&format!("/filing-exceptions/{xid}/decide")))
        .form(&[("approve", "true"), ("reason", "统筹安排")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM filing_exceptions WHERE id = {xid} AND status = 'granted'"
        ))
        .await,
        1
    );
    // Public pages without login.
    let p = app.client();
    let t = p
        .get(app.url("/public/filings"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(t.contains("郑州市金水区华信职业培训学校") && t.contains("异议"));
    assert!(!t.contains("身份证"));
    let t = p
        .get(app.url("/public/institutions?q=焊工"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        t.contains("郑州宇辰重工机械有限公司") && t.contains("三级/高级工"),
        "filed occupations and levels"
    );
    let t = p
        .get(app.url("/public/institutions?district=410102"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!t.contains("郑州宇辰重工机械有限公司"));
}

/// The last slot of the per-district quota goes to exactly one of two applications passed at
/// the same moment: the quota is re-counted inside the 初审 transaction.
#[tokio::test]
async fn quota_last_slot_taken_once_at_district_pass() {
    let app = spawn_app().await;
    fill_quota_n(&app, 2).await;
    let actor = store::Actor::system("test");
    let code = domain::credit_code::with_check_digit("52410105MA0099991").unwrap();
    let inst = app
        .store
        .create_institution(
            &actor,
            &store::InstitutionInput {
                name: "金水区新申报电工培训学校".into(),
                credit_code: code,
                kind: "social_org".into(),
                legal_person: true,
                employees: 10,
                capital_yuan: 100000,
                business_scope: "培训".into(),
                reg_address: "金水路".into(),
                reg_district: "410105".into(),
                biz_address: "金水路".into(),
                biz_district: "410105".into(),
                contact_name: "王".into(),
                contact_phone: "13800000009".into(),
            },
        )
        .await
        .unwrap();
    app.store
        .create_account(
            &actor,
            store::NewAccount {
                username: "inst-new".into(),
                display_name: "新机构".into(),
                role: domain::Role::Institution,
                district_code: None,
                institution_id: Some(inst.id),
                employer: String::new(),
                phone: String::new(),
                password: crate::helpers::DEMO_PASSWORD.into(),
                must_change_password: false,
            },
        )
        .await
        .unwrap();
    let body = json!({ "kind": "social_org", "occupations": [{ "code": "6-31-01-03", "levels": [5, 4] }] });
    let (c1, a1) = new_app(&app, "applicant-410105", body.clone()).await;
    let (c2, a2) = new_app(&app, "inst-new", body).await;
    ok_act(&app, &c1, a1, "submit", "").await;
    ok_act(&app, &c2, a2, "submit", "").await;
    let d = app.login("district-410105").await;
    let (v1, v2) = (version(&app, a1).await, version(&app, a2).await);
    let pass = |id: i64, v: i64| {
        let d = d.clone();
        let url = app.url(&format!("/api/v1/filings/{id}/actions"));
        async move {
            json_of(
                d.post(url)
                    .json(&json!({ "action": "pass", "reason": "材料齐全", "version": v }))
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (r1, r2) = tokio::join!(pass(a1, v1), pass(a2, v2));
    let mut statuses = vec![r1.0, r2.0];
    statuses.sort();
    assert_eq!(statuses, vec![200, 422], "{r1:?} {r2:?}");
    let loser = if r1.0 == 422 { &r1.1 } else { &r2.1 };
    assert_eq!(
        loser["field"],
        "max_institutions_per_occupation_per_district"
    );
    assert!(
        loser["message"].as_str().unwrap().contains("一(一)"),
        "{loser}"
    );
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM filing_applications WHERE id IN ({a1}, {a2}) AND state = 'district_passed'")).await,
        1
    );
}
