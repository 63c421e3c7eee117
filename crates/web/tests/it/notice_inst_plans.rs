//! Issue 7, 3.1, 3.11–3.13, 3.15: the notice read exactly for plans, institution accounts and
//! the districts' enterprise work. Dates are pinned (`fixed_today`, `TestApp::at_date`).

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::helpers::{spawn_app_with, TestApp};
use crate::plans::{act, assign_and_sign, candidate, occupation_id, plan_body, send};

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

async fn app_on(today: NaiveDate) -> TestApp {
    spawn_app_with(web::WebConfig {
        demo: true,
        fixed_today: Some(today),
        ..Default::default()
    })
    .await
}

/// A plan of inst-1 (金水区, 中式烹调师 四级) from `start` to the next day.
async fn plan_of_inst1(app: &TestApp, inst: &reqwest::Client, start: NaiveDate) -> i64 {
    let occ = occupation_id(app, "4-03-02-01").await;
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

async fn paper(
    c: &reqwest::Client,
    app: &TestApp,
    id: i64,
    on: Option<&str>,
    reason: &str,
) -> (u16, Value) {
    let mut body = json!({ "command": "paper", "reason": reason });
    if let Some(on) = on {
        body["paper_received_on"] = json!(on);
    }
    send(c, app, "POST", &format!("/api/v1/plans/{id}/actions"), body).await
}

async fn plan_row(app: &TestApp, id: i64) -> (String, Option<String>, Option<String>) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT status, paper_received_on, paper_retention_until FROM plans WHERE id = $1",
    )
    .bind(id)
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2))
}

/// 二(二): the 3 working days count up to the day the district received the paper plan.
#[tokio::test]
async fn plan_three_working_days_counts_from_paper_receipt() {
    // Friday 2026-12-04; the evaluation starts Tuesday 12-08: only Monday 12-07 lies between.
    let app = app_on(d(2026, 12, 4)).await;
    let inst = app.login("inst-1").await;
    let district = app.login("district-410105").await;
    let id = plan_of_inst1(&app, &inst, d(2026, 12, 8)).await;
    // The online submission only has to come before the start.
    let (s, v) = act(&inst, &app, id, "submit").await;
    assert_eq!(s, 200, "{v}");
    let events_before = app
        .count(&format!(
            "SELECT COUNT(*) FROM plan_events WHERE plan_id = {id}"
        ))
        .await;

    // Recorded today (the default): too late, refused naming 二(二) and the last day 12-02.
    let (s, v) = paper(&district, &app, id, None, "").await;
    assert_eq!(s, 422, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("二(二)") && m.contains("2026年12月02日"), "{m}");
    // An earlier day needs a reason; a future day is no receipt.
    let (s, v) = paper(&district, &app, id, Some("2026-12-02"), "").await;
    assert_eq!((s, v["field"].as_str()), (422, Some("reason")), "{v}");
    let (s, v) = paper(&district, &app, id, Some("2026-12-07"), "补录").await;
    assert_eq!(
        (s, v["field"].as_str()),
        (422, Some("paper_received_on")),
        "{v}"
    );
    // Received on Thursday 12-03 is also too late (12-04 and 12-07 only).
    let (s, v) = paper(&district, &app, id, Some("2026-12-03"), "补录").await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("二(二)"), "{v}");
    // Nothing was stored by the refusals.
    assert_eq!(
        plan_row(&app, id).await,
        ("submitted".to_string(), None, None)
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM plan_events WHERE plan_id = {id}"
        ))
        .await,
        events_before
    );

    // Received on Wednesday 12-02 (recorded after the fact, with a reason): in time.
    let (s, v) = paper(
        &district,
        &app,
        id,
        Some("2026-12-02"),
        "纸质件12月2日已收取，补录",
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["plan"]["paper_received_on"], "2026-12-02", "{v}");
    // 二(三): the paper copy is kept three years from its receipt.
    assert_eq!(
        plan_row(&app, id).await,
        (
            "paper_received".to_string(),
            Some("2026-12-02".to_string()),
            Some("2029-12-02".to_string())
        )
    );

    // The online submission must come before the start date.
    let late = plan_of_inst1(&app, &inst, d(2026, 12, 4)).await;
    let (s, v) = act(&inst, &app, late, "submit").await;
    assert_eq!(s, 422, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("二(二)") && m.contains("之前"), "{m}");
    assert_eq!(plan_row(&app, late).await.0, "draft");

    // The page form: the receipt date defaults to today; a refusal is shown on the form (422).
    let third = plan_of_inst1(&app, &inst, d(2026, 12, 8)).await;
    assert_eq!(act(&inst, &app, third, "submit").await.0, 200);
    let form = district
        .get(app.url(&format!("/plans/{third}/act/paper")))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 200);
    let html = form.text().await.unwrap();
    assert!(
        html.contains("纸质件收取日期") && html.contains("2026-12-04"),
        "{html}"
    );
    let r = district
        .post(app.url(&format!("/plans/{third}/act/paper")))
        .form(&[("paper_received_on", "2026-12-04"), ("reason", "")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("二(二)"));
    assert_eq!(plan_row(&app, third).await.0, "submitted");
}

/// 二(三): scores only from the evaluation's start date.
#[tokio::test]
async fn scores_only_after_evaluation_starts() {
    let (app, id, inst, cid) = evaluation_ready().await;
    let score = json!({ "theory": "80", "skill": "75" });
    let path = format!("/api/v1/plans/{id}/candidates/{cid}/scores");
    // 12-02, the evaluation starts 12-08: refused naming 二(三), nothing stored.
    let (s, v) = send(&inst, &app, "PUT", &path, score.clone()).await;
    assert_eq!(s, 422, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("二(三)") && m.contains("2026年12月08日"), "{m}");
    let scored =
        format!("SELECT COUNT(*) FROM candidates WHERE id = {cid} AND theory_score IS NOT NULL");
    assert_eq!(app.count(&scored).await, 0);
    // The xlsx import is refused the same way.
    let bytes = sheets::write_report(
        "成绩",
        &["证件号码", "姓名", "理论", "技能", "综合评审"],
        &[],
    )
    .unwrap();
    let r = inst
        .post(app.url(&format!("/api/v1/plans/{id}/scores/import")))
        .body(bytes)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // On the first day of the evaluation the scores are accepted.
    let later = app.at_date(d(2026, 12, 8)).await;
    let inst = later.login("inst-1").await;
    let (s, v) = send(&inst, &later, "PUT", &path, score).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(later.count(&scored).await, 1);
}

/// 二(三): results are published only after the evaluation's end date.
#[tokio::test]
async fn results_published_only_after_evaluation_ends() {
    let (app, id, _, cid) = evaluation_ready().await;
    let path = format!("/api/v1/plans/{id}/candidates/{cid}/scores");
    let publish = format!("/api/v1/plans/{id}/results/publish");
    // The last day of the evaluation (12-09): scores yes, publication no.
    let on_end = app.at_date(d(2026, 12, 9)).await;
    let inst = on_end.login("inst-1").await;
    let (s, v) = send(
        &inst,
        &on_end,
        "PUT",
        &path,
        json!({ "theory": "80", "skill": "75" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = send(&inst, &on_end, "POST", &publish, json!({})).await;
    assert_eq!(s, 422, "{v}");
    let m = v["message"].as_str().unwrap();
    assert!(m.contains("二(三)") && m.contains("2026年12月09日"), "{m}");
    let published = format!(
        "SELECT COUNT(*) FROM plans WHERE id = {id} AND results_status = 'none' AND results_published_on IS NULL"
    );
    assert_eq!(app.count(&published).await, 1);
    // The day after: published.
    let after = app.at_date(d(2026, 12, 10)).await;
    let inst = after.login("inst-1").await;
    let (s, v) = send(&inst, &after, "POST", &publish, json!({})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(app.count(&published).await, 0);
}

/// A city-confirmed plan (12-08 to 12-09) with a signed letter and one candidate, on 12-02.
async fn evaluation_ready() -> (TestApp, i64, reqwest::Client, i64) {
    let app = app_on(d(2026, 12, 2)).await;
    let inst = app.login("inst-1").await;
    let district = app.login("district-410105").await;
    let center = app.login("center").await;
    let id = plan_of_inst1(&app, &inst, d(2026, 12, 8)).await;
    for (c, cmd) in [
        (&inst, "submit"),
        (&district, "paper"),
        (&district, "approve"),
        (&inst, "enter"),
        (&center, "confirm"),
    ] {
        let (s, v) = act(c, &app, id, cmd).await;
        assert_eq!(s, 200, "{cmd}: {v}");
    }
    assign_and_sign(&app, id, &["sup-city-1", "sup-410105-1", "inst-1"]).await;
    let (s, v) = send(
        &inst,
        &app,
        "POST",
        &format!("/api/v1/plans/{id}/candidates"),
        candidate("钱七", 7, true, "4"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (_, list) = send(
        &inst,
        &app,
        "GET",
        &format!("/api/v1/plans/{id}/candidates"),
        json!({}),
    )
    .await;
    let cid = list["items"][0]["id"].as_i64().unwrap();
    (app, id, inst, cid)
}

/// A filed institution without an account of its own (the demo's self-registration aside).
async fn filed_institution(app: &TestApp) -> (i64, String, String, String) {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT id, credit_code, filing_no, district_code FROM institutions WHERE filing_status = 'filed' AND filing_no IS NOT NULL \
         AND id NOT IN (SELECT institution_id FROM institution_registrations WHERE status = 'pending') ORDER BY id LIMIT 1",
    )
    .fetch_one(&app.store.db.pool)
    .await
    .unwrap();
    (r.get(0), r.get(1), r.get(2), r.get(3))
}

/// 二(二): a filed institution registers its own account; its district confirms; no admin.
#[tokio::test]
async fn institution_self_registration() {
    let app = app_on(d(2026, 12, 2)).await;
    // The demo holds a registration in every state.
    for st in ["pending", "confirmed", "refused"] {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) FROM institution_registrations WHERE status = '{st}'"
            ))
            .await;
        assert_eq!(n, 1, "demo registration {st}");
    }
    let (inst_id, code, filing_no, district) = filed_institution(&app).await;
    let visitor = app.client();
    let form = |username: &str, filing_no: &str, password: &str| {
        json!({ "credit_code": code, "filing_no": filing_no, "contact_name": "周联系",
                "contact_phone": "13900001111", "username": username, "password": password })
    };
    let users = "SELECT COUNT(*) FROM users";
    let regs = "SELECT COUNT(*) FROM institution_registrations";
    let (u0, r0) = (app.count(users).await, app.count(regs).await);
    // A wrong filing number is refused naming 二(二); the password rules are the usual ones.
    let (s, v) = send(
        &visitor,
        &app,
        "POST",
        "/api/v1/registrations",
        form("self-reg-1", "郑人社评备〔2026〕99999号", "Self-reg-2026!"),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("二(二)"), "{v}");
    let (s, v) = send(
        &visitor,
        &app,
        "POST",
        "/api/v1/registrations",
        form("self-reg-1", &filing_no, "short"),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (422, Some("password")), "{v}");
    let (s, v) = send(&visitor, &app, "POST", "/api/v1/registrations", json!({ "credit_code": code, "filing_no": filing_no, "contact_name": "周", "contact_phone": "电话", "username": "self-reg-1", "password": "Self-reg-2026!" })).await;
    assert_eq!(
        (s, v["field"].as_str()),
        (422, Some("contact_phone")),
        "{v}"
    );
    assert_eq!((app.count(users).await, app.count(regs).await), (u0, r0));

    // Registered: pending, and the account cannot log in yet.
    let (s, v) = send(
        &visitor,
        &app,
        "POST",
        "/api/v1/registrations",
        form("self-reg-1", &filing_no, "Self-reg-2026!"),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let rid = v["registration"]["id"].as_i64().unwrap();
    assert_eq!(v["registration"]["status"], "pending");
    assert_eq!(v["registration"]["institution_id"], inst_id);
    let login = |c: reqwest::Client| {
        let url = app.url("/api/v1/session");
        async move {
            c.post(url)
                .json(&json!({ "username": "self-reg-1", "password": "Self-reg-2026!" }))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_ne!(login(app.client()).await, 200);
    // A second registration while one is pending: 409, nothing stored.
    let (s, _) = send(
        &visitor,
        &app,
        "POST",
        "/api/v1/registrations",
        form("self-reg-2", &filing_no, "Self-reg-2026!"),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(app.count(users).await, u0 + 1);

    // The district's queue shows it; another district cannot see or confirm it.
    let officer = app.login(&format!("district-{district}")).await;
    let dash = officer
        .get(app.url("/dashboard"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(dash.contains("注册评价机构账号待确认"), "work queue item");
    let other = if district == "410102" {
        "410105"
    } else {
        "410102"
    };
    let stranger = app.login(&format!("district-{other}")).await;
    let (s, _) = send(
        &stranger,
        &app,
        "POST",
        &format!("/api/v1/registrations/{rid}/decision"),
        json!({ "decision": "confirm" }),
    )
    .await;
    assert_eq!(s, 404);
    let (s, _) = send(
        &app.login("admin").await,
        &app,
        "POST",
        &format!("/api/v1/registrations/{rid}/decision"),
        json!({ "decision": "confirm" }),
    )
    .await;
    assert_eq!(s, 403);
    assert_ne!(login(app.client()).await, 200);
    // The district confirms (page): now the account logs in as the institution.
    let r = officer
        .post(app.url(&format!("/registrations/{rid}/confirm")))
        .form(&[("version", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(login(app.client()).await, 200);
    use sqlx::Row;
    let row =
        sqlx::query("SELECT role, institution_id, active FROM users WHERE username = 'self-reg-1'")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap();
    assert_eq!(
        (
            row.get::<String, _>(0),
            row.get::<Option<i64>, _>(1),
            row.get::<i64, _>(2)
        ),
        ("institution".to_string(), Some(inst_id), 1)
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'institution_registration.confirm' AND object_id = '{rid}'"
        ))
        .await,
        1
    );
    // The public page exists and works without an account; a mismatch is shown on the form.
    let page = app.client().get(app.url("/register")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("备案编号"));
    let r = app
        .client()
        .post(app.url("/register"))
        .form(&[
            ("credit_code", code.as_str()),
            ("filing_no", "郑人社评备〔2026〕99999号"),
            ("contact_name", "周联系"),
            ("contact_phone", "13900001111"),
            ("username", "self-reg-3"),
            ("password", "Self-reg-2026!"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(r.text().await.unwrap().contains("二(二)"));
    assert_eq!(app.count(users).await, u0 + 1);

    // Refusing needs a reason; a refused account stays unable to log in.
    let (pid, pdistrict): (i64, String) = {
        use sqlx::Row;
        let r = sqlx::query("SELECT id, district_code FROM institution_registrations WHERE status = 'pending' ORDER BY id LIMIT 1")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let officer = app.login(&format!("district-{pdistrict}")).await;
    let decide = format!("/api/v1/registrations/{pid}/decision");
    let (s, v) = send(
        &officer,
        &app,
        "POST",
        &decide,
        json!({ "decision": "refuse" }),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (422, Some("reason")), "{v}");
    let (s, v) = send(
        &officer,
        &app,
        "POST",
        &decide,
        json!({ "decision": "refuse", "reason": "联系人不符" }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["registration"]["status"], "refused");
    let (s, _) = send(
        &officer,
        &app,
        "POST",
        &decide,
        json!({ "decision": "confirm" }),
    )
    .await;
    assert_eq!(s, 409, "decided once");
    let refused_user = format!(
        "SELECT COUNT(*) FROM users u JOIN institution_registrations r ON r.user_id = u.id WHERE r.id = {pid} AND u.active = 0"
    );
    assert_eq!(app.count(&refused_user).await, 1);
}

fn register_xlsx(rows: &[[&str; 5]]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| c.to_string()).collect())
        .collect();
    sheets::write_report(
        "企业筛查台账",
        &[
            "企业名称",
            "统一社会信用代码",
            "员工人数",
            "注册资本（元）",
            "主营业务",
        ],
        &rows,
    )
    .unwrap()
}

fn code(n: u32) -> String {
    domain::credit_code::with_check_digit(&format!("91410105MA9T{n:05}")).unwrap()
}

/// 三(二): the district's register: xlsx import (all or nothing), 一(二)1 eligibility, outreach
/// status, the link to a filing, scope, and the city's totals by district.
#[tokio::test]
async fn enterprise_screening_register() {
    let app = app_on(d(2026, 12, 2)).await;
    let district = app.login("district-410105").await;
    let other = app.login("district-410102").await;
    let center = app.login("center").await;
    // The template downloads and reads back.
    let t = district
        .get(app.url("/enterprises/template.xlsx"))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    let t = t.bytes().await.unwrap();
    assert!(sheets::read(&web::outreach::register_spec(), &t).is_ok());

    // A linked enterprise: an institution of 金水区 that has a filing application.
    let (linked_code, linked_name): (String, String) = {
        use sqlx::Row;
        let r = sqlx::query("SELECT i.credit_code, i.name FROM institutions i WHERE i.district_code = '410105' AND EXISTS (SELECT 1 FROM filing_applications f WHERE f.institution_id = i.id) ORDER BY i.id LIMIT 1")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let (c1, c2, c3) = (code(1), code(2), code(3));
    let register = "SELECT COUNT(*) FROM enterprise_register";
    let before = app.count(register).await;
    // One bad row (credit code, employees) and a duplicate: nothing imported, errors per row.
    let bad = register_xlsx(&[
        ["甲餐饮有限公司", &c1, "200", "1000000", "餐饮服务"],
        ["乙汽修有限公司", "123", "abc", "5000000", "机动车维修"],
        ["丙重复有限公司", &c1, "10", "10", "批发"],
    ]);
    let r = district
        .post(app.url("/api/v1/enterprises/import"))
        .body(bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|e| e["row"] == 3 && e["field"] == "统一社会信用代码"),
        "{v}"
    );
    assert!(
        rows.iter()
            .any(|e| e["row"] == 4 && e["message"].as_str().unwrap().contains("两次")),
        "{v}"
    );
    assert_eq!(app.count(register).await, before);
    // The page says the same in Chinese, with the rows.
    let r = district
        .post(app.url("/enterprises/import"))
        .multipart(
            reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(register_xlsx(&[[
                    "乙汽修有限公司",
                    "123",
                    "20",
                    "5000000",
                    "机动车维修",
                ]]))
                .file_name("台账.xlsx"),
            ),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(
        html.contains("全部数据未导入") && html.contains("统一社会信用代码"),
        "{html}"
    );
    assert_eq!(app.count(register).await, before);
    // The good file imports.
    let good = register_xlsx(&[
        ["甲餐饮有限公司", &c1, "200", "1000000", "餐饮服务"],
        ["乙汽修有限公司", &c2, "20", "5000000", "机动车维修"],
        ["丙商贸有限公司", &c3, "20", "100000", "批发零售"],
        [&linked_name, &linked_code, "300", "10000000", "餐饮服务"],
    ]);
    let r = district
        .post(app.url("/api/v1/enterprises/import"))
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
    let (s, v) = send(
        &district,
        &app,
        "GET",
        "/api/v1/enterprises?q=有限公司",
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let find = |v: &Value, c: &str| {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["credit_code"] == c)
            .cloned()
            .unwrap()
    };
    let e1 = find(&v, &c1);
    let e3 = find(&v, &c3);
    // 一(二)1: 200 employees or 5 million yuan qualify; 20 people and 100 000 yuan do not.
    assert_eq!(e1["eligible"], true);
    assert_eq!(find(&v, &c2)["eligible"], true);
    assert_eq!(e3["eligible"], false);
    assert!(
        e3["eligibility_notes"][0]
            .as_str()
            .unwrap()
            .contains("一(二)1(2)"),
        "{e3}"
    );
    // The enterprise with a filing links to it and shows 已申报.
    let (_, all) = send(
        &district,
        &app,
        "GET",
        &format!("/api/v1/enterprises?q={linked_code}"),
        json!({}),
    )
    .await;
    let linked = find(&all, &linked_code);
    assert!(linked["filing_id"].as_i64().is_some(), "{linked}");
    assert_eq!(linked["outreach_effective"], "applied");
    assert_eq!(e1["outreach"], "uncontacted");

    // Outreach status: 已宣传; a wrong value and a stale version are refused.
    let id1 = e1["id"].as_i64().unwrap();
    let path = format!("/api/v1/enterprises/{id1}/outreach");
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &path,
        json!({ "outreach": "联系过" }),
    )
    .await;
    assert_eq!(s, 422);
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &path,
        json!({ "outreach": "已宣传", "version": e1["version"] }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["enterprise"]["outreach_label"], "已宣传");
    let (s, _) = send(
        &district,
        &app,
        "POST",
        &path,
        json!({ "outreach": "有意向", "version": e1["version"] }),
    )
    .await;
    assert_eq!(s, 409);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM enterprise_register WHERE id = {id1} AND outreach = 'informed'"
        ))
        .await,
        1
    );

    // Scope: another district neither sees nor changes 金水区's register; the city sees it.
    let (_, v) = send(
        &other,
        &app,
        "GET",
        &format!("/api/v1/enterprises?q={c1}"),
        json!({}),
    )
    .await;
    assert_eq!(v["total"], 0);
    let (s, _) = send(&other, &app, "POST", &path, json!({ "outreach": "不符合" })).await;
    assert_eq!(s, 404);
    let (s, _) = send(
        &center,
        &app,
        "POST",
        &path,
        json!({ "outreach": "不符合" }),
    )
    .await;
    assert_eq!(s, 403);
    let inst = app.login("inst-1").await;
    assert_eq!(
        send(&inst, &app, "GET", "/api/v1/enterprises", json!({}))
            .await
            .0,
        403
    );

    // The city's totals by district.
    let (s, v) = send(
        &center,
        &app,
        "GET",
        "/api/v1/enterprises/totals",
        json!({}),
    )
    .await;
    assert_eq!(s, 200);
    let jinshui = v["districts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["district_code"] == "410105")
        .cloned()
        .unwrap();
    let n = app
        .count("SELECT COUNT(*) FROM enterprise_register WHERE district_code = '410105'")
        .await;
    assert_eq!(jinshui["total"], n);
    assert!(jinshui["by_outreach"]["informed"].as_i64().unwrap() >= 1);
    assert!(jinshui["linked_to_filing"].as_i64().unwrap() >= 1);
    let page = center
        .get(app.url("/enterprises/totals"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("金水区"));
    let page = district
        .get(app.url("/enterprises"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("甲餐饮有限公司") && page.contains("已宣传"));
    // The API is documented.
    let doc: Value = app
        .client()
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for path in [
        "/api/v1/enterprises/import",
        "/api/v1/enterprises/{id}/guidance",
        "/api/v1/registrations",
        "/api/v1/registrations/{id}/decision",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} in openapi");
    }
}

/// 一(二): the district guides enterprises that have not filed; a printable 工作方案 template.
#[tokio::test]
async fn enterprise_guidance_notes() {
    let app = app_on(d(2026, 12, 2)).await;
    let district = app.login("district-410105").await;
    let good = register_xlsx(&[["丁制造有限公司", &code(9), "160", "0", "机械制造"]]);
    let r = district
        .post(app.url("/api/v1/enterprises/import"))
        .body(good)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = send(
        &district,
        &app,
        "GET",
        &format!("/api/v1/enterprises?q={}", code(9)),
        json!({}),
    )
    .await;
    let id = v["items"][0]["id"].as_i64().unwrap();
    let notes = format!("SELECT COUNT(*) FROM enterprise_guidance WHERE enterprise_id = {id}");
    // Too short: refused, nothing stored.
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/enterprises/{id}/guidance"),
        json!({ "note": "好" }),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (422, Some("note")), "{v}");
    assert_eq!(app.count(&notes).await, 0);
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/enterprises/{id}/guidance"),
        json!({ "note": "建议按模板明确评价职业与等级，场地可共享。" }),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    // The page form works too, and the detail page lists both.
    let r = district
        .post(app.url(&format!("/enterprises/{id}/guidance")))
        .form(&[("note", "第二次指导：试题可购买服务。")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(app.count(&notes).await, 2);
    let page = district
        .get(app.url(&format!("/enterprises/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("试题可购买服务") && page.contains("工作方案模板"));
    // An enterprise that has already filed gets no guidance (一(二) names 未备案企业).
    let (filed_code, filed_name): (String, String) = {
        use sqlx::Row;
        let r = sqlx::query("SELECT credit_code, name FROM institutions WHERE district_code = '410105' AND filing_status = 'filed' ORDER BY id LIMIT 1")
            .fetch_one(&app.store.db.pool)
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    let r = district
        .post(app.url("/api/v1/enterprises/import"))
        .body(register_xlsx(&[[
            &filed_name,
            &filed_code,
            "300",
            "5000000",
            "餐饮服务",
        ]]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, v) = send(
        &district,
        &app,
        "GET",
        &format!("/api/v1/enterprises?q={filed_code}"),
        json!({}),
    )
    .await;
    let fid = v["items"][0]["id"].as_i64().unwrap();
    let (s, v) = send(
        &district,
        &app,
        "POST",
        &format!("/api/v1/enterprises/{fid}/guidance"),
        json!({ "note": "建议按模板明确评价职业与等级。" }),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["message"].as_str().unwrap().contains("一(二)"), "{v}");
    // Another district cannot attach notes to 金水区's enterprises.
    let other = app.login("district-410102").await;
    let (s, _) = send(
        &other,
        &app,
        "POST",
        &format!("/api/v1/enterprises/{id}/guidance"),
        json!({ "note": "越权的指导意见内容" }),
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(app.count(&notes).await, 2);
    // The printable template is public.
    let t = app
        .client()
        .get(app.url("/public/work-plan-template"))
        .send()
        .await
        .unwrap();
    assert_eq!(t.status(), 200);
    let body = t.text().await.unwrap();
    assert!(body.contains("工作方案") && body.contains("150人以上") && body.contains("data-print"));
}
