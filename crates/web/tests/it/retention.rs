//! Retention and disposal (issue 10 §1, 二(三) "纸质版材料保存三年、电子版材料保存五年"): due dates
//! by class, the paper register, disposal with two keys leaving a tombstone, and legal holds.
//! "Today" is pinned (2026-12-02); later days are other app servers on the same database.

use chrono::{Datelike, NaiveDate};
use serde_json::{json, Value};
use sqlx::Row;

use crate::helpers::{spawn_app, TestApp};
use crate::plans::send;

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn plus_years(d: NaiveDate, n: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(d.year() + n, d.month(), d.day())
        .or_else(|| NaiveDate::from_ymd_opt(d.year() + n, d.month(), 28))
        .unwrap()
}

async fn rows(app: &TestApp, sql: &str) -> Vec<sqlx::any::AnyRow> {
    sqlx::query(sql)
        .fetch_all(&app.store.db.pool)
        .await
        .unwrap()
}

/// The register row of the demo's filing whose note contains `marker`.
async fn demo_filing_record(app: &TestApp, marker: &str) -> i64 {
    app.count(&format!(
        "SELECT r.id FROM retention_records r JOIN filing_applications a ON a.id = r.subject_id WHERE r.class = 'filing' AND a.note LIKE '%{marker}%'"
    ))
    .await
}

async fn record(c: &reqwest::Client, app: &TestApp, id: i64) -> (u16, Value) {
    send(c, app, "GET", &format!("/api/v1/retention/{id}"), json!({})).await
}

/// What a refused request must leave alone.
async fn snapshot(app: &TestApp) -> Vec<i64> {
    let mut v = vec![];
    for sql in [
        "SELECT COUNT(*) FROM documents",
        "SELECT COUNT(*) FROM retention_records WHERE state = 'disposed'",
        "SELECT COUNT(*) FROM retention_disposals",
        "SELECT COUNT(*) FROM retention_disposals WHERE status = 'approved'",
        "SELECT COUNT(*) FROM retention_holds WHERE lifted_at IS NULL",
        "SELECT COUNT(*) FROM candidates WHERE id_number = ''",
        "SELECT COUNT(*) FROM audit_events",
    ] {
        v.push(app.count(sql).await);
    }
    v
}

#[tokio::test]
async fn retention_due_dates_by_class() {
    let app = spawn_app().await;
    let today = store::testing::today();
    let policy = domain::policy::Policy::zhengzhou_2022();
    // Every registered record: the period of its class from its closing date, with the clause.
    let all = rows(
        &app,
        "SELECT class, medium, closed_on, due_on, clause FROM retention_records",
    )
    .await;
    let mut classes = std::collections::BTreeSet::new();
    for r in &all {
        let class: String = r.get(0);
        let (medium, closed, due, clause): (String, String, String, String) =
            (r.get(1), r.get(2), r.get(3), r.get(4));
        let years = if class == "paper" { 3 } else { 5 };
        assert_eq!(
            day(&due),
            plus_years(day(&closed), years),
            "{class} closed {closed}"
        );
        assert_eq!(
            medium,
            if class == "paper" {
                "paper"
            } else {
                "electronic"
            }
        );
        assert_eq!(clause, "二(三)", "{class}");
        classes.insert(class);
    }
    for c in ["filing", "plan", "candidates", "paper"] {
        assert!(classes.contains(c), "the demo registers {c}: {classes:?}");
    }
    // Certificates are permanent: issued, never registered, never due.
    assert!(app.count("SELECT COUNT(*) FROM certificates").await > 0);
    assert!(!classes.contains("certificate"));
    assert_eq!(
        domain::retention::due_on(
            &policy,
            domain::retention::RetentionClass::Certificate,
            today
        ),
        None
    );
    // A filing finished today (the demo's filed applications) is kept five years from today;
    // the plan closed by the submission of its results, and its candidates, likewise from that day.
    let filed = rows(&app, "SELECT r.closed_on, r.due_on FROM retention_records r JOIN filing_applications a ON a.id = r.subject_id WHERE r.class = 'filing' AND a.state = 'filed'").await;
    assert!(!filed.is_empty());
    for r in &filed {
        assert_eq!(r.get::<String, _>(0), "2026-12-02");
        assert_eq!(r.get::<String, _>(1), "2031-12-02");
    }
    let plan: Vec<(String, String, String)> = rows(&app, "SELECT r.class, r.closed_on, p.closed_on FROM retention_records r JOIN plans p ON p.id = r.subject_id WHERE r.class IN ('plan', 'candidates') AND p.results_status = 'submitted'").await
        .iter().map(|r| (r.get(0), r.get(1), r.get(2))).collect();
    assert!(plan.iter().any(|(c, _, _)| c == "candidates"));
    for (c, closed, plan_closed) in &plan {
        assert_eq!(closed, plan_closed, "{c} runs from the plan's closing");
    }
    // 机构材料旧版本: a replaced material is kept five years from the day it was replaced.
    let inst = app.institution_in("410105").await;
    for text in ["v1", "v2"] {
        app.store
            .add_document(
                &store::Actor::system("test"),
                store::NewDocument {
                    owner_type: "institution".into(),
                    owner_id: inst,
                    institution_id: Some(inst),
                    kind: "business_license".into(),
                    filename: "营业执照-保管测试.pdf".into(),
                    ..Default::default()
                },
                format!("%PDF-1.4\n% licence {text}\n").as_bytes(),
            )
            .await
            .unwrap();
    }
    assert_eq!(
        app.store.register_closed_records(&policy).await.unwrap(),
        1,
        "the replaced version only"
    );
    let doc = rows(&app, "SELECT r.closed_on, r.due_on, r.district_code FROM retention_records r JOIN documents d ON d.id = r.subject_id WHERE r.class = 'document' AND d.version = 1 AND d.owner_id = (SELECT MAX(owner_id) FROM documents WHERE filename = '营业执照-保管测试.pdf') AND d.filename = '营业执照-保管测试.pdf'").await;
    assert_eq!(doc.len(), 1);
    assert_eq!(
        day(&doc[0].get::<String, _>(1)),
        plus_years(day(&doc[0].get::<String, _>(0)), 5)
    );
    // Registering again registers nothing twice.
    assert_eq!(app.store.register_closed_records(&policy).await.unwrap(), 0);

    // The due list: what is due today, a district its own area, the city all; printable, exported.
    let city = app.login("center").await;
    let (s, v) = send(
        &city,
        &app,
        "GET",
        "/api/v1/retention?per_page=200",
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let items = v["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items
        .iter()
        .all(|i| i["due_on"].as_str().unwrap() <= "2026-12-02" && i["state"] == "kept"));
    assert!(
        items.iter().any(|i| i["district_code"].is_null()),
        "city records"
    );
    assert!(items.iter().any(|i| i["district_code"] == "410102"));
    let district = app.login("district-410105").await;
    let (_, v) = send(
        &district,
        &app,
        "GET",
        "/api/v1/retention?state=all&per_page=200",
        json!({}),
    )
    .await;
    let own = v["items"].as_array().unwrap();
    assert!(!own.is_empty());
    assert!(own.iter().all(|i| i["district_code"] == "410105"), "{v}");
    // Filtering by another district does not widen the scope.
    let (_, v) = send(
        &district,
        &app,
        "GET",
        "/api/v1/retention?state=all&district=410102",
        json!({}),
    )
    .await;
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["district_code"] == "410105"));
    let html = district
        .get(app.url("/retention"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("档案保管与到期销毁") && html.contains("data-print"));
    assert!(
        html.contains("已到期"),
        "the district's due records are listed"
    );
    assert!(
        !html.contains("中原区人社局"),
        "another district's records leak"
    );
    let html = city
        .get(app.url("/retention?state=upcoming&class=paper"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("没有符合条件的记录"), "an empty state");
    let x = district
        .get(app.url("/retention/export.xlsx?state=all"))
        .send()
        .await
        .unwrap();
    assert_eq!(x.status(), 200);
    assert!(x.bytes().await.unwrap().starts_with(b"PK"));
    // Pagination.
    let (_, v) = send(
        &city,
        &app,
        "GET",
        "/api/v1/retention?state=all&per_page=2&page=2",
        json!({}),
    )
    .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    assert!(v["total"].as_i64().unwrap() > 4);
    // The work queues: the district's due records wait for a first key, the city's second key
    // waits on the demo's half-approved disposal.
    let dash = district
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        dash.contains("件档案保存期满，待提出销毁"),
        "district queue"
    );
    let dash = app
        .login("bureau")
        .await
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dash.contains("销毁待确认"), "city queue");
    // Institutions have no register.
    let i = app.login("inst-1").await;
    assert_eq!(
        i.get(app.url("/retention")).send().await.unwrap().status(),
        403
    );
}

#[tokio::test]
async fn retention_paper_register() {
    let app = spawn_app().await;
    let district = app.login("district-410105").await;
    let before = app.count("SELECT COUNT(*) FROM paper_records").await;
    // The form: what, where kept, by whom, closing date.
    let r = district
        .post(app.url("/paper-records/new"))
        .form(&[
            ("kind", "plan"),
            ("title", "评价工作计划 JH2026000123（纸质）"),
            ("location", "金水区人社局档案室 5 号柜"),
            ("custodian", "刘档案"),
            ("closed_on", "2026-11-20"),
            ("note", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(loc.starts_with("/retention/"), "{loc}");
    let row = rows(&app, "SELECT p.district_code, p.location, p.custodian, p.closed_on, r.due_on, r.class, r.medium, r.clause FROM paper_records p JOIN retention_records r ON r.class = 'paper' AND r.subject_id = p.id WHERE p.title = '评价工作计划 JH2026000123（纸质）'").await;
    assert_eq!(row.len(), 1);
    let r0 = &row[0];
    assert_eq!(r0.get::<Option<String>, _>(0).as_deref(), Some("410105"));
    assert_eq!(r0.get::<String, _>(2), "刘档案");
    assert_eq!(r0.get::<String, _>(3), "2026-11-20");
    assert_eq!(r0.get::<String, _>(4), "2029-11-20", "paper: three years");
    assert_eq!(r0.get::<String, _>(6), "paper");
    assert_eq!(r0.get::<String, _>(7), "二(三)");
    let page = district
        .get(app.url(&loc))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("金水区人社局档案室 5 号柜") && page.contains("2029-11-20"));
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'retention.paper_register'")
            .await
            >= 1
    );
    // The list shows it, with search; the empty state when nothing matches.
    let html = district
        .get(app.url("/paper-records?q=JH2026000123"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("评价工作计划 JH2026000123（纸质）"));
    let html = district
        .get(app.url("/paper-records?q=没有这份档案"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("没有符合条件的记录"));
    // The API registers too; the city's paper is the city's (kept by 市级).
    let city = app.login("bureau").await;
    let (s, v) = send(
        &city,
        &app,
        "POST",
        "/api/v1/paper-records",
        json!({ "kind": "filing", "title": "市级备案纸质材料（测试）", "location": "市鉴定中心档案室 C-01",
                "custodian": "周保管", "closed_on": "2025-06-30" }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert!(v["district_code"].is_null());
    assert_eq!(v["due_on"], "2028-06-30");
    let city_record = v["record_id"].as_i64().unwrap();
    // A district does not see the city's paper, nor another district's.
    assert_eq!(record(&district, &app, city_record).await.0, 404);
    let other = app.login("district-410102").await;
    let own_record = loc
        .trim_start_matches("/retention/")
        .split('?')
        .next()
        .unwrap()
        .parse::<i64>()
        .unwrap();
    assert_eq!(record(&other, &app, own_record).await.0, 404);
    let (_, v) = send(
        &other,
        &app,
        "GET",
        "/api/v1/paper-records?per_page=200",
        json!({}),
    )
    .await;
    assert!(v["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["district_code"] == "410102"));
    // Bad input: a clear Chinese message naming the field, nothing written.
    let n = app.count("SELECT COUNT(*) FROM paper_records").await;
    let (s, v) = send(
        &district,
        &app,
        "POST",
        "/api/v1/paper-records",
        json!({ "kind": "plan", "title": "缺存放地点", "location": " ", "custodian": "刘档案", "closed_on": "2026-11-20" }),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(v["field"], "location");
    assert!(v["message"].as_str().unwrap().contains("存放地点"));
    let (s, v) = send(
        &district,
        &app,
        "POST",
        "/api/v1/paper-records",
        json!({ "kind": "plan", "title": "未来归档", "location": "柜", "custodian": "刘档案", "closed_on": "2026-12-03" }),
    )
    .await;
    assert_eq!(s, 422);
    assert_eq!(v["field"], "closed_on");
    let r = district
        .post(app.url("/paper-records/new"))
        .form(&[("kind", "plan"), ("title", "表单缺字段")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请填写存放地点"));
    assert_eq!(app.count("SELECT COUNT(*) FROM paper_records").await, n);
    assert_eq!(n, before + 2);
    // Institutions keep no register here.
    let i = app.login("inst-1").await;
    let (s, _) = send(&i, &app, "POST", "/api/v1/paper-records", json!({})).await;
    assert_eq!(s, 403);
}

#[tokio::test]
async fn retention_disposal_two_key_tombstone() {
    let app = spawn_app().await;
    // The demo's due filing (closed six years ago) with one uploaded material.
    let id = demo_filing_record(&app, "待提出销毁").await;
    let subject = app
        .count(&format!(
            "SELECT subject_id FROM retention_records WHERE id = {id}"
        ))
        .await;
    let doc = rows(&app, &format!("SELECT blob_key FROM documents WHERE owner_type = 'filing_application' AND owner_id = {subject}")).await;
    assert_eq!(doc.len(), 1);
    let blob = app.blobs_dir.join(doc[0].get::<String, _>(0));
    assert!(blob.exists());
    let district = app.login("district-410105").await;
    let city = app.login("bureau").await;
    // Bad input first: no reason; no first key yet, so nothing to execute.
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal"),
        json!({ "reason": " " }),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let before = snapshot(&app).await;
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal/execute"),
        json!({ "confirm": true }),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert_eq!(snapshot(&app).await, before);
    // The first key: the district.
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal"),
        json!({ "reason": "保存期满，经核对无未结事项" }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    assert_eq!(v["first_side"], "district");
    assert_eq!(v["status"], "proposed");
    // Disposal without the second key: a clear Chinese refusal, nothing changes.
    let before = snapshot(&app).await;
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal/execute"),
        json!({ "confirm": true }),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("尚缺市级人社部门的确认"), "{msg}");
    // Nor may the district turn the second key itself.
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("第二把钥匙须由市级人社部门确认"));
    // The page form of the irreversible step refuses too.
    let r = district
        .post(app.url(&format!("/retention/{id}/disposal/execute")))
        .form(&[("confirm", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    assert!(r.text().await.unwrap().contains("第二把钥匙"));
    assert_eq!(snapshot(&app).await, before);
    assert!(blob.exists());
    // The second key: the city.
    let (s, v) = send(
        &city,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["status"], "approved");
    assert_eq!(v["second_side"], "city");
    // Confirmation before the irreversible step: the page says so, and an unticked box refuses.
    let page = district
        .get(app.url(&format!("/retention/{id}/disposal/execute")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("不可恢复") && page.contains("data-confirm"));
    let (_, rec) = record(&district, &app, id).await;
    let version = rec["record"]["version"].as_i64().unwrap();
    let r = district
        .post(app.url(&format!("/retention/{id}/disposal/execute")))
        .form(&[("version", version.to_string().as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("请勾选"));
    assert!(blob.exists());
    let audit_before = app.count("SELECT COUNT(*) FROM audit_events").await;
    let r = district
        .post(app.url(&format!("/retention/{id}/disposal/execute")))
        .form(&[("version", version.to_string().as_str()), ("confirm", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The files and the material rows are gone; the application's skeleton stays.
    assert!(!blob.exists(), "the blob is deleted");
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM documents WHERE owner_type = 'filing_application' AND owner_id = {subject}")).await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM filing_applications WHERE id = {subject} AND state = 'withdrawn'"
        ))
        .await,
        1
    );
    // The tombstone: type, id, dates, who disposed, why — and the audit event, in the chain.
    let (s, t) = record(&district, &app, id).await;
    assert_eq!(s, 200);
    assert_eq!(t["record"]["state"], "disposed");
    assert_eq!(t["record"]["class"], "filing");
    assert_eq!(t["record"]["subject_id"], subject);
    assert!(t["record"]["closed_on"].is_string() && t["record"]["disposed_at"].is_string());
    let done = &t["disposals"][0];
    assert_eq!(done["status"], "done");
    assert_eq!(done["reason"], "保存期满，经核对无未结事项");
    assert_eq!(done["first_by"], "district-410105");
    assert_eq!(done["second_by"], "bureau");
    assert_eq!(done["executed_by"], "district-410105");
    assert!(done["removed"]
        .as_str()
        .unwrap()
        .contains("\"documents\":1"));
    assert!(done["blobs_purged_at"].is_string());
    assert_eq!(
        app.count(&format!("SELECT COUNT(*) FROM audit_events WHERE action = 'retention.dispose' AND object_id = '{id}'")).await,
        1
    );
    assert!(app.count("SELECT COUNT(*) FROM audit_events").await > audit_before);
    assert!(app.store.db.verify_audit_chain().await.unwrap().is_ok());
    let html = district
        .get(app.url("/retention?state=disposed"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains(&format!("/retention/{id}\"")),
        "listed among the tombstones"
    );
    let html = district
        .get(app.url(&format!("/retention/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(html.contains("销毁记录") && html.contains("保存期满，经核对无未结事项"));
    // Once disposed, no second disposal.
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{id}/disposal"),
        json!({ "reason": "再来一次" }),
    )
    .await;
    assert_eq!(s, 409);

    // Candidates and results: six years on, the demo's certified plan is due. Personal data goes;
    // a certificate holder's name and ID number are certificate data and stay with the
    // (permanent) certificate.
    let later = app
        .at_date(NaiveDate::from_ymd_opt(2032, 12, 2).unwrap())
        .await;
    let plan = app
        .count("SELECT plan_id FROM certificates ORDER BY id LIMIT 1")
        .await;
    let cid = app
        .count(&format!(
            "SELECT id FROM retention_records WHERE class = 'candidates' AND subject_id = {plan}"
        ))
        .await;
    let district = later.login("district-410105").await;
    let center = later.login("center").await;
    let (s, v) = send(
        &district,
        &later,
        "POST",
        &format!("/api/v1/retention/{cid}/disposal"),
        json!({ "reason": "保存期满" }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = send(
        &center,
        &later,
        "POST",
        &format!("/api/v1/retention/{cid}/disposal/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let holders_before = rows(&later, &format!("SELECT c.id, c.name, c.id_number FROM candidates c WHERE c.plan_id = {plan} AND EXISTS (SELECT 1 FROM certificates k WHERE k.candidate_id = c.id) ORDER BY c.id")).await;
    assert!(!holders_before.is_empty());
    let (s, v) = send(
        &center,
        &later,
        "POST",
        &format!("/api/v1/retention/{cid}/disposal/execute"),
        json!({ "confirm": true }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let others = rows(&later, &format!("SELECT name, id_number, id_masked, phone FROM candidates c WHERE plan_id = {plan} AND NOT EXISTS (SELECT 1 FROM certificates k WHERE k.candidate_id = c.id)")).await;
    assert!(!others.is_empty());
    for r in &others {
        assert_eq!(r.get::<String, _>(0), "（已销毁）");
        assert_eq!(r.get::<String, _>(1), "");
        assert_eq!(r.get::<String, _>(2), "");
        assert_eq!(r.get::<String, _>(3), "");
    }
    for h in &holders_before {
        let id: i64 = h.get(0);
        let now = rows(
            &later,
            &format!("SELECT name, id_number FROM candidates WHERE id = {id}"),
        )
        .await;
        assert_eq!(now[0].get::<String, _>(0), h.get::<String, _>(1));
        assert_eq!(now[0].get::<String, _>(1), h.get::<String, _>(2));
    }
    // The certificates themselves are whole: the PDF still renders with the holder's photo and ID.
    let cert = later
        .count(&format!("SELECT id FROM certificates WHERE plan_id = {plan} AND state = 'valid' ORDER BY id LIMIT 1"))
        .await;
    let r = center
        .get(later.url(&format!("/certificates/{cert}/pdf")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.bytes().await.unwrap().starts_with(b"%PDF"));
}

#[tokio::test]
async fn retention_legal_hold_blocks() {
    let app = spawn_app().await;
    let district = app.login("district-410105").await;
    let center = app.login("center").await;
    let bureau = app.login("bureau").await;
    // The demo's paper record held by the district (信访调查): no first key while it holds.
    let held = app
        .count("SELECT r.id FROM retention_records r JOIN retention_holds h ON h.record_id = r.id AND h.lifted_at IS NULL WHERE r.class = 'paper' AND r.district_code = '410105'")
        .await;
    let before = snapshot(&app).await;
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{held}/disposal"),
        json!({ "reason": "保存期满" }),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    let msg = v["message"].as_str().unwrap();
    assert!(
        msg.contains("已被冻结") && msg.contains("解除冻结前不得销毁"),
        "{msg}"
    );
    // The city's hold on a city record (行政诉讼) blocks both city keys.
    let city_held = demo_filing_record(&app, "涉诉冻结").await;
    let (s, v) = send(
        &center,
        &app,
        "POST",
        &format!("/api/v1/retention/{city_held}/disposal"),
        json!({ "reason": "保存期满" }),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    // A district sees neither the city's record nor its hold.
    assert_eq!(record(&district, &app, city_held).await.0, 404);
    assert_eq!(snapshot(&app).await, before);

    // The half-approved demo record: a hold placed after the first key blocks the second …
    let half = demo_filing_record(&app, "待市级确认").await;
    let (s, v) = send(
        &center,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/hold"),
        json!({ "reason": "" }),
    )
    .await;
    assert_eq!(s, 422, "a hold needs its reason: {v}");
    let (s, v) = send(
        &center,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/hold"),
        json!({ "reason": "审计调查（郑审〔2026〕5号）" }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let hold_id = v["id"].as_i64().unwrap();
    let before = snapshot(&app).await;
    let (s, v) = send(
        &bureau,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/disposal/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("审计调查"));
    // … and the district cannot lift the city's hold.
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/hold/lift"),
        json!({ "reason": "调查结束" }),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(v["message"].as_str().unwrap().contains("只能由市级解除"));
    assert_eq!(snapshot(&app).await, before);
    // Lifted (with a reason), the keys turn again.
    let (s, v) = send(
        &center,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/hold/lift"),
        json!({ "reason": "审计调查已结束", "hold_id": hold_id }),
    )
    .await;
    assert_eq!(s, 204, "{v}");
    let (s, v) = send(
        &bureau,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/disposal/approve"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");

    // A hold placed after both keys stops the execution, on the page, in the API and in the run.
    let state = web::AppState::new(
        app.store.clone(),
        web::WebConfig {
            fixed_today: Some(store::testing::today()),
            scheduler: false,
            ..Default::default()
        },
        domain::policy::Policy::zhengzhou_2022(),
    );
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/hold"),
        json!({ "reason": "信访复查" }),
    )
    .await;
    assert_eq!(s, 201);
    let before = snapshot(&app).await;
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/disposal/execute"),
        json!({ "confirm": true }),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    assert!(v["message"].as_str().unwrap().contains("信访复查"));
    // The dry run lists what is due and changes nothing.
    let dry = web::retention::run(&state, true).await.unwrap();
    assert!(dry.due.iter().any(|r| r.id == half));
    assert!(dry.disposed.is_empty());
    assert_eq!(snapshot(&app).await, before);
    // The run disposes the demo's other approved record (中原区 paper), never the held one.
    let report = web::retention::run(&state, false).await.unwrap();
    assert!(
        report
            .skipped
            .iter()
            .any(|(r, why)| r.id == half && why.contains("冻结")),
        "{:?}",
        report.skipped
    );
    assert!(!report.disposed.iter().any(|(r, _)| r.id == half));
    assert!(report
        .disposed
        .iter()
        .any(|(r, _)| r.district_code.as_deref() == Some("410102") && r.class == "paper"));
    let (_, v) = record(&district, &app, half).await;
    assert_eq!(v["record"]["state"], "kept");
    assert_eq!(v["disposals"][0]["status"], "approved");
    // The district lifts its own hold; the next run disposes it.
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/retention/{half}/hold/lift"),
        json!({ "reason": "复查结束" }),
    )
    .await;
    assert_eq!(s, 204);
    let report = web::retention::run(&state, false).await.unwrap();
    assert!(report.disposed.iter().any(|(r, _)| r.id == half));
    let (_, v) = record(&district, &app, half).await;
    assert_eq!(v["record"]["state"], "disposed");
    assert_eq!(v["disposals"][0]["executed_by"], "system:retention-run");
    // A due record without keys is never disposed by the run.
    let plain = demo_filing_record(&app, "待提出销毁").await;
    let (_, v) = record(&district, &app, plain).await;
    assert_eq!(v["record"]["state"], "kept");
}
