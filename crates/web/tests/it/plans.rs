//! 二、评价管理 over HTTP: electronic filing, plans (two-step approval, the working-day rule),
//! supervision (tripartite letter), candidates (xlsx import, all or nothing) and results.

use chrono::{Datelike, Duration, NaiveDate};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

/// The pinned date the test app runs on (no test reads the wall clock).
pub fn today() -> NaiveDate {
    store::testing::today()
}

pub(crate) async fn occupation_id(app: &TestApp, code: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT id FROM occupations WHERE code = $1 ORDER BY id LIMIT 1")
        .bind(code)
        .fetch_one(&app.store.db.pool)
        .await
        .unwrap()
        .get(0)
}

pub(crate) fn plan_body(occ: i64, start: NaiveDate, levels: &str, forms: &str) -> Value {
    json!({
        "occupation_id": occ.to_string(),
        "levels": levels,
        "forms": forms,
        "start_date": start.to_string(),
        "end_date": (start + Duration::days(1)).to_string(),
        "venue": "郑州市金水区示范路11号实训楼三层",
        "expected_candidates": "30",
        "examiners": "李考评、王考评",
        "internal_supervisor": "赵督导",
    })
}

pub(crate) async fn send(
    c: &reqwest::Client,
    app: &TestApp,
    method: &str,
    path: &str,
    body: Value,
) -> (u16, Value) {
    let rb = match method {
        "POST" => c.post(app.url(path)),
        "PUT" => c.put(app.url(path)),
        _ => c.get(app.url(path)),
    };
    let rb = if method == "GET" { rb } else { rb.json(&body) };
    let r = rb.send().await.unwrap();
    let status = r.status().as_u16();
    let v = r.json::<Value>().await.unwrap_or(Value::Null);
    (status, v)
}

pub(crate) async fn act(c: &reqwest::Client, app: &TestApp, id: i64, cmd: &str) -> (u16, Value) {
    send(
        c,
        app,
        "POST",
        &format!("/api/v1/plans/{id}/actions"),
        json!({ "command": cmd, "reason": "测试理由" }),
    )
    .await
}

/// A plan of inst-1 (金水区, filed for 中式烹调师 5/4/3 in the demo data) starting in ~3 weeks.
async fn new_plan(app: &TestApp, inst: &reqwest::Client) -> i64 {
    let occ = occupation_id(app, "4-03-02-01").await;
    let start = today() + Duration::days(21);
    let (s, v) = send(
        inst,
        app,
        "POST",
        "/api/v1/plans",
        plan_body(occ, start, "4", "theory,skill"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["plan"]["id"].as_i64().unwrap()
}

/// Drive a plan to city confirmation through the API.
async fn confirmed_plan(app: &TestApp) -> (i64, reqwest::Client) {
    let inst = app.login("inst-1").await;
    let id = new_plan(app, &inst).await;
    let district = app.login("district-410105").await;
    let center = app.login("center").await;
    for (c, cmd) in [
        (&inst, "submit"),
        (&district, "paper"),
        (&district, "approve"),
        (&inst, "enter"),
        (&center, "confirm"),
    ] {
        let (s, v) = act(c, app, id, cmd).await;
        assert_eq!(s, 200, "{cmd}: {v}");
    }
    (id, inst)
}

pub(crate) fn candidate(name: &str, n: u32, gender_odd: bool, level: &str) -> Value {
    let id = id_number(n, gender_odd);
    json!({ "name": name, "id_type": "居民身份证", "id_number": id, "gender": if gender_odd { "男" } else { "女" },
            "education": "高中", "source": "社会人员", "phone": "13800000000", "level": level })
}

/// A valid mainland ID number, distinct per `n`.
pub(crate) fn id_number(n: u32, male: bool) -> String {
    let seq = (n % 500) * 2 + if male { 1 } else { 0 };
    let day = 1 + (n / 500) % 28;
    let year = 1970 + (n / 14000) % 30;
    domain::id_number::with_check_digit(&format!("410105{year}01{day:02}{seq:03}")).unwrap()
}

pub(crate) async fn assign_and_sign(app: &TestApp, id: i64, signers: &[&str]) {
    let center = app.login("center").await;
    let district = app.login("district-410105").await;
    let (s, v) = send(
        &center,
        app,
        "POST",
        &format!("/api/v1/plans/{id}/supervisors"),
        json!({ "supervisor_id": app.user_id("sup-city-1").await }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = send(
        &district,
        app,
        "POST",
        &format!("/api/v1/plans/{id}/supervisors"),
        json!({ "supervisor_id": app.user_id("sup-410105-1").await }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for who in signers {
        let c = app.login(who).await;
        let (s, v) = send(
            &c,
            app,
            "POST",
            &format!("/api/v1/plans/{id}/letter/sign"),
            json!({}),
        )
        .await;
        assert_eq!(s, 201, "{who}: {v}");
    }
}

#[tokio::test]
async fn plan_needs_district_then_city() {
    let app = spawn_app().await;
    let inst = app.login("inst-1").await;
    let id = new_plan(&app, &inst).await;
    let district = app.login("district-410105").await;
    let center = app.login("center").await;
    let cand = candidate("李四", 1, true, "4");

    // Nothing about the evaluation may start before the city confirmed.
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/candidates"),
        cand.clone(),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("二(二)"), "{v}");

    let (s, v) = act(&inst, &app, id, "submit").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["plan"]["status"], "submitted");
    // Another district does not see it at all.
    let other = app.login("district-410102").await;
    assert_eq!(
        send(
            &other,
            &app,
            "GET",
            &format!("/api/v1/plans/{id}"),
            json!({})
        )
        .await
        .0,
        404
    );
    // The district cannot approve before recording the paper copy.
    // A command the status does not allow is 409 (issue 8, item 14), naming the clause.
    let (s, v) = act(&district, &app, id, "approve").await;
    assert_eq!(s, 409);
    assert!(v["message"].as_str().unwrap().contains("纸质"), "{v}");
    // The city cannot confirm before the district.
    assert_eq!(act(&center, &app, id, "confirm").await.0, 409);
    let (s, v) = act(&district, &app, id, "paper").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["plan"]["paper_received_by"], "district-410105");
    assert!(v["plan"]["paper_received_at"].is_string());
    assert_eq!(act(&district, &app, id, "approve").await.0, 200);
    // Approved by the district, not yet entered and confirmed: still no evaluation.
    assert_eq!(
        send(
            &inst,
            &app,
            "POST",
            &format!("/api/v1/plans/{id}/candidates"),
            cand.clone()
        )
        .await
        .0,
        422
    );
    assert_eq!(
        act(&center, &app, id, "confirm").await.0,
        409,
        "city confirms only entered plans"
    );
    assert_eq!(act(&inst, &app, id, "enter").await.0, 200);
    assert_eq!(
        send(
            &inst,
            &app,
            "POST",
            &format!("/api/v1/plans/{id}/candidates"),
            cand.clone()
        )
        .await
        .0,
        422
    );
    // An institution cannot confirm its own plan: a role that may not act is 403.
    assert_eq!(act(&inst, &app, id, "confirm").await.0, 403);
    let (s, v) = act(&center, &app, id, "confirm").await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["evaluation_may_start"], true);
    // The next party was told at each step (infra notifications).
    let no = v["plan"]["plan_no"].as_str().unwrap().to_string();
    let told = |what: &str| {
        format!("SELECT COUNT(*) FROM notifications WHERE title LIKE '%{no}%' AND title LIKE '%{what}%'")
    };
    assert!(
        app.count(&told("已提交")).await >= 1,
        "district told of the submission"
    );
    assert_eq!(
        app.count(&told("市级已认可")).await,
        1,
        "institution told of the confirmation"
    );
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/candidates"),
        cand.clone(),
    )
    .await;
    assert_eq!(s, 201, "{v}");

    // A change after approval is a new revision that needs approval again.
    let (_, cur) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}"),
        json!({}),
    )
    .await;
    let mut body = plan_body(
        cur["plan"]["occupation_id"].as_i64().unwrap(),
        NaiveDate::parse_from_str(cur["plan"]["start_date"].as_str().unwrap(), "%Y-%m-%d").unwrap(),
        "4",
        "theory,skill",
    );
    body["venue"] = json!("郑州市金水区新址路88号");
    body["version"] = cur["plan"]["version"].clone();
    let (s, v) = send(
        &inst,
        &app,
        "PUT",
        &format!("/api/v1/plans/{id}"),
        body.clone(),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["plan"]["status"], "draft");
    assert_eq!(v["plan"]["revision"], 2);
    assert_eq!(
        send(
            &inst,
            &app,
            "POST",
            &format!("/api/v1/plans/{id}/candidates"),
            candidate("王五", 2, true, "4")
        )
        .await
        .0,
        422
    );
    // A stale version is a conflict, not a silent overwrite.
    let (s, _) = send(&inst, &app, "PUT", &format!("/api/v1/plans/{id}"), body).await;
    assert_eq!(s, 409);
    // Audit trail has the transitions.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'plan.confirm'")
            .await
            >= 1
    );
    assert!(
        app.count("SELECT COUNT(*) FROM plan_events WHERE action = 'revise'")
            .await
            >= 1
    );
}

#[tokio::test]
async fn plan_only_for_filed_occupations_and_levels() {
    let app = spawn_app().await;
    let inst = app.login("inst-1").await;
    let start = today() + Duration::days(21);
    let welder = occupation_id(&app, "6-18-02-04").await;
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/plans",
        plan_body(welder, start, "4", "theory,skill"),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(v["field"], "occupation");
    let cook = occupation_id(&app, "4-03-02-01").await;
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/plans",
        plan_body(cook, start, "2", "theory,skill"),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(v["field"], "levels");
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/plans",
        plan_body(cook, start, "4", "theory,review"),
    )
    .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("综合评审"), "{v}");
    // Only institutions write plans.
    let district = app.login("district-410105").await;
    assert_eq!(
        send(
            &district,
            &app,
            "POST",
            "/api/v1/plans",
            plan_body(cook, start, "4", "theory")
        )
        .await
        .0,
        403
    );
}

#[tokio::test]
async fn plan_submission_lead_time_is_refused_with_clause() {
    let app = spawn_app().await;
    let inst = app.login("inst-1").await;
    let occ = occupation_id(&app, "4-03-02-01").await;
    let start = today() + Duration::days(1);
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/plans",
        plan_body(occ, start, "4", "theory,skill"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["plan"]["id"].as_i64().unwrap();
    // The online submission only has to precede the start; the working days count up to the
    // district's receipt of the paper plan (issue 7, 3.1).
    let (s, v) = act(&inst, &app, id, "submit").await;
    assert_eq!(s, 200, "{v}");
    let district = app.login("district-410105").await;
    let (s, v) = act(&district, &app, id, "paper").await;
    assert_eq!(s, 422, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("二(二)") && m.contains("工作日"), "{m}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM plans WHERE id = {id} AND status = 'submitted' AND paper_received_at IS NULL"
        ))
        .await,
        1
    );
    // The form's helper endpoint gives the last submission date.
    let (s, v) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/calendar/latest-submission?start={}", "2026-10-12"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["latest"], "2026-10-07");
    assert_eq!(v["latest_working"], "2026-09-30");
}

#[tokio::test]
async fn plan_submission_in_provisional_year_is_marked() {
    let app = spawn_app().await;
    let inst = app.login("inst-1").await;
    let occ = occupation_id(&app, "4-03-02-01").await;
    // Three years ahead: no official schedule, so the provisional calendar answers and says so.
    let year = today().year() + 3;
    let start = NaiveDate::from_ymd_opt(year, 3, 9).unwrap();
    let (s, v) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/calendar/latest-submission?start={start}"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["calendar"], "provisional", "{v}");
    assert!(v["text"].as_str().unwrap().contains("临时日历"), "{v}");
    // A start in an official year says "official".
    let (_, v) = send(
        &inst,
        &app,
        "GET",
        "/api/v1/calendar/latest-submission?start=2026-12-21",
        json!({}),
    )
    .await;
    assert_eq!(v["calendar"], "official", "{v}");
    // Outside 2000–2100 is a 422 with a Chinese message, never a guess.
    let (s, v) = send(
        &inst,
        &app,
        "GET",
        "/api/v1/calendar/latest-submission?start=2101-03-09",
        json!({}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("2000—2100"), "{v}");
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/plans",
        plan_body(occ, start, "4", "theory,skill"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["latest_submission"]["calendar"], "provisional", "{v}");
    let id = v["plan"]["id"].as_i64().unwrap();
    // Submitting online and recording the paper plan work in a provisional year.
    assert_eq!(act(&inst, &app, id, "submit").await.0, 200);
    let district = app.login("district-410105").await;
    let (s, v) = act(&district, &app, id, "paper").await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn plan_submission_needs_electronic_filing() {
    let app = spawn_app().await;
    // inst-2 (中原区): filed here, but it has not completed its electronic filing.
    let occ = occupation_id(&app, "4-03-02-02").await;
    let inst_id = app.institution_in("410102").await;
    app.store
        .record_filed_occupation(
            &store::Actor::system("test"),
            inst_id,
            occ,
            "5,4,3",
            "TEST-0002",
            "2026-01-05",
            "test",
        )
        .await
        .unwrap();
    let inst = app.login("inst-2").await;
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/plans",
        plan_body(occ, today() + Duration::days(21), "4", "theory,skill"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let id = v["plan"]["id"].as_i64().unwrap();
    let (s, v) = act(&inst, &app, id, "submit").await;
    assert_eq!(s, 422);
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("电子备案") && m.contains("二(二)"), "{m}");
    // Upload: a file that is not a PDF/image/office document is refused.
    use base64::Engine;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let (s, _) = send(
        &inst,
        &app,
        "POST",
        "/api/v1/efiling",
        json!({ "file_name": "a.exe", "content_base64": b64(b"MZ\x90\x00") }),
    )
    .await;
    assert_eq!(s, 422);
    let (s, v) = send(&inst, &app, "POST", "/api/v1/efiling", json!({ "file_name": "备案材料.pdf", "content_type": "application/pdf", "content_base64": b64(b"%PDF-1.4 test"), "note": "全部备案材料" })).await;
    assert_eq!(s, 201, "{v}");
    // Still not confirmed: still refused.
    assert_eq!(act(&inst, &app, id, "submit").await.0, 422);
    let district = app.login("district-410102").await;
    let wrong = app.login("district-410105").await;
    let (s, _) = send(
        &wrong,
        &app,
        "POST",
        &format!("/api/v1/efilings/{inst_id}/review"),
        json!({ "confirm": true, "version": 1 }),
    )
    .await;
    assert_eq!(s, 404, "other district must not see it");
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/efilings/{inst_id}/review"),
        json!({ "confirm": true, "version": 1 }),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = act(&inst, &app, id, "submit").await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn evaluation_invalid_without_three_signatures() {
    let app = spawn_app().await;
    let (id, inst) = confirmed_plan(&app).await;
    let center = app.login("center").await;
    let district = app.login("district-410105").await;

    // Conflict rules: a recorded relation excludes a supervisor; pools are per side.
    let sup2 = app.user_id("sup-city-2").await;
    let inst_id = app.institution_in("410105").await;
    let (s, v) = send(
        &center,
        &app,
        "POST",
        "/api/v1/supervision/relations",
        json!({ "supervisor_id": sup2, "institution_id": inst_id, "kind": "师徒" }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = send(
        &center,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/supervisors"),
        json!({ "supervisor_id": sup2 }),
    )
    .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("回避"), "{v}");
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/supervisors"),
        json!({ "supervisor_id": app.user_id("sup-410102-1").await }),
    )
    .await;
    assert_eq!(
        s, 422,
        "a supervisor of another district is not in this pool"
    );
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/supervisors"),
        json!({ "supervisor_id": app.user_id("sup-city-1").await }),
    )
    .await;
    assert_eq!(s, 422, "the district assigns from its own pool");

    assign_and_sign(&app, id, &["sup-city-1", "inst-1"]).await;
    let (s, v) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["evaluation_valid"], false);
    let validity = v["validity"].as_str().unwrap();
    assert!(
        validity.contains("区县督导员") && validity.contains("无效") && validity.contains("二(三)"),
        "{validity}"
    );
    // Signing twice for the same party is refused.
    let sup1 = app.login("sup-city-1").await;
    assert_eq!(
        send(
            &sup1,
            &app,
            "POST",
            &format!("/api/v1/plans/{id}/letter/sign"),
            json!({})
        )
        .await
        .0,
        409
    );
    // A supervisor not assigned sees nothing.
    let sup2c = app.login("sup-city-2").await;
    assert_eq!(
        send(
            &sup2c,
            &app,
            "GET",
            &format!("/api/v1/plans/{id}"),
            json!({})
        )
        .await
        .0,
        404
    );
    assert_eq!(
        send(
            &sup1,
            &app,
            "GET",
            &format!("/api/v1/plans/{id}"),
            json!({})
        )
        .await
        .0,
        200
    );
    // No results while the evaluation is not valid.
    let (s, _) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/candidates"),
        candidate("赵六", 3, false, "4"),
    )
    .await;
    assert_eq!(s, 201);
    let (_, list) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}/candidates"),
        json!({}),
    )
    .await;
    let cid = list["items"][0]["id"].as_i64().unwrap();
    let (s, v) = send(
        &inst,
        &app,
        "PUT",
        &format!("/api/v1/plans/{id}/candidates/{cid}/scores"),
        json!({ "theory": "80", "skill": "80" }),
    )
    .await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("二(三)"), "{v}");
    // Supervisors cannot be swapped once someone signed.
    let (s, _) = send(
        &center,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/supervisors"),
        json!({ "supervisor_id": sup2 }),
    )
    .await;
    assert_eq!(s, 422);

    let sup_d = app.login("sup-410105-1").await;
    let (s, v) = send(
        &sup_d,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/letter/sign"),
        json!({}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["evaluation_valid"], true);
    let (_, v) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}/supervision"),
        json!({}),
    )
    .await;
    assert_eq!(v["evaluation_valid"], true);
    assert_eq!(v["signatures_verified"], true);
    let hash = v["letter"]["sha256"].as_str().unwrap();
    assert_eq!(hash.len(), 64);
    for sig in v["signatures"].as_array().unwrap() {
        assert_eq!(sig["doc_sha256"], hash);
        assert_eq!(sig["algorithm"], "HMAC-SHA256");
    }
    assert_eq!(v["signatures"].as_array().unwrap().len(), 3);
    // Scores from the evaluation's first day (二(三)).
    let on_start = app.at_date(today() + Duration::days(21)).await;
    let (s, v) = send(
        &on_start.login("inst-1").await,
        &on_start,
        "PUT",
        &format!("/api/v1/plans/{id}/candidates/{cid}/scores"),
        json!({ "theory": "80", "skill": "80" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // Tampering with the stored letter is detected.
    sqlx::query("UPDATE supervision_letters SET body = body || '篡改' WHERE plan_id = $1")
        .bind(id)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let (_, v) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}/supervision"),
        json!({}),
    )
    .await;
    assert_eq!(v["evaluation_valid"], false);
}

fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    sheets::write_report("考生名单", &web::evaluation::CANDIDATE_HEADERS, rows).unwrap()
}

fn row(name: &str, id: &str, gender: &str, level: &str) -> Vec<String> {
    vec![
        name.into(),
        "居民身份证".into(),
        id.into(),
        gender.into(),
        "高中".into(),
        "社会人员".into(),
        "13800000000".into(),
        level.into(),
    ]
}

async fn upload(c: &reqwest::Client, app: &TestApp, path: &str, bytes: Vec<u8>) -> (u16, Value) {
    let r = c.post(app.url(path)).body(bytes).send().await.unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn candidate_import_all_or_nothing() {
    let app = spawn_app().await;
    let (id, inst) = confirmed_plan(&app).await;
    let path = format!("/api/v1/plans/{id}/candidates/import");
    let count = format!("SELECT COUNT(*) FROM candidates WHERE plan_id = {id}");

    // The template downloads and has the right headers (it imports its own example row).
    let t = inst
        .get(app.url(&format!("/api/v1/plans/{id}/candidates/template.xlsx")))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    let template = t.bytes().await.unwrap().to_vec();
    assert!(sheets::read(&web::evaluation::candidate_spec(), &template).is_ok());

    // One wrong check digit among valid rows: nothing imported, the row is named.
    let good = id_number(10, true);
    let mut bad = id_number(11, false);
    let last = bad.pop().unwrap();
    bad.push(if last == '0' { '1' } else { '0' });
    let rows = vec![
        row("张三", &good, "男", "4"),
        row("李四", &id_number(12, true), "男", "4"),
        row("王五", &bad, "女", "4"),
    ];
    let (s, v) = upload(&inst, &app, &path, xlsx(&rows)).await;
    assert_eq!(s, 422, "{v}");
    let errs = v["rows"].as_array().unwrap_or_else(|| panic!("{v}"));
    assert_eq!(errs.len(), 1, "{v}");
    assert_eq!(errs[0]["row"], 4);
    assert!(
        errs[0]["message"].as_str().unwrap().contains("校验位"),
        "{v}"
    );
    assert_eq!(app.count(&count).await, 0, "nothing half-imported");

    // Same person twice in the file; a level not in the plan.
    let rows = vec![
        row("张三", &good, "男", "4"),
        row("张三", &good, "男", "4"),
        row("钱七", &id_number(13, true), "男", "2"),
    ];
    let (s, v) = upload(&inst, &app, &path, xlsx(&rows)).await;
    assert_eq!(s, 422);
    let text = v["rows"].to_string();
    assert!(
        text.contains("与第2行为同一考生") && text.contains("不含二级"),
        "{text}"
    );
    assert_eq!(app.count(&count).await, 0);

    // Wrong headers.
    let wrong = sheets::write_report("考生名单", &["姓名", "身份证"], &[]).unwrap();
    let (s, v) = upload(&inst, &app, &path, wrong).await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("表头不正确"), "{v}");
    // Corrupted xlsx (a zip header, then garbage) and a file that is not a zip at all.
    let mut corrupt = xlsx(&[row("张三", &good, "男", "4")]);
    corrupt.truncate(corrupt.len() / 2);
    let (s, v) = upload(&inst, &app, &path, corrupt).await;
    assert_eq!(s, 422);
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("损坏") || m.contains("不是有效的 Excel"), "{v}");
    let (s, v) = upload(&inst, &app, &path, b"name,id\n".to_vec()).await;
    assert_eq!(s, 422);
    assert!(v["message"].as_str().unwrap().contains("xlsx"), "{v}");
    assert_eq!(app.count(&count).await, 0);

    // All valid: all imported.
    let rows: Vec<Vec<String>> = (0..5)
        .map(|n| row(&format!("考生{n}"), &id_number(100 + n, true), "男", "4"))
        .collect();
    let (s, v) = upload(&inst, &app, &path, xlsx(&rows)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["imported"], 5);
    assert_eq!(app.count(&count).await, 5);
    // Importing one of them again is a duplicate in the plan: nothing of the new file is added.
    let rows = vec![
        row("新考生", &id_number(200, true), "男", "4"),
        row("考生0", &id_number(100, true), "男", "4"),
    ];
    let (s, _) = upload(&inst, &app, &path, xlsx(&rows)).await;
    assert_eq!(s, 422);
    assert_eq!(app.count(&count).await, 5);

    // Lists mask the ID number; the full number is audited.
    let (_, list) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}/candidates"),
        json!({}),
    )
    .await;
    let first = &list["items"][0];
    assert!(first["id_masked"].as_str().unwrap().contains("**********"));
    assert!(first.get("id_number").is_none());
    let before = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'candidate.view_id_number'")
        .await;
    let (s, v) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/candidates/{}/id-number", first["id"]),
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    assert_eq!(v["id_number"].as_str().unwrap().len(), 18);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'candidate.view_id_number'")
            .await,
        before + 1
    );
    // Optional photo: JPEG/PNG only, stored as a document of the candidate.
    let cid = first["id"].as_i64().unwrap();
    let photo = |name: &'static str, bytes: Vec<u8>| {
        reqwest::multipart::Form::new().part(
            "photo",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        )
    };
    let r = inst
        .post(app.url(&format!("/api/v1/plans/{id}/candidates/{cid}/photo")))
        .multipart(photo("a.pdf", b"%PDF-1.4 x".to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0\x90wS\xde".to_vec();
    let r = inst
        .post(app.url(&format!("/api/v1/plans/{id}/candidates/{cid}/photo")))
        .multipart(photo("照片.png", png))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM candidates WHERE id = {cid} AND photo_document_id IS NOT NULL"
        ))
        .await,
        1
    );
    let other = app.login("inst-2").await;
    assert_eq!(
        send(
            &other,
            &app,
            "GET",
            &format!("/api/v1/candidates/{}/id-number", first["id"]),
            json!({})
        )
        .await
        .0,
        404
    );

    // A large file runs as a background job with progress; still all or nothing.
    let n = web::evaluation::BACKGROUND_ROWS as u32 + 500;
    let rows: Vec<Vec<String>> = (0..n)
        .map(|i| {
            row(
                &format!("批量{i}"),
                &id_number(1000 + i, i % 2 == 1),
                if i % 2 == 1 { "男" } else { "女" },
                "4",
            )
        })
        .collect();
    let (s, v) = upload(&inst, &app, &path, xlsx(&rows)).await;
    assert_eq!(s, 202, "{v}");
    let job = v["job_id"].as_i64().unwrap();
    let done = wait_job(&app, &inst, job).await;
    assert_eq!(done["status"], "succeeded", "{done}");
    assert_eq!(done["done"], done["total"]);
    assert_eq!(done["result"]["imported"], n as i64);
    assert_eq!(app.count(&count).await, 5 + n as i64);

    // A large file with one bad row: the job fails, nothing is added, and the per-row report
    // is a downloadable xlsx document.
    let mut rows: Vec<Vec<String>> = (0..n)
        .map(|i| row(&format!("二批{i}"), &id_number(20_000 + i, true), "男", "4"))
        .collect();
    rows[1500][2] = "123".into();
    let (s, v) = upload(&inst, &app, &path, xlsx(&rows)).await;
    assert_eq!(s, 202, "{v}");
    let done = wait_job(&app, &inst, v["job_id"].as_i64().unwrap()).await;
    assert_eq!(done["status"], "failed", "{done}");
    assert_eq!(
        app.count(&count).await,
        5 + n as i64,
        "nothing half-imported"
    );
    let report = done["result"]["report_url"].as_str().expect("report url");
    let r = inst.get(app.url(report)).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PK"), "an xlsx report");
}

async fn wait_job(app: &TestApp, c: &reqwest::Client, job: i64) -> Value {
    for _ in 0..1200 {
        let (_, j) = send(c, app, "GET", &format!("/api/v1/jobs/{job}"), json!({})).await;
        if j["finished"] == true {
            return j;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("job {job} did not finish");
}

#[tokio::test]
async fn results_pass_rule() {
    let app = spawn_app().await;
    let (id, inst) = confirmed_plan(&app).await;
    assign_and_sign(&app, id, &["sup-city-1", "sup-410105-1", "inst-1"]).await;
    for (i, name) in ["张三", "李四", "王五"].iter().enumerate() {
        let (s, v) = send(
            &inst,
            &app,
            "POST",
            &format!("/api/v1/plans/{id}/candidates"),
            candidate(name, 50 + i as u32, true, "4"),
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    let (_, list) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}/candidates"),
        json!({}),
    )
    .await;
    let ids: Vec<i64> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    // Results come after the evaluation (二(三)): the rest happens the day after it ended.
    let app = app.at_date(today() + Duration::days(23)).await;
    let inst = app.login("inst-1").await;
    let score = |cid: i64, body: Value| {
        let inst = inst.clone();
        let app = &app;
        async move {
            send(
                &inst,
                app,
                "PUT",
                &format!("/api/v1/plans/{id}/candidates/{cid}/scores"),
                body,
            )
            .await
        }
    };
    // 60 passes, 59 fails, per component.
    let (s, v) = score(ids[0], json!({ "theory": "60", "skill": "60" })).await;
    assert_eq!((s, v["passed"].clone()), (200, json!(true)));
    let (s, v) = score(ids[1], json!({ "theory": "95", "skill": "59" })).await;
    assert_eq!((s, v["passed"].clone()), (200, json!(false)));
    // 综合评审 does not apply to level 4; missing component and out-of-range are refused.
    let (s, v) = score(
        ids[2],
        json!({ "theory": "80", "skill": "80", "review": "80" }),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(v["field"], "review_score");
    assert_eq!(score(ids[2], json!({ "theory": "80" })).await.0, 422);
    assert_eq!(
        score(ids[2], json!({ "theory": "101", "skill": "80" }))
            .await
            .0,
        422
    );
    // Publication needs every score.
    assert_eq!(
        send(
            &inst,
            &app,
            "POST",
            &format!("/api/v1/plans/{id}/results/publish"),
            json!({})
        )
        .await
        .0,
        409
    );
    // Scores by xlsx for the last one (the header row must match too).
    let cand3 = id_number(52, true);
    let sheet = sheets::write_report(
        "成绩",
        &web::evaluation::SCORE_HEADERS,
        &[vec![
            "王五".into(),
            cand3.clone(),
            "70".into(),
            "61".into(),
            "".into(),
        ]],
    )
    .unwrap();
    let (s, v) = upload(
        &inst,
        &app,
        &format!("/api/v1/plans/{id}/scores/import"),
        sheet,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM candidates WHERE plan_id = {id} AND passed = 1"
        ))
        .await,
        2
    );

    // The page form reports a bad file in Chinese and saves nothing.
    let r = inst
        .post(app.url(&format!("/plans/{id}/scores/import")))
        .multipart(reqwest::multipart::Form::new().part(
            "file",
            reqwest::multipart::Part::bytes(b"not a workbook".to_vec()).file_name("成绩.xlsx"),
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("不是有效的 Excel"));
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/results/publish"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results_status"], "publicised");
    // The public page shows masked data only.
    let page = app
        .client()
        .get(app.url(&format!("/public/results/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("张*") && !html.contains("张三"),
        "names masked"
    );
    assert!(!html.contains(&cand3), "ID numbers masked");
    // Submission to the city waits for the end of publicity (5 working days).
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/results/submit"),
        json!({}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("公示期"), "{v}");
    sqlx::query("UPDATE plans SET results_publicity_until = '2000-01-03' WHERE id = $1")
        .bind(id)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/results/submit"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results_status"], "submitted");

    // Supervisors file their report (with an attachment) through the page after the evaluation.
    let app = app.at_date(today()).await;
    let inst = app.login("inst-1").await;
    let sup = app.login("sup-city-1").await;
    let form = || {
        reqwest::multipart::Form::new()
            .text("body", "评价过程规范，考场纪律良好，未发现违规行为。")
            .part(
                "attachment",
                reqwest::multipart::Part::bytes(b"%PDF-1.4 report".to_vec())
                    .file_name("督导记录.pdf"),
            )
    };
    let r = sup
        .post(app.url(&format!("/plans/{id}/report")))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422, "not before the evaluation starts");
    sqlx::query("UPDATE plans SET start_date = '2000-01-03' WHERE id = $1")
        .bind(id)
        .execute(&app.store.db.pool)
        .await
        .unwrap();
    let r = sup
        .post(app.url(&format!("/plans/{id}/report")))
        .multipart(form())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM supervision_reports WHERE plan_id = {id} AND document_id IS NOT NULL")).await, 1);
    let html = inst
        .get(app.url(&format!("/plans/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("督导记录.pdf"));
}

#[test]
fn publicity_counts_working_days() {
    let cal = domain::calendar::HolidayCalendar::builtin();
    let policy = domain::policy::Policy::zhengzhou_2022();
    let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
    let until = |on| {
        policy
            .publicity_period(&cal, on, &policy.results_publicity_working_days)
            .unwrap()
            .until
    };
    // Published Wednesday 2026-09-30 (not counted): 10/8, 10/9, 10/10 (make-up Saturday), 10/12, 10/13.
    assert_eq!(until(d(9, 30)), d(10, 13));
    // Published on a holiday: five working days after it.
    assert_eq!(until(d(10, 3)), d(10, 13));
}

#[tokio::test]
async fn relations_page_and_openapi() {
    let app = spawn_app().await;
    let center = app.login("center").await;
    let r = center
        .get(app.url("/supervision/relations/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let sup = app.user_id("sup-city-2").await;
    let inst = app.institution_in("410105").await;
    // A bad kind is a 422 on the form, nothing recorded.
    let r = center
        .post(app.url("/supervision/relations"))
        .form(&[
            ("supervisor_id", sup.to_string()),
            ("institution_id", inst.to_string()),
            ("kind", "朋友".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM supervisor_relations").await,
        0
    );
    let r = center
        .post(app.url("/supervision/relations"))
        .form(&[
            ("supervisor_id", sup.to_string()),
            ("institution_id", inst.to_string()),
            ("kind", "同事".into()),
            ("note", "曾在该机构任教".into()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let html = center
        .get(app.url("/supervision/relations"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("曾在该机构任教"));
    let district = app.login("district-410105").await;
    assert_eq!(
        district
            .get(app.url("/supervision/relations"))
            .send()
            .await
            .unwrap()
            .status(),
        403
    );
    // The new endpoints are documented.
    let doc: Value = center
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/plans",
        "/api/v1/plans/{id}/actions",
        "/api/v1/plans/{id}/candidates/import",
        "/api/v1/plans/{id}/letter/sign",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} documented");
    }
    // Pages of every stage render for the roles that see them.
    let ids: Vec<i64> = {
        use sqlx::Row;
        sqlx::query("SELECT id FROM plans ORDER BY id")
            .fetch_all(&app.store.db.pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert!(ids.len() >= 9, "demo plans in every stage");
    let inst_c = app.login("inst-1").await;
    let sup = app.login("sup-city-1").await;
    for id in &ids {
        for (c, path) in [
            (&center, format!("/plans/{id}")),
            (&inst_c, format!("/plans/{id}")),
            (&inst_c, format!("/plans/{id}/letter")),
            (&inst_c, format!("/plans/{id}/candidates")),
            (&inst_c, format!("/plans/{id}/candidates/import")),
        ] {
            let r = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{path}");
        }
        // Closed plans and plans with published results cannot be edited.
        let closed = app
            .count(&format!(
                "SELECT COUNT(*) FROM plans WHERE id = {id} AND (status IN ('cancelled', 'rejected') OR results_status <> 'none')"
            ))
            .await;
        let r = inst_c
            .get(app.url(&format!("/plans/{id}/edit")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), if closed == 1 { 409 } else { 200 }, "edit {id}");
    }
    for path in ["/dashboard", "/plans"] {
        assert_eq!(
            sup.get(app.url(path)).send().await.unwrap().status(),
            200,
            "{path}"
        );
    }
    let inst1 = app.login("inst-1").await;
    for (c, path) in [
        (&inst1, "/plans"),
        (&inst1, "/efiling"),
        (&inst1, "/plans/new"),
        (&district, "/efilings"),
        (&center, "/plans"),
        (&inst1, "/dashboard"),
        (&district, "/dashboard"),
        (&center, "/dashboard"),
    ] {
        let r = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
    }
    let public = app
        .client()
        .get(app.url("/public/results"))
        .send()
        .await
        .unwrap();
    assert_eq!(public.status(), 200);
    assert!(
        public.text().await.unwrap().contains("JH"),
        "the demo plan in publicity is listed"
    );
}

/// The working-day rule at HTTP level on a pinned date: 2026-10-08, just after the National Day
/// holiday; 10-10 (Saturday) is a make-up working day.
#[tokio::test]
async fn plan_lead_time_over_national_day_with_pinned_today() {
    let app = crate::helpers::spawn_app_with(web::WebConfig {
        demo: true,
        fixed_today: Some(NaiveDate::from_ymd_opt(2026, 10, 8).unwrap()),
        ..Default::default()
    })
    .await;
    let inst = app.login("inst-1").await;
    let occ = occupation_id(&app, "4-03-02-01").await;
    let mut ids = vec![];
    for start in [
        NaiveDate::from_ymd_opt(2026, 10, 12).unwrap(),
        NaiveDate::from_ymd_opt(2026, 10, 13).unwrap(),
    ] {
        let (s, v) = send(
            &inst,
            &app,
            "POST",
            "/api/v1/plans",
            plan_body(occ, start, "4", "theory,skill"),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        ids.push(v["plan"]["id"].as_i64().unwrap());
    }
    // Both are submitted online before their start; the paper plans arrive on 10-08.
    for id in &ids {
        let (s, v) = act(&inst, &app, *id, "submit").await;
        assert_eq!(s, 200, "{v}");
    }
    let district = app.login("district-410105").await;
    // Monday 10-12: only 10-09 and 10-10 lie between → refused, naming 二(二) and the deadline 09-30.
    let (s, v) = act(&district, &app, ids[0], "paper").await;
    assert_eq!(s, 422, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("二(二)") && m.contains("2026年09月30日"), "{m}");
    // Tuesday 10-13: 10-09, 10-10 (make-up Saturday) and 10-12 → in time.
    let (s, v) = act(&district, &app, ids[1], "paper").await;
    assert_eq!(s, 200, "{v}");
}

/// The 督导责任书 is generated as a PDF from the signed text; another district cannot fetch it.
#[tokio::test]
async fn supervision_letter_pdf() {
    let app = spawn_app().await;
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT p.id, p.plan_no, l.sha256 FROM supervision_letters l JOIN plans p ON p.id = l.plan_id \
         JOIN institutions i ON i.id = p.institution_id WHERE i.district_code = '410105' AND l.superseded_at IS NULL ORDER BY l.id LIMIT 1",
    )
    .fetch_one(&app.store.db.pool)
    .await
    .expect("the demo has a supervision letter in 金水区");
    let (id, _plan_no, sha): (i64, String, String) = (row.get(0), row.get(1), row.get(2));
    let c = app.login("district-410105").await;
    let r = c
        .get(app.url(&format!("/plans/{id}/letter.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-1.7"));
    std::fs::write(
        crate::webdriver::artifacts_dir().join("supervision-letter.pdf"),
        &bytes,
    )
    .unwrap();
    // Set in the embedded subset font (no STSong-Light); the footer carries the document hash.
    assert!(!String::from_utf8_lossy(&bytes).contains("STSong"));
    let doc = lopdf::Document::load_mem(&bytes).expect("a PDF");
    let text = doc.extract_text(&[1]).expect("text of page 1");
    assert!(text.contains("督导责任书"), "{text}");
    assert!(text.contains(&sha[..16]), "hash in the PDF: {text}");
    let other = app.login("district-410102").await;
    let r = other
        .get(app.url(&format!("/plans/{id}/letter.pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}
